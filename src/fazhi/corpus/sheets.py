"""The sheets of the workbook that put the corpus analyses side by side for the office:
概况 (the cover), 督办清单, 抄袭雷同, 逐年对比, 无法读取 and 报送情况.

Each builder returns an ``export.Sheet``; ``export.build_sheets`` orders them and
``export._write_sheet`` lays them out for print.  The analyses are called through one
small function each, so that a change of their interface is one place to adapt:

- ``copy_shares(engine)`` — ``similarity.analyse()`` over the whole corpus (sources may
  lie outside the exported years), stored and brought up to date by ``derived.py``;
- ``follow_rows(engine, reps, year)`` — ``follow.follow()`` of each (N, N+1) pair, stored
  likewise;
- ``roster_rows(engine, year)`` — ``fazhi.corpus.roster.status(engine, year)``, imported
  lazily: no module, no ``status`` or no roster means no 报送情况 sheet.

A sheet without rows says 无 in one row, with the reason (``Sheet.empty``): the office sees
that it was looked at.  Only the indicator topics that no report states are left out.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..scores import SCORE_LABELS
from . import compare, db
from .export import (COPY_NOTE_SHARE, FMT_COUNT, FMT_DATE, FMT_PCT, FMT_SCORE, FMT_YEAR, FILL_RED,
                     SCORE_KEYS, Col, Sheet, Val, _missing_parts, _score, as_date, rule_titles)

PLAN_MAX = 160        # characters of a plan item shown on 督办清单
WEAKEST = 5


# ------------------------------------------------------------------ the analyses
@dataclass
class CopyShare:
    report_id: int
    share: float               # copied from another unit or reused from its own earlier years
    other_share: float
    own_share: float
    paragraphs: int
    sources: list[tuple[int, int]]   # (source report id, characters), most first

    @property
    def main_source(self) -> int | None:
        return self.sources[0][0] if self.sources else None


def copy_shares(engine: Engine) -> dict[int, CopyShare]:
    """Per report id: its copied share and sources (``similarity.analyse`` / ``attribute``), from
    the stored results brought up to date (``derived.copy_shares``)."""
    from . import derived

    return derived.copy_shares(engine)


def fresh_copy_shares(engine: Engine) -> dict[int, CopyShare]:
    """``copy_shares`` computed afresh over the whole corpus, nothing stored (tests compare)."""
    from . import derived

    return derived.full_copies(engine, store=False)


def follow_rows(engine: Engine, reps: list[dict], *, year: int | None = None) -> list:
    """``FollowResult`` of every (N, N+1) pair whose N+1 report is exported (stored results where
    neither report changed: ``derived.follow_rows``)."""
    from . import derived
    from . import follow as fl

    ids = {r["id"] for r in reps}
    pairs = [p for p in fl.year_pairs(engine, year=None if year is None else year - 1) if p[1] in ids]
    return derived.follow_rows(engine, pairs)


def roster_rows(engine: Engine, year: int | None) -> list[dict] | None:
    """The roster status rows of ``year`` from ``fazhi.corpus.roster.status``; None when there
    is no roster module, no ``status`` function or no roster for the year."""
    import importlib

    try:
        roster = importlib.import_module("fazhi.corpus.roster")
    except ModuleNotFoundError as e:
        if e.name in ("fazhi.corpus.roster",):
            return None
        raise
    status = getattr(roster, "status", None)
    if status is None or year is None:
        return None
    no_roster = tuple(x for x in (getattr(roster, "RosterError", None), LookupError) if isinstance(x, type))
    try:
        res = status(engine, year)
    except no_roster:
        return None
    if isinstance(res, dict):       # {"units": [...], "roster_size": n, …}: one row per roster unit
        res = [_roster_unit(u) for u in res.get("units") or []]
    return [dict(r) for r in res] if res else None


def _roster_unit(u: dict) -> dict:
    """A unit row of ``roster.status()["units"]`` (name, level, parent, state_label, date,
    date_kind, deadline, reports) as a 报送情况 row."""
    if "unit" in u:
        return u
    reports = u.get("reports") or []
    return {"unit": u.get("name"), "level": u.get("level"), "parent": u.get("parent"),
            "status": u.get("state_label") or u.get("state"), "received": u.get("received"),
            "published": u.get("published", u.get("date") if u.get("date_kind") in (None, "published") else None),
            "deadline": u.get("deadline"), "report_id": reports[0] if reports else None}


def failure_rows(engine: Engine) -> list[dict]:
    f = db.failures.c
    with engine.connect() as conn:
        return [dict(m) for m in conn.execute(select(f.id, f.path, f.error, f.added_at).order_by(f.id)).mappings()]


# ------------------------------------------------------------------ helpers
def _unit(rep: dict) -> str:
    return rep.get("unit") or compare.NO_UNIT


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def _timeliness(engine: Engine, reps: list[dict]) -> dict[int, str]:
    from .stats import _timeliness_rules, status_of

    tl = _timeliness_rules(engine, [r["id"] for r in reps])
    return {r["id"]: status_of(r, tl.get(r["id"], set())) for r in reps}


def _all_parts(rep: dict) -> bool:
    return not (rep.get("parts_missing") or "").strip(",")


def _summary(reps: list[dict], status: dict[int, str], copies: dict) -> dict:
    n = len(reps)
    totals = [_score(r, "total") for r in reps]
    flagged = sum(1 for r in reps if copies.get(r["id"]) and copies[r["id"]].share >= COPY_NOTE_SHARE)
    dated = [r for r in reps if status.get(r["id"]) != "unknown"]
    return {
        "reports": n,
        "units": len({compare.base_unit(r["unit"]) if r["unit"] else f"#{r['id']}" for r in reps}),
        "mean": _mean(totals),
        "scores": {k: _mean(_score(r, k) for r in reps) for k in SCORE_KEYS},
        "all_parts": sum(_all_parts(r) for r in reps) / n if n else None,
        "on_time": (sum(status.get(r["id"]) == "on_time" for r in dated) / len(dated)) if dated else None,
        "late": sum(status.get(r["id"]) == "late" for r in reps),
        "copied": flagged,
        "copied_share": flagged / n if n else None,
    }


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def _latest_per_unit(reps: list[dict]) -> list[dict]:
    best: dict[str, dict] = {}
    for r in reps:
        key = compare.base_unit(r["unit"]) if r["unit"] else f"#{r['id']}"
        cur = best.get(key)
        if cur is None or ((r["year"] or 0), r["id"]) > ((cur["year"] or 0), cur["id"]):
            best[key] = r
    return list(best.values())


def main_problems(rep: dict, finds_of: list[dict], titles: dict[str, str], copy: CopyShare | None) -> str:
    bits = []
    miss = _missing_parts(rep, short=True)
    if miss:
        bits.append(f"缺少{miss}")
    errs = [x for x in finds_of if x["severity"] == "error" and not x["rule"].startswith("part.")]
    seen = []
    for x in errs + [x for x in finds_of if x["severity"] == "warning"]:
        t = titles.get(x["rule"], x["rule"])
        if t not in seen:
            seen.append(t)
    bits += seen[:1]
    if copy and copy.share >= COPY_NOTE_SHARE:
        bits.append(f"雷同比例 {copy.share * 100:.1f}%")
    return "；".join(bits) or "—"


# ------------------------------------------------------------------ 概况
COVER_WIDTHS = [14, 16, 10, 10, 46]


def _rules_row(engine: Engine) -> list:
    """适用规则: the corpus's rule set (and how many reports another one checked)."""
    from .rulesets import attached, stale

    sets = attached(engine)
    with engine.connect() as c:
        n = stale(c)
    note = "；".join(f"{a.label} {a.attached_at[:10]} 附加" for a in sets) or "未附加本地规则文件"
    if n:
        note += f"；{n} 份报告按其他规则检查，请运行 fazhi rules recheck"
    names = "、".join(a.label for a in sets)
    if sets and sets[0].province is not None:
        names += "；其余按全国规则"
    return ["适用规则", names or "全国规则（内置）", "", "", note]


