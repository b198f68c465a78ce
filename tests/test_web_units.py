"""Unit accounts (role ``unit``): a unit submits its own report and revisions, sees
its own submissions and cards, and nothing else — no other page, no API, no other
unit's report; its submission counts for it on 报送情况 whatever unit name the
engine read; the office sees it arrive in the audit log."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from test_web_helpers import short_report as report, TestClient, login

from fazhi.corpus import roster as rm
from fazhi.web import audit, auth


def _client(app, name, pw):
    c = TestClient(app)
    c.csrf = login(c, name, pw)
    return c


def _submit(c, name, data):
    return c.post("/mine/upload", data={"csrf_token": c.csrf}, files={"file": (name, data, "text/plain")},
                  follow_redirects=False)


@pytest.fixture
def units(app):
    eng = app.state.engine
    rm.import_roster(eng, 2024, [rm.RosterUnit("荔湖街道", "township"), rm.RosterUnit("朱村街道", "township")])
    auth.create_user(eng, "荔湖街道司法所", "lihu-pw-123", "unit", unit="荔湖街道")
    auth.create_user(eng, "朱村街道司法所", "zhucun-pw-123", "unit", unit="朱村街道")
    return _client(app, "荔湖街道司法所", "lihu-pw-123"), _client(app, "朱村街道司法所", "zhucun-pw-123")


def test_a_unit_submits_and_sees_only_its_own(app, units):
    lihu, zhucun = units
    # the engine reads an odd unit name from this text; the submission still counts for 荔湖街道
    r = _submit(lihu, "荔湖.txt", report("增城区某某办", "2025-03-20"))
    assert r.status_code == 303, r.text
    page = lihu.get("/mine")
    assert page.status_code == 200 and "荔湖.txt" in page.text and "已报送" in page.text
    rid = int(page.text.split('href="/reports/', 1)[1].split('"', 1)[0])
    own = lihu.get(f"/reports/{rid}")
    assert own.status_code == 200 and 'id="copies"' not in own.text   # its own card, without other units' sources
    assert zhucun.get(f"/reports/{rid}").status_code == 404          # not another unit's
    # a revision: a second submission, both listed with receipt times
    assert _submit(lihu, "荔湖-修改稿.txt", report("增城区某某办", "2025-03-21", "办理行政应诉案件8件。")).status_code == 303
    assert lihu.get("/mine").text.count('href="/reports/') == 2
    # 报送情况 counts the unit as reported (the roster assignment by its account)
    st = rm.status(app.state.engine, 2024)
    by = {u["name"]: u for u in st["units"]}
    # received through its account today: the receipt date decides (today is long after 2025-03-31)
    from fazhi.corpus.submissions import today

    assert by["荔湖街道"]["state"] == "late" and by["朱村街道"]["state"] == "missing"
    assert by["荔湖街道"]["date_kind"] == "received_on" and by["荔湖街道"]["received"] == today().isoformat()
    # the office sees the uploads in the audit log, by the unit's account
    rows = [x for x in audit.query(app.state.engine)[0] if x["action"] == "upload"]
    assert len(rows) == 2 and {x["actor"] for x in rows} == {"荔湖街道司法所"}


@pytest.mark.parametrize("path", ["/reports", "/dashboard", "/status", "/export", "/upload", "/draft", "/users",
                                  "/audit", "/unit?name=荔湖街道", "/api/reports", "/api/me", "/api/stats",
                                  "/reports/1/file", "/reports/1/fix", "/status/template"])
def test_a_unit_opens_nothing_else(app, units, path):
    lihu, _ = units
    r = lihu.get(path, follow_redirects=False)
    assert r.status_code == 403, (path, r.status_code)


def test_a_unit_cannot_write_what_the_office_writes(app, units):
    lihu, _ = units
    for url, data in [("/upload", {}), ("/reports/1/delete", {}), ("/status/roster", {"year": "2024"}),
                      ("/reports/1/fix", {"target": "meta", "field": "unit", "value": "x"}),
                      ("/users", {"username": "evil", "password": "evil-pw-123", "role": "admin"})]:
        r = lihu.post(url, data={**data, "csrf_token": lihu.csrf}, follow_redirects=False)
        assert r.status_code == 403, (url, r.status_code)
    r = lihu.post("/api/reports", params={"filename": "x.txt"}, content=b"x",
                  headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": lihu.csrf})
    assert r.status_code == 403
    assert auth.get_user_by_name(app.state.engine, "evil") is None


def test_home_and_login_lead_a_unit_to_its_page(app, units):
    lihu, _ = units
    assert lihu.get("/", follow_redirects=False).headers["location"] == "/mine"
    assert "本单位报送" in lihu.get("/mine").text and 'href="/reports"' not in lihu.get("/mine").text


def test_unit_accounts_need_a_unit_and_do_not_change_role(app):
    eng = app.state.engine
    with pytest.raises(auth.AuthError, match="需要指定单位"):
        auth.create_user(eng, "无单位", "nounit-pw-1", "unit")
    u = auth.create_user(eng, "甲所", "jiasuo-pw-1", "unit", unit="甲街道")
    with pytest.raises(auth.AuthError, match="不能互换"):
        auth.set_role(eng, u.id, "admin")
    v = auth.create_user(eng, "乙读者", "yiduzhe-pw-1", "viewer")
    with pytest.raises(auth.AuthError, match="不能互换"):
        auth.set_role(eng, v.id, "unit")


def test_cli_adds_a_unit_account(tmp_path):
    from fazhi.cli import main

    dbf = str(tmp_path / "c.db")
    r = CliRunner().invoke(main, ["user", "add", "某某街道司法所", "--role", "unit", "--unit", "某某街道",
                                  "--password", "mmjd-pw-123", "--db", dbf])
    assert r.exit_code == 0 and "报送单位：某某街道" in r.output, r.output
    r = CliRunner().invoke(main, ["user", "add", "某所", "--role", "unit", "--password", "mmjd-pw-123", "--db", dbf])
    assert r.exit_code == 2 and "需要指定单位" in r.output
    r = CliRunner().invoke(main, ["user", "add", "某读者", "--unit", "某某街道", "--password", "mmjd-pw-123", "--db", dbf])
    assert r.exit_code == 2 and "只用于报送单位账号" in r.output
