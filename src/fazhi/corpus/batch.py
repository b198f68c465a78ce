"""Batch: analyse many report files on all cores (or on a Dask cluster) into the corpus.

    add(["reports/"], "fazhi.db")            # -> AddStats(added, skipped, failed, seconds)

Design
------
- Files are *streamed*: directories are walked lazily (sorted), each file is hashed
  (sha256 of its bytes) in the main process and skipped when the database already
  has it (``store.known_hashes`` is read once at the start) or when the same bytes
  came earlier in this run.  Re-adding a directory therefore adds nothing.
- Workers analyse in the sandbox (``fazhi.sandbox``: a memory cap, one deadline
  per file, one file per worker at a time): read -> analyse -> ``store.rows_of``
  -> a plain dict.  The main process is the **only writer**: it buffers the results as
  they arrive and hands them every ``_Writer.WRITE_EVERY`` to its writer thread, which
  writes them (``store.insert_many``, the same rows as ``store.insert`` one by one;
  ``store.record_failure``) into an open transaction that is committed every
  ``commit_every`` results (or every few seconds) while the main thread keeps the
  workers busy (SQLite's own work runs outside the GIL).
  If a write or a commit fails, the results since the last commit are replayed one
  report per transaction (``store.insert``), so one row the database refuses costs
  only its own file.
- Files are streamed to the workers one at a time (the sandbox keeps each busy;
  32 per task for Dask, at most ``3 × workers`` tasks in flight), so memory stays
  flat however large the corpus.
- Per-file time limit (``--time-limit``, ``settings.TIME_LIMIT``): the sandbox's
  deadline; a worker stuck past it is killed and replaced, a worker that dies
  (a crash, the memory cap) costs only the file it was on -- each worker holds
  exactly one file, so the culprit is known.  In Dask worker threads the same
  deadline raises by an asynchronous exception (``sandbox.execute``).
- Ctrl-C / SIGTERM: what has arrived is committed, the pool is shut down and
  ``BatchInterrupted`` (a ``KeyboardInterrupt``) is raised; ``kill -9`` loses only
  the uncommitted buffer (SQLite runs in WAL mode); re-running resumes.
- ``engine="dask"``: the same, with the file *bytes* shipped to Dask workers
  (``Client(scheduler)`` or a ``LocalCluster``); the same single writer inserts,
  so the rows equal those of the local engine.  The workers of an existing
  cluster need fazhi installed (they import ``fazhi.corpus.batch.work_bytes``).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .. import settings as _settings
from ..ingest import EXTENSIONS, IngestError, display_name
from ..sandbox import CRASH_MSG, TIMEOUT_MSG  # noqa: F401 - the messages stored for such files

# Test hook (module-level, shipped to the workers with every task):
# {"slow": ("slow", 30.0)} -> a file whose name contains "slow" sleeps 30 s inside the
# time-limited analysis; {"crash": "crash"} -> the worker process dies on such a file.
# FAZHI_TEST_HOOK (JSON, same shape) sets it for a `fazhi corpus add` run in a subprocess.
TEST_HOOK: dict | None = json.loads(os.environ["FAZHI_TEST_HOOK"]) if os.environ.get("FAZHI_TEST_HOOK") else None

DB_MSG = "入库失败（数据库错误：{e}），已跳过"
COMMIT_SECONDS = 5.0   # also commit when results arrive slowly


NAMES = 50   # names kept per list of the summary


@dataclass
class AddStats:
    added: int = 0
    skipped: int = 0           # already in the database (or the same bytes twice in this run)
    failed: int = 0            # recorded in the failures table with a Chinese error
    seconds: float = 0.0
    unreadable: int = 0        # could not be opened at all (not in the database)
    errors: list = field(default_factory=list)   # (path, Chinese error) of unreadable files, first 50
    interrupted: bool = False
    # submissions (corpus/submissions.py): what the added files are
    same_report: int = 0       # another file (format) of a report already stored: not counted twice
    revisions: int = 0         # a new version of a unit's report for that year: now the current one
    other_genre: int = 0       # stored, but not a 法治政府建设年度报告 (kept out of statistics)
    other_genre_names: list = field(default_factory=list)   # (path, why)
    withdrawn: int = 0         # withdrawn reports met again (skipped, or a copy joining them)
    known_failed: int = 0      # failed in an earlier run, not retried (``retry_failed``)
    unsupported: int = 0       # .doc, .xlsx, .wps, unknown types: listed, recorded as failures
    unsupported_names: list = field(default_factory=list)
    unsupported_documents: int = 0   # of which documents a report may be in (.doc, .wps, .rar…): exit 1
    failed_names: list = field(default_factory=list)        # (path, error) of this run's failures
    zips: int = 0              # .zip packages opened
    write_seconds: float = 0.0  # time the writer spent inserting and committing (bench/bench_corpus.py)
    write_cpu_seconds: float = 0.0   # ... of which CPU time of the writing thread

    @property
    def done(self) -> int:
        return (self.added + self.skipped + self.failed + self.unreadable + self.withdrawn + self.known_failed
                + self.unsupported)


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: everything that arrived has been committed."""

    def __init__(self, stats: AddStats):
        super().__init__("interrupted")
        self.stats = stats


