"""The corpus database: one data layer (SQLAlchemy Core) for SQLite and PostgreSQL.

``connect(url)`` opens (and migrates, with Alembic) a database:

- a path or ``sqlite:///path`` -> embedded SQLite (the default ``fazhi.db``);
- ``postgresql://…`` -> PostgreSQL through psycopg 3.

Tables: ``reports`` (one row per analysed file, keyed by the sha256 of its
bytes, with metadata, scores and the cleaned text), ``parts``, ``facts``,
``findings``, ``paragraphs`` (the text cut into paragraphs, with a segmented
copy for Chinese full-text search), ``failures`` (files that could not be
read, with their Chinese error), ``submissions`` (a unit's report for a year,
whatever its files and versions: ``corpus/submissions.py``), ``roster_units`` and
``roster_assignments`` (the units that must report in a year, and manual matches:
``corpus.roster``), ``corrections`` and ``analysis_base`` (human corrections:
``corpus.corrections``).  Counting: only the rows ``counted()`` — the current
version of each report — enter any total.  Search: SQLite FTS5 over the segmented column
(``paragraphs_fts``); PostgreSQL ``to_tsvector('simple', seg)`` with a GIN index.
Substring search (names the segmenter splits): SQLite an FTS5 ``trigram`` table
over ``paragraphs.body`` (``paragraphs_tri``, external content); PostgreSQL a
``pg_trgm`` GIN index on ``body`` when the extension can be created.

Faults (``faults.DatabaseFault``, Chinese): a writer runs ``PRAGMA quick_check``
before anything is written; a read-only file, folder or medium is opened
read-only for the commands that only read and refused for those that write;
the migration runs under a lock so that two first opens do not race.
"""
from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        SmallInteger, String, Table, Text, UniqueConstraint, create_engine, event, false, select,
                        true)
from sqlalchemy.engine import Connection, Engine, make_url

DEFAULT_DB = "fazhi.db"

metadata = MetaData()

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("format", String(8), nullable=False),
    Column("encoding", String(32)),
    Column("title", Text),
    Column("unit", Text),
    Column("level", String(16)),
    Column("province", Text),
    Column("city", Text),
    Column("county", Text),
    Column("year", Integer),
    Column("published", String(10)),
    Column("signed", String(10)),
    Column("doc_number", Text),
    Column("index_number", Text),
    Column("parts_found", Text, nullable=False, default=""),     # "achievements,shortcomings,…"
    Column("parts_missing", Text, nullable=False, default=""),
    Column("n_facts", Integer, nullable=False, default=0),
    Column("n_errors", Integer, nullable=False, default=0),
    Column("n_warnings", Integer, nullable=False, default=0),
    Column("score_total", Float),
    Column("scores", JSON),
    Column("text", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
    # submissions (migration 0005, see corpus/submissions.py): one *current* row per
    # (unit, year) is counted; other formats of the same text, older versions,
    # withdrawn reports and texts of another genre stay stored but are not counted.
    Column("unit_key", Text),                       # evaluate.norm_unit(unit): the unit's identity
    Column("title_key", String(100)),               # the title's letters and digits, first 100
    Column("submission_id", Integer),               # submissions.id
    Column("version", Integer, nullable=False, default=1),   # 1, 2, … within the submission
    Column("is_current", Boolean, nullable=False, default=True, server_default=true()),
    Column("received_at", String(32)),              # receipt time (= added_at, or the upload time)
    Column("genre", Text),                          # None: a 法治政府建设年度报告; else the other genre's name
    Column("genre_ok", Boolean, nullable=False, default=True, server_default=true()),
    Column("accepted", Boolean, nullable=False, default=False, server_default=false()),  # a person accepted it
    Column("withdrawn_at", String(32)),
    Column("withdraw_reason", Text),
    # rules per place (migration 0009, see corpus/rulesets.py)
    Column("rules_id", Integer),                    # rule_sets.id its findings came from; None: national rules
    Column("received_on", String(10)),              # 收到日期 (YYYY-MM-DD) when the office knows it
)
Index("ix_reports_unit_year", reports.c.unit, reports.c.year)
Index("ix_reports_unit_key_year", reports.c.unit_key, reports.c.year)
Index("ix_reports_title_key", reports.c.title_key)
Index("ix_reports_submission", reports.c.submission_id)
Index("ix_reports_current", reports.c.is_current)
Index("ix_reports_year", reports.c.year)
Index("ix_reports_level", reports.c.level)

