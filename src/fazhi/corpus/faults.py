"""Database faults in Chinese: a full disk, a read-only database, a corrupt file,
a busy or unreachable server.

``classify(exc)`` maps an exception from SQLite (``sqlite3.Error``, by its
result code), PostgreSQL (psycopg, by SQLSTATE), SQLAlchemy (its ``.orig``)
or the operating system (``OSError`` by errno) to a ``DatabaseFault`` — or
returns None for anything else, which stays a bug to be seen.

Every command of the CLI and every page of the web application turns a
``DatabaseFault`` into its Chinese message (exit status 3; HTTP 507 for a full
disk, 503 otherwise) instead of a traceback.  The messages say what happened,
that what was committed before is intact, and what to do.

This module imports nothing heavy: the CLI's error handler uses it.
"""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3

EXIT_STATUS = 3

DISK_FULL = "disk_full"
READ_ONLY = "read_only"
CORRUPT = "corrupt"
BUSY = "busy"
UNAVAILABLE = "unavailable"
ERROR = "error"

HTTP_STATUS = {DISK_FULL: 507, READ_ONLY: 503, CORRUPT: 503, BUSY: 503, UNAVAILABLE: 503, ERROR: 500}

_LOW_SPACE = 1 << 20   # below this many free bytes an I/O error is taken for a full disk


class DatabaseFault(RuntimeError):
    """A database fault; ``str(fault)`` is the Chinese message, ``kind`` one of the constants above."""

    def __init__(self, kind: str, where: str | None = None, reason: str | None = None):
        self.kind, self.where, self.reason = kind, where, reason
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return HTTP_STATUS.get(self.kind, 500)

    @property
    def title(self) -> str:
        return {DISK_FULL: "磁盘已满", READ_ONLY: "数据库只读", CORRUPT: "数据库已损坏（请用备份恢复）",
                BUSY: "数据库繁忙", UNAVAILABLE: "无法连接数据库"}.get(self.kind, "数据库错误")

    @property
    def message(self) -> str:
        w = f"（{self.where}）" if self.where else ""
        why = f"：{self.reason}" if self.reason else ""
        if self.kind == DISK_FULL:
            return (f"磁盘已满：数据库无法写入{w}。已经保存的数据完好，本次未保存的内容没有写入；"
                    f"请腾出磁盘空间后重试。")
        if self.kind == READ_ONLY:
            return (f"数据库只读：无法写入{w}{why}。文件或所在文件夹没有写权限，或位于只读介质上；"
                    f"已经保存的数据完好，查询、统计、导出等只读操作仍可使用。")
        if self.kind == CORRUPT:
            return (f"数据库已损坏（请用备份恢复）{w}{why}。本次没有写入任何数据。"
                    f"恢复：fazhi corpus restore 备份文件 --db 数据库")
        if self.kind == BUSY:
            return f"数据库繁忙：另一个程序长时间占用数据库{w}，请稍后重试。"
        if self.kind == UNAVAILABLE:
            if self.where and "://" not in self.where:
                return f"无法打开数据库文件{w}{why}。请确认路径和权限正确。"
            return f"无法连接数据库{w}{why}。请确认数据库服务器已启动、地址和权限正确。"
        return f"数据库错误{w}{why}"


def _free_bytes(where: str | None) -> int | None:
    if not where or "://" in where:
        return None
    d = os.path.dirname(os.path.abspath(where)) or "."
    try:
        return shutil.disk_usage(d).free
    except OSError:
        return None


def _writable_dir(where: str | None) -> bool:
    if not where or "://" in where:
        return True
    d = os.path.dirname(os.path.abspath(where)) or "."
    return os.access(d, os.W_OK)


def _sqlite_kind(e: sqlite3.Error, where: str | None) -> str | None:
    code = getattr(e, "sqlite_errorcode", None)
    msg = str(e).lower()
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == 13 or "database or disk is full" in msg:           # SQLITE_FULL
        return DISK_FULL
    if primary == 8 or "readonly database" in msg:                   # SQLITE_READONLY
        return READ_ONLY
    if primary in (11, 26) or "malformed" in msg or "not a database" in msg:  # CORRUPT, NOTADB
        return CORRUPT
    if primary in (5, 6) or "database is locked" in msg:             # BUSY, LOCKED
        return BUSY
    if primary in (10, 14) or "disk i/o error" in msg or "unable to open database" in msg:  # IOERR, CANTOPEN
        free = _free_bytes(where)
        if free is not None and free < _LOW_SPACE:
            return DISK_FULL
        if not _writable_dir(where):
            return READ_ONLY
        return UNAVAILABLE if primary == 14 or "unable to open" in msg else ERROR
    return None


