#!/usr/bin/env python3
"""Fuzz the readers: mutated bytes of every supported format through the whole
analysis, in the sandbox that runs every analysis in production
(``fazhi.sandbox``: a worker process per analysis slot, the memory cap, the
deadline), counting the outcomes.

Seeds are built here from the dev reports: txt in UTF-8, GBK, Big5 (traditional),
UTF-16 with and without BOM; markdown as a PDF converter writes it; portal HTML
pages (UTF-8 and GBK; one with an inline data-URI image and a large script); a
.docx (python-docx: headings, bold, a data table); a text PDF (reportlab, CID
font, a large wrapped title) and, with ``--ocr``, PNG/JPEG scans.  Each case is a
seed mutated by one to four operators, some blind (bit flips, byte runs,
truncation, splices, "interesting" values, NUL bytes, encoding splices), some
structure-aware (the docx's XML parts mutated and re-zipped or inflated into a
small zip bomb, the PDF's numbers and keywords changed, HTML tags inserted /
unbalanced / nested / unclosed, data URIs, text re-encoded); one case in eight is
named with another format's extension (format confusion).

Outcomes: ok (a report); error (a clean Chinese message: counted, and any message
without Chinese characters is listed); UNHANDLED (a traceback inside the
analysis: must be 0); TIMEOUT (over the deadline: must be 0); CRASH (the worker
died); MEMORY (the memory cap was hit: must be 0).  The peak resident memory of
the workers (``ru_maxrss``, which bounds every single analysis) must stay under
1 GB.  Failing inputs are saved to --save for replay (``--replay FILE``).

    python bench/fuzz_ingest.py [--cases 24000] [--budget 20] [--workers 2] [--seed 1]
    python bench/fuzz_ingest.py --ocr --cases 300        # scans routed through OCR too
"""
from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import time
import traceback
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
HAN = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------ seeds


def _report_lines() -> list[str]:
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[:40]


