"""Ingest: one reader per format, each turning file bytes into a ``RawDoc``.

The text a reader returns is "markdown-ish" plain text, one paragraph per line:
a heading the format marks as such (a Word heading style, an HTML ``<h1>``-``<h6>``)
becomes ``#``-prefixed (``## 一、主要举措``), a paragraph that is bold as a
whole becomes ``**…**``.  ``clean`` strips the marks again and remembers them
as heading hints, so every format reaches the outline the same way.
"""
from __future__ import annotations

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


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

DEFAULT_MAX_BYTES = int(os.environ.get("FAZHI_MAX_BYTES", 30 * 1024 * 1024))


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


def read_bytes(data: bytes, fmt: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDoc:
    """Dispatch ``data`` to the reader for ``fmt``. Raises ``IngestError``."""
    if len(data) > max_bytes:
        raise IngestError(
            f"文件过大（{len(data) / 1048576:.1f} MB），超过上限 {max_bytes / 1048576:.0f} MB，未分析")
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
            return doc
        from .pdf import read
    else:
        raise IngestError(f"不支持的文件格式：{fmt}（支持 {SUPPORTED}）")
    doc = read(data, fmt) if fmt in ("txt", "md") else read(data)
    if not doc.text.strip():
        raise IngestError("文件中没有可提取的文本")
    return doc


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, str]:
    """The bytes and format of a report file, after the type and size checks.
    Raises ``IngestError`` with a Chinese message."""
    p = Path(path)
    fmt = format_of(p)
    if fmt is None:
        raise IngestError(f"不支持的文件类型“{p.suffix or '无扩展名'}”（支持 {SUPPORTED}）")
    try:
        size = p.stat().st_size
    except OSError as e:
        raise IngestError(f"无法读取文件：{e.strerror or e}") from None
    if size > max_bytes:
        raise IngestError(
            f"文件过大（{size / 1048576:.1f} MB），超过上限 {max_bytes / 1048576:.0f} MB，未分析")
    try:
        return p.read_bytes(), fmt
    except OSError as e:
        raise IngestError(f"无法读取文件：{e.strerror or e}") from None


def read(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> RawDoc:
    """Read a report file from disk. Raises ``IngestError`` with a Chinese message."""
    data, fmt = read_file(path, max_bytes=max_bytes)
    return read_bytes(data, fmt, max_bytes=max_bytes)
