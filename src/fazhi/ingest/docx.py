"""Word .docx via python-docx: body paragraphs and table rows in document order.

- Heading styles ("Heading N", WPS "标题 N"/"标题N", "Title", or an outline level
  set on the paragraph or its style) -> ``#`` marks.
- A paragraph whose visible runs are all bold (directly, through the run's
  character style or through the paragraph style) -> ``**…**``.
- Tables: one line per row, cells joined by a tab; a row with a single cell (a
  layout frame around the text) gives its paragraphs as lines of their own.
- The zip is inspected before python-docx sees it: not a zip, no
  ``word/document.xml``, or a decompressed size over ``MAX_DOCX_UNCOMPRESSED``
  (a zip bomb) -> ``IngestError``.
"""
from __future__ import annotations

import io
import os
import re
import zipfile

from . import IngestError, RawDoc

MAX_DOCX_UNCOMPRESSED = int(os.environ.get("FAZHI_MAX_DOCX_UNCOMPRESSED", 200 * 1024 * 1024))
MAX_DOCX_MEMBERS = 20000

_NOT_DOCX = "不是有效的 Word 文档（.docx 文件已损坏或不是 zip 格式）"
_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)
_TITLE_NAME = re.compile(r"^(?:title|标题)$", re.I)
_WS_EDGE = " \t\r\n\u3000\xa0\u200b\ufeff"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RUN_XPATH = (
    "./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:smartTag/w:r | ./w:fldSimple/w:r"
    " | ./w:customXml/w:r | ./w:sdt/w:sdtContent/w:r | ./w:hyperlink/w:ins/w:r"
)


def _check_zip(data: bytes) -> None:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IngestError(
            "这是旧版 Word（.doc）文件或加密的 Word 文档，无法读取；请用 Word/WPS 另存为 .docx（不加密）后再分析")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except Exception:  # noqa: BLE001 - BadZipFile, OSError, ValueError, EOFError, …
        raise IngestError(_NOT_DOCX) from None
    limit = MAX_DOCX_UNCOMPRESSED
    total = sum(max(0, i.file_size) for i in infos)
    if total > limit or len(infos) > MAX_DOCX_MEMBERS:
        raise IngestError(
            f"文档解压后过大（约 {total / 1048576:.0f} MB，{len(infos)} 个部件），超过上限 "
            f"{limit / 1048576:.0f} MB，可能是恶意构造的压缩文件，未分析")
    names = {i.filename for i in infos}
    if "word/document.xml" not in names:
        raise IngestError("不是有效的 Word 文档（缺少 word/document.xml，可能是其他 Office 文件或已损坏）")


def _style_chain(style):
    seen = 0
    while style is not None and seen < 20:
        yield style
        try:
            style = style.base_style
        except Exception:  # noqa: BLE001
            return
        seen += 1


def _outline_level(el) -> int | None:
    try:
        vals = el.xpath("./w:pPr/w:outlineLvl/@w:val")
    except Exception:  # noqa: BLE001
        return None
    if vals:
        try:
            v = int(vals[0])
        except ValueError:
            return None
        return v + 1 if 0 <= v <= 8 else 0  # 9 = body text
    return None


def _heading_level(p) -> int:
    direct = _outline_level(p._p)
    if direct is not None:
        return direct
    try:
        style = p.style
    except Exception:  # noqa: BLE001
        return 0
    for s in _style_chain(style):
        name = (getattr(s, "name", "") or "").strip()
        m = _HEADING_NAME.match(name)
        if m:
            return int(m.group(1))
        if _TITLE_NAME.match(name):
            return 1
        lvl = _outline_level(s.element)
        if lvl is not None:
            return lvl
    return 0


def _style_bold(style) -> bool | None:
    for s in _style_chain(style):
        try:
            b = s.font.bold
        except Exception:  # noqa: BLE001
            b = None
        if b is not None:
            return b
    return None


def _runs(p):
    from docx.text.run import Run

    try:
        return [Run(r, p) for r in p._p.xpath(_RUN_XPATH)]
    except Exception:  # noqa: BLE001
        return list(p.runs)


