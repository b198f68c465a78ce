#!/usr/bin/env python3
"""Load test of the web application on loopback: N concurrent uploads with an API token.

Starts ``fazhi serve`` itself (a subprocess on 127.0.0.1 and a free port, a fresh
database in a temporary directory unless --db is given), takes an API token
with POST /api/token, then sends N uploads of the dev reports (taken in turn,
so most files are sent several times at once) from N threads released together.
Bounded: at most 500 uploads, a per-request timeout and an overall deadline;
the server is stopped at the end.  Only 127.0.0.1 is ever contacted.

Prints: uploads without error, new vs. duplicate answers, reports in the
database vs. distinct files (each report stored once), median / p95 / max
latency, wall time.  Exit status 1 if any check fails.

    python bench/load_web.py [--n 50] [--concurrency 50] [--db postgresql://…]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
MAX_UPLOADS = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, *, data: bytes | None = None, headers: dict | None = None, method: str | None = None,
            timeout: float = 120) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_up(base: str, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited early (status {proc.returncode})")
        try:
            if request(base + "/login", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start in time")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="uploads (at most 500)")
    ap.add_argument("--concurrency", type=int, default=50, help="uploads in flight at once")
    ap.add_argument("--db", default=None, help="database (default: a new SQLite file in a temporary directory)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per request")
    ap.add_argument("--deadline", type=float, default=300, help="seconds for the whole run")
    args = ap.parse_args()
    n = max(1, min(args.n, MAX_UPLOADS))
    conc = max(1, min(args.concurrency, n))
    files = sorted(DEV.glob("*.txt"))
    if not files:
        raise SystemExit(f"no dev reports in {DEV}")
    jobs = [files[i % len(files)] for i in range(n)]
    distinct = {hashlib.sha256(f.read_bytes()).hexdigest() for f in jobs}
    blobs = {f: f.read_bytes() for f in set(jobs)}

    tmp = Path(tempfile.mkdtemp(prefix="fazhi-load-"))
    db = args.db or str(tmp / "corpus.db")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    password = secrets.token_urlsafe(16)
    env = {**os.environ, "FAZHI_ADMIN_PASSWORD": password, "FAZHI_DATA_DIR": str(tmp / "files")}
    env.pop("FAZHI_SECRET", None)
    deadline = time.monotonic() + args.deadline
    log = open(tmp / "server.log", "wb")
    cmd = [sys.executable, "-c", "from fazhi.cli import main; main()"]   # = the `fazhi` command
    proc = subprocess.Popen(cmd + ["serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_up(base, proc, min(deadline, time.monotonic() + 60))
        st, body = request(base + "/api/token", method="POST", headers={"Content-Type": "application/json"},
                           data=json.dumps({"username": "admin", "password": password, "name": "load test"}).encode())
        if st != 200:
            raise SystemExit(f"could not get a token: {st} {body[:200]!r}")
        token = json.loads(body)["token"]
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}

        start = threading.Barrier(conc)
        lock = threading.Lock()
        results: list[dict] = []

        def one(i: int, f: Path) -> None:
            if i < conc:
                start.wait(timeout=30)  # the first wave leaves together
            if time.monotonic() > deadline:
                res = {"status": 0, "error": "deadline"}
            else:
                url = f"{base}/api/reports?filename={urllib.parse.quote(f.name)}"
                t0 = time.perf_counter()
                try:
                    st, body = request(url, data=blobs[f], headers=auth, method="POST", timeout=args.timeout)
                    res = {"status": st, "latency": time.perf_counter() - t0}
                    res.update(json.loads(body) if body else {})
                except (OSError, ValueError) as e:
                    res = {"status": 0, "error": str(e), "latency": time.perf_counter() - t0}
            res["file"] = f.name
            with lock:
                results.append(res)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=conc) as pool:
            for i, f in enumerate(jobs):
                pool.submit(one, i, f)
        wall = time.perf_counter() - t0

        ok = [r for r in results if r["status"] in (200, 201)]
        errors = [r for r in results if r["status"] not in (200, 201)]
        new = [r for r in ok if r.get("duplicate") is False]
        ids_by_file: dict[str, set] = {}
        for r in ok:
            ids_by_file.setdefault(r["file"], set()).add(r["id"])
        st, body = request(base + "/api/reports?per_page=500", headers={"Authorization": f"Bearer {token}"})
        listed = json.loads(body)["total"] if st == 200 else -1
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    # count straight from the database as well
    sys.path.insert(0, str(ROOT / "src"))
    from fazhi.corpus import db as dbm
    from fazhi.corpus.store import count

    stored = count(dbm.connect(db))[0]
    lat = [r["latency"] for r in ok if "latency" in r]
    print(f"uploads: {n} from {conc} concurrent clients, {len(distinct)} distinct files "
          f"(dev reports taken in turn), server: fazhi serve on {base}, database: {'SQLite' if not args.db else args.db.split(':')[0]}")
    print(f"no error: {len(ok)}/{n}   errors: {len(errors)}")
    for r in errors[:5]:
        print(f"  error {r['status']} {r['file']}: {r.get('detail') or r.get('error')}")
    print(f"answers: {len(new)} new, {len(ok) - len(new)} duplicate (same sha256 -> same report id)")
    print(f"stored once: reports in the database {stored}, listed by the API {listed}, distinct files {len(distinct)}; "
          f"one id per file: {all(len(v) == 1 for v in ids_by_file.values())}")
    if lat:
        print(f"latency: median {statistics.median(lat) * 1000:.0f} ms, p95 {pct(lat, 95) * 1000:.0f} ms, "
              f"max {max(lat) * 1000:.0f} ms; wall {wall:.2f} s ({n / wall:.1f} uploads/s)")
    good = (not errors and stored == listed == len(distinct) == len(new)
            and all(len(v) == 1 for v in ids_by_file.values()))
    print("result:", "OK" if good else "FAILED", f"(server log: {tmp / 'server.log'})")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
