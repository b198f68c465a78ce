"""The pages' aggregates (``fazhi.web.aggregates``) equal a fresh recompute after every
kind of write: inserts, a revision, deletes, corrections, withdrawals and their undoing,
and a write by another process (the change log is kept by database triggers)."""
from __future__ import annotations

import json
import statistics
import random
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fazhi.corpus import corrections as cm
from fazhi.corpus import db, stats, store, submissions
from fazhi.pipeline import analyze_path
from fazhi.web import aggregates, queries

DEV = Path(__file__).resolve().parent / "data" / "dev"
FILTERS = [(None, None), (2023, None), (None, "county"), (None, "township"), (2022, "township")]


def _canon(x):
    return json.loads(json.dumps(x, ensure_ascii=False, default=str, sort_keys=True))


def _check(eng) -> None:
    """Every aggregate the pages read equals the recompute from the tables."""
    for year, level in FILTERS:
        got = queries.dashboard(eng, year=year, level=level)
        want = queries.dashboard_fresh(eng, year=year, level=level)
        assert _canon(got) == _canon(want), (year, level)
        assert _canon(queries.corpus_stats(eng, year=year, level=level)) == \
            _canon(stats.corpus_stats(eng, year=year, level=level))
        for ind in [i["id"] for i in queries.indicators_in_corpus_fresh(eng)][:3]:
            assert _canon(queries.indicator_chart(eng, ind, year=year, level=level)) == \
                _canon(queries.indicator_chart_fresh(eng, ind, year=year, level=level))
    assert queries.facets(eng) == queries.facets_fresh(eng)
    assert queries.indicators_in_corpus(eng) == queries.indicators_in_corpus_fresh(eng)
    assert queries.counted_reports(eng) == store.count(eng)[0]
    with eng.connect() as c:
        units = {u for (u,) in c.execute(select(db.reports.c.unit).where(db.counted())) if u}
    from fazhi.corpus import follow as fl

    snap = aggregates.snapshot(eng)
    for u in sorted(units)[:5] + [u[:3] for u in sorted(units)[:2]]:
        assert queries.matching_units(eng, u) == queries.matching_units_fresh(eng, u)
        assert fl.year_pairs(eng, u, names=snap.follow_names(u)) == fl.year_pairs(eng, u) == _scanned(eng, u)


def _scanned(eng, unit):
    """year_pairs over every report, kept where the first report's unit matches ``unit``
    (the reference: no name lookup at all)."""
    from fazhi.corpus import follow as fl
    from fazhi.evaluate import norm_unit

    with eng.connect() as c:
        units = dict(c.execute(select(db.reports.c.id, db.reports.c.unit)).all())
    return [p for p in fl.year_pairs(eng, names=None) if units[p[0]] and
            (norm_unit(units[p[0]]) == norm_unit(unit) or unit in units[p[0]])]


def _add(eng, name):
    return store.add_report(eng, analyze_path(DEV / f"{name}.txt"))


def test_aggregates_follow_every_write(db_url, tmp_path):
    eng = db.connect(db_url)
    _check(eng)                                   # empty corpus
    ids = {n: _add(eng, n) for n in ("seed-000", "seed-002", "seed-004", "excerpt-002", "excerpt-004")}
    assert queries.dashboard(eng)["reports"] == store.count(eng)[0] > 0
    _check(eng)
    ids["excerpt-007"] = _add(eng, "excerpt-007")        # an insert after the aggregates were built
    _check(eng)
    # a revision of a report (same unit and year, other text): the old version stops counting
    src = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    p = tmp_path / "seed-002-rev.txt"
    p.write_text(src.replace("。", "。", 1) + "\n另：本报告为修订版。\n", encoding="utf-8")
    store.add_report(eng, analyze_path(p))
    _check(eng)
    before = queries.dashboard(eng)["reports"]
    store.delete_report(eng, ids["excerpt-002"])      # a delete
    assert queries.dashboard(eng)["reports"] == before - 1
    _check(eng)
    # corrections: a report's unit, year and a fact's value, and a finding dismissed
    rid = ids["excerpt-004"]
    with eng.begin() as c:
        cm.record(c, rid, "meta", "unit", "阴平镇人民政府", reason="以落款为准", actor="王科员")
        cm.apply(c, rid)
    _check(eng)
    with eng.connect() as c:
        f = c.execute(select(db.facts).where(db.facts.c.report_id == ids["seed-004"],
                                             db.facts.c.indicator.is_not(None))).mappings().first()
        fi = c.execute(select(db.findings).where(db.findings.c.report_id == ids["seed-000"])).mappings().first()
    if f is not None:
        with eng.begin() as c:
            cm.record(c, ids["seed-004"], "fact", "value", "98765", key=f["id"], reason="核对", actor="王科员")
            cm.apply(c, ids["seed-004"])
        _check(eng)
    if fi is not None:
        with eng.begin() as c:
            cm.record(c, ids["seed-000"], "finding", "status", "dismissed", key=fi["id"], reason="核对", actor="王科员")
            cm.apply(c, ids["seed-000"])
        _check(eng)
    # a withdrawal and its undoing
    with eng.begin() as c:
        submissions.withdraw(c, ids["excerpt-007"], "测试撤回")
    _check(eng)
    with eng.begin() as c:
        submissions.restore(c, ids["excerpt-007"])
    _check(eng)
    # a write the aggregates' process did not make (raw SQL, as another program would)
    with eng.begin() as c:
        c.execute(text("UPDATE reports SET score_total = 12.5, n_errors = 9 WHERE id = :i"), {"i": ids["seed-000"]})
    _check(eng)
    # and a new database at the same place starts over
    store.delete_report(eng, ids["seed-000"])
    _check(eng)


