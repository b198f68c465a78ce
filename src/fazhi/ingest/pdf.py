"""PDF via pypdf: text per page, page furniture removed, visual lines re-joined.

- The file must be a PDF by content (``ingest.is_pdf``: ``%PDF-`` in the first KB
  and not another format's magic bytes, so a PNG carrying the marker is refused).
- Encrypted files are opened with the empty password (the usual "no copying"
  protection of government PDFs); anything else -> ``IngestError``.
- More than ``MAX_PDF_PAGES`` pages -> ``IngestError``.  Text extraction stops
  once the text is longer than ``MAX_CHARS`` (a note says so).
- Scans: when no page has a text layer (or the layer does not decode), the whole
  file goes to OCR (``ocr.read_pdf``) when the OCR extra is installed, else
  ``IngestError`` 扫描件.  Pages without text among pages with text keep their
  place: they are OCR'd (at most ``MAX_OCR_PAGES``; pages with no image at all
  are blank and skipped), else a note.  A file that looks damaged (cut short: no
  ``%%EOF`` near its end, pages that fail to extract, an xref pypdf had to
  rebuild) is never sent to OCR: the text that extracts is analysed, the rest
  is noted.
- Page numbers ("— 1 —", "- 2 -", "第 3 页", "3/10", a bare number) at the top or
  bottom of a page, and a header/footer line repeated on most pages (two pages
  of two suffice), are removed.
- Lines are joined into paragraphs by ``layout.reflow`` with each line's font
  size (pypdf's text visitor), so a large title wrapped over lines is one line;
  the space pypdf puts between digits and Han where the font changes
  (``2022 年``) is removed; a date banner stays a line of its own.
- Kangxi radicals / CJK compatibility ideographs (common in PDFs made by some
  Word/WPS exports) are folded to normal ideographs; nothing else is NFKC-ed.
"""
from __future__ import annotations

import io
import logging
import math
import re
import time
import unicodedata
from collections import Counter

from .. import settings
from . import IngestError, RawDoc, is_pdf, layout, ocr, quiet
from .layout import EDGE, fold_compat, is_page_no, reflow  # noqa: F401 - re-exported for callers

SCANNED_MSG = "扫描件，无可提取文本（PDF 没有文本层，需 OCR）"
CORRUPT_MSG = "PDF 文件已损坏或不完整，无法读取"
OCR_HINT = f"安装 OCR 组件（{ocr.INSTALL_HINT}）后可识别"
_TEXT_PAGE = 20  # non-space characters that make a page a text page


def _quiet():
    return quiet("pypdf")


