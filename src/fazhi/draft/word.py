"""Render a draft as a Word document in the layout of GB/T 9704-2012
《党政机关公文格式》:

* A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (type area
  156 × 225 mm); 22 lines of 28 characters: fixed line spacing 28.95 pt, and
  body characters condensed by 0.25 pt (28 × 15.75 pt fits the 442 pt line).
  A Word document grid (``linesAndChars``) would do the same in Word/WPS, but
  LibreOffice then puts each 16 pt character on two grid cells (14 per line);
  condensed spacing reads the same everywhere;
* title 方正小标宋简体 二号 (22 pt), centred;
* body 仿宋_GB2312 三号 (16 pt), first line indented two characters;
  first-level headings 黑体 三号, second-level 楷体_GB2312 三号 (with outline
  levels, so Word/WPS show them in the navigation pane);
* page numbers "— 1 —" in 宋体 四号 (14 pt), odd pages right and even pages
  left, one character in from the edge of the type area;
* East Asian font names are set through ``w:eastAsia`` (and the font table
  names an alternative — 仿宋, 楷体, 小标宋 — for machines without the GB2312
  fonts), Latin text and digits in Times New Roman;
* placeholders 【请补充：…】 are highlighted in yellow.
"""
from __future__ import annotations

import re
from pathlib import Path

from .compose import Draft

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
# font table: alternatives Word/WPS use when the GB2312 fonts are not installed
ALT_NAMES = {TITLE_FONT: "小标宋", BODY_FONT: "仿宋", H2_FONT: "楷体", H1_FONT: "SimHei", PAGE_FONT: "SimSun"}

BODY_PT = 16
TITLE_PT = 22
PAGE_PT = 14
LINE_TWIPS = 579          # 28.95 pt: 22 lines in the 225 mm type area
CONDENSE = -5             # character spacing in 1/20 pt: 16 - 0.25 = 15.75 pt, 28 per line
PLACEHOLDER = re.compile(r"【[^【】]*】")


# child order the WordprocessingML schema requires (Word refuses files that break it)
_PPR_ORDER = ("pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
              "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
              "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
              "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange").split()
_RPR_ORDER = ("rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof snapToGrid "
              "vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl "
              "cs em lang eastAsianLayout specVanish oMath").split()


def _schema_order(root) -> None:
    """Sort the children of every w:pPr / w:rPr under ``root`` into schema order."""
    for tag, order in (("pPr", _PPR_ORDER), ("rPr", _RPR_ORDER)):
        rank = {_qn(t): i for i, t in enumerate(order)}
        for el in root.iter(_qn(tag)):
            kids = list(el)
            if len(kids) < 2:
                continue
            kids.sort(key=lambda k: rank.get(k.tag, len(rank)))
            for k in kids:
                el.append(k)


