"""Copy-detection index (issue 14): per compared paragraph its LSH band keys and sentence
fingerprints (``copy_keys``), and which reports are indexed (``copy_reports``), so that one
report's copies are found by an indexed lookup (``fazhi.corpus.copy_index``) instead of a
recompute of the whole corpus.  Existing reports are indexed by ``fazhi corpus copies
--build-index`` or on the first lookup.

Only new tables and indexes: no table is rebuilt.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "copy_keys",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("para_id", sa.Integer, nullable=False),
    )
    op.create_index("ix_copy_keys_key", "copy_keys", ["key", "kind", "report_id", "para_id"])
    op.create_index("ix_copy_keys_report_id", "copy_keys", ["report_id"])
    op.create_table(
        "copy_reports",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("unit", sa.Text, nullable=False),
    )


def downgrade():
    op.drop_table("copy_reports")
    op.drop_index("ix_copy_keys_report_id", table_name="copy_keys")
    op.drop_index("ix_copy_keys_key", table_name="copy_keys")
    op.drop_table("copy_keys")
