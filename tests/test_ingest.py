"""Ingest readers: txt/md, html, docx, pdf. Every fixture is generated here."""
from __future__ import annotations

import html as htmlmod
import importlib
import io
import random
import re
import zipfile
from pathlib import Path

import pytest

from fazhi import ingest
from fazhi.ingest import IngestError, read, read_bytes

DEV = Path(__file__).parent / "data" / "dev"
SEED = (DEV / "seed-004.txt").read_text(encoding="utf-8")
HAN = re.compile(r"[\u4e00-\u9fff]")
TITLE = "礼嘉街道办事处关于2022年度法治政府建设情况的报告"


def _seed_lines() -> list[str]:
    return [ln.strip() for ln in SEED.splitlines() if ln.strip()]


def _body() -> list[str]:
    """The report body of seed-004: the lines between its title and the page footer."""
    lines = _seed_lines()
    return lines[lines.index(TITLE) + 1: lines.index("扫一扫在手机打开当前页")]


def _assert_ingest_error(excinfo, phrase: str) -> None:
    msg = str(excinfo.value)
    assert HAN.search(msg), f"message is not Chinese: {msg!r}"
    assert phrase in msg, f"{phrase!r} not in {msg!r}"


# ------------------------------------------------------------------ txt / md


def _plain(text: str) -> str:
    # characters GBK/Big5 cannot encode in seed-004
    return text.replace("\xa0", " ").replace("•", "·")


