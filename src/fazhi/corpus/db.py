"""The corpus database: one data layer (SQLAlchemy Core) for SQLite and PostgreSQL.

``connect(url)`` opens (and migrates, with Alembic) a database:

- a path or ``sqlite:///path`` -> embedded SQLite (the default ``fazhi.db``);
- ``postgresql://…`` -> PostgreSQL through psycopg 3.

Tables: ``reports`` (one row per analysed file, keyed by the sha256 of its
bytes, with metadata, scores and the cleaned text), ``parts``, ``facts``,
``findings``, ``paragraphs`` (the text cut into paragraphs, with a segmented
copy for Chinese full-text search) and ``failures`` (files that could not be
read, with their Chinese error).  Search: SQLite FTS5 over the segmented column
(``paragraphs_fts``); PostgreSQL ``to_tsvector('simple', seg)`` with a GIN index.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from sqlalchemy import (JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text, create_engine, event)
from sqlalchemy.engine import Engine

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
)
Index("ix_reports_unit_year", reports.c.unit, reports.c.year)
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

failures = Table(
    "failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("path", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
)


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


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")     # readers never block the one writer
    cur.execute("PRAGMA synchronous=NORMAL")   # WAL + NORMAL: a crash loses no committed batch
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def migrations_dir() -> str:
    return str(resources.files("fazhi.corpus").joinpath("migrations"))


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    kw = {}
    if url.startswith("sqlite"):
        kw["connect_args"] = {"timeout": 30}
    eng = create_engine(url, **kw)
    if url.startswith("sqlite"):
        event.listen(eng, "connect", _sqlite_pragmas)
    return eng


def connect(db: str | Path | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``db`` with the schema migrated to the newest revision."""
    url = normalise_url(db)
    eng = _engine(url)
    if migrate:
        upgrade(eng)
    return eng
