#!/usr/bin/env python3
"""Wall time of one ``fazhi analyze one.txt`` (start-up included), as a user runs it.

Runs, interleaved in rounds so that a slow spell of a shared machine hits all of them:
``python -c pass`` (the interpreter's own start-up), ``fazhi analyze FILE`` with the
pattern cache off (``FAZHI_RE_CACHE=0``) and on (warm: the cache file written by an
earlier run).  Byte code is written as usual (``PYTHONDONTWRITEBYTECODE`` is removed
from the environment: an installed package has its ``.pyc`` files).  Prints the median
and best of each.

    python bench/bench_cli.py [--runs 15] [FILE]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=str(ROOT / "examples" / "seed-004.txt"))
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as cache:
        env["FAZHI_CACHE_DIR"] = cache
        fazhi = [sys.executable, "-m", "fazhi.cli", "analyze", a.file]
        runs = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "fazhi analyze, pattern cache off": (fazhi, dict(env, FAZHI_RE_CACHE="0")),
            "fazhi analyze, pattern cache warm": (fazhi, env),
        }
        for cmd, e in runs.values():      # byte code and the cache file written once
            timed(cmd, e)
        times: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(a.runs):
            for k, (cmd, e) in runs.items():
                times[k].append(timed(cmd, e))
    print(f"fazhi analyze {Path(a.file).name}: wall time over {a.runs} interleaved runs")
    for k, ts in times.items():
        print(f"  {k:36s} median {statistics.median(ts):.3f} s   best {min(ts):.3f} s")


if __name__ == "__main__":
    main()