def _qn(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _el(tag: str, **attrs):
    from lxml import etree

    e = etree.Element(_qn(tag))
    for k, v in attrs.items():
        e.set(_qn(k), str(v))
    return e


def _set(parent, tag: str, **attrs):
    """The child ``tag`` of ``parent`` (created), with ``attrs`` set."""
    e = parent.find(_qn(tag))
    if e is None:
        e = _el(tag)
        parent.append(e)
    for k, v in attrs.items():
        e.set(_qn(k), str(v))
    return e


def _fonts(rpr, east: str, latin: str = LATIN_FONT) -> None:
    rf = rpr.find(_qn("rFonts"))
    if rf is None:
        rf = _el("rFonts")
        rpr.insert(0, rf)
    for a in list(rf.attrib):
        del rf.attrib[a]
    rf.set(_qn("ascii"), latin)
    rf.set(_qn("hAnsi"), latin)
    rf.set(_qn("eastAsia"), east)
    rf.set(_qn("cs"), latin)
    rf.set(_qn("hint"), "eastAsia")


def _rpr(style_el):
    rpr = style_el.find(_qn("rPr"))
    if rpr is None:
        rpr = _el("rPr")
        style_el.append(rpr)
    return rpr


def _ppr(style_el):
    ppr = style_el.find(_qn("pPr"))
    if ppr is None:
        ppr = _el("pPr")
        rpr = style_el.find(_qn("rPr"))
        if rpr is not None:
            rpr.addprevious(ppr)
        else:
            style_el.append(ppr)
    return ppr


def _char_style(style, east: str, size_pt: float, latin: str = LATIN_FONT, condense: int = 0) -> None:
    rpr = _rpr(style.element)
    for tag in ("rFonts", "b", "bCs", "i", "color", "spacing", "sz", "szCs", "kern"):
        for e in rpr.findall(_qn(tag)):
            rpr.remove(e)
    _fonts(rpr, east, latin)
    rpr.append(_el("color", val="000000"))
    rpr.append(_el("spacing", val=condense))
    rpr.append(_el("kern", val="0"))
    rpr.append(_el("sz", val=int(size_pt * 2)))
    rpr.append(_el("szCs", val=int(size_pt * 2)))


def _para_style(style, *, indent_chars: int = 2, line_twips: int | None = LINE_TWIPS, jc: str = "both",
                outline: int | None = None, keep_next: bool = False) -> None:
    ppr = _ppr(style.element)
    for tag in ("keepNext", "keepLines", "spacing", "ind", "jc", "outlineLvl", "pBdr", "contextualSpacing"):
        for e in ppr.findall(_qn(tag)):
            ppr.remove(e)
    # schema order of pPr children: keepNext … spacing, ind, … jc, … outlineLvl
    if keep_next:
        ppr.append(_el("keepNext"))
    sp = _el("spacing", before=0, after=0, beforeLines=0, afterLines=0)
    if line_twips:
        sp.set(_qn("line"), str(line_twips))
        sp.set(_qn("lineRule"), "exact")
    ppr.append(sp)
    ind = _el("ind", left=0, right=0, firstLine=indent_chars * BODY_PT * 20)
    if indent_chars:
        ind.set(_qn("firstLineChars"), str(indent_chars * 100))
    ppr.append(ind)
    ppr.append(_el("jc", val=jc))
    if outline is not None:
        ppr.append(_el("outlineLvl", val=outline))


def _setup_styles(doc) -> dict:
    from docx.enum.style import WD_STYLE_TYPE

    styles = doc.styles
    # document defaults: no theme fonts, 三号, no spacing after paragraphs
    dd = styles.element.find(_qn("docDefaults"))
    rpr = dd.find(_qn("rPrDefault")).find(_qn("rPr"))
    _fonts(rpr, BODY_FONT)
    _set(rpr, "sz", val=BODY_PT * 2)
    _set(rpr, "szCs", val=BODY_PT * 2)
    _set(rpr, "lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA")
    ppr = dd.find(_qn("pPrDefault")).find(_qn("pPr"))
    for e in list(ppr):
        ppr.remove(e)
    ppr.append(_el("spacing", after=0, line=LINE_TWIPS, lineRule="exact"))

    normal = styles["Normal"]
    _char_style(normal, BODY_FONT, BODY_PT, condense=CONDENSE)
    _para_style(normal)
    _set(_ppr(normal.element), "widowControl", val=0)
    # no hanging punctuation: a full stop at the end of a line stays inside the type
    # area (LibreOffice hangs it 1 em into the right margin by default; Word/WPS too
    # with "允许标点溢出边界"); line-start/end rules (kinsoku) stay on
    _set(_ppr(normal.element), "overflowPunct", val=0)
    _set(_ppr(normal.element), "kinsoku", val=1)

    out = {"p": normal}
    for key, name, east, size, kw in (
        ("title", "公文标题", TITLE_FONT, TITLE_PT, dict(indent_chars=0, line_twips=None, jc="center")),
        ("h1", "公文一级标题", H1_FONT, BODY_PT, dict(outline=0, keep_next=True)),
        ("h2", "公文二级标题", H2_FONT, BODY_PT, dict(outline=1, keep_next=True)),
        ("sign", "公文署名", BODY_FONT, BODY_PT, dict(indent_chars=0, jc="right")),
        ("footer", "公文页码", PAGE_FONT, PAGE_PT, dict(indent_chars=0, line_twips=None, jc="right")),
    ):
        st = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = normal
        st.quick_style = True
        _char_style(st, east, size, PAGE_FONT if key == "footer" else LATIN_FONT,
                    condense=CONDENSE if key in ("h1", "h2", "sign") else 0)
        _para_style(st, **kw)
        out[key] = st
    # the title: exact 35 pt lines (GB/T 9704 does not fix it; two-line titles stay compact)
    sp = _ppr(out["title"].element).find(_qn("spacing"))
    sp.set(_qn("line"), "700")
    sp.set(_qn("lineRule"), "exact")
    st = styles.add_style("待补充", WD_STYLE_TYPE.CHARACTER)
    rpr = _rpr(st.element)
    rpr.append(_el("highlight", val="yellow"))
    out["placeholder"] = st
    return out


def _font_table(doc) -> None:
    """Name the fonts in word/fontTable.xml with an alternative (w:altName) each."""
    from lxml import etree

    for part in doc.part.package.iter_parts():
        if str(part.partname) != "/word/fontTable.xml":
            continue
        root = etree.fromstring(part.blob)
        have = {f.get(_qn("name")) for f in root.findall(_qn("font"))}
        for name, alt in ALT_NAMES.items():
            if name in have:
                continue
            f = _el("font", name=name)
            f.append(_el("altName", val=alt))
            f.append(_el("charset", val="86"))
            f.append(_el("family", val="modern" if name != H1_FONT else "auto"))
            f.append(_el("pitch", val="fixed" if name != H1_FONT else "variable"))
            root.append(f)
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page(section) -> None:
    from docx.shared import Mm

    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(25)
    sp = section._sectPr
    for g in sp.findall(_qn("docGrid")):
        sp.remove(g)
    sp.append(_el("docGrid", linePitch=LINE_TWIPS))  # no grid: spacing is exact


def _page_number(footer, style, odd: bool) -> None:
    """“— N —”: 宋体 四号, odd pages right, even pages left, one character in."""
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    p.style = style
    ppr = p._p.get_or_add_pPr()
    _set(ppr, "jc", val="right" if odd else "left")
    ind = _set(ppr, "ind", firstLine=0, firstLineChars=0)
    if odd:
        ind.set(_qn("right"), str(PAGE_PT * 20))
    else:
        ind.set(_qn("left"), str(PAGE_PT * 20))
    p.add_run("— ")
    r = p.add_run()
    r._r.append(_el("fldChar", fldCharType="begin"))
    r = p.add_run()
    instr = _el("instrText")
    instr.text = " PAGE "
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    r._r.append(instr)
    r = p.add_run()
    r._r.append(_el("fldChar", fldCharType="separate"))
    p.add_run("1")
    r = p.add_run()
    r._r.append(_el("fldChar", fldCharType="end"))
    p.add_run(" —")


def _runs(p, text: str, placeholder_style) -> None:
    from docx.enum.text import WD_COLOR_INDEX

    pos = 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > pos:
            p.add_run(text[pos:m.start()])
        r = p.add_run(m.group(0), style=placeholder_style)
        r.font.highlight_color = WD_COLOR_INDEX.YELLOW  # Word ignores highlight in styles
        pos = m.end()
    if pos < len(text):
        p.add_run(text[pos:])


def write_docx(d: Draft, path) -> Path:
    import docx

    doc = docx.Document()
    st = _setup_styles(doc)
    _font_table(doc)
    section = doc.sections[0]
    _page(section)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, st["footer"], odd=True)
    _page_number(section.even_page_footer, st["footer"], odd=False)
    body = doc.element.body
    for p in list(body.findall(_qn("p"))):
        body.remove(p)

    sign_len = None
    for b in d.blocks:
        if b.kind == "title":
            doc.add_paragraph(b.text, style=st["title"])
            doc.add_paragraph("", style=st["p"])  # GB/T 9704: one blank line under the title
        elif b.kind in ("h1", "h2"):
            _runs(doc.add_paragraph(style=st[b.kind]), b.text, st["placeholder"])
        elif b.kind in ("p", "item"):
            _runs(doc.add_paragraph(style=st["p"]), b.text, st["placeholder"])
        elif b.kind == "sign":
            # the signature block stays on one page with the last lines of the body
            # (GB/T 9704 7.3.5.4: no page with the signature alone)
            last = doc.paragraphs[-1] if doc.paragraphs else None
            if last is not None:
                last.paragraph_format.keep_with_next = True
            for _ in range(signature_layout(d)["blank_lines"]):
                doc.add_paragraph("", style=st["p"]).paragraph_format.keep_with_next = True  # 正文下空行（印章位置）
            p = doc.add_paragraph(b.text, style=st["sign"])
            p.paragraph_format.keep_with_next = True
            sign_len = (p, b.text)
        elif b.kind == "date":
            p = doc.add_paragraph(style=st["sign"])
            _runs(p, b.text, st["placeholder"])
            lay = signature_layout(d, sign_len[1] if sign_len else "")
            if sign_len:
                _right_chars(sign_len[0], lay["sign_right"])
            _right_chars(p, lay["date_right"])
    _schema_order(doc.styles.element)
    _schema_order(doc.element)
    for f in (section.footer, section.even_page_footer):
        _schema_order(f._element)
    _core_properties(doc, d)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    from .safety import save_stamped

    return save_stamped(doc, out, "draft")


