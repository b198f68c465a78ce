"""Unit accounts: the roster unit a ``unit`` account reports for, and the reports
such accounts submitted (with their receipt time).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("web_users", sa.Column("unit", sa.Text))
    op.create_table(
        "web_unit_submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_web_unit_submissions_report_id", "web_unit_submissions", ["report_id"])


def downgrade():
    op.drop_index("ix_web_unit_submissions_report_id", "web_unit_submissions")
    op.drop_table("web_unit_submissions")
    op.drop_column("web_users", "unit")  # no table rebuild (it would cascade to the tokens)
