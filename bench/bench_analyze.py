#!/usr/bin/env python3
"""Time ``analyze`` on the dev corpus repeated to >= 2,000 reports, in one process.

Prints reports per second and the median time per report, for all dev files and
for the three whole seed reports (~10 KB each), beside a baseline measured in
the same run: reading the same files and running one compiled regex over them.
Figures are ratios to that baseline so that they compare across machines; the
baseline and the analysis alternate in ten rounds and the ratio is the median
of the rounds' ratios (steadier on a machine shared with other work).

    python bench/bench_analyze.py [--n 2000] [--dir tests/data/dev]
"""
from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from fazhi.pipeline import analyze_bytes

ROOT = Path(__file__).resolve().parents[1]
BASELINE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿)?\s*(件|宗|起|人次|人|次|场|份|个|项|%)")


def run(files: list[Path], n: int, rounds: int = 10) -> dict:
    blobs = [(f.name, f.read_bytes()) for f in files]
    order = [blobs[i % len(blobs)] for i in range(n)]
    # warm-up: imports, data files, compiled patterns (one pass over each distinct file)
    for name, data in blobs:
        analyze_bytes(data, name)

    # the baseline (read the same files, decode, one compiled regex) and the
    # analysis alternate in rounds: on a shared machine a slow spell then hits
    # both sides of a round's ratio, and the median round ratio is the steady figure
    per: list[float] = []
    base = total = 0.0
    ratios: list[float] = []
    hits = 0
    chunk = max(1, n // rounds)
    done = 0
    while done < n:
        idx = range(done, min(n, done + chunk))
        t0 = time.perf_counter()
        for i in idx:
            f = files[i % len(files)]
            hits += sum(1 for _ in BASELINE_RE.finditer(f.read_bytes().decode("utf-8")))
        b = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in idx:
            f = files[i % len(files)]
            t = time.perf_counter()
            analyze_bytes(f.read_bytes(), f.name)
            per.append(time.perf_counter() - t)
        a = time.perf_counter() - t0
        base += b
        total += a
        ratios.append(a / b)
        done += len(idx)
    chars = sum(len(d.decode("utf-8", "replace")) for _, d in order)
    return {"n": n, "total": total, "rate": n / total, "median_ms": statistics.median(per) * 1000,
            "p95_ms": sorted(per)[int(0.95 * len(per)) - 1] * 1000, "base": base,
            "base_rate": n / base, "ratio": statistics.median(ratios), "kchars": chars / n / 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--dir", default=str(ROOT / "tests" / "data" / "dev"))
    a = ap.parse_args()
    d = Path(a.dir)
    sets = {"all dev files": sorted(d.glob("*.txt")), "whole seed reports": sorted(d.glob("seed-*.txt"))}
    print(f"fazhi analyze benchmark, one process, {a.n} reports per set")
    for label, files in sets.items():
        if not files:
            continue
        r = run(files, a.n)
        print(f"\n[{label}] {len(files)} files, mean {r['kchars']:.1f} K chars per report")
        print(f"  analyze : {r['rate']:8.1f} reports/s   median {r['median_ms']:.2f} ms   p95 {r['p95_ms']:.2f} ms")
        print(f"  baseline: {r['base_rate']:8.1f} reports/s   (read + decode + one compiled regex)")
        print(f"  analyze takes {r['ratio']:.1f}x the baseline's time (median of the rounds' ratios)")


if __name__ == "__main__":
    main()
