"""Human corrections of an analysis, and the engine's analysis they apply to.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("report_id", sa.Integer),
        sa.Column("target", sa.String(8), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("actor", sa.String(64)),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_corrections_sha256", "corrections", ["sha256"])
    op.create_table(
        "analysis_base",
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("analysis", sa.JSON, nullable=False),
    )


def downgrade():
    op.drop_table("analysis_base")
    op.drop_index("ix_corrections_sha256", "corrections")
    op.drop_table("corrections")
