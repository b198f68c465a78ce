"""Initial corpus schema: reports, parts, facts, findings, paragraphs, failures,
and the full-text index (SQLite FTS5 / PostgreSQL GIN over to_tsvector).

Revision ID: 0001
Revises:
"""
from alembic import op

from fazhi.corpus.db import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ["reports", "parts", "facts", "findings", "paragraphs", "failures"]


def upgrade():
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[t] for t in TABLES])
    if bind.dialect.name == "sqlite":
        # segmented paragraphs; rowid = paragraphs.id; unicode61 splits on the spaces
        op.execute("CREATE VIRTUAL TABLE paragraphs_fts USING fts5(seg, tokenize='unicode61')")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_paragraphs_seg ON paragraphs USING gin (to_tsvector('simple', seg))")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS paragraphs_fts")
    metadata.drop_all(bind, tables=[metadata.tables[t] for t in reversed(TABLES)])
