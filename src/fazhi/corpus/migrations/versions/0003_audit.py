"""Session versions on web_users (logout and password changes end sessions) and
the audit log web_audit.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("web_users", sa.Column("session_version", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "web_audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("actor_id", sa.Integer),
        sa.Column("address", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("ok", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_web_audit_action", "web_audit", ["action"])


def downgrade():
    op.drop_index("ix_web_audit_action", "web_audit")
    op.drop_table("web_audit")
    op.drop_column("web_users", "session_version")  # no table rebuild (it would cascade to the tokens)