def _docx(lines: list[str]) -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = lines[0][:60]
    d.add_heading(lines[0][:60], level=1)
    for i, ln in enumerate(lines[1:25]):
        if re.match(r"^[一二三四五六七八九十]+、", ln):
            d.add_heading(ln[:60], level=2)
        else:
            p = d.add_paragraph()
            r = p.add_run(ln)
            r.bold = i % 7 == 0
    t = d.add_table(rows=3, cols=3)
    for i, row in enumerate(t.rows):
        for j, cell in enumerate(row.cells):
            cell.text = f"调解纠纷{i * 3 + j}件"
    t = d.add_table(rows=3, cols=2)
    for i, row in enumerate([["指标", "数量（件）"], ["行政复议案件", "12"], ["行政应诉案件", "8"]]):
        for j, v in enumerate(row):
            t.cell(i, j).text = v
    buf = io.BytesIO()
    d.save(buf)
    return _fixed_zip(buf.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with fixed timestamps (the same bytes every run)."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), zin.read(info),
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _pdf(lines: list[str]) -> bytes:
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.platypus import Paragraph, SimpleDocTemplate
    except ImportError:  # a minimal hand-made PDF (Latin text) when reportlab is missing
        body = b"BT /F1 12 Tf 72 720 Td (2022 report 222) Tj ET"
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>",
                b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
        out = b"%PDF-1.4\n"
        offs = []
        for i, o in enumerate(objs, 1):
            offs.append(len(out))
            out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offs)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
        return out
    import html

    from reportlab import rl_config

    rl_config.invariant = 1  # no creation date or random ID: the same bytes every run
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    st = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    buf = io.BytesIO()

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    big = ParagraphStyle("t", fontName="STSong-Light", fontSize=22, leading=30, alignment=1, wordWrap="CJK")
    SimpleDocTemplate(buf, pagesize=A4).build(
        [Paragraph(html.escape(lines[0] + "（2023年1月印发）"), big)]
        + [Paragraph(html.escape(ln), st) for ln in lines[1:14]], onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _html(lines: list[str]) -> bytes:
    import html

    body = "".join(f"<h2>{html.escape(ln)}</h2>" if re.match(r"^[一二三四五六七八九十]+、", ln)
                   else f"<p>{html.escape(ln)}</p>" for ln in lines[1:30])
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(lines[0])}_某某区人民政府门户网站</title>
<script>var x = "<p>not text</p>";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="nav"><a href="/">首页</a> &gt; 政务公开</div>
<table class="meta"><tr><td>索引号：</td><td>11500000MB1234567X/2023-00012</td><td>发布机构：</td><td>某某区司法局</td></tr>
<tr><td>成文日期：</td><td>2023-01-05</td><td>发布时间：</td><td>2023-01-06 10:00</td></tr></table>
<h1>{html.escape(lines[0])}</h1><div class="content">{body}</div>
<div class="footer">版权所有：某某区人民政府 ICP备12345678号</div></body></html>"""
    return page.encode("utf-8")


def _image(lines: list[str], fmt: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = None
    for f in ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"):
        if os.path.exists(f):
            font = ImageFont.truetype(f, 28)
            break
    img = Image.new("RGB", (900, 200), "white")
    dr = ImageDraw.Draw(img)
    for i, ln in enumerate(lines[1:4]):
        dr.text((30, 20 + 55 * i), ln[:28], fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def _traditional(text: str) -> str:
    try:
        import opencc

        return opencc.OpenCC("s2t").convert(text)
    except Exception:  # noqa: BLE001
        return text


def _html_hostile(lines: list[str]) -> bytes:
    import base64
    import html

    img = "data:image/png;base64," + base64.b64encode(bytes(range(256)) * 400).decode()
    body = "".join(f"<p>{html.escape(ln)}</p>" for ln in lines[1:30])
    half = len(body) // 2
    return (f"<html><head><meta charset='gbk'><title>{html.escape(lines[0])}</title><script>var s='"
            + "x" * 20000 + "';</script></head><body><div><table><tr><td>发布日期：</td><td>2023-03-01</td></tr>"
            f"</table>{body[:half]}<img src=\"{img}\">{body[half:]}</div></body></html>").encode("gbk", "replace")


def _markdown(lines: list[str]) -> bytes:
    out = ["# " + lines[0], ""]
    for ln in lines[1:]:
        if re.match(r"^[一二三四五六七八九十]+、", ln):
            out += ["## " + ln, ""]
        else:  # a converter's hard wrap at 38 characters, then a blank line
            out += [ln[k:k + 38] for k in range(0, len(ln), 38)] + [""]
    return "\n".join(out).encode("utf-8")


def build_seeds(with_images: bool) -> dict[str, tuple[str, bytes]]:
    lines = _report_lines()
    text = "\n".join(lines)
    seeds = {
        "txt-utf8": ("seed.txt", text.encode("utf-8")),
        "txt-gbk": ("seed.txt", text.encode("gb18030", "replace")),
        "txt-big5": ("seed.txt", _traditional(text).encode("big5", "replace")),
        "txt-utf16": ("seed.txt", text.encode("utf-16")),
        "txt-utf16-nobom": ("seed.txt", text.encode("utf-16-le")),
        "md": ("seed.md", _markdown(lines)),
        "html": ("seed.html", _html(lines)),
        "html-hostile": ("seed.html", _html_hostile(lines)),
        "docx": ("seed.docx", _docx(lines)),
        "pdf": ("seed.pdf", _pdf(lines)),
    }
    if with_images:
        seeds["png"] = ("seed.png", _image(lines, "PNG"))
        seeds["jpg"] = ("seed.jpg", _image(lines, "JPEG"))
    return seeds


# ------------------------------------------------------------------ mutators

INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"<", b">", b"&", b"\"", b"'", b"\r", b"\n", b"%%EOF", b"obj",
               b"endobj", b"stream", b"endstream", b"R", b"/Length 99999999", b"-1", b"4294967296", b"999999999",
               b"<<", b">>", b"[", b"]", b"\xef\xbb\xbf", b"\xfe\xff", b"\xe4\xb8", b"\xa1\xa1", b"<div>", b"</div>",
               b"<table>", b"<br>", b"<!--", b"-->", b"<![CDATA[", b"&#x0;", b"&#99999999;", "（一）".encode(),
               "一、".encode(), "万元".encode(), "百分之".encode(), "二〇二三年".encode()]


def m_bitflip(rnd, d, _):
    if not d:
        return d
    b = bytearray(d)
    for _ in range(rnd.randint(1, 16)):
        i = rnd.randrange(len(b))
        b[i] ^= 1 << rnd.randrange(8)
    return bytes(b)


def m_bytes(rnd, d, _):
    b = bytearray(d)
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(len(b) + 1)
        b[i:i + rnd.randint(0, 8)] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
    return bytes(b)


def m_interesting(rnd, d, _):
    b = bytearray(d)
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(b) + 1)
        v = rnd.choice(INTERESTING)
        if rnd.random() < 0.5:
            b[i:i] = v * rnd.choice((1, 1, 2, 50))
        else:
            b[i:i + len(v)] = v
    return bytes(b)


def m_truncate(rnd, d, _):
    return d[: rnd.randrange(len(d) + 1)] if d else d


def m_delete(rnd, d, _):
    if len(d) < 2:
        return d
    i = rnd.randrange(len(d))
    return d[:i] + d[i + rnd.randint(1, min(4096, len(d) - i)):]


def m_duplicate(rnd, d, _):
    if not d:
        return d
    i = rnd.randrange(len(d))
    chunk = d[i:i + rnd.randint(1, 2048)]
    j = rnd.randrange(len(d) + 1)
    return d[:j] + chunk * rnd.choice((1, 2, 10)) + d[j:]


def m_splice(rnd, d, others):
    o = rnd.choice(others)
    if not o or not d:
        return d
    i, j = rnd.randrange(len(d) + 1), rnd.randrange(len(o))
    return d[:i] + o[j:j + rnd.randint(1, 4096)] + d[i:]


def m_numbers(rnd, d, _):
    """Change ASCII numbers (PDF offsets, lengths, counts, object numbers)."""
    nums = list(re.finditer(rb"\d+", d[:200000]))
    if not nums:
        return d
    b = d
    for m in sorted(rnd.sample(nums, min(len(nums), rnd.randint(1, 6))), key=lambda m: -m.start()):
        new = rnd.choice([b"0", b"1", b"-1", b"99999999", b"4294967297", str(int(m.group()) + rnd.randint(-3, 3)).encode()])
        b = b[:m.start()] + new + b[m.end():]
    return b


def m_pdf_keywords(rnd, d, _):
    kws = [b"/Type", b"/Pages", b"/Kids", b"/Count", b"/Contents", b"/Length", b"/Filter", b"/FlateDecode",
           b"/Root", b"/Encrypt", b"/Parent", b"/Font", b"/ToUnicode", b"/Resources", b"/MediaBox", b"xref",
           b"trailer", b"startxref", b"/Prev", b"/ObjStm", b"/XRef", b"/Annots", b"/Outlines"]
    b = d
    for _ in range(rnd.randint(1, 4)):
        k = rnd.choice(kws)
        i = b.find(k, rnd.randrange(max(1, len(b))))
        if i < 0:
            i = b.find(k)
        if i < 0:
            continue
        b = b[:i] + rnd.choice(kws + [b"", b"/Foo", b"null", b"[", b"<<"]) + b[i + len(k):]
    return b


def m_html_tags(rnd, d, _):
    tags = [b"<div>", b"</div>", b"<p>", b"</p>", b"<table><tr><td>", b"</td></tr></table>", b"<b>", b"</b>",
            b"<h1>", b"</h1>", b"<script>", b"</script>", b"<!--", b"<br/>", b"<li>", b"<font>", b"<span>",
            b"<meta charset='big5'>", b"<meta charset='utf-16'>", b"<?xml version='1.0' encoding='gbk'?>",
            b"<title>", b"</title>", b"<td>\xe7\xb4\xa2\xe5\xbc\x95\xe5\x8f\xb7\xef\xbc\x9a</td>"]
    b = bytearray(d)
    for _ in range(rnd.randint(1, 10)):
        i = rnd.randrange(len(b) + 1)
        b[i:i] = rnd.choice(tags) * rnd.choice((1, 1, 3, 300))
    return bytes(b)


def m_reencode(rnd, d, _):
    try:
        s = d.decode("utf-8")
    except UnicodeDecodeError:
        return d
    codec = rnd.choice(["gb18030", "big5", "utf-16", "utf-16-le", "utf-32", "shift_jis", "latin-1", "utf-8-sig"])
    return s.encode(codec, "replace")


def m_zip_parts(rnd, d, _):
    """Unzip, mutate an XML part (or drop/add/bomb one), zip again: the XML parsers get the bytes."""
    try:
        zin = zipfile.ZipFile(io.BytesIO(d))
        items = [(i.filename, zin.read(i)) for i in zin.infolist()]
    except Exception:  # noqa: BLE001 - already broken: a blind mutation instead
        return m_bytes(rnd, d, _)
    op = rnd.random()
    if op < 0.1 and items:
        items.pop(rnd.randrange(len(items)))
    elif op < 0.15:
        items.append(("word/media/big.bin", b"\0" * rnd.choice((10, 1 << 20))))
    else:
        k = rnd.randrange(len(items))
        name, data = items[k]
        if name == "word/document.xml" or rnd.random() < 0.3:
            pass
        else:
            k = next((i for i, (n, _) in enumerate(items) if n == "word/document.xml"), k)
            name, data = items[k]
        sub = rnd.choice([m_bytes, m_interesting, m_truncate, m_delete, m_duplicate, m_html_tags])
        r = rnd.random()
        if r < 0.45:  # well-formed: balanced fragments at tag boundaries, odd attribute values
            frags = ["<w:p><w:r><w:t>一、测</w:t></w:r></w:p>".encode(),
                     b"<w:p><w:pPr><w:pStyle w:val=\"Heading9\"/><w:outlineLvl w:val=\"-5\"/></w:pPr></w:p>",
                     b"<w:r><w:rPr><w:b w:val=\"maybe\"/></w:rPr><w:t xml:space=\"preserve\"> </w:t></w:r>",
                     b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
                     b"<w:tbl></w:tbl>", b"<w:tr><w:tc/></w:tr>", b"<w:sdt><w:sdtContent><w:r><w:t>x</w:t></w:r></w:sdtContent></w:sdt>",
                     b"<w:p>" * 60 + b"</w:p>" * 60, b"<w:hyperlink r:id=\"rId999\"><w:r><w:t>y</w:t></w:r></w:hyperlink>",
                     b"<w:br/>", b"<w:tab/>", b"<w:sectPr/>", b"<foo:bar xmlns:foo=\"urn:x\"/>"]
            cuts = [m.end() for m in re.finditer(rb">", data)] or [len(data)]
            for _ in range(rnd.randint(1, 5)):
                i = rnd.choice(cuts)
                data = data[:i] + rnd.choice(frags) + data[i:]
                cuts = [c for c in cuts if c <= i] or cuts
            if rnd.random() < 0.3:
                data = re.sub(rb'w:val="[^"]*"', lambda m: rnd.choice([m.group(), b'w:val=""', b'w:val="999999"',
                                                                        b'w:val="Heading1"', b'w:val="\xe6\xa0\x87\xe9\xa2\x98 1"']), data)
        elif r < 0.6:  # XML-aware: deep nesting, entities, broken namespaces
            extra = rnd.choice([b"<w:p><w:r><w:t>" * 300, b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
                                b"&a;" * 100, b"xmlns:w=\"urn:x\"", b"<w:tbl><w:tr><w:tc>" * 50,
                                b"<w:pStyle w:val=\"Heading1\"/>", b"<w:b/>" * 20, b"<w:outlineLvl w:val=\"9\"/>"])
            i = rnd.randrange(len(data) + 1)
            data = data[:i] + extra + data[i:]
        else:
            data = sub(rnd, data, _)
        items[k] = (name, data)
    return _zip(items)


def _zip(items) -> bytes:
    """The members re-zipped with a fixed time stamp (``writestr`` with a name stamps the time of
    writing, so the same case made a second later was other bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def m_nul(rnd, d, _):
    """A few NUL bytes (a broken editor) or a NUL every other byte (UTF-16 without BOM)."""
    b = bytearray(d)
    if rnd.random() < 0.2:
        return bytes(x for c in b[:20000] for x in (c, 0))
    for _ in range(rnd.randint(1, 6)):
        b.insert(rnd.randrange(len(b) + 1), 0)
    return bytes(b)


def m_encoding_splice(rnd, d, _):
    """Part of the file in another encoding (a GBK paragraph pasted into UTF-8, …)."""
    try:
        s = d.decode("utf-8")
    except UnicodeDecodeError:
        return d
    k = rnd.randrange(len(s) + 1)
    other = rnd.choice(["gb18030", "big5", "utf-16-le", "latin-1"])
    return s[:k].encode("utf-8") + s[k:].encode(other, "replace")


def m_html_hostile(rnd, d, _):
    """Unclosed script/style/comment, a data URI, a huge attribute, deep or wide markup."""
    pieces = [b"<script>", b"<style>", b"<!--", b"<template>", b"<noscript>",
              b'<img src="data:image/png;base64,' + b"A" * rnd.choice((100, 100000)) + b'">',
              b'<p title="' + b"x" * 200000 + b'">', b"<div>" * 3000, b"<p>x</p>" * 20000, b"</html>", b"<?xml?>"]
    b = bytearray(d)
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(b) + 1)
        b[i:i] = rnd.choice(pieces)
    return bytes(b)


