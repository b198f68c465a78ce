"""Hostile and broken input: property-based tests of the parsers, and every limit.

Already elsewhere (not repeated here):
- quantities: arbitrary text never raises, spans in bounds
  (tests/test_quantities.py::test_find_never_raises) and an2cn(n)+"件" -> n for
  1..99999 (::test_chinese_round_trip);
- shadow keeps the length of any string (tests/test_textnorm.py);
- limits: file size (tests/test_end_to_end.py::test_cli_enormous_file_refused,
  and here through ``read_bytes``), PDF pages (tests/test_ingest.py::
  test_pdf_over_page_limit), docx zip bomb (::test_docx_zip_bomb), the env
  overrides of those two (::test_limits_overridable_by_env), the per-file time
  limit in batches (tests/test_batch.py::test_time_limit_and_crashing_worker);
  OCR pages and image size are in tests/test_ocr.py.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import cn2an
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fazhi.clean import clean
from fazhi.dates import find_dates, find_years, parse_date
from fazhi.ingest import IngestError, read_bytes
from fazhi.outline import build_tree, find_headings
from fazhi.quantities import find
from fazhi.textnorm import shadow

HAN = re.compile(r"[\u4e00-\u9fff]")
# FAZHI_HYPOTHESIS_EXAMPLES=5000 for a longer run
PROP = settings(max_examples=int(os.environ.get("FAZHI_HYPOTHESIS_EXAMPLES", 300)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _chinese_error(excinfo, phrase: str) -> str:
    msg = str(excinfo.value)
    assert HAN.search(msg), f"message is not Chinese: {msg!r}"
    assert phrase in msg, f"{phrase!r} not in {msg!r}"
    return msg


# ------------------------------------------------------------------ quantities
# (never-raises and an2cn(n)+"件" are in test_quantities.py)


def _one(text: str):
    qs = find(shadow(text))
    assert len(qs) == 1, (text, qs)
    return qs[0]


def _standard_numeral(n: int) -> str:
    """``cn2an.an2cn(n)`` in the standard form.

    cn2an leaves out the 零 a zero 万 group takes under a non-zero 亿
    (300001000 -> 三亿一千, standard 三亿零一千); that short form is ambiguous
    (三亿一千 is also read as 三亿一千万), so fazhi reads only the standard one.
    """
    s = cn2an.an2cn(n)
    if n >= 10**8 and (n // 10**4) % 10**4 == 0 and n % 10**4:
        head, _, tail = s.rpartition("亿")
        if not tail.startswith("零"):
            s = f"{head}亿零{tail}"
    return s


@PROP
@given(st.integers(min_value=2, max_value=10**12))  # a lone 一元 is the article, not a count
def test_large_chinese_amount_round_trip(n):
    text = _standard_numeral(n) + "元"
    q = _one(text)
    assert q.value == n and q.kind == "amount"
    assert (q.start, q.end) == (0, len(text))


@pytest.mark.parametrize("n", [300_001_000, 100_001_234, 604_700_009_304, 1_000_000_001])
def test_amount_without_the_zero_of_an_empty_wan_group(n):
    # the two forms of a number whose 万 group is empty: the standard one is
    # read, cn2an's short one (三亿一千, also read as 三亿一千万) is never read as
    # some other number
    assert _one(_standard_numeral(n) + "元").value == n
    short = cn2an.an2cn(n) + "元"
    assert all(q.value == n for q in find(shadow(short)))


@PROP
@given(st.integers(min_value=1000, max_value=10**9))
def test_thousands_separators_round_trip(n):
    text = f"受理{n:,}件。"
    q = _one(text)
    assert q.value == n and text[q.start:q.end] == f"{n:,}件"


@PROP
@given(st.integers(min_value=1, max_value=100))
def test_chinese_percent_round_trip(n):
    text = "结案率百分之" + cn2an.an2cn(n)
    q = _one(text)
    assert q.value == n and q.unit == "%" and q.kind == "rate"


@PROP
@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False))
def test_arabic_percent_round_trip(d):
    text = f"调解成功率达{d}%。"
    q = _one(text)
    assert q.value == pytest.approx(float(d)) and q.kind == "rate"


@PROP
@given(st.integers(min_value=1, max_value=9999), st.sampled_from(["万元", "亿元", "万人次"]))
def test_multiplier_round_trip(n, unit):
    text = f"{n}{unit}"
    q = _one(text)
    assert q.value == n * {"万": 1e4, "亿": 1e8}[unit[0]] and q.unit == unit


# ------------------------------------------------------------------ dates

DATE_ALPHABET = list("0123456789〇○零一二三四五六七八九十年月日号-/.: \n，。") + ["2023", "二〇二三", "12:21"]


@PROP
@given(st.lists(st.sampled_from(DATE_ALPHABET), max_size=40).map("".join) | st.text(max_size=80))
def test_dates_never_raise(s):
    for f in find_dates(s):
        assert 0 <= f.start < f.end <= len(s)
        assert 1949 <= f.date.year <= 2100
    for f in find_dates(shadow(s), with_time=False):
        assert 0 <= f.start < f.end <= len(s)
    iso = parse_date(s)
    assert iso is None or dt.date.fromisoformat(iso)
    for y, a, b in find_years(s):
        assert 1949 <= y <= 2100 and 0 <= a < b <= len(s)


_CN = "〇一二三四五六七八九"


def _cn_small(n: int) -> str:
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _CN[tens]) + "十" if tens else "") + (_CN[ones] if ones else "")


def _forms(d: dt.date) -> list[str]:
    return [
        d.isoformat(),                                     # 2023-03-13
        f"{d.year}年{d.month}月{d.day}日",                   # 2023年3月13日
        f"{d.year}/{d.month:02d}/{d.day:02d}",              # 2023/03/13
        "".join(_CN[int(c)] for c in str(d.year)) + f"年{_cn_small(d.month)}月{_cn_small(d.day)}日",  # 二〇二三年三月十三日
    ]


def test_cn_small_helper():
    assert [_cn_small(n) for n in (1, 10, 13, 20, 21, 31)] == ["一", "十", "十三", "二十", "二十一", "三十一"]


@PROP
@given(st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2099, 12, 31)),  # the years the parser accepts
       st.sampled_from(["", "成文日期：", "于", "报告"]), st.sampled_from(["", "。", "印发", " 12:21"]))
def test_date_round_trip_every_form(d, before, after):
    for form in _forms(d):
        text = before + form + after
        assert parse_date(text) == d.isoformat(), text
        found = find_dates(text)
        assert found[0].start == len(before)
        assert text[found[0].start:found[0].start + len(form)] == form


# ------------------------------------------------------------------ outline

_LABELS = ["一、", "二、", "十一、", "（一）", "(二)", "1.", "2、", "（3）", "(4)", "①", "⑩", "第一部分", "第二章 ",
           "# ", "## ", "**", "一是", "二是", ""]
_WORDS = ["主要举措和成效", "存在的问题和不足", "下一步工作安排", "党政主要负责人履行推进法治建设第一责任人职责情况",
          "强化组织领导", "。", "，", "坚持依法行政", "调解纠纷222件", "1.23亿元", "2023年3月13日", "**", "#", " ",
          "\u3000", "\t", "主要工作", "其他需要报告的情况"]
_LINE = st.tuples(st.sampled_from(_LABELS), st.lists(st.sampled_from(_WORDS) | st.text(max_size=6), max_size=8)) \
    .map(lambda t: t[0] + "".join(t[1]))
OUTLINE_TEXT = st.lists(_LINE, max_size=25).map("\n".join) | st.text(max_size=300)


def _walk(nodes, parent=None):
    for n in nodes:
        yield parent, n
        yield from _walk(n.children, n)


@PROP
@given(OUTLINE_TEXT)
def test_outline_never_raises_and_nests(text):
    c = clean(text)
    sh = shadow(c.text)
    assert len(sh) == len(c.text)
    heads = find_headings(c, sh)
    tree = build_tree(heads, len(c.text))
    seen = 0
    for parent, n in _walk(tree):
        seen += 1
        assert 0 <= n.start <= n.end <= len(c.text)
        # the title is the text at the node's start
        assert n.title and c.text[n.start:n.start + len(n.title)] == n.title, (n.title, c.text[n.start:n.end])
        if parent is not None:
            assert n.level > parent.level
            assert parent.start < n.start and n.end <= parent.end
    assert seen == len(heads)
    # siblings in text order, not overlapping
    for _, n in [(None, None)] + list(_walk(tree)):
        kids = tree if n is None else n.children
        for a, b in zip(kids, kids[1:]):
            assert a.end <= b.start


# ------------------------------------------------------------------ limits


def test_file_size_limit_in_read_bytes():
    with pytest.raises(IngestError) as ei:
        read_bytes(("法治政府建设。" * 200).encode("utf-8"), "txt", max_bytes=1000)
    _chinese_error(ei, "文件过大")
    _chinese_error(ei, "未分析")


def _nested_html(depth: int, tag: str = "div") -> bytes:
    body = "<p>2022年各调解组织共成功调解纠纷222件，涉及当事人468人。</p>" * 3
    return (f"<html><head><meta charset='utf-8'><title>报告</title></head><body>"
            + f"<{tag}>" * depth + body + f"</{tag}>" * depth + "</body></html>").encode("utf-8")


@pytest.mark.parametrize("tag", ["div", "span", "table"])
def test_html_depth_limit(tag):
    with pytest.raises(IngestError) as ei:
        read_bytes(_nested_html(5000, tag), "html")
    _chinese_error(ei, "嵌套层数过深")


def test_html_depth_limit_setting(monkeypatch):
    ok = read_bytes(_nested_html(60), "html")  # deep but ordinary
    assert "222件" in ok.text
    monkeypatch.setenv("FAZHI_MAX_HTML_DEPTH", "40")
    with pytest.raises(IngestError) as ei:
        read_bytes(_nested_html(60), "html")
    msg = _chinese_error(ei, "嵌套层数过深")
    assert "40 层" in msg


def test_pdf_time_limit(monkeypatch):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    import io

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 750, "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。")
    c.showPage()
    c.save()
    monkeypatch.setenv("FAZHI_PDF_TIME_LIMIT", "1e-9")  # already over when the first page is read
    with pytest.raises(IngestError) as ei:
        read_bytes(buf.getvalue(), "pdf")
    _chinese_error(ei, "解析超时")


def test_settings_collects_the_limits(monkeypatch):
    from fazhi import settings as limits

    rows = {r["name"]: r for r in limits.describe()}
    assert {"MAX_BYTES", "MAX_CHARS", "MAX_PARAGRAPHS", "MAX_FACTS", "MAX_FINDINGS", "TIME_LIMIT", "OCR_PAGE_SECONDS",
            "MAX_MEMORY", "WORKERS", "MAX_PDF_PAGES", "PDF_TIME_LIMIT", "MAX_DOCX_UNCOMPRESSED", "MAX_DOCX_MEMBERS",
            "MAX_DOCX_ELEMENTS", "MAX_HTML_DEPTH", "MAX_HTML_ELEMENTS", "MAX_OCR_PAGES", "MAX_IMAGE_PIXELS",
            "MAX_ZIP_MEMBERS", "MAX_ZIP_UNCOMPRESSED"} == set(rows)
    for name, r in rows.items():
        assert r["env"].startswith("FAZHI_") and r["env"] in limits.__doc__ and name in limits.__doc__
        assert r["value"] == r["default"] > 0
    monkeypatch.setenv("FAZHI_MAX_HTML_DEPTH", "33")
    monkeypatch.setenv("FAZHI_TIME_LIMIT", "7.5")
    assert limits.MAX_HTML_DEPTH == 33 and limits.current()["TIME_LIMIT"] == 7.5
    with pytest.raises(AttributeError):
        limits.NO_SUCH_LIMIT  # noqa: B018


def test_readme_lists_every_limit():
    """The README's limits table has a row for every guard, with its variable and figure."""
    from pathlib import Path

    from fazhi import settings as limits

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## 限制 / Limits"):]
    table = table[:table.index("\n## ", 5)]
    rows = {ln.split("|")[1].strip().split()[0]: ln for ln in table.splitlines() if ln.startswith("| FAZHI_")}
    for r in limits.describe():
        assert r["env"] in rows, r["env"]
        row = rows[r["env"]]
        if r["name"] != "WORKERS":
            assert _figure(r["default"], r["unit"]) in row, (row, r)


