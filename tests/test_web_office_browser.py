"""The collecting office's season in a real headless Chromium (as test_web_browser.py).

An administrator imports the roster through the 报送情况 page and creates two unit
accounts on the users page; the two units log in and submit (one on time under its
roster deadline, one late, the first also sends a revision); the administrator
sees 报送情况 change, corrects a figure and dismisses a finding on the 更正 page,
and downloads the workbook, whose 报送情况 sheet shows the receipt dates.  A unit
sees no other unit's report and no office page; a read-only account gets no
correction form and cannot upload."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from test_web_browser import browser, expect, live_server  # noqa: F401  (browser: the fixture, on this module's live)
from test_web_helpers import ADMIN_PASSWORD, short_report

from fazhi.corpus import db
from fazhi.corpus.submissions import today

ROSTER = ("单位名称,层级,上级单位,地区,报送截止日期（可选，覆盖默认）,联系人,联系电话\n"
          "荔湖街道,乡镇(街道),增城区,,2099-12-31,张三,020-1\n"
          "朱村街道,乡镇(街道),增城区,,,李四,020-2\n"
          "石滩镇,乡镇(街道),增城区,,,王五,020-3\n")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from live_server(tmp_path_factory.mktemp("office"))


def _page(browser, live, username: str, password: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    pg.on("dialog", lambda d: d.accept())
    pg.goto(live.url + "/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_load_state()
    assert "/login" not in pg.url, pg.content()[:500]
    return pg


def _add_user(pg, live, name: str, pw: str, role: str, unit: str = ""):
    pg.goto(live.url + "/users")
    form = pg.locator("form[action='/users']")
    form.locator("input[name=username]").fill(name)
    form.locator("input[name=password]").fill(pw)
    form.locator("select[name=role]").select_option(role)
    form.locator("input[name=unit]").fill(unit)
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()
    expect(pg.locator("body")).to_contain_text(name)


def _submit(pg, live, name: str, data: bytes) -> int:
    pg.goto(live.url + "/mine")
    pg.set_input_files("input[name=file]", files=[{"name": name, "mimeType": "text/plain", "buffer": data}])
    pg.click("form[action='/mine/upload'] button[type=submit]")
    pg.wait_for_url(live.url + "/mine")
    flash = pg.locator(".flash").first
    expect(flash).to_contain_text("已报送")
    return int(flash.inner_text().split("编号 ", 1)[1].split("）", 1)[0])


def _row(live, rid: int):
    with live.engine.connect() as c:
        return c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().one()


def test_an_office_season_in_the_browser(browser, live, tmp_path):
    admin = _page(browser, live, "admin", ADMIN_PASSWORD)
    # 1. the roster, through the 报送情况 page
    roster = tmp_path / "名单.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    admin.goto(live.url + "/status?year=2024")
    admin.set_input_files("#roster-upload input[type=file]", str(roster))
    admin.click("#roster-upload button[type=submit]")
    admin.wait_for_load_state()
    expect(admin.locator("#status-units")).to_contain_text("石滩镇")
    expect(admin.locator("#status-units tr.state-missing")).to_have_count(3)

    # 2. two unit accounts and a read-only one
    _add_user(admin, live, "荔湖司法所", "lihu-pw-1234", "unit", "荔湖街道")
    _add_user(admin, live, "朱村司法所", "zhucun-pw-1234", "unit", "朱村街道")
    _add_user(admin, live, "领导", "viewer-pw-1234", "viewer")

    # 3. the units submit: 荔湖 (deadline 2099) on time, with a revision; 朱村 late
    lihu = _page(browser, live, "荔湖司法所", "lihu-pw-1234")
    first = _submit(lihu, live, "荔湖街道.txt", short_report("荔湖街道", "2025-03-20"))
    rev = _submit(lihu, live, "荔湖街道-修改稿.txt", short_report("荔湖街道", "2025-03-20", "行政应诉案件31件。"))
    zhucun = _page(browser, live, "朱村司法所", "zhucun-pw-1234")
    zc = _submit(zhucun, live, "朱村街道.txt", short_report("朱村街道", "2025-03-18"))
    assert _row(live, rev)["version"] == 2 and _row(live, rev)["is_current"] and not _row(live, first)["is_current"]
    assert _row(live, zc)["received_on"] == today().isoformat()
    # a unit sees its own reports only, and no office page
    zhucun.goto(live.url + f"/reports/{rev}")
    expect(zhucun.locator("body")).not_to_contain_text("全年办理行政复议案件")
    for path in ("/status?year=2024", "/reports", "/export", f"/reports/{rev}/fix", "/withdrawn"):
        resp = zhucun.goto(live.url + path)
        assert resp.status in (403, 404) or zhucun.url.endswith("/mine"), (path, resp.status, zhucun.url)
        expect(zhucun.locator("body")).not_to_contain_text("荔湖街道")

    # 4. the office sees 报送情况 change
    admin.goto(live.url + "/status?year=2024")
    units = admin.locator("#status-units")
    expect(units.locator("tr", has_text="荔湖街道")).to_contain_text("按期")
    expect(units.locator("tr", has_text="荔湖街道")).to_contain_text("收到")
    expect(units.locator("tr", has_text="朱村街道")).to_contain_text("逾期")
    expect(units.locator("tr", has_text="石滩镇")).to_contain_text("未报")
    expect(units.locator("tr", has_text="荔湖街道").locator(f"a[href='/reports/{rev}']")).to_have_count(1)

    # 5. a figure corrected and a finding dismissed on the 更正 page
    admin.goto(live.url + f"/reports/{rev}/fix")
    fact_row = admin.locator("tr", has_text="120件")
    fact_row.locator("input[name=value]").fill("125")
    fact_row.locator("input[name=reason]").fill("原文笔误")
    fact_row.locator("button", has_text="改数值").click()
    admin.wait_for_load_state()
    with live.engine.connect() as c:
        vals = {v for (v,) in c.execute(select(db.facts.c.value).where(db.facts.c.report_id == rev,
                                                                         db.facts.c.indicator.is_not(None)))}
        rules = {r for (r,) in c.execute(select(db.findings.c.rule).where(db.findings.c.report_id == rev))}
    assert 125.0 in vals and 120.0 not in vals
    assert "next_year.concrete" in rules
    admin.goto(live.url + f"/reports/{rev}/fix")
    admin.locator("tr", has_text="下一年度安排只有原则性表述").first.locator("button", has_text="排除").click()
    admin.wait_for_load_state()
    with live.engine.connect() as c:
        rules = {r for (r,) in c.execute(select(db.findings.c.rule).where(db.findings.c.report_id == rev))}
    assert "next_year.concrete" not in rules

    # 6. the workbook: 报送情况 with the receipt dates
    admin.goto(live.url + "/export")
    with admin.expect_download() as dl:
        admin.click("#export-button")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()), read_only=True)
    assert "报送情况" in wb.sheetnames
    rows = [[c for c in r] for r in wb["报送情况"].iter_rows(values_only=True)]
    head = next(r for r in rows if "收到日期" in r)
    k = head.index("单位")
    at = {r[k]: r for r in rows if len(r) > k and r[k] in ("荔湖街道", "朱村街道", "石滩镇")}
    assert at["荔湖街道"][head.index("状态")] == "按期" and at["朱村街道"][head.index("状态")] == "逾期"
    assert at["石滩镇"][head.index("状态")] == "未报" and at["石滩镇"][head.index("收到日期")] is None
    got = at["荔湖街道"][head.index("收到日期")]
    assert str(got)[:10] == today().isoformat()
    assert at["荔湖街道"][head.index("编号")] == rev

    # 7. a read-only account: no correction form, no upload
    viewer = _page(browser, live, "领导", "viewer-pw-1234")
    viewer.goto(live.url + f"/reports/{rev}/fix")
    expect(viewer.locator("body")).to_contain_text("125")
    expect(viewer.locator("button", has_text="改数值")).to_have_count(0)
    viewer.goto(live.url + "/upload")
    expect(viewer.locator("body")).to_contain_text("只读账号")
    r = viewer.request.post(live.url + f"/reports/{rev}/restore", form={"csrf_token": "x"})
    assert r.status in (403, 400)
    for pg in (admin, lihu, zhucun, viewer):
        pg.context.close()
