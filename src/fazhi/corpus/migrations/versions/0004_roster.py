"""The roster of units that must report (应报单位名单) per year, and the manual
assignments of reports (or unreadable files) to roster units.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "roster_units",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("deadline", sa.String(10)),
        sa.Column("contact", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("imported_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("year", "name", name="uq_roster_units_year_name"),
    )
    op.create_index("ix_roster_units_year", "roster_units", ["year"])
    op.create_table(
        "roster_assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"), unique=True),
        sa.Column("failure_id", sa.Integer, sa.ForeignKey("failures.id", ondelete="CASCADE"), unique=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("unit_name", sa.Text, nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("at", sa.String(32), nullable=False),
    )


def downgrade():
    op.drop_table("roster_assignments")
    op.drop_index("ix_roster_units_year", "roster_units")
    op.drop_table("roster_units")