def _core_properties(doc, d: Draft) -> None:
    """File properties as Word/WPS show them (文件 → 属性): the title, the unit as
    author, today as created and modified (python-docx's template says 2013)."""
    import datetime as dt

    cp = doc.core_properties
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    cp.title = d.title  # the analyser and file lists show the title
    cp.subject = f"{d.unit}{d.year}年度法治政府建设情况报告（初稿）"
    cp.comments = "由 fazhi draft 根据工作台账生成的初稿；【请补充：…】处须人工撰写，定稿前删除全部标记。"
    cp.author = d.unit
    cp.last_modified_by = d.unit
    cp.created = now
    cp.modified = now
    cp.revision = 1
    cp.category = "法治政府建设年度报告"
    cp.keywords = "法治政府建设；年度报告；fazhi:draft"
    cp.language = "zh-CN"
    cp.content_status = "初稿"


AUTOSPACE = 0.2  # em between Chinese and Latin text (measured in LibreOffice 7.4; Word/WPS add about as much)


def width_chars(text: str) -> float:
    """Width of a body line's text in characters of 三号 (16 pt): Chinese characters
    15.75 pt (condensed), Latin letters and digits half that, and the automatic
    space at each change between the two ("2025年3月15日": six)."""
    full = BODY_PT + CONDENSE / 20
    cjk = [ord(ch) >= 0x2E80 for ch in text]
    w = sum(full if c else BODY_PT / 2 + CONDENSE / 20 for c in cjk)
    w += AUTOSPACE * BODY_PT * sum(1 for a, b in zip(cjk, cjk[1:]) if a != b)
    return w / BODY_PT


