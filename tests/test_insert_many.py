"""``store.insert_many`` (the batch writer's path) stores exactly what a loop of
``store.insert`` stores: every row of every table, ids included, with the
submissions placement (same text / revision / new), human corrections, a failure
superseded by a report, a withdrawn version, repeats and already-stored files."""
import copy
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fazhi.corpus import corrections as cm, db, store, submissions
from fazhi.pipeline import analyze_bytes

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
NOW = "2026-01-01T00:00:00+00:00"


def _synthetic(n: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of n synthetic reports (bench/gen_corpus.py: made-up units sharing a
    name, so that (unit, year) and titles collide and revisions are placed)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gen_corpus
    finally:
        sys.path.pop(0)
    bases = gen_corpus.stems_of(DEV)
    out = []
    for i in range(n):
        name, body, unit, stem = bases[i % len(bases)]
        import random

        t = gen_corpus.perturb(body, unit, stem, gen_corpus.made_up_name(i // 5, 3), random.Random(f"3:{i}"))
        out.append((f"g{i:03d}-{name}.txt", t.encode("utf-8")))
    return out


@pytest.fixture(scope="module")
def batch_rows():
    files = _synthetic(60)
    dev = sorted(DEV.glob("*.txt"))
    a, b = dev[0].read_bytes(), dev[1].read_bytes()
    files += [
        ("same-as-dev0.txt", a + b"\n\n"),                       # the same text in another file: joins its version
        ("revision-of-dev0.txt", a.replace(b"2", b"3", 3)),        # figures changed: a revision
        (dev[1].name, b),                                         # corrected before (below)
        ("failed-before.txt", dev[2].read_bytes()),               # a failure recorded before: superseded
        ("withdrawn-twin.txt", dev[3].read_bytes() + b"\n"),      # the same text as a withdrawn report
        ("repeat.txt", files[5][1]),                              # the same bytes twice in the batch
    ]
    rows = []
    for name, data in files:
        r = analyze_bytes(data, name)
        rows.append(store.rows_of(r))
    pre = [store.rows_of(analyze_bytes(p.read_bytes(), p.name)) for p in (dev[0], dev[1], dev[3])]
    return pre, rows, store.rows_of(analyze_bytes(dev[2].read_bytes(), dev[2].name))["report"]["sha256"]


def _setup(url: str, pre, failed_sha: str):
    eng = db.connect(url)
    with eng.begin() as c:
        ids = [store.insert(c, copy.deepcopy(r)) for r in pre]
        # corrections of dev[1], kept when its report is deleted: re-adding the file applies them
        fact = c.execute(select(db.facts.c.id).where(db.facts.c.report_id == ids[1],
                                                     db.facts.c.indicator.is_not(None)).limit(1)).scalar()
        cm.record(c, ids[1], "meta", "unit", "某某纠正后的单位", reason="核对原文", actor="王科员")
        if fact is not None:
            cm.record(c, ids[1], "fact", "value", 999, key=fact, actor="王科员")
        store.delete_report(c, ids[1])
        store.record_failure(c, failed_sha, "failed-before.txt", "分析超时")
        submissions.withdraw(c, ids[2], "报错单位", at=NOW)
    return eng


def _second_db(db_url: str, tmp_path, request) -> str:
    """Another fresh database of the same kind as ``db_url``."""
    if "://" not in db_url:
        return str(tmp_path / "many.db")
    from sqlalchemy import create_engine

    base, name = db_url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}_m"'))

    def drop():
        db._engine.cache_clear()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}_m" WITH (FORCE)'))
        admin.dispose()
    request.addfinalizer(drop)
    return f"{base}/{name}_m"


def _dump(eng) -> dict:
    out = {}
    with eng.connect() as c:
        for t in db.metadata.sorted_tables:
            # the change log's random database id and its stamps' order (statements differ,
            # every report is stamped all the same) are no part of what is stored
            cols = [col for col in t.columns if (t.name, col.name) not in (("corpus_version", "token"),
                                                                            ("report_changes", "seq"))]
            order = list(t.primary_key.columns) or cols   # a table without a key (copy_keys): every column
            out[t.name] = [tuple(r) for r in c.execute(select(*cols).order_by(*order))]
        if db.is_sqlite(eng):
            for q in ("SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH '法治' ORDER BY rowid",
                      "SELECT rowid FROM paragraphs_tri WHERE paragraphs_tri MATCH '\"依法行政\"' ORDER BY rowid",
                      "SELECT count(*) FROM paragraphs_fts", "SELECT count(*) FROM paragraphs_tri"):
                out[q] = c.execute(text(q)).all()
    return out


def test_insert_many_stores_the_same_rows_as_insert(db_url, tmp_path, monkeypatch, request, batch_rows):
    monkeypatch.setattr(store, "now", lambda: NOW)
    pre, rows, failed_sha = batch_rows
    one = _setup(db_url, pre, failed_sha)
    many = _setup(_second_db(db_url, tmp_path, request), pre, failed_sha)
    with one.begin() as c:
        ids_one = [store.insert(c, r) for r in copy.deepcopy(rows)]
    got = copy.deepcopy(rows)
    ids_many = []
    with many.begin() as c:
        for k in range(0, len(got), 17):   # batches that split runs of related reports
            ids_many += store.insert_many(c, got[k:k + 17])
    assert ids_many == ids_one
    kinds = [r.get("placement", {}).get("kind") for r in got]
    assert {"new", "same", "revision"} <= set(kinds), kinds      # every placement was exercised
    assert ids_one[-1] is None                                   # the repeat
    a, b = _dump(one), _dump(many)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k
    assert a["corrections"] and a["failures"] == []              # the failure was superseded
    with many.connect() as c:
        unit = c.execute(select(db.reports.c.unit).where(db.reports.c.path == pre[1]["report"]["path"])).scalar()
        wd = c.execute(select(db.reports.c.withdrawn_at).where(db.reports.c.path == "withdrawn-twin.txt")).scalar()
    assert unit == "某某纠正后的单位"                             # the correction was applied
    assert wd == NOW                                             # joined the withdrawn version
    # the copy keys came with the rows (computed where each report was analysed); computed
    # again here from the stored texts and unit names they are the same rows — the corrected
    # unit's report included (its keys were computed at insert, the rows' unit being stale)
    from fazhi.corpus import copy_index

    with many.begin() as c:
        copy_index.index_reports(c, [i for i in ids_many if i is not None] +
                                 [x for (x,) in c.execute(select(db.reports.c.id))])
    again = _dump(many)
    assert again["copy_keys"] and again["copy_keys"] == b["copy_keys"]
    assert again["copy_reports"] == b["copy_reports"]
