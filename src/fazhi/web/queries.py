"""What the pages and the API show, built on ``fazhi.corpus`` (store, compare,
stats, export, similarity, follow): filtered report lists, a Report rebuilt
from its rows (for the report card), the dashboard's chart data, a unit's
reports, trends, copied paragraphs and plan follow-through."""
from __future__ import annotations

import html
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.engine import Engine

from ..corpus import compare, db, export, stats, store
from ..evaluate import norm_unit
from ..model import (LEVEL_LABELS, LEVELS, PART_LABELS, REQUIRED_PARTS, Fact, Finding, Meta, Part, Region,
                     Report, Source)

PER_PAGE = 50
MAX_PAGE = 100_000
MAX_ID = 2 ** 31 - 1          # report and user ids are 32-bit integers on PostgreSQL
SORTS = {
    "added": ("最近入库", lambda r: [r.id.desc()]),
    "score_desc": ("总分从高到低", lambda r: [r.score_total.desc().nulls_last(), r.id.desc()]),
    "score_asc": ("总分从低到高", lambda r: [r.score_total.asc().nulls_last(), r.id.desc()]),
    "year": ("年度（新→旧）", lambda r: [r.year.desc().nulls_last(), r.unit, r.id.desc()]),
    "unit": ("单位名称", lambda r: [r.unit.asc().nulls_last(), r.year.desc().nulls_last(), r.id]),
    "errors": ("错误最多", lambda r: [r.n_errors.desc(), r.id.desc()]),
}
LIST_COLUMNS = ("id", "unit", "level", "province", "city", "county", "year", "title", "published", "signed",
                "path", "format", "parts_missing", "n_facts", "n_errors", "n_warnings", "score_total", "added_at")
PART_SHORT = {"achievements": "举措和成效", "shortcomings": "不足和原因", "leader_duty": "第一责任人履职",
              "next_year": "下一年度安排"}


class QueryError(ValueError):
    """A bad filter value; ``str(err)`` is Chinese."""


def level_label(level: str | None) -> str:
    return LEVEL_LABELS.get(level, level or "未识别")


def _int(v, what: str, lo: int | None = None, hi: int | None = None) -> int | None:
    if v is None or str(v).strip() == "":
        return None
    t = str(v).strip()
    if len(t) > 12:   # int() of a 5,000-digit string is slow and no page or year is that long
        raise QueryError(f"{what}超出范围")
    try:
        x = int(t)
    except ValueError:
        raise QueryError(f"{what}应为整数：“{t[:50]}”") from None
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise QueryError(f"{what}超出范围：{x}")
    return x


def parse_year(v) -> int | None:
    return _int(v, "年度", 1949, 2200)


def parse_level(v, *, allow_none: bool = False) -> str | None:
    """A level id or its Chinese label; ``none`` (reports whose level is unknown) where allowed."""
    if v is None or str(v).strip() == "":
        return None
    v = str(v).strip()
    if allow_none and v == "none":
        return v
    try:
        return compare.normalise_level(v[:50])
    except compare.CompareError as e:
        raise QueryError(str(e)) from None


def _float(v, what: str) -> float | None:
    if v is None or str(v).strip() == "":
        return None
    try:
        x = float(str(v).strip())
    except ValueError:
        raise QueryError(f"{what}应为数字：“{str(v)[:50]}”") from None
    if not 0 <= x <= 100:  # also refuses nan and inf
        raise QueryError(f"{what}应在 0–100 之间")
    return x