def test_follow_pairs_from_the_aggregates_names(db_url, tmp_path):
    from test_web_helpers import next_year_of

    from fazhi.corpus import follow as fl

    eng = db.connect(db_url)
    text_ = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    _add(eng, "seed-004")
    p = tmp_path / "礼嘉街道-2023.txt"
    p.write_text(next_year_of(text_), encoding="utf-8")
    store.add_report(eng, analyze_path(p))
    _add(eng, "seed-000")
    snap = aggregates.snapshot(eng)
    for u in ("礼嘉街道", "礼嘉", "重庆市渝北区礼嘉街道办事处"):
        want = fl.year_pairs(eng, u)
        assert fl.year_pairs(eng, u, names=snap.follow_names(u)) == want == _scanned(eng, u)
    assert fl.year_pairs(eng, "礼嘉街道")     # the two years pair


def test_change_log_names_each_report_written(db_url):
    eng = db.connect(db_url)
    with eng.connect() as c:
        n0 = c.execute(select(db.corpus_version.c.n)).scalar_one()
    rid = _add(eng, "seed-000")
    with eng.connect() as c:
        n1 = c.execute(select(db.corpus_version.c.n)).scalar_one()
        logged = {r for (r,) in c.execute(select(db.report_changes.c.report_id)
                                          .where(db.report_changes.c.seq > n0))}
    assert n1 > n0 and logged == {rid}
    with eng.begin() as c:
        c.execute(text("DELETE FROM findings WHERE report_id = :i"), {"i": rid})
    with eng.connect() as c:
        assert c.execute(select(db.report_changes.c.seq).where(db.report_changes.c.report_id == rid)).scalar_one() \
            > n1


def test_a_snapshot_reads_only_the_reports_that_changed(db_url, monkeypatch):
    eng = db.connect(db_url)
    a = _add(eng, "seed-000")
    _add(eng, "seed-002")
    snap = aggregates.snapshot(eng)
    assert set(snap.reps) >= {a}
    seen = []
    real = aggregates._load
    monkeypatch.setattr(aggregates, "_load", lambda conn, ids: seen.append(ids) or real(conn, ids))
    b = _add(eng, "seed-004")
    aggregates.snapshot(eng)
    assert seen == [[b]]
    aggregates.snapshot(eng)                     # nothing changed: nothing read
    assert seen == [[b]]


def test_quartiles_of_sorted_scores_equal_statistics():
    rng = random.Random(5)
    for _ in range(500):
        xs = sorted(round(rng.uniform(0, 100), rng.choice([0, 1, 2])) for _ in range(rng.randint(2, 40)))
        q = stats.quartiles_sorted(xs)
        assert [q["q1"], q["median"], q["q3"]] == \
            [round(x, 2) for x in statistics.quantiles(xs, n=4, method="inclusive")]
        assert q["mean"] == round(statistics.fmean(xs), 2)


def test_migration_tables_match_db_py(db_url):
    from schema_drift import drift

    assert drift(db_url, {"corpus_version", "report_changes", "ix_reports_current_unit",
                          "ix_report_changes_seq"}) == []


@pytest.mark.parametrize("target", ["0008"])
def test_downgrade_and_upgrade_keep_rows(db_url, target):
    from alembic import command

    eng = db.connect(db_url)
    _add(eng, "seed-000")
    cfg = db._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM reports")).scalar() == 1
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with eng.connect() as c:
        assert c.execute(text("SELECT count(*) FROM facts")).scalar() > 0
    _add(eng, "seed-002")
    _check(eng)


def test_a_restored_backup_is_another_database_for_the_caches(tmp_path):
    """A process keeps (token, n) of the change log: a backup restored under it, then written
    to past the version it had seen, must not pass for later writes to the same database.
    The restore gives the database a new token; the stored results (``derived_state``) of the
    restored rows stay current."""
    from fazhi.corpus import backup, derived

    path = tmp_path / "c.db"
    eng = db.connect(path)
    _add(eng, "excerpt-002")
    derived.refresh(eng)
    with eng.connect() as c:
        tok0, _ = db.change_version(c)
        assert derived.state(c, derived.COPIES)[0] == tok0
    backup.backup(path, tmp_path / "b.db")
    for n in ("excerpt-004", "excerpt-007"):
        _add(eng, n)
    _check(eng)                                    # the snapshot holds the three reports
    seen = aggregates.snapshot(eng).seen
    backup.restore(tmp_path / "b.db", path)
    _add(eng, "seed-000")                          # takes the id of excerpt-004, not of excerpt-007
    with eng.connect() as c:
        tok, n_now = db.change_version(c)
        assert derived.state(c, derived.COPIES)[0] == tok != tok0
    assert n_now > seen                            # the case a (token, n) check alone would miss
    _check(eng)
    assert queries.counted_reports(eng) == 2
