"""Plain text and markdown: detect the encoding, decode, normalise line endings.

The encoding is found by charset-normalizer (a statistical detector), after three
exact checks that need no guessing: a byte-order mark, NUL bytes (which no
8-bit or multi-byte Chinese text contains), and strict UTF-8.  Best effort where a file is odd but
still text, each with a note (an info finding):

- NUL bytes nearly all at odd (or even) offsets: UTF-16 without a BOM (LE or BE);
- a handful of NUL bytes in otherwise plain text (at most 8, or 0.1 %): removed;
- lines in different encodings (a UTF-8 file with a pasted GBK part): decoded
  line by line, each line in the first of UTF-8 / GB18030 / Big5 that fits.

Only what none of these explain is "binary".  ``decode_text()`` is shared with
the HTML reader.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

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
# the other 256 - 60 Latin-1 bytes: deleted by ``bytes.translate``, what is left are the bad controls
_NOT_BAD = bytes(b for b in range(256) if not _BAD_CONTROLS.match(chr(b)))


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
    # the bad controls are Latin-1: the text's Latin-1 characters as bytes (the
    # others dropped), less the good ones - far faster than a regex over the text
    bad = len(text.encode("latin-1", "ignore").translate(None, _NOT_BAD))
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


@dataclass
class Decoded:
    text: str
    encoding: str
    lossy: bool = False                 # some bytes were replaced by U+FFFD
    notes: list[str] = field(default_factory=list)


_NUL_FEW = 8


def _utf16_guess(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the NUL bytes sit at one parity (ASCII letters,
    digits and line ends of UTF-16 text) and the decoded text reads as text."""
    n = len(data) - len(data) % 2
    even = data[0:n:2].count(0)
    odd = data[1:n:2].count(0)
    nul = even + odd
    if nul < 2:
        return None
    if odd >= 0.9 * nul:
        cand = "utf-16-le"
    elif even >= 0.9 * nul:
        cand = "utf-16-be"
    else:
        return None
    text = data[:n].decode(cand, errors="replace")
    good = sum(1 for c in text if c in "\n\r\t" or c.isprintable())
    return cand if good >= 0.97 * len(text) and text.count("\ufffd") <= max(2, len(text) // 200) else None


def _line_codec(line: bytes) -> str | None:
    """The first of UTF-8 / GB18030 / Big5 that decodes ``line`` (GB18030 and Big5 by
    which gives everyday characters, when both do)."""
    try:
        line.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    fits = []
    for enc in ("gb18030", "big5"):
        try:
            text = line.decode(codec_for(enc))
        except UnicodeDecodeError:
            continue
        fits.append((_common_ratio(text, enc), enc))
    return max(fits)[1] if fits else None


def _mixed(data: bytes) -> Decoded | None:
    """Decode line by line; None unless nearly every line fits one of the codecs."""
    lines = data.split(b"\n")
    used: Counter[str] = Counter()
    out = []
    bad = 0
    for ln in lines:
        enc = _line_codec(ln)
        if enc is None:
            # the line where one encoding gives way to the other: UTF-8 up to the first
            # byte that is not, the rest in the codec that fits it
            try:
                ln.decode("utf-8")
                cut = len(ln)
            except UnicodeDecodeError as e:
                cut = e.start
            rest = _line_codec(ln[cut:]) if cut else None
            if rest is not None and rest != "utf-8":
                used[rest] += 1
                out.append(ln[:cut].decode("utf-8") + ln[cut:].decode(codec_for(rest)))
                continue
            bad += 1
            out.append(ln.decode("utf-8", errors="replace"))
        else:
            used[enc] += 1
            out.append(ln.decode(codec_for(enc)))
    if bad > max(1, len(lines) // 50) or len(used) < 2:
        return None
    text = "\n".join(out)
    if not _plausible(text):
        return None
    names = "、".join({"utf-8": "UTF-8", "gb18030": "GB18030", "big5": "Big5"}[e] for e, _ in used.most_common())
    return Decoded(text, used.most_common(1)[0][0], bad > 0,
                   [f"文件混用了多种编码（{names}），已逐行识别"])


def decode_text(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``data``; ``encoding`` is a declared charset to try first (HTML meta).
    Raises ``IngestError`` for binary data (see the module docstring)."""
    if not _bom(data) and b"\x00" in data:
        u16 = _utf16_guess(data)
        if u16 is not None:
            n = len(data) - len(data) % 2
            text = data[:n].decode(u16, errors="replace")
            _check_text(text)
            return Decoded(text, "utf-16", "\ufffd" in text,
                           [f"文件为 UTF-16 编码但没有字节序标记（BOM），已按 {u16.upper()} 读取"])
        nul = data.count(b"\x00")
        if nul > max(_NUL_FEW, len(data) // 1000):
            raise IngestError(_BINARY_MSG)
        got = decode_text(data.replace(b"\x00", b""), encoding)
        got.notes.insert(0, f"文件中有 {nul} 个空字节（\\0），已删除")
        return got
    try:
        text, enc, lossy = decode(data, encoding)
    except IngestError:
        mixed = _mixed(data) if not _bom(data) else None
        if mixed is None:
            raise
        _check_text(mixed.text)
        return mixed
    if lossy and not _bom(data):
        mixed = _mixed(data)
        if mixed is not None and mixed.text.count("\ufffd") < text.count("\ufffd"):
            return mixed
    return Decoded(text, enc, lossy)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str, bool]:
    """Decode ``data`` strictly in one encoding; ``encoding`` is a declared charset to
    try first (HTML meta).

    Returns ``(text, reported_encoding, lossy)``; ``lossy`` is True when some bytes
    had to be replaced by U+FFFD. Raises ``IngestError`` for binary data (NUL bytes
    included: ``decode_text`` is the tolerant reader).
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
    try:
        # strict UTF-8 first: it needs no guessing (text in a legacy CJK codec is
        # practically never valid UTF-8) and costs microseconds, the detector ~0.2 ms
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _check_text(text)
        return text, "utf-8", False
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
    got = decode_text(data)
    text, enc, lossy = got.text, got.encoding, got.lossy
    notes: list[str] = list(got.notes)
    if lossy and not got.notes:
        notes.append(f"文件中有少量字节无法按 {enc} 编码解码，已替换为“\ufffd”")
    text = normalise_newlines(text)
    if text.startswith("\ufeff"):
        text = text[1:]
    return RawDoc(text=text, format="md" if fmt == "md" else "txt", encoding=enc, notes=notes)
