"""What counts as written content: the text without its placeholders and headings.

A draft (``fazhi draft``) carries placeholders 【请补充：…】 where a person must
write, and headings such as "（二）原因分析" with nothing under them.  Neither is
content: a placeholder must not pass for the 150 characters of the 第一责任人
part, nor a bare heading for the causes of the shortcomings.  ``written``
returns the shadow text with every placeholder blanked out (replaced by spaces,
so offsets stay valid); ``mask`` also blanks the titles of bare headings (those
with nothing written under them).  The checks and the scores measure and search
those texts.

The placeholder pattern is the ``pattern`` param of the ``draft.placeholder``
rule in ``data/rules.yaml`` (one vocabulary for the rule, the mask and the
scores).
"""
from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from ..data import load_yaml
from ..model import Node, Report


@lru_cache(maxsize=1)
def placeholder_re() -> re.Pattern:
    rule = next((r for r in load_yaml("rules.yaml")["rules"] if r["id"] == "draft.placeholder"), None)
    return re.compile(rule["params"]["pattern"] if rule else r"【[^【】]*】")


def placeholders(sh: str, pattern: re.Pattern | None = None) -> list[tuple[int, int]]:
    rx = pattern or placeholder_re()
    return [(m.start(), m.end()) for m in rx.finditer(sh)]


# a character ``str.split`` does not split at (``\S`` and ``str.isspace`` are both
# ``Py_UNICODE_ISSPACE``): written content for ``length``
_NONBLANK = re.compile(r"\S")


def _bare(node: Node, sh: str, limit: int, out: list[tuple[int, int]]) -> bool:
    """Is the heading ``node`` bare (nothing written under it, its sub-headings
    bare too)?  Bare titles are appended to ``out``; so are the bare ones among
    its descendants."""
    end = min(node.end, limit)
    title_end = node.start + len(node.title)
    # ``length(sh, a, b) == 0`` for every gap, asked as "no non-blank character
    # in it" (one search that stops at the first: no count of the blanks)
    written = False
    pos = title_end
    kids_bare = True
    nonblank = _NONBLANK.search
    for c in node.children:
        written = written or nonblank(sh, pos, min(c.start, end)) is not None
        kids_bare &= _bare(c, sh, end, out)
        pos = max(pos, min(c.end, end))
    written = written or nonblank(sh, pos, end) is not None
    if not written and kids_bare:
        out.append((node.start, title_end))
        return True
    return False


def _blank(sh: str, spans) -> str:
    if not spans:
        return sh
    chars = list(sh)
    for s, e in spans:
        for i in range(max(0, s), min(len(chars), e)):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def written(sh: str) -> str:
    """``sh`` with the placeholders replaced by spaces."""
    return _blank(sh, placeholders(sh))


def mask(report: Report, sh: str, written_sh: str | None = None) -> str:
    """``sh`` with placeholders and bare headings (nothing written under them)
    replaced by spaces.  A heading with text under it stays: it is what the
    report says."""
    w = written_sh if written_sh is not None else written(sh)
    spans: list[tuple[int, int]] = []
    ends = [p.end for p in report.parts]
    for n in report.outline:
        limit = next((e for p, e in zip(report.parts, ends) if p.start <= n.start < e), len(sh))
        _bare(n, w, limit, spans)
    return _blank(w, spans)


# the last text measured and its blank runs: starts, ends, blanks before each run
_blanks_of: tuple[str | None, list[int], list[int], list[int]] = (None, [], [], [])


def _blank_runs(content: str) -> tuple[list[int], list[int], list[int]]:
    # the checks and the scores measure many spans of one text: find its blanks
    # once, as runs (a masked heading is a run of spaces: one match, not one per
    # space); the cache holds the text itself, so ``is`` cannot mistake another;
    # one tuple read and written whole, so threads cannot mix two texts up
    global _blanks_of
    text, starts, ends, before = _blanks_of
    if text is not content:
        # the runs are the gaps between the words of ``str.split()`` (the same
        # whitespace as ``\s``): far faster than a regex scan of the text
        starts, ends, before = [], [], []
        n = pos = 0
        find = content.find
        for word in content.split():
            i = find(word, pos)  # the gap before it is blank: the first occurrence
            if i > pos:
                starts.append(pos)
                ends.append(i)
                before.append(n)
                n += i - pos
            pos = i + len(word)
        if pos < len(content):
            starts.append(pos)
            ends.append(len(content))
            before.append(n)
        _blanks_of = (content, starts, ends, before)
    return starts, ends, before


def _blanks_before(runs: tuple[list[int], list[int], list[int]], x: int) -> int:
    """The blank characters of the text before offset ``x``."""
    starts, ends, before = runs
    k = bisect_left(starts, x)  # the runs starting before x
    if not k:
        return 0
    return before[k - 1] + min(x, ends[k - 1]) - starts[k - 1]


def length(content: str, s: int = 0, e: int | None = None) -> int:
    """Characters of written content in ``content[s:e]`` (blanks not counted)."""
    n = len(content)
    if e is None:
        e = n
    if s is None or s < 0 or e < 0:
        a, b, _ = slice(s, e).indices(n)  # offsets from the end, as a slice reads them
    else:
        a, b = min(s, n), min(e, n)
    if b <= a:
        return 0
    starts, ends, before = _blank_runs(content)
    # the blanks before b less those before a (``_blanks_before`` written out)
    k = bisect_left(starts, b)
    blanks = before[k - 1] + min(b, ends[k - 1]) - starts[k - 1] if k else 0
    k = bisect_left(starts, a, 0, k)
    if k:
        blanks -= before[k - 1] + min(a, ends[k - 1]) - starts[k - 1]
    return b - a - blanks


def in_placeholder(spans: list[tuple[int, int]], pos: int) -> bool:
    return any(s <= pos < e for s, e in spans)
