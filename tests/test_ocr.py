"""OCR of scanned reports (fazhi[ocr]) and the layout rebuilt from OCR boxes.

The layout tests run everywhere (synthetic boxes, no models).  The OCR tests
need the extra (rapidocr, onnxruntime, pypdfium2, Pillow) and a CJK font
(Debian fonts-wqy-zenhei or fonts-noto-cjk): without them they skip on a
developer's machine and FAIL under CI=true, so CI cannot pass without them.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from fazhi.ingest import IngestError, ocr, read_bytes
from fazhi.ingest.ocr import Box, Page, assemble

HAN = re.compile(r"[\u4e00-\u9fff]")
FONTS = ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"]


def _chinese_error(excinfo, phrase: str) -> str:
    msg = str(excinfo.value)
    assert HAN.search(msg), f"message is not Chinese: {msg!r}"
    assert phrase in msg, f"{phrase!r} not in {msg!r}"
    return msg


# ------------------------------------------------------------------ layout (no models)

H = 30.0  # text height of the synthetic boxes
CW = 30.0  # width of one CJK character


def _row(text: str, x0: float, y0: float, **kw) -> Box:
    return Box(x0, y0, x0 + CW * len(text), y0 + H, text, **kw)


def _page(rows: list[Box], w: float = 1240, h: float = 1754) -> Page:
    return Page(w, h, rows)


def _body(lines: list[tuple[str, float]], top: float = 300, left: float = 120, pitch: float = 45) -> list[Box]:
    """(text, indent in characters) per visual line, one under the other."""
    return [_row(t, left + CW * ind, top + pitch * i) for i, (t, ind) in enumerate(lines)]


FULL = "法治政府建设工作扎实推进各项制度有效落实依法行政水平不断提升"  # 31 characters: a full line


def test_paragraphs_from_indents_short_lines_and_headings():
    lines = [
        ("一、主要举措和成效", 2),
        (FULL[:29], 2), (FULL, 0), ("全年调解纠纷10", 0),  # short: paragraph ends
        (FULL[:29], 2), (FULL, 0), (FULL, 0),  # a full line followed by an indented one
        ("（一）加强组织领导。", 2),
        (FULL, 0),  # not indented, but the heading row before it is short
    ]
    paras = assemble([_page(_body(lines))])
    assert paras == [
        "一、主要举措和成效",
        FULL[:29] + FULL + "全年调解纠纷10",
        FULL[:29] + FULL + FULL,
        "（一）加强组织领导。",
        FULL,
    ]


def test_number_wrapped_at_the_margin_stays_one_number():
    lines = [(FULL[:29], 2), (FULL[:28] + "10", 0), ("4条。", 0)]
    assert assemble([_page(_body(lines))]) == [FULL[:29] + FULL[:28] + "104条。"]
    from fazhi.ingest.pdf import reflow  # the text-layer reader joins wrapped numbers the same way

    assert reflow([FULL[:28] + "10", "4条。"]) == [FULL[:28] + "104条。"]
    assert reflow([FULL[:20] + " rule of law", "government 2022"]) == [FULL[:20] + " rule of law government 2022"]


def test_two_columns_read_left_then_right_title_first():
    title = _row("关于二〇二二年度法治政府建设情况的报告", 320, 150)
    left = [_row(f"左栏第{i}行" + "左" * 9, 120, 300 + 45 * i) for i in range(10)]
    right = [_row(f"右栏第{i}行" + "右" * 9, 700, 300 + 45 * i) for i in range(10)]
    # shuffled input order: the layout, not the order of boxes, decides
    paras = assemble([_page([title] + right[::-1] + left)])
    text = "".join(paras)
    assert paras[0] == "关于二〇二二年度法治政府建设情况的报告"
    assert text.index("左栏第0行") < text.index("左栏第9行") < text.index("右栏第0行") < text.index("右栏第9行")


def test_table_like_rows_are_not_taken_for_columns():
    rows = []
    for i in range(8):
        rows += [_row(f"项目{i}", 120, 300 + 45 * i), _row(f"{i * 7}件", 700, 300 + 45 * i)]
    paras = assemble([_page(rows)])
    assert paras[0] == "项目0\t0件" and paras[7] == "项目7\t49件"


def test_headers_footers_page_numbers_dropped_title_kept():
    pages = []
    for p in range(3):
        rows = [_row("某某区人民政府办公室", 470, 60)]  # a running header
        if p == 0:
            rows.append(_row("某某区2022年法治政府建设年度报告", 330, 200))
        rows += _body([(f"第{p + 1}页正文" + FULL[:20], 2), (FULL, 0), ("结束。", 0)])
        rows.append(_row(f"— {p + 1} —" if p != 1 else "-2-", 580, 1650))
        pages.append(_page(rows))
    paras = assemble(pages)
    text = "\n".join(paras)
    assert "某某区2022年法治政府建设年度报告" == paras[0]
    assert "人民政府办公室" not in text and "—" not in text and "-2-" not in text
    assert [p[:5] for p in paras[1:]] == ["第1页正文", "第2页正文", "第3页正文"]


def test_paragraph_continues_across_a_page_break():
    p1 = _page(_body([(FULL[:29], 2), (FULL, 0), (FULL, 0)]))
    p2 = _page(_body([(FULL[:10] + "。", 0), (FULL[:29], 2), ("完。", 0)]))
    assert assemble([p1, p2]) == [FULL[:29] + FULL + FULL + FULL[:10] + "。", FULL[:29] + "完。"]


def test_signature_block_and_stamp_kept_out_of_the_body():
    body = _body([(FULL[:29], 2), (FULL, 0), (FULL[:20] + "特此报告", 0)])
    sig = [_row("某某街道办事处", 760, 500), _row("2023年1月10日", 760, 545)]
    stamp = [
        Box(700, 430, 760, 470, "某某", 0.6, angle=-35, red=True),  # the arc of the seal
        Box(880, 420, 940, 460, "街道", 0.6, angle=30, red=True),
        Box(770, 500, 900, 530, "办事处", 0.7, angle=0, red=True),  # red text over the signature
        Box(800, 580, 830, 610, "★", 0.5, angle=0, red=True),  # a fragment in the lower right
    ]
    paras = assemble([_page(body + stamp + sig)])
    assert paras == [FULL[:29] + FULL + FULL[:20] + "特此报告", "某某街道办事处", "2023年1月10日"]


def _tilt(page: Page, degrees: float) -> Page:
    """The page as scanned askew: box centres turned about the page centre, the
    boxes' bounding rectangles grown by the slant (as the detector reports them)."""
    import math

    t = math.radians(degrees)
    cx, cy = page.width / 2, page.height / 2
    out = []
    for b in page.boxes:
        mx, my = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
        nx = cx + (mx - cx) * math.cos(t) - (my - cy) * math.sin(t)
        ny = cy + (mx - cx) * math.sin(t) + (my - cy) * math.cos(t)
        w = b.w * math.cos(t) + b.h * abs(math.sin(t))
        h = b.w * abs(math.sin(t)) + b.h * math.cos(t)
        out.append(Box(nx - w / 2, ny - h / 2, nx + w / 2, ny + h / 2, b.text, b.score, b.angle + degrees, b.red))
    return Page(page.width, page.height, out)


