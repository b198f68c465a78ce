"""Stored MinHash signatures of the compared paragraphs (issue 14): ``copy_reports.sigs``,
one record per compared paragraph of the report (``fazhi.corpus.copy_index.SIGS``), so that a
lookup reads its partners' signatures instead of hashing their texts again.  Reports indexed
before this migration have NULL and are indexed again by the next ``ensure_index`` (or
``fazhi corpus copies --build-index``); until then their signatures are computed as before.

Only a nullable column added: no table is rebuilt.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("copy_reports", sa.Column("sigs", sa.LargeBinary, nullable=True))


def downgrade():
    op.drop_column("copy_reports", "sigs")
