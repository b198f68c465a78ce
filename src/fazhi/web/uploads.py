"""Uploads: the type by content (not by name), the size limit, storage under
generated names, analysis and storing in the corpus.

``sniff(data, name)`` decides the format from the bytes:

- ``%PDF-`` in the first KB -> pdf;
- a zip (``PK\\x03\\x04``) holding ``word/document.xml`` -> docx (other zips,
  xlsx/pptx, old .doc/.xls and known binary formats are refused by name);
- otherwise the bytes must decode as text (UTF-8/16, GB18030, Big5; no NUL
  or control-character noise): HTML when it starts like a page
  (``<!DOCTYPE html``, ``<html``, ``<head``, ``<body``), else txt/md.

A report whose text merely contains a tag (``<script>…``) is still text.
Every refusal is a ``UploadError`` with a Chinese message and an HTTP status.
The file name the user gave is only shown (reduced to its last component,
control characters removed); kept files are named ``<sha256>.<format>``.
"""
from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import re
import threading
import unicodedata
import zipfile
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..corpus import db as dbm
from ..corpus import store
from .. import sandbox

FORMATS = ("txt", "md", "html", "docx", "pdf")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_CTRL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_HTML_START = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                         re.I | re.S)
_HTML_ANY = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)

BINARY_MAGIC = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Office 文件（.doc/.xls），请在 Word 中另存为 .docx 或 PDF 后上传"),
    (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
    (b"\x7fELF", "可执行程序"), (b"\x1f\x8b", "gzip 压缩包"), (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"), (b"{\\rtf", "RTF 文档，请另存为 .docx 或 PDF 后上传"),
    (b"II*\x00", "TIFF 图片"), (b"MM\x00*", "TIFF 图片"), (b"OggS", "音频文件"), (b"ID3", "音频文件"),
]

SUPPORTED = "支持纯文本（.txt/.md）、网页（.html）、Word（.docx）和 PDF（扫描件经 OCR 识别）"


class UploadError(Exception):
    """A refused upload; ``message`` is Chinese, ``status`` the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def too_large_message(max_bytes: int) -> str:
    return f"文件过大：超过上限 {max_bytes / 1048576:g} MB，未上传"


def safe_name(name: str | None) -> str:
    """The last component of the name the user gave, printable, at most 200 characters."""
    s = unicodedata.normalize("NFC", str(name or ""))
    s = s.replace("\\", "/").rsplit("/", 1)[-1]
    s = _CTRL.sub("", s).strip().strip(".") or "未命名"
    if len(s) > 200:
        stem, dot, ext = s.rpartition(".")
        s = (stem[:190] + dot + ext[:9]) if dot and len(ext) <= 9 else s[:200]
    return s


def _decodes(sample: bytes, final: bool) -> str | None:
    """The codec the sample decodes with, if any."""
    if sample.startswith(codecs.BOM_UTF8):
        cands = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        cands = ["utf-16"]
    else:
        cands = ["utf-8", "gb18030", "big5"]
    for enc in cands:
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=final)
            return enc
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def sniff(data: bytes, name: str = "") -> str:
    """The format of ``data`` by its content: txt, md, html, docx or pdf. Raises UploadError."""
    shown = safe_name(name)
    if not data.strip():
        raise UploadError("文件为空，没有可分析的内容")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise UploadError(f"“{shown}”是损坏的压缩文件（zip/docx），无法读取") from None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            raise UploadError(f"“{shown}”是 Excel 表格，不是报告。{SUPPORTED}")
        if "ppt/presentation.xml" in names:
            raise UploadError(f"“{shown}”是 PowerPoint 演示文稿，不是报告。{SUPPORTED}")
        raise UploadError(f"“{shown}”是 zip 压缩包而不是 Word 文档，请解压后逐个上传。{SUPPORTED}")
    sample = data[:65536]
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for magic, what in BINARY_MAGIC:
        if sample.startswith(magic):
            raise UploadError(f"“{shown}”的内容是{what}，不是报告文本。{SUPPORTED}"
                              if "请" not in what else f"“{shown}”是{what}")
    if not utf16:
        ctrl = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
        if b"\x00" in sample or ctrl > max(2, len(sample) // 200):
            raise UploadError(f"“{shown}”的内容不是文本（二进制或已损坏的文件），文件名与内容不符。{SUPPORTED}")
    enc = _decodes(sample, final=len(data) <= len(sample))
    if enc is None:
        raise UploadError(f"“{shown}”的内容无法识别为文本（不是 UTF-8、GB18030 或 Big5 编码），"
                          f"可能是二进制文件。{SUPPORTED}")
    text = codecs.getincrementaldecoder(enc)(errors="replace").decode(sample[:8192], final=False)
    if _HTML_START.match(text) or _HTML_ANY.search(text[:4096]):
        return "html"
    return "md" if Path(shown).suffix.lower() in (".md", ".markdown") else "txt"


# ------------------------------------------------------------------ storage
def stored_path(data_dir: Path, sha256: str, fmt: str) -> Path:
    """Where a kept upload lives: a name made from its hash, never from the user."""
    if not _SHA.match(sha256 or "") or fmt not in FORMATS:
        raise ValueError("bad stored file key")
    return Path(data_dir) / "uploads" / sha256[:2] / f"{sha256}.{fmt}"


def keep_file(data_dir: Path, sha256: str, fmt: str, data: bytes) -> tuple[Path, bool]:
    """(path, whether this call created it); written to a temporary name and renamed, so a
    full disk leaves no half file.  A refusal of the disk is an UploadError in Chinese."""
    p = stored_path(data_dir, sha256, fmt)
    if p.exists():
        return p, False
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise UploadError(_disk_message(e), 507 if e.errno in (errno.ENOSPC, errno.EDQUOT) else 503) from None
    return p, True


def _disk_message(e: OSError) -> str:
    from ..corpus.faults import os_reason

    return (f"{os_reason(e)}：上传的文件无法保存到数据目录，报告未入库。"
            f"已入库的报告不受影响；问题解决后请重新上传。")


def forget_file(data_dir: Path, sha256: str, fmt: str) -> None:
    try:
        stored_path(data_dir, sha256, fmt).unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


# ------------------------------------------------------------------ analyse and store
_sqlite_write = threading.Lock()  # one writer at a time on SQLite (PostgreSQL relies on the unique key)
_inflight: dict[tuple, Future] = {}  # (database, sha256) -> the upload of the same bytes being analysed now
_inflight_lock = threading.Lock()
WAIT_FOR_TWIN = 600  # seconds a duplicate waits for the same file's analysis


@dataclass
class Outcome:
    report_id: int
    duplicate: bool
    sha256: str
    format: str
    name: str


def existing(engine: Engine, sha256: str):
    """(id, format, withdrawn_at) of the stored report with this sha256, or None."""
    with engine.connect() as c:
        return c.execute(select(dbm.reports.c.id, dbm.reports.c.format, dbm.reports.c.withdrawn_at)
                         .where(dbm.reports.c.sha256 == sha256)).first()


def _refuse_withdrawn(row, shown: str) -> None:
    if row is not None and row.withdrawn_at:
        raise UploadError(f"“{shown}”是已撤回（删除）的报告（编号 {row.id}），未重新入库；"
                          f"如需恢复，请管理员运行 fazhi corpus restore-withdrawn {row.id}", 409)


def process(engine: Engine, data: bytes, name: str, *, max_bytes: int, data_dir: Path | None = None,
            keep: bool = True, on_stored=None, received_on: str | None = None) -> Outcome:
    """Analyse one upload and store it; a file already stored (same sha256) gives the stored id.
    ``on_stored(conn, report_id)`` runs in the storing transaction (the audit record);
    ``received_on``: the office's receipt date (YYYY-MM-DD) recorded with a new report.
    The corpus's rule set (``fazhi rules attach``) checks it."""
    shown = safe_name(name)
    if len(data) > max_bytes:
        raise UploadError(too_large_message(max_bytes), 413)
    sha = hashlib.sha256(data).hexdigest()
    row = existing(engine, sha)
    _refuse_withdrawn(row, shown)
    if row is not None:
        return Outcome(row.id, True, sha, row.format, shown)
    # the same bytes uploaded at the same time (a double click, a script retrying) are analysed once
    key = (str(engine.url), sha)
    with _inflight_lock:
        twin = _inflight.get(key)
        if twin is None:
            mine = _inflight[key] = Future()
    if twin is not None:
        out = twin.result(timeout=WAIT_FOR_TWIN)  # raises the twin's UploadError
        return Outcome(out.report_id, True, sha, out.format, shown)
    try:
        out = _analyse_and_store(engine, data, shown, sha, max_bytes=max_bytes, data_dir=data_dir, keep=keep,
                                 on_stored=on_stored, received_on=received_on)
    except BaseException as e:
        mine.set_exception(e)
        raise
    else:
        mine.set_result(out)
        return out
    finally:
        with _inflight_lock:
            _inflight.pop(key, None)


def _analyse_and_store(engine: Engine, data: bytes, shown: str, sha: str, *, max_bytes: int,
                       data_dir: Path | None, keep: bool, on_stored=None, received_on: str | None = None) -> Outcome:
    from ..corpus import rulesets

    fmt = sniff(data, shown)
    sets = rulesets.attached(engine)
    # analysed in a worker process (memory cap, deadline, at most WORKERS at once)
    res = sandbox.shared().run(sandbox.Job(name=shown, data=data, fmt=fmt, sha256=sha, max_bytes=max_bytes,
                                           ruleset=rulesets.choice(sets)))
    if res.kind == "memory":
        raise UploadError(res.error, 413)
    if not res.ok:
        _record_failure(engine, sha, shown, res.error)
        raise UploadError(f"“{shown}”无法分析：{res.error}")
    report = res.value
    rows = store.rows_of(report)
    rep = rows["report"]
    rep.update(rules_id=rulesets.rules_id(sets, rep.get("province"), rep.get("city"), rep.get("county")),
               received_on=received_on)
    kept = None
    if keep and data_dir is not None:
        path, created = keep_file(data_dir, sha, fmt, data)
        kept = path if created else None
    try:
        if dbm.is_sqlite(engine):
            with _sqlite_write, engine.begin() as c:
                rid = store.insert(c, rows)
                if rid is not None and on_stored is not None:
                    on_stored(c, rid)
        else:
            with engine.begin() as c:
                rid = store.insert(c, rows)
                if rid is not None and on_stored is not None:
                    on_stored(c, rid)
    except IntegrityError:  # the same file stored by a concurrent upload
        rid = None
    except BaseException:
        if kept is not None:   # not stored: no orphan file (a disk-full or read-only database)
            kept.unlink(missing_ok=True)
        raise
    if rid is None:
        row = existing(engine, sha)
        if row is None:
            raise UploadError("保存失败，请重试", 500)
        return Outcome(row.id, True, sha, row.format, shown)
    return Outcome(rid, False, sha, fmt, shown)


def _record_failure(engine: Engine, sha: str, name: str, error: str) -> None:
    """Best effort: the user is told why the file cannot be analysed even when the
    database cannot take the record (a full disk)."""
    from ..corpus.faults import classify

    try:
        if dbm.is_sqlite(engine):
            with _sqlite_write, engine.begin() as c:
                store.record_failure(c, sha, name, error)
        else:
            with engine.begin() as c:
                store.record_failure(c, sha, name, error)
    except IntegrityError:
        pass
    except Exception as e:
        if classify(e) is None:
            raise


# ------------------------------------------------------------------ one upload of a request
async def upload_request(request, user, data: bytes, name: str, received_on: str | None = None):
    """Analyse and store one upload in the bounded upload pool, with its audit record."""
    from starlette.concurrency import run_in_threadpool

    from . import audit, auth

    s = request.app.state.settings
    eng = request.app.state.engine
    who = {"actor": user.username, "actor_id": user.id, "address": auth.client_address(request)}
    shown = safe_name(name)

    def on_stored(conn, rid):
        audit.record(conn, "upload", target=f"报告 {rid}：{shown}", detail=f"{len(data)} 字节", **who)

    try:
        out = await request.app.state.upload_pool.run(
            process, eng, data, name, max_bytes=s.max_bytes, data_dir=s.data_dir, keep=s.keep_files,
            on_stored=on_stored, received_on=received_on, weight=len(data))
    except UploadError as e:
        if e.status < 500:
            await run_in_threadpool(auth.audit_quietly, eng, "upload.refused", target=shown,
                                    detail=e.message, ok=False, **who)
        raise
    except Exception as e:   # the database refused the write: a Chinese fault, not a 500
        from ..corpus import db as dbm
        from ..corpus.faults import fault_of

        fault = fault_of(e, dbm.describe(eng))
        if fault is None:
            raise
        raise fault from e
    if out.duplicate:
        await run_in_threadpool(auth.audit_quietly, eng, "upload", target=f"报告 {out.report_id}：{shown}",
                                detail="同一文件已在库中，未重复入库", **who)
    return out


def received_date(value) -> str | None:
    """``submissions.parse_received`` with its error as an ``UploadError``."""
    from ..corpus.submissions import SubmissionError, parse_received

    try:
        return parse_received(value)
    except SubmissionError as e:
        raise UploadError(str(e)) from None
