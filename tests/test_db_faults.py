"""Database faults from the command line, for real: a full disk (a small tmpfs),
read-only media (a tmpfs remounted read-only, and a read-only file and folder for
an ordinary user), a corrupt file, two first opens at once, backup and restore.

Each case asserts the Chinese message, the exit status 3 (no traceback) and that
what was committed before is intact.  The mounts need root (``make test`` in CI
runs as root); without it these tests skip on a developer's machine and FAIL
under CI=true, like the PostgreSQL and browser tests.
"""
from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parent / "data" / "dev"
DEV_FILES = sorted(DEV.glob("*.txt"))   # the reports (the folder also holds gold/*.json annotations,
N_DEV = len(DEV_FILES)                  # which `corpus add DEV` would list as unsupported files)


# root without the capabilities that bypass file permissions: read-only files and
# folders are read-only for it, as for any ordinary account
UNPRIVILEGED = ["setpriv", "--inh-caps=-dac_override,-dac_read_search,-fowner",
                "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def fazhi(*args, unprivileged: bool = False, timeout: float = 120, env: dict | None = None):
    """Run the CLI in a fresh process; returns CompletedProcess (text)."""
    e = {**os.environ, **(env or {})}
    e.pop("FAZHI_DB", None)
    cmd = [sys.executable, "-c", "from fazhi.cli import main; main()", *map(str, args)]
    return subprocess.run((UNPRIVILEGED if unprivileged else []) + cmd, capture_output=True, text=True,
                          timeout=timeout, env=e)


def no_traceback(r) -> None:
    assert "Traceback" not in r.stderr and "Error:" not in r.stderr.replace("错误：", ""), r.stderr


def variants(d: Path, n: int, tag: str = "") -> list[Path]:
    """n distinct reports (the dev seeds with a line of their own)."""
    d.mkdir(parents=True, exist_ok=True)
    seeds = sorted(DEV.glob("seed-*.txt"))
    out = []
    for k in range(n):
        p = d / f"v{tag}{k:03d}.txt"
        p.write_text(seeds[k % len(seeds)].read_text(encoding="utf-8") + f"\n（编号 {tag}{k} {uuid.uuid4().hex}）\n",
                     encoding="utf-8")
        out.append(p)
    return out


def rows(db: Path) -> tuple[int, list[str], str]:
    """(reports, sorted sha256, integrity_check) read straight from the file."""
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        n = c.execute("SELECT count(*) FROM reports").fetchone()[0]
        shas = sorted(r[0] for r in c.execute("SELECT sha256 FROM reports"))
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        c.close()
    return n, shas, ok


def sha_file(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _need_root():
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the database-fault tests need root (tmpfs mounts) in CI")
        pytest.skip("needs root for tmpfs mounts")


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    _need_root()
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {r.stderr}")
        pytest.skip(f"cannot mount a tmpfs: {r.stderr}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(where: Path, leave: int = 0) -> Path:
    """Fill the file system of ``where`` until at most ``leave`` bytes are free
    (``leave=0``: until the file system refuses another byte)."""
    filler = where / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for block in (65536, 4096):
            try:
                while shutil.disk_usage(where).free > leave + block:
                    os.write(fd, b"\0" * block)
            except OSError:
                break
        if leave == 0:
            try:
                while True:
                    os.write(fd, b"\0" * 512)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


# ------------------------------------------------------------------ full disk
def test_full_disk_stops_corpus_add_in_chinese_and_keeps_what_was_committed(tmp_path):
    with tmpfs(tmp_path / "disk", "24m") as disk:
        db = disk / "corpus.db"
        r = fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1")
        assert r.returncode == 0, r.stderr
        n0, shas0, ok = rows(db)
        assert n0 == N_DEV and ok == "ok"
        more = variants(tmp_path / "more", 60)
        filler = fill(disk, leave=400_000)           # room for a few commits, not for 60 reports
        r = fazhi("corpus", "add", tmp_path / "more", "--db", db, "--no-progress", "--workers", "1",
                  "--commit-every", "5")
        assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
        no_traceback(r)
        assert "磁盘已满" in r.stderr and "已保存" in r.stderr and "重新运行同一命令" in r.stderr, r.stderr
        saved = int(r.stderr.split("已保存 ")[1].split(" 份")[0])
        assert 0 <= saved < 60
        # a read-only command still works on the full disk
        r = fazhi("corpus", "info", "--db", db)
        # the variants are the seeds with a line of their own: more files of the same reports
        assert r.returncode == 0 and f"{N_DEV} 份" in r.stdout and f"{n0 + saved} 个" in r.stdout, (r.stdout, r.stderr)
        n1, shas1, ok = rows(db)
        assert ok == "ok" and n1 == n0 + saved and set(shas0) <= set(shas1)
        # nothing was recorded as "failed": the rest is added when there is room again
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        assert c.execute("SELECT count(*) FROM failures").fetchone()[0] == 0
        c.close()
        filler.unlink()
        r = fazhi("corpus", "add", tmp_path / "more", "--db", db, "--no-progress", "--workers", "1")
        assert r.returncode == 0, r.stderr
        assert f"新增 {60 - saved} 份" in r.stdout
        n2, shas2, ok = rows(db)
        assert n2 == N_DEV + 60 and ok == "ok"
        assert {hashlib.sha256(p.read_bytes()).hexdigest() for p in more} <= set(shas2)


def test_full_disk_before_the_first_write(tmp_path):
    """A completely full disk: a new database cannot even be created — Chinese, exit 3."""
    with tmpfs(tmp_path / "disk", "2m") as disk:
        fill(disk, leave=0)
        r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", disk / "new.db", "--no-progress")
        assert r.returncode == 3, (r.stdout, r.stderr)
        no_traceback(r)
        assert "磁盘已满" in r.stderr


def test_export_to_a_full_disk_leaves_no_half_file(tmp_path):
    db = tmp_path / "corpus.db"
    assert fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1").returncode == 0
    with tmpfs(tmp_path / "disk", "1m") as disk:
        old = disk / "汇总.xlsx"
        old.write_bytes(b"an older workbook")
        fill(disk, leave=0)
        for name in ("汇总.xlsx", "一览.csv"):
            r = fazhi("corpus", "export", disk / name, "--db", db)
            assert r.returncode == 2, (r.stdout, r.stderr)
            no_traceback(r)
            assert "磁盘已满" in r.stderr and "未受影响" in r.stderr, r.stderr
        assert old.read_bytes() == b"an older workbook"
        assert sorted(p.name for p in disk.iterdir()) == ["filler.bin", "汇总.xlsx"]


# ------------------------------------------------------------------ read-only media
def test_read_only_media_reads_work_writes_refused(tmp_path):
    with tmpfs(tmp_path / "media", "32m") as media:
        db = media / "corpus.db"
        r = fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1")
        assert r.returncode == 0, r.stderr
        r = fazhi("user", "add", "张三", "--password", "zhangsan-pw-1", "--db", db)
        assert r.returncode == 0, r.stderr
        assert not (media / "corpus.db-wal").exists()     # closed cleanly: no -wal/-shm to share
        before = sha_file(db)
        subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
        try:
            out = tmp_path / "out"
            out.mkdir()
            for args, want in [
                (("corpus", "info"), f"{N_DEV} 份"),
                (("search", "行政复议"), "行政复议"),
                (("corpus", "failures"), "没有失败记录"),
                (("corpus", "stats", "--format", "json"), f'"reports": {N_DEV}'),
                (("corpus", "table", "--indicator", "mediation.cases"), "排名"),
                (("corpus", "copies"), ""),
                (("corpus", "export", out / "汇总.xlsx"), f"已导出 {N_DEV} 份报告"),
                (("corpus", "backup", out / "backup.db"), f"已备份 {N_DEV} 份报告"),
                (("user", "list"), "张三"),
                (("user", "audit"), "添加用户"),
            ]:
                r = fazhi(*args, "--db", db)
                assert r.returncode == 0, (args, r.stdout, r.stderr)
                no_traceback(r)
                assert want in r.stdout, (args, r.stdout)
            for args in [("corpus", "add", DEV / "seed-000.txt", "--no-progress"),
                         ("user", "add", "李四", "--password", "lisi-pw-12"),
                         ("user", "passwd", "张三", "--password", "zhangsan-pw-2"),
                         ("corpus", "restore", out / "backup.db", "--yes")]:
                r = fazhi(*args, "--db", db)
                assert r.returncode == 3, (args, r.returncode, r.stdout, r.stderr)
                no_traceback(r)
                assert "数据库只读" in r.stderr and "只读操作仍可使用" in r.stderr, (args, r.stderr)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(media)], check=True)
        assert sha_file(db) == before
        assert rows(out / "backup.db")[0] == N_DEV


def test_read_only_file_and_folder_for_an_ordinary_user(tmp_path):
    """chmod-style read-only: a process without the capabilities that let root ignore permissions."""
    _need_root()
    if not shutil.which("setpriv"):
        pytest.fail("setpriv (util-linux) is needed to drop root's permission override")
    d = tmp_path / "shared"
    d.mkdir()
    db = d / "corpus.db"
    r = fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1")
    assert r.returncode == 0, r.stderr
    os.chmod(db, 0o444)
    os.chmod(d, 0o555)               # neither the file nor its folder is writable
    before = sha_file(db)
    try:
        r = fazhi("corpus", "info", "--db", db, unprivileged=True)
        assert r.returncode == 0, r.stderr
        assert f"{N_DEV} 份" in r.stdout
        r = fazhi("search", "普法", "--db", db, unprivileged=True)
        assert r.returncode == 0 and "普法" in r.stdout, r.stderr
        r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", db, "--no-progress", unprivileged=True)
        assert r.returncode == 3 and "数据库只读" in r.stderr, (r.stdout, r.stderr)
        no_traceback(r)
    finally:
        os.chmod(d, 0o755)
    # a writable folder but a read-only file
    d2 = tmp_path / "open"
    d2.mkdir()
    db2 = d2 / "corpus.db"
    shutil.copy(db, db2)
    os.chmod(db2, 0o444)
    r = fazhi("corpus", "stats", "--db", db2, unprivileged=True)
    assert r.returncode == 0, r.stderr
    r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", db2, "--no-progress", unprivileged=True)
    assert r.returncode == 3 and "数据库只读" in r.stderr, r.stderr
    assert sha_file(db) == before and sha_file(db2) == before


# ------------------------------------------------------------------ corrupt
def _corrupt_middle_page(db: Path) -> None:
    """Overwrite the cells of a table leaf page from the middle of the file (the bytes at a
    fixed offset may be the free gap of a leaf holding a few large rows, which no check reads)."""
    raw = db.read_bytes()
    n = len(raw) // 4096
    page = next(k for k in list(range(n // 2, n)) + list(range(1, n // 2))
                if raw[k * 4096] == 0x0D and int.from_bytes(raw[k * 4096 + 3:k * 4096 + 5], "big") >= 4)
    start = int.from_bytes(raw[page * 4096 + 5:page * 4096 + 7], "big") or 4096
    with open(db, "r+b") as fh:
        fh.seek(page * 4096 + min(start, 4096 - 900))
        fh.write(bytes((i * 37 + 11) % 256 for i in range(900)))


def test_corrupt_database_is_refused_before_anything_is_written(tmp_path):
    db = tmp_path / "corpus.db"
    r = fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1")
    assert r.returncode == 0, r.stderr
    r = fazhi("corpus", "backup", tmp_path / "backup.db", "--db", db)
    assert r.returncode == 0, r.stderr
    _corrupt_middle_page(db)
    c = sqlite3.connect(db)
    assert c.execute("PRAGMA quick_check").fetchone()[0] != "ok"   # the damage is real
    c.close()
    before = sha_file(db)
    more = variants(tmp_path / "more", 5)
    r = fazhi("corpus", "add", *more, "--db", db, "--no-progress", "--workers", "1")
    assert r.returncode == 3, (r.stdout, r.stderr)
    no_traceback(r)
    assert "数据库已损坏（请用备份恢复）" in r.stderr and "fazhi corpus restore" in r.stderr, r.stderr
    assert "新增" not in r.stdout
    r = fazhi("user", "add", "王五", "--password", "wangwu-pw-1", "--db", db)
    assert r.returncode == 3 and "数据库已损坏" in r.stderr
    assert sha_file(db) == before                       # nothing written after the failed check
    # restore from the backup: the damaged file is kept beside it
    r = fazhi("corpus", "restore", tmp_path / "backup.db", "--db", db, "--yes")
    assert r.returncode == 0, r.stderr
    assert "原数据库已另存为" in r.stdout
    n, _, ok = rows(db)
    assert n == N_DEV and ok == "ok"
    kept = list(tmp_path.glob("corpus.db.before-restore-*"))
    assert len(kept) == 1 and sha_file(kept[0]) == before
    r = fazhi("corpus", "add", *more, "--db", db, "--no-progress", "--workers", "1")
    assert r.returncode == 0 and "新增 5 份" in r.stdout


def test_not_a_database_in_chinese_for_every_kind_of_command(tmp_path):
    db = tmp_path / "corpus.db"
    r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", db, "--no-progress")
    assert r.returncode == 0
    with open(db, "r+b") as fh:
        fh.write(b"this is not an SQLite header at all")
    for args in [("corpus", "info"), ("search", "法治"), ("corpus", "export", tmp_path / "x.xlsx"),
                 ("corpus", "add", DEV / "seed-002.txt", "--no-progress"), ("user", "list")]:
        r = fazhi(*args, "--db", db)
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        no_traceback(r)
        assert "数据库已损坏（请用备份恢复）" in r.stderr, (args, r.stderr)
    assert not (tmp_path / "x.xlsx").exists()


# ------------------------------------------------------------------ concurrent first open
def _open(path, start, q):
    from fazhi.corpus import db as dbm

    while time.time() < start:
        pass
    try:
        dbm.connect(path)
        q.put("ok")
    except Exception as e:   # the assertion below shows it
        q.put(f"{type(e).__name__}: {e}"[:300])


def test_concurrent_first_open_does_not_race_the_migration(tmp_path):
    ctx = mp.get_context("fork")
    for k in range(6):
        path = str(tmp_path / f"new{k}.db")
        q = ctx.Queue()
        start = time.time() + 0.3
        ps = [ctx.Process(target=_open, args=(path, start, q)) for _ in range(4)]
        for p in ps:
            p.start()
        for p in ps:
            p.join(60)
        got = [q.get(timeout=5) for _ in ps]
        assert got == ["ok"] * 4, (k, got)
        c = sqlite3.connect(path)
        assert c.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
        c.close()
    # and two real batches into one new database
    a, b = variants(tmp_path / "a", 6, "a"), variants(tmp_path / "b", 6, "b")
    db = tmp_path / "two.db"
    procs = [subprocess.Popen([sys.executable, "-c", "from fazhi.cli import main; main()", "corpus", "add",
                               str(tmp_path / x), "--db", str(db), "--no-progress", "--workers", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for x in ("a", "b")]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert rows(db)[0] == len(a) + len(b)


# ------------------------------------------------------------------ backup / restore
def test_backup_and_restore_round_trip(tmp_path):
    db = tmp_path / "corpus.db"
    assert fazhi("corpus", "add", *DEV_FILES, "--db", db, "--no-progress", "--workers", "1").returncode == 0
    r = fazhi("corpus", "backup", tmp_path / "b.db", "--db", db)
    assert r.returncode == 0 and f"已备份 {N_DEV} 份报告" in r.stdout and "完整性检查" in r.stdout, r.stderr
    assert not Path(str(tmp_path / "b.db") + "-wal").exists()       # one self-contained file
    r = fazhi("corpus", "backup", tmp_path / "b.db", "--db", db)
    assert r.returncode == 2 and "已存在" in r.stderr
    more = variants(tmp_path / "more", 4)
    assert fazhi("corpus", "add", *more, "--db", db, "--no-progress").returncode == 0
    assert rows(db)[0] == N_DEV + 4
    r = fazhi("corpus", "restore", tmp_path / "b.db", "--db", db)   # asks first; no answer -> abort
    assert r.returncode != 0 and rows(db)[0] == N_DEV + 4
    r = fazhi("corpus", "restore", tmp_path / "b.db", "--db", db, "--yes")
    assert r.returncode == 0, r.stderr
    assert rows(db)[0] == N_DEV
    [kept] = tmp_path.glob("corpus.db.before-restore-*")
    assert rows(kept)[0] == N_DEV + 4                                   # nothing lost
    junk = tmp_path / "junk.db"
    c = sqlite3.connect(junk)
    c.execute("CREATE TABLE t(x)")
    c.commit()
    c.close()
    r = fazhi("corpus", "restore", junk, "--db", db, "--yes")
    assert r.returncode == 2 and "不是 fazhi 报告库的备份" in r.stderr
    (tmp_path / "text.db").write_text("不是数据库")
    r = fazhi("corpus", "restore", tmp_path / "text.db", "--db", db, "--yes")
    assert r.returncode == 2 and "不是 SQLite 数据库文件" in r.stderr
    r = fazhi("corpus", "backup", tmp_path / "pg.dump", "--db", "postgresql://fazhi@db.example/fazhi")
    assert r.returncode == 2 and "pg_dump" in r.stderr and "pg_restore" in r.stderr
    no_traceback(r)


# ------------------------------------------------------------------ PostgreSQL and the classifier
def test_postgresql_read_only_database_in_chinese(pg_url, tmp_path):
    from sqlalchemy import create_engine, text

    from fazhi.corpus import db as dbm

    dbm.connect(pg_url)                                   # schema in place
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    admin.dispose()
    r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", pg_url.replace("postgresql+psycopg", "postgresql"),
              "--no-progress", "--workers", "1")
    assert r.returncode == 3, (r.stdout, r.stderr)
    no_traceback(r)
    assert "数据库只读" in r.stderr
    r = fazhi("corpus", "info", "--db", pg_url.replace("postgresql+psycopg", "postgresql"))
    assert r.returncode == 0 and "0 份" in r.stdout, r.stderr


def test_classifier_maps_sqlite_postgresql_and_os_errors():
    import errno

    import psycopg

    from fazhi.corpus.faults import DatabaseFault, classify, fault_of

    cases = [(sqlite3.OperationalError("database or disk is full"), "disk_full", "磁盘已满"),
             (sqlite3.OperationalError("attempt to write a readonly database"), "read_only", "数据库只读"),
             (sqlite3.DatabaseError("database disk image is malformed"), "corrupt", "数据库已损坏（请用备份恢复）"),
             (sqlite3.DatabaseError("file is not a database"), "corrupt", "请用备份恢复"),
             (sqlite3.OperationalError("database is locked"), "busy", "数据库繁忙"),
             (psycopg.errors.lookup("53100")("could not extend file"), "disk_full", "磁盘已满"),
             (psycopg.errors.lookup("25006")("read-only transaction"), "read_only", "数据库只读"),
             (psycopg.errors.lookup("XX001")("invalid page"), "corrupt", "请用备份恢复"),
             (psycopg.errors.lookup("08006")("connection failure"), "unavailable", "无法打开数据库文件"),
             (OSError(errno.ENOSPC, "No space left on device"), "disk_full", "磁盘已满"),
             (OSError(errno.EROFS, "Read-only file system"), "read_only", "数据库只读")]
    for exc, kind, words in cases:
        f = classify(exc, "x.db")
        assert isinstance(f, DatabaseFault) and f.kind == kind, (exc, f)
        assert words in f.message and "x.db" in f.message
        assert f.status == (507 if kind == "disk_full" else 503)
    pg = classify(psycopg.errors.lookup("08006")("connection failure"), "postgresql://fazhi@db/fazhi")
    assert pg.kind == "unavailable" and "无法连接数据库" in pg.message and "服务器" in pg.message
    # wrapped by SQLAlchemy: found through .orig
    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    assert classify(wrapped).kind == "disk_full"
    assert classify(ValueError("no")) is None and classify(OSError(errno.ENOENT, "x")) is None
    generic = fault_of(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")))
    assert generic.kind == "error" and generic.message.startswith("数据库错误")


def test_an_unreachable_or_unknown_database_in_chinese(tmp_path):
    import socket as s

    with s.socket() as sock:       # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r = fazhi("corpus", "info", "--db", f"postgresql://fazhi:secret@127.0.0.1:{port}/fazhi")
    assert r.returncode == 3, (r.stdout, r.stderr)
    no_traceback(r)
    assert "无法连接数据库" in r.stderr and "secret" not in r.stderr and "postgresql://fazhi:***@" in r.stderr
    r = fazhi("corpus", "add", DEV / "seed-000.txt", "--db", "mysql://x@y/z", "--no-progress")
    assert r.returncode == 3 and "不支持的数据库地址" in r.stderr
    no_traceback(r)
