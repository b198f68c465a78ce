"""Metamorphic transformations of a report and the comparison of two analyses.

Each transformation changes a report the way real copies of it differ (a title
removed, line breaks lost, a masthead added, traditional characters with pinyin
glosses, mirror spam, a hard wrap at a CJK width of 38 with page breaks, another
numbering style, another file format).  The analysis of the changed report must
give the same answers as the original's, minus what the change removes: that
guards generalisation where a gold file cannot.

Used by ``tests/test_metamorphic.py`` and ``tests/test_formats.py``.
"""
from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass, field

from fazhi.clean import _clean_line
from fazhi.evaluate import close, norm_text

HEAD1 = re.compile(r"^\s*[一二三四五六七八九十]+、")
HEAD2 = re.compile(r"^\s*[（(][一二三四五六七八九十]+[）)]")
META_FIELDS = ("title", "unit", "level", "year", "published", "signed", "doc_number", "index_number")
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff60]")


def width(s: str) -> int:
    return len(s) + len(_WIDE.findall(s))


def _squash(s: str) -> str:
    return re.sub(r"[\s*#]", "", s)


@dataclass
class Expect:
    """What may differ after a transformation."""
    may_lose: set = field(default_factory=set)   # meta fields that may become None
    changed: dict = field(default_factory=dict)  # meta field -> the value it must take now
    headings: str = "exact"                      # exact | prefix
    parts: bool = True                           # compare the parts
    # without its title, a department's report speaking of 我市 reads as its
    # government's (六安市司法局 -> 六安市): the text left cannot tell them apart
    dept_to_gov: bool = False


# ------------------------------------------------------------ transformations
def remove_title(text: str, base: dict):
    title = base["meta"].get("title")
    if not title:
        return None
    t = _squash(title)
    out, removed = [], False
    for i, line in enumerate(text.split("\n")):
        s = _squash(line)
        if i < 40 and len(s) >= 4 and (s in t or t in s):
            removed = True
            continue
        out.append(line)
    if not removed:
        return None
    return "\n".join(out), Expect(may_lose=set(META_FIELDS) - {"doc_number", "index_number"},
                                  changed={"title": None}, dept_to_gov=True)


def remove_line_breaks(text: str, base: dict):
    """A template site's copy: the report from its title on, with no line
    breaks.  An unnumbered heading (an umbrella line, 存在的问题 on a line of its
    own) exists only by its line: where the report has one, its parts may be
    read otherwise."""
    lines = text.split("\n")
    title = base["meta"].get("title")
    start = next((i for i, x in enumerate(lines[:40]) if title and _squash(title) in _squash(x)), 0)
    run = re.sub(r"[ \t\u3000]*\n[ \t\u3000\n]*", "", "\n".join(lines[start:])).strip()
    unnumbered = any(not re.match(r"^[一二三四五六七八九十]+、|^第[一二三四五六七八九十]+部分", p["heading"])
                     for p in base["parts"])
    return run, Expect(may_lose=set(META_FIELDS) - {"year"}, headings="prefix", parts=not unnumbered)


def _unit_issuer(base: dict) -> str | None:
    m = base["meta"]
    u, lvl = m.get("unit"), m.get("level")
    if not u:
        return None
    if lvl == "township":
        return u + ("办事处" if u.endswith("街道") else "人民政府")
    if lvl in ("county", "city", "province"):
        return u + "人民政府"
    return u


def masthead(text: str, base: dict):
    issuer = _unit_issuer(base)
    year = base["meta"].get("year")
    if not issuer or not year:
        return None
    exp = Expect()
    head = f"**{issuer}文件**\n\n"
    if not base["meta"].get("doc_number"):  # a report printing its own 文号 keeps it
        docno = f"{issuer[:2]}发〔{year + 1}〕3号"
        head += f"{docno}\n\n"
        exp.changed["doc_number"] = docno
    return head + "签发人：张三\n\n" + text, exp


def title_twice(text: str, base: dict):
    title = base["meta"].get("title")
    if not title:
        return None
    lines = text.split("\n")
    for i, line in enumerate(lines[:40]):
        if _squash(line) == _squash(title):
            lines.insert(i + 1, f"**{line.strip()}**")
            return "\n".join(lines), Expect()
    return None


