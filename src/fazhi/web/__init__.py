"""The web application: ``fazhi serve`` (FastAPI, server-rendered Chinese pages, a JSON API).

Modules: ``tables`` (accounts tables; SQLAlchemy only, imported by the Alembic
migration), ``auth`` (passwords, sessions, API tokens, CSRF), ``uploads``
(content sniffing, limits, storage), ``queries`` (what the pages show, built on
``fazhi.corpus``), ``app`` (the application), ``pages`` and ``api`` (routes),
``commands`` (``fazhi serve`` and ``fazhi user``).

Keep this file free of imports: the migration imports ``fazhi.web.tables`` and
must work where the web dependencies are not installed.
"""