def cover_sheet(engine: Engine, reps: list[dict], every: list[dict], finds: list[dict], copies: dict,
                fails: list[dict], *, year: int | None = None, level: str | None = None) -> Sheet:
    """概况: counts, average scores and rates, the five weakest units, the change since last year."""
    status = _timeliness(engine, every)
    s = _summary(reps, status, copies)
    years = sorted({r["year"] for r in reps if r["year"]})
    scope = "，".join(x for x in ((f"{year}年度" if year else "全部年度"),
                                  compare.level_label(compare.normalise_level(level)) if level else "") if x)
    sub = f"范围：{scope}；生成于 {dt.date.today().isoformat()}；编号即报告编号，各表通用"
    recent = list(reversed(years))[:3]
    per_year = ("最近：" if len(years) > 3 else "") + "、".join(
        f"{y}年度 {sum(1 for r in reps if r['year'] == y)} 份" for y in recent)
    n_err = sum(1 for x in finds if x["severity"] == "error")
    n_warn = sum(1 for x in finds if x["severity"] == "warning")
    rows = [
        ["报告数", Val(s["reports"], FMT_COUNT), "", "", per_year or "—"],
        ["单位数", Val(s["units"], FMT_COUNT), "", "", ""],
        ["年度", f"{years[0]}–{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "—"), "", "",
         f"共 {len(years)} 个年度" if years else ""],
        ["平均总分", Val(s["mean"], FMT_SCORE), "", "", "满分 100"],
    ]
    for k in SCORE_KEYS:
        rows.append([f"平均{SCORE_LABELS[k]}", Val(s["scores"][k], FMT_SCORE), "", "", ""])
    rows += [
        ["四个法定部分齐全", Val(s["all_parts"], FMT_PCT), "", "", "含成效、不足、第一责任人、下一年度安排"],
        ["按期发布", Val(s["on_time"], FMT_PCT), "", "", f"有日期的报告中；逾期 {s['late']} 份"],
        ["疑似抄袭雷同", Val(s["copied"], FMT_COUNT), "", "",
         f"雷同比例≥{COPY_NOTE_SHARE * 100:.0f}%，占 {_pct(s['copied_share'])}；见“抄袭雷同”"],
        ["问题", Val(n_err + n_warn, FMT_COUNT), "", "", f"错误 {n_err} 条，警告 {n_warn} 条；见“问题清单”"],
        ["无法读取的文件", Val(len(fails), FMT_COUNT), "", "", "见“无法读取”"],
        _rules_row(engine),
    ]
    blocks = [("一、总体情况", ["项目", "数值", "", "", "说明"], rows)]

    titles = rule_titles()
    by_rep: dict[int, list[dict]] = {}
    for x in finds:
        by_rep.setdefault(x["report_id"], []).append(x)
    latest = [r for r in _latest_per_unit(reps) if _score(r, "total") is not None]
    latest.sort(key=lambda r: (_score(r, "total"), -(r["year"] or 0), r["id"]))
    weak = [[Val(r["id"], FMT_YEAR), _unit(r), Val(r["year"], FMT_YEAR), Val(_score(r, "total"), FMT_SCORE),
             main_problems(r, by_rep.get(r["id"], []), titles, copies.get(r["id"]))] for r in latest[:WEAKEST]]
    blocks.append((f"二、总分最低的{min(WEAKEST, len(weak)) or WEAKEST}个单位（各取最近一年的报告）",
                   ["编号", "单位", "年度", "总分", "主要问题"], weak or [["无", "", "", "", ""]]))

    all_years = sorted({r["year"] for r in every if r["year"]})
    cur = year if year else (all_years[-1] if all_years else None)
    if cur is not None and cur - 1 in all_years and cur in all_years:
        a = [r for r in every if r["year"] == cur - 1]
        b = [r for r in every if r["year"] == cur]
        sa, sb = _summary(a, status, copies), _summary(b, status, copies)

        def ch(x, y, pct=False):
            if x is None or y is None:
                return "—"
            d = (y - x) * (100 if pct else 1)
            return f"{d:+.1f}" + (" 个百分点" if pct else "")

        cmp_rows = [
            ["报告数", Val(sa["reports"], FMT_COUNT), Val(sb["reports"], FMT_COUNT), f"{sb['reports'] - sa['reports']:+d}", ""],
            ["平均总分", Val(sa["mean"], FMT_SCORE), Val(sb["mean"], FMT_SCORE), ch(sa["mean"], sb["mean"]), ""],
            ["四个法定部分齐全", Val(sa["all_parts"], FMT_PCT), Val(sb["all_parts"], FMT_PCT),
             ch(sa["all_parts"], sb["all_parts"], True), ""],
            ["按期发布", Val(sa["on_time"], FMT_PCT), Val(sb["on_time"], FMT_PCT), ch(sa["on_time"], sb["on_time"], True),
             ""],
            ["疑似抄袭雷同", Val(sa["copied"], FMT_COUNT), Val(sb["copied"], FMT_COUNT), f"{sb['copied'] - sa['copied']:+d}",
             ""],
        ]
        ka = {compare.base_unit(r["unit"]): _score(r, "total") for r in _latest_per_unit(a) if r["unit"]}
        kb = {compare.base_unit(r["unit"]): _score(r, "total") for r in _latest_per_unit(b) if r["unit"]}
        both = [u for u in kb if u in ka and ka[u] is not None and kb[u] is not None]
        up = sum(kb[u] > ka[u] for u in both)
        down = sum(kb[u] < ka[u] for u in both)
        cmp_rows.append(["两年均有报告的单位", Val(len(both), FMT_COUNT), "", "",
                         f"总分上升 {up} 个，下降 {down} 个，持平 {len(both) - up - down} 个；见“逐年对比”"])
        blocks.append((f"三、与上一年相比（{cur}年度对{cur - 1}年度）",
                       ["项目", f"{cur - 1}年度", f"{cur}年度", "变化", "说明"], cmp_rows))
    return Sheet("概况", [Col(h) for h in ("项目", "数值", "", "", "说明")],
                 [[f"{'法治政府建设年度报告汇总'}", sub]], blocks=blocks, widths=list(COVER_WIDTHS))


