"""Word .docx, read with lxml directly: body paragraphs and table rows in document order.

- Heading styles ("Heading N", WPS "标题 N"/"标题N", "Title", or an outline level
  set on the paragraph or its style) -> ``#`` marks.
- A paragraph whose visible runs are all bold (directly, through the run's
  character style or through the paragraph style) -> ``**…**``.
- Tables: one line per row.  A row with a single cell (a layout frame around the
  text) gives its paragraphs as lines of their own.  A data row (a label and
  numbers) becomes a sentence the facts stage reads as "noun + quantity":
  ``行政复议案件：12件。``; a number without a unit takes the unit its column
  header or the label states (``数量（件）``, ``行政复议案件（件）``, a 单位 column);
  with several number columns the headers go before the numbers
  (``调解纠纷：2021年200件，2022年222件。``).  Other rows: cells joined by a tab.
- Styles are resolved once per style id (``styles.xml``: name, ``basedOn``
  chain, bold, outline level), not once per run.

Safety (figures in ``fazhi.settings``): the zip directory is checked first (not a
zip, no ``word/document.xml``, more than ``MAX_DOCX_MEMBERS`` parts, or a declared
size over ``MAX_DOCX_UNCOMPRESSED`` -> ``IngestError``).  The zip header is not
trusted: every part is read in 1 MB chunks against the same byte cap (over it
-> the zip-bomb ``IngestError``) and fed to a streaming parser (lxml's target
parser: no tree is built, memory does not grow with the document); the XML parser
runs with ``huge_tree`` only behind those caps, never resolves entities and never
loads a DTD or the network.  A document with more than ``MAX_DOCX_ELEMENTS``
elements, or more text than ``MAX_CHARS``, is cut: the text so far is analysed
and a note says where it stopped.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from functools import lru_cache

from .. import settings
from . import IngestError, RawDoc

NOT_DOCX = "不是有效的 Word 文档（.docx 文件已损坏或不是 zip 格式）"
_HEADING_NAME = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)
_TITLE_NAME = re.compile(r"^(?:title|标题)$", re.I)
_WS_EDGE = " \t\r\n\u3000\xa0\u200b\ufeff"

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_CHUNK = 1 << 20
_MAX_TABLE_DEPTH = 30
_FALSE = ("0", "false", "off")


class _Corrupt(IngestError):
    """A part that does not unzip (bad CRC, truncated, unsupported compression)."""


class _Cut(Exception):
    """Stop reading: a cap on the document's size was reached (the text so far is kept)."""

    def __init__(self, note: str):
        super().__init__(note)
        self.note = note


def _bomb(total: int, members: int) -> IngestError:
    limit = settings.get("MAX_DOCX_UNCOMPRESSED")
    return IngestError(
        f"文档解压后过大（约 {total / 1048576:.0f} MB，{members} 个部件），超过上限 "
        f"{limit / 1048576:.0f} MB，可能是恶意构造的压缩文件，未分析")


# ------------------------------------------------------------------ the zip


