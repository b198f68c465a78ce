"""Hostile load against a running ``fazhi serve`` (a helper of tests/test_web_load.py
and bench/login_flood.py, run as its own process).

    python tests/load_gen.py BASE_URL TOKEN --flood 40 --spoofed 20 --docx --digits

- ``--flood N``: N connections, each sending login attempts with random user
  names and passwords to POST /api/token one after another; ``--spoofed K`` of
  them claim a different client address each time (X-Forwarded-For, trusted
  from 127.0.0.1), so the per-address throttle does not stop them and every
  attempt costs an argon2 check;
- ``--docx``: uploads large valid .docx files (1,100 paragraphs each, distinct
  bytes every time) one after another;
- ``--digits``: uploads one text of long digit runs (4 × 8,000 digits).
- ``--probe USER:PASSWORD``: a real login every second (POST /api/token), its latency
  recorded; ``--trusted`` makes it a browser that has logged in before (the login
  form, with the device cookie of an earlier login).

Prints ``ready`` on stdout once the flood has answers and the first upload is on
its way; on SIGTERM it stops, and prints one JSON line: the status codes seen
per kind, connection errors, and latencies.

The attacker normally sits on another machine: this process runs at a lower CPU
priority (nice 10) and builds its documents before it starts, so that on a
2-core test machine it is the server's work, not the generator's, that is measured.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import signal
import string
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

DEV = Path(__file__).resolve().parent / "data" / "dev"


def big_docx(k: int) -> bytes:
    import docx

    lines = (DEV / "seed-004.txt").read_text(encoding="utf-8").splitlines()
    d = docx.Document()
    d.add_paragraph(f"（第 {k} 份，{random.random()}）")
    for _ in range(25):
        for line in lines:
            d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def digit_text(k: int) -> bytes:
    body = "".join(f"全年共办理第{k}批案件" + "1" * 8000 + "。\n" for _ in range(4))
    return ("某某县2023年法治政府建设年度报告\n" + body).encode("utf-8")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("--flood", type=int, default=0)
    ap.add_argument("--spoofed", type=int, default=0)
    ap.add_argument("--docx", action="store_true")
    ap.add_argument("--digits", action="store_true")
    ap.add_argument("--probe", default=None)
    ap.add_argument("--trusted", action="store_true")
    a = ap.parse_args()
    try:
        os.nice(10)
    except OSError:
        pass

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    codes: dict[str, Counter] = {"flood": Counter(), "docx": Counter(), "digits": Counter(), "probe": Counter()}
    errors: list[str] = []
    bad: list[str] = []
    lat: dict[str, list] = {"flood": [], "docx": [], "digits": [], "probe": []}
    started = {"flood": threading.Event(), "upload": threading.Event()}

    def note(kind: str, r: httpx.Response | None, t: float, exc: Exception | None = None):
        with lock:
            if exc is not None:
                errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:200])
                return
            codes[kind][r.status_code] += 1
            lat[kind].append(t)
            ok = {"flood": {401, 429, 503}, "probe": {200}, "docx": {200, 201}, "digits": {200, 201, 400, 413}}[kind]
            if r.status_code not in ok:
                bad.append(f"{kind}: {r.status_code} {r.text[:200]}")
            elif r.status_code == 503 and "登录请求过多" not in r.text:
                bad.append(f"{kind}: 503 without the Chinese reason: {r.text[:200]}")

    def flood(k: int):
        spoof = k < a.spoofed
        rnd = random.Random(k)
        with httpx.Client(base_url=a.base, timeout=120) as c:
            while not stop.is_set():
                name = "".join(rnd.choices(string.ascii_lowercase, k=10))
                h = {"X-Forwarded-For": f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"} \
                    if spoof else {}
                t0 = time.perf_counter()
                try:
                    r = c.post("/api/token", json={"username": name, "password": name * 2}, headers=h)
                    note("flood", r, time.perf_counter() - t0)
                except httpx.HTTPError as e:
                    note("flood", None, 0, e)
                started["flood"].set()

    docs = [big_docx(k) for k in range(6)] if a.docx else []

    def uploads(kind: str):
        k = 0
        with httpx.Client(base_url=a.base, timeout=300, headers={"Authorization": f"Bearer {a.token}"}) as c:
            while not stop.is_set():
                k += 1
                if kind == "docx":
                    data, name = (docs[k - 1] if k <= len(docs) else big_docx(k)), f"big-{k}.docx"
                else:
                    data, name = digit_text(k), f"digits-{k}.txt"
                started["upload"].set()
                t0 = time.perf_counter()
                try:
                    r = c.post("/api/reports", params={"filename": name}, content=data)
                    note(kind, r, time.perf_counter() - t0)
                except httpx.HTTPError as e:
                    note(kind, None, 0, e)
                if kind == "digits":
                    break

    def form_login(c, user, pw):
        c.cookies.delete("fazhi_session")
        page = c.get("/login")
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return c.post("/login", data={"username": user, "password": pw, "csrf_token": tok})

    probe_client = None
    if a.probe and a.trusted:   # log in once before the flood: the browser gets its device cookie
        probe_client = httpx.Client(base_url=a.base, timeout=300, headers={"X-Forwarded-For": "192.168.7.7"})
        user, pw = a.probe.split(":", 1)
        assert form_login(probe_client, user, pw).status_code == 303

    def probe():
        user, pw = a.probe.split(":", 1)
        c = probe_client or httpx.Client(base_url=a.base, timeout=300, headers={"X-Forwarded-For": "192.168.7.7"})
        try:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    if a.trusted:
                        r = form_login(c, user, pw)
                        r = httpx.Response(200) if r.status_code == 303 else r
                    else:
                        r = c.post("/api/token", json={"username": user, "password": pw})
                    note("probe", r, time.perf_counter() - t0)
                except httpx.HTTPError as e:
                    note("probe", None, 0, e)
                stop.wait(1.0)
        finally:
            c.close()

    threads = [threading.Thread(target=flood, args=(k,), daemon=True) for k in range(a.flood)]
    if a.docx:
        threads.append(threading.Thread(target=uploads, args=("docx",), daemon=True))
    if a.digits:
        threads.append(threading.Thread(target=uploads, args=("digits",), daemon=True))
    if a.probe:
        threads.append(threading.Thread(target=probe, daemon=True))
    for t in threads:
        t.start()
    if a.flood:
        started["flood"].wait(60)
    if a.docx or a.digits:
        started["upload"].wait(60)
    print("ready", flush=True)
    while not stop.is_set():
        stop.wait(0.2)
    for t in threads:
        t.join(300)
    print(json.dumps({"codes": {k: dict(v) for k, v in codes.items()}, "errors": errors, "bad": bad,
                      "latency": lat}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
