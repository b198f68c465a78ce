"""The web application under faults and hostile requests, always in Chinese:
a full disk (a real tmpfs), a corrupt or read-only database, 404/405/422 and bad
parameters, huge numbers in URLs, bad filter values, what a viewer may take out
through the API, the upload queue, and slow clients."""
from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from test_db_faults import fill, tmpfs
from test_web_helpers import ADMIN_PASSWORD, LiveServer, TestClient, login, make_app

DEV = Path(__file__).resolve().parent / "data" / "dev"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = ("Not Found", "Method Not Allowed", "Internal Server Error", "Field required", "Input should be",
           "Unprocessable", "Traceback")


def chinese(r, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()["detail"] if r.headers.get("content-type", "").startswith("application/json") else r.text
    assert CJK.search(body), body
    for word in ENGLISH:
        assert word not in r.text, (word, r.text[:300])
    return body


def up(c, name: str, data: bytes):
    return c.post("/api/reports", params={"filename": name}, content=data,
                  headers={"X-CSRF-Token": c.csrf, "Content-Type": "application/octet-stream"})


@pytest.fixture
def admin(tmp_path):
    app = make_app(str(tmp_path / "c.db"), tmp_path)
    c = TestClient(app)
    c.csrf = login(c)
    return c


# ------------------------------------------------------------------ errors in Chinese
def test_404_405_422_in_chinese_for_pages_and_the_api(admin):
    c = admin
    assert "页面或资源不存在" in chinese(c.get("/no/such/page"), 404)
    assert "页面或资源不存在" in chinese(c.get("/api/no/such"), 404)
    assert "页面或资源不存在" in chinese(c.get("/static/nope.js"), 404)
    assert "不支持此请求方法（POST）" in chinese(c.post("/dashboard", data={"csrf_token": c.csrf}), 405)
    assert "不支持此请求方法（PUT）" in chinese(c.put("/api/reports", headers={"X-CSRF-Token": c.csrf}), 405)
    r = c.post("/api/token", content=b"{not json", headers={"Content-Type": "application/json"})
    assert "请求参数有误" in chinese(r, 422)
    r = c.post("/api/token", json={"username": "admin"})
    body = chinese(r, 422)
    assert "password 缺少此参数" in body and r.json()["errors"][0]["msg"] == "缺少此参数"
    r = c.get("/api/search", params={"q": "法治", "limit": "lots"})
    assert "limit 应为整数" in chinese(r, 400)
    assert "不能大于 200" in chinese(c.get("/api/search", params={"q": "法治", "limit": 10 ** 6}), 400)
    assert "不能为空" in chinese(c.get("/api/search", params={"q": ""}), 400)
    chinese(c.get("/reports/abc"), 404)


def test_huge_numbers_in_urls_are_a_chinese_4xx(db_url, tmp_path):
    app = make_app(db_url, tmp_path)
    c = TestClient(app)
    c.csrf = login(c)
    big = "9" * 30
    for url in (f"/reports/{big}", f"/api/reports/{big}", f"/reports/{2 ** 31}", f"/api/reports/{2 ** 31}",
                f"/reports/{big}/file", "/reports/0", "/api/reports/-5"):
        chinese(c.get(url), 404)
    chinese(c.delete(f"/api/reports/{2 ** 40}", headers={"X-CSRF-Token": c.csrf}), 404)
    for url in (f"/users/{big}/delete", f"/users/{2 ** 31}/role", f"/tokens/{big}/delete"):
        chinese(c.post(url, data={"csrf_token": c.csrf, "role": "viewer"}), 404)
    for params in ({"page": big}, {"page": 10 ** 6}, {"per_page": 10 ** 9}, {"year": big}, {"page": "1e400"},
                   {"score_min": "nan"}, {"score_min": "inf"}, {"page": "0"}):
        chinese(c.get("/reports", params=params), 400)
        chinese(c.get("/api/reports", params=params), 400)
    assert c.get(f"/reports/{2 ** 31 - 1}").status_code == 404             # the largest id: just not there


def test_bad_filter_values_are_a_chinese_400_not_ignored(admin):
    c = admin
    assert up(c, "seed-004.txt", (DEV / "seed-004.txt").read_bytes()).status_code == 201
    cases = [({"year": "abc"}, "年度应为整数"), ({"level": "xyz"}, "未知层级“xyz”"), ({"sort": "bad"}, "未知的排序方式"),
             ({"missing": "bad"}, "未知的法定部分"), ({"errors": "maybe"}, "yes 或 no"),
             ({"score_min": "200"}, "0–100"), ({"score_min": "80", "score_max": "20"}, "最低分不能高于最高分")]
    for params, words in cases:
        assert words in chinese(c.get("/reports", params=params), 400), params
        assert words in chinese(c.get("/api/reports", params=params), 400), params
    assert "未知的指标" in chinese(c.get("/dashboard", params={"indicator": "no.such"}), 400)
    assert "未知层级" in chinese(c.get("/dashboard", params={"level": "县"}), 400)
    assert "年度应为整数" in chinese(c.get("/api/stats", params={"year": "abc"}), 400)
    assert "未知层级" in chinese(c.get("/api/stats", params={"level": "xyz"}), 400)
    assert "未知层级" in chinese(c.get("/api/export", params={"level": "xyz"}), 400)
    assert "年度应为整数" in chinese(c.get("/export/download", params={"year": "20x2"}), 400)
    assert "年度应为整数" in chinese(c.get("/api/stats/indicator", params={"indicator": "mediation.cases",
                                                                        "year": "x"}), 400)
    # the Chinese level labels and ids still work
    assert c.get("/api/reports", params={"level": "乡镇(街道)"}).json()["total"] == 1
    assert c.get("/api/reports", params={"level": "township", "year": "2022"}).json()["total"] == 1


# ------------------------------------------------------------------ what a viewer may take out
def test_a_viewer_cannot_page_the_api_for_texts_or_original_files(admin):
    from fazhi.web import auth

    app = admin.app
    rid = up(admin, "seed-002.txt", (DEV / "seed-002.txt").read_bytes()).json()["id"]
    auth.create_user(app.state.engine, "reader", "reader-pw-1", "viewer")
    v = TestClient(app)
    v.csrf = login(v, "reader", "reader-pw-1")
    full = admin.get(f"/api/reports/{rid}").json()
    assert len(full["text"]) > 500
    seen = v.get(f"/api/reports/{rid}").json()
    assert "text" not in seen and "只读账号不能导出报告全文" in seen["note"]
    assert seen["findings"] == full["findings"] and seen["meta"] == full["meta"]
    body = chinese(v.get(f"/reports/{rid}/file"), 403)
    assert "只读账号不能下载原文件" in body
    assert admin.get(f"/reports/{rid}/file").content == (DEV / "seed-002.txt").read_bytes()
    for r in (v.get("/api/export"), v.get("/api/export", params={"format": "csv"}), v.get("/export/download")):
        chinese(r, 403)
    page = v.get(f"/reports/{rid}").text
    assert f"/reports/{rid}/file" not in page and f'href="/api/reports/{rid}"' not in page
    assert f"/reports/{rid}/file" in admin.get(f"/reports/{rid}").text
    assert "只读账号不能导出" in v.get("/export").text


def test_the_upload_page_says_scans_are_read_by_ocr(admin):
    page = admin.get("/upload").text
    assert "带文本层" not in page and "OCR" in page
    import io
    import zipfile

    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("a.txt", "x")
    body = chinese(up(admin, "a.zip", z.getvalue()), 400)
    assert "带文本层" not in body and "OCR" in body


# ------------------------------------------------------------------ the database fails
def test_a_full_disk_answers_507_in_chinese_and_keeps_what_was_stored(tmp_path):
    with tmpfs(tmp_path / "disk", "24m") as disk:
        app = make_app(str(disk / "c.db"), disk)
        c = TestClient(app)
        c.csrf = login(c)
        stored = {}
        for f in sorted(DEV.glob("seed-*.txt")):
            r = up(c, f.name, f.read_bytes())
            assert r.status_code == 201
            stored[r.json()["id"]] = f.read_bytes()
        kept_before = sorted(p.name for p in (disk / "files").rglob("*.*"))
        excerpts = sorted(DEV.glob("excerpt-*.txt"))
        from fazhi.web import auth

        token = auth.create_token(app.state.engine, auth.get_user_by_name(app.state.engine, "admin").id, "bot")
        filler = fill(disk, leave=0)
        # the original file cannot be kept
        body = chinese(up(c, excerpts[0].name, excerpts[0].read_bytes()), 507)
        assert "磁盘已满" in body and "未入库" in body
        # without kept files the database itself refuses the write
        app.state.settings.keep_files = False
        r = up(c, excerpts[1].name, excerpts[1].read_bytes())
        assert "磁盘已满" in chinese(r, 507) and r.json()["fault"] == "disk_full"
        # the form says it on its page
        r = c.post("/upload", data={"csrf_token": c.csrf},
                   files={"files": (excerpts[2].name, excerpts[2].read_bytes(), "text/plain")})
        assert "磁盘已满" in chinese(r, 507)
        # many at once over a real socket: every answer Chinese, none a 500
        import httpx

        with LiveServer(app) as srv:
            def send(f):
                with httpx.Client(base_url=srv.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as h:
                    return h.post("/api/reports", params={"filename": f.name}, content=f.read_bytes())

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(send, excerpts[3:15]))
        assert len(answers) == 12 and all(a.status_code == 507 for a in answers), [a.status_code for a in answers]
        assert all("磁盘已满" in a.json()["detail"] for a in answers)
        # reading still works, and logging in (its audit record is reported, not required)
        for url in ("/reports", "/dashboard", "/api/reports", f"/reports/{min(stored)}", "/export"):
            assert c.get(url).status_code == 200, url
        fresh = TestClient(app)
        login(fresh)
        # room again: nothing was lost, nothing half-written, and uploads work
        filler.unlink()
        app.state.settings.keep_files = True
        r = up(c, excerpts[0].name, excerpts[0].read_bytes())
        assert r.status_code == 201, r.text
        con = sqlite3.connect(disk / "c.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        con.close()
        assert n == len(stored) + 1
        kept = sorted(p.name for p in (disk / "files").rglob("*.*"))
        assert set(kept_before) < set(kept) and len(kept) == len(kept_before) + 1   # no orphan, no .tmp
        for rid, data in stored.items():
            assert c.get(f"/reports/{rid}/file").content == data


def test_a_corrupt_database_is_a_chinese_503_and_serve_refuses_to_start(tmp_path):
    app = make_app(str(tmp_path / "c.db"), tmp_path)
    c = TestClient(app)
    c.csrf = login(c)
    for f in sorted(DEV.glob("seed-*.txt")):
        assert up(c, f.name, f.read_bytes()).status_code == 201
    app.state.engine.dispose()
    con = sqlite3.connect(tmp_path / "c.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    con.close()
    with open(tmp_path / "c.db", "r+b") as fh:
        fh.write(b"\xff" * 100)
    for url in ("/reports", "/dashboard", "/api/reports", "/api/stats"):
        body = chinese(c.get(url), 503)
        assert "数据库已损坏（请用备份恢复）" in body and "文件头已损坏" in body
    assert "数据库已损坏" in chinese(up(c, "x.txt", (DEV / "excerpt-002.txt").read_bytes()), 503)
    env = {**os.environ, "FAZHI_ADMIN_PASSWORD": ADMIN_PASSWORD}
    env.pop("FAZHI_DB", None)
    r = subprocess.run([sys.executable, "-c", "from fazhi.cli import main; main()", "serve", "--db",
                        str(tmp_path / "c.db"), "--port", "1"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 3 and "数据库已损坏（请用备份恢复）" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_serve_on_read_only_media_says_so(tmp_path):
    with tmpfs(tmp_path / "media", "16m") as media:
        make_app(str(media / "c.db"), media).state.engine.dispose()
        subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
        try:
            env = {**os.environ, "FAZHI_ADMIN_PASSWORD": ADMIN_PASSWORD}
            env.pop("FAZHI_DB", None)
            r = subprocess.run([sys.executable, "-c", "from fazhi.cli import main; main()", "serve", "--db",
                                str(media / "c.db"), "--port", "1"], capture_output=True, text=True, timeout=60,
                               env=env)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(media)], check=True)
        assert r.returncode == 3 and "数据库只读" in r.stderr and "Traceback" not in r.stderr, r.stderr


# ------------------------------------------------------------------ bounded upload queue
def test_uploads_beyond_the_queue_get_a_chinese_503(tmp_path, monkeypatch):
    import httpx

    from fazhi.web import auth, uploads

    app = make_app(str(tmp_path / "c.db"), tmp_path, upload_workers=1, upload_queue=1, upload_queue_mb=1)
    gate = threading.Event()
    real = uploads.process
    running = [0, 0]
    lock = threading.Lock()

    def slow(*a, **k):
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        try:
            gate.wait(30)
            return real(*a, **k)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(uploads, "process", slow)
    token = auth.create_token(app.state.engine, auth.get_user_by_name(app.state.engine, "admin").id, "t")
    files = sorted(DEV.glob("*.txt"))[:6]
    with LiveServer(app) as srv:
        def send(f, data=None):
            with httpx.Client(base_url=srv.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as h:
                return h.post("/api/reports", params={"filename": f.name}, content=data or f.read_bytes())

        with ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(send, f) for f in files]
            for _ in range(3000):
                if sum(x.done() for x in futs) >= 4:
                    break
                time.sleep(0.01)
            big = send(files[0], b"x" * 1_500_000 + b"\n")       # over the queue's byte budget
            gate.set()
            answers = [x.result() for x in futs]
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 201, 503, 503, 503, 503], codes
    assert all("同时上传的文件过多" in a.json()["detail"] for a in answers if a.status_code == 503)
    assert big.status_code == 503 and "同时上传的文件过多" in big.json()["detail"]
    assert running[1] == 1


# ------------------------------------------------------------------ slow clients
def _closed_by_server(sock: socket.socket, drip: bytes, budget: float = 20.0) -> bool:
    """Send ``drip`` a byte at a time; True when the server closes the connection
    before all of it is sent (the harness gives up after ``budget`` seconds)."""
    sock.settimeout(0.25)
    end = time.monotonic() + budget
    for b in drip:
        if time.monotonic() > end:
            return False
        try:
            sock.send(bytes([b]))
            if sock.recv(64) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def test_slow_clients_are_cut_and_others_still_served(tmp_path):
    import httpx

    app = make_app(str(tmp_path / "c.db"), tmp_path, header_timeout=1.0, body_timeout=1.5)
    with LiveServer(app) as srv:
        slowloris = socket.create_connection(("127.0.0.1", srv.port))
        assert _closed_by_server(slowloris, b"GET /login HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 400)
        slow_body = socket.create_connection(("127.0.0.1", srv.port))
        slow_body.sendall(b"POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 5000\r\n\r\n")
        assert _closed_by_server(slow_body, b'{"username": "' + b"a" * 4000)
        # a keep-alive connection that sends a second request slowly is cut too
        ka = socket.create_connection(("127.0.0.1", srv.port))
        ka.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        ka.settimeout(10)
        assert ka.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(ka, b"GET /login HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"b" * 400)
        assert httpx.get(srv.url + "/login", timeout=10).status_code == 200


def test_oversized_headers_and_too_many_requests_are_refused_in_chinese(tmp_path, monkeypatch):
    import httpx

    from fazhi.web import uploads

    app = make_app(str(tmp_path / "c.db"), tmp_path, max_requests=2)
    gate = threading.Event()
    real = uploads.process
    monkeypatch.setattr(uploads, "process", lambda *a, **k: (gate.wait(30), real(*a, **k))[1])
    from fazhi.web import auth

    token = auth.create_token(app.state.engine, 1, "t")
    with LiveServer(app) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000)   # not yet complete
        s.settimeout(10)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 400") and "请求头过大".encode() in answer, answer[:300]
        # two uploads in progress fill the limit of requests in progress: the next request waits for nothing
        with ThreadPoolExecutor(2) as pool:
            futs = [pool.submit(httpx.post, srv.url + "/api/reports", params={"filename": f.name},
                                content=f.read_bytes(), headers={"Authorization": f"Bearer {token}"}, timeout=60)
                    for f in sorted(DEV.glob("seed-*.txt"))[:2]]
            for _ in range(3000):
                if app.state.upload_pool.pending >= 2:
                    break
                time.sleep(0.01)
            busy = httpx.get(srv.url + "/login", timeout=30)
            gate.set()
            done = [f.result() for f in futs]
        assert busy.status_code == 503 and "同时处理的请求过多" in busy.text and busy.headers["retry-after"]
        assert [d.status_code for d in done] == [201, 201]
        assert httpx.get(srv.url + "/login", timeout=30).status_code == 200


def test_a_client_that_stops_reading_is_cut():
    """The write deadline: a paused transport (the client reads nothing) is aborted."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from fazhi.web.server import GuardedH11Protocol

    class Transport:
        aborted = False

        def get_extra_info(self, name, default=None):
            return {"peername": ("127.0.0.1", 5), "sockname": ("127.0.0.1", 6)}.get(name, default)

        def is_closing(self):
            return self.aborted

        def abort(self):
            self.aborted = True

        def close(self):
            self.aborted = True

        def pause_reading(self):
            pass

        def resume_reading(self):
            pass

        def write(self, data):
            pass

    async def noop(scope, receive, send):
        pass

    async def scenario():
        cls = type("P", (GuardedH11Protocol,), {"write_timeout": 0.05, "header_timeout": 60.0})
        proto = cls(Config(app=noop), ServerState(), {}, _loop=asyncio.get_running_loop())
        t = Transport()
        proto.connection_made(t)
        proto.pause_writing()            # the client's window is full: it reads nothing
        for _ in range(200):
            if t.aborted:
                break
            await asyncio.sleep(0.01)
        cut = t.aborted
        t2 = Transport()
        proto2 = cls(Config(app=noop), ServerState(), {}, _loop=asyncio.get_running_loop())
        proto2.connection_made(t2)
        proto2.pause_writing()
        proto2.resume_writing()          # it read again in time
        await asyncio.sleep(0.15)
        kept = not t2.aborted
        proto.connection_lost(None)
        proto2.connection_lost(None)
        return cut, kept

    cut, kept = asyncio.run(scenario())
    assert cut is True and kept is True