parts = Table(
    "parts", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("part", String(16), nullable=False),
    Column("heading", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
)

facts = Table(
    "facts", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("indicator", String(64), index=True),
    Column("value", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("approx", Boolean, nullable=False),
    Column("part", String(16)),
    Column("quote", Text),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rule", String(64), nullable=False, index=True),
    Column("severity", String(8), nullable=False),
    Column("message", Text, nullable=False),
    Column("start", Integer),
    Column("end", Integer),
)

paragraphs = Table(
    "paragraphs", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("para_no", Integer, nullable=False),
    Column("part", String(16)),
    Column("start", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("seg", Text, nullable=False),  # rjieba tokens joined by spaces
)

# one row per submission: a unit's report for a year, whatever the files and versions
# (corpus/submissions.py; migration 0005)
submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_key", Text),
    Column("year", Integer),
    Column("received_at", String(32)),     # the receipt of its first file
)

failures = Table(
    "failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
)


# the units that must report in a year (应报单位名单, ``fazhi roster import``); a
# re-import of a year replaces that year's rows.  Migration 0004.
roster_units = Table(
    "roster_units", metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False, index=True),
    Column("position", Integer, nullable=False),        # row order of the imported file
    Column("name", Text, nullable=False),
    Column("level", String(16), nullable=False),        # model.LEVELS
    Column("parent", Text),
    Column("region", Text),
    Column("deadline", String(10)),                     # YYYY-MM-DD, last day on time; None = the default
    Column("contact", Text),
    Column("phone", Text),
    Column("imported_at", String(32), nullable=False),
    UniqueConstraint("year", "name", name="uq_roster_units_year_name"),
)

# a person's match of a report (or an unreadable file) to a roster unit, by the
# unit's name and year so that it survives a re-import of the roster
roster_assignments = Table(
    "roster_assignments", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), unique=True),
    Column("failure_id", Integer, ForeignKey("failures.id", ondelete="CASCADE"), unique=True),
    Column("year", Integer, nullable=False),
    Column("unit_name", Text, nullable=False),
    Column("actor", String(64)),
    Column("at", String(32), nullable=False),
)

# human corrections of an analysis (``fazhi.corpus.corrections``), by the file's
# sha256 and a fingerprint of the evidence: they outlive the report rows, so a
# re-analysis of the same file gets them again.  Migration 0007.
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("report_id", Integer),              # the report it was made on (for the record; may be gone)
    Column("target", String(8), nullable=False),   # meta | fact | part | finding
    Column("key", String(64), nullable=False),     # field name or evidence fingerprint
    Column("field", String(16), nullable=False),
    Column("old_value", Text),                 # JSON
    Column("new_value", Text),                 # JSON
    Column("reason", Text),
    Column("actor", String(64)),
    Column("at", String(32), nullable=False),
    Column("active", Boolean, nullable=False),  # False: superseded by a later correction or withdrawn
)

# the engine's own analysis of a report that corrections rewrote (meta, parts,
# facts, findings, scores as JSON), so that corrections always apply to it
analysis_base = Table(
    "analysis_base", metadata,
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("analysis", JSON, nullable=False),
)


# a place's rule file (``fazhi rules attach``): the text as attached; the
# ``active`` row of each scope (the whole corpus, or one province) is what corpus
# add, the web app, checks and exports apply
rule_sets = Table(
    "rule_sets", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("attached_at", String(32), nullable=False),
    Column("actor", String(64)),
    Column("province", Text),                       # None: the whole corpus; else the reports of that province
    Column("active", Boolean, nullable=False, default=False, server_default=false()),
    Column("detached_at", String(32)),
)

# the change log the pages' aggregates read (``fazhi.web.aggregates``; migration 0010_aggregates):
# triggers on reports, parts, facts and findings bump ``corpus_version.n`` and stamp the report's row here
corpus_version = Table(
    "corpus_version", metadata,
    Column("id", Integer, primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("token", String(36), nullable=False),
)
report_changes = Table(
    "report_changes", metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False, index=True),
)
Index("ix_reports_current_unit", reports.c.is_current, reports.c.unit, reports.c.year)

