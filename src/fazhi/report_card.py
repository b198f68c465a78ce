"""A self-contained HTML "report card" (体检报告) for one analysed report.

``render(report)`` returns a complete HTML document (a str; write it as UTF-8)
and ``write(report, path)`` writes it.  The page has no external references:
the stylesheet (``data/report_card.css``) is inlined, there is no script, and a
Content-Security-Policy meta tag forbids every load, so the page works offline
and untrusted report text cannot make it fetch or run anything.

Every string that comes from the report (text, title, headings, file name,
messages, units, ...) is escaped with ``html.escape(..., quote=True)``; class
names and ids are built only from our own vocabularies and integers.

The full text is marked up from a sweep over the boundaries of all spans
(statutory parts, findings, facts).  Between two neighbouring boundaries the
set of open spans is constant; it is kept as a stack in a fixed nesting order
(part > finding > fact, then by start, longer first).  At each boundary the
stack is closed down to the longest common prefix with the new stack and the
rest is reopened, so spans that cross are split into fragments and the output
is always well-formed (the markup is also well-formed XML).  Only the first
fragment of a span carries its id and its label.  Labels are drawn by CSS from
``data-label`` attributes, so the text content of the full-text element is
exactly ``report.text``.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePath

from .model import LEVEL_LABELS, PART_IDS, PART_LABELS, REQUIRED_PARTS, Report

SCORE_LABELS = {
    "total": "总分",
    "completeness": "完整性",
    "timeliness": "时效性",
    "data_support": "数据支撑",
    "candour": "问题剖析",
    "plan_concreteness": "计划具体性",
}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_PART_SHORT = {
    "achievements": "举措和成效",
    "shortcomings": "不足和原因",
    "leader_duty": "第一责任人履职",
    "next_year": "下一年度安排",
    "other": "其他情况",
}

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'")

_UNITS_BASE_PREFIX = ("万", "亿", "千", "百")
_APPROX_MORE = re.compile("余|多|超|逾|以上")
_NL_RUNS = re.compile(r"(\n+)")


# --------------------------------------------------------------------------- #
# escaping and formatting


def esc(s: object) -> str:
    """Escape text for element content (quotes too); keep CR through the parser."""
    return html.escape("" if s is None else str(s), quote=True).replace("\r", "&#13;")


def attr(s: object) -> str:
    """Escape text for a double-quoted attribute value; keep line breaks."""
    return (html.escape("" if s is None else str(s), quote=True)
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def fmt_number(v: object) -> str:
    """3781200.0 -> '3,781,200'; 0.5 -> '0.5' (plain text, not escaped)."""
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return str(x)
    if x.is_integer():
        return f"{int(x):,}"
    return f"{x:,.4f}".rstrip("0").rstrip(".")


def base_unit(unit: str) -> str:
    """The unit a normalised value is in: '万元' -> '元', '%' -> '%'."""
    try:
        from .quantities import UNITS
    except Exception:  # pragma: no cover - quantities always importable
        UNITS = {}
    u = unit or ""
    if u in UNITS:
        return u
    while u[:1] in _UNITS_BASE_PREFIX and len(u) > 1:
        u = u[1:]
        if u in UNITS:
            return u
    return unit or ""


def fact_value(fact, text: str = "") -> str:
    """Normalised value with its base unit and approximation marker (plain text)."""
    num = fmt_number(fact.value)
    bu = base_unit(fact.unit)
    if getattr(fact, "approx", False):
        span = _slice(text, fact.start, fact.end)
        num = num + "余" if _APPROX_MORE.search(span) else "约" + num
    if not bu:
        return num
    return num + bu if bu == "%" else f"{num} {bu}"


def _fmt_score(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _score_value(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return max(0.0, min(100.0, x))


def _slice(text: str, start, end) -> str:
    if not isinstance(start, int) or not isinstance(end, int):
        return ""
    return text[max(0, start):max(0, end)]


def _valid_span(start, end, n: int) -> tuple[int, int] | None:
    if isinstance(start, bool) or isinstance(end, bool):
        return None
    if not isinstance(start, int) or not isinstance(end, int):
        return None
    s = max(0, min(n, start))
    e = max(s, min(n, end))
    return s, e


@lru_cache(maxsize=1)
def _css() -> str:
    from importlib import resources

    css = resources.files("fazhi.data").joinpath("report_card.css").read_text(encoding="utf-8")
    return css.replace("</", "<\\/")  # cannot end the <style> element


@lru_cache(maxsize=1)
def _catalog() -> dict:
    try:
        from .facts import load_catalog

        return load_catalog()
    except Exception:  # the card must render even without the catalog
        return {}


def indicator_label(ind: str | None) -> str:
    if ind is None:
        return "未对应指标"
    entry = _catalog().get(ind) or {}
    return entry.get("label") or str(ind)


def _part_class(part: str) -> str:
    return part if part in PART_IDS else "other"


def _severity_class(sev: str) -> str:
    return sev if sev in SEVERITY_LABELS else "other"


# --------------------------------------------------------------------------- #
# the full text: spans -> well-formed markup


@dataclass
class _Span:
    start: int
    end: int
    rank: int          # nesting order: 0 part, 1 finding, 2 fact
    idx: int           # position in its list (tie-break, stable ids)
    tag: str
    cls: str
    first_attrs: dict = field(default_factory=dict)   # id, data-label, title ...
    rest_attrs: dict = field(default_factory=dict)    # title on later fragments

    @property
    def key(self):
        return (self.rank, self.start, -self.end, self.idx)


def _open_tag(sp: _Span, first: bool) -> str:
    cls = sp.cls + ("" if first else " cont")
    out = [f'<{sp.tag} class="{cls}"']
    for k, v in (sp.first_attrs if first else sp.rest_attrs).items():
        out.append(f' {k}="{attr(v)}"')
    out.append(">")
    return "".join(out)


def _spans(report: Report) -> list[_Span]:
    text = report.text or ""
    n = len(text)
    spans: list[_Span] = []
    for i, p in enumerate(report.parts, 1):
        se = _valid_span(p.start, p.end, n)
        if se is None:
            continue
        pc = _part_class(p.part)
        label = PART_LABELS.get(p.part, str(p.part))
        spans.append(_Span(se[0], se[1], 0, i, "span", f"part part-{pc}",
                           {"id": f"part-{i}", "data-part": i,
                            "data-label": _PART_SHORT.get(p.part, str(p.part)),
                            "title": f"法定部分：{label}"},
                           {"data-part": i, "title": f"法定部分：{label}"}))
    for i, f in enumerate(report.findings, 1):
        se = _valid_span(f.start, f.end, n)
        if se is None:
            continue
        sc = _severity_class(f.severity)
        sev = SEVERITY_LABELS.get(f.severity, str(f.severity))
        tip = f"问题{i}（{sev}）：{f.message}"
        spans.append(_Span(se[0], se[1], 1, i, "span", f"finding sev-{sc}",
                           {"id": f"f-{i}", "data-finding": i, "data-label": f"问题{i}·{sev}",
                            "title": tip},
                           {"data-finding": i, "title": tip}))
    for i, fa in enumerate(report.facts, 1):
        se = _valid_span(fa.start, fa.end, n)
        if se is None:
            continue
        label = indicator_label(fa.indicator)
        if fa.indicator is None:
            tip = f"未对应指标\n数值：{fact_value(fa, text)}"
            cls = "fact fact-none"
        else:
            tip = f"指标：{label}（{fa.indicator}）\n数值：{fact_value(fa, text)}"
            cls = "fact"
        spans.append(_Span(se[0], se[1], 2, i, "mark", cls,
                           {"id": f"fact-{i}", "data-fact": i, "title": tip},
                           {"data-fact": i, "title": tip}))
    return spans


def render_text(report: Report) -> str:
    """The marked-up full text (inner HTML of the full-text element).

    ``want`` is the stack the current position needs; ``phys`` the elements
    actually open.  ``sync`` closes ``phys`` down to the common prefix with a
    target and opens the rest.  Runs of line breaks are written outside the
    finding spans (the outline would otherwise draw empty boxes on blank
    lines; facts and parts stay open there); other text is always written
    with ``phys == want``.
    """
    text = report.text or ""
    n = len(text)
    spans = _spans(report)
    starts: dict[int, list[_Span]] = {}
    ends: dict[int, list[_Span]] = {}
    empties: dict[int, list[_Span]] = {}
    for sp in spans:
        if sp.start == sp.end:
            empties.setdefault(sp.start, []).append(sp)
        else:
            starts.setdefault(sp.start, []).append(sp)
            ends.setdefault(sp.end, []).append(sp)
    bounds = sorted({0, n} | set(starts) | set(ends) | set(empties))
    out: list[str] = []
    phys: list[_Span] = []
    active: dict[int, _Span] = {}
    seen: set[int] = set()

    def sync(target: list[_Span]) -> None:
        k = 0
        while k < len(phys) and k < len(target) and phys[k] is target[k]:
            k += 1
        for sp in reversed(phys[k:]):
            out.append(f"</{sp.tag}>")
        del phys[k:]
        for sp in target[k:]:
            out.append(_open_tag(sp, id(sp) not in seen))
            seen.add(id(sp))
            phys.append(sp)

    for j, pos in enumerate(bounds):
        for sp in ends.get(pos, ()):
            active.pop(id(sp), None)
        for sp in starts.get(pos, ()):
            active[id(sp)] = sp
        want = sorted(active.values(), key=lambda s: s.key)
        if pos in empties:
            sync(want)
            for sp in sorted(empties[pos], key=lambda s: s.key):
                out.append(_open_tag(sp, True) + f"</{sp.tag}>")
                seen.add(id(sp))
        if j + 1 >= len(bounds):
            break
        seg = text[pos:bounds[j + 1]]
        if "\n" not in seg or not any(sp.rank == 1 for sp in want):
            sync(want)
            out.append(esc(seg))
            continue
        for piece in _NL_RUNS.split(seg):
            if not piece:
                continue
            if piece[0] == "\n" and all(id(sp) in seen for sp in want if sp.rank == 1):
                sync([sp for sp in want if sp.rank != 1])
            else:
                sync(want)
            out.append(esc(piece))
    sync([])
    return "".join(out)


# --------------------------------------------------------------------------- #
# sections


def _row(label: str, value: object, missing: str = "未识别") -> str:
    if value is None or value == "":
        cell = f'<span class="muted">{esc(missing)}</span>'
    else:
        cell = esc(value)
    return f"<tr><th>{esc(label)}</th><td>{cell}</td></tr>"


def _region(report: Report) -> str | None:
    r = report.meta.region
    seen: list[str] = []
    for x in (getattr(r, "province", None), getattr(r, "city", None), getattr(r, "county", None)):
        if x and x not in seen:
            seen.append(str(x))
    return "".join(seen) or None


def _header(report: Report) -> str:
    m = report.meta
    src = report.source
    title = m.title or "（未识别标题）"
    name = PurePath(str(src.path)).name if src and src.path else None
    fmt = (src.format or "").upper() if src else ""
    if src and src.encoding:
        fmt = f"{fmt}（{src.encoding}）" if fmt else str(src.encoding)
    level = LEVEL_LABELS.get(m.level, str(m.level))
    left = "".join([
        _row("单位", m.unit),
        _row("层级", level),
        _row("地区", _region(report)),
        _row("年度", f"{m.year}年" if m.year is not None else None),
        _row("发布日期", m.published),
        _row("成文日期", m.signed),
        _row("发文字号", m.doc_number, "无"),
        _row("索引号", m.index_number, "无"),
        _row("来源文件", name),
        _row("文件格式", fmt or None),
    ])
    title_cls = "title" if m.title else "title missing"
    return (
        '<header class="card head">'
        '<p class="kicker">法治政府建设年度报告 · 体检报告</p>'
        f'<h1 class="{title_cls}">{esc(title)}</h1>'
        '<div class="head-grid">'
        f'<table class="meta">{left}</table>'
        f'{_scores(report)}'
        '</div></header>'
    )


def _band(v: float) -> str:
    return "good" if v >= 80 else ("fair" if v >= 60 else "poor")


def _scores(report: Report) -> str:
    scores = report.scores or {}
    if not scores:
        return '<div class="scores"><h2>评分</h2><p class="muted empty">未评分</p></div>'
    keys = [k for k in SCORE_LABELS if k in scores] + [k for k in scores if k not in SCORE_LABELS]
    rows = []
    for k in keys:
        v = _score_value(scores[k])
        name = SCORE_LABELS.get(k, str(k))
        cls = "score total" if k == "total" else "score"
        if v is None:
            rows.append(f'<div class="{cls}"><span class="sname">{esc(name)}</span>'
                        '<span class="bar"><span class="fill none"></span></span>'
                        '<span class="sval muted">—</span></div>')
            continue
        rows.append(
            f'<div class="{cls} {_band(v)}"><span class="sname">{esc(name)}</span>'
            f'<span class="bar" role="img" aria-label="{attr(name)} {_fmt_score(v)}分">'
            f'<span class="fill" style="width:{v:.1f}%"></span></span>'
            f'<span class="sval">{_fmt_score(v)}</span></div>')
    return '<div class="scores"><h2>评分<small>（满分100）</small></h2>' + "".join(rows) + "</div>"


def _findings(report: Report) -> str:
    fs = list(enumerate(report.findings, 1))
    n = len(report.text or "")
    counts = {k: 0 for k in SEVERITY_LABELS}
    other = 0
    for _, f in fs:
        if f.severity in counts:
            counts[f.severity] += 1
        else:
            other += 1
    chips = "".join(f'<span class="chip sev-{k}">{SEVERITY_LABELS[k]} <b>{counts[k]}</b></span>'
                    for k in SEVERITY_LABELS)
    if other:
        chips += f'<span class="chip sev-other">其他 <b>{other}</b></span>'
    fs.sort(key=lambda t: (_SEVERITY_RANK.get(t[1].severity, 3),
                           t[1].start if isinstance(t[1].start, int) else -1, t[0]))
    items = []
    for i, f in fs:
        sc = _severity_class(f.severity)
        sev = SEVERITY_LABELS.get(f.severity, str(f.severity))
        link = ""
        if _valid_span(f.start, f.end, n) is not None:
            link = f' <a class="goto" href="#f-{i}">查看原文</a>'
        items.append(
            f'<li class="finding-item sev-{sc}" id="finding-{i}">'
            f'<span class="sev sev-{sc}">{esc(sev)}</span>'
            f'<span class="num">{i}</span>'
            f'<span class="msg">{esc(f.message)}</span>'
            f'<code class="rule">{esc(f.rule)}</code>{link}</li>')
    body = (f'<ol class="findings">{"".join(items)}</ol>' if items
            else '<p class="ok">未发现问题。</p>')
    return (f'<section class="card" id="findings"><h2>问题清单<small>共 {len(fs)} 项</small></h2>'
            f'<div class="chips">{chips}</div>{body}</section>')


def _parts(report: Report) -> str:
    by: dict[str, list[tuple[int, object]]] = {}
    for i, p in enumerate(report.parts, 1):
        by.setdefault(p.part, []).append((i, p))
    found = sum(1 for k in REQUIRED_PARTS if k in by)
    rows = []
    ids = list(PART_IDS) + [k for k in by if k not in PART_IDS]
    for k in ids:
        lst = by.get(k, [])
        req = k in REQUIRED_PARTS
        if lst:
            status = '<span class="status yes">✓ 已找到</span>'
        elif req:
            status = '<span class="status no">✗ 缺失</span>'
        else:
            status = '<span class="status na">— 未单列</span>'
        heads = "".join(
            f'<li><a href="#part-{i}">{esc(p.heading) or "（无标题）"}</a>'
            f'<span class="len">{max(0, p.end - p.start):,} 字</span></li>'
            for i, p in lst) or '<li class="muted">—</li>'
        label = PART_LABELS.get(k, str(k))
        req_tag = '<span class="req">必备</span>' if req else '<span class="req opt">可选</span>'
        rows.append(
            f'<tr class="prow{" missing" if req and not lst else ""}">'
            f'<td><span class="swatch part-{_part_class(k)}"></span>{esc(label)} {req_tag}</td>'
            f'<td>{status}</td><td><ul class="heads">{heads}</ul></td></tr>')
    return (f'<section class="card" id="parts"><h2>法定组成部分'
            f'<small>必备部分 {found}/{len(REQUIRED_PARTS)}</small></h2>'
            '<table class="grid parts"><thead><tr><th>部分</th><th>状态</th>'
            '<th>报告中的标题</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


def _facts(report: Report) -> str:
    text = report.text or ""
    n = len(text)
    rows = []
    none = 0
    for i, fa in enumerate(report.facts, 1):
        if fa.indicator is None:
            none += 1
            continue
        link = (f'<a class="goto" href="#fact-{i}">查看原文</a>'
                if _valid_span(fa.start, fa.end, n) is not None else "")
        part = PART_LABELS.get(fa.part, str(fa.part)) if fa.part else "—"
        pcls = _part_class(fa.part) if fa.part else "none"
        rows.append(
            f'<tr><td class="ind">{esc(indicator_label(fa.indicator))}'
            f'<code>{esc(fa.indicator)}</code></td>'
            f'<td class="val">{esc(fact_value(fa, text))}</td>'
            f'<td class="unit">{esc(fa.unit)}</td>'
            f'<td class="orig">{esc(_slice(text, fa.start, fa.end))}</td>'
            f'<td><span class="swatch part-{pcls}"></span>{esc(part)}</td>'
            f'<td class="lnk">{link}</td></tr>')
    have = len(rows)
    if rows:
        table = ('<table class="grid facts"><thead><tr><th>指标</th><th>数值</th>'
                 '<th>原文单位</th><th>原文</th><th>所在部分</th><th class="lnk">位置</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>')
    else:
        table = '<p class="muted">没有对应到指标目录的数据。</p>'
    note = (f'<p class="note">另有 {none} 处数量未对应指标（在全文中以浅色标出）。</p>'
            if none else "")
    return (f'<section class="card" id="facts"><h2>指标数据<small>{have} 项</small></h2>'
            f'{table}{note}</section>')


def _legend() -> str:
    parts = "".join(f'<span class="lg"><span class="swatch part-{k}"></span>{esc(PART_LABELS[k])}</span>'
                    for k in PART_IDS)
    return ('<div class="legend">' + parts +
            '<span class="lg"><mark class="fact">数据</mark>对应指标</span>'
            '<span class="lg"><mark class="fact fact-none">数据</mark>未对应指标</span>'
            '<span class="lg"><span class="box sev-error">错误</span>'
            '<span class="box sev-warning">警告</span><span class="box sev-info">提示</span>问题位置</span>'
            '</div>')


def _fulltext(report: Report) -> str:
    return ('<section class="card" id="fulltext"><h2>报告全文'
            f'<small>{len(report.text or ""):,} 字</small></h2>{_legend()}'
            f'<div class="text" id="fulltext-body">{render_text(report)}</div></section>')


# --------------------------------------------------------------------------- #
# the page


def render(report: Report) -> str:
    """The report card of ``report``: a complete, self-contained HTML document."""
    title = report.meta.title or "（未识别标题）"
    return "".join([
        "<!DOCTYPE html>\n",
        '<html lang="zh-CN">\n',
        "<head>\n",
        '<meta charset="utf-8" />\n',
        f'<meta http-equiv="Content-Security-Policy" content="{attr(_CSP)}" />\n',
        '<meta name="referrer" content="no-referrer" />\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n',
        '<meta name="generator" content="fazhi report card" />\n',
        f"<title>体检报告 · {esc(title)}</title>\n",
        f"<style>\n{_css()}\n</style>\n",
        "</head>\n<body>\n<main>\n",
        _header(report), "\n",
        '<nav class="toc"><a href="#findings">问题清单</a><a href="#parts">法定组成部分</a>'
        '<a href="#facts">指标数据</a><a href="#fulltext">报告全文</a></nav>\n',
        _findings(report), "\n",
        _parts(report), "\n",
        _facts(report), "\n",
        _fulltext(report), "\n",
        '<footer class="foot">由 fazhi 自动生成。自动分析结果仅供参考，请以报告原文为准。</footer>\n',
        "</main>\n</body>\n</html>\n",
    ])


def write(report: Report, path: str | Path) -> Path:
    """Write the report card of ``report`` to ``path`` (UTF-8); returns the path."""
    p = Path(path)
    with open(p, "w", encoding="utf-8", errors="replace", newline="") as f:
        f.write(render(report))
    return p