@dataclass
class Filters:
    level: str | None = None
    province: str | None = None
    year: int | None = None
    score_min: float | None = None
    score_max: float | None = None
    missing: str | None = None        # a statutory part id
    errors: str | None = None         # "yes" / "no"
    unit: str | None = None           # substring of the unit name
    q: str | None = None              # full-text search
    sort: str = "added"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def parse(cls, p) -> "Filters":
        """From query parameters (a mapping); a bad value raises QueryError (never ignored)."""
        g = lambda k: (p.get(k) or "").strip() or None  # noqa: E731
        level = parse_level(g("level"), allow_none=True)
        missing = g("missing")
        if missing and missing not in REQUIRED_PARTS:
            raise QueryError(f"未知的法定部分“{missing[:50]}”；可用：" + "、".join(REQUIRED_PARTS))
        errors = g("errors")
        if errors not in (None, "yes", "no"):
            raise QueryError("“有无错误”应为 yes 或 no")
        sort = g("sort") or "added"
        if sort not in SORTS:
            raise QueryError(f"未知的排序方式“{sort[:50]}”；可用：" + "、".join(SORTS))
        smin, smax = _float(g("score_min"), "最低分"), _float(g("score_max"), "最高分")
        if smin is not None and smax is not None and smin > smax:
            raise QueryError("最低分不能高于最高分")
        return cls(level=level, province=g("province"), year=parse_year(g("year")),
                   score_min=smin, score_max=smax,
                   missing=missing, errors=errors, unit=(g("unit") or "")[:100] or None,
                   q=(g("q") or "")[:200] or None, sort=sort, page=_int(g("page"), "页码", 1, MAX_PAGE) or 1,
                   per_page=_int(g("per_page"), "每页条数", 1, 500) or PER_PAGE)

    def where(self):
        """The filters, always on counted reports only (current versions, ``db.counted``)."""
        r = db.reports.c
        conds = [db.counted()]
        if self.level == "none":
            conds.append(r.level.is_(None))
        elif self.level:
            conds.append(r.level == self.level)
        if self.province:
            conds.append(r.province.is_(None) if self.province == "none" else r.province == self.province)
        if self.year is not None:
            conds.append(r.year == self.year)
        if self.score_min is not None:
            conds.append(r.score_total >= self.score_min)
        if self.score_max is not None:
            conds.append(r.score_total <= self.score_max)
        if self.missing:
            conds.append(r.parts_missing.contains(self.missing))
        if self.errors == "yes":
            conds.append(r.n_errors > 0)
        elif self.errors == "no":
            conds.append(r.n_errors == 0)
        if self.unit:
            like = "%" + self.unit.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(or_(r.unit.like(like, escape="\\"), r.title.like(like, escape="\\")))
        return and_(*conds)

    def active(self) -> bool:
        return any(v not in (None, "") for v in (self.level, self.province, self.year, self.score_min,
                                                  self.score_max, self.missing, self.errors, self.unit, self.q))

    def query_string(self, **over) -> str:
        from urllib.parse import urlencode

        d = {"level": self.level, "province": self.province, "year": self.year, "score_min": self.score_min,
             "score_max": self.score_max, "missing": self.missing, "errors": self.errors, "unit": self.unit,
             "q": self.q, "sort": None if self.sort == "added" else self.sort, "page": None}
        d.update(over)
        return urlencode({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in d.items()
                          if v not in (None, "")})


def row_dict(m) -> dict:
    d = dict(m)
    d["level_label"] = level_label(d.get("level"))
    d["region"] = compare.place_of(d)
    d["missing_labels"] = [PART_SHORT.get(p, p) for p in (d.get("parts_missing") or "").split(",") if p]
    return d


def list_reports(engine: Engine, f: Filters) -> tuple[list[dict], int]:
    r = db.reports.c
    cols = [getattr(r, c) for c in LIST_COLUMNS]
    where = f.where()
    q = select(*cols)
    cq = select(func.count()).select_from(db.reports)
    if where is not None:
        q, cq = q.where(where), cq.where(where)
    q = q.order_by(*SORTS[f.sort][1](r)).limit(f.per_page).offset((f.page - 1) * f.per_page)
    with engine.connect() as c:
        total = c.execute(cq).scalar_one()
        rows = [row_dict(m) for m in c.execute(q).mappings()]
    return rows, total


def facets(engine: Engine) -> dict:
    """Values for the filter menus: levels, provinces, years present in the corpus (from the
    aggregates: ``aggregates.Snapshot``)."""
    from . import aggregates

    snap = aggregates.snapshot(engine)
    with snap.lock:
        levels, provinces, years = snap.facet_values()
    return _facets(levels, provinces, years)


def facets_fresh(engine: Engine) -> dict:
    """``facets`` read from the reports table (the reference the aggregates are checked against)."""
    r = db.reports.c
    cur = db.counted()
    with engine.connect() as c:
        levels = [x for (x,) in c.execute(select(r.level).distinct().where(cur))]
        provinces = sorted(x for (x,) in c.execute(select(r.province).distinct().where(cur)) if x)
        years = sorted((x for (x,) in c.execute(select(r.year).distinct().where(cur)) if x), reverse=True)
    return _facets(levels, provinces, years)