@pytest.mark.parametrize("degrees", [2.5, -2.0, 0.8])
def test_slanted_scan_is_levelled(degrees):
    lines = [("一、主要举措和成效", 2)] + [(FULL[:29], 2), (FULL, 0), (FULL[:12] + "。", 0)] * 8
    rows = _body(lines, top=150, pitch=42)
    expected = assemble([_page(rows)])
    assert len(expected) == 9
    assert assemble([_tilt(_page(rows), degrees)]) == expected


def test_centred_title_and_taller_rows_stand_alone():
    rows = [Box(300, 150, 940, 200, "某某区二〇二二年法治政府建设年度报告", angle=0)]  # tall: 50 px
    rows += _body([(FULL, 0), (FULL, 0), (FULL[:5], 0)], top=250)
    paras = assemble([_page(rows)])
    assert paras[0] == "某某区二〇二二年法治政府建设年度报告" and paras[1] == FULL + FULL + FULL[:5]


def test_empty_and_degenerate_pages():
    assert assemble([]) == []
    assert assemble([_page([])]) == []
    assert assemble([_page([Box(0, 0, 0, 0, "", 0.0)])]) == []
    assert assemble([_page([Box(5, 5, 5, 5, "孤", 0.9)])]) == ["孤"]


# ------------------------------------------------------------------ without the extra


@pytest.fixture
def no_ocr(monkeypatch):
    """Simulate a machine without fazhi[ocr]: ``import rapidocr`` fails."""
    monkeypatch.setitem(sys.modules, "rapidocr", None)
    assert not ocr.available()


