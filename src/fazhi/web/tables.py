"""Accounts tables of the web application (SQLAlchemy Core only).

Created by the Alembic migrations ``0002_users`` and ``0003_audit`` next to the
corpus tables, in the same database (SQLite or PostgreSQL):

- ``web_users``: user name, argon2 password hash, role (``admin`` / ``viewer`` /
  ``unit``: a reporting unit that submits its own report and sees only that),
  ``session_version`` (a session cookie carries the version it was made with;
  logout, a password change or reset bump it, so older cookies stop working);
- ``web_tokens``: API tokens (only their sha256 is stored), one user each;
- ``web_settings``: key/value, e.g. the generated session-signing secret;
- ``web_unit_submissions``: which unit account submitted which report, when;
- ``web_audit``: the audit log — logins (and failed ones), logouts, uploads,
  deletions, exports, corrections, account changes; from the web and the CLI.

This module imports nothing but SQLAlchemy so the migrations run wherever
the corpus does, with or without the web dependencies.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_login", String(32)),
    Column("session_version", Integer, nullable=False, default=0, server_default="0"),
    Column("unit", Text),                 # role ``unit``: the roster unit the account reports for (0008)
)

tokens = Table(
    "web_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_used", String(32)),
)

settings = Table(
    "web_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audit = Table(
    "web_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(64)),          # user name (as typed, for a failed login), or the OS user of the CLI
    Column("actor_id", Integer),          # no foreign key: the record outlives the account
    Column("address", String(64)),        # client address, or "命令行"
    Column("action", String(32), nullable=False, index=True),
    Column("target", Text),
    Column("detail", Text),
    Column("ok", Boolean, nullable=False, default=True),
)

# reports a unit account submitted (role ``unit``), with their receipt time (0008)
submissions = Table(
    "web_unit_submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, nullable=False, index=True),   # reports.id (a corpus table)
    Column("user_id", Integer, nullable=False),
    Column("unit", Text, nullable=False),
    Column("received_at", String(32), nullable=False),
)

TABLES = ["web_users", "web_tokens", "web_settings", "web_audit", "web_unit_submissions"]