def bold_headings(text: str, base: dict):
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if (HEAD1.match(s) and len(s) < 70) or (HEAD2.match(s) and len(s) < 40):
            out.append(f"**{s}**")
        else:
            out.append(line)
    return "\n".join(out), Expect()


def markdown_headings(text: str, base: dict):
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if HEAD1.match(s) and len(s) < 70:
            out.append(f"## {s}")
        elif HEAD2.match(s) and len(s) < 40:
            out.append(f"### {s}")
        else:
            out.append(line)
    return "\n".join(out), Expect()


_GLOSSES = ["(jiàn)", "(shè)", "(zhèng)", "(fǔ)", "(fǎ)", "(zhì)", "(gōng)", "(zuò)"]


def traditional_with_pinyin(text: str, base: dict):
    import opencc

    t = opencc.OpenCC("s2t").convert(text)
    rnd = random.Random(len(text))
    out, n = [], 0
    for ch in t:
        out.append(ch)
        if "\u4e00" <= ch <= "\u9fff":
            n += 1
            if n % 53 == 0:
                out.append(rnd.choice(_GLOSSES))
    return "".join(out), Expect()


SPAM = "bei365官网_365bet体育在线平台_beat365最新版"


def mirror_spam(text: str, base: dict):
    """What gambling-portal mirrors inject: a brand line at the top and the
    brand string inside every third sentence."""
    out, k = [SPAM], 0
    for line in text.split("\n"):
        j = max(line.find("，"), line.find(","))
        if j > 0:
            k += 1
            if k % 3 == 1:
                line = line[:j + 1] + SPAM + line[j + 1:]
        out.append(line)
    return "\n".join(out), Expect()


_NO_LINE_START = set("，。、；：！？）》」』”’,.;:!?)")


def hard_wrap(text: str, base: dict, limit: int = 38, page_lines: int = 40):
    """Re-wrap every paragraph at a display width of ``limit`` as a PDF
    converter does (a closing punctuation mark never starts a line), with a
    page break and a page number every ``page_lines`` lines.  Portal chrome
    (breadcrumbs) is left alone: a printed PDF has none."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            out.append("")
            continue
        if _chrome(para):
            out.append(para)  # portal chrome: no printed PDF has it
            continue
        cur = ""
        for ch in para:
            if width(cur + ch) > limit and ch not in _NO_LINE_START:
                out.append(cur)
                cur = ""
            cur += ch
        out.append(cur)
    paged: list[str] = []
    page = 1
    for i, line in enumerate(out):
        paged.append(line)
        if i and i % page_lines == 0:
            paged += ["", f"— {page} —", ""]
            page += 1
    return "\n".join(paged), Expect()


TEXT_TRANSFORMS = {
    "remove_title": remove_title,
    "remove_line_breaks": remove_line_breaks,
    "masthead": masthead,
    "title_twice": title_twice,
    "bold_headings": bold_headings,
    "markdown_headings": markdown_headings,
    "traditional_pinyin": traditional_with_pinyin,
    "mirror_spam": mirror_spam,
    "hard_wrap_38": hard_wrap,
}


# ------------------------------------------------------------------- formats
def body_lines(text: str) -> list[str]:
    return [x.strip() for x in text.splitlines() if x.strip()]


def document_lines(text: str) -> list[str]:
    """The lines a Word or PDF version of a scraped page has: no portal chrome
    (breadcrumbs, share buttons, footers)."""
    return [x for x in body_lines(text) if not _chrome(x)]


def _chrome(line: str) -> bool:
    """A line of portal chrome: what the cleaner drops, or a breadcrumb."""
    return _clean_line(line, False) is None or len(line) < 160 and re.search(r"(>>|»|\s>|>\s)", line) is not None


def to_docx(lines: list[str]) -> bytes:
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


def to_html(lines: list[str]) -> bytes:
    from html import escape

    body = "\n".join(f"<p>{escape(s)}</p>" for s in lines)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>报告_某某区人民政府网</title>
<script>alert(1)</script><style>p{{color:red}}</style></head><body>
<div class="nav"><a href="/">首页</a> | <a>政务公开</a></div>
<div class="crumb">您当前的位置：首页 &gt; 政务公开 &gt; 法治政府建设年度报告</div>
<div class="article">{body}</div>
<div class="share">分享到：微信 微博 【打印】 【关闭】</div>
<div class="footer">版权所有：某某区人民政府 京ICP备12345678号</div>
</body></html>""".encode("utf-8")