# ------------------------------------------------------------------ 督办清单
TODO_KINDS = ("上年计划未见落实", "问题原样重复", "抄袭雷同")


def todo_sheet(reps: list[dict], follows: list, copies: dict) -> Sheet:
    """督办清单: last year's plans not reported done, shortcomings repeated word for word, copies."""
    by_id = {r["id"]: r for r in reps}
    rows = []
    for res in follows:
        rep = by_id.get(res.next_report)
        if rep is None:
            continue
        for p in res.plans:
            if p.status == "已落实":
                continue
            text = " ".join((p.text or p.title or "").split())
            if len(text) > PLAN_MAX:
                text = text[:PLAN_MAX - 1] + "…"
            rows.append([0, rep["id"], _unit(rep), rep["year"], text,
                         f"{res.year}年度报告（编号 {res.report}）第 {p.no} 项安排；{rep['year']}年度报告未见落实的表述",
                         res.report])
        for x in res.repeats:
            rows.append([1, rep["id"], _unit(rep), rep["year"], " ".join(x.after.split()),
                         f"与{res.year}年度报告（编号 {res.report}）“存在的不足”中的表述相似 {x.similarity * 100:.0f}%："
                         f"{' '.join(x.before.split())[:80]}", res.report])
    for r in reps:
        c = copies.get(r["id"])
        if c is None or c.share < COPY_NOTE_SHARE:
            continue
        parts = []
        if c.other_share:
            parts.append(f"抄自他单位 {c.other_share * 100:.1f}%")
        if c.own_share:
            parts.append(f"沿用本单位往年 {c.own_share * 100:.1f}%")
        rows.append([2, r["id"], _unit(r), r["year"], f"雷同比例 {c.share * 100:.1f}%（{'，'.join(parts)}）",
                     "来源编号：" + "、".join(str(s) for s, _ in c.sources[:5]) + "；见“抄袭雷同”",
                     c.main_source])
    rows.sort(key=lambda x: (x[2], x[3] or 0, x[0], x[1]))
    rows = [[x[1], x[2], x[3], TODO_KINDS[x[0]]] + x[4:] for x in rows]
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR),
            Col("类型", min_width=8, max_width=10), Col("事项", min_width=24, max_width=50),
            Col("依据", min_width=20, max_width=40), Col("对照编号", FMT_YEAR)]
    counts = {k: sum(1 for x in rows if x[3] == k) for k in TODO_KINDS}
    total = ["合计", f"共 {len(rows)} 项", None, None, "，".join(f"{k} {v} 项" for k, v in counts.items()), None, None]
    return Sheet("督办清单", cols, rows, freeze_cols=2, total=total if rows else None,
                 empty="没有需要督办的事项（无上年计划未见落实、无问题原样重复、无抄袭雷同）",
                 note=f"上年计划：上一年度报告“下一年度安排”的各项，在本年度报告中找不到相应表述（按词语相似度判断，"
                      f"可能漏判或误判，请核对）。抄袭雷同：雷同比例≥{COPY_NOTE_SHARE * 100:.0f}%。")