_SQLITE_REASONS = {"file is not a database": "文件不是有效的数据库（文件头已损坏）",
                   "database disk image is malformed": "数据库文件的结构已损坏",
                   "attempt to write a readonly database": "数据库以只读方式打开",
                   "unable to open database file": "无法打开数据库文件",
                   "disk i/o error": "磁盘读写错误"}


def _sqlite_reason(e: sqlite3.Error) -> str:
    msg = str(e).strip()
    return _SQLITE_REASONS.get(msg.lower(), msg)


_PG_STATES = {"53100": DISK_FULL, "25006": READ_ONLY, "XX001": CORRUPT, "XX002": CORRUPT,
              "55P03": BUSY, "40P01": BUSY, "57P01": UNAVAILABLE, "57P02": UNAVAILABLE, "57P03": UNAVAILABLE}


def _os_kind(e: OSError) -> str | None:
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return DISK_FULL
    if e.errno in (errno.EROFS,):
        return READ_ONLY
    return None


def classify(exc: BaseException, where: str | None = None) -> DatabaseFault | None:
    """The DatabaseFault behind ``exc`` (following SQLAlchemy's ``.orig`` and ``raise … from``), or None."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, DatabaseFault):
            if where and not e.where:
                e.where = where
            return e
        if isinstance(e, sqlite3.Error):
            kind = _sqlite_kind(e, where)
            if kind:
                return DatabaseFault(kind, where, None if kind in (DISK_FULL, BUSY) else _sqlite_reason(e))
        state = getattr(e, "sqlstate", None)
        if isinstance(state, str) and state:
            kind = _PG_STATES.get(state) or (UNAVAILABLE if state.startswith("08") else None)
            if kind:
                return DatabaseFault(kind, where, _first_line(e))
        if type(e).__module__.startswith("psycopg") and type(e).__name__ == "OperationalError" and not state:
            return DatabaseFault(UNAVAILABLE, where, _first_line(e))   # connection refused, no such host…
        if isinstance(e, OSError) and not isinstance(e, sqlite3.Error):
            kind = _os_kind(e)
            if kind:
                return DatabaseFault(kind, where or getattr(e, "filename", None))
        nxt = getattr(e, "orig", None)
        e = nxt if isinstance(nxt, BaseException) else e.__cause__
    return None


def _first_line(e: BaseException) -> str:
    s = str(e).strip().splitlines()
    return s[0][:200] if s else type(e).__name__


def is_database_error(exc: BaseException) -> bool:
    """True for SQLAlchemy/DBAPI errors (classified or not): the CLI and web wrap them in Chinese."""
    mod = type(exc).__module__
    return isinstance(exc, sqlite3.Error) or mod.startswith("sqlalchemy") or mod.startswith("psycopg")


def fault_of(exc: BaseException, where: str | None = None) -> DatabaseFault | None:
    """``classify`` and, for an unclassified database error, a generic Chinese ``ERROR`` fault."""
    f = classify(exc, where)
    if f is None and is_database_error(exc):
        orig = getattr(exc, "orig", None) or exc
        f = DatabaseFault(ERROR, where, f"{type(orig).__name__}: {_first_line(orig)}")
    return f


def os_reason(e: OSError) -> str:
    """An operating-system error in Chinese (for 无法写出 …：<reason>)."""
    return {errno.ENOSPC: "磁盘已满", getattr(errno, "EDQUOT", -1): "超出磁盘配额", errno.EROFS: "只读文件系统",
            errno.EACCES: "没有写权限", errno.EPERM: "没有权限", errno.ENOENT: "文件夹不存在",
            errno.EISDIR: "是文件夹而不是文件", errno.ENOTDIR: "路径中有一部分不是文件夹",
            errno.ENAMETOOLONG: "文件名过长"}.get(e.errno, e.strerror or str(e))
