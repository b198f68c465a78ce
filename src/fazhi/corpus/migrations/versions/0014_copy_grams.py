"""Stored shingles of the compared paragraphs (issue 14): ``copy_reports.grams``, per compared
paragraph its fingerprint, paragraph number, lengths and sorted shingle hashes
(``fazhi.corpus.copy_index.grams_blob``), so that a lookup reads its partners' shingles instead
of reading and normalising their texts.  Reports indexed before this migration have NULL and
are indexed again by the next ``ensure_index`` (or ``fazhi corpus copies --build-index``);
until then their shingles are made from the text, as before.

Only a nullable column added: no table is rebuilt.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("copy_reports", sa.Column("grams", sa.LargeBinary, nullable=True))


def downgrade():
    op.drop_column("copy_reports", "grams")
