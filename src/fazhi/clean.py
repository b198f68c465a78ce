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
from .textnorm import TRAD_WINDOW, has_traditional, hints_and_wide, literal_needs, may_match, shadow

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
    # known to hold none of the characters ``textnorm.has_traditional`` looks for
    # (its shadow need not look again: ``shadow(text, False)``)
    no_traditional: bool = False
    # known to hold no character ``shadow`` folds (``textnorm.has_wide``): its shadow
    # need not look for them (``shadow(text, wide=False)``)
    no_wide: bool = False

    def line_text(self, ln: Line) -> str:
        return self.text[ln.start:ln.end]


@lru_cache(maxsize=1)
def _patterns():
    d = load_yaml("clean.yaml")
    drop = re.compile("|".join(f"(?:{p})" for p in d["drop_lines"]))
    inline = re.compile("|".join(f"(?:{p})" for p in d["inline"]))
    seg = d["spam_segment"]
    spam = re.compile(rf"(?<![A-Za-z\d]){seg}(?:_{seg})+")  # starts only where a token starts
    kw = tuple(d["spam_keywords"])
    heads = re.compile(r"[^，,。；;：:]{0,30}?(?:" + d["runon_heading_end"] + ")")
    runon_cut = re.compile(d["runon_line_starts"])
    return drop, inline, spam, kw, heads, runon_cut


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)(\*\*|__)\s*[:：]?\s*$")
_EMPH = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRAY_STARS = re.compile(r"(?<![\w*])\*{2,3}|\*{2,3}(?![\w*])")
# the hot patterns below start with a character class and check what precedes
# it by a lookbehind after it: the regex engine then skips to the candidates
# instead of trying a lookbehind at every position
_PINYIN = re.compile(
    rf"[(（](?<=[{CJK}].)\s*[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]*"
    r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ1-4][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*\s*[)）]"
)
# _PINYIN apart for each opening parenthesis: a pattern led by one character
# is searched by the fast scan for that character, one led by a class is not
_PINYIN_OPEN = {op: re.compile(re.escape(op) + _PINYIN.pattern[len("[(（]"):]) for op in "(（"}
assert _PINYIN.pattern.startswith("[(（]")


def _strip_pinyin(s: str) -> str:
    """``_PINYIN.sub("", s)``: the matches of each parenthesis's pattern together.
    A match holds no parenthesis but its first and last, so those of the two
    patterns never overlap, and together they are the alternation's matches."""
    spans = [m.span() for op, rx in _PINYIN_OPEN.items() if op in s for m in rx.finditer(s)]
    if not spans:
        return s
    spans.sort()
    out, pos = [], 0
    for a, b in spans:
        out.append(s[pos:a])
        pos = b
    out.append(s[pos:])
    return "".join(out)


_CJK_SPACE = re.compile(rf"[ \t\u3000\u00a0](?<=[{CJK}].)[ \t\u3000\u00a0]*(?=[{CJK}])")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # zero-width and control
_SENT_END = "。！？!?；;：:”」』）)】]…"
_HEADING_START = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[.．、](?!\d)|[①-⑳]"
    r"|第[一二三四五六七八九十]+[章节部分])"
)
# a line that is a whole title of the genre (it ends there, whatever its width)
_TITLE_LINE = re.compile(r"(法治|依法行政)[^，,。；;：:]{0,40}(报告|总结)$")
_DATE_LINE = re.compile(r"^\s*(?:(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日)\s*$")
_ENUM = re.compile(r"^\s*[一二三四五六七八九十]+是")
_DIGIT_SPACE = re.compile(r"[ \t\u3000\u00a0](?:(?<=\d.)[ \t\u3000\u00a0]*(?=[年月日号])"
                          r"|(?<=[年月].)[ \t\u3000\u00a0]*(?=\d))")
_ANY_SPACE = re.compile(rf"[ \t\u3000\u00a0](?:(?<=[{CJK}].)[ \t\u3000\u00a0]*(?=[{CJK}])"
                        r"|(?<=\d.)[ \t\u3000\u00a0]*(?=[年月日号])|(?<=[年月].)[ \t\u3000\u00a0]*(?=\d))")
