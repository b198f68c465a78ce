"""Stored results of the corpus-wide analyses the workbook shows (issue 14): every counted
report's copy share and sources (``copy_shares``), the follow-through of every (N, N+1)
pair (``follow_results``), and which corpus version (migration 0010's ``corpus_version``)
they were computed for (``derived_state``).  ``fazhi.corpus.derived`` keeps them current.

Only new tables: no table is rebuilt.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "derived_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "copy_shares",
        sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("unit", sa.Text, nullable=True),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("date", sa.String(10), nullable=True),
        sa.Column("chars", sa.Integer, nullable=False),
        sa.Column("copied_chars", sa.Integer, nullable=False),
        sa.Column("other_chars", sa.Integer, nullable=False),
        sa.Column("own_chars", sa.Integer, nullable=False),
        sa.Column("paragraphs", sa.Integer, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
    )
    op.create_table(
        "follow_results",
        sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("next_report", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
    )


def downgrade():
    op.drop_table("follow_results")
    op.drop_table("copy_shares")
    op.drop_table("derived_state")
