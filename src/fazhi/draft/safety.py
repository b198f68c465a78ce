"""Never overwrite a person's work: what fazhi may replace without asking.

A file fazhi writes (the draft .docx, the annotated copy of ``check --annotate``)
carries a mark in its core properties (``dc:identifier``): ``fazhi:<kind>:`` and
the sha256 of its ``word/document.xml`` as written.  Writing again to that path
is safe only while the file is still exactly that: once the clerk has opened and
saved it in Word or WPS, the document XML changes and the file is theirs.

``check_target(path, force)`` raises ``DraftError`` (Chinese) when ``path``
exists and is not an untouched fazhi file — an edited draft, any other document,
a Markdown file.  A PDF fazhi made (its keywords carry the mark) may be replaced:
it cannot have been edited in an office suite.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from .compose import DraftError

MARK = "fazhi"


def document_digest(docx_bytes: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(docx_bytes)) as zf:
            return hashlib.sha256(zf.read("word/document.xml")).hexdigest()
    except (zipfile.BadZipFile, KeyError, OSError):
        return None


def stamp(doc, kind: str) -> None:
    """Mark a python-docx ``Document`` as written by fazhi (before the digest is known)."""
    doc.core_properties.identifier = f"{MARK}:{kind}:"


def save_stamped(doc, path: Path, kind: str) -> Path:
    """Save ``doc`` with the mark and the digest of its document part."""
    from docx.opc.oxml import serialize_part_xml

    blob = serialize_part_xml(doc.element)
    doc.core_properties.identifier = f"{MARK}:{kind}:{hashlib.sha256(blob).hexdigest()}"
    doc.save(str(path))
    return path


def _mark_of(path: Path) -> tuple[str, str] | None:
    """(kind, digest) of a fazhi docx, or None."""
    try:
        import docx

        ident = (docx.Document(str(path)).core_properties.identifier or "").strip()
    except Exception:  # noqa: BLE001 - not a docx: no mark
        return None
    parts = ident.split(":")
    if len(parts) == 3 and parts[0] == MARK:
        return parts[1], parts[2]
    return None


def untouched(path: Path) -> bool:
    """Is ``path`` a file fazhi wrote and nobody has changed since?"""
    p = Path(path)
    if p.suffix.lower() == ".pdf":
        try:
            from pypdf import PdfReader

            info = PdfReader(str(p)).metadata or {}
            # LibreOffice carries the .docx keywords over (splitting "fazhi:draft" at the colon)
            return MARK in str(info.get("/Keywords") or "") and "LibreOffice" in str(info.get("/Producer") or "")
        except Exception:  # noqa: BLE001
            return False
    mark = _mark_of(p)
    if mark is None:
        return False
    return document_digest(p.read_bytes()) == mark[1]


def check_target(path, force: bool = False, what: str = "初稿") -> None:
    """Refuse (``DraftError``) to replace a file that is a person's work."""
    p = Path(path)
    if force or not p.exists():
        return
    if p.is_dir():
        raise DraftError(f"{p} 是目录，请指定文件名")
    if untouched(p):
        return
    mark = _mark_of(p)
    if mark is not None:
        why = f"{p.name} 是 fazhi 生成的{what}，但生成后已被修改（如在 Word/WPS 中编辑并保存过）"
    else:
        why = f"{p.name} 已存在，且不是 fazhi 生成后未改动的文件"
    raise DraftError(f"{why}；为免覆盖已编辑的内容，未写出。请换一个文件名，或确认可以覆盖后加 --force")
