"""Plain text and markdown: detect the encoding, decode, normalise line endings.

The encoding is found by charset-normalizer (a statistical detector), after two
exact checks that need no guessing: a byte-order mark, and NUL bytes (which no
8-bit or multi-byte Chinese text contains, so without a UTF-16/32 BOM they mean
binary data).  ``decode()`` is shared with the HTML reader.
"""
from __future__ import annotations

import codecs
import re
import unicodedata

from . import IngestError, RawDoc

# charset-normalizer / Python codec names -> the name we report (and decode with)
_NAMES = {
    "ascii": "utf-8",  # ASCII is a subset of UTF-8; report the family
    "utf_8": "utf-8",
    "utf-8": "utf-8",
    "utf_8_sig": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "hz": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5",
    "cp950": "big5",  # Microsoft's Big5; decode with cp950 below, it is the superset
    "big5hkscs": "big5hkscs",
    "utf_16": "utf-16",
    "utf_16_le": "utf-16-le",
    "utf_16_be": "utf-16-be",
    "utf_32": "utf-32",
    "utf_32_le": "utf-32-le",
    "utf_32_be": "utf-32-be",
}
_CHINESE = {"utf-8", "gb18030", "big5", "big5hkscs", "utf-16", "utf-16-le", "utf-16-be",
            "utf-32", "utf-32-le", "utf-32-be"}
_CHINESE_CODECS = ("utf_8", "gb18030", "big5", "cp950")
# the codec actually used to decode a reported name (supersets where one exists)
_CODEC = {"big5": "cp950", "utf-8": "utf-8-sig"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: FF FE 00 00 starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BINARY_MSG = "无法识别文件编码，可能是二进制文件而非文本"
# control characters other than tab/newline/CR/form feed/vertical tab
_OK_CONTROLS = set("\t\n\r\x0b\x0c")


def canonical_encoding(name: str | None) -> str | None:
    """Map a codec/charset label (``GB2312``, ``utf8``, ``Big5``…) to our reported name."""
    if not name:
        return None
    key = name.strip().lower().replace("-", "_")
    if key in ("utf8", "utf_8"):
        key = "utf_8"
    if key in ("x_gbk", "gb_2312", "gb2312_80", "euc_cn", "x_euc_cn", "windows_936", "ms936", "csgb2312"):
        key = "gbk"
    if key in ("x_big5", "big_5", "cn_big5", "csbig5", "windows_950"):
        key = "big5"
    if key in _NAMES:
        return _NAMES[key]
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def codec_for(encoding: str) -> str:
    return _CODEC.get(encoding, encoding)


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def _check_text(text: str) -> None:
    """Reject decoded text that is mostly control characters (binary data)."""
    if not text:
        return
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in _OK_CONTROLS)
    if "\x00" in text or bad > max(2, len(text) // 100):
        raise IngestError(_BINARY_MSG)


def detect(data: bytes) -> str:
    """Return our name of the encoding of ``data`` (see ``_NAMES``). Raises ``IngestError``."""
    bom = _bom(data)
    if bom:
        return bom[0]
    if b"\x00" in data:
        raise IngestError(_BINARY_MSG)
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(data).best()
        if best is not None and canonical_encoding(best.encoding) not in _CHINESE:
            # Short Chinese texts are ambiguous between CJK codecs (a few GBK bytes
            # are also valid cp949/Shift-JIS); these are Chinese reports, so prefer
            # a Chinese codec when one decodes the bytes plausibly too.
            zh = charset_normalizer.from_bytes(data, cp_isolation=list(_CHINESE_CODECS)).best()
            if zh is not None:
                best = zh
    except Exception:  # noqa: BLE001 - a detector crash is "cannot detect"
        best = None
    if best is None or not best.encoding:
        raise IngestError(_BINARY_MSG)
    enc = canonical_encoding(best.encoding)
    if enc is None:
        raise IngestError(_BINARY_MSG)
    return enc


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str, bool]:
    """Decode ``data``; ``encoding`` is a declared charset to try first (HTML meta).

    Returns ``(text, reported_encoding, lossy)``; ``lossy`` is True when some bytes
    had to be replaced by U+FFFD. Raises ``IngestError`` for binary data.
    """
    bom = _bom(data)
    if bom:
        name, n = bom
        try:
            text = data[n:].decode(name)
        except (UnicodeDecodeError, LookupError):
            raise IngestError(f"文件声明为 {name} 编码（字节序标记），但内容无法按此编码解码") from None
        _check_text(text)
        return text, re.sub(r"-(le|be)$", "", name), False
    declared = canonical_encoding(encoding) if encoding else None
    if declared and not declared.startswith(("utf-16", "utf-32")):
        try:
            text = data.decode(codec_for(declared))
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration lies (it often does); detect instead
        else:
            _check_text(text)
            return text, declared, False
    enc = detect(data)
    lossy = False
    try:
        text = data.decode(codec_for(enc))
    except (UnicodeDecodeError, LookupError):
        lossy = True
        # the detector picks the most plausible codec even when a few bytes are wrong
        try:
            text = data.decode(codec_for(enc), errors="replace")
        except LookupError:
            raise IngestError(_BINARY_MSG) from None
    _check_text(text)
    return text, enc, lossy


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")


def read(data: bytes, fmt: str = "txt") -> RawDoc:
    text, enc, lossy = decode(data)
    notes: list[str] = []
    if lossy:
        notes.append(f"文件中有少量字节无法按 {enc} 编码解码，已替换为“\ufffd”")
    text = normalise_newlines(text)
    if text.startswith("\ufeff"):
        text = text[1:]
    return RawDoc(text=text, format="md" if fmt == "md" else "txt", encoding=enc, notes=notes)
