"""The check functions that rules in ``data/rules.yaml`` name.

Each takes (ctx, rule) and returns (Chinese message, start, end) tuples;
offsets point into ``report.text`` or are None when there is no place to show.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from ..dates import find_dates, find_years
from ..model import PART_LABELS
from ..textnorm import may_match, tester
from . import Ctx, Rule, check
from . import numeric as num

_SENT = re.compile(r"[^。！？；;!?\n]+[。！？；;!?]?")


@lru_cache(maxsize=64)
def _rx(pattern: str, flags: int = 0) -> re.Pattern:
    return re.compile(pattern, flags)


# ----------------------------------------------------------------- parts
@check("part_present")
def part_present(ctx: Ctx, rule: Rule):
    pid = rule.params["part"]
    if ctx.part(pid):
        return []
    return [(f"缺少法定内容“{PART_LABELS[pid]}”：未找到以此为标题的部分，请单列一部分报告。", None, None)]


@check("shortcomings_causes")
def shortcomings_causes(ctx: Ctx, rule: Rule):
    out = []
    for p in ctx.parts("shortcomings")[:1]:
        s, e = ctx.body(p)
        # placeholders and bare headings ("（二）原因分析" with nothing under it) name no cause
        if not _rx(rule.params["cues"]).search(ctx.content, s, e):
            out.append(("“存在的不足”部分只列问题，未说明原因：请分析产生问题的原因（主观、客观）。", p.start, p.start + len(p.heading)))
    return out


@check("leader_duty_section")
def leader_duty_section(ctx: Ctx, rule: Rule):
    p = ctx.part("leader_duty")
    if p:
        s, e = ctx.body(p)
        n = ctx.length(s, e)  # placeholders and bare headings are not content
        if n < rule.params.get("min_chars", 150):
            return [(f"“第一责任人履职情况”部分仅 {n} 字，过于简略：请具体写明主要负责人如何履行推进法治建设第一责任人职责。",
                     p.start, p.end)]
        return []
    m = _rx(rule.params["phrase"]).search(ctx.sh)
    if m:
        return [("第一责任人履职情况只在其他部分中顺带提及，没有单列成部分。", m.start(), m.end())]
    return []


@check("part_order")
def part_order(ctx: Ctx, rule: Rule):
    order = rule.params["order"]
    seen = []
    for p in ctx.report.parts:
        if p.part in order and p.part not in seen:
            seen.append(p.part)
    ranks = [order.index(x) for x in seen]
    if ranks != sorted(ranks):
        names = "、".join(PART_LABELS[x] for x in seen)
        return [(f"各部分顺序与《督察规定》所列顺序不同（现为：{names}）。把第一责任人部分放在前面的做法常见，仅作提示。", None, None)]
    return []


# ------------------------------------------------------------ title, year
def _title_span(ctx: Ctx) -> tuple[int | None, int | None]:
    t = ctx.report.meta.title
    if t:
        i = ctx.report.text.find(t.split()[0] if t.split() else t)
        if i >= 0:
            return i, i + len(t)
    return None, None


@check("title_present")
def title_present(ctx: Ctx, rule: Rule):
    if ctx.report.meta.title:
        return []
    return [("未识别到报告标题：标题应写明单位、年度和“法治政府建设年度报告”。", None, None)]


@check("title_genre")
def title_genre(ctx: Ctx, rule: Rule):
    t = ctx.report.meta.title
    if not t:
        return []
    from ..textnorm import shadow

    st = shadow(t)
    s, e = _title_span(ctx)
    out = []
    if not _rx(rule.params["genre"]).search(st):
        out.append((f"标题“{t}”未标明为法治政府建设年度报告，建议使用“××{ctx.report.meta.year or '××××'}年度法治政府建设年度报告”一类的规范名称。", s, e))
    if not find_years(st):
        out.append(("标题中没有写明所报告的年度。", s, e))
    return out


@check("year_present")
def year_present(ctx: Ctx, rule: Rule):
    if ctx.report.meta.year is not None:
        return []
    return [("未识别到报告年度：请在标题或正文开头写明所报告的年度。", None, None)]


def _body_year(ctx: Ctx) -> tuple[int, int, int] | None:
    """The year the body says it reports on: "现将2022年…报告如下" / "2022年，…" in
    the opening, else the year in the headings of the achievements/leader-duty/
    shortcomings parts, else a year that dominates the body's mentions (worked
    out once per report: two checks ask)."""
    if "body_year" not in ctx.cache:
        ctx.cache["body_year"] = _find_body_year(ctx)
    return ctx.cache["body_year"]


# "2022年，…" at the start of the text or of a line: the text start is tried with
# ``match``, the line starts by a search that starts with its line break (which
# the engine skips to; an alternation with ^ is tried at every position)
_YEAR_OPENING = r"\s*((?:19|20)\d{2})\s*年(?:度|以来|来)?\s*[,，]"


def _find_body_year(ctx: Ctx) -> tuple[int, int, int] | None:
    sh = ctx.sh
    first = ctx.report.parts[0].start if ctx.report.parts else min(len(sh), 2000)
    head = sh[:first]
    ts, te = _title_span(ctx)
    m = _rx(r"现(?:将|对|就)[^。]{0,30}?((?:19|20)\d{2})\s*年").search(head)
    if m:
        return int(m.group(1)), m.start(1), m.end(1) + 1
    m = _rx(_YEAR_OPENING).match(head) or _rx("\n" + _YEAR_OPENING).search(head)
    if m:
        return int(m.group(1)), m.start(1), m.end(1) + 1
    for p in ctx.report.parts:
        if p.part in ("achievements", "leader_duty", "shortcomings"):
            ys = find_years(sh[p.start:p.start + len(p.heading)])
            if ys:
                y, a, b = ys[0]
                return y, p.start + a, p.start + b
    counts: dict[int, list] = {}
    for y, a, b in find_years(sh):
        if ts is not None and ts <= a < te:
            continue
        if a > 0 and sh[a - 1] in "—-–~至到(（":  # a period such as 2015—2020年
            continue
        counts.setdefault(y, []).append((a, b))
    if counts:
        ranked = sorted(counts.items(), key=lambda kv: -len(kv[1]))
        y, spans = ranked[0]
        if len(spans) >= 2 and (len(ranked) == 1 or len(spans) >= 2 * len(ranked[1][1])):
            return y, spans[0][0], spans[0][1]
    return None


@check("year_consistency")
def year_consistency(ctx: Ctx, rule: Rule):
    meta = ctx.report.meta
    out = []
    ty = find_years(ctx.report.meta.title or "")
    by = _body_year(ctx)
    ts, te = _title_span(ctx)
    if ty and by and ty[0][0] != by[0]:
        s = ts if ts is not None else by[1]
        out.append((f"标题写的是{ty[0][0]}年，正文开头却报告{by[0]}年的情况，请统一年度。", s, by[2]))
    year = meta.year
    if year is not None:
        for p in ctx.parts("next_year")[:1]:
            ys = find_years(ctx.sh[p.start:p.start + len(p.heading)])
            if ys and all(y != year + 1 for y, _, _ in ys):
                y, a, b = ys[0]
                out.append((f"下一年度安排的标题写的是{y}年，应为{year + 1}年（报告年度{year}年的下一年）。",
                            p.start + a, p.start + b))
        d = meta.published or meta.signed
        if d and int(d[:4]) < year:
            out.append((f"日期 {d} 早于所报告的年度 {year} 年，年度或日期有误。", None, None))
    return out


# -------------------------------------------------------------- timeliness
def _date_and_place(ctx: Ctx, which: str) -> tuple[str | None, str, int | None, int | None]:
    m = ctx.report.meta
    choices = {"published": [("published", "发布日期")], "signed": [("signed", "成文日期")],
               "published_or_signed": [("published", "发布日期"), ("signed", "成文日期")]}[which]
    for fld, label in choices:
        d = getattr(m, fld)
        if d:
            s = e = None
            if "dates" not in ctx.cache:
                ctx.cache["dates"] = find_dates(ctx.sh)
            for fd in ctx.cache["dates"]:
                if fd.iso == d:
                    s, e = fd.start, fd.end
                    break
            return d, label, s, e
    return None, "", None, None


@check("deadline")
def deadline(ctx: Ctx, rule: Rule):
    year = ctx.report.meta.year
    if year is None:
        return []
    md = (rule.params.get("by_level") or {}).get(ctx.report.meta.level) or rule.params.get("default", "04-01")
    mo, da = (int(x) for x in str(md).split("-"))
    limit = dt.date(year + 1, mo, da)
    which = rule.params.get("date", "published_or_signed")
    for w in (["published", "signed"] if which == "published_or_signed" else [which]):
        d, label, s, e = _date_and_place(ctx, w)
        if d and dt.date.fromisoformat(d) >= limit:
            return [(f"{label} {d} 晚于规定期限：{year}年度报告应在 {limit.isoformat()} 之前报送并公开。", s, e)]
    return []


@check("premature")
def premature(ctx: Ctx, rule: Rule):
    year = ctx.report.meta.year
    d, label, s, e = _date_and_place(ctx, "published_or_signed")
    ty = find_years(ctx.report.meta.title or "")
    by = _body_year(ctx)
    if ty and by and ty[0][0] != by[0]:
        return []  # the year itself is in doubt: year.consistency says so, a date warning would be noise
    if d and year is not None and dt.date.fromisoformat(d) <= dt.date(year, 12, 31):
        return [(f"{label} {d} 在所报告的 {year} 年结束之前：年度报告应在年度结束后总结全年情况。", s, e)]
    return []


@check("dates_present")
def dates_present(ctx: Ctx, rule: Rule):
    m = ctx.report.meta
    if m.published or m.signed:
        return []
    return [("未找到发布日期或成文日期，无法检查是否按时报送、公开。请在文末落款处写明成文日期。", None, None)]


# ------------------------------------------------------------------ numbers
@check("numeric")
def numeric(ctx: Ctx, rule: Rule):
    # one pass gives every kind; its tuning (rate_tolerance …) is read from the
    # first numeric rule that runs (numeric.rate in the built-in order)
    key = "numeric"
    if key not in ctx.cache:
        ctx.cache[key] = num.check(ctx.report, ctx.sh, rule.params)
    return [(msg, s, e) for kind, _sev, msg, s, e in ctx.cache[key] if kind == rule.params["kind"]]


# --------------------------------------------------------- content quality
@check("data_support")
def data_support(ctx: Ctx, rule: Rule):
    parts = ctx.parts("achievements")
    if not parts:
        return []
    chars = sum(ctx.length(p.start, p.end) for p in parts)
    if chars < rule.params.get("min_chars", 300):
        return []
    n = len(written_facts(ctx, "achievements"))
    per = n * 1000 / chars
    if per < rule.params.get("min_per_1000", 1.0):
        p = parts[0]
        return [(f"缺乏数据支撑：“主要举措和成效”部分 {chars} 字只有 {n} 个数据（每千字 {per:.1f} 个），"
                 "建议用办理件数、比率等数据说明成效。", p.start, p.start + len(p.heading))]
    return []


def share_of(ctx: Ctx, pid: str) -> float:
    """The part's share of the written content (placeholders and bare headings excluded)."""
    total = ctx.length() or 1
    return sum(ctx.length(p.start, p.end) for p in ctx.parts(pid)) / total


