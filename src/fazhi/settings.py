"""Limits on oversized and hostile input, in one place.

Every limit has a default here and an environment variable that overrides it.
The value is read when it is used (``settings.get("MAX_PDF_PAGES")`` or the
attribute ``settings.MAX_PDF_PAGES``), so an override set before a command or a
worker process starts applies to it; an unparsable or non-positive override is
ignored (the default applies).  The README's limits table lists the same rows
(``describe()``); a test keeps the two in step.

==========================  =================================  ==============  ==============================================
name                        environment variable               default         what trips it (Chinese message, in short)
==========================  =================================  ==============  ==============================================
``MAX_BYTES``               ``FAZHI_MAX_BYTES``                30 MiB          a larger file: 文件过大…未分析
                                                                               (``--max-size`` on the CLI overrides it)
``MAX_CHARS``               ``FAZHI_MAX_CHARS``                1,000,000       a longer text is cut at a paragraph end and
                                                                               analysed: 报告过长…仅分析前…（a finding）
``MAX_PARAGRAPHS``          ``FAZHI_MAX_PARAGRAPHS``           20,000          more paragraphs (lines): cut the same way
``MAX_FACTS``               ``FAZHI_MAX_FACTS``                5,000           more quantities in one report: the first are
                                                                               kept, a finding says so (the text is read
                                                                               up to 4 x this many quantities)
``MAX_FINDINGS``            ``FAZHI_MAX_FINDINGS``             500             more findings: the first are kept, one says so
``TIME_LIMIT``              ``FAZHI_TIME_LIMIT``               60 s            one analysis, end to end (``--time-limit``):
                                                                               处理超时（超过 N 秒），已跳过
``OCR_PAGE_SECONDS``        ``FAZHI_OCR_PAGE_SECONDS``         20 s            added to the time limit for each page a scan
                                                                               needs OCR for
``MAX_MEMORY``              ``FAZHI_MAX_MEMORY``               2 GiB           address space of one analysis process
                                                                               (``RLIMIT_AS``): 内存不足…未分析
``WORKERS``                 ``FAZHI_WORKERS``                  CPU cores       analyses at once (further ones wait)
``MAX_PDF_PAGES``           ``FAZHI_MAX_PDF_PAGES``            500             a PDF with more pages: PDF 页数过多…未分析
``PDF_TIME_LIMIT``          ``FAZHI_PDF_TIME_LIMIT``           120 s           text extraction of one PDF: PDF 解析超时
``MAX_DOCX_UNCOMPRESSED``   ``FAZHI_MAX_DOCX_UNCOMPRESSED``    200 MiB         bytes a .docx unzips to (the zip header, and
                                                                               the bytes really read): 文档解压后过大…未分析
``MAX_DOCX_MEMBERS``        ``FAZHI_MAX_DOCX_MEMBERS``         20,000          parts in one .docx: the same message
``MAX_DOCX_ELEMENTS``       ``FAZHI_MAX_DOCX_ELEMENTS``        3,000,000       XML elements read from one .docx: the text so
                                                                               far is analysed, a finding says it was cut
``MAX_HTML_DEPTH``          ``FAZHI_MAX_HTML_DEPTH``           200             elements nested deeper: 网页标签嵌套层数过深
                                                                               (libxml2 stops at 256 in any case)
``MAX_HTML_ELEMENTS``       ``FAZHI_MAX_HTML_ELEMENTS``        100,000         a page with more elements is read whole, without
                                                                               main-text detection (a note says so)
``MAX_OCR_PAGES``           ``FAZHI_MAX_OCR_PAGES``            50              a scan needing OCR on more pages (~5-8 s a
                                                                               page on 2 cores): 扫描件页数过多
``MAX_IMAGE_PIXELS``        ``FAZHI_MAX_IMAGE_PIXELS``         60,000,000      an image (page) larger than this: 图片尺寸过大
``MAX_ZIP_MEMBERS``         ``FAZHI_MAX_ZIP_MEMBERS``          5,000           files in one .zip given to ``corpus add``:
                                                                               压缩包中的文件过多…未展开
``MAX_ZIP_UNCOMPRESSED``    ``FAZHI_MAX_ZIP_UNCOMPRESSED``     2 GiB           bytes one .zip unpacks to (header, and bytes
                                                                               really read): 压缩包解压后过大
==========================  =================================  ==============  ==============================================

``current()`` gives the values in force; ``describe()`` adds the variable, the
default and the unit for display.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Limit:
    name: str
    env: str
    default: float | Callable[[], float]
    unit: str              # bytes | chars | paragraphs | facts | findings | seconds | processes | pages | …
    cast: type = int

    def default_value(self) -> float:
        return self.default() if callable(self.default) else self.default


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


MiB = 1024 * 1024

_ROWS = (
    Limit("MAX_BYTES", "FAZHI_MAX_BYTES", 30 * MiB, "bytes"),
    Limit("MAX_CHARS", "FAZHI_MAX_CHARS", 1_000_000, "chars"),
    Limit("MAX_PARAGRAPHS", "FAZHI_MAX_PARAGRAPHS", 20_000, "paragraphs"),
    Limit("MAX_FACTS", "FAZHI_MAX_FACTS", 5_000, "facts"),
    Limit("MAX_FINDINGS", "FAZHI_MAX_FINDINGS", 500, "findings"),
    Limit("TIME_LIMIT", "FAZHI_TIME_LIMIT", 60, "seconds", float),
    Limit("OCR_PAGE_SECONDS", "FAZHI_OCR_PAGE_SECONDS", 20, "seconds", float),
    Limit("MAX_MEMORY", "FAZHI_MAX_MEMORY", 2048 * MiB, "bytes"),
    Limit("WORKERS", "FAZHI_WORKERS", _cores, "processes"),
    Limit("MAX_PDF_PAGES", "FAZHI_MAX_PDF_PAGES", 500, "pages"),
    Limit("PDF_TIME_LIMIT", "FAZHI_PDF_TIME_LIMIT", 120, "seconds", float),
    Limit("MAX_DOCX_UNCOMPRESSED", "FAZHI_MAX_DOCX_UNCOMPRESSED", 200 * MiB, "bytes"),
    Limit("MAX_DOCX_MEMBERS", "FAZHI_MAX_DOCX_MEMBERS", 20_000, "parts"),
    Limit("MAX_DOCX_ELEMENTS", "FAZHI_MAX_DOCX_ELEMENTS", 3_000_000, "elements"),
    Limit("MAX_HTML_DEPTH", "FAZHI_MAX_HTML_DEPTH", 200, "levels"),
    Limit("MAX_HTML_ELEMENTS", "FAZHI_MAX_HTML_ELEMENTS", 100_000, "elements"),
    Limit("MAX_OCR_PAGES", "FAZHI_MAX_OCR_PAGES", 50, "pages"),
    Limit("MAX_IMAGE_PIXELS", "FAZHI_MAX_IMAGE_PIXELS", 60_000_000, "pixels"),
    Limit("MAX_ZIP_MEMBERS", "FAZHI_MAX_ZIP_MEMBERS", 5_000, "files"),
    Limit("MAX_ZIP_UNCOMPRESSED", "FAZHI_MAX_ZIP_UNCOMPRESSED", 2048 * MiB, "bytes"),
)
LIMITS: dict[str, Limit] = {lim.name: lim for lim in _ROWS}

__all__ = list(LIMITS) + ["LIMITS", "Limit", "get", "current", "describe"]


def get(name: str) -> Any:
    """The value in force: the environment override if it parses (and is > 0), else the default."""
    lim = LIMITS[name]
    raw = os.environ.get(lim.env)
    if raw is not None and raw.strip():
        try:
            v = lim.cast(float(raw.strip().replace("_", "")))
        except (ValueError, OverflowError):
            v = None
        if v is not None and v > 0:
            return v
    return lim.cast(lim.default_value())


def __getattr__(name: str) -> Any:
    if name in LIMITS:
        return get(name)
    raise AttributeError(f"module 'fazhi.settings' has no attribute {name!r}")


def current() -> dict[str, Any]:
    """{name: value in force} for every limit."""
    return {name: get(name) for name in LIMITS}


def describe() -> list[dict[str, Any]]:
    """One row per limit: name, environment variable, default, value in force, unit."""
    return [{"name": lim.name, "env": lim.env, "default": lim.cast(lim.default_value()), "value": get(lim.name),
             "unit": lim.unit} for lim in _ROWS]
