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
# category Cc (U+0000-001F, U+007F-009F) less the controls that plain text uses
_BAD_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


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
    bad = len(_BAD_CONTROLS.findall(text))
    if "\x00" in text or bad > max(2, len(text) // 100):
        raise IngestError(_BINARY_MSG)


def _detect(data: bytes) -> str | None:
    """charset-normalizer's verdict in our naming, or None."""
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
        return None
    if best is None or not best.encoding:
        return None
    return canonical_encoding(best.encoding)


def detect(data: bytes) -> str:
    """Return our name of the encoding of ``data`` (see ``_NAMES``). Raises ``IngestError``."""
    bom = _bom(data)
    if bom:
        return bom[0]
    if b"\x00" in data:
        raise IngestError(_BINARY_MSG)
    enc = _detect(data)
    if enc is None:
        raise IngestError(_BINARY_MSG)
    return enc


def _common_ratio(text: str, enc: str) -> float:
    """Share of the Han characters that are everyday characters of ``enc``'s script.

    Mojibake (Big5 read as GBK or the reverse) is made of rare characters.
    """
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 0.0
    common = 0
    for c in han:
        try:
            if enc == "gb18030":
                b = c.encode("gb2312")
                common += 0xB0 <= b[0] <= 0xD7  # GB2312 level 1: the 3755 most frequent
            else:
                b = c.encode("big5")
                common += 0xA440 <= (b[0] << 8 | b[1]) <= 0xC67E  # Big5 frequently used
        except UnicodeEncodeError:
            pass
    return common / len(han)


def _plausible(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for c in text if c == "\ufffd" or unicodedata.category(c) in ("Cc", "Co", "Cn")
              and c not in _OK_CONTROLS)
    return bad <= max(2, len(text) // 200)


def _tolerant(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """The detector gave up (a stray byte, a cut-off last character): take the
    declared or a Chinese codec if it decodes all but a handful of bytes."""
    if declared:
        try:
            text = data.decode(codec_for(declared), errors="replace")
        except LookupError:
            text = ""
        if _plausible(text):
            return text, declared
    text = data.decode("utf-8", errors="replace")
    if _plausible(text):
        return text, "utf-8"
    scored = []
    for enc in ("gb18030", "big5"):
        text = data.decode(codec_for(enc), errors="replace")
        if _plausible(text):
            scored.append((_common_ratio(text, enc), enc, text))
    if scored:
        ratio, enc, text = max(scored)
        if ratio >= 0.5:
            return text, enc
    return None


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str, bool]:
    """Decode ``data``; ``encoding`` is a declared charset to try first (HTML meta).

    Returns ``(text, reported_encoding, lossy)``; ``lossy`` is True when some bytes
    had to be replaced by U+FFFD. Raises ``IngestError`` for binary data.
    """
    bom = _bom(data)
    if bom:
        name, n = bom
        reported = re.sub(r"-(le|be)$", "", name)
        try:
            text, lossy = data[n:].decode(name), False
        except UnicodeDecodeError:
            text, lossy = data[n:].decode(name, errors="replace"), True
            if not _plausible(text):
                raise IngestError(f"文件以 {reported} 字节序标记开头，但内容无法按此编码解码") from None
        _check_text(text)
        return text, reported, lossy
    if b"\x00" in data:
        raise IngestError(_BINARY_MSG)
    declared = canonical_encoding(encoding) if encoding else None
    if declared and declared.startswith(("utf-16", "utf-32")):
        declared = None  # without a BOM and without NUL bytes it cannot be UTF-16
    if declared:
        try:
            text = data.decode(codec_for(declared))
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration lies (it often does); detect instead
        else:
            _check_text(text)
            return text, declared, False
    enc = _detect(data)
    if enc is not None:
        try:
            text = data.decode(codec_for(enc))
        except (UnicodeDecodeError, LookupError):
            enc = None
        else:
            _check_text(text)
            return text, enc, False
    _check_text_bytes(data)
    got = _tolerant(data, declared)
    if got is None:
        raise IngestError(_BINARY_MSG)
    text, enc = got
    _check_text(text)
    return text, enc, True


def _check_text_bytes(data: bytes) -> None:
    """Binary data has many C0 control bytes; text has (almost) none."""
    ctrl = sum(1 for b in data if b < 0x20 and b not in (9, 10, 11, 12, 13))
    if ctrl > max(2, len(data) // 100):
        raise IngestError(_BINARY_MSG)


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
