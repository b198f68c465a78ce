"""The web application through FastAPI's TestClient: accounts, CSRF, roles, uploads
(content types, size limit, duplicates), list / search / stats / export, escaping.
The core tests run on SQLite and PostgreSQL (``db_url``)."""
import io
import re
from pathlib import Path

import pytest

from test_web_helpers import ADMIN_PASSWORD, TestClient, csrf_of, login, make_app, next_year_of

DEV = Path(__file__).resolve().parent / "data" / "dev"
N_DEV = len(list(DEV.glob("*.txt")))
XSS = "<script>alert(1)</script>"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def sqlite_app(tmp_path):
    return make_app(str(tmp_path / "corpus.db"), tmp_path)


def upload(c, path_or_name, data: bytes | None = None, **headers):
    name = Path(path_or_name).name
    if data is None:
        data = Path(path_or_name).read_bytes()
    h = {"Content-Type": "application/octet-stream"}
    if getattr(c, "csrf", None):
        h["X-CSRF-Token"] = c.csrf
    h.update(headers)
    return c.post("/api/reports", params={"filename": name}, content=data, headers=h)


def upload_all(c) -> dict[str, int]:
    ids = {}
    for f in sorted(DEV.glob("*.txt")):
        r = upload(c, f)
        assert r.status_code == 201, r.text
        assert r.json()["duplicate"] is False
        ids[f.name] = r.json()["id"]
    return ids


def viewer_client(app) -> TestClient:
    from fazhi.web import auth

    auth.create_user(app.state.engine, "reader", "reader-pw-1", "viewer")
    c = TestClient(app)
    c.csrf = login(c, "reader", "reader-pw-1")
    return c


# ------------------------------------------------------------------ login, sessions, CSRF
def test_pages_and_api_need_login(sqlite_app):
    c = TestClient(sqlite_app)
    r = c.get("/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = c.get("/api/reports")
    assert r.status_code == 401 and CJK.search(r.json()["detail"])
    r = c.get("/api/reports", headers={"Authorization": "Bearer fz_not-a-token"})
    assert r.status_code == 401


def test_login_wrong_password_then_right(sqlite_app):
    c = TestClient(sqlite_app)
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "admin", "password": "wrong-password", "csrf_token": tok})
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = c.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": tok,
                               "next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    assert c.get("/api/me").json()["role"] == "admin"


def test_csrf_is_required_on_every_unsafe_request(admin):
    f = DEV / "seed-000.txt"
    r = admin.post("/api/reports", params={"filename": f.name}, content=f.read_bytes())
    assert r.status_code == 403 and "CSRF" in r.json()["detail"] and CJK.search(r.json()["detail"])
    r = upload(admin, f, **{"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = admin.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = admin.post("/users", data={"username": "x1", "password": "12345678", "role": "admin"})
    assert r.status_code == 403
    fresh = TestClient(admin.app)
    r = fresh.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})  # login CSRF
    assert r.status_code == 403
    assert upload(admin, f).status_code == 201  # with the token it works
    rid = admin.get("/api/reports").json()["reports"][0]["id"]
    assert admin.delete(f"/api/reports/{rid}").status_code == 403
    assert admin.post(f"/reports/{rid}/delete", data={"csrf_token": "nope"}).status_code == 403
    assert admin.get(f"/api/reports/{rid}").status_code == 200


def test_viewer_reads_but_cannot_add_delete_or_export(app):
    a = TestClient(app)
    a.csrf = login(a)
    rid = upload(a, DEV / "seed-002.txt").json()["id"]
    v = viewer_client(app)
    assert v.get("/api/reports").json()["total"] == 1
    assert v.get(f"/reports/{rid}").status_code == 200
    assert v.get("/dashboard").status_code == 200
    for r in (v.delete(f"/api/reports/{rid}", headers={"X-CSRF-Token": v.csrf}),
              v.post(f"/reports/{rid}/delete", data={"csrf_token": v.csrf}),
              v.get("/api/export"), v.get("/export/download"),
              upload(v, DEV / "seed-000.txt"), v.get("/users")):
        assert r.status_code == 403, r.text
        assert "管理员" in r.text
    assert v.get("/api/reports").json()["total"] == 1
    assert "只读账号不能导出" in v.get("/export").text
    assert "删除" not in re.sub(r"<script.*?</script>", "", v.get(f"/reports/{rid}").text.split('id="card"')[0])