def counted_reports(engine: Engine) -> int:
    """Counted reports in the corpus (``store.count(engine)[0]``, from the aggregates)."""
    from . import aggregates

    return aggregates.snapshot(engine).count()


def _facets(levels: list, provinces: list, years: list) -> dict:
    lv = [(k, LEVEL_LABELS[k]) for k in LEVELS if k in levels]
    if None in levels:
        lv.append(("none", "未识别"))
    return {"levels": lv, "provinces": provinces, "years": years,
            "parts": [(p, PART_LABELS[p]) for p in REQUIRED_PARTS], "sorts": [(k, v[0]) for k, v in SORTS.items()]}


# ------------------------------------------------------------------ search
def snippet_html(snippet: str) -> Markup:
    """A store.search snippet (terms in 【】) as safe HTML with <mark>: text escaped,
    marks balanced even when the report itself uses 【】."""
    out, open_ = [], False
    for ch_run in _split_marks(snippet):
        if ch_run == "【" and not open_:
            out.append("<mark>")
            open_ = True
        elif ch_run == "】" and open_:
            out.append("</mark>")
            open_ = False
        else:
            out.append(html.escape(ch_run))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


def _split_marks(s: str):
    buf = []
    for ch in s:
        if ch in "【】":
            if buf:
                yield "".join(buf)
                buf = []
            yield ch
        else:
            buf.append(ch)
    if buf:
        yield "".join(buf)


def search(engine: Engine, q: str, f: Filters | None = None, limit: int = 200) -> list[dict]:
    """Hits of store.search (one per paragraph), restricted to the filters, grouped by report."""
    hits = store.search(engine, q, limit)
    if not hits:
        return []
    ids = sorted({h.report_id for h in hits})
    r = db.reports.c
    q2 = select(*[getattr(r, c) for c in LIST_COLUMNS]).where(r.id.in_(bindparam("ids", expanding=True)))
    q2 = q2.where(f.where() if f else db.counted())
    with engine.connect() as c:
        meta = {m["id"]: row_dict(m) for m in c.execute(q2, {"ids": ids}).mappings()}
    grouped: dict[int, dict] = {}
    for h in hits:
        if h.report_id not in meta:
            continue
        g = grouped.setdefault(h.report_id, {**meta[h.report_id], "hits": []})
        g["hits"].append({"para_no": h.para_no, "snippet": h.snippet, "html": snippet_html(h.snippet),
                          "score": h.score})
    return list(grouped.values())


# ------------------------------------------------------------------ one report
def load_report(engine: Engine, rid: int) -> tuple[dict, Report] | None:
    """The stored row (no text) and the Report rebuilt from the database (for the card)."""
    r = db.reports.c
    with engine.connect() as c:
        m = c.execute(select(db.reports).where(r.id == rid, r.withdrawn_at.is_(None))).mappings().first()
        if m is None:
            return None
        parts = c.execute(select(db.parts).where(db.parts.c.report_id == rid).order_by(db.parts.c.id)).mappings().all()
        facts = c.execute(select(db.facts).where(db.facts.c.report_id == rid).order_by(db.facts.c.id)).mappings().all()
        finds = c.execute(select(db.findings).where(db.findings.c.report_id == rid)
                          .order_by(db.findings.c.id)).mappings().all()
    scores = m["scores"] or {}
    if isinstance(scores, str):
        scores = json.loads(scores)
    report = Report(
        source=Source(path=m["path"], format=m["format"], sha256=m["sha256"], encoding=m["encoding"]),
        text=m["text"],
        meta=Meta(title=m["title"], unit=m["unit"], level=m["level"],
                  region=Region(m["province"], m["city"], m["county"]), year=m["year"],
                  published=m["published"], signed=m["signed"], doc_number=m["doc_number"],
                  index_number=m["index_number"]),
        parts=[Part(p["part"], p["heading"], p["start"], p["end"]) for p in parts],
        facts=[Fact(x["indicator"], x["value"], x["unit"], bool(x["approx"]), x["start"], x["end"], x["part"],
                    x["quote"] or "") for x in facts],
        findings=[Finding(x["rule"], x["severity"], x["message"], x["start"], x["end"]) for x in finds],
        scores=dict(scores),
    )
    row = row_dict({k: m[k] for k in m.keys() if k != "text"})
    row["sha256"] = m["sha256"]
    from ..corpus.submissions import status_note

    row["note"] = status_note(row)   # why it is not counted (another format, an old version…), or None
    return row, report