class _Warnings(logging.Handler):
    """pypdf's complaints while reading (a rebuilt xref means a damaged file)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        if len(self.messages) < 50:
            try:
                self.messages.append(record.getMessage())
            except Exception:  # noqa: BLE001
                pass


def _strip_furniture(pages: list[list]) -> list[list]:
    """Remove page numbers and headers/footers repeated on most pages.
    A page is a list of lines; a line is a string or a (text, size) pair."""
    def text(ln):
        return ln if isinstance(ln, str) else ln[0]

    out = []
    for lines in pages:
        lines = [ln for ln in lines if text(ln).strip(EDGE)]
        n = len(lines)
        out.append([ln for i, ln in enumerate(lines) if not ((i < 3 or i >= n - 3) and is_page_no(text(ln)))])
    if len(out) >= 2:
        def key(s):
            return re.sub(r"\d+", "#", re.sub(r"\s+", "", s))
        counts: Counter[str] = Counter()
        for lines in out:
            if len(lines) >= 4:
                counts.update({key(text(lines[0])), key(text(lines[-1]))})
        need = max(2, math.ceil(0.6 * len(out)))
        repeated = {k for k, c in counts.items() if c >= need and len(k) <= 60}
        if repeated:
            out = [[ln for i, ln in enumerate(lines)
                    if not (len(lines) >= 4 and i in (0, len(lines) - 1) and key(text(ln)) in repeated)]
                   for lines in out]
    return out


def _garbled_ratio(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    bad = sum(1 for c in chars
              if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cc", "Cs", "Cn"))
    return bad / len(chars)


def _open(data: bytes):
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except FileNotDecryptedError:
        raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
    except DependencyError:
        raise IngestError("PDF 已加密（AES），缺少解密组件（Python 包 cryptography），无法读取") from None
    except Exception:  # noqa: BLE001 - PdfReadError, ValueError, KeyError, RecursionError, …
        raise IngestError(CORRUPT_MSG) from None
    try:
        encrypted = reader.is_encrypted
    except Exception:  # noqa: BLE001
        raise IngestError(CORRUPT_MSG) from None
    if encrypted:
        try:
            ok = reader.decrypt("")
        except DependencyError:
            raise IngestError("PDF 已加密（AES），缺少解密组件（Python 包 cryptography），无法读取") from None
        except Exception:  # noqa: BLE001
            raise IngestError("PDF 已加密，无法解密读取") from None
        if not ok:
            raise IngestError("PDF 已加密，需要密码才能打开，无法读取")
    return reader, encrypted


def _scale(m) -> float:
    try:
        return math.sqrt(abs(float(m[0]) * float(m[3]) - float(m[1]) * float(m[2])))
    except Exception:  # noqa: BLE001 - a malformed matrix
        return 1.0


def _page_lines(page) -> list[tuple[str, float | None]]:
    """The page's visual lines with the font size of each (the size most of its characters have)."""
    chunks: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text:
            try:
                size = float(font_size or 0) * _scale(tm) * _scale(cm)
            except Exception:  # noqa: BLE001
                size = 0.0
            chunks.append((text, size if 0.5 < size < 2000 else 0.0))

    page.extract_text(visitor_text=visit)
    lines: list[tuple[str, float | None]] = []
    buf: list[str] = []
    weight: Counter[float] = Counter()
    for text, size in chunks:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                lines.append(("".join(buf), weight.most_common(1)[0][0] if weight else None))
                buf, weight = [], Counter()
            if piece:
                buf.append(piece)
                n = len(piece) - piece.count(" ")
                if n and size:
                    weight[round(size, 1)] += n
    if buf:
        lines.append(("".join(buf), weight.most_common(1)[0][0] if weight else None))
    return [(layout.close_digit_han_spaces(fold_compat(t)), s) for t, s in lines]


def _has_content(page) -> bool:
    """Whether a page without text draws something worth OCR: an image or form
    (a scanned page), or a long drawing (text turned into outlines).  A blank page,
    or one with a rule or a box, does not."""
    try:
        res = page.get("/Resources")
        res = res.get_object() if res is not None else None
        xobj = res.get("/XObject") if res is not None else None
        if xobj is not None and xobj.get_object():
            return True
        contents = page.get_contents()
        return contents is not None and len(contents.get_data()) > 2000
    except Exception:  # noqa: BLE001 - unknown: let OCR look
        return True