class BatchFault(RuntimeError):
    """The database failed during the batch (disk full, read-only, corrupt…): what was
    committed is intact (``stats.added``), the rest is added by running the command again."""

    def __init__(self, fault, stats: AddStats):
        super().__init__(str(fault))
        self.fault = fault
        self.stats = stats


def dbm_describe(engine) -> str:
    from . import db as dbm

    return dbm.describe(engine)


def default_time_limit() -> float:
    return _settings.get("TIME_LIMIT")


# ------------------------------------------------------------------ files
JUNK = {"thumbs.db", "desktop.ini", ".ds_store"}


def is_junk(name: str) -> bool:
    """Files no one sends as a report: hidden files, Office lock files, folder metadata."""
    base = name.rsplit("/", 1)[-1]
    return not base or base.startswith((".", "~$")) or base.lower() in JUNK or name.startswith("__MACOSX/")


def iter_files(paths: Iterable) -> Iterator[Path]:
    """Files as given; a directory means every file under it (sorted, lazily) except hidden
    and lock files — the unsupported ones are listed and recorded, not silently left out."""
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
                for name in sorted(files):
                    if not is_junk(name):
                        yield Path(root, name)
        else:
            yield p


# document types a report may come in that fazhi cannot read: listed, and ``corpus add``
# exits 1 (a report is missing); other unknown files (.json, .csv…) are listed only
UNSUPPORTED_HINT = {
    ".doc": "请用 Word 或 WPS 另存为 .docx 后再入库", ".wps": "请用 WPS 另存为 .docx 后再入库",
    ".rtf": "请另存为 .docx 后再入库", ".xls": "表格不是报告正文", ".xlsx": "表格不是报告正文",
    ".et": "表格不是报告正文", ".odt": "请另存为 .docx 后再入库", ".ofd": "请另存为 PDF 后再入库",
    ".ceb": "请另存为 PDF 后再入库", ".rar": "请解压后再入库，或改用 .zip 压缩包", ".7z": "请解压后再入库，或改用 .zip 压缩包",
}


def unsupported_message(name: str) -> str:
    from ..ingest import SUPPORTED

    ext = os.path.splitext(name)[1].lower()
    hint = UNSUPPORTED_HINT.get(ext)
    if hint:
        return f"不支持的文件类型“{ext}”：{hint}"
    return f"不支持的文件类型“{ext or '无扩展名'}”（支持 {SUPPORTED}，以及 .zip 压缩包）"


def count_files(paths: Iterable) -> int:
    """Files for the progress bar: a .zip counts its members (read from its directory)."""
    import zipfile

    n = 0
    for p in iter_files(paths):
        if p.suffix.lower() == ".zip":
            try:
                with zipfile.ZipFile(p) as z:
                    n += max(1, sum(1 for i in z.infolist() if not i.is_dir() and not is_junk(i.filename)))
                continue
            except Exception:   # a bad zip: one failure
                pass
        n += 1
    return n


def _sha_of_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _open_error(path: Path, e: OSError) -> str:
    if isinstance(e, FileNotFoundError):
        return "文件不存在"
    if isinstance(e, IsADirectoryError):
        return "是目录而不是文件"
    if isinstance(e, PermissionError):
        return "没有读取权限"
    return f"无法读取文件：{e.strerror or e}"


