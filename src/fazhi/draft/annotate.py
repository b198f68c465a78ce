"""Findings inside Word: ``fazhi check 初稿.docx --annotate 批注版.docx``.

The annotated copy is the same document with each finding as a Word comment
(批注) anchored at its evidence, and the report card's summary (scores, counts,
what is still to write) as the first comment on the title.  The clerk reads the
comments in Word/WPS next to the text they are about, fixes the text, and checks
again; comments fazhi wrote on an earlier run are removed first, the clerk's own
comments are kept.

Where a comment goes: a finding's offsets point into ``report.text``, the
cleaned text of the analysis.  The document's characters (run by run, in the
order the reader reads them) are aligned with ``report.text`` on their
non-blank characters (``difflib``); the runs at the two ends of the evidence are
split there, and the comment spans exactly the evidence.  A finding without a
place (a missing part, a missing date) is anchored on the title.
"""
from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from pathlib import Path

from .compose import DraftError

AUTHOR = "fazhi 检查"
INITIALS = "FZ"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


@dataclass
class _Char:
    r: object       # the w:r element
    t: object       # its w:t element
    k: int          # offset in that w:t's text


def _paragraphs(body):
    """w:p elements of the body in reading order (tables' cells included), as the
    docx reader reads them."""
    for child in body.iterchildren():
        if child.tag == _q("p"):
            yield child
        elif child.tag == _q("tbl"):
            for p in child.iter(_q("p")):
                yield p
        elif child.tag in (_q("sdt"), _q("customXml")):
            content = child.find(_q("sdtContent"))
            yield from _paragraphs(content if content is not None else child)


def _runs(p):
    """The text runs of a paragraph, as the reader reads them: ``w:r`` children,
    also inside the wrappers it descends into (hyperlinks, insertions, smart tags…)."""
    from ..ingest.docx import T_R, _RUN_WRAPPERS

    out = []
    stack = list(reversed(p))
    while stack:
        e = stack.pop()
        if e.tag == T_R:
            out.append(e)
        elif e.tag in _RUN_WRAPPERS:
            stack.extend(reversed(e))
    return out


def _chars(body) -> list[_Char]:
    """The non-blank characters of the document's text runs, in order."""
    out = []
    for p in _paragraphs(body):
        for r in _runs(p):
            for t in r.findall(_q("t")):
                for k, ch in enumerate(t.text or ""):
                    if not ch.isspace():
                        out.append(_Char(r, t, k))
    return out


def _text_of(chars: list[_Char]) -> str:
    return "".join(c.t.text[c.k] for c in chars)


def _split_run(r, t, k: int):
    """Split the run ``r`` before character ``k`` of its text element ``t``; returns
    the new run that starts there (``r`` keeps what is before)."""
    if k == 0 and _first_text(r) is t:
        return r
    new = copy.deepcopy(r)
    kids = list(r)
    i = kids.index(t)
    # r keeps its children up to t (t cut to its first k characters); new keeps the rest
    for j, child in enumerate(list(new)):
        if child.tag == _q("rPr"):
            continue
        if j < i:
            new.remove(child)
        elif j == i:
            child.text = (t.text or "")[k:]
            child.set(_XML_SPACE, "preserve")
    for j, child in enumerate(kids):
        if child.tag == _q("rPr"):
            continue
        if j > i:
            r.remove(child)
    t.text = (t.text or "")[:k]
    t.set(_XML_SPACE, "preserve")
    if not t.text:
        r.remove(t)
    r.addnext(new)
    return new


def _first_text(r):
    return r.find(_q("t"))


def _remove_old_comments(doc) -> int:
    """Remove the comments an earlier ``--annotate`` wrote; keep the clerk's."""
    part = doc.part
    try:
        comments = part._comments_part.element if part._comments_part is not None else None
    except AttributeError:
        comments = None
    if comments is None:
        return 0
    ids = {c.get(_q("id")) for c in comments.findall(_q("comment")) if c.get(_q("author")) == AUTHOR}
    if not ids:
        return 0
    for c in list(comments.findall(_q("comment"))):
        if c.get(_q("id")) in ids:
            comments.remove(c)
    body = doc.element.body
    for tag in ("commentRangeStart", "commentRangeEnd"):
        for e in list(body.iter(_q(tag))):
            if e.get(_q("id")) in ids:
                e.getparent().remove(e)
    for ref in list(body.iter(_q("commentReference"))):
        if ref.get(_q("id")) in ids:
            run = ref.getparent()
            run.getparent().remove(run)
    return len(ids)


