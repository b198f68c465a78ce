"""Submissions: one current report per unit and year (corpus/submissions.py).

A table ``submissions`` (id, unit_key, year, received_at) and new columns on reports: unit_key, title_key, submission_id, version, is_current, received_at,
genre, genre_ok, accepted, withdrawn_at, withdraw_reason; then every stored row
is placed (other formats of the same text join one version, a different text of
the same unit and year is a revision, the genre is checked).

(0001 creates ``reports`` from the current table definition, so on a new database
the columns exist already: only the missing ones are added.)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = [
    sa.Column("unit_key", sa.Text),
    sa.Column("title_key", sa.String(100)),
    sa.Column("submission_id", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("is_current", sa.Boolean, nullable=False, server_default="1"),
    sa.Column("received_at", sa.String(32)),
    sa.Column("genre", sa.Text),
    sa.Column("genre_ok", sa.Boolean, nullable=False, server_default="1"),
    sa.Column("accepted", sa.Boolean, nullable=False, server_default="0"),
    sa.Column("withdrawn_at", sa.String(32)),
    sa.Column("withdraw_reason", sa.Text),
]
INDEXES = {"ix_reports_unit_key_year": ["unit_key", "year"], "ix_reports_title_key": ["title_key"], "ix_reports_submission": ["submission_id"],
           "ix_reports_current": ["is_current"]}


def upgrade():
    bind = op.get_bind()
    insp = sa.inspect(bind)
    if not insp.has_table("submissions"):
        op.create_table(
            "submissions",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("unit_key", sa.Text),
            sa.Column("year", sa.Integer),
            sa.Column("received_at", sa.String(32)),
        )
    have = {c["name"] for c in insp.get_columns("reports")}
    missing = [c for c in COLUMNS if c.name not in have]
    # plain ALTER TABLE ADD COLUMN (literal defaults): never a table rebuild, which on
    # SQLite would drop ``reports`` and, through ON DELETE CASCADE, every row under it
    for c in missing:
        op.add_column("reports", c)
    have_ix = {i["name"] for i in sa.inspect(bind).get_indexes("reports")}
    for name, cols in INDEXES.items():
        if name not in have_ix:
            op.create_index(name, "reports", cols)
    from fazhi.corpus.submissions import rebuild

    rebuild(bind)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, "reports")
    for c in COLUMNS:   # ALTER TABLE DROP COLUMN (SQLite >= 3.35): no rebuild, no cascade
        op.drop_column("reports", c.name)
    op.drop_table("submissions")
