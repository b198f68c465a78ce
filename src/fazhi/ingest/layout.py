"""Visual lines -> paragraphs: the layout rules the PDF text layer and OCR share.

Both readers end with lines as printed on the page and must join them into
paragraphs.  The text patterns they both use live here (a line that ends a
sentence, starts with a heading number, is a page number or a date banner),
with the two joiners:

- ``reflow(lines, sizes)`` for the text layer (``ingest.pdf``): lines are text
  only, optionally with their font sizes (from pypdf's text visitor).  A line
  break is kept when the line ends a sentence (。！？；：…), the next line starts
  with a heading number (一、 （一） 1. ① 第X章 …) or is indented, or the line is
  clearly shorter than a full line (a title) without ending in a comma.  Where
  the text layer shows first-line indents consistently, a full-width line ending
  in 。 before an unindented line is joined (the sentence just ended at the
  margin).  With sizes, widths are measured in points (a 22 pt title line of 20
  characters is as wide as a body line of 37), a change of font size breaks, and
  consecutive lines of one large size (a title wrapped over two or three lines)
  are joined.  A date banner (``2023/3/1 10:21``, what a browser prints at the top
  of a page) is a line of its own.
- ``reflow_rows(lines)`` for OCR (``ingest.ocr``): lines with their boxes and
  column margins (see ``ocr._set_margins``) -> paragraphs by indents, line ends
  short of the margin, vertical gaps and page/column breaks.

Both run in linear time: a paragraph is collected as a list of parts and only
the line being added is ever searched (joining into one growing string and
searching it for every line made 8,000 lines take 30 s).
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass

EDGE = " \t\r\f\v\u3000\xa0\u200b\ufeff"
SENT_MARKS = frozenset("。！？；：!?;:")
CLOSERS = "”’」』）)】》〕\"'"
COMMA_MARKS = frozenset("，,、")
HEADING_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、．.]"
    r"|[（(][一二三四五六七八九十百]+[）)]"
    r"|\d{1,2}[、．](?!\d)|\d{1,2}\.(?!\d)"
    r"|[（(]\d{1,2}[）)]"
    r"|[①-⑳⑴-⒇]"
    r"|第[一二三四五六七八九十百零〇\d]+[章节部分篇条])"
)
DASH = "-—–－─━‐‑‒―~～_"
PAGE_NO = re.compile(
    rf"^(?:[{DASH}\s]*\d{{1,4}}[{DASH}\s]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页"
    r"|(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}"
    r"|[\[【(（]\s*\d{1,4}\s*[\]】)）])$",
    re.I,
)
# a date (and time) as a browser or a portal prints it above the page
DATE_BANNER = re.compile(
    r"^(?:19|20)\d\d\s*[/\-.年]\s*\d{1,2}\s*[/\-.月]\s*\d{1,2}\s*日?"
    r"(?:\s*(?:上午|下午|AM|PM)?\s*\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:AM|PM))?)?(?=\s|$)", re.I)
_FOLD = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
_INDENT = (" ", "\u3000", "\t", "\xa0")
# pypdf puts a space where the font changes between digits and Han ("2022 年", "共 12 件")
_DIGIT_HAN_SPACE = re.compile(r"(?<=[0-9%])[ \xa0]+(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])[ \xa0]+(?=[0-9])")


def fold_compat(text: str) -> str:
    """Kangxi radicals and CJK compatibility ideographs -> unified ideographs."""
    return _FOLD.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


_TIME_OR_DATE_END = re.compile(r"(?:\d{1,2}:\d{2}|\d{4}[/\-.]\d{1,2}[/\-.]\d{1,2})$")


def _close(m: re.Match) -> str:
    # the space after a time or a numeric date separates a banner from its text: keep it
    return m.group() if _TIME_OR_DATE_END.search(m.string, max(0, m.start() - 10), m.start()) else ""


def close_digit_han_spaces(text: str) -> str:
    """``2022 年`` -> ``2022年``: a space between a digit and a Han character is a
    layout artefact of the PDF (Chinese puts no space there); not after a time or a
    date (``2023/3/1 10:21 关于…``)."""
    return _DIGIT_HAN_SPACE.sub(_close, text)


def width(s: str) -> float:
    """Display width in full-width characters (Latin letters and digits count half)."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in s)