def read(data: bytes) -> RawDoc:
    if not is_pdf(data):
        raise IngestError("不是有效的 PDF 文件（缺少 PDF 文件头）")
    if b"%%EOF" not in data[-4096:] and b"%%EOF" not in data:
        # a download cut short; pypdf would try to rebuild it (slowly, partially).
        raise IngestError(CORRUPT_MSG + "（文件末尾缺少结束标记，可能下载不完整）")
    # an earlier %%EOF only: an incrementally updated or linearized file cut after a
    # complete revision, or junk appended after the end -- read what extracts, never OCR it
    damaged = b"%%EOF" not in data[-4096:]

    from pypdf.errors import FileNotDecryptedError

    time_limit = settings.get("PDF_TIME_LIMIT")
    deadline = time.monotonic() + time_limit
    max_chars = settings.get("MAX_CHARS")
    notes: list[str] = []
    warn = _Warnings()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(warn)
    propagate = pypdf_log.propagate
    try:
        with _quiet():
            pypdf_log.setLevel(logging.WARNING)  # to the handler only (it does not propagate past quiet's level)
            pypdf_log.propagate = False
            reader, encrypted = _open(data)
            try:
                n = len(reader.pages)
            except FileNotDecryptedError:
                raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
            except Exception:  # noqa: BLE001
                raise IngestError(CORRUPT_MSG) from None
            if n == 0:
                raise IngestError(CORRUPT_MSG + "（没有页面）")
            limit = settings.get("MAX_PDF_PAGES")
            if n > limit:
                raise IngestError(f"PDF 页数过多（{n} 页），超过上限 {limit} 页，未分析")
            pages: list[list[tuple[str, float | None]]] = []
            failed: list[int] = []
            chars = 0
            stopped = None
            for i in range(n):
                if time.monotonic() > deadline:
                    raise IngestError(f"PDF 解析超时（超过 {time_limit:.0f} 秒），文件可能已损坏")
                try:
                    lines = _page_lines(reader.pages[i])
                except FileNotDecryptedError:
                    raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
                except Exception:  # noqa: BLE001 - one broken page must not sink the file
                    failed.append(i + 1)
                    lines = []
                pages.append(lines)
                chars += sum(len(t) for t, _ in lines)
                if chars > max_chars and i + 1 < n:
                    stopped = i + 1
                    break
            blank = {i + 1 for i, p in enumerate(pages) if not p and not _has_content(reader.pages[i])}
    finally:
        pypdf_log.removeHandler(warn)
        pypdf_log.propagate = propagate
    if any("rebuild" in m.lower() or "xref" in m.lower() for m in warn.messages) or failed:
        damaged = True

    if len(failed) == n:
        raise IngestError(CORRUPT_MSG)
    pages = _strip_furniture(pages)
    counts = [sum(1 for t, _ in p for c in t if not c.isspace()) for p in pages]
    enc_note = ["PDF 设有加密保护，已按无密码方式打开"] if encrypted else []
    text_pages = sum(1 for c in counts if c >= _TEXT_PAGE)
    if text_pages == 0:
        if damaged and failed:
            raise IngestError(CORRUPT_MSG)
        if ocr.available():
            return ocr.read_pdf(data, notes=enc_note)
        raise IngestError(f"{SCANNED_MSG}；{OCR_HINT}")
    all_text = "\n".join(t for p in pages for t, _ in p)
    if _garbled_ratio(all_text) > 0.3:
        if ocr.available() and not damaged:
            return ocr.read_pdf(data, notes=enc_note + ["PDF 中的文字无法正确解码（字体缺少字符映射表），已改用 OCR 识别"])
        raise IngestError(f"PDF 中的文字无法正确解码（字体缺少字符映射表），需 OCR；{OCR_HINT}")
    empty = [i + 1 for i, c in enumerate(counts) if c < 5 and (i + 1) not in failed and (i + 1) not in blank]
    scanned: dict[int, list[str]] = {}
    if empty and ocr.available() and not damaged:
        todo, over = empty[: settings.get("MAX_OCR_PAGES")], empty[settings.get("MAX_OCR_PAGES"):]
        try:
            scanned, _ = ocr.ocr_pdf_pages(data, [i - 1 for i in todo])
        except IngestError as e:  # pdfium cannot open it: keep the text
            notes.append(f"无文本层的页面未能 OCR 识别：{e}")
            scanned = {}
        scanned = {i + 1: paras for i, paras in scanned.items() if paras}
        done = [i for i in todo if i in scanned]
        if done:
            notes.append(f"第{_pages(done)}页无文本层，已用 OCR 识别（{ocr.OCR_NOTE}）")
        empty = [i for i in todo if i not in scanned and i not in blank] + over
        if over:
            notes.append(f"无文本层的页面过多，只识别了前 {len(todo)} 页（上限 {settings.get('MAX_OCR_PAGES')} 页）")
    if failed:
        notes.append(f"第{_pages(failed)}页文本提取失败，已跳过")
    if empty:
        notes.append(f"第{_pages(empty)}页无文本层（可能是扫描图片），未分析该页内容")
    if damaged and (failed or empty):
        notes.append("PDF 文件可能不完整或已损坏，只分析了能读出的文字")
    if stopped:
        notes.append(f"PDF 文字过多（超过上限 {max_chars:,} 字），只读取了前 {stopped} 页（共 {n} 页）")
    notes += enc_note
    paras: list[str] = []
    run: list[tuple[str, float | None]] = []

    def flush():
        lines, sizes = layout.split_banner([t for t, _ in run], [s for _, s in run])
        paras.extend(reflow(lines, sizes))
        run.clear()

    for i, p in enumerate(pages, 1):
        if i in scanned:  # an OCR'd page: its own paragraphs, between the text pages
            flush()
            paras.extend(scanned[i])
        else:
            run.extend(p)
    flush()
    return RawDoc(text="\n".join(paras), format="pdf", encoding=None, notes=notes)


def _pages(nums: list[int]) -> str:
    """Page numbers for a note: 第1、2、3页; long lists shortened."""
    if len(nums) <= 12:
        return "、".join(map(str, nums))
    return "、".join(map(str, nums[:10])) + f"等 {len(nums)} "