def _figure(value, unit: str) -> str:
    """How the README writes a default: 30 MB, 2 GB, 60 s, 1,000,000."""
    if unit == "bytes":
        mb = value / 1048576
        return f"{mb / 1024:g} GB" if mb >= 1024 else f"{mb:g} MB"
    if unit == "seconds":
        return f"{value:g} s"
    return f"{value:,}"


# ------------------------------------------------------------------ hostile files (ingest)

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
PARA = "<w:p><w:r><w:t>2022年各调解组织共成功调解纠纷222件，涉及当事人468人。</w:t></w:r></w:p>".encode()


def _docx_with(body_units: bytes, n: int, *, pre: bytes = b"", post: bytes = b"") -> bytes:
    """A .docx whose document.xml is ``pre + body_units * n + post``, written in blocks."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {W_NS}><w:body>'.encode() + pre)
            block = body_units * 10000
            for _ in range(n // 10000):
                f.write(block)
            f.write(body_units * (n % 10000) + post + b"</w:body></w:document>")
    return buf.getvalue()


def test_docx_bomb_of_ordinary_xml_is_cut_in_bounded_memory():
    """~660 KB holding 190 MB of ordinary paragraphs: analysed up to the text cap, a
    finding says so, the worker stays far under 1 GB."""
    from fazhi.sandbox import Job, Sandbox

    data = _docx_with(PARA, 190 * 1024 * 1024 // len(PARA))
    assert len(data) < 1024 * 1024
    with Sandbox(1) as sb:
        res = sb.run(Job(name="bomb.docx", data=data))
    assert res.ok, res
    notes = [f.message for f in res.value.findings if f.rule == "ingest.note"]
    assert any("Word 文档过长" in m and "仅分析了前面部分" in m for m in notes), notes
    assert len(res.value.text) <= 1_000_000 and res.value.text.count("222件") > 10_000
    assert res.rss_kb < 1024 * 1024, f"peak RSS {res.rss_kb // 1024} MB"


def test_docx_header_that_understates_its_size_is_refused():
    import io
    import struct
    import zipfile

    data = bytearray(_docx_with(PARA, 200_000))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # local header: 1,000 bytes
    i = data.find(b"PK\x01\x02")
    while i >= 0:  # central directory entry of the same part
        n = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46:i + 46 + n] == b"word/document.xml":
            struct.pack_into("<I", data, i + 24, 1000)
        i = data.find(b"PK\x01\x02", i + 4)
    with pytest.raises(IngestError) as ei:
        read_bytes(bytes(data), "docx")
    _chinese_error(ei, "Word 文档已损坏")


def test_docx_real_bytes_over_the_cap_are_refused(monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_DOCX_UNCOMPRESSED", str(2 * 1024 * 1024))
    data = _docx_with(b"<w:p/>", 3 * 1024 * 1024 // 6)  # the header is honest; the real bytes count
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "docx")
    _chinese_error(ei, "解压后过大")


def test_docx_too_many_elements_is_cut(monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_DOCX_ELEMENTS", "50000")
    doc = read_bytes(_docx_with(PARA + b"<w:p/>" * 20, 20_000), "docx")
    assert doc.text.count("222件") > 1000
    assert any("结构过于复杂" in n and "50,000" in n for n in doc.notes), doc.notes


def test_docx_one_giant_paragraph_is_cut():
    run = "<w:r><w:t>调解纠纷222件。</w:t></w:r>".encode()
    doc = read_bytes(_docx_with(run, 400_000, pre=b"<w:p>", post=b"</w:p>"), "docx")
    assert 900_000 <= len(doc.text) <= 1_000_000 and doc.text.startswith("调解纠纷222件。")
    assert any("Word 文档过长" in n for n in doc.notes)


def _page(head: str, body: str) -> bytes:
    return f"<html><head><meta charset='utf-8'><title>报告</title>{head}</head><body>{body}</body></html>".encode()


BODY = "".join(f"<p>第{i}段：2022年各调解组织共成功调解纠纷{i}件。</p>" for i in range(1, 201))


def test_html_11mb_script_in_head_keeps_the_text():
    doc = read_bytes(_page("<script>var a='" + "x" * 11_000_000 + "';</script>", BODY), "html")
    assert doc.text.count("调解纠纷") == 200 and "var a" not in doc.text


def test_html_inline_data_uri_image_keeps_all_text():
    import base64

    img = "data:image/png;base64," + base64.b64encode(os.urandom(9_000_000)).decode()
    half = len(BODY) // 2
    cut = BODY.index("<p>", half)
    doc = read_bytes(_page("", BODY[:cut] + f'<p><img src="{img}" alt="图"></p>' + BODY[cut:]), "html")
    assert doc.text.count("调解纠纷") == 200
    assert "第1段" in doc.text and "第200段" in doc.text


def test_html_text_node_over_10mb_is_kept_and_cut_with_a_note():
    doc = read_bytes(_page("", "<p>" + "字" * 11_000_000 + "</p>" + BODY), "html", max_bytes=60_000_000)
    assert len(doc.text) == 1_000_000 and set(doc.text) == {"字"}
    assert any("报告过长" in n for n in doc.notes)


@pytest.mark.parametrize("junk", ["<script>" * 50_000, "<!--" * 50_000, "<style>" * 50_000 + "</style>"])
def test_html_unclosed_blocks_are_linear_and_safe(junk):
    from fazhi.ingest.html import strip_raw

    page = "<p>正文第一段。</p>" + junk + "<p>之后的内容。</p>"
    out = strip_raw(page)  # an unclosed block runs to the end, as in a browser
    assert out.startswith("<p>正文第一段。</p>") and "script" not in out and "<!--" not in out


def test_html_strip_raw_keeps_prose_mentioning_data():
    from fazhi.ingest.html import strip_raw

    s = "<p>数据共享（data: 12 件）</p><SCRIPT type=x>alert(1)</SCRIPT ><p>后</p><!-- 注释 --><p>尾</p>"
    assert strip_raw(s) == "<p>数据共享（data: 12 件）</p> <p>后</p><p>尾</p>"


SEED_TEXT = (Path(__file__).parent / "data" / "dev" / "seed-004.txt").read_text(encoding="utf-8") \
    .replace("\xa0", " ").replace("•", "·")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text(codec):
    doc = read_bytes(SEED_TEXT.encode(codec), "txt")
    assert doc.text == SEED_TEXT and doc.encoding == "utf-16"
    assert any("没有字节序标记" in n and codec.upper() in n for n in doc.notes)


def test_three_nul_bytes_are_removed_with_a_note():
    data = SEED_TEXT[:500].encode() + b"\0\0\0" + SEED_TEXT[500:].encode()
    doc = read_bytes(data, "txt")
    assert doc.text == SEED_TEXT and doc.notes == ["文件中有 3 个空字节（\\0），已删除"]


def test_mixed_encodings_are_decoded_line_by_line():
    half = len(SEED_TEXT) // 2
    data = SEED_TEXT[:half].encode("utf-8") + SEED_TEXT[half:].encode("gbk")
    doc = read_bytes(data, "txt")
    assert doc.text == SEED_TEXT
    assert doc.notes == ["文件混用了多种编码（UTF-8、GB18030），已逐行识别"]


def test_binary_with_many_nuls_is_still_binary():
    import random

    rnd = random.Random(9)
    with pytest.raises(IngestError) as ei:
        read_bytes(bytes(rnd.randrange(256) for _ in range(20_000)), "txt")
    _chinese_error(ei, "二进制")


def _png_with_pdf_marker() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\0%PDF-1.7 not a pdf")
    idat = chunk(b"IDAT", zlib.compress(b"".join(b"\0" + b"\x80" * 8 for _ in range(8))))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + text + idat + chunk(b"IEND", b"")


def test_png_with_pdf_marker_is_not_a_pdf():
    from fazhi.ingest import is_pdf, magic_kind
    from fazhi.ingest import pdf as pdf_reader

    png = _png_with_pdf_marker()
    assert b"%PDF-" in png[:1024] and magic_kind(png) == "png" and not is_pdf(png)
    with pytest.raises(IngestError) as ei:
        pdf_reader.read(png)
    _chinese_error(ei, "不是有效的 PDF")
    assert is_pdf(b"%PDF-1.4\n") and is_pdf(b"\r\n%PDF-1.4\n")  # junk before the header is allowed


def _text_pdf(pages: list[str | None]) -> bytes:
    """One page per item: a line of text, None for a page with a noise image (a scan), "" blank."""
    import io
    import random

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    from PIL import Image

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    rnd = random.Random(3)
    img = Image.new("L", (40, 40))
    img.putdata([rnd.randrange(60, 200) for _ in range(1600)])
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for p in pages:
        if p is None:
            c.drawImage(ImageReader(img), 100, 100, 300, 400)
        elif p:
            c.setFont("STSong-Light", 12)
            c.drawString(72, 750, p)
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def ocr_spy(monkeypatch):
    """OCR "installed", every call recorded; OCR of pages returns nothing."""
    from fazhi.ingest import ocr

    calls: list = []
    monkeypatch.setattr(ocr, "available", lambda: True)

    def pages(data, indices=None, **kw):
        calls.append(("pages", list(indices or [])))
        return {}, []

    def whole(data, **kw):
        calls.append(("whole", None))
        raise IngestError("扫描件中未识别出文字")

    monkeypatch.setattr(ocr, "ocr_pdf_pages", pages)
    monkeypatch.setattr(ocr, "read_pdf", whole)
    return calls


LINE1 = "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。"
LINE2 = "全年办理行政复议案件12件，行政应诉案件8件。"


def test_text_pdf_with_many_blank_pages_keeps_its_text_and_skips_ocr(ocr_spy):
    doc = read_bytes(_text_pdf([LINE1] + [""] * 70 + [LINE2]), "pdf")
    assert doc.text.split("\n") == [LINE1, LINE2]
    assert ocr_spy == []  # blank pages hold nothing to recognise


def test_text_pdf_with_many_scanned_pages_ocrs_only_those_bounded(ocr_spy, monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_OCR_PAGES", "5")
    doc = read_bytes(_text_pdf([LINE1] + [None] * 12 + [LINE2]), "pdf")
    assert doc.text.split("\n") == [LINE1, LINE2]  # the text pages are not dropped
    assert ocr_spy == [("pages", [1, 2, 3, 4, 5])]  # only scanned pages, at most MAX_OCR_PAGES
    assert any("只识别了前 5 页" in n for n in doc.notes)


def test_damaged_text_pdf_is_never_sent_to_ocr(ocr_spy):
    data = _text_pdf([LINE1, None, LINE2]) + b"\n" + b"garbage after the end " * 400  # no %%EOF near the end
    doc = read_bytes(data, "pdf")
    assert doc.text.split("\n") == [LINE1, LINE2]
    assert ocr_spy == []
    assert any("可能不完整" in n for n in doc.notes)


def test_a_pipe_named_txt_is_refused_not_read(tmp_path):
    fifo = tmp_path / "报告.txt"
    os.mkfifo(fifo)
    with pytest.raises(IngestError) as ei:
        from fazhi.ingest import read

        read(fifo)  # reading it would block forever
    _chinese_error(ei, "不是普通文件")
