"""The 起草 page: template, ledger check in place, draft.docx / draft.pdf, the edited
draft checked and its annotated copy — through TestClient and in headless Chromium."""
import io
import re
import zipfile

import docx
import openpyxl
import pytest

from fazhi.draft.annotate import AUTHOR
from fazhi.ledger.example import write_example
from fazhi.pipeline import analyze_path
from test_web_browser import browser, expect, live, login as browser_login, page, shot  # noqa: F401  (fixtures)
from test_web_helpers import TestClient, csrf_of, login, make_app

XLSX = "application/octet-stream"


@pytest.fixture
def client(tmp_path):
    app = make_app(str(tmp_path / "c.db"), tmp_path)
    c = TestClient(app)
    c.csrf = login(c)
    return c


@pytest.fixture(scope="module")
def example_bytes(tmp_path_factory):
    return write_example(tmp_path_factory.mktemp("l") / "l.xlsx", 2024).read_bytes()


def _link(html: str, ident: str) -> str:
    return re.search(rf'id="{ident}" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_template_downloads_for_the_year(client):
    r = client.get("/draft/template", params={"year": 2024})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert {"填写说明", "基本情况", "领导履职", "行政应诉"} <= set(wb.sheetnames)
    assert client.get("/draft/template", params={"year": "二〇二四"}).status_code == 400


def test_ledger_check_in_place_then_draft_and_pdf(client, example_bytes, tmp_path):
    # a ledger with errors: each named with its place, no draft link
    wb = openpyxl.load_workbook(io.BytesIO(example_bytes))
    wb["法律咨询"].append(["合计", None, None, None, 121])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/draft/ledger", data={"csrf_token": client.csrf}, files={"ledger": ("台账.xlsx", buf.getvalue(), XLSX)})
    assert r.status_code == 200 and "1 处错误" in r.text and 'id="draft-docx"' not in r.text
    rows = re.findall(r"<tr class=\"sev-error\">(.*?)</tr>", r.text, re.S)
    assert len(rows) == 1 and "工作表“法律咨询”第63行A列“日期”" in rows[0] and "“合计”行" in rows[0]
    # the clean ledger: figures and the draft
    r = client.post("/draft/ledger", data={"csrf_token": client.csrf}, files={"ledger": ("台账.xlsx", example_bytes, XLSX)})
    assert r.status_code == 200 and "0 处错误" in r.text and "mediation.cases" in r.text
    d = client.get(_link(r.text, "draft-docx"))
    assert d.status_code == 200 and d.headers["content-type"].startswith("application/vnd.openxmlformats")
    out = tmp_path / "d.docx"
    out.write_bytes(d.content)
    rep = analyze_path(out)
    assert rep.meta.title == "礼嘉街道2024年度法治政府建设情况报告"
    assert [p.part for p in rep.parts] == ["achievements", "shortcomings", "leader_duty", "next_year"]
    from fazhi.draft.pdf import soffice

    if soffice():
        p = client.get(_link(r.text, "draft-pdf"))
        assert p.status_code == 200 and p.content[:5] == b"%PDF-"


def test_check_the_edited_draft_and_download_the_annotated_copy(client, example_bytes):
    r = client.post("/draft/ledger", data={"csrf_token": client.csrf}, files={"ledger": ("台账.xlsx", example_bytes, XLSX)})
    draft = client.get(_link(r.text, "draft-docx")).content
    r = client.post("/draft/check", data={"csrf_token": client.csrf},
                    files={"document": ("修改稿.docx", draft, XLSX)})
    assert r.status_code == 200 and "draft.placeholder" in r.text and "尚未撰写" in r.text
    a = client.get(_link(r.text, "annotated-link"))
    assert a.status_code == 200
    with zipfile.ZipFile(io.BytesIO(a.content)) as zf:
        xml = zf.read("word/comments.xml").decode()
    assert xml.count(f'w:author="{AUTHOR}"') == 1 + len(re.findall(r'<li class="finding-item', r.text))


def test_bad_inputs_give_chinese_messages(client):
    r = client.post("/draft/ledger", data={"csrf_token": client.csrf}, files={"ledger": ("台账.xlsx", b"not a workbook", XLSX)})
    assert r.status_code == 400 and "不是 Excel 工作簿" in r.text and "Traceback" not in r.text
    r = client.post("/draft/ledger", data={"csrf_token": client.csrf}, files={"ledger": ("台账.csv", b"a,b", XLSX)})
    assert r.status_code == 400 and "应为 .xlsx 文件" in r.text
    r = client.post("/draft/check", data={"csrf_token": client.csrf}, files={"document": ("x.docx", b"PK junk", XLSX)})
    assert r.status_code == 400 and "无法读取" in r.text
    assert client.get("/draft/" + "0" * 64 + "/draft.docx").status_code == 404
    assert client.get("/draft/../../etc/draft.docx").status_code == 404
    # the CSRF token is required; a visitor is sent to the login page
    r = client.post("/draft/ledger", files={"ledger": ("台账.xlsx", b"x", XLSX)})
    assert r.status_code == 403
    anon = TestClient(client.app)
    assert anon.get("/draft", follow_redirects=False).status_code == 303


def test_a_viewer_may_draft(client, example_bytes):
    from fazhi.web import auth

    auth.create_user(client.app.state.engine, "sifasuo", "sifasuo-pw-1", "viewer")
    v = TestClient(client.app)
    tok = login(v, "sifasuo", "sifasuo-pw-1")
    r = v.post("/draft/ledger", data={"csrf_token": tok}, files={"ledger": ("台账.xlsx", example_bytes, XLSX)})
    assert r.status_code == 200 and 'id="draft-docx"' in r.text


# ------------------------------------------------------------------ in the browser
def test_draft_page_in_the_browser(page, live, tmp_path):  # noqa: F811
    base = live.url
    browser_login(page, base)
    page.click("text=起草")
    page.wait_for_url(base + "/draft")
    year = page.input_value("#step-template input[name=year]")  # last year by default
    with page.expect_download() as dl:
        page.click("#example-button")
    ledger = tmp_path / "台账.xlsx"
    dl.value.save_as(str(ledger))
    assert "领导履职" in openpyxl.load_workbook(ledger, read_only=True).sheetnames
    # a ledger with a duplicated row: the check names it in place, no draft
    wb = openpyxl.load_workbook(ledger)
    ws = wb["信访接待"]
    ws.append([c.value for c in ws[5]])
    bad = tmp_path / "有误的台账.xlsx"
    wb.save(bad)
    page.set_input_files("#ledger-file", str(bad))
    page.click("#ledger-button")
    expect(page.locator("#ledger-summary")).to_contain_text("1 处错误")
    expect(page.locator("#ledger-issues")).to_contain_text("与第5行内容完全相同")
    assert page.locator("#draft-docx").count() == 0
    # the right ledger: figures and the two downloads
    page.set_input_files("#ledger-file", str(ledger))
    page.click("#ledger-button")
    expect(page.locator("#ledger-summary")).to_contain_text("0 处错误")
    expect(page.locator("#ledger-figures")).to_contain_text("调解矛盾纠纷数")
    shot(page, "draft", tmp_path, full_page=False)
    with page.expect_download() as dl:
        page.click("#draft-docx")
    draft = tmp_path / "初稿.docx"
    dl.value.save_as(str(draft))
    assert docx.Document(str(draft)).paragraphs[0].text == f"礼嘉街道{year}年度法治政府建设情况报告"
    from fazhi.draft.pdf import soffice

    if soffice():
        with page.expect_download(timeout=120000) as dl:
            page.click("#draft-pdf")
        pdf = tmp_path / "初稿.pdf"
        dl.value.save_as(str(pdf))
        assert pdf.read_bytes()[:5] == b"%PDF-"
    # the clerk fills the causes, uploads the edited draft, gets the annotated copy
    d = docx.Document(str(draft))
    for p in d.paragraphs:
        for r in p.runs:
            if r.text.startswith("【请补充：产生上述问题"):
                r.text = "主要原因是基层法治工作力量不足，培训考核机制还不健全。"
    d.save(str(draft))
    page.set_input_files("#document-file", str(draft))
    page.click("#check-button")
    expect(page.locator("#check-summary")).to_contain_text("错误")
    expect(page.locator("#check-findings")).to_contain_text("尚未撰写")
    expect(page.locator("#check-findings")).not_to_contain_text("shortcomings.causes")  # the causes are written now
    with page.expect_download() as dl:
        page.click("#annotated-link")
    ann = tmp_path / "批注版.docx"
    dl.value.save_as(str(ann))
    with zipfile.ZipFile(ann) as zf:
        assert AUTHOR in zf.read("word/comments.xml").decode()
    assert not page.errors
