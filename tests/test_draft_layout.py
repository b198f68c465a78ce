"""The printed draft, measured in the PDF LibreOffice makes (pdftotext -bbox): nothing
in the right margin, 22 lines of at most 28 characters, the signature block of GB/T
9704-2012 7.3.5.1; the ledger template prints on a page or two per sheet."""
import os
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import docx
import pytest

from fazhi.draft.compose import compose
from fazhi.draft.pdf import soffice, to_pdf
from fazhi.draft.word import signature_layout, write_docx
from fazhi.ledger.example import write_example
from fazhi.ledger.reader import read_ledger
from fazhi.ledger.template import write_template

PT_PER_MM = 72 / 25.4
PAGE_W = 595.28
RIGHT = PAGE_W - 26 * PT_PER_MM          # right edge of the type area
LEFT = 28 * PT_PER_MM
TOP, BOTTOM = 37 * PT_PER_MM, 841.89 - 35 * PT_PER_MM
CHAR = 16.0                               # 三号
DATE = "2025年3月15日"


def _need_tools():
    if soffice() is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice and poppler-utils are needed in CI (make test installs them)")
        pytest.skip("LibreOffice (soffice) or pdftotext not installed")


def words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Per page: (xMin, yMin, xMax, yMax, text) of each word pdftotext finds."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    out = []
    for page in html.split("<page ")[1:]:
        out.append([(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in
                    re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)])
    return out


def lines(page) -> list[tuple[float, float, float, str]]:
    """(y, x0, x1, text) of the text lines of a page (words on one baseline)."""
    by = defaultdict(list)
    for x0, y0, x1, _, t in page:
        by[round(y0)].append((x0, x1, t))
    return [(y, min(w[0] for w in ws), max(w[1] for w in ws), "".join(w[2] for w in sorted(ws))) for y, ws in sorted(by.items())]


@pytest.fixture(scope="module")
def dated_pdf(tmp_path_factory):
    """The full example draft with the date typed in, as the clerk would print it."""
    _need_tools()
    tmp = tmp_path_factory.mktemp("layout")
    led = read_ledger(write_example(tmp / "l.xlsx", 2024), 2024)
    d = compose(led, "礼嘉街道", 2024, "township")
    path = write_docx(d, tmp / "d.docx")
    doc = docx.Document(str(path))
    for r in doc.paragraphs[-1].runs:
        if "成文日期" in r.text:
            r.text = DATE
    doc.save(str(path))
    return d, to_pdf(path, tmp / "d.pdf")


def test_nothing_runs_into_the_right_margin(dated_pdf):
    _, pdf = dated_pdf
    pages = words(pdf)
    worst = max(x1 for page in pages for _, _, x1, _, _ in page)
    assert (worst - RIGHT) / PT_PER_MM < 0.5, f"{(worst - RIGHT) / PT_PER_MM:.2f} mm into the right margin"
    assert min(x0 for page in pages for x0, _, _, _, _ in page) >= LEFT - 0.5


def test_22_lines_of_28_characters(dated_pdf):
    _, pdf = dated_pdf
    pages = words(pdf)
    assert 5 <= len(pages) <= 9
    counts = []
    for page in pages[1:-1]:  # inner pages: body lines between the margins (the page number below)
        body = [ln for ln in lines(page) if TOP - 20 <= ln[0] <= BOTTOM]
        counts.append(len(body))
        pitch = [b[0] - a[0] for a, b in zip(body, body[1:])]
        assert all(abs(x - 28.95) < 1.1 for x in pitch), pitch  # fixed 28.95 pt lines
        for _, x0, x1, text in body:
            assert (x1 - x0) <= 28 * CHAR + 1, text
    # 22 lines a page; a heading kept with its paragraph may leave the last line empty
    assert max(counts) == 22 and min(counts) >= 21, counts


def test_signature_block_gbt9704_with_seal(dated_pdf):
    d, pdf = dated_pdf
    last = lines(words(pdf)[-1])
    sign = next(ln for ln in last if ln[3] == d.unit)
    date = next(ln for ln in last if ln[3] == DATE)
    assert 28 <= date[0] - sign[0] <= 30                       # the date on the next line
    assert abs((RIGHT - date[2]) / CHAR - 4) < 0.25            # 成文日期右空四字
    centre = lambda ln: (ln[1] + ln[2]) / 2                   # noqa: E731
    assert abs(centre(sign) - centre(date)) / CHAR < 0.5       # 署名以成文日期为准居中
    body = [ln for ln in last if ln[0] < sign[0] - 1 and TOP - 20 <= ln[0]]
    assert body, "the signature page carries text of the body"  # no page with the signature alone
    assert 2 * 28 <= sign[0] - body[-1][0] <= 3 * 30            # two blank lines for the seal


def test_no_seal_layout_follows_7352():
    """7.3.5.2: issuer 右空二字; the date's first character two to the right of the
    issuer's; a longer date 右空二字 and the issuer moves left."""
    from fazhi.draft import compose as c
    from fazhi.draft.word import width_chars

    class D:
        year = 2024

    old = dict(c.phrases()["signature"])
    try:
        c.phrases()["signature"]["layout"] = "no_seal"
        long = signature_layout(D, "重庆市渝北区礼嘉街道办事处")
        wd = width_chars(DATE)
        ws = width_chars("重庆市渝北区礼嘉街道办事处")
        assert long["sign_right"] == 2 and abs((long["date_right"] + wd) - (long["sign_right"] + ws - 2)) < 1e-9
        short = signature_layout(D, "礼嘉街道")
        assert short["date_right"] == 2 and abs((short["sign_right"] + width_chars("礼嘉街道")) - (2 + wd + 2)) < 1e-9
    finally:
        c.phrases()["signature"].clear()
        c.phrases()["signature"].update(old)


def test_ledger_template_prints_on_a_page_or_two_per_sheet(tmp_path):
    _need_tools()
    tpl = write_template(tmp_path / "模板.xlsx", 2024)
    r = subprocess.run([soffice(), f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(tpl)], capture_output=True, timeout=180)
    pdf = tmp_path / "模板.pdf"
    if not pdf.exists():
        if os.environ.get("CI"):
            pytest.fail("LibreOffice Calc is needed in CI (Debian libreoffice-calc-nogui)")
        pytest.skip(f"LibreOffice Calc not installed: {r.stderr.decode(errors='replace')[-200:]}")
    from pypdf import PdfReader

    import openpyxl

    reader = PdfReader(str(pdf))
    sheets = len(openpyxl.load_workbook(tpl, read_only=True).sheetnames)
    assert sheets <= len(reader.pages) <= sheets + 3   # one page a sheet, the instructions on two
    for p in reader.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert {round(w), round(h)} == {595, 842}       # A4, portrait or landscape