class _Package:
    """The zip, its directory checked; parts read in chunks against one byte budget."""

    def __init__(self, data: bytes):
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise IngestError(
                "这是旧版 Word（.doc）文件或加密的 Word 文档，无法读取；请用 Word/WPS 另存为 .docx（不加密）后再分析")
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zf.infolist()
        except Exception:  # noqa: BLE001 - BadZipFile, OSError, ValueError, EOFError, …
            raise IngestError(NOT_DOCX) from None
        self.limit = settings.get("MAX_DOCX_UNCOMPRESSED")
        declared = sum(max(0, i.file_size) for i in infos)
        if declared > self.limit or len(infos) > settings.get("MAX_DOCX_MEMBERS"):
            raise _bomb(declared, len(infos))
        self.members = len(infos)
        self.names = {i.filename for i in infos}
        self.used = 0  # bytes really decompressed so far

    def chunks(self, name: str):
        """The decompressed bytes of one part, 1 MB at a time; over the byte cap -> IngestError."""
        try:
            with self.zf.open(name) as fh:
                while True:
                    block = fh.read(_CHUNK)
                    if not block:
                        return
                    self.used += len(block)
                    if self.used > self.limit:
                        raise _bomb(self.used, self.members)
                    yield block
        except IngestError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
            # a corrupt or truncated part, an unsupported compression, an encrypted member
            raise _Corrupt(f"Word 文档已损坏或格式不受支持，无法读取（部件 {name} 无法解压）") from None

    def read(self, name: str, cap: int) -> bytes | None:
        """A small part whole (styles, properties, relationships), at most ``cap`` bytes, or None."""
        if name not in self.names:
            return None
        out = bytearray()
        try:
            for block in self.chunks(name):
                out += block
                if len(out) > cap:
                    return None  # an absurd styles/properties part: do without it
        except _Corrupt:
            return None  # a damaged side part: do without it (the zip-bomb error still stops us)
        return bytes(out)

    def main_part(self) -> str:
        rels = self.read("_rels/.rels", 1 << 20)
        if rels:
            root = _parse_small(rels)
            if root is not None:
                for rel in root.iter(f"{_REL}Relationship"):
                    if (rel.get("Type") or "").endswith("/officeDocument"):
                        target = (rel.get("Target") or "").lstrip("/")
                        if target in self.names:
                            return target
        if "word/document.xml" in self.names:
            return "word/document.xml"
        raise IngestError("不是有效的 Word 文档（缺少 word/document.xml，可能是其他 Office 文件或已损坏）")

    def related(self, main: str, kind: str) -> str | None:
        """The part of relationship type ``kind`` (e.g. "styles") of the main part."""
        folder, _, base = main.rpartition("/")
        rels = self.read(f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels", 1 << 20)
        if rels:
            root = _parse_small(rels)
            if root is not None:
                for rel in root.iter(f"{_REL}Relationship"):
                    if (rel.get("Type") or "").endswith("/" + kind) and rel.get("TargetMode") != "External":
                        target = rel.get("Target") or ""
                        path = target.lstrip("/") if target.startswith("/") else (
                            f"{folder}/{target}" if folder else target)
                        if path in self.names:
                            return path
        guess = f"{folder}/{kind}.xml" if folder else f"{kind}.xml"
        return guess if guess in self.names else None


def _parser(**kw):
    from lxml import etree

    # huge_tree: only behind the byte caps above; never entities, DTDs or the network
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, **kw)


def _parse_small(data: bytes):
    from lxml import etree

    try:
        return etree.fromstring(data, _parser())
    except Exception:  # noqa: BLE001 - XMLSyntaxError, ValueError: a broken side part is ignored
        return None


# ------------------------------------------------------------------ styles


class _Styles:
    """Per style id, resolved once: heading level (0 = body) and bold (None = unset)."""

    def __init__(self, data: bytes | None):
        self.level: dict[str, int] = {}
        self.bold: dict[str, bool | None] = {}
        self.default_para: str | None = None
        self.default_char: str | None = None
        self.kind: dict[str, str] = {}
        raw: dict[str, dict] = {}
        root = _parse_small(data) if data else None
        if root is None:
            return
        for st in root.iter(f"{W}style"):
            sid = st.get(f"{W}styleId")
            if sid is None or sid in raw:
                continue
            kind = st.get(f"{W}type") or "paragraph"
            name_el = st.find(f"{W}name")
            based = st.find(f"{W}basedOn")
            b = st.find(f"{W}rPr/{W}b")
            lvl = st.find(f"{W}pPr/{W}outlineLvl")
            raw[sid] = {
                "name": (name_el.get(f"{W}val") if name_el is not None else "") or "",
                "based": based.get(f"{W}val") if based is not None else None,
                "bold": None if b is None else _on(b.get(f"{W}val")),
                "outline": _outline(lvl.get(f"{W}val")) if lvl is not None else None,
            }
            self.kind[sid] = kind
            if st.get(f"{W}default") in ("1", "true", "on"):
                if kind == "paragraph" and self.default_para is None:
                    self.default_para = sid
                elif kind == "character" and self.default_char is None:
                    self.default_char = sid
        for sid in raw:
            chain = self._chain(raw, sid)
            self.level[sid] = self._level(raw, chain)
            self.bold[sid] = next((raw[s]["bold"] for s in chain if raw[s]["bold"] is not None), None)

    @staticmethod
    def _chain(raw: dict, sid: str) -> list[str]:
        out: list[str] = []
        while sid in raw and sid not in out and len(out) < 21:
            out.append(sid)
            sid = raw[sid]["based"]
        return out

    @staticmethod
    def _level(raw: dict, chain: list[str]) -> int:
        for s in chain:
            name = raw[s]["name"].strip()
            m = _HEADING_NAME.match(name)
            if m:
                return int(m.group(1))
            if _TITLE_NAME.match(name):
                return 1
            if raw[s]["outline"] is not None:
                return raw[s]["outline"]
        return 0

    def para(self, sid: str | None) -> str | None:
        """The style a paragraph uses: its own if it exists as a paragraph style, else the default."""
        if sid is not None and self.kind.get(sid) == "paragraph":
            return sid
        return self.default_para

    def char(self, sid: str | None) -> str | None:
        if sid is not None and self.kind.get(sid) == "character":
            return sid
        return self.default_char


