"""Substring search over paragraph text, beside the segmented index: names such
as 某某街 or 阴平镇 that the segmenter splits (某某 / 街道) are found as written.

SQLite: an FTS5 table with the ``trigram`` tokenizer over ``paragraphs.body``
(external content, rowid = paragraphs.id; filled here from the stored rows).
PostgreSQL: ``pg_trgm`` and a GIN trigram index on ``paragraphs.body`` when the
extension can be created; without it the search falls back to a bounded scan.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE paragraphs_tri USING fts5(body, content='paragraphs', "
                   "content_rowid='id', tokenize='trigram')")
        op.execute("INSERT INTO paragraphs_tri(paragraphs_tri) VALUES('rebuild')")
    elif bind.dialect.name == "postgresql":
        have = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
        if not have and bind.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
            try:
                with bind.begin_nested():          # a missing privilege must not abort the migration
                    bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                have = True
            except Exception:  # noqa: BLE001 - no privilege: the search scans instead
                have = False
        if have:
            op.execute("CREATE INDEX ix_paragraphs_body_trgm ON paragraphs USING gin (body gin_trgm_ops)")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS paragraphs_tri")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_paragraphs_body_trgm")
