#!/usr/bin/env python3
"""Plant known defects in the dev reports and measure what ``fazhi check`` finds.

Defects planted, each in a fresh copy of a report:
  drop_part      remove one statutory part (heading and body)       -> part.<id>
  rate           change a stated rate that its counts verify         -> numeric.rate
  count_over     raise that rate's part count above its total        -> numeric.rate / part_over_total
  title_year     change the year in the title                        -> year.consistency
  late           move the publication/signing date past the deadline -> timeliness.deadline
  over_total     make a breakdown after 其中 exceed its total         -> numeric.breakdown

Also: the error-level findings on the unmutated reports, which a person
should be able to confirm one by one (excerpts are page excerpts: their missing
parts are real for the text as given).

    python bench/mutate.py [DIR]
"""
from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from fazhi.dates import find_dates
from fazhi.pipeline import analyze_text
from fazhi.quantities import find
from fazhi.textnorm import shadow

ROOT = Path(__file__).resolve().parents[1]


def _analyze(text: str, name: str):
    return analyze_text(text, name)


def drop_part(text, report):
    for p in report.parts:
        if p.part in ("achievements", "shortcomings", "leader_duty", "next_year"):
            yield f"drop {p.part}", text[:p.start] + text[p.end:], f"part.{p.part}"


_NOT_DERIVED = re.compile("满意|知晓|认可|好评")


def _verified_rates(report, sh, pairs=False):
    """Rates whose sentence holds two counts that give the rate (with the pair);
    a satisfaction rate is a survey's, not a ratio of the counts beside it."""
    qs = find(sh)
    for q in qs:
        if q.kind != "rate" or _NOT_DERIVED.search(sh, max(0, q.start - 8), q.start):
            continue
        s = max(sh.rfind(c, 0, q.start) for c in "。；;\n")
        s = max(sh.rfind(c, 0, s) for c in "。；;\n") if s > 0 else s
        counts = [x for x in qs if s < x.start < q.start and x.kind in ("count", "people") and not x.approx]
        pair = next(((a, b) for a in counts for b in counts if a is not b and b.value
                     and a.value <= b.value and abs(a.value / b.value * 100 - q.value) <= 0.6), None)
        if pair:
            yield (q, pair) if pairs else q


def rate(text, report):
    sh = shadow(text)
    for q in _verified_rates(report, sh):
        num = text[q.num_start:q.num_end]
        new = f"{max(q.value - 10, 1):g}" if q.value > 50 else f"{q.value + 10:g}"
        yield f"rate {num}%→{new}%", text[:q.num_start] + new + text[q.num_end:], "numeric.rate"


def count_over(text, report):
    """The part count of a verified rate raised above its total."""
    sh = shadow(text)
    for q, (a, b) in _verified_rates(report, sh, pairs=True):
        new = f"{b.value + 5:g}"
        yield (f"count {text[a.num_start:a.num_end]}→{new} (total {b.value:g})",
               text[:a.num_start] + new + text[a.num_end:], ("numeric.rate", "numeric.part_over_total"))


def title_year(text, report):
    t, y = report.meta.title, report.meta.year
    if not t or y is None or str(y) not in t:
        return
    i = text.find(t)
    j = text.find(str(y), i)
    if i < 0 or j < 0:
        return
    if f"{y}年" not in text[:i] + text[i + len(t):]:
        return  # nothing outside the title says which year it is: no rule can tell
    yield f"title year {y}→{y - 1}", text[:j] + str(y - 1) + text[j + 4:], "year.consistency"


def late(text, report):
    y = report.meta.year
    d = report.meta.published or report.meta.signed
    if y is None or not d:
        return
    new = f"{y + 1}-06-15"
    spans = [fd for fd in find_dates(shadow(text)) if fd.iso == d]
    if spans:
        out = text
        for fd in reversed(spans):  # every place the date is printed
            out = out[:fd.start] + new + out[fd.end:]
        yield f"date {d}→{new}", out, "timeliness.deadline"


_QIZHONG = re.compile(r"(\d+)\s*(起|件|宗|个|人|次|项)[^。；]{0,6}?[,，]\s*其中[^\d。；]{0,12}(\d+)\s*(起|件|宗|个|人|次|项)")


def over_total(text, report):
    for m in _QIZHONG.finditer(text):
        total = int(m.group(1))
        new = str(total + int(m.group(3)) + 5)
        yield (f"其中 {m.group(3)}→{new} (total {total})",
               text[:m.start(3)] + new + text[m.end(3):], "numeric.breakdown")


MUTATIONS = {"drop_part": drop_part, "rate": rate, "count_over": count_over, "title_year": title_year,
             "late": late, "over_total": over_total}


def run(directory: Path) -> dict:
    planted = Counter()
    found = Counter()
    missed: list[str] = []
    baseline_errors: dict[str, list[str]] = defaultdict(list)
    for f in sorted(directory.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        rep = _analyze(text, f.name)
        for x in rep.findings:
            if x.severity == "error":
                baseline_errors[f.stem].append(f"{x.rule}: {x.message}")
        for kind, fn in MUTATIONS.items():
            for label, mutated, expect in fn(rep.text, rep):
                planted[kind] += 1
                r2 = _analyze(mutated, f.name)
                expect = (expect,) if isinstance(expect, str) else expect
                if any(x.rule in expect for x in r2.findings):
                    found[kind] += 1
                else:
                    missed.append(f"{f.stem}: {label} (expected {expect})")
    return {"planted": planted, "found": found, "missed": missed, "baseline_errors": baseline_errors}


def main() -> int:
    d = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "dev"
    res = run(d)
    print(f"Mutation test over {d}")
    print(f"{'defect':<12} {'planted':>8} {'detected':>9}")
    for k in MUTATIONS:
        print(f"{k:<12} {res['planted'][k]:>8} {res['found'][k]:>9}")
    tp, tf = sum(res["planted"].values()), sum(res["found"].values())
    print(f"{'all':<12} {tp:>8} {tf:>9}   ({tf / tp:.1%} detected)" if tp else "nothing planted")
    for m in res["missed"]:
        print("  missed:", m)
    seeds = {k: v for k, v in res["baseline_errors"].items() if k.startswith("seed")}
    print(f"\nError-level findings on the unmutated whole reports (seeds): {sum(map(len, seeds.values()))}")
    for k, v in seeds.items():
        for x in v:
            print(f"  {k}: {x}")
    ex = {k: v for k, v in res["baseline_errors"].items() if not k.startswith("seed")}
    kinds = Counter(x.split(":")[0] for v in ex.values() for x in v)
    print(f"Error-level findings on the unmutated page excerpts: {sum(kinds.values())} "
          f"({', '.join(f'{k} {n}' for k, n in kinds.most_common())})")
    return 0 if not res["missed"] else 1


if __name__ == "__main__":
    sys.exit(main())
