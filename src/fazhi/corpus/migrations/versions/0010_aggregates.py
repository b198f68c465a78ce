"""Change log for the aggregates the pages serve (issue 14): a corpus version counter
and, per report, the version of its last change, kept by triggers on ``reports``,
``parts``, ``facts`` and ``findings`` — every writer (``corpus add``, uploads, corrections,
withdrawals, deletes, another program) moves it, so an in-process aggregate
re-reads exactly the reports that changed (``fazhi.web.aggregates``).

Also an index on (is_current, unit, year): the counted-unit lookups of the unit
page read it instead of the table rows (whose text spills onto overflow pages).

Only new tables, an index and triggers: no table is rebuilt.

Revision ID: 0010
Revises: 0009
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WATCHED = (("reports", "id"), ("parts", "report_id"), ("facts", "report_id"), ("findings", "report_id"))


def upgrade():
    op.create_table(
        "corpus_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("token", sa.String(36), nullable=False),   # a new database: a new token
    )
    op.create_table(
        "report_changes",
        sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_report_changes_seq", "report_changes", ["seq"])
    # 0001 creates ``reports`` from the current table definition: a new database has the index already
    if "ix_reports_current_unit" not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("reports")}:
        op.create_index("ix_reports_current_unit", "reports", ["is_current", "unit", "year"])
    op.execute(sa.text("INSERT INTO corpus_version (id, n, token) VALUES (1, 0, :t)").bindparams(t=str(uuid.uuid4())))
    if op.get_bind().dialect.name == "sqlite":
        for table, col in WATCHED:
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                op.execute(
                    f"CREATE TRIGGER trg_{table}_{event.lower()}_change AFTER {event} ON {table} BEGIN "
                    f"UPDATE corpus_version SET n = n + 1 WHERE id = 1; "
                    f"INSERT OR REPLACE INTO report_changes (report_id, seq) "
                    f"SELECT {row}.{col}, n FROM corpus_version WHERE id = 1; END")
    else:
        # the counter row is locked until commit: versions are handed out in commit order
        op.execute("""
CREATE FUNCTION fazhi_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE rid integer; s bigint;
BEGIN
  IF TG_TABLE_NAME = 'reports' THEN
    IF TG_OP = 'DELETE' THEN rid := OLD.id; ELSE rid := NEW.id; END IF;
  ELSE
    IF TG_OP = 'DELETE' THEN rid := OLD.report_id; ELSE rid := NEW.report_id; END IF;
  END IF;
  UPDATE corpus_version SET n = n + 1 WHERE id = 1 RETURNING n INTO s;
  INSERT INTO report_changes (report_id, seq) VALUES (rid, s)
    ON CONFLICT (report_id) DO UPDATE SET seq = EXCLUDED.seq;
  RETURN NULL;
END $$""")
        for table, _col in WATCHED:
            op.execute(f"CREATE TRIGGER trg_{table}_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION fazhi_note_change()")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for table, _col in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_{event}_change")
    else:
        for table, _col in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_change ON {table}")
        op.execute("DROP FUNCTION IF EXISTS fazhi_note_change()")
    op.drop_index("ix_reports_current_unit", "reports")
    op.drop_index("ix_report_changes_seq", "report_changes")
    op.drop_table("report_changes")
    op.drop_table("corpus_version")