def _summary(report) -> str:
    from ..scores import SCORE_LABELS

    n = {k: sum(1 for f in report.findings if f.severity == k) for k in SEVERITY}
    head = (f"fazhi 检查结果：错误 {n['error']} 处、警告 {n['warning']} 处、提示 {n['info']} 处"
            + ("（有错误，报送前须修改）" if n["error"] else "") + "。")
    scores = "；".join(f"{SCORE_LABELS[k]} {v:g}" for k, v in report.scores.items())
    parts = "、".join(dict.fromkeys(_part_label(p.part) for p in report.parts)) or "未识别"
    lines = [head, f"评分：{scores}。" if scores else "", f"识别到的部分：{parts}。"]
    todo = next((f.message for f in report.findings if f.rule == "draft.todo"), None)
    if todo:
        lines.append(todo)
    lines.append("每条问题以批注标在原文处；修改后可再次运行 fazhi check 检查。")
    return "\n".join(x for x in lines if x)


def _part_label(pid: str) -> str:
    from ..model import PART_LABELS

    return PART_LABELS.get(pid, pid)


def _comment_text(f, titles: dict) -> str:
    label = SEVERITY.get(f.severity, f.severity)
    title = titles.get(f.rule)
    return f"【{label}】{f.message}" + (f"\n规则：{f.rule}（{title}）" if title else f"\n规则：{f.rule}")


def annotate(src, report, out, rules=None) -> dict:
    """Write ``out``: ``src`` (a .docx) with ``report``'s findings as comments.
    Returns counts: {"comments", "anchored", "on_title", "removed"}."""
    import docx

    from ..findings import default_rules
    from .safety import save_stamped

    try:
        doc = docx.Document(str(src))
    except Exception as e:  # noqa: BLE001
        raise DraftError(f"{Path(src).name} 无法作为 Word 文档打开（{type(e).__name__}）") from None
    removed = _remove_old_comments(doc)
    titles = {r.id: r.title for r in (rules if rules is not None else default_rules())}
    body = doc.element.body

    # align the document's characters with report.text (non-blank characters of both)
    chars = _chars(body)
    if not chars:
        raise DraftError(f"{Path(src).name} 中没有文字，无法添加批注")
    rep_pos = [i for i, ch in enumerate(report.text) if not ch.isspace()]
    rep_str = "".join(report.text[i] for i in rep_pos)
    sm = difflib.SequenceMatcher(None, rep_str, _text_of(chars), autojunk=False)
    to_doc: dict[int, int] = {}  # report.text offset -> index into chars
    for a, b, size in sm.get_matching_blocks():
        for x in range(size):
            to_doc[rep_pos[a + x]] = b + x

    def span(s: int, e: int) -> tuple[int, int] | None:
        hit = [to_doc[i] for i in range(s, e) if i in to_doc]
        return (min(hit), max(hit)) if hit else None

    placed = []   # (finding, (first char index, last char index) or None)
    for f in report.findings:
        sp = span(f.start, f.end) if isinstance(f.start, int) and isinstance(f.end, int) and f.end > f.start else None
        placed.append((f, sp))

    # split the runs at every start and after every end, then anchor on whole runs
    cuts = set()
    for _, sp in placed:
        if sp:
            cuts.add(sp[0])
            cuts.add(sp[1] + 1)
    first_of: dict[int, object] = {}
    for idx in sorted(cuts, reverse=True):  # from the end: earlier indices stay valid
        if idx >= len(chars):
            continue
        c = chars[idx]
        first_of[idx] = _split_run(c.r, c.t, c.k)
    chars = _chars(body)  # the runs after splitting

    from docx.text.run import Run

    def run(el):
        return Run(el, doc.paragraphs[0] if doc.paragraphs else None)

    title_runs = None
    for p in _paragraphs(body):
        rs = [r for r in _runs(p) if "".join(t.text or "" for t in r.findall(_q("t"))).strip()]
        if rs:
            title_runs = [run(rs[0]), run(rs[-1])]
            break

    doc.add_comment(title_runs, _summary(report), AUTHOR, INITIALS)
    anchored = on_title = 0
    for f, sp in placed:
        text = _comment_text(f, titles)
        if sp:
            a, b = chars[sp[0]].r, chars[sp[1]].r
            doc.add_comment([run(a), run(b)], text, AUTHOR, INITIALS)
            anchored += 1
        else:
            if isinstance(f.start, int):
                text += "\n（原文位置未能在文档中对应，标在标题处）"
            doc.add_comment(title_runs, text, AUTHOR, INITIALS)
            on_title += 1
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_stamped(doc, out, "annotated")
    return {"comments": 1 + anchored + on_title, "anchored": anchored, "on_title": on_title, "removed": removed}