# run-on text: a numbered heading inside a long line, after a sentence end
# (or a (一) label right after a heading's last word)
_RUNON_MIN = 300
_CN_ORD = "一二三四五六七八九十"
# a numbered top-level heading inside run-on text (一、 … 十九、 / 第一部分)
_RUNON_TOP = re.compile(rf"(?<![{_CN_ORD}第、])([{_CN_ORD}]{{1,3}})、|第([{_CN_ORD}]{{1,3}})部分")
_RUNON_AFTER_STOP = set("。；;！!？?：:”」』")
# lower headings: (一) after a sentence end or right after a heading's last word,
# 1. / 1、 after a sentence end
_RUNON_SUB = re.compile(
    rf"(?<=[。；;！!？?：:”」』])[ \t\u3000]*(?=[*#]*(?:[（(][{_CN_ORD}]{{1,3}}[）)]|\d{{1,2}}[、.．](?!\d)))"
    rf"|(?<=[\u4e00-\u9fff])(?=[*#]*[（(][{_CN_ORD}]{{1,3}}[）)])"
)
_RUNON_TITLE = re.compile(r"^\s*([^，,。；;：:\n]{4,80}?(?:报告|总结))(?!如下|[，,。；;：:])")


def _is_spam(m: re.Match, kw) -> bool:
    s = m.group(0)
    return any(k in s for k in kw)


# a page-metadata row: 发布时间：… / [ 索引号 ] … / 文    号 …
_META_ROW_HEAD = (
    r"^\s*[\[【]?\s*(?:来\s*源|发\s*布(?:时间|日期|机构|单位|者|于)|日\s*期|时\s*间|索\s*[引取]\s*号|文\s*号"
    r"|发文(?:字号|日期|时间|机关|单位|编号)|成文(?:日期|时间)|产生日期|作\s*者|点击(?:数|量|率)?|主题分类|体裁分类"
    r"|信息来源|生成日期|公开(?:日期|时间|方式|范围)|效力(?:状态)?|签发人)\s*[\]】]?\s*(?:[:：]|[ \t]|$)")
_META_ROW_ANY = r"(?:来源|日期|时间|作者|点击|发布机构|发布日期|发布时间|成文日期|索引号|文号)\s*[\]】]?\s*[:：]"
META_ROW = re.compile(_META_ROW_HEAD + "|" + _META_ROW_ANY)
# the two branches apart: the first is anchored (tried at the line start only),
# the second starts with its words (the engine skips to their first characters);
# one search of META_ROW tries the first branch at every position in vain
_META_HEAD_RE = re.compile(_META_ROW_HEAD)
_META_ANY_RE = re.compile(_META_ROW_ANY)


def is_meta_row(s: str) -> bool:
    """``bool(META_ROW.search(s))``, faster (the second branch ends with a colon:
    a line without one - most lines - is not searched)."""
    return _META_HEAD_RE.match(s) is not None or (
        (":" in s or "：" in s) and _META_ANY_RE.search(s) is not None)



@lru_cache(maxsize=1)
def _inline_each() -> tuple[re.Pattern, ...]:
    """The inline patterns one by one: each starts with its own words, which the
    regex engine skips to; their alternation it tries at every position."""
    return tuple(re.compile(p) for p in load_yaml("clean.yaml")["inline"])


@lru_cache(maxsize=1)
def _inline_needs():
    """A search for the strings one of which every inline chrome match holds
    (the patterns' ``literal_needs`` together, as one alternation of literals),
    or None when a pattern has none."""
    got: set[str] = set()
    for p in _inline_each():
        needs = literal_needs(p)
        if needs is None:
            return None
        got.update(needs)
    return re.compile("|".join(re.escape(w) for w in sorted(got, key=len, reverse=True))).search