# ------------------------------------------------------------------ worker side
def _result_dict(res) -> dict:
    """A sandbox result -> what the writer stores."""
    return {"sha256": res.sha256, "path": res.name, "rows": res.value if res.ok else None, "error": res.error,
            "seconds": res.seconds}


def work_bytes(chunk: list[tuple[bytes, str, str]], settings: tuple) -> list[dict]:
    """Dask engine task: [(bytes, path, sha256)] -> results; the bytes travel, not the paths.
    Each file runs through ``sandbox.execute`` (its deadline works in Dask's worker threads)."""
    from ..sandbox import Job, execute

    time_limit, max_bytes, hook, ruleset = settings
    return [_result_dict(execute(Job(name=name, data=data, sha256=sha, want="rows", max_bytes=max_bytes,
                                     time_limit=time_limit, hook=hook, ruleset=ruleset)))
            for data, name, sha in chunk]


def dask_setup(worker=None) -> None:
    """Dask preload hook, run in each LocalCluster worker process: Ctrl-C in the terminal
    reaches the whole process group, but stopping is the main process's business; the
    memory cap of the sandbox applies to the worker process, and the pipeline is
    loaded before the first file's deadline starts."""
    import logging

    from ..sandbox import limit_memory, warm

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_memory()
    warm("rows")  # imports and data loaded before the first file's deadline starts