def card_body(report: Report) -> Markup:
    """The report card (report_card.render) without its document shell: the inside of
    its <main>, already escaped by report_card, to show inside the app's layout."""
    from ..report_card import render

    page = render(report)
    start, end = page.find("<main>"), page.rfind("</main>")
    if start < 0 or end < start:  # pragma: no cover - render always has one <main>
        raise RuntimeError("report card without <main>")
    return Markup(page[start + len("<main>"):end])


# ------------------------------------------------------------------ dashboard
def _month_label(offset: int) -> str:
    """Months after the start of the report year: 12 -> 当年12月, 13 -> 次年1月."""
    y, m = divmod(offset - 1, 12)
    return f"{'当年' if y == 0 else '次年' if y == 1 else f'{y}年后'}{m + 1}月" if y >= 0 else f"前{-y}年{m + 1}月"


def timeliness_by_month(engine: Engine, reps: list[dict]) -> dict:
    """Reports by month of publication (or signing), relative to the report year, by status."""
    rules = stats._timeliness_rules(engine, [r["id"] for r in reps])
    counts: dict[int, dict[str, int]] = {}
    undated = 0
    for rep in reps:
        date = rep.get("published") or rep.get("signed")
        st = stats.status_of(rep, rules.get(rep["id"], set()))
        if not date or not rep.get("year"):
            undated += 1
            continue
        try:
            y, m = int(date[:4]), int(date[5:7])
        except ValueError:
            undated += 1
            continue
        off = (y - rep["year"]) * 12 + m
        counts.setdefault(off, {s: 0 for s in stats.STATUSES})[st] += 1
    months = sorted(counts)
    if months:
        months = list(range(min(months), max(months) + 1))
    return {"months": [_month_label(o) for o in months],
            "series": [{"status": s, "label": stats.STATUS_LABELS[s],
                        "data": [counts.get(o, {}).get(s, 0) for o in months]}
                       for s in ("on_time", "premature", "late")],
            "undated": undated, "dated": sum(sum(v.values()) for v in counts.values())}


def indicators_in_corpus(engine: Engine) -> list[dict]:
    """Catalog indicators stated by at least one counted report, most reports first (aggregates)."""
    from . import aggregates

    snap = aggregates.snapshot(engine)
    with snap.lock:
        return snap.indicator_list()


def indicators_in_corpus_fresh(engine: Engine) -> list[dict]:
    """``indicators_in_corpus`` counted from the facts table (counted reports only, as every total)."""
    f = db.facts.c
    q = (select(f.indicator, func.count(func.distinct(f.report_id)).label("n"))
         .join(db.reports, db.reports.c.id == f.report_id)
         .where(f.indicator.is_not(None), db.counted()).group_by(f.indicator))
    with engine.connect() as c:
        rows = c.execute(q).all()
    out = [{"id": i, "label": compare.indicator_label(i), "reports": n} for i, n in rows]
    out.sort(key=lambda d: (-d["reports"], d["id"]))
    return out


def indicator_chart(engine: Engine, indicator: str, *, year: int | None = None, level: str | None = None,
                    top: int = 30) -> dict:
    """Units ranked by their headline value of ``indicator`` (compare.unit_table), from the aggregates."""
    from . import aggregates

    ind = compare.check_indicator(indicator)
    snap = aggregates.snapshot(engine)
    with snap.lock:
        return snap.agg(year, level).chart(ind, snap.reps, top)


def indicator_chart_fresh(engine: Engine, indicator: str, *, year: int | None = None, level: str | None = None,
                          top: int = 30) -> dict:
    """``indicator_chart`` recomputed from the database."""
    t = compare.unit_table(engine, indicator, year=year, level=level)
    rows = t["rows"][:top]
    return {"indicator": t["indicator"], "label": t["label"], "unit": t["unit"], "kind": t["kind"],
            "units": [f"{r['unit']}（{r['year'] or '—'}）" for r in rows],
            "values": [r["value"] for r in rows], "display": [r["display"] for r in rows],
            "report_ids": [r["report_id"] for r in rows], "total": len(t["rows"]), "missing": t["missing"]}