def to_pdf(lines: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    # as a document is printed (GB/T 9704): every paragraph, headings too, starts
    # two characters in; the page fields and the title above the body do not
    st = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    top = ParagraphStyle("t", parent=st, firstLineIndent=0)
    # the title in a large font, centred (GB/T 9704: 2号小标宋)
    big = ParagraphStyle("h", parent=top, fontSize=18, leading=28, alignment=1)
    body_from = next((i for i, s in enumerate(lines) if len(s) >= 40 and re.search("[。，,]", s)), 0)
    title_at = next((i for i, s in enumerate(lines[:body_from])
                     if re.search("(法治|依法行政).{0,30}(报告|总结)$", s)), None)

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([Paragraph(escape(s), big if i == title_at else
                                                         st if i >= body_from else top)
                                               for i, s in enumerate(lines)],
                                              onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def to_converter_markdown(lines: list[str]) -> bytes:
    """What a PDF-to-markdown converter gives: ``##`` marks that do not match
    the numbering, ``**`` bold sub-headings, a word split by a page break."""
    out = []
    for s in lines:
        if HEAD1.match(s) and len(s) < 60:
            out.append(f"## {s}")
        elif HEAD2.match(s) and len(s) < 40:
            out.append(f"**{s}**")
        elif len(s) > 120:
            k = len(s) // 2
            out.append(s[:k] + "\n\n" + s[k:])
        else:
            out.append(s)
    return "\n\n".join(out).encode("utf-8")


FORMATS = {"docx": to_docx, "html": to_html, "pdf": to_pdf, "md": to_converter_markdown}


# ------------------------------------------------------------------ compare
def compare(base: dict, new: dict, exp: Expect) -> list[str]:
    """Differences between two analyses (dicts of the output contract) that
    the transformation does not excuse; empty when the answers agree."""
    diffs: list[str] = []
    bp = [(p["part"], p["heading"]) for p in base["parts"]]
    np_ = [(p["part"], p["heading"]) for p in new["parts"]]
    if not exp.parts:
        pass
    elif [p for p, _ in bp] != [p for p, _ in np_]:
        diffs.append(f"parts {[p for p, _ in bp]} -> {[p for p, _ in np_]}")
    else:
        for (p, h1), (_, h2) in zip(bp, np_):
            a, b = norm_text(h1), norm_text(h2)
            ok = a == b if exp.headings == "exact" else (b.startswith(a[:8]) or a.startswith(b[:8]))
            if not ok:
                diffs.append(f"heading of {p}: {h1!r} -> {h2!r}")
    bf = {(f["indicator"], f["value"]) for f in base["facts"] if f["indicator"]}
    nf = {(f["indicator"], f["value"]) for f in new["facts"] if f["indicator"]}
    lost = [x for x in bf if not any(x[0] == y[0] and close(x[1], y[1]) for y in nf)]
    extra = [y for y in nf if not any(x[0] == y[0] and close(x[1], y[1]) for x in bf)]
    if lost or extra:
        diffs.append(f"facts lost {sorted(lost)} extra {sorted(extra)}")
    bm, nm = base["meta"], new["meta"]
    if exp.dept_to_gov and bm.get("level") == "department" and nm.get("unit") and bm.get("unit") \
            and norm_text(bm["unit"]).startswith(norm_text(nm["unit"])) and nm["unit"] != bm["unit"]:
        exp = Expect(**{**exp.__dict__, "may_lose": exp.may_lose | {"unit", "level"}})
        nm = {**nm, "unit": None, "level": None}
    for fld in META_FIELDS:
        want = exp.changed.get(fld, bm.get(fld))
        got = nm.get(fld)
        if fld in exp.changed:
            if norm_text(got) != norm_text(want):
                diffs.append(f"meta {fld}: expected {want!r}, got {got!r}")
            continue
        if norm_text(got) == norm_text(want):
            continue
        if got is None and fld in exp.may_lose:
            continue
        diffs.append(f"meta {fld}: {bm.get(fld)!r} -> {got!r}")
    for fld in ("province", "city", "county"):
        a, b = (bm.get("region") or {}).get(fld), (nm.get("region") or {}).get(fld)
        if norm_text(a) != norm_text(b) and not (b is None and exp.may_lose):
            diffs.append(f"region {fld}: {a!r} -> {b!r}")
    return diffs