# ------------------------------------------------------------------ the one writer
class _Writer:
    """The one writer.  Results are buffered as they arrive (``put``, the main thread)
    and handed over in groups of ``WRITE_EVERY`` to the writer thread, which writes
    them (``store.insert_many``: one statement per table for the group) into an open
    transaction committed every ``commit_every`` results (or COMMIT_SECONDS).  While
    the thread writes, the main thread keeps the workers busy; at most one group is
    in the thread's hands, and its outcomes are counted (``stats``) by the main
    thread when it hands over the next, so only the main thread touches ``stats``.
    If a write or the commit fails, the transaction is rolled back and the
    uncommitted results are replayed one report per transaction (``store.insert``).

    ``fork_lock`` is held while the thread is inside the database: the sandbox
    forks a replacement worker only between writes."""

    WRITE_EVERY = 50
    CACHE_KB = 131072    # SQLite page cache of the writer's connection (128 MB; the default is 2 MB)

    def __init__(self, engine, stats: AddStats, commit_every: int, stop: "_Stop", on_result=None,
                 columns: dict | None = None, rules_id=None):
        self.engine = engine
        self.stats = stats
        self.commit_every = max(1, int(commit_every))
        self.stop = stop
        self.on_result = on_result or (lambda: None)
        self.columns = {k: v for k, v in (columns or {}).items() if v is not None}   # set on every stored report
        self.rules_id = rules_id   # report row -> the rule set id the workers applied (``rulesets.rules_id``)
        self.fork_lock = threading.Lock()
        # the main thread's side
        self.incoming: list[dict] = []   # results not yet handed to the thread
        self.uncommitted = 0             # results handed over since the last commit was handed over
        self.last = time.monotonic()
        self._job = None                 # the group in the thread's hands (a Future)
        self._pool = None
        # the writer thread's side (the main thread reads them only when no group is in flight)
        self.conn = None
        self.buf: list[dict] = []        # results since the last commit (to replay on a failure)
        self.outcomes: list[tuple[str, dict]] = []   # (outcome, result) of buf[:written]
        self.written = 0                 # results of buf written in the open transaction
        self.partial: list[tuple[str, dict]] = []    # committed by a replay that a fault stopped

    # -- the main thread
    def put(self, res: dict) -> None:
        with self.stop.shielded():
            self.on_result()
            if res.get("rows") is not None:
                rep = res["rows"]["report"]
                rep.update(self.columns)
                if self.rules_id is not None:
                    rep["rules_id"] = self.rules_id(rep)
            self.incoming.append(res)
            if self.uncommitted + len(self.incoming) >= self.commit_every \
                    or time.monotonic() - self.last >= COMMIT_SECONDS:
                self._hand(commit=True)
            elif len(self.incoming) >= self.WRITE_EVERY:
                self._hand(commit=False)

    def _hand(self, commit: bool) -> None:
        """Wait for the group in flight (count it; its error is raised here), then hand
        over what came since."""
        self._collect()
        items, self.incoming = self.incoming, []
        if commit:
            self.uncommitted = 0
            self.last = time.monotonic()
        else:
            self.uncommitted += len(items)
        if not items and not (commit and self.buf):   # nothing to write or commit (no group in flight)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="fazhi-writer")
        self._job = self._pool.submit(self._group, items, commit)

    def _collect(self) -> None:
        job, self._job = self._job, None
        if job is None:
            return
        try:
            outcomes, wall, cpu = job.result()
        except BaseException:
            self._count_partial()
            raise
        self.stats.write_seconds += wall
        self.stats.write_cpu_seconds += cpu
        for o, res in outcomes:
            self._tally(o, res)

    def _count_partial(self) -> None:
        """A replay stopped by a fault: count the reports it had committed before it."""
        done, self.partial = self.partial, []
        for o, res in done:
            self._tally(o, res)

    def flush(self) -> None:
        """Everything that arrived, committed (waits for the thread)."""
        with self.stop.shielded():
            self._hand(commit=True)
            self._collect()

    def close(self) -> None:
        with self.stop.shielded():   # a Ctrl-C waits until the connection is closed
            self.flush()             # a fault is raised here: ``discard`` ends the connection then
            self._finish(self._close_conn)

    def discard(self) -> None:
        """After a fault: drop the uncommitted results (they are re-analysed on the next run)."""
        job, self._job = self._job, None
        if job is not None:
            try:
                job.result()
            except Exception:
                self._count_partial()
        self.incoming = []
        self._finish(self._drop_conn)

    def _finish(self, last) -> None:
        """Run ``last`` (the connection's end) in the writer thread, then stop the thread."""
        pool, self._pool = self._pool, None
        if pool is None:
            last()
            return
        try:
            pool.submit(last).result()
        finally:
            pool.shutdown(wait=True)

    # -- the writer thread
    def _group(self, items: list[dict], commit: bool):
        """Write ``items`` (and commit): (outcomes now committed, wall, CPU seconds)."""
        t0, c0 = time.perf_counter(), time.thread_time()
        with self.fork_lock:
            self.buf.extend(items)
            done: list = []
            try:
                self._write()
                if commit and self.buf:
                    self.conn.commit()
            except Exception:
                done = self._replay()
            else:
                if commit:
                    done, self.buf, self.outcomes, self.written = self.outcomes, [], [], 0
        return done, time.perf_counter() - t0, time.thread_time() - c0

    def _cache(self, kb: int) -> None:
        """SQLite: the page cache of the writer's connection (the copy index's key index and
        the full-text indexes are written at random places); the pooled connection gets the
        default back before it is returned."""
        from . import db as dbm

        if dbm.is_sqlite(self.engine):
            self.conn.exec_driver_sql(f"PRAGMA cache_size=-{int(kb)}")

    def _close_conn(self) -> None:
        if self.conn is not None:
            try:
                self._cache(2000)
            finally:
                self.conn.close()
                self.conn = None

    def _drop_conn(self) -> None:
        self.buf, self.outcomes, self.written = [], [], 0
        if self.conn is not None:
            try:
                self.conn.rollback()
                self._cache(2000)
            except Exception:
                pass
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def _write(self) -> None:
        """Write buf[written:] into the open transaction: reports by ``store.insert_many``,
        failures one by one, in the order they arrived."""
        from . import store

        todo = self.buf[self.written:]
        if not todo:
            return
        if self.conn is None:
            self.conn = self.engine.connect()
            self._cache(self.CACHE_KB)
        reps = [r for r in todo if r.get("rows") is not None]
        ids = iter(store.insert_many(self.conn, [r["rows"] for r in reps]))
        out = []
        for r in todo:
            if r.get("rows") is not None:
                out.append(("added" if next(ids) is not None else "skipped", r))
            else:
                store.record_failure(self.conn, r["sha256"], r["path"], r["error"])
                out.append(("unsupported" if r.get("unsupported") else "failed", r))
        self.outcomes.extend(out)
        self.written = len(self.buf)

    @staticmethod
    def _apply(conn, res: dict) -> str:
        from . import store

        if res.get("rows") is not None:
            return "added" if store.insert(conn, res["rows"]) is not None else "skipped"
        store.record_failure(conn, res["sha256"], res["path"], res["error"])
        return "unsupported" if res.get("unsupported") else "failed"

    def _replay(self) -> list:
        """The transaction failed: roll back and store the uncommitted results one report per
        transaction, so that one row the database refuses costs only its own file.  A fault
        that stops the batch (``_one``) is raised with the outcomes committed before it kept
        in ``self.partial`` for the main thread to count."""
        try:
            if self.conn is not None:
                self.conn.rollback()
        except Exception:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None
        buf, self.buf, self.outcomes, self.written = self.buf, [], [], 0
        done = self.partial = []
        for r in buf:   # each in its own committed transaction
            done.append((self._one(r), r))
        self.partial = []
        return done

    def _one(self, res: dict) -> str:
        from . import store
        from .faults import fault_of

        try:
            with self.engine.begin() as conn:
                return self._apply(conn, res)
        except Exception as e:
            fault = fault_of(e, dbm_describe(self.engine))
            if res.get("rows") is None or (fault is not None and fault.kind != "error"):
                # a full disk, a read-only or corrupt database, a lost server: every further
                # write would fail too — stop, never record the files as failed
                raise (fault or e) from e
            with self.engine.begin() as conn:
                store.record_failure(conn, res["sha256"], res["path"], DB_MSG.format(e=type(e).__name__))
            return "failed"

    # -- counting (the main thread)
    def _tally(self, o: str, res: dict) -> None:
        st = self.stats
        if o == "unsupported":   # counted (and named) when it was met
            return
        setattr(st, o, getattr(st, o) + 1)
        if o == "failed" and len(st.failed_names) < NAMES:
            st.failed_names.append((res["path"], res.get("error") or ""))
        pl = (res.get("rows") or {}).get("placement") if o == "added" else None
        if pl:
            if pl["withdrawn"]:
                st.withdrawn += 1
            if pl["kind"] == "same":
                st.same_report += 1
            elif pl["kind"] == "revision":
                st.revisions += 1
            if not pl["genre_ok"]:
                st.other_genre += 1
                if len(st.other_genre_names) < NAMES:
                    rep = res["rows"]["report"]
                    st.other_genre_names.append((res["path"], rep.get("genre") or ""))


