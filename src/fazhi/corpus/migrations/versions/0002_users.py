"""Web accounts: web_users, web_tokens (API tokens, hashed), web_settings.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from fazhi.web.tables import TABLES, metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    metadata.create_all(op.get_bind(), tables=[metadata.tables[t] for t in TABLES])


def downgrade():
    metadata.drop_all(op.get_bind(), tables=[metadata.tables[t] for t in reversed(TABLES)])