# the copy-detection index (``fazhi.corpus.copy_index``; migration 0011_copy_index): per compared
# paragraph its 25 LSH band keys (kind 0) and its sentence fingerprints (kind 1), written when a
# report is stored; ``copy_reports`` says which reports are indexed and with which unit name masked
copy_keys = Table(
    "copy_keys", metadata,
    Column("key", BigInteger, nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("para_id", Integer, nullable=False),
)
Index("ix_copy_keys_key", copy_keys.c.key, copy_keys.c.kind, copy_keys.c.report_id, copy_keys.c.para_id)
copy_reports = Table(
    "copy_reports", metadata,
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("unit", Text, nullable=False),      # the unit name masked when indexed ('' none)
    # the compared paragraphs' MinHash signatures (``copy_index.SIGS`` records, migration 0013;
    # NULL: indexed before it, made again on the next ``ensure_index``)
    Column("sigs", LargeBinary, nullable=True),
    # per compared paragraph its fingerprint, number, lengths and shingle hashes
    # (``copy_index.grams_blob``, migration 0014; NULL: indexed before it, made again likewise)
    Column("grams", LargeBinary, nullable=True),
)


# stored results of the corpus-wide analyses the workbook shows (``fazhi.corpus.derived``;
# migration 0012_derived): per counted report its copy share and sources, per (N, N+1) pair its
# follow-through, and the corpus version (``corpus_version``) they were computed for
derived_state = Table(
    "derived_state", metadata,
    Column("name", String(32), primary_key=True),
    Column("token", String(36), nullable=False),
    Column("n", BigInteger, nullable=False),
)
copy_shares = Table(
    "copy_shares", metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=False),   # no foreign key: a deleted
    Column("unit", Text),                                                  # report's row tells it was
    Column("year", Integer),
    Column("date", String(10)),
    Column("chars", Integer, nullable=False),
    Column("copied_chars", Integer, nullable=False),
    Column("other_chars", Integer, nullable=False),
    Column("own_chars", Integer, nullable=False),
    Column("paragraphs", Integer, nullable=False),
    Column("sources", Text, nullable=False),      # JSON [[source report id, characters], ...], most first
)
follow_results = Table(
    "follow_results", metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=False),
    Column("next_report", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),    # corpus_version.n before the two reports were read
    Column("result", Text, nullable=False),       # the FollowResult as JSON
)


def change_version(conn: Connection) -> tuple[str, int]:
    """The change log's (token, n) now (migration 0010): ``n`` grows with every write to the
    watched tables; another token is another database (a new one, or a restore)."""
    cv = corpus_version.c
    tok, n = conn.execute(select(cv.token, cv.n).where(cv.id == 1)).one()
    return tok, int(n)


def changes(conn: Connection, last: tuple[str, int] | None) -> tuple[str, int, list[int] | None]:
    """The change log's (token, n) now and the reports written since ``last`` (an earlier
    (token, n)); None instead of the list when everything must be read again: nothing read
    before, another database or a restore (another token, or n went back)."""
    tok, n = change_version(conn)
    if last is None or last[0] != tok or n < last[1]:
        return tok, n, None
    return tok, n, changed_since(conn, last[1]) if n > last[1] else []


def renew_token(conn: Connection) -> str:
    """Give the database a new change-log token (after a restore): a process that read it
    before keeps (token, n) and would otherwise take the restored version, rewound and then
    written again, for a later one of the same database.  The stored results computed for
    the old token (``derived_state``) belong to the restored rows and keep their validity."""
    import uuid

    cv, ds = corpus_version.c, derived_state.c
    old = conn.execute(select(cv.token).where(cv.id == 1)).scalar_one()
    new = str(uuid.uuid4())
    conn.execute(corpus_version.update().where(cv.id == 1).values(token=new))
    conn.execute(derived_state.update().where(ds.token == old).values(token=new))
    return new


def changed_since(conn: Connection, n: int) -> list[int]:
    """The reports written after version ``n`` of the change log, in id order."""
    rc = report_changes.c
    return sorted(x for (x,) in conn.execute(select(rc.report_id).where(rc.seq > n)))


def counted(table=None):
    """The one condition every count, ranking, statistic, list and export applies:
    the *current* version of each report (``reports.is_current``), which already
    excludes other formats of the same text, older versions, withdrawn reports and
    texts of another genre not accepted by a person (``submissions.refresh`` keeps
    the flag).  ``table`` is ``reports`` or an alias of it."""
    t = reports if table is None else table
    return t.c.is_current == true()


