"""The web application: ``fazhi serve`` (FastAPI, server-rendered Chinese pages, a JSON API).

Modules: ``tables`` (accounts and audit tables; SQLAlchemy only, imported by the
Alembic migrations), ``audit`` (the audit log), ``auth`` (passwords, sessions,
API tokens, CSRF, and the request helpers: ``current_user``, ``require_admin``,
``login_attempt``…), ``throttle`` (login throttling), ``pools`` (bounded worker
pools for hashing and uploads), ``uploads`` (content sniffing, limits, storage),
``queries`` (what the pages show, built on ``fazhi.corpus``), ``responses``
(downloads), ``app`` (the application, its middleware and Chinese error
answers), ``pages`` and ``api`` (routes), ``server`` (uvicorn with deadlines
for slow clients), ``commands`` (``fazhi serve`` and ``fazhi user``).
Imports point one way: app -> pages, api -> auth, queries, responses, uploads.

Keep this file free of imports: the migration imports ``fazhi.web.tables`` and
must work where the web dependencies are not installed.
"""