def heatmap(engine: Engine, reps: list[dict], max_rows: int = 40) -> dict:
    """Units × rules: the latest report of each unit against every error/warning rule.
    Cell 2 = an error finding, 1 = a warning, 0 = passed, -1 = the rule does not apply."""
    latest: dict[str, dict] = {}
    for rep in reps:
        key = (norm_unit(rep["unit"]) or rep["unit"]) if rep["unit"] else f"#{rep['id']}"
        cur = latest.get(key)
        if cur is None or ((rep["year"] or 0), rep["id"]) > ((cur["year"] or 0), cur["id"]):
            latest[key] = rep
    chosen = sorted(latest.values(), key=lambda r: (-(r["n_errors"] or 0), -(r["n_warnings"] or 0),
                                                    r["unit"] or "", r["id"]))
    return heatmap_of(engine, chosen[:max_rows], len(chosen))


def heatmap_of(engine: Engine, chosen: list[dict], n_units: int) -> dict:
    """The heatmap of the chosen reports (the latest of each unit, in order) among ``n_units`` units."""
    finds = export.load_findings(engine, chosen, with_excerpts=False) if chosen else []
    cols = export.matrix_columns(finds)
    hit: dict[tuple[int, str], int] = {}
    for x in finds:
        if x["severity"] in ("error", "warning"):
            v = 2 if x["severity"] == "error" else 1
            hit[(x["report_id"], x["rule"])] = max(v, hit.get((x["report_id"], x["rule"]), 0))
    cells = []
    for yi, rep in enumerate(chosen):
        for xi, (rid, _title, _sev, levels) in enumerate(cols):
            if (rep["id"], rid) in hit:
                v = hit[(rep["id"], rid)]
            elif levels and rep["level"] not in levels:
                v = -1
            else:
                v = 0
            cells.append([xi, yi, v])
    return {"rules": [c[1] for c in cols], "rule_ids": [c[0] for c in cols],
            "units": [f"{r['unit'] or compare.NO_UNIT}（{r['year'] or '—'}）" for r in chosen],
            "report_ids": [r["id"] for r in chosen], "cells": cells, "units_total": n_units}


def dashboard(engine: Engine, *, year: int | None = None, level: str | None = None,
              indicator: str | None = None) -> dict:
    """Everything the 统计看板 draws, from the aggregates (``aggregates.Snapshot``): kept up to
    date report by report, equal to ``dashboard_fresh``; the result is kept until the corpus changes."""
    from . import aggregates

    if indicator and indicator not in compare.catalog():
        raise QueryError(f"未知的指标“{indicator[:50]}”")
    snap = aggregates.snapshot(engine)
    with snap.lock:
        agg = snap.agg(year, level)
        key = (snap.token, snap.seen, indicator)
        hit = agg.cache.get("dashboard")
        if hit and hit[0] == key:
            return hit[1]
        inds = snap.indicator_list()
        chosen, n_units = agg.heat_rows(snap.reps, 40)
        out = _dashboard(agg.stats(("level",)), inds, indicator, year, level, agg.timeliness(),
                         lambda ind: agg.chart(ind, snap.reps), heatmap_of(engine, chosen, n_units))
        agg.cache["dashboard"] = (key, out)
        return out


def corpus_stats(engine: Engine, by=("level", "region", "year"), *, year: int | None = None,
                 level: str | None = None) -> dict:
    """``stats.corpus_stats`` from the aggregates."""
    from . import aggregates

    snap = aggregates.snapshot(engine)
    with snap.lock:
        return snap.agg(year, level).stats(by)


def dashboard_fresh(engine: Engine, *, year: int | None = None, level: str | None = None,
                    indicator: str | None = None) -> dict:
    """``dashboard`` recomputed from the database (the reference; `fazhi` commands use it)."""
    if indicator and indicator not in compare.catalog():
        raise QueryError(f"未知的指标“{indicator[:50]}”")
    st = stats.corpus_stats(engine, by=("level",), year=year, level=level)
    with engine.connect() as c:
        reps = compare.report_rows(c, year=year, level=level)
    return _dashboard(st, indicators_in_corpus_fresh(engine), indicator, year, level,
                      timeliness_by_month(engine, reps),
                      lambda ind: indicator_chart_fresh(engine, ind, year=year, level=level),
                      heatmap(engine, reps))


