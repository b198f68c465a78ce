"""Corrections from the report page: an administrator corrects a field, a fact
and dismisses a finding (CSRF checked, audit logged); the report list and the
API show the corrected values; a viewer sees the record but cannot correct;
report text on the page is escaped."""
from __future__ import annotations

from sqlalchemy import select

from test_web_helpers import TestClient, login

from fazhi.corpus import db
from fazhi.web import audit, auth

REPORT = ("某某街道关于2024年法治政府建设情况的报告\n发布日期：2025-03-20\n"
          "一、2024年推进法治政府建设的主要举措和成效\n全年办理行政复议案件120件，行政应诉案件30件。\n"
          "二、存在的不足和原因\n一是法治意识不强，主要原因是培训不够。\n"
          "三、党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责同志召开会议4次。\n"
          "四、2025年推进法治政府建设的主要安排\n继续深化改革。\n").encode()


def _post(c, rid, csrf=True, **form):
    if csrf:
        form["csrf_token"] = c.csrf
    return c.post(f"/reports/{rid}/fix", data=form, follow_redirects=False)


def _upload(c) -> int:
    r = c.post("/api/reports", params={"filename": "a.txt"}, content=REPORT,
               headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": c.csrf})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_admin_corrects_from_the_page(app, admin):
    eng = app.state.engine
    rid = _upload(admin)
    page = admin.get(f"/reports/{rid}/fix")
    assert page.status_code == 200 and "人工更正" in page.text
    with eng.connect() as c:
        fact = c.execute(select(db.facts).where((db.facts.c.report_id == rid) & db.facts.c.indicator.isnot(None))
                         .order_by(db.facts.c.id)).mappings().first()
        finding = c.execute(select(db.findings).where(db.findings.c.report_id == rid)).mappings().first()
    assert _post(admin, rid, target="meta", field="unit", value="某某街道办事处", reason="以落款为准").status_code == 303
    assert _post(admin, rid, target="fact", field="value", key=str(fact["id"]), value="121").status_code == 303
    assert _post(admin, rid, target="finding", key=str(finding["id"]), value="dismissed").status_code == 303
    with eng.connect() as c:
        rep = c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().first()
        values = {f["id"]: f["value"] for f in c.execute(select(db.facts).where(db.facts.c.report_id == rid)).mappings()}
        left = [(f["rule"], f["start"], f["end"], f["message"])
                for f in c.execute(select(db.findings).where(db.findings.c.report_id == rid)).mappings()]
    assert rep["unit"] == "某某街道办事处" and values[fact["id"]] == 121.0
    assert (finding["rule"], finding["start"], finding["end"], finding["message"]) not in left
    page = admin.get(f"/reports/{rid}/fix").text
    history = page.split('id="history"', 1)[1]
    assert history.count("<tr>") == 4 and "以落款为准" in history and "admin" in history   # header + 3
    assert admin.get(f"/api/reports/{rid}").json()["meta"]["unit"] == "某某街道办事处"
    actions = [r["action"] for r in audit.query(eng)[0]]
    assert actions.count("correction") == 3
    # a bad value: 400 with the Chinese reason, nothing recorded
    r = _post(admin, rid, target="fact", field="value", key=str(fact["id"]), value="很多")
    assert r.status_code == 400 and "不是数字" in r.text
    assert admin.get(f"/reports/{rid}/fix").text.split('id="history"', 1)[1].count("<tr>") == 4


def test_without_csrf_nothing_changes(app, admin):
    rid = _upload(admin)
    r = _post(admin, rid, csrf=False, target="meta", field="unit", value="别的单位")
    assert r.status_code in (400, 403)
    with app.state.engine.connect() as c:
        assert c.execute(select(db.reports.c.unit).where(db.reports.c.id == rid)).scalar() != "别的单位"


def test_viewer_sees_the_record_but_cannot_correct(app, admin):
    rid = _upload(admin)
    _post(admin, rid, target="meta", field="year", value="2024", reason="核对")
    auth.create_user(app.state.engine, "reader", "reader-pw-1", "viewer")
    v = TestClient(app)
    v.csrf = login(v, "reader", "reader-pw-1")
    page = v.get(f"/reports/{rid}/fix")
    assert page.status_code == 200 and "核对" in page.text and "<form" not in page.text.split("人工更正", 1)[1]
    r = _post(v, rid, target="meta", field="unit", value="别的单位")
    assert r.status_code == 403
    assert v.get("/reports/999999/fix").status_code == 404


def test_values_on_the_page_are_escaped(app, admin):
    rid = _upload(admin)
    assert _post(admin, rid, target="meta", field="unit", value="<script>alert(1)</script>",
                 reason="<img src=x onerror=alert(2)>").status_code == 303
    page = admin.get(f"/reports/{rid}/fix").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