# ------------------------------------------------------------------ uploads
def test_upload_dev_reports_and_duplicates(admin):
    from fazhi.corpus.store import count

    ids = upload_all(admin)
    assert len(set(ids.values())) == len(ids) == N_DEV
    again = upload(admin, DEV / "seed-004.txt")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == ids["seed-004.txt"]
    # the same bytes under another name are the same report
    renamed = upload(admin, "另一个名字.txt", (DEV / "seed-004.txt").read_bytes())
    assert renamed.json()["id"] == ids["seed-004.txt"] and renamed.json()["duplicate"]
    assert count(admin.app.state.engine) == (N_DEV, 0)
    one = admin.get(f"/api/reports/{ids['seed-004.txt']}").json()
    assert one["schema"] == "fazhi.report/1" and one["meta"]["unit"] == "礼嘉街道"
    assert one["source"]["path"] == "seed-004.txt" and one["findings"] is not None


def test_upload_over_the_limit_is_413_in_chinese(tmp_path):
    app = make_app(str(tmp_path / "c.db"), tmp_path, max_bytes=50_000)
    c = TestClient(app)
    c.csrf = login(c)
    big = (DEV / "seed-000.txt").read_bytes() * 10
    assert len(big) > 50_000
    r = upload(c, "big.txt", big)
    assert r.status_code == 413 and "文件过大" in r.json()["detail"] and "MB" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit holds while the body streams
        for _ in range(100):
            yield b"x" * 10_000

    r = c.post("/api/reports", params={"filename": "stream.txt"}, content=chunks(),
               headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == 413 and "文件过大" in r.json()["detail"]
    from fazhi.corpus.store import count

    assert count(app.state.engine) == (0, 0)


def test_default_limit_is_30_mb(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    assert sqlite_app.state.settings.max_bytes == 30 * 1024 * 1024
    r = upload(c, "huge.txt", b"a" * (30 * 1024 * 1024 + 1))
    assert r.status_code == 413 and "30 MB" in r.json()["detail"]


def _docx_bytes(text: str) -> bytes:
    import docx

    d = docx.Document()
    for line in text.splitlines():
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_types_are_checked_by_content_not_by_name(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    cases = [
        ("report.txt", bytes(range(256)) * 40, "不是文本"),                     # binary as .txt
        ("report.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "PNG"),
        ("report.docx", b"PK\x03\x04" + b"\x00" * 100, "损坏"),
        ("report.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, ".docx"),
        ("empty.txt", b"   \n", "为空"),
    ]
    import zipfile

    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("a.txt", "hello")
    cases.append(("report.docx", zbuf.getvalue(), "zip 压缩包"))
    for name, data, word in cases:
        r = upload(c, name, data)
        assert r.status_code == 400, (name, r.text)
        assert word in r.json()["detail"] and CJK.search(r.json()["detail"]), r.json()
    text = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    r = upload(c, "disguised.txt", _docx_bytes(text))       # a Word file named .txt
    assert r.status_code == 201 and r.json()["format"] == "docx"
    page = "<!DOCTYPE html><html><head><title>t</title></head><body>" + "".join(
        f"<p>{line}</p>" for line in (DEV / "seed-000.txt").read_text(encoding="utf-8").splitlines()) + "</body></html>"
    r = upload(c, "page.pdf", page.encode("utf-8"))          # a web page named .pdf
    assert r.status_code == 201 and r.json()["format"] == "html"
    r = upload(c, "gbk.txt", (DEV / "seed-004.txt").read_text(encoding="utf-8").encode("gb18030"))
    assert r.status_code == 201 and r.json()["format"] == "txt"


def test_sniff_direct():
    from fazhi.web.uploads import UploadError, safe_name, sniff

    assert sniff(b"%PDF-1.7\n...") == "pdf"
    assert sniff(b"\xef\xbb\xbf# \xe6\xa0\x87\xe9\xa2\x98\n", "a.md") == "md"
    assert sniff("<script>alert(1)</script>\n正文".encode()) == "txt"   # a tag inside text is text
    assert sniff(b"  <!doctype html><p>x") == "html"
    assert sniff("﻿报告".encode("utf-16")) == "txt"
    with pytest.raises(UploadError):
        sniff(b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "a.txt")
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\报告.docx") == "报告.docx"
    assert safe_name("a\x00b\u202e.txt") == "ab.txt"
    assert safe_name("") == "未命名"


def test_uploads_are_kept_under_generated_names(sqlite_app, tmp_path):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    data = (DEV / "seed-000.txt").read_bytes()
    r = upload(c, "../../../outside.txt", data)
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "outside.txt"
    kept = list((tmp_path / "files").rglob("*.*"))
    assert [p.name for p in kept] == [f"{body['sha256']}.txt"]
    assert not (tmp_path.parent / "outside.txt").exists()
    dl = c.get(f"/reports/{body['id']}/file")
    assert dl.status_code == 200 and dl.content == data
    assert "attachment" in dl.headers["content-disposition"]
    assert dl.headers["content-type"] == "application/octet-stream"
    assert c.delete(f"/api/reports/{body['id']}", headers={"X-CSRF-Token": c.csrf}).status_code == 204
    assert not list((tmp_path / "files").rglob("*.txt"))
    # the delete is a withdrawal, remembered by sha256: gone from the web, the same bytes refused
    assert c.get(f"/api/reports/{body['id']}").status_code == 404
    assert c.get("/api/reports").json()["total"] == 0
    r = upload(c, "again.txt", data)
    assert r.status_code == 409 and "已撤回" in r.json()["detail"] and "restore-withdrawn" in r.json()["detail"]
    assert not list((tmp_path / "files").rglob("*.txt"))


def test_multipart_upload_and_form_fallback(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    f = DEV / "excerpt-002.txt"
    r = c.post("/api/reports", files={"file": (f.name, f.read_bytes(), "text/plain")},
               headers={"X-CSRF-Token": c.csrf})
    assert r.status_code == 201, r.text
    # the page's no-JavaScript form: one file goes straight to its card
    g = DEV / "excerpt-004.txt"
    r = c.post("/upload", data={"csrf_token": c.csrf}, files={"files": (g.name, g.read_bytes(), "text/plain")},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/reports/")
    r = c.post("/upload", data={"csrf_token": c.csrf},
               files=[("files", (f.name, f.read_bytes(), "text/plain")), ("files", ("bad.txt", b"\x00\x01" * 50, "text/plain"))])
    assert r.status_code == 200 and "已在库中" in r.text and "不是文本" in r.text


# ------------------------------------------------------------------ API tokens
def test_api_token_uploads_without_csrf(sqlite_app):
    c = TestClient(sqlite_app)
    r = c.post("/api/token", json={"username": "admin", "password": "wrong-pw-123"})
    assert r.status_code == 401
    r = c.post("/api/token", json={"username": "admin", "password": ADMIN_PASSWORD, "name": "脚本"})
    assert r.status_code == 200
    token = r.json()["token"]
    bot = TestClient(sqlite_app, cookies=None)
    h = {"Authorization": f"Bearer {token}"}
    r = bot.post("/api/reports", params={"filename": "seed-000.txt"}, content=(DEV / "seed-000.txt").read_bytes(),
                 headers=h)
    assert r.status_code == 201
    assert bot.get("/api/me", headers=h).json()["username"] == "admin"
    from fazhi.web import auth

    eng = sqlite_app.state.engine
    [t] = auth.list_tokens(eng)
    assert t["name"] == "脚本" and t["prefix"] == token[:9]
    assert token not in str(t)            # only the hash is stored
    auth.revoke_token(eng, t["id"])
    assert bot.get("/api/me", headers=h).status_code == 401


# ------------------------------------------------------------------ list, search, stats, export
def test_list_search_stats_export(admin):
    from openpyxl import load_workbook

    ids = upload_all(admin)
    lst = admin.get("/api/reports", params={"per_page": 5}).json()
    assert lst["total"] == N_DEV and len(lst["reports"]) == 5
    counties = admin.get("/api/reports", params={"level": "county"}).json()
    assert counties["total"] >= 1 and all(r["level"] == "county" for r in counties["reports"])
    errs = admin.get("/api/reports", params={"errors": "yes"}).json()["reports"]
    assert errs and all(r["n_errors"] > 0 for r in errs)
    miss = admin.get("/api/reports", params={"missing": "next_year"}).json()["reports"]
    assert miss and all("next_year" in r["parts_missing"] for r in miss)
    hi = admin.get("/api/reports", params={"score_min": 70}).json()["reports"]
    assert hi and all(r["score_total"] >= 70 for r in hi)
    y = admin.get("/api/reports", params={"year": 2022}).json()["reports"]
    assert y and all(r["year"] == 2022 for r in y)
    assert admin.get("/api/reports", params={"missing": "nonsense"}).status_code == 400
    # the pages with the same filters
    page = admin.get("/reports", params={"level": "county", "errors": "yes", "sort": "score_asc"})
    assert page.status_code == 200 and "report-table" in page.text
    # search
    hits = admin.get("/api/search", params={"q": "行政复议"}).json()
    assert hits and all("【" in h["snippet"] for h in hits)
    page = admin.get("/reports", params={"q": "行政复议"}).text
    assert "<mark>行政复议</mark>" in page
    # stats
    st = admin.get("/api/stats").json()
    assert st["corpus"]["reports"] == N_DEV
    dash = st["dashboard"]
    assert dash["parts"]["levels"] and dash["timeliness"]["series"] and sum(dash["scores"]["counts"]) == N_DEV
    assert dash["heatmap"]["cells"] and dash["indicator"]["values"]
    ind = admin.get("/api/stats/indicator", params={"indicator": dash["indicator"]["indicator"]}).json()
    assert ind["units"]
    assert admin.get("/api/stats/indicator", params={"indicator": "no.such"}).status_code == 400
    assert admin.get("/dashboard").status_code == 200
    # export
    r = admin.get("/api/export")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content), read_only=True)
    assert {"概况", "报告清单", "问题清单", "督办清单", "合规矩阵"} <= set(wb.sheetnames)
    assert sum(1 for _ in wb["报告清单"].iter_rows()) >= 19
    r = admin.get("/export/download", params={"year": 2022})
    assert r.status_code == 200 and len(r.content) > 1000
    csv = admin.get("/api/export", params={"format": "csv"})
    assert csv.status_code == 200 and "单位" in csv.content.decode("utf-8-sig")
    # delete through the page form
    rid = ids["seed-000.txt"]
    r = admin.post(f"/reports/{rid}/delete", data={"csrf_token": admin.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert admin.get(f"/api/reports/{rid}").status_code == 404
    assert admin.get(f"/reports/{rid}").status_code == 404
    assert admin.get("/api/reports").json()["total"] == N_DEV - 1


def test_report_text_and_file_names_are_escaped(admin):
    name = '<img src=x onerror="alert(1)">.txt'
    body = (XSS + "\n" + (DEV / "excerpt-004.txt").read_text(encoding="utf-8") + "\n" + XSS + " 行政复议\n")
    r = upload(admin, name, body.encode("utf-8"))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    pages = [admin.get(f"/reports/{rid}").text, admin.get("/reports").text,
             admin.get("/reports", params={"q": "alert"}).text, admin.get("/dashboard").text]
    unit = r.json()["unit"]
    if unit:
        pages.append(admin.get("/unit", params={"name": unit}).text)
    for html in pages:
        assert XSS not in html
        assert "<img src=x" not in html
    card = pages[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.txt" in pages[1] or "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.txt" in pages[1]
    # the dashboard's embedded JSON cannot close its <script> element
    assert "</script>" not in pages[3].split('id="dashboard-data">', 1)[1].split("</script>", 1)[0]
    # every page forbids inline script and foreign loads
    csp = admin.get(f"/reports/{rid}").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    # a search for the payload's own words shows it as text
    assert "&lt;script&gt;" in pages[2]


# ------------------------------------------------------------------ units, users, misc
def test_unit_page_trends_copies_and_follow(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    a = upload(c, DEV / "seed-004.txt").json()["id"]
    b = upload(c, "礼嘉街道-2023.txt", next_year_of(text).encode("utf-8")).json()["id"]
    d = c.get("/api/unit", params={"name": "礼嘉街道"}).json()
    assert d["years"] == [2022, 2023] and [r["id"] for r in d["reports"]] == [a, b]
    assert any(t["values"][0] != t["values"][1] for t in d["trends"] if None not in t["values"])
    assert d["copies"] and all(x["kind"] == "沿用本单位往年表述" for x in d["copies"])
    assert d["follow"] and d["follow"][0]["year"] == 2022 and d["follow"][0]["total"] >= 1
    page = c.get("/unit", params={"name": "礼嘉街道"})
    assert page.status_code == 200 and "指标趋势" in page.text and "承诺落实" in page.text
    assert c.get("/unit", params={"name": "没有这个单位"}).status_code == 404


def test_user_management(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    r = c.post("/users", data={"username": "张三", "password": "zhangsan-1", "role": "viewer", "csrf_token": c.csrf},
               follow_redirects=False)
    assert r.status_code == 303
    r = c.post("/users", data={"username": "张三", "password": "zhangsan-1", "role": "viewer", "csrf_token": c.csrf})
    assert r.status_code == 400 and "已存在" in r.text
    r = c.post("/users", data={"username": "李四", "password": "short", "role": "viewer", "csrf_token": c.csrf})
    assert r.status_code == 400 and "至少 8 个字符" in r.text
    from fazhi.web import auth

    eng = sqlite_app.state.engine
    me = auth.get_user_by_name(eng, "admin")
    zs = auth.get_user_by_name(eng, "张三")
    assert zs.role == "viewer" and zs.password_hash.startswith("$argon2")
    assert c.post(f"/users/{me.id}/delete", data={"csrf_token": c.csrf}).status_code == 400
    # another session of 张三 ends when the password changes
    other = TestClient(sqlite_app)
    other.csrf = login(other, "张三", "zhangsan-1")
    assert other.get("/api/me").status_code == 200
    r = c.post(f"/users/{zs.id}/password", data={"password": "zhangsan-2", "csrf_token": c.csrf},
               follow_redirects=False)
    assert r.status_code == 303
    assert other.get("/api/me").status_code == 401
    # own password
    r = c.post("/account/password", data={"old": ADMIN_PASSWORD, "new": "new-admin-pw", "again": "new-admin-pw",
                                          "csrf_token": c.csrf}, follow_redirects=False)
    assert r.status_code == 303 and c.get("/api/me").status_code == 200
    assert auth.authenticate(eng, "admin", "new-admin-pw") is not None
    # the last administrator stays
    with pytest.raises(auth.AuthError):
        auth.set_role(eng, me.id, "viewer")
    r = c.post("/account/tokens", data={"name": "上传脚本", "csrf_token": c.csrf})
    assert r.status_code == 200 and "只显示这一次" in r.text
    token = re.search(r'id="new-token">([^<]+)<', r.text).group(1)
    assert TestClient(sqlite_app).get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_first_start_prints_a_one_time_admin_password(tmp_path, monkeypatch):
    monkeypatch.delenv("FAZHI_ADMIN_PASSWORD", raising=False)
    said = []
    db = str(tmp_path / "c.db")
    app = make_app(db, tmp_path, admin_password=None, announce=said.append)
    assert len(said) == 1
    pw = re.search(r"初始密码：(\S+)", said[0]).group(1)
    assert len(pw) >= 12
    c = TestClient(app)
    login(c, "admin", pw)
    again = []
    make_app(db, tmp_path, admin_password=None, announce=again.append)
    assert again == []  # only on the first start
    # and the session secret is generated once and kept in the database
    from fazhi.web import auth

    assert auth.session_secret(app.state.engine) == auth.session_secret(app.state.engine)


def test_openapi_docs_static_and_headers(sqlite_app):
    c = TestClient(sqlite_app)
    spec = c.get("/openapi.json").json()
    for p in ("/api/reports", "/api/reports/{rid}", "/api/search", "/api/stats", "/api/export", "/api/token"):
        assert p in spec["paths"], p
    assert {"post", "get"} <= set(spec["paths"]["/api/reports"])
    assert "delete" in spec["paths"]["/api/reports/{rid}"]
    docs = c.get("/api/docs")
    assert docs.status_code == 200 and "/api/reports" in docs.text and "cdn" not in docs.text.lower()
    js = c.get("/static/echarts.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000
    assert c.get("/static/echarts.LICENSE.txt").status_code == 200
    assert c.get("/card.css").status_code == 200
    r = TestClient(sqlite_app).get("/login")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=lax" in r.headers["set-cookie"].lower()
    # no page loads anything from another host
    c.csrf = login(c)
    for path in ("/upload", "/reports", "/dashboard", "/export", "/users", "/account"):
        html = c.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path


def test_concurrent_uploads_of_the_same_file_store_it_once(db_url, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from fazhi.corpus import db as dbm
    from fazhi.corpus.store import count
    from fazhi.web.uploads import process

    eng = dbm.connect(db_url)
    files = [DEV / "seed-000.txt", DEV / "seed-002.txt"] * 6
    with ThreadPoolExecutor(12) as pool:
        outs = list(pool.map(lambda f: process(eng, f.read_bytes(), f.name, max_bytes=10**7,
                                               data_dir=tmp_path / "files"), files))
    by_file = {}
    for f, o in zip(files, outs):
        by_file.setdefault(f.name, set()).add(o.report_id)
    assert all(len(v) == 1 for v in by_file.values())
    assert sum(not o.duplicate for o in outs) == 2
    assert count(eng) == (2, 0)


def test_fazhi_serve_starts_and_prints_the_one_time_password(tmp_path):
    import os
    import subprocess
    import sys
    import threading
    import time

    import httpx

    from test_web_helpers import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FAZHI_ADMIN_PASSWORD", "FAZHI_SECRET", "FAZHI_DB")}
    proc = subprocess.Popen([sys.executable, "-c", "from fazhi.cli import main; main()", "serve",
                             "--db", str(tmp_path / "c.db"), "--port", str(port), "--data-dir", str(tmp_path / "f")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        text = "".join(lines)
        m = re.search(r"初始密码：(\S+)", text)
        assert m, text
        r = httpx.post(f"http://127.0.0.1:{port}/api/token", json={"username": "admin", "password": m.group(1)})
        assert r.status_code == 200 and r.json()["token"].startswith("fz_")
        assert f"http://127.0.0.1:{port}/" in text
    finally:
        proc.terminate()
        proc.wait(10)


def test_user_commands(tmp_path):
    from click.testing import CliRunner

    from fazhi.cli import main

    db = str(tmp_path / "c.db")
    run = CliRunner().invoke
    r = run(main, ["user", "add", "王五", "--role", "admin", "--password", "wangwu-pw-1", "--db", db])
    assert r.exit_code == 0 and "已添加用户 王五" in r.output
    r = run(main, ["user", "add", "王五", "--password", "wangwu-pw-1", "--db", db])
    assert r.exit_code == 2
    r = run(main, ["user", "token", "王五", "--db", db])
    assert r.exit_code == 0 and r.output.strip().startswith("fz_")
    r = run(main, ["user", "passwd", "王五", "--password", "wangwu-pw-2", "--db", db])
    assert r.exit_code == 0
    r = run(main, ["user", "list", "--db", db])
    assert "王五" in r.output and "管理员" in r.output
    from fazhi.corpus import db as dbm
    from fazhi.web import auth

    assert auth.authenticate(dbm.connect(db), "王五", "wangwu-pw-2")


def test_report_page_copy_summary(sqlite_app):
    c = TestClient(sqlite_app)
    c.csrf = login(c)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    a = upload(c, DEV / "seed-004.txt").json()["id"]
    b = upload(c, "礼嘉街道-2023.txt", next_year_of(text).encode("utf-8")).json()["id"]
    page = c.get(f"/reports/{b}")    # looked up in the copy index on every view: no link to ask for it
    assert page.status_code == 200 and "?copies=1" not in page.text
    assert "沿用本单位往年表述" in page.text and f'<a href="/reports/{a}">' in page.text
    assert "相互雷同（先后待核）" in page.text and "通用表述" in page.text
    page = c.get(f"/reports/{a}")
    assert "?copies=1" not in page.text and "抄自他单位" in page.text


def test_an_upload_of_the_same_report_in_another_format_is_not_counted_twice(sqlite_app):
    import metamorphic as mm

    c = TestClient(sqlite_app)
    c.csrf = login(c)
    text = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    first = upload(c, "阴平镇.txt", text.encode("utf-8"))
    assert first.status_code == 201 and first.json()["counted"] and first.json()["note"] is None
    again = upload(c, "阴平镇.docx", mm.to_docx(mm.document_lines(text)))
    assert again.status_code == 201, again.text   # stored: another file of the same report
    body = again.json()
    assert not body["counted"] and "不重复计数" in body["note"]
    assert c.get("/api/reports").json()["total"] == 1
    assert c.get(f"/api/reports/{body['id']}").status_code == 200   # still reachable by its id
    page = c.get(f"/reports/{body['id']}")
    assert page.status_code == 200 and 'id="not-counted"' in page.text and "不重复计数" in page.text
    assert 'id="not-counted"' not in c.get(f"/reports/{first.json()['id']}").text
