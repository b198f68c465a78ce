"""Parts: which headings open which statutory part.

Rules follow ``annotation.md``; the vocabulary is data (``data/parts.yaml``).

1. **The statutory level.**  Parts live at one numbering level of the report's
   own outline, whatever sits above it: normally the top level (一、 / 第一部分 /
   unnumbered part headings such as 存在的问题), but a lone heading above all the
   others (an emphasised line the front matter left behind) does not hide the
   level below it.  The level is the shallowest one whose headings name parts.
2. **Each heading at that level** opens the part its words name; a topic chapter
   (一、依法全面履行政府职能) opens ``achievements``; after 存在的问题 or
   下一步打算, an unnamed chapter continues that part.
3. **Leading the work.**  A chapter whose heading is about leading (统筹推进,
   政治站位, 推进机制, 主体责任 …) and whose opening lines name the leaders'
   work (第一责任人, 领导小组, 常务会议 …) is ``leader_duty``; the next chapter then
   opens ``achievements``.
4. **Sub-sections** never open ``leader_duty``; inside an achievements chapter a
   short sub-heading 存在的不足和原因 / 下一步工作安排 opens its part.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .data import load_yaml
from .model import Part
from .outline import Heading
from .textnorm import tester

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_NEXT_WORDS = re.compile("下一|明年|来年|今后|下步")
# words of results: a heading with them reports what was done, whatever year it
# names ("一、2022年度…主要举措和成效" under a title that says 2021)
_RESULTS = re.compile("成效|成绩|成果|进展|亮点|情况|完成|取得")
CONTINUING = ("shortcomings", "next_year", "other")


@lru_cache(maxsize=1)
def _vocab():
    d = load_yaml("parts.yaml")
    pats = {p: re.compile("|".join(f"(?:{x})" for x in d["patterns"][p])) for p in d["order"]}
    # one pattern for "names any part at all": most headings are topics and stop here
    anyp = re.compile("|".join(f"(?:{x})" for p in d["order"] for x in d["patterns"][p]))
    subp = re.compile("|".join(f"(?:{x})" for p in d["sub_parts"] for x in d["patterns"][p]) + "|下一|明年|\\d{4}年")
    lead = d["leader"]
    lead_head = re.compile(lead["heading"])
    return {
        "order": d["order"], "pats": pats, "any": anyp, "sub_any": subp, "plan": re.compile(d["plan_words"]),
        "lead_head": lead_head, "lead_content": re.compile(lead["content"]),
        "window": int(lead["window"]), "sub_parts": tuple(d["sub_parts"]), "sub_max": int(d["sub_part_max"]),
        # the alternations of groups are tried at every position: tested first
        # (``textnorm.tester``), searched only where they match
        "tests": {p: tester(rx) for p, rx in pats.items()}, "any_test": tester(anyp),
        "sub_any_test": tester(subp), "lead_head_test": tester(lead_head),
    }


@lru_cache(maxsize=4096)
def explicit(heading: str, year: int | None) -> tuple[str | None, str]:
    """(part id, the words that decided it) for a heading title (label
    removed), from the vocabulary alone; (None, "") for a topic chapter."""
    v = _vocab()
    s = heading.strip()
    years = [int(y) for y in _YEAR.findall(s)]
    if years and year is not None and any(y > year for y in years) and not _RESULTS.search(s):
        m = v["plan"].search(s)
        if m:
            return "next_year", f"{max(years)}年{m.group()}"
    if not v["any_test"](s):
        return None, ""
    for part in v["order"]:
        m = v["pats"][part].search(s) if v["tests"][part](s) else None
        if not m:
            continue
        if part == "next_year" and year is not None and years and all(y <= year for y in years) \
                and not _NEXT_WORDS.search(s):
            continue  # "2022年工作安排" in a 2022 report is not a plan for next year
        return part, m.group() or s
    return None, ""


def classify(heading: str, year: int | None) -> str | None:
    """Part id for a heading title (label removed) by its words, or None."""
    return explicit(heading, year)[0]


def _leads(title: str, opening: str) -> tuple[str, str] | None:
    """(heading cue, content cue) when a chapter is about leading the work."""
    v = _vocab()
    mh = v["lead_head"].search(title) if v["lead_head_test"](title) else None
    if not mh:
        return None
    mc = v["lead_content"].search(opening)
    return (mh.group(), mc.group()) if mc else None


_SIGN_LINE = re.compile(r"^\s*(?:[\u4e00-\u9fff（）()·\s]{2,40}|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
                        r"|【请补充[:：][^】]{0,12}日期】"  # a draft's date still to fill in
                        r"|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
                        r"|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2})\s*$")
_DATE_END = re.compile(r"(日|\d|日期】)\s*$")
_CLOSING = re.compile(r"^\s*$|^\s*[(（]?\s*(此件|本件)|^\s*(联系人|联系电话|联\s*系\s*人|抄送|附件|抄报)\s*[:：]?")
_SIGN_PUNCT = re.compile(r"[，,。；;：:]")


def body_end(sh: str) -> int:
    """Where the closing signature block (issuer lines and a date) begins, or
    the text length: the last part ends there, not after the signature."""
    end = len(sh)
    lines = sh.rstrip().split("\n")
    pos = len(sh.rstrip())
    # standard closing lines under the signature (（此件公开发布）, 联系人, 抄送, 附件)
    while lines and _CLOSING.match(lines[-1]):
        pos -= len(lines.pop()) + 1
    k = 0
    saw_date = False
    for line in reversed(lines[-5:]):
        start = pos - len(line)
        if line.strip() and _SIGN_LINE.match(line) and (not _SIGN_PUNCT.search(line) or "【请补充" in line):
            k += 1
            saw_date = saw_date or bool(_DATE_END.search(line))
            end = start
            pos = start - 1
            continue
        break
    return end if saw_date and k <= 4 else len(sh)


def _title(sh: str, h: Heading) -> str:
    """The words of a heading that decide its part: its title, or the clause
    up to the first full stop when the title was cut short (run-on text glues
    a heading to its body; the cut title may have lost the deciding words)."""
    return sh[h.start + len(h.label):max(h.end, h.words_end)]


def statutory_level(heads: list[Heading], sh: str, year: int | None) -> int:
    """The outline level whose headings carry the report's statutory parts."""
    levels = sorted({h.level for h in heads})
    if not levels:
        return 1
    top = levels[0]

    def named(lvl: int) -> set:
        return {p for p in (classify(_title(sh, h), year) for h in heads if h.level == lvl) if p}

    if named(top):
        return top
    if sum(1 for h in heads if h.level == top) <= 2:
        for lvl in levels[1:3]:
            if len(named(lvl)) >= 2:
                return lvl
    return top


