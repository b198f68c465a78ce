#!/usr/bin/env python3
"""Benchmark ``fazhi corpus add``: N synthetic reports into a fresh SQLite database.

Generates (or reuses) a corpus of N reports with bench/gen_corpus.py under /tmp,
then runs ``fazhi.corpus.batch.add`` with the local engine (a process pool) and,
for comparison, with the Dask engine on a LocalCluster (``--dask-n`` reports,
default N).  Each run is a separate process, so its memory figures are its own:

- reports/second and elapsed time of ``add`` (hashing, analysis, insertion, commits);
- peak memory: max RSS of the main process (``getrusage(RUSAGE_SELF)``), of the
  largest worker (``RUSAGE_CHILDREN``), and the peak of the whole process tree
  (main + workers, sampled from /proc every 0.5 s);
- the writer's own time (inserting and committing, ``AddStats.write_seconds``) per report,
  and the CPU time per report of the main process and of the workers;
- database size (file + WAL) and the number of rows.

    python bench/bench_corpus.py [--n 100000] [--dask-n 10000] [--workers 2] [--engine both|local|dask]

Target on a 2-core machine: 100,000 reports in <= 10 minutes, < 1 GB peak.
The synthetic reports are for speed only, never for accuracy.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_corpus  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ memory of a process tree
def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, rss bytes) for every process we can read."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read().decode("ascii", "replace")
            rest = s[s.rfind(")") + 2:].split()
            out[int(d)] = (int(rest[1]), int(rest[21]) * PAGE)
        except (OSError, ValueError, IndexError):
            pass
    return out


def tree_rss(root: int) -> tuple[int, int]:
    """(sum of RSS over root and its descendants, number of processes)."""
    t = _proc_table()
    kids: dict[int, list[int]] = {}
    for pid, (pp, _) in t.items():
        kids.setdefault(pp, []).append(pid)
    total = n = 0
    stack = [root]
    while stack:
        p = stack.pop()
        if p in t:
            total += t[p][1]
            n += 1
        stack.extend(kids.get(p, ()))
    return total, n


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = self.peak_n = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            rss, n = tree_rss(self.pid)
            if rss > self.peak:
                self.peak, self.peak_n = rss, n
            self.halt.wait(self.every)


# ------------------------------------------------------------------ one run (in its own process)
def corpus_paths(corpus: Path, n: int):
    shards = sorted(p for p in corpus.iterdir() if p.is_dir())
    if n % gen_corpus.SHARD == 0 and len(shards) * gen_corpus.SHARD >= n:
        return [str(p) for p in shards[: n // gen_corpus.SHARD]]
    files = []
    for s in shards:
        files.extend(sorted(str(f) for f in s.glob("*.txt")))
        if len(files) >= n:
            break
    return files[:n]


def run_one(a) -> None:
    import resource

    from fazhi.corpus import batch

    db = Path(a.db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    paths = corpus_paths(Path(a.corpus), a.run_n)
    t0 = time.perf_counter()
    st = batch.add(paths, str(db), workers=a.workers, engine=a.run, commit_every=a.commit_every,
                   progress=False)
    elapsed = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    con = sqlite3.connect(db)
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("reports", "failures", "facts", "findings", "paragraphs")}
    con.close()
    size = sum(os.path.getsize(str(db) + s) for s in ("", "-wal") if os.path.exists(str(db) + s))
    print(json.dumps({
        "engine": a.run, "n": a.run_n, "workers": a.workers, "added": st.added, "skipped": st.skipped,
        "failed": st.failed, "seconds": elapsed, "rate": st.added / elapsed if elapsed else 0,
        "writer_s": getattr(st, "write_seconds", None), "writer_cpu_s": getattr(st, "write_cpu_seconds", None),
        "main_maxrss_mb": me.ru_maxrss / 1024, "children_maxrss_mb": ch.ru_maxrss / 1024,
        "cpu_main_s": me.ru_utime + me.ru_stime, "cpu_children_s": ch.ru_utime + ch.ru_stime,
        "db_bytes": size, "rows": rows,
    }), flush=True)


def launch(a, engine: str, n: int) -> dict:
    db = Path(a.db_dir) / f"fazhi-bench-{engine}.db"
    cmd = [sys.executable, __file__, "--run", engine, "--run-n", str(n), "--corpus", a.corpus, "--db", str(db),
           "--workers", str(a.workers), "--commit-every", str(a.commit_every)]
    print(f"\n== {engine}: {n:,} reports, {a.workers} workers -> {db}", flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(p.pid)
    sampler.start()
    t0 = time.time()
    while p.poll() is None:
        time.sleep(1)
        if time.time() - t0 >= a.report_every:
            t0 = time.time()
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                k = con.execute("SELECT count(*) FROM reports").fetchone()[0]
                con.close()
            except sqlite3.Error:
                k = "?"
            print(f"   {time.strftime('%H:%M:%S')}  {k} reports stored, tree RSS peak so far "
                  f"{sampler.peak / 2**20:.0f} MB", flush=True)
    sampler.halt.set()
    sampler.join()
    out = p.stdout.read().strip().splitlines()
    if p.returncode != 0 or not out:
        raise SystemExit(f"{engine} run failed (exit {p.returncode})")
    r = json.loads(out[-1])
    r["tree_peak_mb"] = sampler.peak / 2**20
    r["tree_peak_procs"] = sampler.peak_n
    return r


def show(r: dict) -> None:
    m, s = divmod(r["seconds"], 60)
    print(f"   engine {r['engine']}: {r['added']:,} added / {r['n']:,} files, {r['failed']} failed")
    print(f"   elapsed {int(m)} min {s:.1f} s  ->  {r['rate']:.1f} reports/s")
    print(f"   peak memory: main {r['main_maxrss_mb']:.0f} MB, largest worker {r['children_maxrss_mb']:.0f} MB, "
          f"whole tree {r['tree_peak_mb']:.0f} MB ({r['tree_peak_procs']} processes)")
    n = max(1, r["added"])
    print(f"   CPU: main {r['cpu_main_s']:.0f} s, workers {r['cpu_children_s']:.0f} s "
          f"({r['cpu_main_s'] / n * 1000:.2f} + {r['cpu_children_s'] / n * 1000:.2f} ms per report)")
    if r.get("writer_s") is not None:
        print(f"   writer (insert + commit): {r['writer_s']:.0f} s wall = {r['writer_s'] / n * 1000:.2f} ms per report, "
              f"CPU {r['writer_cpu_s'] / n * 1000:.2f} ms per report")
    print(f"   database {r['db_bytes'] / 2**20:.0f} MB ({r['db_bytes'] / max(1, r['rows']['reports']) / 1024:.1f} KB "
          f"per report); rows: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="reports for the local engine")
    ap.add_argument("--dask-n", type=int, default=None, help="reports for the Dask engine (default: --n)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=["both", "local", "dask"], default="both")
    ap.add_argument("--corpus", default="/tmp/fazhi-bench-corpus")
    ap.add_argument("--db-dir", default="/tmp")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--commit-every", type=int, default=200)
    ap.add_argument("--report-every", type=float, default=30.0, help="print progress every S seconds")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    # internal: one measured run in a child process
    ap.add_argument("--run", choices=["local", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--run-n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run:
        run_one(a)
        return
    dask_n = a.dask_n or a.n
    need = max(a.n if a.engine != "dask" else 0, dask_n if a.engine != "local" else 0)
    corpus = Path(a.corpus)
    have = gen_corpus.existing(corpus)
    if have and have.get("n", 0) >= need and have.get("seed") == a.seed:
        print(f"reusing {have['n']:,} synthetic reports in {corpus}")
    else:
        print(f"generating {need:,} synthetic reports in {corpus} …", flush=True)
        gen_corpus.generate(corpus, need, seed=a.seed)
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    results = []
    if a.engine in ("both", "local"):
        results.append(launch(a, "local", a.n))
        show(results[-1])
    if a.engine in ("both", "dask"):
        results.append(launch(a, "dask", dask_n))
        show(results[-1])
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