def _blank_scan_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_scanned_pdf_without_the_extra(no_ocr):
    with pytest.raises(IngestError) as ei:
        read_bytes(_blank_scan_pdf(), "pdf")
    msg = _chinese_error(ei, "扫描件")
    assert "pip install fazhi[ocr]" in msg


def test_image_without_the_extra(no_ocr):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    with pytest.raises(IngestError) as ei:
        read_bytes(png, "pdf")
    assert str(ei.value) == "图片文件需要安装 OCR 组件：pip install fazhi[ocr]"
    from fazhi.pipeline import analyze_bytes

    with pytest.raises(IngestError, match="图片文件需要安装 OCR 组件"):
        analyze_bytes(png, "scan.jpg")


def test_image_extensions_route_to_the_scan_reader():
    from fazhi.ingest import EXTENSIONS, format_of

    for ext in ocr.IMAGE_EXTENSIONS:
        assert EXTENSIONS[ext] == "pdf" and format_of("报告" + ext.upper()) == "pdf"
    assert ocr.image_kind(b"\xff\xd8\xff\xe0") == "JPEG" and ocr.image_kind(b"II*\x00") == "TIFF"
    assert ocr.image_kind(b"%PDF-1.7") is None


# ------------------------------------------------------------------ with the extra


def _font_path() -> str | None:
    return next((f for f in FONTS if os.path.exists(f)), None)


