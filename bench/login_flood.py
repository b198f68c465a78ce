#!/usr/bin/env python3
"""Login flood against ``fazhi serve`` on 127.0.0.1: the latency of a real login and
the server's peak memory while 40 connections send login attempts with random
names (tests/load_gen.py), for this tree and, with --before REV, for an older
revision of fazhi run from ``git archive`` in a temporary directory.

    python bench/login_flood.py [--seconds 30] [--before ea6babd]

Two floods: from one address (what one attacker's machine sends), and from 40
ever-changing addresses (X-Forwarded-For from loopback, which uvicorn trusts:
a spread-out attack that no per-address throttle stops).  A real login of the
administrator is tried once a second from another address; its latency
(median / max) and the server's VmHWM are printed; last, the same login from a
browser that has logged in before (its device cookie: its own counter and pool).
Only 127.0.0.1 is contacted.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PW = "bench-admin-pw-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(src: Path, spoofed: int, seconds: float, trusted: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-flood-"))
    env = {**os.environ, "PYTHONPATH": str(src), "FAZHI_ADMIN_PASSWORD": PW}
    env.pop("FAZHI_DB", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    srv = subprocess.Popen([sys.executable, "-c", "from fazhi.cli import main; main()", "serve", "--db",
                            str(tmp / "c.db"), "--port", str(port), "--data-dir", str(tmp / "f")], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/login", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        gen = subprocess.Popen([sys.executable, str(ROOT / "tests" / "load_gen.py"), base, "-", "--flood", "40",
                                "--spoofed", str(spoofed), "--probe", f"admin:{PW}"] + (["--trusted"] if trusted else []),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert gen.stdout.readline().strip() == "ready"
        time.sleep(seconds)
        rss = peak_rss_mb(srv.pid)
        gen.send_signal(signal.SIGTERM)
        out, _ = gen.communicate(timeout=600)
        res = json.loads(out.strip().splitlines()[-1])
    finally:
        srv.send_signal(signal.SIGINT)
        try:
            srv.wait(20)
        except subprocess.TimeoutExpired:
            srv.kill()
    probe = res["latency"]["probe"]
    return {"probe_ok": res["codes"]["probe"], "probe_median_s": statistics.median(probe) if probe else None,
            "probe_max_s": max(probe) if probe else None, "flood": res["codes"]["flood"],
            "errors": len(res["errors"]), "peak_rss_mb": round(rss)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--before", default=None, help="also measure this git revision (e.g. the branch's base)")
    a = ap.parse_args()
    trees = [("this tree", ROOT / "src")]
    if a.before:
        d = Path(tempfile.mkdtemp(prefix="fazhi-before-"))
        subprocess.run(f"git -C {ROOT} archive {a.before} src | tar -x -C {d}", shell=True, check=True)
        trees.insert(0, (a.before, d / "src"))
    for label, src in trees:
        for spoofed, what, trusted in ((0, "one address", False), (40, "40 changing addresses", False),
                                       (40, "40 changing addresses", True)):
            if trusted and label != "this tree":
                continue   # no trusted browsers before
            r = run(src, spoofed, a.seconds, trusted)
            what += "，登录者为曾登录过的浏览器" if trusted else ""
            print(f"{label:10} {what:22} login median {r['probe_median_s']} s, max {r['probe_max_s']} s, "
                  f"logins ok {r['probe_ok']}, flood {r['flood']}, errors {r['errors']}, "
                  f"server peak {r['peak_rss_mb']} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
