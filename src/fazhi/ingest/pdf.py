"""PDF via pypdf: text per page, page furniture removed, visual lines re-joined.

- Encrypted files are opened with the empty password (the usual "no copying"
  protection of government PDFs); anything else -> ``IngestError``.
- More than ``MAX_PDF_PAGES`` pages -> ``IngestError``; (almost) no text on any
  page, or a text layer that does not decode -> OCR (``ocr.read_pdf``) when the
  OCR extra is installed, else ``IngestError`` 扫描件; pages without text among
  pages with text -> OCR'd in place with the extra, else a note.
- Page numbers ("— 1 —", "- 2 -", "第 3 页", "3/10", a bare number) at the top or
  bottom of a page, and a header/footer line repeated on most pages, are removed.
- CJK text in a PDF has a line break at the end of every visual line; lines are
  joined into paragraphs unless the line ends a sentence (。！？；：…), the next
  line starts with a heading number (一、 （一） 1. ① 第X章 …) or is indented, or
  the line is clearly shorter than a full line (a title) without ending in a comma.
  Where the text layer shows first-line indents consistently, a full-width line
  ending in 。 before an unindented line is joined (the sentence just ended at
  the margin).
- Kangxi radicals / CJK compatibility ideographs (common in PDFs made by some
  Word/WPS exports) are folded to normal ideographs; nothing else is NFKC-ed.
"""
from __future__ import annotations

import io
import os
import re
import time
import unicodedata
from collections import Counter

from . import IngestError, RawDoc, ocr, quiet

MAX_PDF_PAGES = int(os.environ.get("FAZHI_MAX_PDF_PAGES", 500))
PDF_TIME_LIMIT = float(os.environ.get("FAZHI_PDF_TIME_LIMIT", 120))

SCANNED_MSG = "扫描件，无可提取文本（PDF 没有文本层，需 OCR）"
CORRUPT_MSG = "PDF 文件已损坏或不完整，无法读取"
OCR_HINT = f"安装 OCR 组件（{ocr.INSTALL_HINT}）后可识别"

# sentence-final mark, optionally followed by closing quotes/brackets
_SENT_END = re.compile(r"[。！？；：!?;:][”’」』）)】》〕\"']*$")
_COMMA_END = re.compile(r"[，,、]$")
_HEADING_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、．.]"
    r"|[（(][一二三四五六七八九十百]+[）)]"
    r"|\d{1,2}[、．](?!\d)|\d{1,2}\.(?!\d)"
    r"|[（(]\d{1,2}[）)]"
    r"|[①-⑳⑴-⒇]"
    r"|第[一二三四五六七八九十百零〇\d]+[章节部分篇条])"
)
_DASH = "-—–－─━‐‑‒―~～_"
_PAGE_NO = re.compile(
    rf"^(?:[{_DASH}\s]*\d{{1,4}}[{_DASH}\s]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页"
    r"|(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}"
    r"|[\[【(（]\s*\d{1,4}\s*[\]】)）])$",
    re.I,
)
_FOLD = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")
_EDGE = " \t\r\f\v\u3000\xa0\u200b\ufeff"
# Latin words broken across visual lines get a space back; digits do not (a
# number wrapped at the margin, "…意见10" / "4条…", is one number)
_ASCII_WORD_END = re.compile(r"[A-Za-z]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z]")


def _quiet():
    return quiet("pypdf")


def fold_compat(text: str) -> str:
    """Kangxi radicals and CJK compatibility ideographs -> unified ideographs."""
    return _FOLD.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def _width(s: str) -> float:
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in s)


def _is_page_no(line: str) -> bool:
    s = line.strip(_EDGE)
    return bool(s) and bool(_PAGE_NO.match(s))


