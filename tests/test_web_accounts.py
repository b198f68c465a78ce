"""Accounts as a bank would run them: login throttling with growing delays per
address, per name and per trusted browser (no lock-out by strangers, cleared by
``fazhi user passwd``), password hashing in a bounded pool, sessions that end
on logout and password change, API tokens revoked on a password change or
reset, and the audit log (page and ``fazhi user audit``).

Delays are tested with a fake clock (no sleeping, no timing asserts)."""
from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_web_helpers import ADMIN_PASSWORD, LiveServer, TestClient, csrf_of, login, make_app

DEV = Path(__file__).resolve().parent / "data" / "dev"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def app(tmp_path):
    a = make_app(str(tmp_path / "c.db"), tmp_path)
    a.state.throttle.clock = a.clock = Clock()
    a.slept = []

    async def record(seconds):    # the tarpit, without waiting
        a.slept.append(seconds)

    a.state.tarpit_sleep = record
    return a


def client(app, addr: str = "10.0.0.1") -> TestClient:
    return TestClient(app, client=(addr, 40000))


def try_login(c, username: str, password: str):
    tok = csrf_of(c.get("/login").text)
    return c.post("/login", data={"username": username, "password": password, "csrf_token": tok},
                  follow_redirects=False)


def cli(*args):
    from fazhi.cli import main

    return CliRunner().invoke(main, list(map(str, args)), env={"COLUMNS": "300"})


# ------------------------------------------------------------------ the throttle itself
def test_throttle_delays_grow_are_capped_and_forgotten():
    from fazhi.web.throttle import LoginThrottle

    clock = Clock()
    t = LoginThrottle({"user": 3}, cap=10, window=100, clock=clock)
    k = [("user", "admin", 0)]
    for _ in range(3):
        assert t.wait(k) == 0
        t.failed(k)
    assert t.wait(k) == 0                 # three failures are free
    t.failed(k)
    assert t.wait(k) == 1                 # then 1 s …
    clock.t += 1
    assert t.wait(k) == 0
    t.failed(k)
    assert t.wait(k) == 2                 # … 2 s …
    for _ in range(6):
        clock.t += t.wait(k)
        t.failed(k)
    assert t.wait(k) == 10                # … capped
    assert t.failures(k[0]) == 11
    clock.t += 101                        # forgotten a window after the last failure
    assert t.wait(k) == 0 and t.failures(k[0]) == 0


def a_slept_ok(slept) -> bool:
    return bool(slept) and all(0 < x <= 1.0 for x in slept) and max(slept) == 1.0


# ------------------------------------------------------------------ no lock-out by strangers
def test_strangers_cannot_lock_the_administrator_out(app):
    stranger = client(app, "10.6.6.6")
    # the stranger guesses, waiting out each delay (the most persistent attacker)
    refused = 0
    for _ in range(9):
        r = try_login(stranger, "admin", "guess-123")
        if r.status_code == 429:
            refused += 1
            secs = int(re.search(r"请 (\d+) 秒后再试", r.text).group(1))
            assert r.headers["retry-after"] == str(secs)
            app.clock.t += secs
            r = try_login(stranger, "admin", "guess-123")
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    assert refused >= 3
    # while the name is delayed, an attempt is refused without checking the password …
    office = client(app, "10.0.0.2")
    r = try_login(office, "admin", ADMIN_PASSWORD)
    assert r.status_code == 429 and "秒后再试" in r.text
    # … and the correct password works as soon as the delay has passed
    app.clock.t += int(r.headers["retry-after"])
    r = try_login(office, "admin", ADMIN_PASSWORD)
    assert r.status_code == 303, r.text
    # that browser is now trusted for admin: strangers' failures never delay it again
    for _ in range(12):
        app.clock.t += 400
        assert try_login(stranger, "admin", "guess-456").status_code == 401
    r = try_login(office, "admin", ADMIN_PASSWORD)
    assert r.status_code == 303, r.text
    # every refusal was held back (the tarpit): at most a second, never longer than the wait
    assert a_slept_ok(app.slept)
    # a forged device cookie is worth nothing
    forged = client(app, "10.0.0.3")
    forged.cookies.set("fazhi_device", office.cookies.get("fazhi_device")[:-3] + "abc", path="/login")
    assert try_login(forged, "admin", ADMIN_PASSWORD).status_code == 429


