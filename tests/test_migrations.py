"""Upgrading a database that holds data keeps every row: no migration rebuilds a
table (on SQLite a rebuild drops the table, and ON DELETE CASCADE then deletes every
part, fact, finding, paragraph or token under it).  The same going back down."""
from __future__ import annotations

from sqlalchemy import text

from fazhi.corpus import db

COUNTED = ("reports", "parts", "facts", "findings", "paragraphs", "web_users", "web_tokens")


def _migrate(eng, fn, target):
    from alembic import command

    cfg = db._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, target)


def _counts(eng) -> dict:
    with eng.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}


def _fill(eng) -> None:
    """Rows as a database of revision 0003 holds them (raw SQL: the tables of then)."""
    with eng.begin() as c:
        for i in (1, 2):
            c.execute(text("INSERT INTO reports (id, sha256, path, format, unit, year, parts_found, parts_missing, "
                           "n_facts, n_errors, n_warnings, text, added_at) VALUES (:i, :sha, :p, 'txt', :u, 2023, "
                           "'achievements', '', 1, 0, 0, '全年办理行政复议案件12件。', '2024-03-01T00:00:00+00:00')"),
                      {"i": i, "sha": f"{i:064d}", "p": f"r{i}.txt", "u": f"第{i}街道"})
            c.execute(text("INSERT INTO parts (report_id, part, heading, start, \"end\") "
                           "VALUES (:i, 'achievements', '一、主要举措和成效', 0, 10)"), {"i": i})
            c.execute(text("INSERT INTO facts (report_id, indicator, value, unit, approx, part, quote, start, \"end\") "
                           "VALUES (:i, 'review.cases', 12, '件', :f, 'achievements', '12件', 10, 13)"),
                      {"i": i, "f": False})
            c.execute(text("INSERT INTO findings (report_id, rule, severity, message) "
                           "VALUES (:i, 'parts.order', 'info', '顺序')"), {"i": i})
            c.execute(text("INSERT INTO paragraphs (report_id, para_no, part, start, body, seg) "
                           "VALUES (:i, 0, 'achievements', 0, '全年办理行政复议案件12件。', '全年 办理 行政复议 案件')"),
                      {"i": i})
        c.execute(text("INSERT INTO web_users (id, username, password_hash, role, created_at, session_version) "
                       "VALUES (7, 'reader', 'x', 'viewer', '2024', 0)"))
        c.execute(text("INSERT INTO web_tokens (user_id, name, token_hash, prefix, created_at) "
                       "VALUES (7, 't', :h, 'fz_', '2024')"), {"h": "a" * 64})


def test_upgrading_a_filled_database_keeps_every_row(db_url):
    eng = db.connect(db_url)
    _migrate(eng, "downgrade", "0003")
    _fill(eng)
    before = _counts(eng)
    assert before == {"reports": 2, "parts": 2, "facts": 2, "findings": 2, "paragraphs": 2, "web_users": 1,
                      "web_tokens": 1}
    _migrate(eng, "upgrade", "head")
    assert _counts(eng) == before
    with eng.connect() as c:
        assert db.current_revision(c) == db.head_revision()
        # the existing reports are counted after the upgrade (each its own current version)
        assert c.execute(text("SELECT count(*) FROM reports WHERE is_current")).scalar() == 2
    _migrate(eng, "downgrade", "0003")
    assert _counts(eng) == before
