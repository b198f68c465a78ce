"""Outline: the heading tree of a report.

A line is a heading when it starts with a numbering label of the genre
(一、 / （一）(一) / 1. 1、 1． / （1）(1) / ① / 第一部分), or when the reader
marked it (markdown ``#``, a whole-bold line, a Word heading style), or when it is
a short bare line made of part vocabulary (主要工作 / 存在的问题 / 下一步打算).
Inline enumerations (一是…二是…) are items, not headings.

Levels are relative: the first numbering type met is level 1, a type not yet
on the stack goes one level deeper, a type already on the stack closes
everything below it.  A heading whose body continues on the same line
(``一、强化组织领导。坚持…``) keeps its title up to the first full stop.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import Cleaned
from .model import Node

CN_NUM = "一二三四五六七八九十百"
# (type, regex) in priority order; all anchored at the line start, matched on the shadow
LABELS: list[tuple[str, re.Pattern]] = [
    ("part", re.compile(rf"^第[{CN_NUM}\d]+(?:部分|章|节|篇)\s*[、.:：]?\s*")),
    ("cn", re.compile(rf"^[{CN_NUM}]+\s*[、.．，,]\s*")),
    ("cn", re.compile(r"^、\s*(?=[\u4e00-\u9fff])")),  # a top-level label that lost its numeral
    ("cn_paren", re.compile(rf"^[（(]\s*[{CN_NUM}]+\s*[）)]\s*[、.．]?\s*")),
    ("num_paren", re.compile(r"^[（(]\s*\d{1,2}\s*[）)]\s*[、.．]?\s*")),
    ("num", re.compile(r"^\d{1,2}\s*(?:[.．](?!\d)|、)\s*")),
    ("circled", re.compile(r"^[①-⑳]\s*")),
]
# the LABELS as one pattern (its alternatives in the same order, each anchored at
# the line start: the first that matches is the one the loop over LABELS finds)
_LABELS_ONE = re.compile("|".join(f"(?P<g{i}>{rx.pattern})" for i, (_, rx) in enumerate(LABELS)))
_LABEL_KIND = {f"g{i}": k for i, (k, _) in enumerate(LABELS)}
# the characters a label can start with (and any decimal digit): other lines skip the LABELS
_LABEL_FIRST = frozenset("第" + CN_NUM + "、（(" + "".join(chr(c) for c in range(0x2460, 0x2474)))
ENUM_ITEM = re.compile(rf"^[{CN_NUM}]+是")
# a bare line that names a statutory part, e.g. "主要工作" / "存在的问题" / "下一步打算"
BARE = re.compile(
    r"^(?:\d{4}年度?)?(?:主要工作|工作开展情况|主要(?:做法|举措|措施)(?:和|及|与)?(?:成效|成绩)?|"
    r"存在的?(?:主要)?(?:问题|不足|困难|短板)(?:和|及|与)?(?:不足|问题|原因|困难|短板)?|不足之处|"
    r"(?:党政)?主要负责(?:人|同志)履行(?:推进法治建设)?第一责任人职责(?:的)?(?:有关)?情况|"
    r"下一步(?:工作)?(?:打算|计划|安排|思路|措施)?|(?:下一年度|明年|\d{4}年)?(?:工作)?(?:打算|计划|安排|思路)|"
    r"其他需要报告的(?:情况|事项))[:：]?$"
)
# an unnumbered umbrella line over the year's work, below the opening paragraph:
# "2021年某某街道法治政府建设工作" (annotation: it opens achievements)
UMBRELLA = re.compile(r"^(?:19|20)\d{2}\s*年度?[^，,。；;：:、\s]{0,24}?(?:法治政府建设|法治建设|依法行政)(?:工作)?(?:情况)?$")
_PROSE = re.compile(r"[。，,；;]")
TITLE_STOP = re.compile(r"[。！？；;]")
MAX_TITLE = 80


@dataclass
class Heading:
    line: int  # index into Cleaned.lines
    kind: str  # label type, "md<n>", "bold" or "bare"
    label: str
    title: str  # the heading text with its label, cut at the first full stop
    start: int
    end: int  # end of the heading title in text
    level: int = 0
    words_end: int = 0  # end of the words that may decide its part (the clause up to 。, ≤ 80 characters)


def _after_stop(sh: str, prev) -> bool:
    """Did the line before end a sentence or a heading?"""
    p = sh[prev.start:prev.end].rstrip()
    return not p or p[-1] in "。！？!?；;：:”）)" or len(p) <= 40


def _title_end(sh: str, start: int, line_end: int) -> int:
    m = TITLE_STOP.search(sh, start, line_end)
    return m.end() if m else line_end


def find_headings(c: Cleaned, sh: str, skip: set[int] = frozenset()) -> list[Heading]:
    """Detect heading lines; ``sh`` is the shadow of ``c.text``; ``skip`` line indices."""
    out: list[Heading] = []
    seen_prose = False
    for i, ln in enumerate(c.lines):
        s = sh[ln.start:ln.end]
        prose = len(s) >= 40 and _PROSE.search(s) is not None
        if i in skip:
            seen_prose = seen_prose or prose
            continue
        kind = label = None
        c0 = s[:1]
        if c0 in _LABEL_FIRST or c0.isdecimal():
            m = _LABELS_ONE.match(s)
            if m:
                kind, label = _LABEL_KIND[m.lastgroup], c.text[ln.start:ln.start + m.end()].strip()
        if label == "、" and (i == 0 or not _after_stop(sh, c.lines[i - 1])):
            kind = label = None  # "、" starts a heading only after a finished line
        if kind is None:
            if ENUM_ITEM.match(s):
                continue
            if ln.hint:
                # a marked line without numbering; long marked "headings" are emphasis
                if len(s) > MAX_TITLE or TITLE_STOP.search(s[:-1]):
                    continue
                kind = f"md{ln.hint[1]}" if ln.hint[0] == "md" else "bold"
                if BARE.match(s.strip()):
                    kind = "bare"  # a marked part heading: top level whatever its mark
                label = ""
            elif len(s) <= 25 and BARE.match(s.strip()):
                kind, label = "bare", ""
            elif seen_prose and len(s) <= 40 and UMBRELLA.match(s.strip()):
                kind, label = "bare", ""
            else:
                seen_prose = seen_prose or prose
                continue
        else:
            rest = s[len(label):].strip() if len(label) < len(s) else ""
            if not rest or (kind == "num" and rest[0] in "0123456789%％.万亿"):  # "1.23亿", a lone label
                continue
            if kind in ("num", "num_paren", "circled") and len(s) > 200 and not TITLE_STOP.search(s, 0, MAX_TITLE):
                continue  # a long numbered sentence, not a heading
        end = stop = _title_end(sh, ln.start, ln.end)
        if end - ln.start > MAX_TITLE + len(label or ""):
            # no full stop near: cut at the first comma-level break if the clause is long
            m = re.compile(r"[，,：:]").search(sh, ln.start + len(label or ""), ln.end)
            end = m.start() if m and m.start() - ln.start <= MAX_TITLE else min(ln.end, ln.start + MAX_TITLE)
        title = c.text[ln.start:end].strip()
        words_end = min(stop, ln.start + len(label or "") + MAX_TITLE)
        out.append(Heading(i, kind, label or "", title, ln.start, end, words_end=max(end, words_end)))
        seen_prose = seen_prose or (prose and kind not in ("md1", "md2", "bold"))
    assign_levels(out)
    return out


def assign_levels(heads: list[Heading]) -> None:
    """Relative levels: the first numbering type met is level 1, a new type goes
    one level deeper, a type already open closes everything below it.  Run it
    again once the front matter is gone (a bold masthead must not push 一、 down)."""
    stack: list[str] = []
    for h in heads:
        k = h.kind
        if k == "bare":
            # a bare part heading is a sibling of the top level
            if stack and stack[0] != "bare":
                del stack[1:]
                h.level = 1
                continue
            k = "bare"
        if k in stack:
            del stack[stack.index(k) + 1:]
        else:
            stack.append(k)
        h.level = len(stack)


def build_tree(heads: list[Heading], text_len: int) -> list[Node]:
    """Nest headings into ``Node`` trees; a node ends where the next heading
    of the same or a higher level starts (one pass with a stack)."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for h in heads:
        node = Node(level=h.level, label=h.label, title=h.title, start=h.start, end=text_len)
        while stack and stack[-1][0] >= h.level:
            stack.pop()[1].end = h.start
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((h.level, node))
    return roots