def test_per_address_throttle_and_no_user_enumeration(app):
    from fazhi.web import auth

    auth.create_user(app.state.engine, "zhangsan", "zhangsan-pw-1", "viewer")
    spray = client(app, "10.9.9.9")
    for k in range(11):                    # ten random names are free, the 11th failure …
        assert try_login(spray, f"user{k}", "x" * 9).status_code == 401
    r = try_login(spray, "zhangsan", "zhangsan-pw-1")
    assert r.status_code == 429                            # … makes the address wait, for any name
    assert try_login(client(app, "10.0.0.7"), "zhangsan", "zhangsan-pw-1").status_code == 303
    app.clock.t += int(r.headers["retry-after"])
    assert try_login(spray, "zhangsan", "zhangsan-pw-1").status_code == 303
    # a known and an unknown name are throttled alike: same answers, same count of argon2 checks
    calls = []
    real = auth.verify_password
    auth_verify = lambda h, p: (calls.append(h is None), real(h, p))[1]  # noqa: E731
    import fazhi.web.auth as mod

    mod.verify_password = auth_verify
    try:
        answers = {}
        for name in ("zhangsan", "nosuchuser"):
            c = client(app, f"10.1.1.{len(answers) + 1}")
            answers[name] = [try_login(c, name, "wrong-pw-1") for _ in range(7)]
        known, unknown = answers["zhangsan"], answers["nosuchuser"]
        assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 6 + [429]
        strip = lambda r: re.sub(r'value="[^"]*"|content="[^"]*"|zhangsan|nosuchuser', "", r.text)  # noqa: E731
        assert strip(known[0]) == strip(unknown[0]) and strip(known[-1]) == strip(unknown[-1])
        assert calls.count(True) == calls.count(False) == 6       # the dummy hash for the unknown name
    finally:
        mod.verify_password = real


def test_user_passwd_clears_the_name_throttle(app, tmp_path):
    stranger = client(app, "10.6.6.7")
    for _ in range(7):
        app.clock.t += 10
        try_login(stranger, "admin", "guess-123")
    office = client(app, "10.0.0.9")
    assert try_login(office, "admin", ADMIN_PASSWORD).status_code == 429
    r = cli("user", "passwd", "admin", "--password", "new-admin-pw-2", "--db", tmp_path / "c.db")
    assert r.exit_code == 0 and "登录失败的限制已解除" in r.output
    assert try_login(office, "admin", "new-admin-pw-2").status_code == 303


