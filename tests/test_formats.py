"""The same report in every format gives the same analysis.

Each dev seed is rebuilt as a Word document (heading styles, no numbering
help from the text layout), a portal web page (chrome, metadata table, script),
a text PDF (hard-wrapped lines, page footers) and a markdown file converted from
a PDF (``##`` marks, ``**`` bold, a word split by a page break); the parts, the
facts and the metadata must agree with the gold answers as they do for the text.
"""
import io
import json
import re
from pathlib import Path

import pytest

from fazhi.evaluate import Scores, score_one
from fazhi.pipeline import analyze_bytes

DEV = Path(__file__).parent / "data" / "dev"
SEEDS = ["seed-000", "seed-002", "seed-004"]
HEAD1 = re.compile(r"^[一二三四五六七八九十]+、")
HEAD2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def _body_lines(name):
    return [x.strip() for x in (DEV / f"{name}.txt").read_text(encoding="utf-8").splitlines() if x.strip()]


def _docx(lines):
    from docx import Document

    d = Document()
    for s in lines:
        if HEAD1.match(s) and len(s) < 60:
            d.add_paragraph(s, style="Heading 1")
        elif HEAD2.match(s) and len(s) < 40:
            d.add_paragraph(s, style="Heading 2")
        else:
            d.add_paragraph(s)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _html(lines):
    body = "\n".join(f"<p>{s}</p>" for s in lines)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>报告_某某区人民政府网</title>
<script>alert(1)</script><style>p{{color:red}}</style></head><body>
<div class="nav"><a href="/">首页</a> | <a>政务公开</a></div>
<div class="crumb">您当前的位置：首页 &gt; 政务公开 &gt; 法治政府建设年度报告</div>
<div class="article">{body}</div>
<div class="share">分享到：微信 微博 【打印】 【关闭】</div>
<div class="footer">版权所有：某某区人民政府 京ICP备12345678号</div>
</body></html>""".encode("utf-8")


def _pdf(lines):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    st = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK")

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([Paragraph(s, st) for s in lines], onFirstPage=footer,
                                              onLaterPages=footer)
    return buf.getvalue()


def _markdown_from_pdf(lines):
    out = []
    for s in lines:
        if HEAD1.match(s) and len(s) < 60:
            out.append(f"## {s}")  # the ## level does not match the numbering
        elif HEAD2.match(s) and len(s) < 40:
            out.append(f"**{s}**")
        elif len(s) > 120:
            k = len(s) // 2
            out.append(s[:k] + "\n\n" + s[k:])  # a page break inside a word
        else:
            out.append(s)
    return "\n\n".join(out).encode("utf-8")


BUILDERS = {"docx": _docx, "html": _html, "pdf": _pdf, "md": _markdown_from_pdf}


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
@pytest.mark.parametrize("name", SEEDS)
def test_same_answers_in_every_format(name, fmt):
    gold = json.loads((DEV / "gold" / f"{name}.json").read_text(encoding="utf-8"))
    data = BUILDERS[fmt](_body_lines(name))
    report = analyze_bytes(data, f"{name}.{fmt}")
    d = report.to_dict()
    assert "alert(1)" not in report.text and "版权所有" not in report.text and "您当前的位置" not in report.text
    res = Scores()
    score_one(res, name, gold, d)
    row = res.per_file[name]
    assert row["parts_missing"] == [] and row["parts_extra"] == []
    assert res.headings[0] == res.headings[1]
    assert res.facts_prf[2] >= 0.9, row
    wrong = set(row["meta_wrong"])
    # a page rebuilt without its metadata rows cannot know the publication date
    assert wrong <= {"published", "index_number", "signed"}, wrong
    assert {"title", "unit", "year", "level"}.isdisjoint(wrong)