@lru_cache(maxsize=16)
def _styles(data: bytes | None) -> _Styles:
    """Styles resolved once per styles.xml: reports from one office share their template."""
    return _Styles(data)


def _on(val: str | None) -> bool:
    return val is None or val.strip().lower() not in _FALSE


def _outline(val: str | None) -> int | None:
    try:
        v = int(val or "")
    except ValueError:
        return None
    return v + 1 if 0 <= v <= 8 else 0  # 9 = body text


# ------------------------------------------------------------------ tables -> lines

_NUM_CELL = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<mult>[万亿千]?)\s*"
    r"(?P<unit>%|‰|[^\d\s%‰，,。；;：:、（）()]{1,4})?\s*$")
_PAREN_UNIT = re.compile(r"[（(]\s*(?:单位\s*[:：]\s*)?(?P<unit>[^（）()\d\s]{1,4})\s*[）)]\s*$")
_SLASH_UNIT = re.compile(r"[/／]\s*(?P<unit>[^/／\d\s]{1,4})\s*$")
_UNIT_HEAD = re.compile(r"^\s*(?:计量)?单位\s*$")
# a year, a date or a time is a column name or a label, not a quantity
_NOT_QUANTITY = re.compile(r"^\s*(?:(?:19|20)\d\d\s*(?:年度?|年末|年底)?|\d+\s*(?:年|月|日|号|时|季度|时许)(?:度)?)\s*$")


def _is_number(cell: str) -> bool:
    return bool(_NUM_CELL.match(cell)) and not _NOT_QUANTITY.match(cell)


def _head_unit(text: str) -> tuple[str, str | None]:
    """``数量（件）`` -> ("数量", "件"); ``件数`` -> ("件数", None)."""
    for rx in (_PAREN_UNIT, _SLASH_UNIT):
        m = rx.search(text)
        if m:
            return text[:m.start()].strip(), m.group("unit")
    return text.strip(), None


def _quantity(cell: str, unit: str | None) -> str | None:
    """A numeric cell as a quantity (``12`` + 件 -> ``12件``), or None if it is not a number."""
    m = _NUM_CELL.match(cell)
    if not m:
        return None
    if m.group("unit"):
        return cell.strip()
    return m.group("num") + m.group("mult") + (unit or "")