@lru_cache(maxsize=1)
def _drop_needs():
    """A search for the strings one of which every match of a drop-line pattern
    holds (as ``_inline_needs``), or None when a pattern has none."""
    got: set[str] = set()
    for p in load_yaml("clean.yaml")["drop_lines"]:
        needs = literal_needs(re.compile(p))
        if needs is None:
            return None
        got.update(needs)
    return re.compile("|".join(re.escape(w) for w in sorted(got, key=len, reverse=True))).search


def _dropped(sh: str) -> bool:
    """``bool(drop.match(sh))``, faster: a line holding none of the words a drop
    pattern needs (three lines in four) is settled by one search for them."""
    needs = _drop_needs()
    if needs is not None and needs(sh) is None:
        return False
    return _patterns()[0].match(sh) is not None


def _has_inline(sh: str) -> bool:
    """``bool(inline.search(sh))``, faster: a line holding none of the words
    any pattern needs (most lines) is settled by one search for them."""
    needs = _inline_needs()
    if needs is not None and needs(sh) is None:
        return False
    return any(may_match(p, sh) and p.search(sh) for p in _inline_each())


def _clean_line(raw: str, trad: bool, chrome: bool = True) -> tuple[str, tuple[str, int] | None] | None:
    """One raw line -> (clean text, hint), or None to drop it.  ``chrome=False``:
    the caller knows that no line has inline chrome (see ``clean``)."""
    got = _line_start(raw, trad)
    if got is None:
        return ("", None)
    return _line_end(*got, trad, chrome)


def _line_start(raw: str, trad: bool, visible: bool = False,
                wide: bool | None = None) -> tuple[str, tuple[str, int] | None, str] | None:
    """Markdown marks off: (text, hint, shadow of the text when it is short), or
    None for an empty line.  ``visible``: the caller removed the invisible
    characters already; ``wide=False``: the text holds nothing to fold
    (``textnorm.has_wide``)."""
    s = (raw if visible else _INVISIBLE.sub("", raw)).strip()
    if not s:
        return None
    hint = None
    # each pattern needs its marks (#, ** or __): a line without them (most) is not tried
    m = _MD_HEADING.match(s) if "#" in s else None
    if m and m.group(2):
        hint = ("md", len(m.group(1)))
        s = m.group(2)
    m = _BOLD_LINE.match(s) if "**" in s or "__" in s else None
    if m:
        hint = hint or ("bold", 0)
        s = m.group(2).strip()
    if "*" in s or "__" in s:
        s = _EMPH.sub(r"\2", s)
        s = _STRAY_STARS.sub("", s)
    if s.startswith(">"):  # markdown quote
        s = s.lstrip("> ").strip()
    return s, hint, (shadow(s, trad, wide) if len(s) < 160 else s)


def _line_end(s: str, hint: tuple[str, int] | None, sh: str, trad: bool,
              chrome: bool, wide: bool | None = None) -> tuple[str, tuple[str, int] | None] | None:
    _, inline, spam, kw, _, _ = _patterns()
    if len(s) < 160:
        if chrome and _has_inline(sh):
            # remove inline chrome, computing spans on the shadow (same length)
            keep, pos = [], 0
            for im in inline.finditer(sh):
                keep.append(s[pos:im.start()])
                pos = im.end()
            keep.append(s[pos:])
            s = re.sub(r"\s{2,}", "  ", "".join(keep)).strip(" |｜")
            sh = shadow(s, trad, wide)
        if not s or _dropped(sh):
            return None
    if "_" in s:
        s = spam.sub(lambda m: "" if _is_spam(m, kw) else m.group(0), s)
    if "(" in s or "（" in s:
        s = _strip_pinyin(s)
    if " " in s or "\t" in s or "\u3000" in s or "\xa0" in s:
        # spaces between Chinese characters (a hard wrap) and between a number and
        # 年/月/日 (a PDF text layer); in header rows spaces separate label and value
        s = (_DIGIT_SPACE if is_meta_row(sh) else _ANY_SPACE).sub("", s)
    return (s.strip(), hint)


_SENT_INSIDE = re.compile("[。；;！!？?]")