def _dashboard(st: dict, inds: list[dict], indicator: str | None, year, level, timeliness: dict, chart,
               heat: dict) -> dict:
    by_level = st["by"]["level"]
    parts = {"levels": [row["label"] for row in by_level],
             "reports": [row["reports"] for row in by_level],
             "series": [{"part": p, "label": PART_SHORT[p],
                         "data": [round((row["parts"][p]["share"] or 0) * 100, 1) for row in by_level]}
                        for p in REQUIRED_PARTS]
             + [{"part": "all", "label": "四部分齐全",
                 "data": [round((row["all_parts_share"] or 0) * 100, 1) for row in by_level]}]}
    ind = indicator if indicator and any(i["id"] == indicator for i in inds) else (inds[0]["id"] if inds else None)
    total = st["timeliness"]
    return {
        "reports": st["reports"],
        "filters": {"year": year, "level": level},
        "summary": {"reports": st["reports"], "all_parts_share": total["all_parts_share"],
                    "on_time": total["on_time"], "late": total["late"], "premature": total["premature"],
                    "unknown": total["unknown"], "mean_score": st["scores"]["total"]["mean"],
                    "median_score": st["scores"]["total"]["median"]},
        "parts": parts,
        "timeliness": timeliness,
        "scores": {"bins": [f"{b['lo']}–{b['hi']}" for b in st["histogram"]],
                   "counts": [b["count"] for b in st["histogram"]],
                   "components": {k: v for k, v in st["scores"].items()}},
        "indicators": inds,
        "indicator": chart(ind) if ind else None,
        "heatmap": heat,
    }


def json_for_script(data) -> Markup:
    """JSON safe inside <script type="application/json"> (no '<', '>', '&' characters)."""
    s = json.dumps(data, ensure_ascii=False, default=str)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(s)


# ------------------------------------------------------------------ units
# ------------------------------------------------------------------ copies on the pages
# One report's copies (copy_index.copies_of) cost 5 ms in a corpus of distinct texts but
# seconds where every text has thousands of near-copies (通用表述, a template every unit
# filled in): the pages keep the results, look up what is missing in one background thread
# and wait for it at most COPY_WAIT seconds; past that they show the last result (marked as
# from an earlier state of the corpus) or say the comparison is running.
COPY_WAIT = 0.2
COPY_CACHE = 4096
_copy_lock = threading.Lock()
_copy_cache: "OrderedDict[tuple, tuple]" = OrderedDict()   # (url, rid) -> (stamp, result)
_copy_jobs: dict[tuple, object] = {}                       # (url, rid, stamp) -> Future
_copy_pool = None


def _background_priority() -> None:
    """The copy-lookup thread yields the CPU to the threads answering requests (Linux: a
    thread has its own nice value)."""
    import os

    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
    except (AttributeError, OSError):
        pass


def _copy_stamp(engine: Engine) -> tuple:
    cv = db.corpus_version.c
    with engine.connect() as c:
        return tuple(c.execute(select(cv.token, cv.n).where(cv.id == 1)).one())


def _copy_job(engine: Engine, rid: int, stamp: tuple):
    from ..corpus import copy_index

    url = str(engine.url)
    try:
        copy_index.ensure_index(engine)
        got = copy_index.copies_of(engine, rid, ensure=False)
    except BaseException:
        with _copy_lock:
            _copy_jobs.pop((url, rid, stamp), None)
        raise
    with _copy_lock:   # kept before the job is forgotten: a view in between finds one or the other
        _copy_cache[(url, rid)] = (stamp, got)
        _copy_cache.move_to_end((url, rid))
        while len(_copy_cache) > COPY_CACHE:
            _copy_cache.popitem(last=False)
        _copy_jobs.pop((url, rid, stamp), None)
    return got


