"""Limits on oversized and hostile input, in one place.

Every limit has a sane default and an environment variable that overrides it
(read when the owning module is first imported).  This module owns none of
them: it re-exports the values in force from the modules that apply them, so a
test that patches ``fazhi.ingest.pdf.MAX_PDF_PAGES`` sees the same value here.

=========================  ===============================  ==============  ===============================================
name                       environment variable             default         what trips it (Chinese message, in short)
=========================  ===============================  ==============  ===============================================
``MAX_BYTES``              ``FAZHI_MAX_BYTES``              30 MiB          a file larger than this: 文件过大…未分析
                                                                            (``--max-size`` on the CLI overrides it)
``MAX_PDF_PAGES``          ``FAZHI_MAX_PDF_PAGES``          500             a PDF with more pages: PDF 页数过多…未分析
``PDF_TIME_LIMIT``         ``FAZHI_PDF_TIME_LIMIT``         120 s           text extraction of one PDF: PDF 解析超时
``MAX_DOCX_UNCOMPRESSED``  ``FAZHI_MAX_DOCX_UNCOMPRESSED``  200 MiB         a .docx whose parts unzip to more (a zip
                                                                            bomb): 文档解压后过大…未分析
``MAX_HTML_DEPTH``         ``FAZHI_MAX_HTML_DEPTH``         200             elements nested deeper: 网页标签嵌套层数过深
                                                                            (libxml2 stops at 256 in any case)
``MAX_OCR_PAGES``          ``FAZHI_MAX_OCR_PAGES``          50              a scan needing OCR on more pages (~5-8 s a
                                                                            page on 2 cores): 扫描件页数过多
``MAX_IMAGE_PIXELS``       ``FAZHI_MAX_IMAGE_PIXELS``       60,000,000      an image (page) larger than this: 图片尺寸过大
``TIME_LIMIT``             ``FAZHI_TIME_LIMIT``             60 s            one file in ``fazhi corpus add`` (recorded as
                                                                            failed, the batch goes on; ``--time-limit``):
                                                                            处理超时（超过 N 秒），已跳过
=========================  ===============================  ==============  ===============================================

``current()`` gives the values in force; ``describe()`` adds the variable and
the default for display.
"""
from __future__ import annotations

import importlib
from typing import Any

# name -> (module, attribute or callable name, environment variable, default, unit)
_LIMITS: dict[str, tuple[str, str, str, float, str]] = {
    "MAX_BYTES": ("fazhi.ingest", "DEFAULT_MAX_BYTES", "FAZHI_MAX_BYTES", 30 * 1024 * 1024, "bytes"),
    "MAX_PDF_PAGES": ("fazhi.ingest.pdf", "MAX_PDF_PAGES", "FAZHI_MAX_PDF_PAGES", 500, "pages"),
    "PDF_TIME_LIMIT": ("fazhi.ingest.pdf", "PDF_TIME_LIMIT", "FAZHI_PDF_TIME_LIMIT", 120, "seconds"),
    "MAX_DOCX_UNCOMPRESSED": ("fazhi.ingest.docx", "MAX_DOCX_UNCOMPRESSED", "FAZHI_MAX_DOCX_UNCOMPRESSED",
                              200 * 1024 * 1024, "bytes"),
    "MAX_HTML_DEPTH": ("fazhi.ingest.html", "MAX_HTML_DEPTH", "FAZHI_MAX_HTML_DEPTH", 200, "levels"),
    "MAX_OCR_PAGES": ("fazhi.ingest.ocr", "MAX_OCR_PAGES", "FAZHI_MAX_OCR_PAGES", 50, "pages"),
    "MAX_IMAGE_PIXELS": ("fazhi.ingest.ocr", "MAX_IMAGE_PIXELS", "FAZHI_MAX_IMAGE_PIXELS", 60_000_000, "pixels"),
    "TIME_LIMIT": ("fazhi.corpus.batch", "default_time_limit", "FAZHI_TIME_LIMIT", 60, "seconds"),
}

__all__ = list(_LIMITS) + ["current", "describe"]


def _value(name: str) -> Any:
    module, attr, *_ = _LIMITS[name]
    v = getattr(importlib.import_module(module), attr)
    return v() if callable(v) else v


def __getattr__(name: str) -> Any:
    if name in _LIMITS:
        return _value(name)
    raise AttributeError(f"module 'fazhi.settings' has no attribute {name!r}")


def current() -> dict[str, Any]:
    """{name: value in force} for every limit."""
    return {name: _value(name) for name in _LIMITS}


def describe() -> list[dict[str, Any]]:
    """One row per limit: name, environment variable, default, value in force, unit."""
    return [{"name": name, "env": env, "default": default, "value": _value(name), "unit": unit}
            for name, (_, _, env, default, unit) in _LIMITS.items()]