@pytest.fixture(scope="module")
def ocr_ready():
    missing = []
    if not ocr.available():
        missing.append("the OCR extra (pip install -e '.[ocr]')")
    if not _font_path():
        missing.append("a CJK font (apt-get install fonts-wqy-zenhei)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("OCR tests need " + " and ".join(missing) + " in CI")
        pytest.skip("needs " + " and ".join(missing))
    return _font_path()


TITLE = "荔湖街道2022年法治政府建设年度报告"
PARAS = [
    ("body", "2022年，荔湖街道坚持以习近平法治思想为指导，全面推进法治政府建设，现将有关情况报告如下："),
    ("body", "一、主要举措和成效"),
    ("body", "（一）加强组织领导。街道党工委召开专题会议6次，研究部署法治政府建设重点任务。"
             "全年共成功调解纠纷222件，涉及当事人468人，协议涉及金额378.12万元。"),
    ("body", "二、党政主要负责人履行推进法治建设第一责任人职责情况"),
    ("body", "街道党政主要负责人带头学法，主持召开法治建设专题会议4次，带头出庭应诉2次。"),
    ("page", ""),
    ("body", "三、存在的不足和原因"),
    ("body", "一是法治宣传形式较为单一，主要原因是专业力量不足；二是执法人员业务能力有待提高。"),
    ("body", "四、下一年度主要安排"),
    ("body", "2023年，街道将继续深化法治政府建设，加强执法队伍培训，提升行政执法规范化水平。"),
]
SIGNATURE = ["荔湖街道办事处", "2023年1月10日"]
HEADER = "政务公开"


def _render_pages(font_path: str, dpi_scale: float = 1.0, stamp: bool = True, header: bool = True):
    """The short report as page images (150 dpi A4): centred title, indented
    paragraphs wrapped at the margin, a running header, "— N —" footers, and a
    signature block on the last page under a red round seal."""
    from PIL import Image, ImageDraw, ImageFont

    W, Hh = int(1240 * dpi_scale), int(1754 * dpi_scale)
    size = int(30 * dpi_scale)
    font = ImageFont.truetype(font_path, size)
    tfont = ImageFont.truetype(font_path, int(40 * dpi_scale))
    left, right = int(150 * dpi_scale), W - int(150 * dpi_scale)
    pages = []

    def new_page(n):
        img = Image.new("RGB", (W, Hh), "white")
        d = ImageDraw.Draw(img)
        if header:
            d.text(((W - d.textlength(HEADER, font=font)) / 2, int(70 * dpi_scale)), HEADER, fill="black", font=font)
        foot = f"— {n} —"
        d.text(((W - d.textlength(foot, font=font)) / 2, Hh - int(110 * dpi_scale)), foot, fill="black", font=font)
        return img, d

    img, d = new_page(1)
    y = int(180 * dpi_scale)
    d.text(((W - d.textlength(TITLE, font=tfont)) / 2, y), TITLE, fill="black", font=tfont)
    y += int(100 * dpi_scale)
    pitch = int(52 * dpi_scale)
    for kind, text in PARAS:
        if kind == "page":
            pages.append(img)
            img, d = new_page(len(pages) + 1)
            y = int(180 * dpi_scale)
            continue
        x = left + 2 * size  # first-line indent of two characters
        line = ""
        for ch in text:
            if x + d.textlength(line + ch, font=font) > right:
                d.text((x, y), line, fill="black", font=font)
                y += pitch
                x, line = left, ""
            line += ch
        d.text((x, y), line, fill="black", font=font)
        y += pitch
    y += pitch
    sx = right - int(d.textlength(SIGNATURE[0], font=font)) - size
    for s in SIGNATURE:
        d.text((sx, y), s, fill="black", font=font)
        y += pitch
    if stamp:  # a red seal printed over the signature (multiplied: the black text shows through)
        import math

        from PIL import ImageChops

        seal = Image.new("RGB", (W, Hh), "white")
        sd = ImageDraw.Draw(seal)
        cx, cy, r = sx + int(100 * dpi_scale), y - int(90 * dpi_scale), int(95 * dpi_scale)
        sd.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(220, 30, 30), width=int(6 * dpi_scale))
        sfont = ImageFont.truetype(font_path, int(26 * dpi_scale))
        arc = "荔湖街道办事处公章"
        for k, ch in enumerate(arc):
            a = math.radians(-150 + k * 120 / (len(arc) - 1))
            tile = Image.new("RGBA", (int(34 * dpi_scale),) * 2, (0, 0, 0, 0))
            ImageDraw.Draw(tile).text((2, 0), ch, fill=(220, 30, 30, 255), font=sfont)
            tile = tile.rotate(-math.degrees(a) - 90, expand=True)
            px, py = cx + int((r - 30 * dpi_scale) * math.cos(a)), cy + int((r - 30 * dpi_scale) * math.sin(a))
            seal.paste(tile, (px - tile.width // 2, py - tile.height // 2), tile)
        sd.regular_polygon((cx, cy - int(10 * dpi_scale), int(24 * dpi_scale)), 5, fill=(220, 30, 30))
        img = ImageChops.multiply(img, seal)
    pages.append(img)
    return pages


def _pdf_of(images) -> bytes:
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=150.0)
    return buf.getvalue()


def _norm(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", s) if not c.isspace())


def _accuracy(ref: str, hyp: str) -> float:
    a, b = _norm(ref), _norm(hyp)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1 - prev[-1] / len(a)


@pytest.fixture(scope="module")
def scanned(ocr_ready):
    """The image-only PDF read once (OCR) and analysed."""
    from fazhi.model import Source
    from fazhi.pipeline import analyze_raw

    data = _pdf_of(_render_pages(ocr_ready))
    import pypdf

    assert not "".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages).strip()
    ticks = []
    with ocr.reporting(lambda done, total: ticks.append((done, total))):
        raw = read_bytes(data, "pdf")
    report = analyze_raw(raw, Source(path="scan.pdf", format="pdf", sha256=hashlib.sha256(data).hexdigest()))
    return raw, report, ticks


def test_scanned_pdf_text_recovered(scanned):
    raw, _, _ = scanned
    source = "\n".join([TITLE] + [t for k, t in PARAS if k == "body"] + SIGNATURE)
    acc = _accuracy(source, raw.text)
    assert acc >= 0.95, (acc, raw.text)
    assert raw.format == "pdf" and raw.encoding is None
    assert ocr.OCR_NOTE in raw.notes


def test_scanned_pdf_layout(scanned):
    raw, _, _ = scanned
    lines = raw.text.split("\n")
    assert HEADER not in raw.text and "—" not in raw.text  # running header and page numbers gone
    assert "公章" not in raw.text  # the seal's arc
    assert lines[0] == TITLE
    # each wrapped paragraph is one line again; headings are lines of their own
    assert "一、主要举措和成效" in lines and "四、下一年度主要安排" in lines
    assert any(_norm(ln).startswith(_norm("（一）加强组织领导")) and ln.endswith("378.12万元。") for ln in lines), lines
    # the signature block is neither merged into the body nor into itself
    assert lines[-2:] == SIGNATURE, lines[-3:]


def test_scanned_pdf_analysed(scanned):
    _, report, ticks = scanned
    assert ticks == [(0, 2), (1, 2), (2, 2)]  # the page count first, then progress per page
    parts = {p.part for p in report.parts}
    assert {"achievements", "shortcomings", "leader_duty", "next_year"} <= parts
    assert report.meta.year == 2022 and report.meta.signed == "2023-01-10"
    assert {(f.value, f.unit) for f in report.facts} >= {(222, "件"), (468, "人"), (3781200.0, "万元")}
    assert any(f.rule == "ingest.note" and f.severity == "info" and ocr.OCR_NOTE in f.message for f in report.findings)
    d = report.to_dict()
    assert d["source"]["format"] == "pdf"


def test_image_file_analysed(ocr_ready):
    from fazhi.pipeline import analyze_bytes

    img = _render_pages(ocr_ready, stamp=False)[-1]
    buf = io.BytesIO()
    img.convert("L").save(buf, "PNG")
    rep = analyze_bytes(buf.getvalue(), "第2页.png")
    assert rep.source.format == "pdf" and rep.source.encoding is None
    notes = [f.message for f in rep.findings if f.rule == "ingest.note"]
    assert ocr.OCR_NOTE in notes and any("图片" in n and "PNG" in n for n in notes)
    assert "三、存在的不足和原因" in rep.text and rep.meta.signed == "2023-01-10"


def test_pdf_with_one_scanned_page(ocr_ready):
    """A text PDF whose last page (signature and seal) is a scan: that page is OCR'd in place."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    scan = _render_pages(ocr_ready, header=False)[-1]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, TITLE)
    c.drawString(72, 730, "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。")
    c.showPage()
    c.drawImage(ImageReader(scan), 0, 0, 595, 842)
    c.showPage()
    c.save()
    doc = read_bytes(buf.getvalue(), "pdf")
    lines = doc.text.split("\n")
    assert lines[:2] == [TITLE, "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。"]
    assert "三、存在的不足和原因" in lines and lines[-2:] == SIGNATURE
    assert any("第2页" in n and "OCR" in n for n in doc.notes), doc.notes


def test_ocr_page_limit(ocr_ready, monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_OCR_PAGES", "1")
    data = _pdf_of(_render_pages(ocr_ready, stamp=False))
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "pdf")
    _chinese_error(ei, "页数过多")
    with pytest.raises(IngestError) as ei:  # a multi-page TIFF counts its frames
        imgs = _render_pages(ocr_ready, stamp=False)
        buf = io.BytesIO()
        imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:])
        read_bytes(buf.getvalue(), "pdf")
    _chinese_error(ei, "页数过多")


def test_image_pixel_limit(ocr_ready, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("FAZHI_MAX_IMAGE_PIXELS", str(1000 * 1000))
    buf = io.BytesIO()
    Image.new("L", (2000, 2000), 255).save(buf, "PNG")  # a few KB, 4 million pixels
    with pytest.raises(IngestError) as ei:
        read_bytes(buf.getvalue(), "pdf")
    _chinese_error(ei, "图片尺寸过大")
    # a header that claims 400 million pixels (Pillow's own bomb check fires first)
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    with pytest.raises(IngestError) as ei:
        read_bytes(png, "pdf")
    _chinese_error(ei, "图片尺寸过大")


def test_broken_image(ocr_ready):
    with pytest.raises(IngestError) as ei:
        read_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50, "pdf")
    _chinese_error(ei, "图片")


def test_blank_scan_with_the_extra(ocr_ready):
    with pytest.raises(IngestError) as ei:
        read_bytes(_blank_scan_pdf(), "pdf")
    _chinese_error(ei, "未识别出文字")


@pytest.mark.parametrize("rot", [90, 180])
def test_page_scanned_sideways_or_upside_down(ocr_ready, rot):
    img = _render_pages(ocr_ready, stamp=False, header=False)[-1].rotate(rot, expand=True)
    paras = assemble([ocr.ocr_image(img)])
    assert paras[0] == "三、存在的不足和原因" and paras[-1] == "2023年1月10日", paras


def test_scan_through_the_sandbox(ocr_ready, scanned):
    """A scan analysed in a sandbox worker (under its memory cap, onnxruntime and all):
    the same report as in process, progress per page reaches the caller, the
    worker stays under 1 GB."""
    from fazhi.sandbox import Job, Sandbox

    data = _pdf_of(_render_pages(ocr_ready))
    ticks = []
    # a worker of the fork server (as the web app uses): started from a fresh
    # interpreter, not forked from this test process, which has run OCR in process
    # already (onnxruntime's threads do not survive a fork; its models would count
    # in the worker's RSS)
    with Sandbox(1, start_method="forkserver") as sb:
        res = sb.run(Job(name="scan.pdf", data=data), progress=lambda done, total: ticks.append((done, total)))
    assert res.ok, (res, res.detail)
    assert res.value.text == scanned[1].text and res.value.facts == scanned[1].facts
    assert ticks == [(1, 2), (2, 2)]
    assert 0 < res.rss_kb < 1024 * 1024
