#!/usr/bin/env python3
"""Time the web pages on a given corpus database: p50 / p95 over repeated requests,
before and right after one upload (issue 14: ≤ 300 ms p95 at 100,000 reports).

The application is ``fazhi serve``'s (``web.app.create_app``) driven in-process by
FastAPI's TestClient, logged in as an administrator (a ``bench-admin`` account is
created in the database when it is missing).  Pages: 统计看板 (/dashboard), 报告库
(/reports), 单位 (/unit?name=…, the unit with most reports), 检索 (/reports?q=…: a short
term, served by the trigram index, and a longer phrase, by the segmented index).

Phases:

1. ``cold``: the first request of each page after start (caches empty); the copy
   comparisons these views start in the background (``web.queries.copies_for``) are
   waited for, and their time printed;
2. ``warm``: ``--repeat`` requests of each page;
3. one upload through the upload form (a synthetic report with a made-up unit
   name, a new file each run: the database GROWS by one report per run — give a
   copy if that matters);
4. ``after``: the first request of each page after the upload, then ``--repeat``
   more (p50 / p95 over all of them, the first one also shown on its own), while the
   copy comparisons of the changed corpus run in the background (the pages show the
   earlier results, marked as such, meanwhile).

    python bench/bench_pages.py --db /tmp/c100k.db [--repeat 20] [--unit 某某街道] [--q 行政复议]

Speed only: the figures depend on the machine and its load (run it when quiet).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DEV = ROOT / "tests" / "data" / "dev"
PASSWORD = "bench-admin-pw-1"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not m:
        raise SystemExit("no CSRF token in the page")
    return m.group(1)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


def busiest_unit(engine) -> str:
    """A unit with the most counted reports (several years: trends, follow-through)."""
    from sqlalchemy import func, select

    from fazhi.corpus import db

    r = db.reports.c
    with engine.connect() as c:
        row = c.execute(select(r.unit, func.count()).where(db.counted(), r.unit.is_not(None))
                        .group_by(r.unit).order_by(func.count().desc(), r.unit).limit(1)).first()
    if row is None:
        raise SystemExit("the database has no report with a unit")
    return row[0]


def new_report() -> tuple[str, bytes]:
    """A dev report with a made-up unit name (never seen before: a new file each run)."""
    files = sorted(DEV.glob("*.txt"))
    f = files[0]
    text = f.read_text(encoding="utf-8")
    tag = f"{random.SystemRandom().randrange(10**8):08d}"
    from fazhi.pipeline import analyze_bytes

    unit = analyze_bytes(f.read_bytes(), f.name).meta.unit or ""
    if unit:
        text = text.replace(unit, "测" + "".join("零一二三四五六七八九"[int(d)] for d in tag[:4]) + unit[-2:])
    return f"bench-{tag}.txt", (text + f"\n（测试编号 {tag}）\n").encode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="SQLite file or postgresql://… (one report is added)")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--unit", default=None, help="unit page to time (default: the unit with most reports)")
    ap.add_argument("--q", default="行政复议", help="search query (≤ 4 characters: the substring index)")
    ap.add_argument("--q-words", default="法治政府建设",
                    help="a second search query, longer: the segmented index, ranked by bm25 ('' to skip)")
    ap.add_argument("--no-upload", action="store_true")
    a = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from fazhi.corpus import db as dbm
    from fazhi.corpus import store
    from fazhi.web import auth
    from fazhi.web.app import create_app
    from fazhi.web.settings import Settings

    t0 = time.perf_counter()
    eng = dbm.connect(a.db)
    try:
        auth.create_user(eng, "bench-admin", PASSWORD, "admin")
    except auth.AuthError:
        pass
    n_reports = store.count(eng)[0]
    unit = a.unit or busiest_unit(eng)
    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    app = create_app(Settings(db=a.db, data_dir=Path(tmp) / "files", keep_files=False))
    client = TestClient(app, base_url="http://127.0.0.1")
    r = client.get("/login")
    r = client.post("/login", data={"username": "bench-admin", "password": PASSWORD, "csrf_token": csrf_of(r.text),
                                    "next": "/reports"}, follow_redirects=False)
    if r.status_code != 303:
        raise SystemExit(f"login failed: {r.status_code}")
    pages = {"dashboard": "/dashboard", "library": "/reports", "unit": "/unit?name=" + unit,
             "search": "/reports?q=" + a.q}
    if a.q_words:
        pages["search-seg"] = "/reports?q=" + a.q_words
    print(f"{n_reports:,} counted reports in {dbm.describe(eng)}; unit page: {unit}; search: {a.q}; "
          f"start {time.perf_counter() - t0:.1f} s", flush=True)

    def settle() -> float:
        """Seconds until the pages' background copy lookups (web.queries.copies_for) are done."""
        from fazhi.web import queries

        t = time.perf_counter()
        while True:
            with queries._copy_lock:
                jobs = list(queries._copy_jobs.values())
            if not jobs:
                return time.perf_counter() - t
            for f in jobs:
                f.exception()

    def hit(url: str) -> float:
        t = time.perf_counter()
        resp = client.get(url)
        dt = time.perf_counter() - t
        if resp.status_code != 200:
            raise SystemExit(f"{url}: HTTP {resp.status_code}")
        return dt * 1000

    res: dict[str, dict[str, list[float]]] = {k: {} for k in pages}
    for k, u in pages.items():
        res[k]["cold"] = [hit(u)]
    background = settle()
    print(f"copy comparisons started by the cold views finished {background:.1f} s later", flush=True)
    for k, u in pages.items():
        res[k]["warm"] = [hit(u) for _ in range(a.repeat)]
    upload_ms = None
    if not a.no_upload:
        name, data = new_report()
        tok = csrf_of(client.get("/upload").text)
        t = time.perf_counter()
        r = client.post("/upload", data={"csrf_token": tok}, files={"files": (name, data, "text/plain")},
                        follow_redirects=False)
        upload_ms = (time.perf_counter() - t) * 1000
        if r.status_code not in (200, 303):
            raise SystemExit(f"upload failed: {r.status_code}")
        print(f"upload {name}: HTTP {r.status_code}, {upload_ms:.0f} ms", flush=True)
        for k, u in pages.items():
            res[k]["after"] = [hit(u)]
        for k, u in pages.items():
            res[k]["after"] += [hit(u) for _ in range(a.repeat)]
        print(f"after the upload: the pages' copy comparisons were brought up to date in the background "
              f"for another {settle():.1f} s after the last request", flush=True)
    print(f"\n{'page':<11} {'cold ms':>9} {'warm p50':>9} {'warm p95':>9} {'1st after':>10} "
          f"{'after p50':>10} {'after p95':>10}")
    for k in pages:
        d = res[k]
        line = f"{k:<11} {d['cold'][0]:>9.0f} {pct(d['warm'], 50):>9.0f} {pct(d['warm'], 95):>9.0f}"
        if "after" in d:
            line += f" {d['after'][0]:>10.0f} {pct(d['after'], 50):>10.0f} {pct(d['after'], 95):>10.0f}"
        print(line)
    import resource

    print(f"\n(p50/p95 over {a.repeat} requests; 'after' = the {a.repeat + 1} requests after one upload, "
          f"the first of them also shown alone; machine load: {os.getloadavg()[0]:.1f}; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