def _paragraph_lines(p) -> list[str]:
    """One paragraph -> its lines (soft line breaks split it), with marks."""
    try:
        para_bold = _style_bold(p.style)
    except Exception:  # noqa: BLE001
        para_bold = None
    pieces: list[tuple[str, bool]] = []
    for r in _runs(p):
        text = r.text
        if not text:
            continue
        b = r.bold
        if b is None:
            try:
                b = _style_bold(r.style)  # the run's character style
            except Exception:  # noqa: BLE001
                b = None
        if b is None:
            b = bool(para_bold)
        pieces.append((text, bool(b)))
    level = _heading_level(p)
    lines: list[str] = []
    cur: list[tuple[str, bool]] = []

    def flush():
        text = "".join(t for t, _ in cur).strip(_WS_EDGE)
        if text:
            if level:
                lines.append("#" * level + " " + text)
            elif all(b for t, b in cur if t.strip(_WS_EDGE)):
                lines.append(f"**{text}**")
            else:
                lines.append(text)
        cur.clear()

    for text, b in pieces:
        parts = re.split(r"[\n\r\v]", text)
        for i, part in enumerate(parts):
            if i:
                flush()
            if part:
                cur.append((part, b))
    flush()
    return lines


def _cell_text(cell_lines: list[str]) -> str:
    out = []
    for ln in cell_lines:
        ln = re.sub(r"^#+ ", "", ln)
        if ln.startswith("**") and ln.endswith("**") and len(ln) > 4:
            ln = ln[2:-2]
        out.append(ln.replace("\t", " "))
    return " ".join(out).strip()


def _table_lines(tbl, parent, depth: int) -> list[str]:
    from docx.table import _Cell

    lines: list[str] = []
    for tr in tbl.xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr"):
        cells = []
        for tc in tr.xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc"):
            vmerge = tc.xpath("./w:tcPr/w:vMerge")
            if vmerge and (vmerge[0].get(f"{{{_W}}}val") or "continue") == "continue":
                cells.append([])  # continuation of a vertically merged cell: already printed above
                continue
            cells.append(_block_lines(_Cell(tc, parent), depth + 1))
        non_empty = [c for c in cells if c]
        if not non_empty:
            continue
        if len(non_empty) == 1:
            lines.extend(non_empty[0])  # layout row: keep its paragraphs as paragraphs
        else:
            lines.append("\t".join(_cell_text(c) for c in cells).rstrip("\t"))
    return lines


def _block_lines(container, depth: int = 0) -> list[str]:
    """Paragraphs and tables of a body/cell/content control, in document order."""
    from docx.text.paragraph import Paragraph

    if depth > 30:
        return []
    el = container._element if hasattr(container, "_element") else container.element
    if el.tag == f"{{{_W}}}document":
        el = el.body
    lines: list[str] = []

    def walk(parent_el):
        for child in parent_el.iterchildren():
            tag = child.tag
            if tag == f"{{{_W}}}p":
                lines.extend(_paragraph_lines(Paragraph(child, container)))
            elif tag == f"{{{_W}}}tbl":
                lines.extend(_table_lines(child, container, depth))
            elif tag in (f"{{{_W}}}sdt", f"{{{_W}}}customXml"):
                content = child.find(f"{{{_W}}}sdtContent")
                walk(content if content is not None else child)

    walk(el)
    return lines


def read(data: bytes) -> RawDoc:
    _check_zip(data)
    try:
        import docx  # python-docx

        document = docx.Document(io.BytesIO(data))
    except IngestError:
        raise
    except Exception as e:  # noqa: BLE001 - KeyError, ValueError, XMLSyntaxError, zlib.error, …
        raise IngestError(f"Word 文档已损坏或格式不受支持，无法读取（{type(e).__name__}）") from None
    try:
        lines = _block_lines(document)
    except Exception as e:  # noqa: BLE001
        raise IngestError(f"Word 文档内容无法解析（{type(e).__name__}）") from None
    title = None
    try:
        t = (document.core_properties.title or "").strip()
        title = t or None
    except Exception:  # noqa: BLE001
        title = None
    notes: list[str] = []
    if not lines:
        notes.append("Word 文档正文中没有文字（可能全是图片或文本框）")
    return RawDoc(text="\n".join(lines), format="docx", encoding=None, title=title, notes=notes)