def is_page_no(line: str) -> bool:
    s = line.strip(EDGE)
    return bool(s) and bool(PAGE_NO.match(s))


def ends_sentence(s: str) -> bool:
    """The line ends with a sentence mark, optionally followed by closing quotes/brackets."""
    t = s.rstrip(CLOSERS)
    return bool(t) and t[-1] in SENT_MARKS


def ends_comma(s: str) -> bool:
    return bool(s) and s[-1] in COMMA_MARKS


def starts_heading(s: str) -> bool:
    return HEADING_START.match(s.strip()) is not None


def _is_latin(c: str) -> bool:
    return ("A" <= c <= "Z") or ("a" <= c <= "z")


def join_parts(parts: list[str]) -> str:
    """Parts of one paragraph -> its text: a space only between Latin words broken
    across lines (a number wrapped at the margin, "…意见10" / "4条…", is one number)."""
    out = [parts[0]]
    for prev, text in zip(parts, parts[1:]):
        if prev and text and _is_latin(prev[-1]) and _is_latin(text[0]):
            out.append(" ")
        out.append(text)
    return "".join(out)


def split_banner(lines: list[str], sizes: list | None = None) -> tuple[list[str], list | None]:
    """A date banner at the start of a line becomes a line of its own (``sizes``, if
    given, follow the lines)."""
    out: list[str] = []
    out_sizes: list = []
    for i, ln in enumerate(lines):
        size = sizes[i] if sizes is not None else None
        s = ln.strip(EDGE)
        m = DATE_BANNER.match(s)
        if m and m.end() < len(s) and not ends_comma(s[:m.end()]):
            out += [s[:m.end()], s[m.end():].strip(EDGE)]
            out_sizes += [size, size]
        else:
            out.append(ln)
            out_sizes.append(size)
    return out, (out_sizes if sizes is not None else None)


def _typical(ws: list[float]) -> float:
    ws = sorted(w for w in ws if w >= 4)
    if not ws:
        return 0.0
    if len(ws) < 4:
        return ws[-1]
    return ws[int(len(ws) * 0.75)]


def reflow(lines: list[str], sizes: list[float | None] | None = None) -> list[str]:
    """Join the text layer's visual lines into paragraphs (see the module docstring).
    ``sizes``: the font size of each line (same length as ``lines``), or None."""
    keep = [i for i, ln in enumerate(lines) if ln.strip(EDGE)]
    raw = [lines[i].rstrip(EDGE) for i in keep]
    if not raw:
        return []
    size = [sizes[i] if sizes is not None and i < len(sizes) else None for i in keep]
    known = [s for s in size if s]
    body = statistics.median_high(known) if known else None
    texts = [ln.strip(EDGE) for ln in raw]
    scale = [(s / body) if (s and body) else 1.0 for s in size]
    w = [width(t) * k for t, k in zip(texts, scale)]
    typical = _typical(w)
    n = len(raw)
    indented = [ln[:1] in _INDENT for ln in raw]
    use_indent = sum(indented) <= 0.6 * n
    banner = [DATE_BANNER.match(t) is not None and DATE_BANNER.match(t).end() == len(t) for t in texts]
    big = [k >= 1.2 for k in scale]

    def short(i: int) -> bool:
        return typical > 0 and w[i] < 0.8 * typical

    # When the text layer shows first-line indents and they sit where paragraphs
    # end (after a sentence end or a short line), trust them: a full-width line
    # ending in 。 followed by an unindented line is then a sentence that happens
    # to end at the margin, not the end of the paragraph.
    starts = [i for i in range(1, n) if indented[i]]
    indent_reliable = use_indent and len(starts) >= 2 and sum(
        1 for i in starts if ends_sentence(texts[i - 1]) or short(i - 1)) >= 0.8 * len(starts)
    paras: list[str] = []
    cur: list[str] = []
    big_run = 0
    for i in range(n):
        text = texts[i]
        cur.append(text)
        if i + 1 == n:
            break
        nxt = texts[i + 1]
        sent_end = ends_sentence(text)
        if indent_reliable and sent_end and not indented[i + 1]:
            sent_end = w[i] < 0.95 * typical
        heading_next = HEADING_START.match(nxt) is not None
        size_change = size[i] is not None and size[i + 1] is not None and \
            abs(size[i] - size[i + 1]) > 0.12 * max(size[i], size[i + 1])
        if big[i] and not size_change and not sent_end and not heading_next and not banner[i + 1] \
                and big_run < 3:
            big_run += 1  # a large-font title wrapped over lines: one line
            continue
        brk = (
            sent_end
            or heading_next
            or size_change
            or banner[i] or banner[i + 1]
            or (use_indent and indented[i + 1])
            or (short(i) and not ends_comma(text))
        )
        if brk:
            paras.append(join_parts(cur))
            cur = []
            big_run = 0
    if cur:
        paras.append(join_parts(cur))
    return paras


