"""The web's submission actions: the receipt date on upload (form and API), the
withdrawn list with 恢复, 确认计入统计 for a text of another genre; administrators
only; each action audited."""
from __future__ import annotations

from sqlalchemy import select

from test_web_helpers import ADMIN_PASSWORD, TestClient, csrf_of, login, short_report

from fazhi.corpus import db
from fazhi.web import auth

GENRE = ("增城区司法局2024年政府信息公开工作年度报告\n一、总体情况\n2024年，本局主动公开政府信息120条。\n"
         "二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n全年收到申请12件。\n"
         "四、政府信息公开行政复议、行政诉讼情况\n五、存在的主要问题及改进情况\n").encode()


def _row(app, rid):
    with app.state.engine.connect() as c:
        return c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().one()


def test_the_receipt_date_is_recorded_from_the_form_and_the_api(app, admin):
    r = admin.post("/upload", data={"csrf_token": admin.csrf, "received_on": "2025-03-05"},
                   files={"files": ("荔湖.txt", short_report("荔湖街道", "2025-03-20"), "text/plain")},
                   follow_redirects=False)
    assert r.status_code == 303, r.text
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    assert _row(app, rid)["received_on"] == "2025-03-05"
    tok = TestClient(app).post("/api/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert tok.status_code in (200, 201), tok.text
    h = {"Authorization": f"Bearer {tok.json()['token']}"}
    r = TestClient(app).post("/api/reports", params={"filename": "朱村.txt", "received_on": "2025-02-01"},
                   content=short_report("朱村街道", "2025-03-20"), headers=h)
    assert r.status_code == 201, r.text
    assert _row(app, r.json()["id"])["received_on"] == "2025-02-01"
    for bad, words in (("2025-13-01", "年-月-日"), ("2999-01-01", "晚于今天")):
        r = admin.post("/upload", data={"csrf_token": admin.csrf, "received_on": bad},
                       files={"files": ("石滩.txt", short_report("石滩镇", "2025-03-20"), "text/plain")})
        assert r.status_code == 400 and words in r.text
    assert "received_on" in admin.get("/upload").text


def test_withdrawn_reports_are_listed_and_restored(app, admin):
    r = admin.post("/upload", data={"csrf_token": admin.csrf},
                   files={"files": ("荔湖.txt", short_report("荔湖街道", "2025-03-20"), "text/plain")},
                   follow_redirects=False)
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    assert admin.post(f"/reports/{rid}/delete", data={"csrf_token": admin.csrf}, follow_redirects=False).status_code == 303
    assert not _row(app, rid)["is_current"]
    page = admin.get("/withdrawn")
    assert page.status_code == 200 and "荔湖街道" in page.text and f"/reports/{rid}/restore" in page.text
    # a read-only account neither sees the list nor restores
    auth.create_user(app.state.engine, "reader", "reader-pw-123", "viewer")
    v = TestClient(app)
    v.csrf = login(v, "reader", "reader-pw-123")
    assert v.get("/withdrawn").status_code == 403
    assert v.post(f"/reports/{rid}/restore", data={"csrf_token": v.csrf}).status_code == 403
    assert not _row(app, rid)["is_current"]
    r = admin.post(f"/reports/{rid}/restore", data={"csrf_token": admin.csrf, "next": "//evil.example/"},
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{rid}"   # never an open redirect
    assert _row(app, rid)["is_current"] and _row(app, rid)["withdrawn_at"] is None
    assert "没有已撤回的报告" in admin.get("/withdrawn").text
    again = admin.post(f"/reports/{rid}/restore", data={"csrf_token": admin.csrf})
    assert again.status_code == 400 and "没有撤回" in again.text
    audit = admin.get("/audit").text
    assert "恢复已撤回的报告" in audit


def test_another_genre_is_accepted_from_its_page(app, admin):
    r = admin.post("/upload", data={"csrf_token": admin.csrf},
                   files={"files": ("信息公开.txt", GENRE, "text/plain")}, follow_redirects=False)
    rid = int(r.headers["location"].rsplit("/", 1)[1])
    page = admin.get(f"/reports/{rid}").text
    assert "不是法治政府建设年度报告" in page and f"/reports/{rid}/accept" in page
    tok = csrf_of(page)
    r = admin.post(f"/reports/{rid}/accept", data={"csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    row = _row(app, rid)
    assert row["accepted"] and row["is_current"]
    assert f"/reports/{rid}/accept" not in admin.get(f"/reports/{rid}").text
