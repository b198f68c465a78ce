"""Shared fixtures: corpus databases on SQLite and, for real, on PostgreSQL.

The PostgreSQL tests need FAZHI_TEST_PG (``make test`` starts a throw-away
server and sets it, see scripts/with-postgres.sh).  Without it they skip on a
developer's machine and FAIL under CI=true, so CI cannot pass without them.
"""
import os
import uuid

import pytest
from sqlalchemy import create_engine, text

# the pages wait this long for a copy comparison before showing "比对中" (web.queries.copies_for);
# on a loaded test machine 0.2 s can pass: the tests of that behaviour set their own wait
os.environ.setdefault("FAZHI_COPY_WAIT", "120")


def _pg_base():
    url = os.environ.get("FAZHI_TEST_PG")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("FAZHI_TEST_PG is not set in CI: the PostgreSQL server did not start")
        pytest.skip("no PostgreSQL test server (run the suite with `make test`)")
    return url


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    from fazhi.corpus.db import _engine, normalise_url

    base = normalise_url(_pg_base())
    name = "fazhi_t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    _engine.cache_clear()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each corpus test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "corpus.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def app(db_url, tmp_path):
    """The web application over a fresh corpus (SQLite and PostgreSQL); a module may define its own."""
    from test_web_helpers import make_app

    return make_app(db_url, tmp_path)


@pytest.fixture
def admin(app):
    """A TestClient logged in as the administrator, with its CSRF token as ``.csrf``."""
    from test_web_helpers import TestClient, login

    c = TestClient(app)
    c.csrf = login(c)
    return c