# ------------------------------------------------------------------ OCR rows


@dataclass
class Line:
    """One OCR row, its box and its column's margins (``ocr._set_margins``)."""
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    page: int
    block: int  # band/column within the page
    col: int  # column index (-1: spanning the columns)
    left: float = 0.0
    right: float = 0.0
    standalone: bool = False

    @property
    def h(self) -> float:
        return max(1.0, self.y1 - self.y0)


def _median(xs, default: float = 0.0) -> float:
    xs = list(xs)
    return statistics.median(xs) if xs else default


def reflow_rows(lines: list[Line]) -> list[str]:
    """OCR rows in reading order -> paragraphs (rules in ``ingest.ocr``'s docstring)."""
    paras: list[str] = []
    cur: list[str] = []
    cur_ends_sentence = False
    prev: Line | None = None
    by_block: dict[tuple[int, int], list[float]] = {}
    for a, b in zip(lines, lines[1:]):
        if (a.page, a.block) == (b.page, b.block):
            by_block.setdefault((a.page, a.block), []).append(max(0.0, b.y0 - a.y1))
    by_page: dict[int, list[float]] = {}
    for (p, _), gs in by_block.items():
        by_page.setdefault(p, []).extend(gs)
    typical = {p: _median(gs) for p, gs in by_page.items()}
    uses_indent = sum(1 for ln in lines
                      if not ln.standalone and 1.4 * ln.h < ln.x0 - ln.left < 5 * ln.h) >= 2

    for ln in lines:
        text = ln.text.strip()
        if not text:
            continue
        if prev is None or not cur:
            cur = [text]
            cur_ends_sentence = ends_sentence(text)
            prev = ln
            continue
        a, b = prev, ln
        h = max(1.0, min(a.h, b.h))
        # a first-line indent is two characters; an opening quote or bracket sits in
        # the right half of its cell, so a row starting with one looks half indented
        indented = b.x0 - b.left > 1.4 * h
        # a row that ends short of the margin ends its paragraph, unless line-breaking
        # rules pushed a character or two to the next row ("…考核办" / "法》…"): allowed
        # for where the document marks paragraphs by indents, or the row ends mid-sentence
        slack = 1.5 if ends_sentence(a.text) else 4.0
        if uses_indent:
            slack = max(slack, 3.0)
        # (a short row ending in a comma goes on, as in the text-layer reader)
        full = a.right - a.x1 <= slack * h or ends_comma(a.text.rstrip())
        join = not a.standalone and not b.standalone and not starts_heading(text) and not indented and full
        if join and (a.page, a.block) == (b.page, b.block):
            gap = b.y0 - a.y1
            join = gap <= typical.get(a.page, 0.0) + 0.7 * h
        elif join:
            # a page or column break: the row reaches the margin and the next is not
            # indented; without first-line indents in the document a finished
            # sentence ends the paragraph
            join = uses_indent or not cur_ends_sentence
        if join:
            cur.append(text)
        else:
            paras.append(join_parts(cur))
            cur = [text]
        cur_ends_sentence = ends_sentence(text)
        prev = ln
    if cur:
        paras.append(join_parts(cur))
    return paras
