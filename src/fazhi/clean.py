"""Clean: markdown-ish reader output -> the analysable ``text`` and its lines.

What it does, line by line:
- removes portal chrome (breadcrumbs, 字号/打印/分享到, footers, ICP lines) and
  spam strings injected by mirror sites (patterns in ``data/clean.yaml``);
- strips markdown marks (``#`` headings, ``**bold**``, emphasis) and keeps them
  as heading hints for the outline;
- removes pinyin glosses inserted after characters (``建設(shè)``);
- removes spaces a hard wrap inserted between two Chinese characters;
- re-joins a paragraph that a page break split (``法治政府建\\n\\n设…``), and
  the lines of a text hard-wrapped at a fixed width (PDF converters wrap at a
  CJK width of about 38): the wrap width is measured on the document itself;
- splits run-on text (a template site's copy with no line breaks) before its
  numbered headings;
- removes the space a PDF layer puts between a number and 年/月/日.

The result's ``text`` is what every offset of the analysis refers to.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .data import load_yaml
from .textnorm import has_traditional, shadow

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


@dataclass
class Line:
    start: int
    end: int
    hint: tuple[str, int] | None = None  # ("md", level) | ("bold", 0)


@dataclass
class Cleaned:
    text: str
    lines: list[Line]

    def line_text(self, ln: Line) -> str:
        return self.text[ln.start:ln.end]


@lru_cache(maxsize=1)
def _patterns():
    d = load_yaml("clean.yaml")
    drop = re.compile("|".join(f"(?:{p})" for p in d["drop_lines"]))
    inline = re.compile("|".join(f"(?:{p})" for p in d["inline"]))
    seg = d["spam_segment"]
    spam = re.compile(rf"{seg}(?:_{seg})+")
    kw = tuple(d["spam_keywords"])
    return drop, inline, spam, kw


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)(\*\*|__)\s*[:：]?\s*$")
_EMPH = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRAY_STARS = re.compile(r"(?<![\w*])\*{2,3}|\*{2,3}(?![\w*])")
_PINYIN = re.compile(
    rf"(?<=[{CJK}])[(（]\s*[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]*"
    r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ1-4][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*\s*[)）]"
)
_CJK_SPACE = re.compile(rf"(?<=[{CJK}])[ \t\u3000\u00a0]+(?=[{CJK}])")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENT_END = "。！？!?；;：:”」』）)】]…"
_HEADING_START = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、](?!\d)|[①-⑳]"
    r"|第[一二三四五六七八九十]+[章节部分]|、(?=[\u4e00-\u9fff]))"
)
_DIGIT_SPACE = re.compile(r"(?<=\d)[ \t\u3000\u00a0]+(?=[年月日号])|(?<=[年月])[ \t\u3000\u00a0]+(?=\d)")
# run-on text: a numbered heading inside a long line, after a sentence end
# (or a (一) label right after a heading's last word)
_RUNON_MIN = 600
_RUNON_SPLIT = re.compile(
    r"(?<=[。；;！!？?：:”」』])[ \t\u3000]*(?=(?:[一二三四五六七八九十]{1,3}[、．]|第[一二三四五六七八九十]{1,3}(?:部分|章)"
    r"|[（(][一二三四五六七八九十]{1,3}[）)]|\d{1,2}[、.．](?!\d)))"
    r"|(?<=[\u4e00-\u9fff])(?=[（(][一二三四五六七八九十]{1,3}[）)])"
)
_RUNON_TOP = re.compile(r"(?<=[。；;！!？?：:”」』])[ \t\u3000]*(?:[一二三四五六七八九十]{1,3}、|第[一二三四五六七八九十]{1,3}部分)")
_RUNON_TITLE = re.compile(r"^\s*([^，,。；;：:\n]{4,80}?(?:报告|总结))(?!如下|[，,。；;：:])")


def _is_spam(m: re.Match, kw) -> bool:
    s = m.group(0)
    return any(k in s for k in kw)


# a page-metadata row: 发布时间：… / [ 索引号 ] … / 文    号 …
META_ROW = re.compile(
    r"^\s*[\[【]?\s*(?:来\s*源|发布|日\s*期|时\s*间|索\s*[引取]\s*号|文\s*号|发文|成文|产生日期|作\s*者|"
    r"点击|主题分类|体裁分类|信息来源|生成日期|公开|效力)"
    r"|(?:来源|日期|时间|作者|点击|发布机构|发布日期|发布时间|成文日期|索引号|文号)\s*[\]】]?\s*[:：]"
)


def _clean_line(raw: str, trad: bool) -> tuple[str, tuple[str, int] | None] | None:
    """One raw line -> (clean text, hint), or None to drop it."""
    drop, inline, spam, kw = _patterns()
    s = _CTRL.sub("", _ZERO_WIDTH.sub("", raw)).strip()
    if not s:
        return ("", None)
    hint = None
    m = _MD_HEADING.match(s)
    if m and m.group(2):
        hint = ("md", len(m.group(1)))
        s = m.group(2)
    m = _BOLD_LINE.match(s)
    if m:
        hint = hint or ("bold", 0)
        s = m.group(2).strip()
    if "*" in s or "__" in s:
        s = _EMPH.sub(r"\2", s)
        s = _STRAY_STARS.sub("", s)
    if s.startswith(">"):  # markdown quote
        s = s.lstrip("> ").strip()
    sh = shadow(s, trad) if len(s) < 160 else s
    if len(s) < 160:
        if inline.search(sh):
            # remove inline chrome, computing spans on the shadow (same length)
            keep, pos = [], 0
            for im in inline.finditer(sh):
                keep.append(s[pos:im.start()])
                pos = im.end()
            keep.append(s[pos:])
            s = re.sub(r"\s{2,}", "  ", "".join(keep)).strip(" |｜")
            sh = shadow(s, trad)
        if not s or drop.match(sh):
            return None
    if "_" in s:
        s = spam.sub(lambda m: "" if _is_spam(m, kw) else m.group(0), s)
    if "(" in s or "（" in s:
        s = _PINYIN.sub("", s)
    if " " in s or "\t" in s or "\u3000" in s or "\xa0" in s:
        if not META_ROW.search(sh):
            s = _CJK_SPACE.sub("", s)  # (in header rows spaces separate label and value)
        s = _DIGIT_SPACE.sub("", s)  # "2022 年 3 月" from a PDF text layer
    return (s.strip(), hint)


def _ends_open(s: str) -> bool:
    """A body line (prose, not a header row or a heading) that stops in mid-sentence."""
    return (len(s) >= 40 and s[-1] not in _SENT_END and any(c in s for c in "，,。")
            and not META_ROW.search(s) and not _HEADING_START.match(s))


def _joins(prev: tuple[str, tuple[str, int] | None], s: str, hint, wrap: int | None) -> bool:
    """Does line ``s`` continue the paragraph ``prev`` (split by a page break
    or a hard wrap)?"""
    p, phint = prev
    if not _continues(s, hint, short_ok=wrap is not None):
        return False
    if wrap is not None and p[-1] not in _SENT_END and _width(p) >= wrap - 3 and not META_ROW.search(p):
        return True  # a line filled to the wrap width (a wrapped heading too)
    return not phint and _ends_open(p)


def _continues(s: str, hint, short_ok: bool = False) -> bool:
    """A line that can be the second half of a split paragraph."""
    if hint or _HEADING_START.match(s) or META_ROW.search(s):
        return False
    return short_ok or len(s) >= 20 or (bool(s) and s[-1] in "。！？!?；;")


def _split_run_on(raw: str) -> str:
    """Text whose paragraphs lost their line breaks: one line holding most of
    the text and two or more numbered headings after sentence ends.  Breaks go
    back before each numbered heading and after a leading title."""
    longest = max(raw.split("\n"), key=len)
    if len(longest) < _RUNON_MIN or len(longest) < 0.6 * len(raw.strip()):
        return raw
    sh = shadow(longest)
    if len(_RUNON_TOP.findall(sh)) < 2:
        return raw
    cuts = [m.start() for m in _RUNON_SPLIT.finditer(sh)]
    m = _RUNON_TITLE.match(sh)
    if m and re.search("法治|依法行政", m.group(1)) and (not cuts or m.end(1) < cuts[0]):
        cuts.insert(0, m.end(1))
    if not cuts:
        return raw
    pieces, last = [], 0
    for c in cuts:
        if c > last:
            pieces.append(longest[last:c])
            last = c
    pieces.append(longest[last:])
    return raw.replace(longest, "\n".join(p.strip() for p in pieces), 1)


_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6]")


def _width(s: str) -> int:
    """Display width: a CJK character or full-width form counts 2 (as East Asian
    Width W/F does for the ranges these reports use)."""
    return len(s) + len(_WIDE.findall(s))


def _wrap_width(lines: list[tuple[str, tuple[str, int] | None]]) -> int | None:
    """The width a text was hard-wrapped at, if most of its lines stop at one
    width without ending a sentence (PDF text, converter markdown)."""
    body = [s for s, h in lines if s and not h]
    if len(body) < 8:
        return None
    widths = [_width(s) for s in body]
    open_ = Counter(w for s, w in zip(body, widths) if w >= 24 and s[-1] not in _SENT_END)
    if not open_:
        return None
    best, support = None, 0
    for w in open_:
        n = sum(open_.get(w - k, 0) for k in range(4))
        if n > support or (n == support and best is not None and w > best):
            best, support = w, n
    longer = sum(1 for w in widths if best is not None and w > best + 1)
    if support >= max(6, 0.3 * len(widths)) and longer <= 0.1 * len(widths):
        return best
    return None


def clean(raw: str) -> Cleaned:
    """Clean reader output; return the text and its non-empty lines."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    raw = _split_run_on(raw)
    trad = has_traditional(raw)
    cleaned = [r for r in (_clean_line(x, trad) for x in raw.split("\n")) if r is not None]
    wrap = _wrap_width(cleaned)
    out: list[tuple[str, tuple[str, int] | None]] = []
    pending_blank = False
    for s, hint in cleaned:
        if not s:
            pending_blank = True
            continue
        if out and _joins(out[-1], s, hint, wrap):
            prev, h = out[-1]
            out[-1] = (prev + s, h)  # page break or hard wrap inside a paragraph
            pending_blank = False
            continue
        if pending_blank and out and out[-1][0] != "":
            out.append(("", None))
        out.append((s, hint))
        pending_blank = False
    parts: list[str] = []
    lines: list[Line] = []
    pos = 0
    for s, hint in out:
        if s:
            lines.append(Line(pos, pos + len(s), hint))
        parts.append(s)
        pos += len(s) + 1
    text = "\n".join(parts)
    return Cleaned(text, lines)
