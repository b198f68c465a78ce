#!/usr/bin/env python3
"""Benchmark the end-of-batch refresh (``derived.refresh(full=True)``) on an existing database.

What ``fazhi corpus add`` runs after a batch: the stored copy shares brought up to date (the
whole-corpus ``similarity.analyse`` when nothing is stored yet, or when the batch was >= 10 % of
the corpus) and the follow-through of every (N, N+1) pair.  Prints what was done, wall and CPU
time, and the peak memory of the process (``ru_maxrss``, and the RSS sampled every 0.05 s).

The refresh **writes** the stored results into the database, so run it on a copy, and a fresh
copy for each run (a second run finds the results current and does nothing):

    python bench/bench_corpus.py --n 200000 --engine local --db-dir /tmp/big   # once
    cp /tmp/big/fazhi-bench-local.db /tmp/big/r.db && python bench/bench_refresh.py /tmp/big/r.db

To compare two versions, run each on its own fresh copy, one after the other, the old one with
``PYTHONPATH=<git archive of the old tree>/src``; compare the stored tables afterwards, e.g.
``sqlite3 r.db "select * from copy_shares order by report_id" | sha256sum``.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path


def _rss_mb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", help="SQLite file (a copy: it is written) or a database URL")
    a = ap.parse_args()
    from fazhi.corpus import db as dbm, derived

    url = a.db if "://" in a.db else f"sqlite:///{Path(a.db).resolve()}"
    if "://" not in a.db and not Path(a.db).is_file():
        sys.exit(f"no such database file: {a.db}")
    peak = [0]
    halt = threading.Event()

    def sample() -> None:
        while not halt.is_set():
            peak[0] = max(peak[0], _rss_mb())
            halt.wait(0.05)
    threading.Thread(target=sample, daemon=True).start()
    eng = dbm.connect(url)
    t0, c0 = time.perf_counter(), time.process_time()
    got = derived.refresh(eng, full=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    halt.set()
    print(f"refresh: copies {got['copies']}, follow-through pairs {got['follow']:,}")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10:,} MB "
          f"(maxrss), {max(peak[0], _rss_mb()):,} MB (sampled)")


if __name__ == "__main__":
    main()