class _Table:
    def __init__(self, depth: int):
        self.depth = depth
        self.rows = 0
        self.header: list[str] | None = None  # the first multi-cell row, when it holds no numbers
        self.cells: list[list[str] | None] = []  # the row being read: cell lines (None: merged cell)

    def row_lines(self) -> list[str]:
        cells, self.cells = self.cells, []
        self.rows += 1
        non_empty = [c for c in cells if c]
        if not non_empty:
            return []
        if len(non_empty) == 1:
            return non_empty[0]  # layout row: keep its paragraphs as paragraphs
        texts = [_cell_text(c) if c else "" for c in cells]
        numeric = [j for j, t in enumerate(texts) if j and _is_number(t)]
        if self.header is None and self.rows == 1 and not numeric:
            self.header = texts
            return ["\t".join(texts).rstrip("\t")]
        line = self._data_row(texts, numeric)
        return [line if line else "\t".join(texts).rstrip("\t")]

    def _data_row(self, texts: list[str], numeric: list[int]) -> str | None:
        """``label：quantity。`` for a row of a label and numbers, else None."""
        if not numeric or not texts[0] or _is_number(texts[0]):
            return None
        head = self.header if self.header is not None and len(self.header) == len(texts) else None
        unit_col = None
        if head is not None:
            unit_col = next((j for j, h in enumerate(head) if _UNIT_HEAD.match(h)), None)
        label_cells = [j for j, t in enumerate(texts) if t and j not in numeric and j != unit_col]
        if len(label_cells) > 2 or label_cells[:1] != [0] or label_cells[-1] > numeric[0]:
            return None  # text after the numbers (a remark column): not a plain data row
        label, label_unit = _head_unit(" ".join(texts[j] for j in label_cells))
        row_unit = texts[unit_col].strip() if unit_col is not None and texts[unit_col] else None
        values = []
        for j in numeric:
            col_name, col_unit = _head_unit(head[j]) if head is not None else ("", None)
            q = _quantity(texts[j], row_unit or col_unit or label_unit)
            if q is None:
                return None
            values.append((col_name, q))
        if len(values) == 1:
            return f"{label}：{values[0][1]}。"
        return f"{label}：" + "，".join(f"{name}{q}" for name, q in values) + "。"


def _cell_text(cell_lines: list[str]) -> str:
    out = []
    for ln in cell_lines:
        ln = re.sub(r"^#+ ", "", ln)
        if ln.startswith("**") and ln.endswith("**") and len(ln) > 4:
            ln = ln[2:-2]
        out.append(ln.replace("\t", " "))
    return " ".join(out).strip()


# ------------------------------------------------------------------ the streaming reader

# contexts of the element being read
_IGNORE, _DOC, _BLOCK, _SDT, _P, _PPR, _R, _RPR, _TEXT, _TBL, _TBL_SDT, _TR, _TR_SDT, _TC, _TCPR = range(15)
(T_P, T_R, T_T, T_B, T_BR, T_PPR, T_RPR, T_PSTYLE, T_RSTYLE, T_OUTLINE, T_TBL, T_TR, T_TC, T_TCPR, T_VMERGE,
 T_SDT, T_SDTCONTENT, T_CUSTOMXML, T_BODY, T_VAL, T_TYPE) = (
    W + t for t in ("p", "r", "t", "b", "br", "pPr", "rPr", "pStyle", "rStyle", "outlineLvl", "tbl", "tr", "tc",
                    "tcPr", "vMerge", "sdt", "sdtContent", "customXml", "body", "val", "type"))
_RUN_WRAPPERS = {f"{W}{t}" for t in ("hyperlink", "ins", "moveTo", "smartTag", "fldSimple", "customXml", "sdt", "sdtContent")}
_RUN_TEXT = {f"{W}tab": "\t", f"{W}ptab": "\t", f"{W}cr": "\n", f"{W}noBreakHyphen": "-"}


