"""Ingest: one reader per format, each turning file bytes into a ``RawDoc``.

The text a reader returns is "markdown-ish" plain text, one paragraph per line:
a heading the format marks as such (a Word heading style, an HTML ``<h1>``-``<h6>``)
becomes ``#``-prefixed (``## 一、主要举措``), a paragraph that is bold as a
whole becomes ``**…**``.  ``clean`` strips the marks again and remembers them
as heading hints, so every format reaches the outline the same way.

Guards applied here for every format (figures in ``fazhi.settings``): the file
size (``MAX_BYTES``, refused), and the text's length (``MAX_CHARS`` characters,
``MAX_PARAGRAPHS`` paragraphs): a longer text is cut at a paragraph end and the
cut is a note (an info finding), so the report is analysed as far as it goes.
"""
from __future__ import annotations

import logging
import os
import re
import stat
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import settings


class IngestError(Exception):
    """A file that cannot be read; ``str(err)`` is a Chinese message for the user."""


@dataclass
class RawDoc:
    text: str
    format: str  # txt | md | html | docx | pdf (images read by OCR are "pdf" too)
    encoding: str | None = None
    # the page's own metadata rows, label as printed -> value, e.g. {"发布时间": "2022-11-21 12:21"}
    fields: dict[str, str] = field(default_factory=dict)
    # a title the format itself carries (HTML <title>/<h1>, docx core title); may be None
    title: str | None = None
    # Chinese notes for the user (e.g. "第3页无文本层"); they become info findings
    notes: list[str] = field(default_factory=list)


EXTENSIONS = {
    ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html",
    ".docx": "docx", ".pdf": "pdf",
    # images are scanned pages: read by OCR (fazhi[ocr]) and reported as format
    # "pdf" -- the report contract's format enum has no image; a note says "图片"
    ".png": "pdf", ".jpg": "pdf", ".jpeg": "pdf", ".tif": "pdf", ".tiff": "pdf",
}
SUPPORTED = "txt、md、html、docx、pdf，以及扫描图片 png、jpg、tif（需 OCR 组件）"

# the size limit in force when this module was imported (a default for callers
# that want a number; read_bytes/read_file take settings.MAX_BYTES at call time)
DEFAULT_MAX_BYTES = settings.get("MAX_BYTES")

