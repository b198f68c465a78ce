"""One check for migration tests: the tables a migration creates are the ones
``fazhi.corpus.db`` declares (no drift between the two)."""
from __future__ import annotations


def drift(db_url: str, names: set[str]) -> list:
    """Alembic's differences between the migrated database and db.py that touch ``names``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fazhi.corpus import db

    eng = db.connect(db_url)
    with eng.connect() as c:
        assert db.current_revision(c) == db.head_revision()
        diffs = compare_metadata(MigrationContext.configure(c), db.metadata)

    def touches(d):
        d = d[0] if isinstance(d, list) else d
        return any(getattr(x, "name", None) in names or getattr(getattr(x, "table", None), "name", None) in names
                   or x in names for x in d[1:])
    return [d for d in diffs if touches(d)]
