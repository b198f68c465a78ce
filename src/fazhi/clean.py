"""Clean: markdown-ish reader output -> the analysable ``text`` and its lines.

What it does, line by line:
- removes portal chrome (breadcrumbs, 字号/打印/分享到, footers, ICP lines) and
  spam strings injected by mirror sites (patterns in ``data/clean.yaml``);
- strips markdown marks (``#`` headings, ``**bold**``, emphasis) and keeps them
  as heading hints for the outline;
- removes pinyin glosses inserted after characters (``建設(shè)``);
- removes spaces a hard wrap inserted between two Chinese characters;
- re-joins a paragraph that a page break split (``法治政府建\\n\\n设…``).

The result's ``text`` is what every offset of the analysis refers to.
"""
from __future__ import annotations

import re
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
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、](?!\d)|[①-⑳]|第[一二三四五六七八九十]+[章节部分])"
)


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
    if (" " in s or "\t" in s or "\u3000" in s or "\xa0" in s) and not META_ROW.search(sh):
        s = _CJK_SPACE.sub("", s)  # (in header rows spaces separate label and value)
    return (s.strip(), hint)


def _ends_open(s: str) -> bool:
    """A body line (prose, not a header row) that stops in mid-sentence."""
    return (len(s) >= 40 and s[-1] not in _SENT_END and any(c in s for c in "，,。")
            and not META_ROW.search(s))


def _continues(s: str, hint) -> bool:
    """A line that can be the second half of a split paragraph."""
    if hint or _HEADING_START.match(s) or META_ROW.search(s):
        return False
    return len(s) >= 20 or (bool(s) and s[-1] in "。！？!?；;")


def clean(raw: str) -> Cleaned:
    """Clean reader output; return the text and its non-empty lines."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    out: list[tuple[str, tuple[str, int] | None]] = []
    pending_blank = False
    trad = has_traditional(raw)
    for rawline in raw.split("\n"):
        r = _clean_line(rawline, trad)
        if r is None:
            continue
        s, hint = r
        if not s:
            pending_blank = True
            continue
        if out and _ends_open(out[-1][0]) and not out[-1][1] and _continues(s, hint):
            prev, h = out[-1]
            out[-1] = (prev + s, h)  # page break inside a paragraph
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
