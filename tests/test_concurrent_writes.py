"""Several writers at once (as several ``fazhi serve`` processes sharing one PostgreSQL,
or a CLI batch beside the web app on SQLite): every report is stored once, none is lost,
no writer fails, and the pages' aggregates and the change log still equal a recompute.

On PostgreSQL the change-log trigger locks the counter row until commit (migration
0010), so the writers queue behind each other; this is the test that the queue never
deadlocks with the other locks an insert takes (submissions of the same unit and year,
the sha256 unique index, the copy index)."""
from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from fazhi.corpus import db, store
from fazhi.pipeline import analyze_path, analyze_text

from test_aggregates import _check

DEV = Path(__file__).resolve().parent / "data" / "dev"
WRITERS = 4


def _reports():
    """Dev reports, plus revisions of the same unit and year (they contend for one submission)
    and the same text twice (one of the two inserts must find the other's row)."""
    reps = [analyze_path(p) for p in sorted(DEV.glob("seed-*.txt")) + sorted(DEV.glob("excerpt-*.txt"))[:13]]
    seed = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    reps += [analyze_text(seed + f"\n另：本报告第{i}次修订。\n", f"seed-002-rev{i}.txt") for i in range(4)]
    reps.append(analyze_path(DEV / "seed-004.txt"))        # a duplicate of one above
    return reps


def test_parallel_writers_lose_nothing(db_url):
    db.connect(db_url).dispose()                         # the schema, once
    reps = _reports()
    rows = [store.rows_of(r) for r in reps]
    # every writer stores every report, in the same order: each file and each unit and year is
    # raced for by all of them at once, and exactly one insert of each file may win
    shares = [rows] * WRITERS
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    got: list[int | None] = []
    lock = threading.Lock()

    def writer(mine):
        eng = db.connect(db_url, migrate=False)
        try:
            start.wait(timeout=60)
            for r in mine:
                with eng.begin() as conn:
                    rid = store.insert(conn, r)
                with lock:
                    got.append(rid)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=writer, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"
    assert errors == []
    distinct = {r["report"]["sha256"] for r in rows}
    assert len(got) == WRITERS * len(rows) and sum(1 for x in got if x is not None) == len(distinct)
    eng = db.connect(db_url)
    with eng.connect() as c:
        stored = c.execute(select(func.count()).select_from(db.reports)).scalar()
        shas = {s for (s,) in c.execute(select(db.reports.c.sha256))}
        changed = {r for (r,) in c.execute(select(db.report_changes.c.report_id))}
        ids = {r for (r,) in c.execute(select(db.reports.c.id))}
        t = db.reports.c
        doubled = c.execute(select(t.unit_key, t.year).where(t.is_current, t.unit_key.is_not(None))
                            .group_by(t.unit_key, t.year).having(func.count() > 1)).all()
        seed_unit = c.execute(select(func.count()).select_from(db.reports).where(
            t.is_current, t.unit_key == c.execute(select(t.unit_key).where(
                t.sha256 == rows[0]["report"]["sha256"])).scalar())).scalar()
    assert stored == len(distinct) and shas == distinct
    assert ids <= changed                                 # every stored report is in the change log
    assert doubled == []                     # one current version per unit and year, however the writers raced
    assert seed_unit == 1                    # seed-000's unit and year: one current report
    _check(eng)
