"""The web application in a real headless Chromium (Debian's ``chromium`` driven by
Playwright for Python through ``executable_path``; no browser download).

Against the application of ``fazhi serve`` under uvicorn on 127.0.0.1: log in,
upload two dev reports through the page, open a report card and see a finding,
see the dashboard's charts drawn (SVG with content), download the workbook, and
check that a report containing ``<script>`` shows as text without running.

Without /usr/bin/chromium (or Playwright) these tests skip on a developer's
machine and FAIL under CI=true (CI installs chromium).  With
FAZHI_SCREENSHOTS=1 the screenshots are written to docs/web-*.png.
"""
import io
import os
import shutil
from pathlib import Path

import pytest

from test_web_helpers import ADMIN_PASSWORD, LiveServer, next_year_of

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
N_DEV = len(list(DEV.glob("*.txt")))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT_MAX = 400 * 1024


def _need_browser():
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "Playwright for Python is not installed (pip install playwright; no browser download needed)"
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {why}")
        pytest.skip(why)


def live_server(d: Path):
    """``fazhi serve``'s application over a fresh corpus in ``d``, served on 127.0.0.1
    (a generator for a module fixture: yields the server, ``.engine`` its database)."""
    _need_browser()
    from fazhi.web.app import create_app
    from fazhi.web.settings import Settings

    app = create_app(Settings(db=str(d / "corpus.db"), data_dir=d / "files", admin_password=ADMIN_PASSWORD))
    with LiveServer(app) as srv:
        srv.engine = app.state.engine
        yield srv


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from live_server(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, live):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    return pw_expect(locator)


def shot(page, name: str, tmp_path: Path, full_page: bool = False) -> Path:
    """Screenshot to tmp (always) and to docs/web-<name>.png with FAZHI_SCREENSHOTS=1; < 400 KB."""
    out = tmp_path / f"web-{name}.png"
    page.screenshot(path=str(out), full_page=full_page)
    if out.stat().st_size > SCREENSHOT_MAX:
        from PIL import Image

        im = Image.open(out).convert("RGB").quantize(colors=128)
        im.save(out, optimize=True)
    assert 0 < out.stat().st_size <= SCREENSHOT_MAX, out.stat().st_size
    if os.environ.get("FAZHI_SCREENSHOTS"):
        shutil.copy(out, ROOT / "docs" / out.name)
    return out


def login(page, base):
    page.goto(base + "/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/upload")  # an administrator lands on 上传检查


def test_login_upload_two_and_open_card(page, live, tmp_path):
    login(page, live.url)
    assert page.locator(".mainnav a.on").inner_text() == "上传检查"
    page.set_input_files("#files", [str(DEV / "seed-004.txt"), str(DEV / "excerpt-002.txt")])
    expect(page.locator("#queue .qitem.done a.card-link")).to_have_count(2, timeout=30000)
    assert page.locator("#queue-summary").inner_text().startswith("完成 2 / 2")
    shot(page, "upload", tmp_path)
    # the uploads are stored once each
    from fazhi.corpus.store import count

    assert count(live.engine)[0] == 2
    page.locator("#queue .qitem.done a.card-link").first.click()
    page.wait_for_url(live.url + "/reports/*")
    items = page.locator("#findings .finding-item")
    assert items.count() >= 1
    assert items.first.locator(".msg").inner_text().strip()
    assert page.locator("h1.title").inner_text().strip()
    assert page.locator("#fulltext-body").inner_text().strip()
    shot(page, "report", tmp_path)


def test_same_file_again_leads_to_the_same_report(page, live):
    page.goto(live.url + "/upload")
    page.set_input_files("#files", [str(DEV / "seed-004.txt")])
    page.wait_for_url(live.url + "/reports/*")  # one file: straight to its card
    first = page.url
    page.goto(live.url + "/reports?q=" + "法治")
    assert page.locator("#search-results .hit").count() >= 1
    assert page.locator("#search-results mark").count() >= 1
    from fazhi.corpus.store import count

    assert count(live.engine)[0] == 2
    assert first.rsplit("/", 1)[1].isdigit()


