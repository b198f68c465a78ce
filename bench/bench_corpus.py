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

With ``--pg postgresql://user@host/db`` the runs write to that PostgreSQL database instead
(it must hold no reports: a fresh ``createdb``; one engine per run), and the figures add
``pg_database_size`` and the largest tables with their indexes (``pg_total_relation_size``).
``--refresh`` then times what ``fazhi corpus add`` does at the end of such a batch — the
stored copy shares and follow-through brought up to date (``derived.refresh``, the whole
corpus) — with its own peak memory.

    python bench/bench_corpus.py [--n 100000] [--dask-n 10000] [--workers 2] [--engine both|local|dask]
    python bench/bench_corpus.py --n 200000 --engine dask --pg postgresql://postgres@127.0.0.1/fazhi --refresh

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


ROW_TABLES = ("reports", "failures", "facts", "findings", "paragraphs")


def is_pg(db: str) -> bool:
    from fazhi.corpus.db import sqlite_path

    return sqlite_path(db) is None


def pg_reports(url: str) -> int | None:
    """Reports stored so far in a PostgreSQL database (None before the schema exists)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as con:
        if con.execute("SELECT to_regclass('reports')").fetchone()[0] is None:
            return None
        return con.execute("SELECT count(*) FROM reports").fetchone()[0]


def pg_sizes(url: str) -> tuple[int, dict[str, int]]:
    """(pg_database_size, the ten largest tables with their indexes and TOAST)."""
    import psycopg

    with psycopg.connect(url) as con:
        size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = dict(con.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
            "ORDER BY 2 DESC LIMIT 10").fetchall())
    return size, tables


def run_one(a) -> None:
    import resource

    from fazhi.corpus import batch

    db = a.db
    if is_pg(db):
        if pg_reports(db):
            raise SystemExit(f"{db} already holds reports: give --pg a fresh database (createdb)")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    paths = corpus_paths(Path(a.corpus), a.run_n)
    t0 = time.perf_counter()
    st = batch.add(paths, db, workers=a.workers, engine=a.run, commit_every=a.commit_every,
                   progress=False)
    elapsed = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {
        "engine": a.run, "n": a.run_n, "workers": a.workers, "added": st.added, "skipped": st.skipped,
        "failed": st.failed, "seconds": elapsed, "rate": st.added / elapsed if elapsed else 0,
        "writer_s": getattr(st, "write_seconds", None), "writer_cpu_s": getattr(st, "write_cpu_seconds", None),
        "main_maxrss_mb": me.ru_maxrss / 1024, "children_maxrss_mb": ch.ru_maxrss / 1024,
        "cpu_main_s": me.ru_utime + me.ru_stime, "cpu_children_s": ch.ru_utime + ch.ru_stime,
    }
    from sqlalchemy import text

    from fazhi.corpus import db as dbm

    eng = dbm.connect(db)
    if a.refresh:
        from fazhi.corpus import derived

        peak = TreeSampler(os.getpid(), every=0.2)   # the workers are gone: this process alone
        peak.start()
        t1, c1 = time.perf_counter(), time.process_time()
        res = derived.refresh(eng, full=True)
        peak.halt.set()
        peak.join()
        out["refresh"] = {"seconds": time.perf_counter() - t1, "cpu_s": time.process_time() - c1,
                          "peak_mb": peak.peak / 2**20, "how": res["copies"], "follow_pairs": res["follow"]}
    with eng.connect() as conn:
        out["rows"] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ROW_TABLES}
    eng.dispose()
    if is_pg(db):
        out["db_bytes"], out["tables"] = pg_sizes(db)
    else:
        out["db_bytes"] = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    print(json.dumps(out), flush=True)


def stored(db: str):
    """Reports stored so far, read while the run writes ("?" when it cannot be read)."""
    try:
        if is_pg(db):
            return pg_reports(db)
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        k = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        con.close()
        return k
    except Exception:  # noqa: BLE001 - a progress line only
        return "?"


def launch(a, engine: str, n: int) -> dict:
    db = a.pg or str(Path(a.db_dir) / f"fazhi-bench-{engine}.db")
    cmd = [sys.executable, __file__, "--run", engine, "--run-n", str(n), "--corpus", a.corpus, "--db", db,
           "--workers", str(a.workers), "--commit-every", str(a.commit_every)] + (["--refresh"] if a.refresh else [])
    print(f"\n== {engine}: {n:,} reports, {a.workers} workers -> {db}", flush=True)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    sampler = TreeSampler(p.pid)
    sampler.start()
    t0 = time.time()
    while p.poll() is None:
        time.sleep(1)
        if time.time() - t0 >= a.report_every:
            t0 = time.time()
            print(f"   {time.strftime('%H:%M:%S')}  {stored(db)} reports stored, tree RSS peak so far "
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
    if r.get("tables"):
        per = max(1, r["rows"]["reports"])
        print("   largest tables (with indexes, TOAST): " + ", ".join(
            f"{k} {v / 2**20:.0f} MB ({v / per:,.0f} B/report)" for k, v in r["tables"].items()))
    if r.get("refresh"):
        f = r["refresh"]
        print(f"   end-of-batch refresh ({f['how']}, {f['follow_pairs']:,} follow pairs): {f['seconds']:.1f} s wall, "
              f"{f['cpu_s']:.1f} s CPU, peak {f['peak_mb']:.0f} MB")


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
    ap.add_argument("--pg", default=None, metavar="URL",
                    help="a fresh PostgreSQL database (postgresql://…) instead of SQLite files; one engine")
    ap.add_argument("--refresh", action="store_true",
                    help="then time the end-of-batch refresh of the stored copy shares and follow-through")
    # internal: one measured run in a child process
    ap.add_argument("--run", choices=["local", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--run-n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run:
        run_one(a)
        return
    if a.pg and a.engine == "both":
        ap.error("--pg takes one engine (--engine local or dask): the database must be fresh for each run")
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