def copies_for(engine: Engine, rids: list[int], wait: float = COPY_WAIT) -> tuple[dict, str]:
    """{rid: copy_index.copies_of(rid)} for the reports whose result is ready, and the state:
    "ok" (all of the current corpus), "stale" (some from an earlier state; being updated) or
    "pending" (some not compared yet; being compared)."""
    global _copy_pool
    from concurrent.futures import ThreadPoolExecutor, wait as wait_all

    url, stamp = str(engine.url), _copy_stamp(engine)
    out, futures, old = {}, [], {}
    with _copy_lock:
        for rid in rids:
            hit = _copy_cache.get((url, rid))
            if hit is not None and hit[0] == stamp:
                out[rid] = hit[1]
                continue
            if hit is not None:
                old[rid] = hit[1]
            fut = _copy_jobs.get((url, rid, stamp))
            if fut is None:
                if _copy_pool is None:
                    _copy_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fazhi-copies",
                                                    initializer=_background_priority)
                fut = _copy_jobs[(url, rid, stamp)] = _copy_pool.submit(_copy_job, engine, rid, stamp)
            futures.append((rid, fut))
    if any(rid not in old for rid, _ in futures):   # an earlier result of each: show it at once
        wait_all([f for _, f in futures], timeout=wait)
    state = "ok"
    for rid, fut in futures:
        if fut.done() and fut.exception() is None:
            out[rid] = fut.result()
        elif fut.done():
            raise fut.exception()
        elif rid in old:
            out[rid], state = old[rid], "stale" if state != "pending" else state
        else:
            state = "pending"
    return out, state


def report_copies(engine: Engine, rid: int, wait: float = COPY_WAIT) -> tuple[dict | None, str]:
    """One report's copy summary (``similarity.summary``) from the copy index and the state of
    ``copies_for``: "ok", "stale" (an earlier result, being updated) or "pending" (None)."""
    from ..corpus import similarity

    got, state = copies_for(engine, [rid], wait)
    if rid not in got:
        return None, state
    return (similarity.summary(*got[rid]) if got[rid] is not None else None), state


def matching_units(engine: Engine, name: str) -> list[str]:
    """Stored unit names that are ``name`` (or the same unit by norm_unit)."""
    from . import aggregates

    snap = aggregates.snapshot(engine)
    with snap.lock:
        return snap.units_named(name)


def matching_units_fresh(engine: Engine, name: str) -> list[str]:
    """``matching_units`` read from the reports table."""
    r = db.reports.c
    key = norm_unit(name)
    with engine.connect() as c:
        units = [u for (u,) in c.execute(select(r.unit).distinct().where(r.unit.is_not(None), db.counted()))]
    return sorted(u for u in units if u == name or (key and norm_unit(u) == key))


@dataclass
class UnitPage:
    name: str
    units: list[str]
    reports: list[dict]
    years: list[int]
    trends: list[dict] = field(default_factory=list)
    copies: list[dict] = field(default_factory=list)
    copies_state: str = "ok"      # copies_for: ok | stale | pending
    follow: list[dict] = field(default_factory=list)


_follow_lock = threading.Lock()
_follow_cache: "OrderedDict[tuple, object]" = OrderedDict()
FOLLOW_CACHE = 4096


def _follow_pair(engine: Engine, a_id: int, b_id: int):
    """follow.follow of two stored reports, kept while neither report changes (the change log's
    stamps of both are in the key)."""
    from ..corpus import follow as fl

    rc = db.report_changes.c
    with engine.connect() as c:
        stamps = dict(c.execute(select(rc.report_id, rc.seq).where(rc.report_id.in_([a_id, b_id]))).all())
    key = (str(engine.url), a_id, b_id, stamps.get(a_id), stamps.get(b_id))
    with _follow_lock:
        if key in _follow_cache:
            _follow_cache.move_to_end(key)
            return _follow_cache[key]
    with engine.connect() as conn:
        a, b = fl._load(conn, a_id), fl._load(conn, b_id)
    fr = fl.follow(a, b)
    with _follow_lock:
        _follow_cache[key] = fr
        while len(_follow_cache) > FOLLOW_CACHE:
            _follow_cache.popitem(last=False)
    return fr