class _Stop:
    """SIGINT/SIGTERM -> KeyboardInterrupt, deferred while the writer commits."""

    def __init__(self):
        self.critical = 0
        self.requested = False
        self.old: dict = {}

    def handler(self, signum, frame):
        self.requested = True
        if not self.critical:
            raise KeyboardInterrupt

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for s in (signal.SIGINT, signal.SIGTERM):
            self.old[s] = signal.signal(s, self.handler)

    def restore(self) -> None:
        for s, h in self.old.items():
            signal.signal(s, h)

    @contextmanager
    def shielded(self):
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
        if self.requested and not self.critical:
            raise KeyboardInterrupt


# ------------------------------------------------------------------ main side
@dataclass
class _Known:
    """What the database already has, read once at the start (sha256 sets)."""
    reports: set
    failures: set
    withdrawn: set
    seen: set = field(default_factory=set)     # met in this run


def _skip(sha: str, known: _Known, stats: AddStats, on_skip) -> bool:
    """True (and counted) when ``sha`` needs no analysis in this run."""
    if sha in known.seen:
        stats.skipped += 1
    elif sha in known.withdrawn:
        stats.withdrawn += 1
    elif sha in known.reports:
        stats.skipped += 1
    elif sha in known.failures:
        stats.known_failed += 1
    else:
        known.seen.add(sha)
        return False
    known.seen.add(sha)
    on_skip()
    return True