def m_docx_inflate(rnd, d, _):
    """Turn the docx into a small zip bomb: document.xml repeated to a few MB (ordinary
    paragraphs, empty elements, one giant paragraph or a huge table row)."""
    try:
        zin = zipfile.ZipFile(io.BytesIO(d))
        items = [(i.filename, zin.read(i)) for i in zin.infolist()]
    except Exception:  # noqa: BLE001
        return d
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    unit, pre, post = rnd.choice([
        ("<w:p><w:r><w:t>调解纠纷222件。</w:t></w:r></w:p>".encode(), b"", b""),
        (b"<w:p/>", b"", b""),
        ("<w:r><w:t>调解纠纷222件。</w:t></w:r>".encode(), b"<w:p>", b"</w:p>"),
        (b"<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>", b"<w:tbl><w:tr>", b"</w:tr></w:tbl>"),
    ])
    n = rnd.choice((10_000, 50_000, 200_000))
    xml = b"<w:document " + ns + b"><w:body>" + pre + unit * n + post + b"</w:body></w:document>"
    items = [(name, xml if name == "word/document.xml" else data) for name, data in items]
    return _zip(items)


BLIND = [m_bitflip, m_bytes, m_interesting, m_truncate, m_delete, m_duplicate, m_splice, m_nul]
AWARE = {
    "txt-utf8": [m_reencode, m_interesting, m_encoding_splice],
    "txt-gbk": [m_interesting, m_encoding_splice],
    "txt-big5": [m_interesting],
    "txt-utf16": [m_interesting],
    "txt-utf16-nobom": [m_interesting, m_truncate],
    "md": [m_reencode, m_interesting, m_encoding_splice],
    "html": [m_html_tags, m_html_tags, m_reencode, m_html_hostile],
    "html-hostile": [m_html_tags, m_html_hostile],
    "docx": [m_zip_parts, m_zip_parts, m_zip_parts, m_docx_inflate],
    "pdf": [m_numbers, m_pdf_keywords, m_numbers],
    "png": [], "jpg": [],
}
EXTS = [".txt", ".md", ".html", ".docx", ".pdf", ".png"]