# ------------------------------------------------------------------ 抄袭雷同
def copies_sheet(reps: list[dict], copies: dict, every: list[dict]) -> Sheet:
    """抄袭雷同: per report with copied text, the share and the sources (编号 both sides)."""
    names = {r["id"]: r for r in every}
    rows = []
    for r in reps:
        c = copies.get(r["id"])
        if c is None or c.share <= 0:
            continue
        src = c.main_source
        s = names.get(src)
        others = "、".join(str(x) for x, _ in c.sources[1:8]) + ("…" if len(c.sources) > 8 else "")
        rows.append([r["id"], _unit(r), r["year"], round(c.share, 4), round(c.other_share, 4), round(c.own_share, 4),
                     c.paragraphs, src, (s["unit"] or compare.NO_UNIT) if s else "", s["year"] if s else None,
                     others, "疑似抄袭" if c.share >= COPY_NOTE_SHARE else ""])
    rows.sort(key=lambda x: (-x[3], -x[4], x[0]))
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR), Col("雷同比例", FMT_PCT),
            Col("抄自他单位", FMT_PCT), Col("沿用本单位往年", FMT_PCT), Col("雷同段落数", FMT_COUNT),
            Col("主要来源编号", FMT_YEAR), Col("主要来源单位", min_width=10), Col("来源年度", FMT_YEAR),
            Col("其他来源编号", min_width=10), Col("提示", min_width=6)]
    total = ["合计", f"共 {len(rows)} 份报告有雷同段落", None, None, None, None, sum(x[6] for x in rows), None, None,
             None, None, f"疑似抄袭 {sum(1 for x in rows if x[-1])} 份"]
    return Sheet("抄袭雷同", cols, rows, freeze_cols=2, total=total if rows else None,
                 at_least=[(3, COPY_NOTE_SHARE, FILL_RED)],
                 empty="没有发现与他单位或本单位往年报告雷同的段落",
                 note="雷同比例：与他单位报告或本单位往年报告近似重复（5 字片段 Jaccard≥0.7）的段落字数占全文段落字数的比例；"
                      f"≥{COPY_NOTE_SHARE * 100:.0f}% 标红。逐段对照：fazhi corpus copies --detail 编号。")