def _unsupported(sha: str, name: str, known: _Known, stats: AddStats, writer: "_Writer", on_skip) -> None:
    """Listed in every run's summary; recorded once in the failures table."""
    stats.unsupported += 1
    if os.path.splitext(name)[1].lower() in UNSUPPORTED_HINT:
        stats.unsupported_documents += 1
    if len(stats.unsupported_names) < NAMES:
        stats.unsupported_names.append(name)
    if sha in known.seen or sha in known.reports or sha in known.failures:
        on_skip()
        return
    known.seen.add(sha)
    writer.put({"sha256": sha, "path": name, "rows": None, "error": unsupported_message(name),
                "unsupported": True})


def _unreadable(name: str, msg: str, stats: AddStats, on_skip) -> None:
    stats.unreadable += 1
    if len(stats.errors) < NAMES:
        stats.errors.append((name, msg))
    on_skip()


def _zip_items(p: Path, name: str, known: _Known, stats: AddStats, writer: "_Writer", *, max_bytes: int,
               on_skip) -> Iterator[tuple]:
    """The members of a .zip package (read into memory, ``packages.members``)."""
    from .packages import PackageError, members

    try:
        zsha = _sha_of_file(p)
    except OSError as e:
        _unreadable(name, _open_error(p, e), stats, on_skip)
        return
    if zsha in known.failures and zsha not in known.seen:   # the package itself was refused before
        _skip(zsha, known, stats, on_skip)
        return
    stats.zips += 1
    try:
        for m in members(p, name, max_bytes=max_bytes):
            if m.data is None:
                key = hashlib.sha256(f"{zsha}/{m.name}".encode("utf-8")).hexdigest()   # no bytes to hash
                if not _skip(key, known, stats, on_skip):
                    writer.put({"sha256": key, "path": m.name, "rows": None, "error": m.error})
                continue
            sha = hashlib.sha256(m.data).hexdigest()
            if os.path.splitext(m.name)[1].lower() not in EXTENSIONS:
                _unsupported(sha, m.name, known, stats, writer, on_skip)
                continue
            if _skip(sha, known, stats, on_skip):
                continue
            yield sha, m.name, m.data, None
    except PackageError as e:
        if zsha not in known.seen:
            known.seen.add(zsha)
            writer.put({"sha256": zsha, "path": name, "rows": None, "error": str(e)})


def _own_file(p: Path, own: str) -> bool:
    s = os.path.abspath(p)
    return s == own or (s.startswith(own) and s[len(own):] in ("-wal", "-shm", "-journal"))


def _items(paths, known: _Known, stats: AddStats, writer: _Writer, *, ship_bytes: bool, max_bytes: int,
           on_skip, own: str | None = None) -> Iterator[tuple[str, str, bytes | None, Path | None]]:
    """(sha256, shown name, bytes or None, path or None) of every file that still needs analysing."""
    for p in iter_files(paths):
        if own is not None and _own_file(p, own):
            continue   # the database itself (and its -wal/-shm) in the folder being added
        name = display_name(p)   # what is stored and shown: always valid UTF-8
        ext = p.suffix.lower()
        if p.exists() and not p.is_file():   # a pipe or a device: hashing it would block or never end
            _unreadable(name, "不是普通文件（可能是管道或设备文件），未分析", stats, on_skip)
            continue
        if ext == ".zip" and p.is_file():
            yield from _zip_items(p, name, known, stats, writer, max_bytes=max_bytes, on_skip=on_skip)
            continue
        if ext not in EXTENSIONS and p.is_file():
            try:
                sha = _sha_of_file(p)
            except OSError as e:
                _unreadable(name, _open_error(p, e), stats, on_skip)
                continue
            _unsupported(sha, name, known, stats, writer, on_skip)
            continue
        try:
            if ship_bytes:
                from ..ingest import read_file

                try:
                    data, _ = read_file(p, max_bytes=max_bytes)
                except IngestError as e:    # too large / unsupported: record without shipping
                    if not p.exists():
                        raise FileNotFoundError(name) from None
                    sha = _sha_of_file(p)
                    if _skip(sha, known, stats, on_skip):
                        continue
                    writer.put({"sha256": sha, "path": name, "rows": None, "error": str(e)})
                    continue
                sha = hashlib.sha256(data).hexdigest()
            else:
                data = None
                sha = _sha_of_file(p)
        except OSError as e:
            _unreadable(name, _open_error(p, e), stats, on_skip)
            continue
        if _skip(sha, known, stats, on_skip):
            continue
        yield sha, name, data, p