def _strip_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Remove page numbers and headers/footers repeated on most pages."""
    out = []
    for lines in pages:
        lines = [ln for ln in lines if ln.strip(_EDGE)]
        keep = []
        n = len(lines)
        for i, ln in enumerate(lines):
            edge = i < 3 or i >= n - 3
            if edge and _is_page_no(ln):
                continue
            keep.append(ln)
        out.append(keep)
    if len(out) >= 3:
        def key(s):
            return re.sub(r"\d+", "#", re.sub(r"\s+", "", s))
        counts: Counter[str] = Counter()
        for lines in out:
            if len(lines) >= 4:
                counts.update({key(lines[0]), key(lines[-1])})
        repeated = {k for k, c in counts.items() if c >= max(3, 0.6 * len(out)) and len(k) <= 60}
        if repeated:
            out = [[ln for i, ln in enumerate(lines)
                    if not (len(lines) >= 4 and i in (0, len(lines) - 1) and key(ln) in repeated)]
                   for lines in out]
    return out


def _typical_width(lines: list[str]) -> float:
    ws = sorted(_width(ln.strip(_EDGE)) for ln in lines if _width(ln.strip(_EDGE)) >= 4)
    if not ws:
        return 0.0
    if len(ws) < 4:
        return ws[-1]
    return ws[int(len(ws) * 0.75)]


def reflow(lines: list[str]) -> list[str]:
    """Join visual lines into paragraphs (see module docstring)."""
    raw = [ln.rstrip(_EDGE) for ln in lines]
    raw = [ln for ln in raw if ln.strip(_EDGE)]
    if not raw:
        return []
    typical = _typical_width(raw)
    indented = [ln[:1] in (" ", "\u3000", "\t", "\xa0") for ln in raw]
    use_indent = sum(indented) <= 0.6 * len(raw)

    def short(text: str) -> bool:
        return typical > 0 and _width(text) < 0.8 * typical

    # When the text layer shows first-line indents and they sit where paragraphs
    # end (after a sentence end or a short line), trust them: a full-width line
    # ending in 。 followed by an unindented line is then a sentence that happens
    # to end at the margin, not the end of the paragraph.
    starts = [i for i in range(1, len(raw)) if indented[i]]
    indent_reliable = use_indent and len(starts) >= 2 and sum(
        1 for i in starts
        if _SENT_END.search(raw[i - 1]) or short(raw[i - 1].strip(_EDGE))
    ) >= 0.8 * len(starts)
    paras: list[str] = []
    cur = ""
    for i, ln in enumerate(raw):
        text = ln.strip(_EDGE)
        if not cur:
            cur = text
        elif _ASCII_WORD_END.search(cur) and _ASCII_WORD_START.search(text):
            cur += " " + text
        else:
            cur += text
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        if nxt is None:
            break
        nxt_text = nxt.strip(_EDGE)
        sent_end = _SENT_END.search(text) is not None
        if indent_reliable and sent_end and not indented[i + 1]:
            sent_end = _width(text) < 0.95 * typical
        brk = (
            sent_end
            or _HEADING_START.match(nxt_text) is not None
            or (use_indent and indented[i + 1])
            or (short(text) and not _COMMA_END.search(text))
        )
        if brk:
            paras.append(cur)
            cur = ""
    if cur:
        paras.append(cur)
    return paras


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


def read(data: bytes) -> RawDoc:
    head = data[:1024]
    if b"%PDF-" not in head:
        raise IngestError("不是有效的 PDF 文件（缺少 PDF 文件头）")
    if b"%%EOF" not in data[-4096:] and b"%%EOF" not in data:
        # a download cut short; pypdf would try to rebuild it (slowly, partially).
        # (An earlier %%EOF means an incrementally updated file cut after a complete
        # revision, or junk appended after the end: let pypdf try.)
        raise IngestError(CORRUPT_MSG + "（文件末尾缺少结束标记，可能下载不完整）")

    from pypdf.errors import FileNotDecryptedError

    deadline = time.monotonic() + PDF_TIME_LIMIT
    notes: list[str] = []
    with _quiet():
        reader, encrypted = _open(data)
        try:
            n = len(reader.pages)
        except FileNotDecryptedError:
            raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
        except Exception:  # noqa: BLE001
            raise IngestError(CORRUPT_MSG) from None
        if n == 0:
            raise IngestError(CORRUPT_MSG + "（没有页面）")
        limit = MAX_PDF_PAGES
        if n > limit:
            raise IngestError(f"PDF 页数过多（{n} 页），超过上限 {limit} 页，未分析")
        pages: list[list[str]] = []
        failed: list[int] = []
        for i in range(n):
            if time.monotonic() > deadline:
                raise IngestError(f"PDF 解析超时（超过 {PDF_TIME_LIMIT:.0f} 秒），文件可能已损坏")
            try:
                t = reader.pages[i].extract_text() or ""
            except FileNotDecryptedError:
                raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
            except Exception:  # noqa: BLE001 - one broken page must not sink the file
                failed.append(i + 1)
                t = ""
            t = t.replace("\r\n", "\n").replace("\r", "\n")
            pages.append(fold_compat(t).split("\n"))

    if len(failed) == n:
        raise IngestError(CORRUPT_MSG)
    pages = _strip_furniture(pages)
    counts = [sum(1 for ln in p for c in ln if not c.isspace()) for p in pages]
    total = sum(counts)
    enc_note = ["PDF 设有加密保护，已按无密码方式打开"] if encrypted else []
    if total < max(20, 10 * n):
        if ocr.available():
            return ocr.read_pdf(data, notes=enc_note)
        raise IngestError(f"{SCANNED_MSG}；{OCR_HINT}")
    all_text = "\n".join("\n".join(p) for p in pages)
    if _garbled_ratio(all_text) > 0.3:
        if ocr.available():
            return ocr.read_pdf(data, notes=enc_note + ["PDF 中的文字无法正确解码（字体缺少字符映射表），已改用 OCR 识别"])
        raise IngestError(f"PDF 中的文字无法正确解码（字体缺少字符映射表），需 OCR；{OCR_HINT}")
    empty = [i + 1 for i, c in enumerate(counts) if c < 5 and (i + 1) not in failed]
    scanned: dict[int, list[str]] = {}
    if empty and ocr.available():
        try:
            scanned, _ = ocr.ocr_pdf_pages(data, [i - 1 for i in empty])
        except IngestError as e:  # too many scanned pages, or pdfium cannot open it: keep the text
            notes.append(f"无文本层的页面未能 OCR 识别：{e}")
            scanned = {}
        scanned = {i + 1: paras for i, paras in scanned.items() if paras}
        done = [i for i in empty if i in scanned]
        if done:
            notes.append(f"第{'、'.join(map(str, done))}页无文本层，已用 OCR 识别（{ocr.OCR_NOTE}）")
        empty = [i for i in empty if i not in scanned]
    if failed:
        notes.append(f"第{'、'.join(map(str, failed))}页文本提取失败，已跳过")
    if empty:
        notes.append(f"第{'、'.join(map(str, empty))}页无文本层（可能是扫描图片），未分析该页内容")
    notes += enc_note
    paras: list[str] = []
    run: list[str] = []
    for i, p in enumerate(pages, 1):
        if i in scanned:  # an OCR'd page: its own paragraphs, between the text pages
            paras += reflow(run) + scanned[i]
            run = []
        else:
            run += p
    paras += reflow(run)
    return RawDoc(text="\n".join(paras), format="pdf", encoding=None, notes=notes)