def mutate(rnd: random.Random, kind: str, data: bytes, others: list[bytes]) -> bytes:
    ops = BLIND + AWARE.get(kind, []) * 2
    for _ in range(rnd.choice((1, 1, 1, 2, 2, 3, 4))):
        data = rnd.choice(ops)(rnd, data, others)
    return data


# ------------------------------------------------------------------ running


def iter_cases(n: int, seed: int, seeds: dict[str, tuple[str, bytes]]):
    """(index, seed kind, file name, bytes), made one at a time: the seeds themselves
    first, then mutations (the same sequence for the same seed)."""
    rnd = random.Random(seed)
    kinds = list(seeds)
    blobs = [d for _, d in seeds.values()]
    for i in range(n):
        k = kinds[i % len(kinds)]
        name, data = seeds[k]
        if i >= len(kinds):
            data = mutate(rnd, k, data, blobs)
            if rnd.random() < 0.125:  # format confusion: the bytes of one format under another's name
                name = "case" + rnd.choice(EXTS)
        yield i, k, name, data


def make_cases(n: int, seed: int, seeds: dict[str, tuple[str, bytes]]) -> list[tuple[int, str, str, bytes]]:
    return list(iter_cases(n, seed, seeds))


def run(cases, *, budget: float, workers: int, ocr_on: bool, progress=None) -> dict:
    """Every case through the sandbox; the outcome counts and the failures."""
    from fazhi.ingest import ocr
    from fazhi.sandbox import Job, Sandbox

    available = ocr.available
    if not ocr_on:  # scans get the 扫描件 message, not minutes of OCR (the forked workers inherit this)
        ocr.available = lambda: False
    try:
        return _run(cases, budget=budget, workers=workers, progress=progress)
    finally:
        ocr.available = available


