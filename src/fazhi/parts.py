"""Parts: which top-level headings open which statutory part.

Rules follow ``annotation.md``: a part is opened by a top-level heading of its
own (vocabulary in ``data/parts.yaml``); in a report organised by topic chapters
(一、依法全面履行政府职能 …) the first unclassified chapter opens
``achievements``; a top-level section on the Party's leadership or the
principal leaders' duty is ``leader_duty``; sub-sections never open a part.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .data import load_yaml
from .model import Part
from .outline import Heading

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


@lru_cache(maxsize=1)
def _vocab():
    d = load_yaml("parts.yaml")
    pats = {p: re.compile("|".join(f"(?:{x})" for x in d["patterns"][p])) for p in d["order"]}
    return d["order"], pats, re.compile(d["plan_words"])


def classify(heading: str, year: int | None) -> str | None:
    """Part id for a top-level heading title (label removed), or None."""
    order, pats, plan = _vocab()
    s = heading.strip()
    years = [int(y) for y in _YEAR.findall(s)]
    if years and plan.search(s):
        if year is not None and any(y > year for y in years):
            return "next_year"
    for part in order:
        if pats[part].search(s):
            if part == "next_year" and year is not None and years and all(y <= year for y in years) \
                    and not re.search("下一|明年|来年|今后|下步", s):
                continue  # "2022年工作安排" in a 2022 report is not a plan for next year
            return part
    return None


_SIGN_LINE = re.compile(r"^\s*(?:[\u4e00-\u9fff（）()·\s]{2,40}|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
                        r"|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
                        r"|(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2})\s*$")
_DATE_END = re.compile(r"(日|\d)\s*$")


def body_end(sh: str) -> int:
    """Where the closing signature block (issuer lines and a date) begins, or
    the text length: the last part ends there, not after the signature."""
    end = len(sh)
    lines = sh.rstrip().split("\n")
    pos = len(sh.rstrip())
    k = 0
    saw_date = False
    for line in reversed(lines[-5:]):
        start = pos - len(line)
        if line.strip() and _SIGN_LINE.match(line) and not re.search(r"[，,。；;：:]", line):
            k += 1
            saw_date = saw_date or bool(_DATE_END.search(line))
            end = start
            pos = start - 1
            continue
        break
    return end if saw_date and k <= 4 else len(sh)


def find_parts(heads: list[Heading], sh: str, text_len: int, year: int | None) -> list[Part]:
    top = [h for h in heads if h.level == 1]
    if not top:
        return []
    runs: list[list] = []  # [part, first heading, start, end]
    for i, h in enumerate(top):
        title = sh[h.start + len(h.label):h.end]
        part = classify(title, year)
        if part is None:
            part = "achievements"  # a topic chapter
        end = top[i + 1].start if i + 1 < len(top) else max(body_end(sh), h.end)
        if runs and runs[-1][0] == part:
            runs[-1][3] = end
        else:
            runs.append([part, h, h.start, end])
    return [Part(part=p, heading=h.title, start=s, end=e) for p, h, s, e in runs]


def part_at(parts: list[Part], pos: int) -> str | None:
    for p in parts:
        if p.start <= pos < p.end:
            return p.part
    return None