class _Reader:
    """lxml parser target: start/end/data events -> lines.  Memory is the stack of open
    elements, the paragraph being read and the lines so far (capped)."""

    def __init__(self, styles: _Styles):
        self.styles = styles
        self.ctx: list[int] = []
        self.containers: list[list[str]] = [[]]  # body lines, then one list per open table cell
        self.tables: list[_Table] = []
        self.elements = 0
        self.chars = 0
        self.max_elements = settings.get("MAX_DOCX_ELEMENTS")
        self.max_chars = settings.get("MAX_CHARS")
        self.max_lines = settings.get("MAX_PARAGRAPHS")
        # the paragraph / run being read
        self.p_style: str | None = None
        self.p_outline: int | None = None
        self.pieces: list[tuple[str, bool | None]] = []
        self.r_text: list[str] = []
        self.r_bold: bool | None = None
        self.r_style: str | None = None
        self.cell_merged = False
        self.cell_skip = 0  # > 0 inside a merged (continuation) cell or one nested too deep
        self.chars_out = 0  # characters of the body lines so far

    @property
    def lines(self) -> list[str]:
        return self.containers[0]

    # -- events
    def start(self, tag, attrib):
        self.elements += 1
        if self.elements > self.max_elements:
            raise _Cut(f"Word 文档结构过于复杂（超过 {self.max_elements:,} 个 XML 元素），仅分析了前面部分的内容")
        ctx = self.ctx
        parent = ctx[-1] if ctx else None
        c = _IGNORE
        if parent == _P:
            if tag == T_R:
                c = _R
                self.r_text, self.r_bold, self.r_style = [], None, None
            elif tag == T_PPR:
                c = _PPR
            elif tag in _RUN_WRAPPERS:
                c = _P
        elif parent == _R:
            if tag == T_T:
                c = _TEXT
            elif tag == T_RPR:
                c = _RPR
            elif tag == T_BR:
                if (attrib.get(T_TYPE) or "textWrapping") == "textWrapping":
                    self.r_text.append("\n")
            elif tag in _RUN_TEXT:
                self.r_text.append(_RUN_TEXT[tag])
        elif parent == _RPR:
            if tag == T_B:
                self.r_bold = _on(attrib.get(T_VAL))
            elif tag == T_RSTYLE:
                self.r_style = attrib.get(T_VAL)
        elif parent == _BLOCK or parent == _TC:
            if parent == _TC and tag == T_TCPR:
                c = _TCPR
            elif self.cell_skip:
                pass
            elif tag == T_P:
                c = _P
                self.p_style = self.p_outline = None
                self.pieces = []
            elif tag == T_TBL:
                c = _TBL
                self.tables.append(_Table(len(self.tables) + 1))
            elif tag == T_SDT:
                c = _SDT
            elif tag == T_CUSTOMXML:
                c = _BLOCK
        elif parent == _PPR:
            if tag == T_PSTYLE:
                self.p_style = attrib.get(T_VAL)
            elif tag == T_OUTLINE:
                self.p_outline = _outline(attrib.get(T_VAL))
        elif parent == _TBL or parent == _TBL_SDT:
            if tag == T_TR:
                c = _TR
                self.tables[-1].cells = []
            elif tag == T_SDT and parent == _TBL:
                c = _TBL_SDT
            elif tag == T_SDTCONTENT and parent == _TBL_SDT:
                c = _TBL
        elif parent == _TR or parent == _TR_SDT:
            if tag == T_TC:
                c = _TC
                self.cell_merged = False
                self.containers.append([])
                self.cell_skip += self.tables[-1].depth > _MAX_TABLE_DEPTH
            elif tag == T_SDT and parent == _TR:
                c = _TR_SDT
            elif tag == T_SDTCONTENT and parent == _TR_SDT:
                c = _TR
        elif parent == _TCPR:
            if tag == T_VMERGE and (attrib.get(T_VAL) or "continue") == "continue" and not self.cell_merged:
                self.cell_merged = True
                self.cell_skip += 1
        elif parent == _SDT:
            if tag == T_SDTCONTENT:
                c = _BLOCK
        elif parent is None:
            c = _DOC
        elif parent == _DOC:
            if tag == T_BODY:
                c = _BLOCK
        ctx.append(c)

    def data(self, text):
        if self.ctx and self.ctx[-1] == _TEXT:
            self.r_text.append(text)
            self.chars += len(text)
            if self.chars > 2 * self.max_chars:  # one giant paragraph: stop well before memory matters
                raise _Cut(self._long_note())

    def end(self, tag):
        c = self.ctx.pop()
        if c == _IGNORE or c == _TEXT:
            return
        if c == _R:
            if self.r_text:
                text = "".join(self.r_text)
                b = self.r_bold
                if b is None:
                    b = self.styles.bold.get(self.styles.char(self.r_style))
                self.pieces.append((text, b))
        elif c == _P:
            if tag == T_P and self.pieces:
                self._paragraph()
        elif c == _TC:
            lines = self.containers.pop()
            too_deep = self.tables[-1].depth > _MAX_TABLE_DEPTH
            skipped = self.cell_merged or too_deep
            if self.cell_merged:
                self.cell_skip -= 1
                self.cell_merged = False
            if too_deep:
                self.cell_skip -= 1
            self.tables[-1].cells.append(lines if lines and not skipped else None)
        elif c == _TR:
            if tag == T_TR:
                self._emit(self.tables[-1].row_lines())
        elif c == _TBL:
            if tag == T_TBL:
                self.tables.pop()

    def close(self):
        return self.lines

    # -- paragraphs
    def _paragraph(self) -> None:
        if not self.pieces:
            return
        styles = self.styles
        sid = styles.para(self.p_style)
        level = self.p_outline if self.p_outline is not None else styles.level.get(sid, 0)
        para_bold = styles.bold.get(sid)
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

        for text, b in self.pieces:
            bold = bool(para_bold) if b is None else b
            for i, part in enumerate(re.split(r"[\n\r\v]", text)):
                if i:
                    flush()
                if part:
                    cur.append((part, bold))
        flush()
        self.pieces = []
        self._emit(lines)

    def _emit(self, lines: list[str]) -> None:
        if not lines:
            return
        self.containers[-1].extend(lines)
        if len(self.containers) == 1:
            self.chars_out += sum(len(x) + 1 for x in lines)
            if self.chars_out > self.max_chars or len(self.lines) > self.max_lines:
                raise _Cut(self._long_note())

    def _long_note(self) -> str:
        return (f"Word 文档过长（超过上限 {self.max_chars:,} 字或 {self.max_lines:,} 段），"
                "仅分析了前面部分的内容，其后内容未读取")

    def finish_partial(self) -> None:
        """After a cut inside a paragraph: keep what was read of it."""
        if self.ctx and _R in self.ctx and self.r_text:
            self.pieces.append(("".join(self.r_text), self.r_bold))
            self.r_text = []
        if self.pieces and len(self.containers) == 1:
            try:
                self._paragraph()
            except _Cut:
                pass

    def trim(self) -> None:
        """Drop the lines that went over the caps (the reader stops just after them)."""
        lines = self.lines
        total = sum(len(x) + 1 for x in lines)
        first = lines[0] if lines else ""
        while lines and (total > self.max_chars + 1 or len(lines) > self.max_lines):
            total -= len(lines.pop()) + 1
        if not lines and first:
            lines.append(first[: self.max_chars])