# ------------------------------------------------------------------ sessions and tokens
def test_logout_and_password_change_end_sessions(app, tmp_path):
    from fazhi.web import auth

    eng = app.state.engine
    auth.create_user(eng, "lisi", "lisi-pw-123", "viewer")
    a = client(app, "10.2.0.1")
    a.csrf = login(a, "lisi", "lisi-pw-123")
    stolen = client(app, "10.2.0.66")
    stolen.cookies.set("fazhi_session", a.cookies.get("fazhi_session"))
    assert stolen.get("/api/me").status_code == 200
    assert a.post("/logout", data={"csrf_token": a.csrf}, follow_redirects=False).status_code == 303
    assert stolen.get("/api/me").status_code == 401            # the old cookie no longer works
    # a password change ends the other sessions and keeps this one
    b, c = client(app, "10.2.0.2"), client(app, "10.2.0.3")
    b.csrf = login(b, "lisi", "lisi-pw-123")
    c.csrf = login(c, "lisi", "lisi-pw-123")
    r = b.post("/account/password", data={"old": "lisi-pw-123", "new": "lisi-pw-456", "again": "lisi-pw-456",
                                          "csrf_token": b.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert b.get("/api/me").status_code == 200 and c.get("/api/me").status_code == 401
    # a reset by the administrator ends them all; so does `fazhi user passwd`
    adm = client(app, "10.2.0.4")
    adm.csrf = login(adm)
    uid = auth.get_user_by_name(eng, "lisi").id
    r = adm.post(f"/users/{uid}/password", data={"password": "lisi-pw-789", "csrf_token": adm.csrf},
                 follow_redirects=False)
    assert r.status_code == 303 and b.get("/api/me").status_code == 401
    d = client(app, "10.2.0.5")
    d.csrf = login(d, "lisi", "lisi-pw-789")
    assert cli("user", "passwd", "lisi", "--password", "lisi-pw-000", "--db", tmp_path / "c.db").exit_code == 0
    assert d.get("/api/me").status_code == 401
    assert adm.get("/api/me").status_code == 200               # other accounts are untouched


def test_tokens_are_revoked_on_password_change_and_reset(app, tmp_path):
    from fazhi.web import auth

    eng = app.state.engine
    a = client(app, "10.3.0.1")
    r = a.post("/api/token", json={"username": "admin", "password": ADMIN_PASSWORD, "name": "脚本"})
    assert r.status_code == 200
    tok = {"Authorization": f"Bearer {r.json()['token']}"}
    bot = client(app, "10.3.0.2")
    assert bot.get("/api/me", headers=tok).status_code == 200
    a.csrf = login(a)
    r = a.post("/account/password", data={"old": ADMIN_PASSWORD, "new": "admin-pw-new1", "again": "admin-pw-new1",
                                          "csrf_token": a.csrf})
    assert "1 个 API 令牌已作废" in r.text
    assert bot.get("/api/me", headers=tok).status_code == 401
    uid = auth.get_user_by_name(eng, "admin").id
    t2 = {"Authorization": f"Bearer {auth.create_token(eng, uid, 'x')}"}
    assert bot.get("/api/me", headers=t2).status_code == 200
    r = cli("user", "passwd", "admin", "--password", "admin-pw-new2", "--db", tmp_path / "c.db")
    assert r.exit_code == 0 and "1 个 API 令牌已作废" in r.output
    assert bot.get("/api/me", headers=t2).status_code == 401
    assert auth.list_tokens(eng) == []


# ------------------------------------------------------------------ the bounded hashing pool
def test_hashing_runs_in_a_bounded_pool_and_pages_stay_served(tmp_path, monkeypatch):
    """40 connections of random-name attempts from 40 addresses: at most one argon2 check at
    a time, the overflow answered 503 in Chinese at once, and the pages still served."""
    import httpx

    import fazhi.web.auth as mod

    app = make_app(str(tmp_path / "c.db"), tmp_path, hash_workers=1, hash_queue=4)
    running, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()
    real = mod.verify_password

    def counted(h, p):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            gate.wait(30)     # hold the pool busy until every attempt has arrived
            return real(h, p)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(mod, "verify_password", counted)
    with LiveServer(app) as srv:
        def attempt(k):
            with httpx.Client(base_url=srv.url, timeout=60) as c:
                return c.post("/api/token", json={"username": f"random{k}", "password": "x" * 12},
                              headers={"X-Forwarded-For": f"172.16.{k // 200}.{k % 200 + 1}"})

        with ThreadPoolExecutor(40) as pool:
            futs = [pool.submit(attempt, k) for k in range(40)]
            # 1 running + 4 waiting hold the pool; the other 35 are answered at once
            for _ in range(3000):
                if sum(f.done() for f in futs) >= 35:
                    break
                threading.Event().wait(0.01)
            # and while all hashing is held, the login page is served
            page = httpx.get(srv.url + "/login", timeout=30)
            gate.set()
            answers = [f.result() for f in futs]
    assert page.status_code == 200 and "登录" in page.text
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {401, 503}, codes
    assert codes.count(503) == 35 and codes.count(401) == 5      # 1 running + 4 waiting at most
    assert all("登录请求过多" in r.json()["detail"] for r in answers if r.status_code == 503)
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 503)
    assert peak[0] == 1 and app.state.hash_pool.peak == 5


# ------------------------------------------------------------------ the audit log
def test_audit_log_records_everything_and_only_admins_read_it(app, tmp_path):
    from fazhi.web import auth

    eng = app.state.engine
    evil = "<script>alert(1)</script>"
    assert try_login(client(app, "10.4.0.9"), evil, "nope-nope-1").status_code == 401
    a = client(app, "10.4.0.1")
    a.csrf = login(a)
    h = {"X-CSRF-Token": a.csrf, "Content-Type": "application/octet-stream"}
    rid = a.post("/api/reports", params={"filename": "seed-000.txt"}, content=(DEV / "seed-000.txt").read_bytes(),
                 headers=h).json()["id"]
    assert a.post("/api/reports", params={"filename": "bin.txt"}, content=b"\x00\x01" * 99, headers=h).status_code == 400
    assert a.get("/api/export").status_code == 200
    r = a.post("/users", data={"username": "wangwu", "password": "wangwu-pw-1", "role": "viewer",
                               "csrf_token": a.csrf}, follow_redirects=False)
    assert r.status_code == 303
    uid = auth.get_user_by_name(eng, "wangwu").id
    a.post(f"/users/{uid}/role", data={"role": "admin", "csrf_token": a.csrf})
    a.post(f"/users/{uid}/password", data={"password": "wangwu-pw-2", "csrf_token": a.csrf})
    a.post(f"/users/{uid}/delete", data={"csrf_token": a.csrf})
    assert a.delete(f"/api/reports/{rid}", headers={"X-CSRF-Token": a.csrf}).status_code == 204
    page = a.get("/audit")
    assert page.status_code == 200
    for label in ("登录失败", "登录", "上传报告", "上传被拒", "导出", "添加用户", "修改角色", "重设密码", "删除用户",
                  "删除报告"):
        assert f"<td class=\"nowrap\">{label}</td>" in page.text, label
    assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "10.4.0.9" in page.text and "10.4.0.1" in page.text
    failed = a.get("/audit", params={"ok": "no"}).text
    assert '<td class="nowrap">登录失败</td>' in failed and '<td class="nowrap">删除报告</td>' not in failed
    assert a.get("/audit", params={"action": "nonsense"}).status_code == 400
    # viewers cannot read it
    auth.create_user(eng, "reader", "reader-pw-1", "viewer")
    v = client(app, "10.4.0.2")
    login(v, "reader", "reader-pw-1")
    assert v.get("/audit").status_code == 403
    # nor is it in their menu
    assert 'href="/audit"' not in v.get("/reports").text and 'href="/audit"' in a.get("/reports").text
    # the command line reads the same log
    r = cli("user", "audit", "--action", "login.failed", "--json", "--db", tmp_path / "c.db")
    assert r.exit_code == 0, r.output
    recs = [json.loads(line) for line in r.output.splitlines()]
    assert recs and recs[0]["actor"] == evil and recs[0]["ok"] is False and recs[0]["address"] == "10.4.0.9"
    r = cli("user", "audit", "--db", tmp_path / "c.db")
    assert r.exit_code == 0 and "删除报告" in r.output and "上传报告" in r.output
    r = cli("user", "audit", "--action", "bogus", "--db", tmp_path / "c.db")
    assert r.exit_code == 2 and "未知的操作类型" in r.output


def test_a_deletion_and_its_audit_record_commit_together(app, monkeypatch):
    """If the audit record cannot be written, the report is not deleted either."""
    from fazhi.corpus.store import count
    from fazhi.web import audit

    a = client(app, "10.5.0.1")
    a.csrf = login(a)
    rid = a.post("/api/reports", params={"filename": "seed-002.txt"},
                 content=(DEV / "seed-002.txt").read_bytes(),
                 headers={"X-CSRF-Token": a.csrf, "Content-Type": "application/octet-stream"}).json()["id"]
    import sqlite3

    def full(*a, **k):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(audit, "record", full)
    r = a.delete(f"/api/reports/{rid}", headers={"X-CSRF-Token": a.csrf})
    assert r.status_code == 507 and "磁盘已满" in r.json()["detail"]
    assert count(app.state.engine)[0] == 1 and a.get(f"/api/reports/{rid}").status_code == 200