def _progress(enabled: bool, total: int | None):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            sp = task.speed
            return Text(f"{sp:.1f} 份/秒" if sp else "— 份/秒", style="cyan")

    cols = [TextColumn("[bold]入库"), BarColumn(), MofNCompleteColumn(), TextColumn("份"), Rate(),
            TextColumn("已用"), TimeElapsedColumn()]
    if total:
        cols += [TextColumn("剩余"), TimeRemainingColumn()]
    return Progress(*cols, console=Console(stderr=True), transient=False, speed_estimate_period=60.0)


def add(paths, db=None, *, workers: int | None = None, engine: str = "local", scheduler: str | None = None,
        commit_every: int = 200, time_limit: float | None = None, progress: bool = True,
        max_bytes: int | None = None, retry_failed: bool = False, received_on: str | None = None) -> AddStats:
    """Analyse and store every report under ``paths``; idempotent by sha256.

    ``time_limit`` None -> env FAZHI_TIME_LIMIT or 60 s; 0 -> no limit.
    ``retry_failed``: files recorded in the failures table are analysed again (a time
    limit on a busy machine, a newer fazhi); otherwise they are skipped.
    Withdrawn reports (``submissions.withdraw``) are skipped and counted apart.
    The corpus's rule sets (``rulesets``: its province's, else the corpus-wide one) check
    every report, and each row records the one used; ``received_on`` (YYYY-MM-DD): the office's receipt date of these files.
    Raises ``BatchInterrupted`` on Ctrl-C/SIGTERM after committing what arrived."""
    from sqlalchemy import select

    from . import db as dbm

    if engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {engine!r} (local | dask)")
    t0 = time.perf_counter()
    paths = list(paths)
    workers = max(1, int(workers or os.cpu_count() or 1))
    time_limit = default_time_limit() if time_limit is None else float(time_limit)
    max_bytes = int(max_bytes or _settings.get("MAX_BYTES"))
    eng = dbm.connect(db)
    from . import rulesets
    from .submissions import withdrawn_hashes

    sets = rulesets.attached(eng)
    settings = (time_limit, max_bytes, TEST_HOOK, rulesets.choice(sets))

    with eng.connect() as conn:
        known = _Known(reports={r[0] for r in conn.execute(select(dbm.reports.c.sha256))},
                       failures=set() if retry_failed else {r[0] for r in conn.execute(select(dbm.failures.c.sha256))},
                       withdrawn=withdrawn_hashes(conn))
    stats = AddStats()
    show = progress and sys.stderr.isatty()
    total = count_files(paths) if show else None
    bar = _progress(show, total)
    task = None

    def advance(n: int = 1) -> None:
        if bar is not None:
            bar.advance(task, n)

    stop = _Stop()
    writer = _Writer(eng, stats, commit_every, stop, on_result=advance, columns={"received_on": received_on},
                     rules_id=(lambda rep: rulesets.rules_id(sets, rep.get("province"), rep.get("city"),
                                                             rep.get("county"))) if sets else None)
    runner = _Local(workers, writer.fork_lock) if engine == "local" else _Dask(workers, scheduler)
    stop.install()
    try:
        try:
            with stop.shielded():
                runner.start()
            if bar is not None:
                bar.start()
                task = bar.add_task("入库", total=total)
            own = dbm.sqlite_path(eng)
            items = _items(paths, known, stats, writer, ship_bytes=(engine == "dask"), max_bytes=max_bytes,
                           on_skip=advance, own=os.path.abspath(own) if own else None)
            runner.run(items, settings, writer, stop, time_limit)
            writer.close()
        except KeyboardInterrupt:
            stop.critical += 1            # a second Ctrl-C must not cut the clean-up short
            try:
                writer.close()
            finally:
                runner.abort()
            stats.interrupted = True
            stats.seconds = time.perf_counter() - t0
            raise BatchInterrupted(stats) from None
        except Exception as e:
            from .faults import fault_of

            fault = fault_of(e, dbm.describe(eng))
            if fault is None:
                raise
            stop.critical += 1
            try:
                writer.discard()
            finally:
                runner.abort()
            stats.seconds = time.perf_counter() - t0
            raise BatchFault(fault, stats) from e
        finally:
            if bar is not None:
                bar.stop()
        runner.close()
    finally:
        stop.restore()
    stats.seconds = time.perf_counter() - t0
    return stats