# ------------------------------------------------------------------ 逐年对比
def yearly_sheet(reps: list[dict], every: list[dict], copies: dict, hl: dict) -> Sheet:
    """逐年对比: every unit of the export that has two or more years, its reports year by year."""
    inds = list(compare.HEADLINE_INDICATORS)
    want = {compare.base_unit(r["unit"]) for r in reps if r["unit"]}
    hist: dict[str, list[dict]] = {}
    for r in every:
        if r["unit"] and compare.base_unit(r["unit"]) in want:
            hist.setdefault(compare.base_unit(r["unit"]), []).append(r)
    rows = []
    for key in sorted(hist):
        rs = sorted(hist[key], key=lambda r: (r["year"] or 0, r["id"]))
        if len({r["year"] for r in rs}) < 2:
            continue
        prev = None
        for r in rs:
            tot = _score(r, "total")
            c = copies.get(r["id"])
            d = round(tot - _score(prev, "total"), 1) if prev is not None and tot is not None \
                and _score(prev, "total") is not None else None
            de = r["n_errors"] - prev["n_errors"] if prev is not None else None
            vals = []
            for i in inds:
                h = hl.get((r["id"], i))
                vals.append(compare.number(h.value) if h else None)
            rows.append([r["id"], _unit(r), r["year"], tot, d, r["n_errors"], de, round(c.share, 4) if c else None,
                         _missing_parts(r, short=True)] + vals)
            prev = r
    cat = compare.catalog()
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR), Col("总分", FMT_SCORE),
            Col("总分较上年", '+0.0;-0.0;0.0'), Col("错误数", FMT_COUNT), Col("错误较上年", '+0;-0;0'),
            Col("雷同比例", FMT_PCT), Col("缺少的法定部分", min_width=8)]
    for i in inds:
        kind = cat[i].get("kind") or "count"
        cols.append(Col(compare.header(i), {"rate": "0.0", "amount": "#,##0.00"}.get(kind, FMT_COUNT), comment=i))
    return Sheet("逐年对比", cols, rows, freeze_cols=3,
                 empty="没有同一单位两个及以上年度的报告",
                 note="“较上年”与同一单位上一份报告相比；指标取报告中最大的非约数，空白表示报告未提及。")