def _ends_open(s: str) -> bool:
    """A body line (prose, not a header row) that stops in mid-sentence.  A
    numbered line is prose only when a sentence ends inside it ("（二）认真贯彻…。
    坚持…"); a numbered line without one is a heading and never continues."""
    return (len(s) >= 40 and s[-1] not in _SENT_END and any(c in s for c in "，,。")
            and not is_meta_row(s)
            and (not _HEADING_START.match(s) or _SENT_INSIDE.search(s) is not None))


def _joins(prev: tuple[str, tuple[str, int] | None], last: str, s: str, hint, wrap: int | None) -> bool:
    """Does line ``s`` continue the paragraph ``prev`` (split by a page break
    or a hard wrap)?  ``last`` is the last physical line of ``prev``."""
    p, phint = prev
    if wrap is not None and last and last[-1] not in _SENT_END and not hint \
            and not _HEADING_START.match(s) and not _ENUM.match(s) and not is_meta_row(s) \
            and not _DATE_LINE.match(s):
        # a line filled to the wrap width; a heading or a header row only when
        # it is really full (a short heading is no wrapped line)
        full = _HEADING_START.match(last) or is_meta_row(last)
        if _width(last) >= wrap - (1 if full else 3) and not (p == last and _TITLE_LINE.search(shadow(p))):
            return True
    return not phint and _ends_open(p) and _continues(s, hint)


def _continues(s: str, hint, short_ok: bool = False) -> bool:
    """A line that can be the second half of a split paragraph."""
    if hint or _HEADING_START.match(s) or is_meta_row(s):
        return False
    return short_ok or len(s) >= 20 or (bool(s) and s[-1] in "。！？!?；;")


def _split_run_on(raw: str) -> str:
    """Text whose paragraphs lost their line breaks (a template site's copy):
    one line holding most of the text with numbered headings inside it.  Breaks
    go back after a leading title and before each heading: a top-level label
    after a sentence end, or the next number of the sequence (二、 after 一、)
    wherever it stands; its title ends after a statutory heading phrase
    (主要举措和成效, 存在的不足和原因 …) that opens it."""
    longest = max(raw.split("\n"), key=len)
    whole = len(raw.strip())
    if len(longest) < _RUNON_MIN or len(longest) < 0.6 * whole:
        return raw
    sh = shadow(longest)
    from .dates import cn_small_int

    cuts: set[int] = set()
    m = _RUNON_TITLE.match(sh)
    title_end = m.end(1) if m and re.search("法治|依法行政", m.group(1)) else None
    if title_end:
        cuts.add(title_end)
    last = 0
    tops = []
    for m in _RUNON_TOP.finditer(sh):
        st = m.start()
        while st > 0 and sh[st - 1] in "*#_ ":  # markdown marks around a heading: "。**一、…**"
            st -= 1
        num = cn_small_int(m.group(1) or m.group(2))
        before = sh[:st].rstrip(" \t\u3000")
        after_stop = not before or before[-1] in _RUNON_AFTER_STOP or len(before) == title_end
        if after_stop and (num == 1 or num == last + 1) or last and num == last + 1:
            cuts.add(st)
            tops.append(m.end())
            last = num
    if len(tops) < (1 if len(longest) >= 0.9 * whole else 2):
        return raw
    for m in _RUNON_SUB.finditer(sh):
        cuts.add(m.start())
    pats = _patterns()
    for m in pats[5].finditer(sh):  # page fields and portal chrome glued in: lines of their own
        cuts.add(m.start())
    heads = pats[4]
    for t in tops:
        h = heads.match(sh, t)
        if h and h.end() - t <= 40 and h.end() < len(sh) and sh[h.end()] not in "，,。；;：:、":
            cuts.add(h.end())
    pieces, prev = [], 0
    for c in sorted(cuts):
        if c > prev:
            pieces.append(longest[prev:c])
            prev = c
    pieces.append(longest[prev:])
    return raw.replace(longest, "\n".join(p.strip() for p in pieces), 1)


