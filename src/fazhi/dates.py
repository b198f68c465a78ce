"""Dates and years in every form the reports use.

2023-03-13, 2023/3/13, 2023.03.13, 2023年3月13日, 2023 年 3 月 13 日,
二〇二三年三月十三日, 二○二三年三月十三日 (with ○ or 〇 or 零), optionally
followed by a time (12:21, 12:21:05).  ``find_dates`` runs on the shadow text.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "０": 0,
             "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_YEAR_DIGITS = "〇○零Ｏ一二三四五六七八九"
_CN_YEAR = f"[{_CN_YEAR_DIGITS}]{{4}}"
_CN_SMALL = "[一二三四五六七八九十]{1,3}"

DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?:(?!\d)|(?=\d{1,2}:\d{2}))"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号])"
    rf"|(?P<cy>{_CN_YEAR})年(?P<cm>{_CN_SMALL})月(?P<cd>{_CN_SMALL})[日号]"
)
# DATE_RE's two forms apart, each written so that the regex engine can skip to
# its candidates instead of trying the pattern at every position of a report:
# the numeric one starts with its first digit (the lookbehind after it), the
# Chinese one is matched only where a 年 stands four characters on.  A match of
# one form never starts inside a match of the other (their characters differ),
# so the two lists merged in order are DATE_RE's matches.
_NUM_DATE_REST = (
    r"\s*(?:(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?:(?!\d)|(?=\d{1,2}:\d{2}))"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号])"
)
_DATE_CENTURIES = (r"1(?<!\d1)9", r"2(?<!\d2)0")
_NUM_DATE = re.compile(rf"(?P<y>(?:{'|'.join(_DATE_CENTURIES)})\d{{2}}){_NUM_DATE_REST}")


def _by_century(centuries: tuple[str, ...], rest: str) -> tuple[re.Pattern, ...]:
    """A numeric year pattern ``(?P<y>(?:C1|C2)\\d{2})REST`` as one pattern per
    century C: each starts with its literal digit, which the regex engine scans
    for many times faster than for the class [12].  Their matches together, in
    order of start, are the joint pattern's: a match holds no other four-digit run
    that no digit precedes, so none starts inside another."""
    return tuple(re.compile(rf"(?P<y>{c}\d{{2}}){rest}") for c in centuries)


_NUM_DATES = _by_century(_DATE_CENTURIES, _NUM_DATE_REST)
_CN_DATE = re.compile(rf"(?P<cy>{_CN_YEAR})年(?P<cm>{_CN_SMALL})月(?P<cd>{_CN_SMALL})[日号]")
TIME_RE = re.compile(r"\s*\d{1,2}:\d{2}(?::\d{2})?")  # also glued to the date, as OCR gives it
YEAR_RE = re.compile(rf"(?<![\d\-/.])(?P<y>(?:19|20)\d{{2}})\s*年|(?P<cy>{_CN_YEAR})年")


@dataclass
class FoundDate:
    date: _dt.date
    start: int
    end: int

    @property
    def iso(self) -> str:
        return self.date.isoformat()


def cn_small_int(s: str) -> int:
    """一..九十九 (month/day numerals) -> int."""
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_DIGIT.get(a, 1) if a else 1) * 10 + (_CN_DIGIT.get(b, 0) if b else 0)
    return int("".join(str(_CN_DIGIT[c]) for c in s))


def cn_year(s: str) -> int:
    return int("".join(str(_CN_DIGIT[c]) for c in s))


def _make(y: int, m: int, d: int) -> _dt.date | None:
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


_CN_YEAR_END = re.compile(f"年(?<=[{_CN_YEAR_DIGITS}]年)")


def _matches(s: str, numeric: tuple[re.Pattern, ...], chinese: re.Pattern) -> list[re.Match]:
    """The matches of the ``numeric`` patterns (``_by_century``) and of ``chinese``
    (a pattern of four Chinese year digits then 年, tried only 4 characters before
    each 年), in order of start."""
    out: list[re.Match] = []
    for rx in numeric:
        out += rx.finditer(s)
    if len(numeric) > 1:
        out.sort(key=lambda m: m.start())
    cn = []
    # each 年 with a Chinese year digit right before it (most 年 follow 2022): one
    # scan for 年 that checks the digit itself, no Python step per 年
    search = _CN_YEAR_END.search
    e = search(s, 4)
    while e is not None:
        k = e.start()
        m = chinese.match(s, k - 4)
        if m is not None:
            cn.append(m)
        e = search(s, m.end() if m is not None else k + 1)
    if cn:
        out = sorted(out + cn, key=lambda m: m.start())
    return out


def _date_matches(s: str) -> list[re.Match]:
    """``DATE_RE.finditer(s)``, found faster (see ``_NUM_DATE``)."""
    return _matches(s, _NUM_DATES, _CN_DATE)


def find_dates(s: str, with_time: bool = True) -> list[FoundDate]:
    out = []
    for m in _date_matches(s):
        g = m.groupdict()
        try:
            if g.get("cy"):
                d = _make(cn_year(g["cy"]), cn_small_int(g["cm"]), cn_small_int(g["cd"]))
            else:
                mm = g["m"] or g["m2"]
                dd = g["d"] or g["d2"]
                d = _make(int(g["y"]), int(mm), int(dd))
        except (KeyError, ValueError):
            d = None
        if d is None or not (1949 <= d.year <= 2100):
            continue
        end = m.end()
        if with_time:
            t = TIME_RE.match(s, end)
            if t:
                end = t.end()
        out.append(FoundDate(d, m.start(), end))
    return out


def parse_date(s: str) -> str | None:
    """The first date in ``s`` as ISO ``YYYY-MM-DD``, or None."""
    found = find_dates(s)
    return found[0].iso if found else None


# YEAR_RE's two forms apart, as for the dates (see ``_NUM_DATE``)
_YEAR_CENTURIES = (r"1(?<![\d\-/.]1)9", r"2(?<![\d\-/.]2)0")
_NUM_YEAR = re.compile(rf"(?P<y>(?:{'|'.join(_YEAR_CENTURIES)})\d{{2}})\s*年")
_NUM_YEARS = _by_century(_YEAR_CENTURIES, r"\s*年")
_CN_YEAR_RE = re.compile(rf"(?P<cy>{_CN_YEAR})年")


def _year_matches(s: str) -> list[re.Match]:
    """``YEAR_RE.finditer(s)``, found faster."""
    return _matches(s, _NUM_YEARS, _CN_YEAR_RE)


def find_years(s: str) -> list[tuple[int, int, int]]:
    """(year, start, end) for every "2022年" / "二〇二二年" mention."""
    out = []
    for m in _year_matches(s):
        g = m.groupdict()
        y = int(g["y"]) if g.get("y") else cn_year(g["cy"])
        if 1949 <= y <= 2100:
            out.append((y, m.start(), m.end()))
    return out
