"""Rules per place: the attached rule files, the rule set each report was checked
with, and the receipt date (收到日期) an office records.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


COLUMNS = [sa.Column("rules_id", sa.Integer), sa.Column("received_on", sa.String(10))]


def upgrade():
    op.create_table(
        "rule_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("attached_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("province", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("detached_at", sa.String(32)),
    )
    # plain ADD COLUMN (never a table rebuild: a rebuild cascades deletions); a new
    # database has them already (0001 creates ``reports`` from the current metadata)
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("reports")}
    for c in COLUMNS:
        if c.name not in have:
            op.add_column("reports", c)


def downgrade():
    op.drop_column("reports", "received_on")
    op.drop_column("reports", "rules_id")
    op.drop_table("rule_sets")