def written_facts(ctx: Ctx, pid: str) -> list:
    """The facts of a part that are not inside a placeholder."""
    w = ctx.written
    return [f for f in ctx.report.facts if f.part == pid and 0 <= f.start < len(w) and not w[f.start].isspace()]


@check("shortcomings_share")
def shortcomings_share(ctx: Ctx, rule: Rule):
    p = ctx.part("shortcomings")
    if not p:
        return []
    share = share_of(ctx, "shortcomings")
    if share < rule.params.get("min_share", 0.05):
        return [(f"重成绩轻问题：“存在的不足和原因”仅占全文的 {share:.1%}，请具体查摆问题并分析原因。", p.start, p.end)]
    return []


def _sentences(sh: str, s: int, e: int):
    for m in _SENT.finditer(sh, s, e):
        t = m.group(0).strip()
        if len(t) >= 4:
            yield m.start(), m.end(), t


@check("shortcomings_generic")
def shortcomings_generic(ctx: Ctx, rule: Rule):
    p = ctx.part("shortcomings")
    if not p:
        return []
    s, e = ctx.body(p)
    sents = list(_sentences(ctx.written, s, e))
    if not sents:
        return [("“存在的不足和原因”部分没有内容。", p.start, p.end)]
    gen = _rx(rule.params["phrases"])
    generic = [x for x in sents if gen.search(x[2]) and len(x[2]) <= 60]
    if len(generic) / len(sents) >= rule.params.get("max_generic_share", 0.8):
        return [("重成绩轻问题：“存在的不足”只有“有待加强”“不够深入”一类空泛表述，请写出具体问题、表现和原因。", p.start, p.end)]
    return []