def read(data: bytes) -> RawDoc:
    pkg = _Package(data)
    main = pkg.main_part()
    styles_part = pkg.related(main, "styles")
    styles = _styles(pkg.read(styles_part, 16 << 20) if styles_part else None)
    reader = _Reader(styles)
    notes: list[str] = []
    try:
        from lxml import etree

        parser = _parser(target=reader)
        try:
            for block in pkg.chunks(main):
                parser.feed(block)
            parser.close()
        except _Cut as cut:
            reader.finish_partial()
            reader.trim()
            notes.append(cut.note)
        except etree.XMLSyntaxError as e:
            if not reader.lines:
                raise IngestError(f"Word 文档已损坏或格式不受支持，无法读取（XML 格式错误{_xml_where(e)}）") from None
            notes.append("Word 文档的 XML 在中途损坏，已分析损坏处之前的内容")
    except IngestError:
        raise
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - lxml internal errors on hostile XML
        raise IngestError(f"Word 文档内容无法解析（{type(e).__name__}）") from None
    lines = reader.lines
    title = None
    core = pkg.read("docProps/core.xml", 1 << 20)
    if core:
        root = _parse_small(core)
        if root is not None:
            t = root.find(_DC_TITLE)
            if t is not None and (t.text or "").strip():
                title = t.text.strip()[:500]
    if not lines:
        notes.append("Word 文档正文中没有文字（可能全是图片或文本框）")
    return RawDoc(text="\n".join(lines), format="docx", encoding=None, title=title, notes=notes)


def _xml_where(e) -> str:
    try:
        line, col = e.position
        return f"，第 {line} 行第 {col} 列"
    except Exception:  # noqa: BLE001
        return ""