def current_reports(*columns):
    """``select(columns or the whole reports row)`` restricted to counted reports."""
    return select(*(columns or (reports,))).where(counted())


def normalise_url(db: str | Path | None) -> str:
    """``None`` -> ./fazhi.db; a path -> sqlite:///path; a URL stays (postgresql -> psycopg 3)."""
    s = str(db) if db else DEFAULT_DB
    if s.startswith("postgresql://") or s.startswith("postgres://"):
        return "postgresql+psycopg://" + s.split("://", 1)[1]
    if "://" in s:
        return s
    return f"sqlite:///{Path(s).expanduser()}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def insert_tuples(conn: Connection, table: Table, rows: list[tuple], columns: list[str] | None = None) -> None:
    """Insert plain tuples (every column of ``table`` in its order, or ``columns``) with the
    driver's ``executemany``: for the copy index's ~100 rows per report, SQLAlchemy's per-row
    parameter processing cost more than SQLite's insert.  Only for columns of plain numbers,
    booleans and strings (no type conversion is applied); the statement comes from the table,
    never from the data."""
    if not rows:
        return
    names = [c.name for c in table.columns] if columns is None else [table.c[k].name for k in columns]
    cols = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join([mark] * len(names))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({cols}) VALUES ({marks})", rows)


PG_WRITE_LOCK = 0x66617A6870  # advisory lock held (per transaction) by a write that reads before it writes


def write_lock(conn: Connection) -> None:
    """Make the rest of this transaction the only writer of its kind, before it reads what it
    will decide on (is this file stored already, which submission does it belong to).

    Two writers at once — two ``fazhi serve`` processes, or a ``corpus add`` beside the web
    app — would otherwise both read "no such report yet" and both store it as current.
    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock now (Python's sqlite3 would
    begin the transaction only at the first INSERT, after the reads); nothing is done when
    a write of this transaction has taken it already.  PostgreSQL: a transaction-level
    advisory lock (re-entrant; the same one ``submissions.plan`` takes); under READ
    COMMITTED the statements after it see every write committed before it was granted."""
    if is_sqlite(conn.engine):
        raw = conn.connection.dbapi_connection
        if not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


def sqlite_path(url_or_engine) -> str | None:
    """The file of an SQLite database (None for PostgreSQL or an in-memory database)."""
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(normalise_url(url_or_engine))
    if not url.drivername.startswith("sqlite"):
        return None
    return url.database if url.database and url.database != ":memory:" else None


def describe(url_or_engine) -> str:
    """What to call the database in a message: its file, or its URL without the password."""
    path = sqlite_path(url_or_engine)
    if path:
        return path
    try:
        url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(normalise_url(url_or_engine))
    except Exception:   # not even a URL: say what was given
        return str(url_or_engine)
    return url.render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    _journal_wal(cur)                          # readers never block the one writer
    cur.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: a crash loses no committed batch
    cur.close()