@pytest.mark.parametrize(
    "codec, expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("gb18030", "gb18030"),
        ("gbk", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_txt_encodings(codec, expected):
    text = _plain(SEED)
    doc = read_bytes(text.encode(codec), "txt")
    assert doc.encoding == expected
    assert doc.format == "txt"
    assert doc.text == text.replace("\r\n", "\n")
    assert "礼嘉街道办事处" in doc.text and "\ufeff" not in doc.text


def test_txt_big5_traditional():
    try:
        import opencc

        text = opencc.OpenCC("s2t").convert(_plain(SEED))
    except ImportError:  # the project depends on opencc; keep the test meaningful anyway
        text = (DEV / "excerpt-009.txt").read_text(encoding="utf-8")
    data = text.encode("big5", errors="replace")
    expected = data.decode("cp950")
    doc = read_bytes(data, "txt")
    assert doc.encoding == "big5"
    assert doc.text == expected
    assert "法治政府" in doc.text or "法治政府建設" in doc.text or "建設" in doc.text


def test_txt_short_gbk_prefers_chinese_codec():
    doc = read_bytes("一、主要举措和成效".encode("gbk"), "txt")
    assert (doc.encoding, doc.text) == ("gb18030", "一、主要举措和成效")


def test_md_keeps_marks_and_normalises_newlines():
    src = "# 一、主要举措\r\n\r\n**（一）加强领导**\r\n正文*不*转义_下划线_。\r旧式换行"
    doc = read_bytes(src.encode("utf-8"), "md")
    assert doc.format == "md"
    assert "\r" not in doc.text
    assert doc.text == "# 一、主要举措\n\n**（一）加强领导**\n正文*不*转义_下划线_。\n旧式换行"


def test_read_from_path_dispatches_by_suffix(tmp_path):
    p = tmp_path / "报告.txt"
    p.write_bytes(_plain(SEED).encode("gb18030"))
    doc = read(p)
    assert doc.encoding == "gb18030" and doc.text.startswith("您当前的位置")


def test_txt_tolerates_a_few_bad_bytes():
    text = _plain(SEED)
    data = bytearray(text.encode("gbk"))
    data[200] = 0xFF  # a stray byte the detector chokes on
    doc = read_bytes(bytes(data[:-1]), "txt")  # and the last character cut in half
    assert doc.encoding == "gb18030"
    assert "礼嘉街道办事处关于2022年度法治政府建设情况的报告" in doc.text
    assert doc.notes and "无法按 gb18030 编码解码" in doc.notes[0]


@pytest.mark.parametrize("nul", [True, False])
def test_txt_binary_junk(nul):
    rnd = random.Random(4)
    data = bytes(rnd.randrange(256) for _ in range(4000))
    if not nul:
        data = data.replace(b"\x00", b"\x01")
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "txt")
    _assert_ingest_error(ei, "二进制")


@pytest.mark.parametrize("fmt", ["txt", "md", "html", "docx", "pdf"])
def test_empty_bytes(fmt):
    with pytest.raises(IngestError) as ei:
        read_bytes(b"", fmt)
    _assert_ingest_error(ei, "为空")


def test_readers_reject_empty_input_directly():
    from fazhi.ingest import docx as docx_reader
    from fazhi.ingest import html as html_reader
    from fazhi.ingest import pdf as pdf_reader

    for reader, phrase in ((docx_reader, "Word"), (pdf_reader, "PDF"), (html_reader, "网页")):
        with pytest.raises(IngestError) as ei:
            reader.read(b"")
        _assert_ingest_error(ei, phrase)


# ------------------------------------------------------------------ html


def _portal_page(body: list[str], charset_tag: str = '<meta charset="utf-8">') -> str:
    def para(line: str) -> str:
        if re.match(r"^[一二三四五六七八九十]+、", line):
            return f"<h2>{htmlmod.escape(line)}</h2>"
        return f'<p style="text-indent:2em">{htmlmod.escape(line)}</p>'

    paras = "\n".join(para(ln) for ln in body)
    return f"""<!DOCTYPE html>
<html><head>{charset_tag}
<title>{TITLE}_重庆两江新区管理委员会</title>
<style>.nav{{color:red}} body{{font-size:14px}}</style>
<script>alert(1); var tpl = "<p>脚本里的段落</p>";</script>
</head><body>
<div class="header"><nav class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/hdjl">互动交流</a></li><li><a href="/bsfw">办事服务</a></li></ul></nav></div>
<div class="crumb">您当前的位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 法治政府建设年度报告</div>
<table class="xxgk"><tr><th>索引号</th><td>115000005567784755/2023-00823</td><th>发文字号</th><td></td></tr>
<tr><th>主题分类</th><td>法制</td><th>体裁分类</th><td>公告公示</td></tr>
<tr><th>发布机构</th><td>两江新区管委会</td></tr>
<tr><th>成文日期</th><td>2023-03-13</td><th>发布日期</th><td>2023-03-14</td></tr></table>
<div class="article"><h1>{TITLE}</h1>
<div class="info"><span>来源：礼嘉街道</span> 字号【<a>大</a> <a>中</a> <a>小</a>】
<span>分享到：</span><a>微信</a><a>微博</a></div>
<div class="content" id="zoom">
<p><strong>（一）整段加粗的小标题</strong></p>
<p><b>一是</b>部分加粗的段落，星号*与下划线_保持原样，共办理案件12件。</p>
{paras}
</div></div>
<div class="related"><h3>相关文章</h3><ul><li><a href="/a">礼嘉街道2021年度法治政府建设情况的报告</a></li></ul></div>
<footer><p>网站地图 | 联系我们</p><p>版权所有：重庆两江新区管理委员会</p><p>ICP备案号：渝ICP备15010887号</p></footer>
<script type="text/javascript">document.write("统计代码");</script>
</body></html>"""


def test_html_portal_page_body_fields_title():
    body = _body()
    doc = read_bytes(_portal_page(body).encode("utf-8"), "html")
    lines = doc.text.split("\n")
    assert doc.format == "html" and doc.encoding == "utf-8"
    assert doc.notes == []  # trafilatura found the article: no whole-page fallback
    # every body paragraph survives as its own line; the numbered headings are <h2>
    for ln in body:
        expected = f"## {ln}" if re.match(r"^[一二三四五六七八九十]+、", ln) else ln
        assert expected in lines, expected[:30]
    assert "**（一）整段加粗的小标题**" in lines
    # partial bold is not marked, and nothing is markdown-escaped
    assert "一是部分加粗的段落，星号*与下划线_保持原样，共办理案件12件。" in lines
    assert "\\" not in doc.text
    # chrome, scripts and styles do not leak
    for junk in ("您当前的位置", "字号", "分享到", "alert", "脚本", "统计代码", "font-size",
                 "版权所有", "ICP备", "网站地图", "互动交流", "相关文章", "115000005567784755"):
        assert junk not in doc.text, junk
    assert doc.fields["索引号"] == "115000005567784755/2023-00823"
    assert doc.fields["发布机构"] == "两江新区管委会"
    assert doc.fields["成文日期"] == "2023-03-13"
    assert doc.fields["发布日期"] == "2023-03-14"
    assert doc.fields["主题分类"] == "法制"
    assert doc.fields["来源"] == "礼嘉街道"
    assert "发文字号" not in doc.fields  # empty cell: no value invented
    assert doc.title == TITLE
    assert lines[0] == f"# {TITLE}"


def test_html_gbk_meta_charset_and_title_suffix():
    body = [_plain(ln) for ln in _body()[:6]]
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{TITLE} - 两江新区网</title></head><body>
<div>发布时间：2022-11-21 12:21　　来源：荔湖街</div>
<div id="content">{''.join(f'<p>{htmlmod.escape(ln)}</p>' for ln in body)}</div>
</body></html>"""
    data = page.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is not UTF-8
    doc = read_bytes(data, "html")
    assert doc.encoding == "gb18030"
    assert doc.title == TITLE
    assert body[1] in doc.text.split("\n")
    assert doc.fields.get("发布时间") == "2022-11-21 12:21"
    assert doc.fields.get("来源") == "荔湖街"


def test_html_declared_charset_lies():
    page = f'<html><head><meta charset="utf-8"></head><body><p>{_plain(_body()[1])}</p></body></html>'
    doc = read_bytes(page.encode("gbk"), "html")
    assert doc.encoding == "gb18030"
    assert _plain(_body()[1]) in doc.text


def test_html_bracket_fields_and_label_cells():
    page = """<html><head><meta charset="utf-8"><title>报告</title></head><body>
<div class="meta"><div>[ 索引号 ] 115000005567784755/2023-00823 [ 发文字号 ]</div>
<div>[ 主题分类 ] 法制 [ 体裁分类 ] 公告公示</div>
<div>[ 成文日期 ] 2023-03-13 [ 发布日期 ] 2023-03-13</div></div>
<ul><li><span>发文机关：</span><span>某某区人民政府</span></li><li><label>文　号：</label>某府发〔2023〕1号</li>
<li>生成日期：2023-01-04</li></ul>
<p>专项资金来源：财政拨款。这是正文里的句子，里面的“来源”不是页面元数据，不能被当作字段。</p>
<p>全年办理复议案件12件，同比增长20%（来源：区司法局统计），其中纠错3件。</p>
</body></html>"""
    doc = read_bytes(page.encode("utf-8"), "html")
    assert doc.fields == {
        "索引号": "115000005567784755/2023-00823",
        "主题分类": "法制",
        "成文日期": "2023-03-13",
        "发布日期": "2023-03-13",
        "发文机关": "某某区人民政府",
        "文号": "某府发〔2023〕1号",
        "生成日期": "2023-01-04",
    }


def test_html_small_page_fallback_keeps_structure():
    page = ("<html><head><title>报告_某某网</title><script>alert(1)</script></head><body>"
            "<nav>首页 导航</nav><h2>一、主要工作</h2><p><b>加粗整段</b></p><p>短正文。</p>"
            "<footer>版权所有</footer></body></html>")
    doc = read_bytes(page.encode("utf-8"), "html")
    assert doc.text.split("\n") == ["## 一、主要工作", "**加粗整段**", "短正文。"]
    assert doc.title == "报告"


def test_html_binary_junk():
    rnd = random.Random(1)
    data = bytes(rnd.randrange(256) for _ in range(3000))
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "html")
    _assert_ingest_error(ei, "二进制")


# ------------------------------------------------------------------ docx


def _docx_bytes() -> bytes:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    d.core_properties.title = TITLE
    d.add_heading("一、2022年推进法治政府建设的主要举措和成效", level=1)
    d.add_heading("（一）贯彻习近平法治思想", level=2)
    p = d.add_paragraph()
    p.add_run("（二）整段加粗，").bold = True
    p.add_run("两个加粗的 run").bold = True
    p = d.add_paragraph()
    p.add_run("一是").bold = True
    p.add_run("部分加粗，星号*原样，2022年各调解组织共成功调解纠纷222件。")
    style = d.styles.add_style("加粗正文", WD_STYLE_TYPE.PARAGRAPH)
    style.font.bold = True
    d.add_paragraph("样式加粗的段落", style="加粗正文")
    t = d.add_table(rows=2, cols=3)
    for i, row in enumerate([["项目", "2021年", "2022年"], ["调解纠纷", "200件", "222件"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    d.add_paragraph("表格后的正文。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_headings_bold_table_title():
    doc = read_bytes(_docx_bytes(), "docx")
    assert doc.format == "docx"
    assert doc.title == TITLE
    assert doc.text.split("\n") == [
        "# 一、2022年推进法治政府建设的主要举措和成效",
        "## （一）贯彻习近平法治思想",
        "**（二）整段加粗，两个加粗的 run**",
        "一是部分加粗，星号*原样，2022年各调解组织共成功调解纠纷222件。",
        "**样式加粗的段落**",
        "项目\t2021年\t2022年",
        "调解纠纷：2021年200件，2022年222件。",  # a data row reads as a sentence
        "表格后的正文。",
    ]


def test_docx_wps_chinese_heading_style_name():
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    d.styles.add_style("标题 2", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("二、存在的不足和原因", style="标题 2")
    d.add_paragraph("正文。")
    buf = io.BytesIO()
    d.save(buf)
    doc = read_bytes(buf.getvalue(), "docx")
    assert doc.text.split("\n") == ["## 二、存在的不足和原因", "正文。"]


def test_docx_not_a_zip():
    with pytest.raises(IngestError) as ei:
        read_bytes("这不是 Word 文档，只是一段文字。".encode("utf-8") * 20, "docx")
    _assert_ingest_error(ei, "不是有效的 Word 文档")


def test_docx_zip_without_document_xml():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(IngestError) as ei:
        read_bytes(buf.getvalue(), "docx")
    _assert_ingest_error(ei, "word/document.xml")


def test_docx_truncated():
    data = _docx_bytes()
    with pytest.raises(IngestError) as ei:
        read_bytes(data[: len(data) // 2], "docx")
    _assert_ingest_error(ei, "Word")


def test_docx_zip_bomb(monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_DOCX_UNCOMPRESSED", str(1024 * 1024))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (4 * 1024 * 1024))
    data = buf.getvalue()
    assert len(data) < 64 * 1024  # highly compressible
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "docx")
    _assert_ingest_error(ei, "解压后过大")


def test_limits_overridable_by_env(monkeypatch):
    from fazhi import settings

    monkeypatch.setenv("FAZHI_MAX_DOCX_UNCOMPRESSED", "12345")
    monkeypatch.setenv("FAZHI_MAX_PDF_PAGES", "7")
    assert settings.MAX_DOCX_UNCOMPRESSED == 12345 and settings.get("MAX_PDF_PAGES") == 7
    monkeypatch.setenv("FAZHI_MAX_PDF_PAGES", "not a number")  # a bad override is ignored
    assert settings.MAX_PDF_PAGES == 500
    monkeypatch.setenv("FAZHI_MAX_PDF_PAGES", "-3")
    assert settings.MAX_PDF_PAGES == 500
    monkeypatch.delenv("FAZHI_MAX_DOCX_UNCOMPRESSED")
    assert settings.MAX_DOCX_UNCOMPRESSED == 200 * 1024 * 1024


# ------------------------------------------------------------------ pdf


def _pdf_bytes(paragraphs: list[tuple[str, str]]) -> bytes:
    """paragraphs: (kind, text), kind in title|body; a "— N —" footer on each page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    styles = {
        "title": ParagraphStyle("t", fontName="STSong-Light", fontSize=16, leading=24, alignment=1),
        "body": ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20,
                               wordWrap="CJK", firstLineIndent=24),
    }

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build(
        [Paragraph(htmlmod.escape(t), styles[k]) for k, t in paragraphs],
        onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


@pytest.fixture(scope="module")
def report_pdf() -> tuple[bytes, list[str]]:
    body = _body()[:5]  # heading 一、 + four long paragraphs: two pages
    return _pdf_bytes([("title", TITLE)] + [("body", ln) for ln in body]), [TITLE] + body


def test_pdf_text_reflowed_into_paragraphs(report_pdf):
    import pypdf

    data, expected = report_pdf
    raw = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "— 1 —" in raw  # the footer is really in the text layer ...
    assert expected[2][:10] in raw and expected[2] not in raw  # ... and the paragraph really wraps
    doc = read_bytes(data, "pdf")
    assert doc.format == "pdf"
    assert doc.text.split("\n") == expected  # each paragraph on ONE line, footers gone
    assert "—" not in doc.text


def test_pdf_whole_report_round_trips():
    # seed-002 has sentences that end exactly at the right margin ("…第一责任人职责。"
    # then "相关部门…" on the next visual line): the first-line indents tell them apart
    lines = [_plain(ln.strip()) for ln in (DEV / "seed-002.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip()]
    doc = read_bytes(_pdf_bytes([("body", ln) for ln in lines]), "pdf")
    assert doc.text.split("\n") == lines


def test_pdf_image_only_is_scanned():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(IngestError) as ei:
        read_bytes(buf.getvalue(), "pdf")
    _assert_ingest_error(ei, "扫描件")


def _noise_image():
    """A small grey-noise picture (a stand-in for a scanned page with no readable text)."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    rnd = random.Random(5)
    img = Image.new("L", (60, 80))
    img.putdata([rnd.randrange(90, 160) for _ in range(60 * 80)])
    return ImageReader(img)


def test_pdf_page_without_text_layer_is_noted():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 12)
    c.drawString(72, 750, "一、主要举措和成效")
    c.drawString(72, 720, "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。")
    c.showPage()
    c.drawImage(_noise_image(), 100, 100, 300, 400)  # a scanned page: an image, no text
    c.showPage()
    c.rect(100, 100, 300, 400, fill=1)  # a page with a drawing and no text: blank, no note
    c.showPage()
    c.save()
    doc = read_bytes(buf.getvalue(), "pdf")
    assert doc.text.split("\n") == ["一、主要举措和成效", "2022年各调解组织共成功调解纠纷222件，涉及当事人468人。"]
    assert any("第2页" in n and "无文本层" in n for n in doc.notes)


def test_pdf_truncated(report_pdf):
    data, _ = report_pdf
    with pytest.raises(IngestError) as ei:
        read_bytes(data[: len(data) // 2], "pdf")
    _assert_ingest_error(ei, "损坏或不完整")


def test_pdf_corrupt_body_with_eof_marker(report_pdf):
    data, _ = report_pdf
    rnd = random.Random(7)
    junk = bytes(rnd.randrange(256) for _ in range(4000))
    with pytest.raises(IngestError) as ei:
        read_bytes(data[:800] + junk + b"\n%%EOF\n", "pdf")
    _assert_ingest_error(ei, "PDF")


def test_pdf_not_a_pdf():
    with pytest.raises(IngestError) as ei:
        read_bytes("普通文字，不是 PDF。".encode("utf-8") * 10, "pdf")
    _assert_ingest_error(ei, "不是有效的 PDF")


def test_pdf_over_page_limit(monkeypatch, report_pdf):
    data, _ = report_pdf
    monkeypatch.setenv("FAZHI_MAX_PDF_PAGES", "1")
    with pytest.raises(IngestError) as ei:
        read_bytes(data, "pdf")
    _assert_ingest_error(ei, "页数过多")


def test_pdf_encrypted(report_pdf):
    import pypdf

    data, expected = report_pdf

    def encrypted(user_password: str) -> bytes:
        w = pypdf.PdfWriter(clone_from=io.BytesIO(data))
        w.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()

    with pytest.raises(IngestError) as ei:
        read_bytes(encrypted("secret"), "pdf")
    _assert_ingest_error(ei, "加密")
    # "no copying" protection with an empty open password is readable
    doc = read_bytes(encrypted(""), "pdf")
    assert doc.text.split("\n") == expected


def test_reflow_rules():
    from fazhi.ingest.pdf import reflow

    full = "一二三四五六七八九十" * 3
    lines = [
        "关于2022年度法治政府建设情况的报告",  # short title line: its own paragraph
        full[:28] + "，",
        full[:29],
        "结束。",  # sentence end
        "一、主要举措和成效",  # heading marker
        "（一）加强组织领导" + full[:20],
        full[:30],
        "（二）第二项" + full[:24],
        "1.第一点" + full[:26],
        "①圆圈编号" + full[:25],
        "第二章 总则",
        "短句以逗号结尾，",
        "接下一行。",
    ]
    assert reflow(lines) == [
        "关于2022年度法治政府建设情况的报告",
        full[:28] + "，" + full[:29] + "结束。",
        "一、主要举措和成效",
        "（一）加强组织领导" + full[:20] + full[:30],
        "（二）第二项" + full[:24],
        "1.第一点" + full[:26],
        "①圆圈编号" + full[:25],
        "第二章 总则",
        "短句以逗号结尾，接下一行。",
    ]


def test_reflow_trusts_consistent_first_line_indents():
    from fazhi.ingest.pdf import reflow

    full = "一二三四五六七八九十" * 3
    lines = [
        "  " + full[:28],
        full[:29] + "。",  # full width, sentence ends at the margin: paragraph goes on
        full[:30],
        full[:10] + "。",
        "  " + full[:28],
        full[:12] + "。",
        "  " + full[:28],
        full[:8] + "。",
    ]
    assert reflow(lines) == [
        full[:28] + full[:29] + "。" + full[:30] + full[:10] + "。",
        full[:28] + full[:12] + "。",
        full[:28] + full[:8] + "。",
    ]


def test_pdf_page_furniture_removed():
    from fazhi.ingest.pdf import _strip_furniture

    seed = [ln for ln in _body() if len(ln) > 40]
    bodies = [[seed[i][:30], seed[i][30:40]] for i in range(6)]
    furniture = [["- 2 -"], ["第 3 页"], ["3/10"], ["12"], ["第3页，共10页"], ["—4—"]]
    pages = [f + b if i % 2 else b + f for i, (f, b) in enumerate(zip(furniture, bodies))]
    assert _strip_furniture(pages) == bodies
    # a running header repeated on most pages goes too; the text in between stays
    header = ["XX区2022年法治政府建设年度报告"]
    long_pages = [header + [seed[i][j * 5:j * 5 + 5] for j in range(8)] for i in range(5)]
    assert _strip_furniture(long_pages) == [ln[1:] for ln in long_pages]


def test_fold_compat_only_folds_radicals():
    from fazhi.ingest.pdf import fold_compat

    assert fold_compat("⼯作⽂件⾏政，２０２２年（一）") == "工作文件行政，２０２２年（一）"
    assert fold_compat("\uf9b4") == "\u9818"  # CJK compatibility ideograph 領 -> 領


def test_unsupported_format():
    with pytest.raises(IngestError) as ei:
        read_bytes(b"abc", "xlsx")
    _assert_ingest_error(ei, "不支持")
    assert ingest.format_of("a.HTM") == "html"


# ------------------------------------------------------------------ formats (issue 10, item 9)


def _pdf_lines(lines: list[tuple[str, float, float]]) -> bytes:
    """A one-page PDF with each (text, font size, gap after) as its own visual line."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    y = 780.0
    for text, size, gap in lines:
        c.setFont("STSong-Light", size)
        c.drawString(72, y, text)
        y -= size * 1.4 + gap
    c.showPage()
    c.save()
    return buf.getvalue()


TITLE_LONG = "某某市某某区人民政府关于2022年度法治政府建设工作情况和2023年工作安排的报告"


def test_pdf_large_title_wrapped_over_lines_is_one_line():
    body = _body()
    data = _pdf_lines([(TITLE_LONG[:21], 22, 0), (TITLE_LONG[21:], 22, 12)]
                      + [(body[1][k:k + 37], 12, 0) for k in range(0, 111, 37)])
    doc = read_bytes(data, "pdf")
    lines = doc.text.split("\n")
    assert lines[0] == TITLE_LONG
    assert lines[1].startswith(body[1][:37]) and not lines[1].startswith(TITLE_LONG[21:])


def test_pdf_same_size_lines_still_follow_the_text_rules():
    from fazhi.ingest.layout import reflow

    # sizes known and all equal: the behaviour of the rules without sizes
    lines = ["关于2022年度法治政府建设情况的报告", "一二三四五六七八九十" * 3, "结束。"]
    assert reflow(lines, [12.0] * 3) == reflow(lines) == [lines[0], lines[1] + lines[2]]


def test_pdf_space_between_digits_and_han_is_removed():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    import pypdf

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    t = c.beginText(72, 750)
    x = 72.0
    runs = [("STSong-Light", "某某区"), ("Times-Roman", "2022"), ("STSong-Light", "年共办理行政复议案件"),
            ("Times-Roman", "12"), ("STSong-Light", "件。")]
    for font, s in runs:  # one run per font, placed as Word's PDF export places them
        t.setTextOrigin(x, 750)
        t.setFont(font, 12)
        t.textOut(s)
        x += pdfmetrics.stringWidth(s, font, 12) + 3
    c.drawText(t)
    c.showPage()
    c.save()
    assert "2022 年" in pypdf.PdfReader(io.BytesIO(buf.getvalue())).pages[0].extract_text()  # pypdf's artefact
    assert read_bytes(buf.getvalue(), "pdf").text == "某某区2022年共办理行政复议案件12件。"


def test_pdf_date_banner_is_not_glued_to_the_text():
    body = _body()
    banner = "2023/3/1 10:21 关于某某区2022年度法治政府建设情况的报告_某某区人民政府门户网站"
    for size in (9, 12):  # a browser's print header in a small font, or the body's size
        data = _pdf_lines([(banner, size, 6)] + [(body[1][k:k + 37], 12, 0) for k in range(0, 111, 37)])
        lines = read_bytes(data, "pdf").text.split("\n")
        assert lines[0] == "2023/3/1 10:21", lines[:2]
        assert not lines[1].startswith("2023") and body[1][:37] in "".join(lines[1:])


def test_pdf_header_repeated_on_two_pages_is_removed():
    from fazhi.ingest.pdf import _strip_furniture

    head = "某某区2022年法治政府建设年度报告"
    pages = [[head, "第一页正文甲。", "第一页正文乙。", "第一页正文丙。"],
             [head, "第二页正文甲。", "第二页正文乙。", "第二页正文丙。"]]
    assert _strip_furniture(pages) == [p[1:] for p in pages]


def _table_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("某某县司法局2022年法治政府建设年度报告")
    d.add_heading("一、2022年主要举措和成效", level=1)
    d.add_paragraph("全年主要工作数据见下表。")
    for rows in ([["指标", "数量"], ["行政复议案件", "12件"], ["人民调解纠纷", "35件"], ["行政应诉案件", "8件"]],
                 [["指标", "数量（件）"], ["办理人大代表建议", "14"], ["办理政协提案", "9"]]):
        t = d.add_table(rows=len(rows), cols=2)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                t.cell(i, j).text = v
    d.add_heading("二、存在的不足和原因", level=1)
    d.add_paragraph("基层法治力量仍显薄弱，主要原因是编制不足。")
    d.save(path)
    return path


def test_docx_table_numbers_are_facts(tmp_path):
    from fazhi.pipeline import analyze_path

    report = analyze_path(_table_docx(tmp_path / "表格.docx"))
    lines = report.text.split("\n")
    assert "行政复议案件：12件。" in lines and "办理政协提案：9件。" in lines  # the unit from the header
    facts = {(f.indicator, f.value) for f in report.facts}
    assert {("reconsideration.cases", 12), ("mediation.cases", 35), ("litigation.cases", 8)} <= facts
    assert {f.value for f in report.facts if f.unit == "件"} >= {12, 35, 8, 14, 9}


def test_docx_table_rows_that_are_not_data_stay_tab_joined():
    import docx

    d = docx.Document()
    t = d.add_table(rows=3, cols=3)
    for i, row in enumerate([["序号", "工作内容", "责任单位"], ["1", "开展普法宣传", "司法局"],
                             ["行政复议", "12", "另见说明"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    buf = io.BytesIO()
    d.save(buf)
    assert read_bytes(buf.getvalue(), "docx").text.split("\n") == [
        "序号\t工作内容\t责任单位", "1\t开展普法宣传\t司法局", "行政复议\t12\t另见说明"]