_WIDE_RANGES = "\u1100-\u115f\u2e80-\u303e\u3041-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60\uffe0-\uffe6"
_WIDE = re.compile(f"[{_WIDE_RANGES}]")
# the runs of narrow characters: a line has few (digits, Latin), where a match
# per wide character costs a match object per character
_NARROW_RUN = re.compile(f"[^{_WIDE_RANGES}]+")


def _width(s: str) -> int:
    """Display width: a CJK character or full-width form counts 2 (as East Asian
    Width W/F does for the ranges these reports use)."""
    return 2 * len(s) - sum(map(len, _NARROW_RUN.findall(s)))


def _wrap_width(lines: list[tuple[str, tuple[str, int] | None]]) -> int | None:
    """The width a text was hard-wrapped at, if most of its lines stop at one
    width without ending a sentence (PDF text, converter markdown)."""
    body = [s for s, h in lines if s and not h]
    if len(body) < 8:
        return None
    # widths of the lines that stop without ending a sentence (the others say
    # nothing about a wrap); a line is never narrower than its length
    opened = [s for s in body if len(s) >= 12 and s[-1] not in _SENT_END]
    # a width's support (below) counts some of these lines: too few of them, no
    # wrap, and no width need be measured (most texts)
    if len(opened) < max(6, 0.3 * len(body)):
        return None
    open_ = Counter(w for w in map(_width, opened) if w >= 24)
    if not open_:
        return None
    best, support = None, 0
    for w in open_:
        n = sum(open_.get(w - k, 0) for k in range(4))
        if n > support or (n == support and best is not None and w > best):
            best, support = w, n
    if support < max(6, 0.3 * len(body)):
        return None
    # the lines wider than the wrap are counted only for a text that has one
    longer = sum(1 for s in body if len(s) > best + 2 or len(s) * 2 > best + 2 and _width(s) > best + 2)
    if longer > 0.1 * len(body):
        return None
    # the commonest width of the cluster: a line pushed past it by a closing
    # mark that may not start a line (避头尾) is no evidence against it
    return max(range(best - 3, best + 1), key=lambda w: (open_.get(w, 0), w))


def clean(raw: str) -> Cleaned:
    """Clean reader output; return the text and its non-empty lines."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    raw = _split_run_on(raw)
    hints, wide = hints_and_wide(raw)  # one scan for both (see ``textnorm.hints_and_wide``)
    trad = has_traditional(raw, hints)
    # the invisible characters (never a line break) go before the lines are read;
    # a line that ``str.isprintable`` passes has none (they are all unprintable:
    # categories Cc and Cf), and that test is far faster than the pattern's scan
    sub = _INVISIBLE.sub
    # the characters to fold looked for once: a text without any (most) has none in a line
    wide = None if wide else False
    starts = [_line_start(x if x.isprintable() else sub("", x), trad, True, wide) for x in raw.split("\n")]
    # inline chrome (字号, 打印 …) is looked for in the short lines all at once:
    # joined, they match wherever one of them does (most texts have none)
    chrome = _has_inline("\n".join(t[2] for t in starts if t is not None and len(t[0]) < 160))
    cleaned = [r for r in (_line_end(*t, trad, chrome, wide) if t is not None else ("", None) for t in starts)
               if r is not None]
    wrap = _wrap_width(cleaned)
    out: list[tuple[str, tuple[str, int] | None]] = []
    pending_blank = False
    last = ""  # the last physical line of out[-1] (its width decides a hard wrap)
    for s, hint in cleaned:
        if not s:
            pending_blank = True
            continue
        if out and _joins(out[-1], last, s, hint, wrap):
            prev, h = out[-1]
            out[-1] = (prev + s, h)  # page break or hard wrap inside a paragraph
            last = s
            pending_blank = False
            continue
        last = s
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
    # every character of the text is one of the raw text's (or a space or a line
    # break): a raw text read whole without a traditional hint gives a text without
    # one, a raw text without a character to fold a text without one
    return Cleaned(text, lines, no_traditional=hints == 0 and len(raw) <= TRAD_WINDOW, no_wide=wide is False)