def _api_upload_rest(live):
    """The other dev reports through the API with a token (a fuller corpus for the charts)."""
    import httpx

    from fazhi.web import auth

    token = auth.create_token(live.engine, auth.get_user_by_name(live.engine, "admin").id, "browser test")
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        for f in sorted(DEV.glob("*.txt")):
            r = c.post("/api/reports", params={"filename": f.name}, content=f.read_bytes())
            assert r.status_code in (200, 201), r.text
        nxt = next_year_of((DEV / "seed-004.txt").read_text(encoding="utf-8")).encode("utf-8")
        r = c.post("/api/reports", params={"filename": "礼嘉街道-2023.txt"}, content=nxt)
        assert r.status_code == 201, r.text


def test_dashboard_draws_charts(page, live, tmp_path):
    _api_upload_rest(live)
    page.goto(live.url + "/dashboard")
    for cid in ("chart-parts", "chart-timeliness", "chart-indicator", "chart-scores", "chart-heatmap"):
        page.wait_for_selector(f"#{cid}[data-rendered='1'] svg")
        box = page.evaluate(f"""() => {{
            const s = document.querySelector('#{cid} svg'); const r = s.getBoundingClientRect();
            return {{w: r.width, h: r.height, shapes: s.querySelectorAll('path, rect').length,
                     texts: s.querySelectorAll('text').length}}; }}""")
        assert box["w"] > 100 and box["h"] > 100, (cid, box)
        assert box["shapes"] > 5 and box["texts"] > 2, (cid, box)
    # pick another indicator: the bar chart is redrawn from the API
    opts = page.locator("#indicator-pick option")
    if opts.count() > 1:
        page.select_option("#indicator-pick", index=1)
        expect(page.locator("#chart-indicator svg text").first).to_be_attached()
    assert not page.errors, page.errors
    shot(page, "dashboard", tmp_path, full_page=True)


def test_reports_list_and_unit_page(page, live, tmp_path):
    page.goto(live.url + "/reports")
    assert page.locator("#report-table tbody tr").count() == N_DEV + 1
    shot(page, "reports", tmp_path)
    page.goto(live.url + "/reports?errors=yes")
    n_err = page.locator("#report-table tbody tr").count()
    assert 0 < n_err < N_DEV + 1
    page.goto(live.url + "/unit?name=礼嘉街道")
    assert page.locator("h1.pagetitle").inner_text().startswith("礼嘉街道")
    page.wait_for_selector("#chart-trend[data-rendered='1'] svg")
    assert page.locator("#chart-trend svg path").count() > 3
    # the copies come from the copy index on the view itself
    page.wait_for_selector("table.copies")
    assert "沿用本单位往年" in page.locator("table.copies").inner_text()
    assert "2022年的安排" in page.content()
    shot(page, "unit", tmp_path)


def test_export_downloads_the_workbook(page, live):
    from openpyxl import load_workbook

    page.goto(live.url + "/export")
    with page.expect_download() as dl:
        page.click("#export-button")
    d = dl.value
    assert d.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(Path(d.path()).read_bytes()), read_only=True)
    assert "报告清单" in wb.sheetnames and "合规矩阵" in wb.sheetnames


def test_script_in_a_report_shows_as_text(page, live, tmp_path):
    evil = tmp_path / "<img src=x onerror=alert(2)>.txt"
    # another unit (the same text under the dev unit's name would be that report again, not listed twice)
    body = (DEV / "excerpt-004.txt").read_text(encoding="utf-8").replace("新疆维吾尔自治区", "测试自治区")
    evil.write_text("<script>alert(1)</script>\n" + body + "\n<script>alert(1)</script>\n", encoding="utf-8")
    page.goto(live.url + "/upload")
    page.set_input_files("#files", [str(evil)])
    page.wait_for_url(live.url + "/reports/*")
    assert "<script>alert(1)</script>" in page.locator("#fulltext-body").inner_text()
    page.goto(live.url + "/reports?q=alert")
    page.goto(live.url + "/reports")
    assert "<img src=x onerror=alert(2)>.txt" in page.locator("#report-table").inner_text()
    assert page.dialogs == []