def _run(cases, *, budget: float, workers: int, progress=None) -> dict:
    from fazhi.sandbox import Job, Sandbox

    counts: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    messages: Counter = Counter()
    not_chinese: list[str] = []
    failures: list[tuple[int, str, str, str]] = []
    slowest: list[tuple[float, int, str]] = []
    kind_of = {"ok": "ok", "error": "ingest", "bug": "unhandled", "timeout": "timeout", "crash": "crash",
               "memory": "memory"}
    t0 = time.perf_counter()
    last_rss: dict[int, int] = {}
    raisers: list[tuple[int, int, str]] = []  # (peak RSS MB after the case, case, kind): who raised a worker's peak
    inputs: dict[int, tuple[str, bytes]] = {}  # the cases in flight (to keep the inputs that fail)
    with Sandbox(workers) as sb:
        sb.prestart()  # fork the workers before any case exists (their RSS is then their own)

        def jobs():
            for idx, kind, name, data in cases:
                inputs[idx] = (name, data)
                yield Job(name=name, data=data, key=(idx, kind), time_limit=budget, want="none")

        for res in sb.imap(jobs()):
            idx, kind = res.key
            name, data = inputs.pop(idx)
            if res.rss_kb > last_rss.get(res.pid, 0) + 20 * 1024:
                raisers.append((res.rss_kb // 1024, idx, kind))
            if res.pid:
                last_rss[res.pid] = max(last_rss.get(res.pid, 0), res.rss_kb)
            out = kind_of[res.kind]
            counts[out] += 1
            by_kind.setdefault(kind, Counter())[out] += 1
            slowest.append((res.seconds, idx, kind))
            if out == "ingest":
                messages[re.sub(r"\d[\d,.]*", "N", res.error or "")[:60]] += 1
                if not HAN.search(res.error or ""):
                    not_chinese.append(res.error or "")
            elif out != "ok":
                failures.append((idx, kind, out, res.detail or res.error or "", name, data if len(failures) < 50 else b""))
            if progress and sum(counts.values()) % 1000 == 0:
                progress(counts, time.perf_counter() - t0)
        peak = sb.peak_rss_kb
    slowest.sort(reverse=True)
    return {"counts": counts, "by_kind": by_kind, "messages": messages, "not_chinese": not_chinese,
            "failures": failures, "slowest": slowest[:5], "seconds": time.perf_counter() - t0,
            "peak_rss_mb": peak // 1024, "memory_raisers": sorted(raisers, reverse=True)[:5]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--cases", type=int, default=24000, help="number of inputs (default 24000)")
    ap.add_argument("--budget", type=float, default=20.0, help="deadline per case, seconds (default 20)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ocr", action="store_true", help="route scans through OCR and add PNG/JPEG seeds")
    ap.add_argument("--save", default="fuzz-failures", help="directory for inputs that failed")
    ap.add_argument("--replay", help="run one saved input in this process and show the traceback")
    args = ap.parse_args(argv)

    if args.replay:
        from fazhi.pipeline import analyze_bytes

        p = Path(args.replay)
        analyze_bytes(p.read_bytes(), p.name.split("__", 1)[-1])
        print("ok")
        return 0

    seeds = build_seeds(args.ocr)
    if args.ocr:
        from fazhi.ingest import ocr

        if not ocr.available():
            sys.exit("--ocr: OCR 组件未安装（pip install fazhi[ocr]）")
    cases = iter_cases(args.cases, args.seed, seeds)
    print(f"{args.cases} cases from {len(seeds)} seeds ({', '.join(f'{k} {len(v[1]):,} B' for k, v in seeds.items())}); "
          f"deadline {args.budget:g} s a case; {args.workers} workers; OCR {'on' if args.ocr else 'off'}", flush=True)

    def show(counts, el):
        print(f"  {sum(counts.values()):>6} cases  {el:6.0f} s  ok {counts['ok']}  IngestError {counts['ingest']}  "
              f"UNHANDLED {counts['unhandled']}  TIMEOUT {counts['timeout']}  CRASH {counts['crash']}  "
              f"MEMORY {counts['memory']}", flush=True)

    r = run(cases, budget=args.budget, workers=args.workers, ocr_on=args.ocr, progress=show)
    c = r["counts"]
    done = sum(c.values())
    print()
    print(f"cases: {done}   time: {r['seconds']:.0f} s ({done / r['seconds']:.0f} cases/s)   "
          f"peak RSS of a worker: {r['peak_rss_mb']} MB")
    print(f"ok: {c['ok']}   IngestError (clean Chinese message): {c['ingest']}   UNHANDLED: {c['unhandled']}   "
          f"TIMEOUT: {c['timeout']}   CRASH: {c['crash']}   MEMORY: {c['memory']}")
    print("by format: " + "; ".join(f"{k} {sum(v.values())} (ok {v['ok']}, IngestError {v['ingest']}, "
                                    f"failed {sum(v.values()) - v['ok'] - v['ingest']})"
                                    for k, v in r["by_kind"].items()))
    print("most frequent messages:")
    for m, n in r["messages"].most_common(12):
        print(f"  {n:>6}  {m}")
    print("slowest cases: " + ", ".join(f"#{i} {k} {s:.1f}s" for s, i, k in r["slowest"]))
    print("cases that raised a worker's peak RSS most: "
          + ", ".join(f"#{i} {k} -> {mb} MB" for mb, i, k in r["memory_raisers"]))
    if r["not_chinese"]:
        print(f"IngestError messages without Chinese: {len(r['not_chinese'])}: {r['not_chinese'][:5]}")
    save = Path(args.save)
    for idx, kind, res, detail, name, data in r["failures"][:20]:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{idx:06d}__{name}").write_bytes(data)
        print(f"--- case {idx} ({kind}) {res}: saved to {save}/{idx:06d}__{name}\n{detail}")
    bad = c["unhandled"] or c["timeout"] or c["crash"] or c["memory"] or r["not_chinese"] or r["peak_rss_mb"] >= 1024
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