# magic bytes of formats that are never a report's text, whatever the name says
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
    (b"GIF8", "gif"), (b"PK\x03\x04", "zip"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x7fELF", "elf"), (b"\x1f\x8b", "gzip"), (b"Rar!", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"{\\rtf", "rtf"), (b"BM", "bmp"), (b"RIFF", "riff"), (b"OggS", "ogg"), (b"ID3", "mp3"),
)


def magic_kind(data: bytes) -> str | None:
    """The kind of binary file ``data`` starts like (png, zip, ole, …), or None."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            if kind == "bmp" and len(data) >= 14 and data[6:10] != b"\0\0\0\0":
                continue  # "BM" opens many texts; a real BMP has four reserved zero bytes
            return kind
    return None


def is_pdf(data: bytes) -> bool:
    """A PDF by content: ``%PDF-`` within the first KB (as readers accept it), and the
    file does not start as another binary format (a PNG that happens to carry the
    marker in a text chunk is a PNG)."""
    return b"%PDF-" in data[:1024] and (data.startswith(b"%PDF-") or magic_kind(data) is None)


@contextmanager
def quiet(*logger_names: str):
    """Silence the named libraries' loggers and Python warnings while parsing
    untrusted files (their complaints become our Chinese errors, not noise)."""
    loggers = [logging.getLogger(n) for n in logger_names]
    old = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, old):
            lg.setLevel(lv)


def format_of(path: str | Path) -> str | None:
    return EXTENSIONS.get(Path(path).suffix.lower())


# ------------------------------------------------------------------ file names

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(path: str | bytes | os.PathLike) -> str:
    """A path as a person should see it, safe to print and to store.

    A name that is not UTF-8 on disk (unzipping a Windows zip on Linux leaves GBK
    bytes, which Python keeps as surrogate escapes) is decoded per path component
    as GB18030 where that works, else its undecodable bytes are shown as ``\\xNN``;
    control characters are shown the same way.  The result always encodes as UTF-8."""
    raw = os.fsencode(path) if not isinstance(path, bytes) else path
    parts = []
    for comp in raw.split(b"/"):
        try:
            s = comp.decode("utf-8")
        except UnicodeDecodeError:
            try:
                s = comp.decode("gb18030")
            except UnicodeDecodeError:
                s = comp.decode("utf-8", "backslashreplace")
        parts.append(s)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", "/".join(parts))


# ------------------------------------------------------------------ reading


def _too_large(size: int, max_bytes: int) -> IngestError:
    return IngestError(
        f"文件过大（{size / 1048576:.1f} MB），超过上限 {max_bytes / 1048576:.0f} MB，未分析")


def cap_text(doc: RawDoc) -> RawDoc:
    """Cut a text longer than ``MAX_CHARS`` characters or ``MAX_PARAGRAPHS`` paragraphs
    (non-blank lines) before the first paragraph over either limit; the cut is a
    note.  One pass over the text."""
    max_chars = settings.get("MAX_CHARS")
    max_paras = settings.get("MAX_PARAGRAPHS")
    text = doc.text
    if len(text) <= max_chars and text.count("\n") < max_paras:
        return doc
    cut = None
    n = pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        if not text[pos:end].isspace() and end > pos:
            n += 1
            if n > max_paras or end > max_chars:
                cut = pos
                break
        pos = end + 1
    if cut is None:
        return doc
    head = text[:cut].rstrip()
    if not head.strip():  # the first paragraph alone is over the limit: cut inside it
        head = text[:max_chars].rstrip()
    total = sum(1 for ln in text.split("\n") if ln.strip())
    kept = sum(1 for ln in head.split("\n") if ln.strip())
    doc.text = head
    doc.notes.append(
        f"报告过长（{len(text):,} 字，{total:,} 段），超过上限（{max_chars:,} 字或 {max_paras:,} 段），"
        f"仅分析了前 {len(head):,} 字（{kept:,} 段），其后内容未分析")
    return doc


def read_bytes(data: bytes, fmt: str, *, max_bytes: int | None = None) -> RawDoc:
    """Dispatch ``data`` to the reader for ``fmt``. Raises ``IngestError``."""
    max_bytes = max_bytes or settings.get("MAX_BYTES")
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    if not data.strip():
        raise IngestError("文件为空，没有可分析的内容")
    if fmt in ("txt", "md"):
        from .txt import read
    elif fmt == "html":
        from .html import read
    elif fmt == "docx":
        from .docx import read
    elif fmt == "pdf":
        from .ocr import image_kind, read_image

        if image_kind(data):  # a scan saved as an image (or an image named .pdf)
            doc = read_image(data)
            if not doc.text.strip():
                raise IngestError("文件中没有可提取的文本")
            return cap_text(doc)
        from .pdf import read
    else:
        raise IngestError(f"不支持的文件格式：{fmt}（支持 {SUPPORTED}）")
    doc = read(data, fmt) if fmt in ("txt", "md") else read(data)
    if not doc.text.strip():
        raise IngestError("文件中没有可提取的文本")
    return cap_text(doc)


def read_file(path: str | Path, *, max_bytes: int | None = None) -> tuple[bytes, str]:
    """The bytes and format of a report file, after the type and size checks.
    Raises ``IngestError`` with a Chinese message."""
    max_bytes = max_bytes or settings.get("MAX_BYTES")
    p = Path(path)
    fmt = format_of(p)
    if fmt is None:
        raise IngestError(f"不支持的文件类型“{display_name(p.suffix) or '无扩展名'}”（支持 {SUPPORTED}）")
    try:
        st = p.stat()
    except OSError as e:
        raise IngestError(_os_message(e)) from None
    if stat.S_ISDIR(st.st_mode):
        raise IngestError("是目录而不是文件")
    if not stat.S_ISREG(st.st_mode):  # a pipe or a device would block or never end
        raise IngestError("不是普通文件（可能是管道或设备文件），未分析")
    size = st.st_size
    if size > max_bytes:
        raise _too_large(size, max_bytes)
    try:
        with open(p, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may grow between stat and read
    except OSError as e:
        raise IngestError(_os_message(e)) from None
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data, fmt


def _os_message(e: OSError) -> str:
    if isinstance(e, FileNotFoundError):
        return "文件不存在"
    if isinstance(e, IsADirectoryError):
        return "是目录而不是文件"
    if isinstance(e, PermissionError):
        return "没有读取权限"
    return f"无法读取文件：{e.strerror or type(e).__name__}"


def read(path: str | Path, *, max_bytes: int | None = None) -> RawDoc:
    """Read a report file from disk. Raises ``IngestError`` with a Chinese message."""
    data, fmt = read_file(path, max_bytes=max_bytes)
    return read_bytes(data, fmt, max_bytes=max_bytes)