def signature_layout(d: Draft, sign: str = "") -> dict:
    """The 发文机关署名 and 成文日期 of GB/T 9704-2012, as right indents in characters.

    ``seal`` (7.3.5.1, a report that carries the unit's seal): the date 右空四字,
    the issuer centred over the date, two blank lines under the body for the seal.
    ``no_seal`` (7.3.5.2): the issuer 右空二字 one line under the body, the date on
    the next line with its first character two to the right of the issuer's; a
    date longer than that 右空二字, the issuer moving left.  The date is laid out
    by the width of a real one (``model_date``), not of its placeholder, so the
    block is right once the clerk types the date.
    """
    from .compose import phrases

    sp = phrases()["signature"]
    layout = sp.get("layout", "seal")
    wd = width_chars(sp["model_date"].format(next_year=d.year + 1, year=d.year))
    ws = width_chars(sign)
    if layout == "no_seal":
        date_right = ws - 2 - wd + 2
        sign_right = 2.0
        if date_right < 2:
            date_right, sign_right = 2.0, wd - ws + 4
        return {"blank_lines": 1, "sign_right": sign_right, "date_right": date_right}
    return {"blank_lines": int(sp.get("seal_blank_lines", 2)), "date_right": 4.0,
            "sign_right": max(0.0, 4 + (wd - ws) / 2)}


def _right_chars(p, chars: float) -> None:
    ppr = p._p.get_or_add_pPr()
    ind = _set(ppr, "ind", firstLine=0, firstLineChars=0)
    ind.set(_qn("right"), str(round(chars * BODY_PT * 20)))
    ind.set(_qn("rightChars"), str(round(chars * 100)))


def docx_paragraph_fonts(path) -> list[tuple[str, str | None, float | None]]:
    """(text, East Asian font, size in pt) of each paragraph as Word resolves it
    through the style chain — for tests and for a quick look."""
    import docx

    doc = docx.Document(str(path))
    out = []
    for p in doc.paragraphs:
        east = size = None
        for s in _chain(p.style):
            rpr = s.element.find(_qn("rPr"))
            if rpr is None:
                continue
            rf = rpr.find(_qn("rFonts"))
            if east is None and rf is not None and rf.get(_qn("eastAsia")):
                east = rf.get(_qn("eastAsia"))
            sz = rpr.find(_qn("sz"))
            if size is None and sz is not None:
                size = int(sz.get(_qn("val"))) / 2
        out.append((p.text, east, size))
    return out


def _chain(style):
    seen = 0
    while style is not None and seen < 10:
        yield style
        style = style.base_style
        seen += 1