# ------------------------------------------------------------------ 无法读取
def failures_sheet(fails: list[dict]) -> Sheet:
    rows = [[f["id"], f["path"], f["error"], (f["added_at"] or "")[:19].replace("T", " ")] for f in fails]
    cols = [Col("记录号", FMT_YEAR), Col("文件", min_width=20, max_width=50), Col("原因", min_width=20, max_width=60),
            Col("时间", min_width=10)]
    return Sheet("无法读取", cols, rows, freeze_cols=0, empty="所有文件均已读取",
                 total=["合计", f"共 {len(rows)} 个文件无法读取", None, None] if rows else None,
                 note="这些文件没有报告编号（未能入库）；记录号见 fazhi corpus failures。")


# ------------------------------------------------------------------ 报送情况
STATUS_KEYS = ("unit", "level", "parent", "status", "received", "published", "deadline")


def status_sheet(rows: list[dict]) -> Sheet:
    """报送情况 from the roster's rows (dicts with unit, level, parent, status, received,
    published, deadline; an optional report_id), in the order the roster gives them."""
    out = []
    for r in rows:
        out.append([r.get("report_id"), r.get("unit"), compare.level_label(r.get("level")) if r.get("level") else None,
                    r.get("parent"), r.get("status"), _date(r.get("received")), _date(r.get("published")),
                    _date(r.get("deadline"))])
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("层级", min_width=6), Col("上级单位", min_width=10),
            Col("状态", min_width=6), Col("收到日期", FMT_DATE), Col("发布日期", FMT_DATE), Col("截止日期", FMT_DATE)]
    counts: dict[str, int] = {}
    for x in out:
        counts[x[4] or "—"] = counts.get(x[4] or "—", 0) + 1
    total = ["合计", f"共 {len(out)} 个单位", None, None, "，".join(f"{k} {v}" for k, v in counts.items()),
             None, None, None]
    return Sheet("报送情况", cols, out, freeze_cols=2, total=total if out else None, empty="名册中没有单位")


def _date(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v if isinstance(v, dt.date) else v.date()
    return as_date(v) if isinstance(v, str) else v