def _chunks(items, size: int):
    """Group (sha, name, data, path) items into lists of at most ``size`` (and ~4 MB of bytes)."""
    buf, nbytes = [], 0
    for it in items:
        buf.append(it)
        nbytes += len(it[2]) if it[2] is not None else 0
        if len(buf) >= size or nbytes >= 4 << 20:
            yield buf
            buf, nbytes = [], 0
    if buf:
        yield buf


def _failed(sha: str, path: str, error: str) -> dict:
    return {"sha256": sha, "path": path, "rows": None, "error": error}


class _Local:
    """The sandbox's worker processes, each analysing one file at a time."""

    def __init__(self, workers: int, fork_lock=None):
        self.workers = workers
        self.fork_lock = fork_lock   # held by the writer thread while it writes
        self.sandbox = None

    def start(self) -> None:
        from ..sandbox import Sandbox

        self.sandbox = Sandbox(self.workers, want="rows", fork_lock=self.fork_lock)
        self.sandbox.prestart()  # fork now, before the progress bar's thread exists

    def run(self, items, settings, writer: _Writer, stop: _Stop, time_limit: float) -> None:
        from ..sandbox import Job

        _, max_bytes, hook, ruleset = settings
        jobs = (Job(name=name, path=os.fspath(path) if path is not None else None,
                    data=data if path is None else None, sha256=sha, want="rows", max_bytes=max_bytes,
                    time_limit=time_limit, hook=hook, ruleset=ruleset) for sha, name, data, path in items)
        # each worker holds the next file too: it goes on while the main thread hands results over
        for res in self.sandbox.imap(jobs, ahead=1):
            writer.put(_result_dict(res))

    def abort(self) -> None:
        if self.sandbox is not None:
            self.sandbox.abort()

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


class _Dask:
    """Dask distributed: an existing scheduler, or a LocalCluster of ``workers`` processes.
    Files travel as bytes in chunks (one task per chunk: the scheduler's per-task cost
    is paid once per CHUNK files)."""

    CHUNK = 32

    def __init__(self, workers: int, scheduler: str | None):
        self.workers = workers
        self.scheduler = scheduler
        self.client = self.cluster = None
        self.limit = 3 * workers

    def start(self) -> None:
        import logging

        from dask.distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.ERROR)
        if self.scheduler:
            self.client = Client(self.scheduler)
            n = len(self.client.scheduler_info().get("workers", {}))
            self.limit = 3 * max(1, n or self.workers)
        else:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, preload=[__name__])
            self.client = Client(self.cluster)

    def run(self, items, settings, writer: _Writer, stop: _Stop, time_limit: float) -> None:
        from dask.distributed import as_completed

        ac = as_completed(with_results=False)
        meta: dict = {}

        def submit(chunk) -> None:
            fut = self.client.submit(work_bytes, [(data, name, sha) for sha, name, data, _ in chunk], settings,
                                     pure=False)
            meta[fut.key] = chunk
            ac.add(fut)

        def handle(fut) -> None:
            chunk = meta.pop(fut.key)
            try:
                results = fut.result()
            except Exception as e:   # KilledWorker (the task killed its worker), a worker-side error
                fut.release()
                if len(chunk) > 1:   # find the culprit: one task per file
                    for it in chunk:
                        submit([it])
                    return
                name = type(e).__name__
                msg = CRASH_MSG if name == "KilledWorker" else \
                    f"分析失败（内部错误：{name}），请将此文件反馈给开发者"
                results = [_failed(chunk[0][0], chunk[0][1], msg)]
            fut.release()
            for res in results:
                writer.put(res)

        for chunk in _chunks(items, self.CHUNK):
            while ac.count() >= self.limit:
                handle(next(ac))
            submit(chunk)
        while ac.count():
            handle(next(ac))

    def abort(self) -> None:
        self.close()

    def close(self) -> None:
        for x in (self.client, self.cluster):
            if x is not None:
                try:
                    x.close()
                except Exception:
                    pass
        self.client = self.cluster = None