def unit_page(engine: Engine, name: str, *, max_paragraphs: int = 60, copy_wait: float = COPY_WAIT) -> UnitPage | None:
    """A unit's reports, trends, copied paragraphs and follow-through.  The copies of each report
    come from the copy index through ``copies_for`` (kept, looked up in the background)."""
    from ..corpus import follow as fl
    from ..corpus import similarity

    units = matching_units(engine, name)
    if not units:
        return None
    r = db.reports.c
    with engine.connect() as c:
        reps = [row_dict(m) for m in c.execute(
            select(*[getattr(r, col) for col in LIST_COLUMNS]).where(r.unit.in_(bindparam("u", expanding=True)),
                                                                     db.counted())
            .order_by(r.year.asc().nulls_last(), r.id), {"u": units}).mappings()]
        ids = [x["id"] for x in reps]
        inds = [i for (i,) in c.execute(
            select(db.facts.c.indicator).distinct().where(db.facts.c.indicator.is_not(None))
            .where(db.facts.c.report_id.in_(bindparam("ids", expanding=True))), {"ids": ids})]
        hl = compare.headlines(c, inds, ids)
    years = sorted({x["year"] for x in reps if x["year"]})
    page = UnitPage(name=name, units=units, reports=reps, years=years)
    # trends: one headline per indicator and year (the latest report of a year)
    by_year = {}
    for x in reps:
        if x["year"]:
            by_year[x["year"]] = x["id"]
    for ind in inds:
        vals, shown = [], []
        for y in years:
            h = hl.get((by_year[y], ind))
            vals.append(compare.number(h.value) if h else None)
            shown.append(h.display() if h else "")
        stated = sum(v is not None for v in vals)
        if stated:
            known = [v for v in vals if v is not None]
            page.trends.append({"id": ind, "label": compare.indicator_label(ind),
                                "unit": compare.display_unit(ind), "values": vals, "display": shown,
                                "stated": stated, "changes": len(set(known)) > 1})
    # the indicators stated in most years first; among those, the ones that changed
    page.trends.sort(key=lambda t: (-t["stated"], not t["changes"], t["id"]))
    # copied paragraphs: each report's copies looked up in the copy index (copies_for)
    want = []
    found, page.copies_state = copies_for(engine, [x["id"] for x in reps], copy_wait)
    for x in reps:
        got = found.get(x["id"])
        if got is None:
            continue
        index, rc = got
        x["copy_share"], x["other_share"], x["own_share"] = rc.share, rc.other_share, rc.own_share
        x["mutual_share"], x["common_share"] = rc.mutual_share, rc.common_share
        x["copy_summary"] = similarity.summary(index, rc)
        for cp in rc.paragraphs:
            want.append((x, cp, index))
    want = want[:max_paragraphs]
    bodies = {} if not want else similarity.paragraph_bodies(
        engine, [cp.para_id for _, cp, _ in want] + [cp.source_para_id for _, cp, _ in want])
    for x, cp, index in want:
        src = index.reports.get(cp.source_report)
        page.copies.append({
            "report_id": x["id"], "year": x["year"], "para_no": cp.para_no + 1,
            "kind": cp.label, "kind_code": cp.kind, "jaccard": cp.jaccard, "containment": cp.containment,
            "body": bodies.get(cp.para_id, ""), "source_report": cp.source_report,
            "source_unit": (src.unit if src else None) or compare.NO_UNIT, "source_year": src.year if src else None,
            "source_para_no": cp.source_para_no + 1, "source_body": bodies.get(cp.source_para_id, ""),
        })
    # plan follow-through: only the rows of the names that can match (the aggregates know them)
    from . import aggregates

    snap = aggregates.snapshot(engine)
    for u in units:
        with snap.lock:
            names = snap.follow_names(u)
        for fr in (_follow_pair(engine, a_id, b_id) for a_id, b_id in fl.year_pairs(engine, u, names=names)):
            page.follow.append({
                "year": fr.year, "next_year": (fr.year + 1) if fr.year else None, "report": fr.report,
                "next_report": fr.next_report, "done": fr.done, "total": len(fr.plans), "reused": fr.reused,
                "plans": [{"no": p.no, "title": p.title or p.text[:60], "status": p.status,
                           "done": p.status == fl.DONE, "evidence": p.evidence, "score": p.score}
                          for p in fr.plans],
                "repeats": [{"before": x.before, "after": x.after, "similarity": x.similarity}
                            for x in fr.repeats],
            })
    seen = set()
    page.follow = [f for f in page.follow if not ((f["report"], f["next_report"]) in seen
                                                  or seen.add((f["report"], f["next_report"])))]
    return page