def _journal_wal(cur, patience: float = 30.0) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the database:
    SQLite answers a journal-mode switch with "locked" at once, without the busy
    handler (a second process opening a new database during the first one's
    migration failed this way)."""
    import sqlite3
    import time

    deadline = time.monotonic() + patience
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_pragmas_ro(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA query_only=ON")        # belt and braces: this connection never writes
    cur.close()


def migrations_dir() -> str:
    return str(resources.files("fazhi.corpus").joinpath("migrations"))


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(conn) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


PG_MIGRATION_LOCK = 0x66617A6869  # "fazhi": pg_advisory_xact_lock key held while migrating


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Two processes opening a new database at once must not both create the
    tables: the migration runs under a lock — SQLite ``BEGIN IMMEDIATE`` (the
    write lock, taken before the version is read), PostgreSQL a transaction-level
    advisory lock — and the second process finds the schema already current."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        if is_sqlite(engine):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        if current_revision(conn) == head_revision():
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


# ------------------------------------------------------------------ opening
RW, RO, IMMUTABLE = "rw", "ro", "immutable"


def _can_write(path: str) -> bool:
    d = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.exists(path):
        return os.access(path, os.W_OK) and os.access(d, os.W_OK)
    return os.access(d, os.W_OK)


def open_mode(path: str) -> str:
    """How to open an SQLite file: ``rw``; ``ro`` (the file or its folder is not writable);
    ``immutable`` (a read-only folder without the -wal/-shm files, which SQLite could
    not create: the database is read as a file that cannot change)."""
    if _can_write(path):
        return RW
    if os.path.exists(path + "-wal") and os.path.exists(path + "-shm"):
        return RO
    if os.path.exists(path + "-wal") and os.path.getsize(path + "-wal") > 0:
        return RO   # unmerged log without -shm: SQLite may refuse; the fault says so
    return IMMUTABLE


def _uri(path: str, mode: str) -> str:
    from urllib.parse import quote

    q = "mode=ro" + ("&immutable=1" if mode == IMMUTABLE else "")
    return f"file:{quote(os.path.abspath(path))}?{q}"


@lru_cache(maxsize=16)
def _engine(url: str, mode: str = RW) -> Engine:
    kw = {}
    if url.startswith("sqlite"):
        kw["connect_args"] = {"timeout": 30}
        if mode != RW:
            import sqlite3

            path = make_url(url).database
            uri = _uri(path, mode)
            kw["creator"] = lambda: sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    eng = create_engine(url, **kw)
    if url.startswith("sqlite"):
        event.listen(eng, "connect", _sqlite_pragmas if mode == RW else _sqlite_pragmas_ro)
    return eng


_checked: dict[tuple, bool] = {}


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    wal = os.stat(path + "-wal").st_size if os.path.exists(path + "-wal") else 0
    return (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns, wal)


def quick_check(engine: Engine) -> None:
    """``PRAGMA quick_check`` on an SQLite database; a failure raises the CORRUPT fault.
    (About 2 s per GB here; a file already checked unchanged in this process is not re-read.)"""
    from .faults import CORRUPT, DatabaseFault

    path = sqlite_path(engine)
    if path is None:
        return
    key = _stamp(path)
    if key is not None and _checked.get(key):
        return
    with engine.connect() as c:
        rows = [r[0] for r in c.exec_driver_sql("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise DatabaseFault(CORRUPT, path, "完整性检查未通过：" + "；".join(str(r) for r in rows[:3])[:300])
    if key is not None:
        _checked[key] = True


def connect(db: str | Path | None = None, *, migrate: bool = True, write: bool = True) -> Engine:
    """An engine for ``db`` with the schema migrated to the newest revision.

    ``write=True`` (``corpus add``, ``serve``, account changes, restore): an SQLite
    file must pass ``PRAGMA quick_check`` before anything is written, and a
    read-only file or folder is refused up front.  ``write=False`` (queries,
    statistics, export, backup): a read-only file or folder — read-only media —
    is opened read-only; nothing is checked or written unless the schema must be
    upgraded.  Faults raise ``faults.DatabaseFault`` with a Chinese message."""
    from .faults import READ_ONLY, UNAVAILABLE, DatabaseFault, fault_of

    url = normalise_url(db)
    if not url.startswith(("sqlite:", "postgresql+psycopg:", "postgresql:")):
        raise DatabaseFault("error", describe(url), "不支持的数据库地址：请用 SQLite 文件路径或 postgresql://用户@主机/库名")
    path = sqlite_path(url)
    mode = RW
    if path:
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise DatabaseFault(UNAVAILABLE, path, "所在的文件夹不存在")
        mode = open_mode(path)
        if mode != RW and not os.path.exists(path):
            raise DatabaseFault(READ_ONLY, path, "数据库文件不存在，且所在文件夹不可写，无法新建")
        if mode != RW and write:
            raise DatabaseFault(READ_ONLY, path)
    try:
        eng = _engine(url, mode)
        if not migrate:
            return eng
        if write:
            if path and os.path.exists(path) and os.path.getsize(path) > 0:
                quick_check(eng)
            upgrade(eng)
            return eng
        with eng.connect() as c:
            current = current_revision(c)
        if current != head_revision():
            if mode != RW:
                raise DatabaseFault(READ_ONLY, path, "数据库需要升级结构才能使用，请先在可写的位置打开一次")
            if path and current is not None:
                quick_check(eng)
            upgrade(eng)
        return eng
    except DatabaseFault:
        raise
    except Exception as e:
        f = fault_of(e, describe(url))
        if f is None:
            raise
        raise f from e