def find_parts(heads: list[Heading], sh: str, text_len: int, year: int | None,
               why: list | None = None) -> list[Part]:
    """Statutory parts in text order.  ``why``, when given, receives one
    (heading, part, reason) triple per heading that decided a part."""
    v = _vocab()
    level = statutory_level(heads, sh, year)
    top = [h for h in heads if h.level == level]
    if not top:
        return []
    last_end = max(body_end(sh), top[-1].end)
    runs: list[list] = []  # [part, heading, start, end]

    def open_run(part: str, h: Heading, start: int, end: int, reason: str) -> None:
        if why is not None:
            why.append((h.title, part, reason))
        if runs and runs[-1][0] == part:
            runs[-1][3] = end
        else:
            runs.append([part, h, start, end])

    # the sub-sections (level + 1) of each top heading, in one pass
    subs: list[list[Heading]] = [[] for _ in top]
    k = -1
    for h in heads:
        while k + 1 < len(top) and h.start >= top[k + 1].start:
            k += 1
        if k >= 0 and h.level == level + 1:
            subs[k].append(h)
    for i, h in enumerate(top):
        end = top[i + 1].start if i + 1 < len(top) else last_end
        title = _title(sh, h)
        part, words = explicit(title, year)
        if part is not None:
            reason = f"标题用语“{words}”"
        else:
            cue = _leads(title, sh[h.end:min(end, h.end + v["window"])])
            if cue:
                part, reason = "leader_duty", f"领导工作章节：标题“{cue[0]}”，开头写到“{cue[1]}”"
            elif runs and runs[-1][0] in CONTINUING:
                runs[-1][3] = end  # an unnamed chapter after 存在的问题 / 下一步 continues it
                continue
            else:
                part, reason = "achievements", "主题章节（归入主要举措和成效）"
        if part != "achievements":
            open_run(part, h, h.start, end, reason)
            continue
        # sub-sections of an achievements chapter that name a part of their own
        start, cur, cur_h, cur_reason = h.start, part, h, reason
        for c in subs[i]:
            if not (h.start < c.start < end):
                continue
            ct = _title(sh, c)
            if len(ct.strip()) > v["sub_max"] or not v["sub_any_test"](ct):
                continue
            cp, cw = explicit(ct, year)
            if cp in v["sub_parts"] and len(ct.strip()) <= v["sub_max"] and cp != cur:
                open_run(cur, cur_h, start, c.start, cur_reason)
                start, cur, cur_h, cur_reason = c.start, cp, c, f"二级标题用语“{cw}”"
        open_run(cur, cur_h, start, end, cur_reason)
    return [Part(part=p, heading=h.title, start=s, end=e) for p, h, s, e in runs]


def part_at(parts: list[Part], pos: int) -> str | None:
    for p in parts:
        if p.start <= pos < p.end:
            return p.part
    return None
