"""Backup and restore of an SQLite corpus database (the SQLite online backup API).

``backup(db, out)`` copies a live database — readers and the one writer may
keep working — page by page into a temporary file beside ``out``, checks the
copy (``PRAGMA quick_check``), makes it a single self-contained file (journal
mode DELETE) and only then renames it to ``out``.  It needs read access only,
so it works on read-only media.

``restore(src, db)`` checks the backup (an SQLite file that passes
``quick_check`` and holds a fazhi corpus), keeps the current database as
``<db>.before-restore-<time>`` (nothing is ever overwritten without a copy),
then copies the backup into the database with the same API, so a running
``fazhi serve`` sees the restored data; a database too damaged to open is
replaced as a file instead.  The schema is then migrated to this version.

PostgreSQL has its own tools: ``BackupError`` carries the pg_dump / pg_restore
command lines in Chinese.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from . import db as dbm
from .faults import CORRUPT, DatabaseFault, classify

SQLITE_MAGIC = b"SQLite format 3\x00"
PAGES_PER_STEP = 1024


class BackupError(ValueError):
    """A refused backup or restore; ``str(err)`` is Chinese."""


@dataclass
class Outcome:
    path: str
    reports: int
    bytes: int
    safety_copy: str | None = None


def _pg_hint(db, what: str) -> BackupError:
    url = dbm.describe(db)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    return BackupError(
        f"PostgreSQL 数据库请用 PostgreSQL 自带的工具{what}：\n"
        f"  备份：pg_dump -Fc -d '{plain}' -f fazhi.dump\n"
        f"  恢复：pg_restore --clean --if-exists -d '{plain}' fazhi.dump\n"
        f"（密码可放在 ~/.pgpass 或环境变量 PGPASSWORD 中）")


def _ro_connect(path: str) -> sqlite3.Connection:
    mode = dbm.open_mode(path)
    if mode == dbm.RW:
        return sqlite3.connect(path, timeout=30)
    return sqlite3.connect(dbm._uri(path, mode), uri=True, timeout=30)


def _quick_check(conn: sqlite3.Connection, where: str) -> None:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.Error as e:
        raise (classify(e, where) or DatabaseFault(CORRUPT, where, str(e))) from e
    if rows != ["ok"]:
        raise DatabaseFault(CORRUPT, where, "完整性检查未通过：" + "；".join(map(str, rows[:3]))[:300])


def _reports(conn: sqlite3.Connection) -> int:
    """Reports counted (current versions, migration 0005); every row in an older database."""
    try:
        return conn.execute("SELECT count(*) FROM reports WHERE is_current").fetchone()[0]
    except sqlite3.OperationalError:   # no such column: a database from before submissions
        return conn.execute("SELECT count(*) FROM reports").fetchone()[0]


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_into(src: sqlite3.Connection, dst_path: str) -> None:
    """src -> a new single-file database at dst_path."""
    dst = sqlite3.connect(dst_path)
    try:
        src.backup(dst, pages=PAGES_PER_STEP)
        dst.execute("PRAGMA journal_mode=DELETE")
        _quick_check(dst, dst_path)
    finally:
        dst.close()
    _fsync(dst_path)


def backup(db, out: str | Path, *, force: bool = False) -> Outcome:
    """Copy the database ``db`` to ``out`` (a new file unless ``force``)."""
    path = dbm.sqlite_path(db)
    if path is None:
        raise _pg_hint(db, "备份")
    if not os.path.isfile(path):
        raise BackupError(f"数据库文件不存在：{path}")
    out = Path(out)
    if out.exists() and not force:
        raise BackupError(f"目标文件已存在：{out}（为免覆盖，请换一个文件名，或加 --force）")
    if out.resolve() == Path(path).resolve():
        raise BackupError("备份文件不能就是数据库本身")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    src = _ro_connect(path)
    try:
        _quick_check(src, path)
        _copy_into(src, str(tmp))
        os.replace(tmp, out)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        f = classify(e, str(out.parent)) if not isinstance(e, DatabaseFault) else None
        if f is not None:
            raise f from e
        raise
    finally:
        src.close()
    c = sqlite3.connect(dbm._uri(str(out), dbm.RO), uri=True)
    try:
        n = _reports(c)
    finally:
        c.close()
    return Outcome(str(out), n, out.stat().st_size)


def check_backup(src: str | Path) -> int:
    """The number of reports in a backup file; raises BackupError when it is not a usable backup."""
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"备份文件不存在：{src}")
    with open(src, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"“{src.name}”不是 SQLite 数据库文件，不能用于恢复")
    conn = _ro_connect(str(src))
    try:
        try:
            _quick_check(conn, str(src))
        except DatabaseFault as e:
            raise BackupError(f"备份文件已损坏，不能用于恢复：{src}（{e.reason or ''}）") from None
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"reports", "alembic_version"} <= names:
            raise BackupError(f"“{src.name}”不是 fazhi 报告库的备份（没有 reports 表）")
        return _reports(conn)
    finally:
        conn.close()


def current_reports(path: str) -> int | None:
    """Reports in the database now (None: missing, empty or unreadable)."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return None
    try:
        conn = _ro_connect(path)
        try:
            return _reports(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _safety_copy(path: str) -> str:
    """Keep the current database before it is replaced: an online copy when it reads,
    else the raw files (with its -wal) as they are."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    keep = f"{path}.before-restore-{stamp}"
    k = 1
    while os.path.exists(keep):
        k += 1
        keep = f"{path}.before-restore-{stamp}-{k}"
    try:
        src = sqlite3.connect(path, timeout=30)
        try:
            _copy_into(src, keep)
        finally:
            src.close()
    except (sqlite3.Error, DatabaseFault):
        if os.path.exists(keep):
            os.unlink(keep)
        shutil.copy2(path, keep)
        if os.path.exists(path + "-wal"):
            shutil.copy2(path + "-wal", keep + "-wal")
    return keep


def restore(src: str | Path, db) -> Outcome:
    """Replace the database ``db`` by the backup ``src`` (the current one is kept beside it)."""
    path = dbm.sqlite_path(db)
    if path is None:
        raise _pg_hint(db, "恢复")
    n = check_backup(src)
    if Path(src).resolve() == Path(path).resolve():
        raise BackupError("备份文件就是数据库本身，无需恢复")
    if dbm.open_mode(path) != dbm.RW:
        raise DatabaseFault("read_only", path)
    keep = None
    try:
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            keep = _safety_copy(path)
        source = _ro_connect(str(src))
        try:
            try:
                dst = sqlite3.connect(path, timeout=30)
                try:
                    dst.execute("PRAGMA busy_timeout=30000")
                    source.backup(dst, pages=PAGES_PER_STEP)   # live connections see the restored pages
                finally:
                    dst.close()
            except sqlite3.DatabaseError as e:
                if (classify(e, path) or DatabaseFault("error")).kind != CORRUPT:
                    raise
                # too damaged to open as a database (it is kept above): replace the file
                tmp = f"{path}.{os.getpid()}.restore.tmp"
                _copy_into(source, tmp)
                for suffix in ("-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.unlink(path + suffix)
                os.replace(tmp, path)
        finally:
            source.close()
    except BaseException as e:
        f = classify(e, path) if not isinstance(e, DatabaseFault) else None
        if f is not None:
            raise f from e
        raise
    dbm._checked.clear()
    eng = dbm.connect(path)          # checked and migrated to this version of fazhi
    with eng.begin() as conn:        # another database for every process that read this one
        dbm.renew_token(conn)
    from . import store

    got = store.count(eng)[0]
    return Outcome(path, got if got is not None else n, os.path.getsize(path), keep)
