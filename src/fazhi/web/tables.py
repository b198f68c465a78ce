"""Accounts tables of the web application (SQLAlchemy Core only).

Created by the Alembic migration ``0002_users`` next to the corpus tables, in
the same database (SQLite or PostgreSQL):

- ``web_users``: user name, argon2 password hash, role (``admin`` / ``viewer``);
- ``web_tokens``: API tokens (only their sha256 is stored), one user each;
- ``web_settings``: key/value, e.g. the generated session-signing secret.

This module imports nothing but SQLAlchemy so the migration runs wherever
the corpus does, with or without the web dependencies.
"""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_login", String(32)),
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

TABLES = ["web_users", "web_tokens", "web_settings"]