@check("plan_concreteness")
def plan_concreteness(ctx: Ctx, rule: Rule):
    p = ctx.part("next_year")
    if not p:
        return []
    s, e = ctx.body(p)
    measurable = len(written_facts(ctx, "next_year"))
    # the time words are looked for only when no measurable target settles it
    if not measurable and not tester(_rx(rule.params["time_words"]))(ctx.written, s, e):
        return [("下一年度安排只有原则性表述，没有可衡量的目标（数量、比率）或时间节点，难以检查落实。", p.start, p.end)]
    return []


@check("classified")
def classified(ctx: Ctx, rule: Rule):
    rx = _rx(rule.params["pattern"], re.M)
    if not may_match(rx, ctx.sh):
        return []  # none of the words a marking needs occurs (most reports)
    return [(f"疑似涉密标识“{m.group(0).strip()}”：公开前请进行保密审查。", m.start(), m.end())
            for m in rx.finditer(ctx.sh)][:5]



# ------------------------------------------------------------------ drafts
def _part_label(ctx: Ctx, pos: int) -> str:
    from ..parts import part_at

    text = ctx.report.text
    # the closing lines (issuer, date): short lines without a full stop at the very end
    tail = text.rstrip()
    k = len(tail)
    for _ in range(3):
        j = tail.rfind("\n", 0, k)
        line = tail[j + 1:k]
        if not line.strip() or "。" in line or len(line) > 40:
            break
        if j + 1 <= pos < k + 1:
            return "落款"
        k = j
        if j < 0:
            break
    pid = part_at(ctx.report.parts, pos)
    return PART_LABELS[pid] if pid else "正文"


@check("placeholder")
def placeholder(ctx: Ctx, rule: Rule):
    """Every placeholder left in a draft (【请补充：…】): an unfinished report."""
    from .content import placeholders

    out = []
    text = ctx.report.text
    for s, e in placeholders(ctx.sh, _rx(rule.params["pattern"])):
        shown = text[s:e] if e - s <= 40 else text[s:s + 38] + "…】"
        out.append((f"“{_part_label(ctx, s)}”部分尚未撰写：{shown}。写明后删除【】标记。", s, e))
    return out


@check("todo")
def todo(ctx: Ctx, rule: Rule):
    """One line: what is still to write, part by part."""
    from .content import placeholders

    pat = rule.params.get("pattern")
    spans = placeholders(ctx.sh, _rx(pat) if pat else None)
    if not spans:
        return []
    counts: dict[str, int] = {}
    for s, _ in spans:
        lab = _part_label(ctx, s)
        counts[lab] = counts.get(lab, 0) + 1
    by_part = "；".join(f"{k} {v} 处" for k, v in counts.items())
    return [(f"本稿还有 {len(spans)} 处待撰写（{by_part}），写完并删除【】标记后再报送。", None, None)]
