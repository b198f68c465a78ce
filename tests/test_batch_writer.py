"""The batch writer's own thread (``batch._Writer.start``): it stores what the inline
writer stores, its results are counted in the caller's thread, a database fault in
the thread is raised in the caller with only what was committed counted, and the
writer's connection goes back to the pool with SQLite's default page cache."""
import copy
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fazhi.corpus import batch, db, store
from fazhi.pipeline import analyze_bytes

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"


@pytest.fixture(scope="module")
def results():
    """Writer inputs: 12 analysed dev reports, a repeat, a failure and an unsupported file."""
    out = []
    for p in sorted(DEV.glob("*.txt"))[:12]:
        rows = store.rows_of(analyze_bytes(p.read_bytes(), p.name))
        out.append({"sha256": rows["report"]["sha256"], "path": p.name, "rows": rows, "error": None})
    out.insert(5, copy.deepcopy(out[2]))                       # the same file twice: skipped
    out.insert(8, {"sha256": "f" * 64, "path": "bad.pdf", "rows": None, "error": "无法读取"})
    out.append({"sha256": "e" * 64, "path": "x.doc", "rows": None, "error": "不支持", "unsupported": True})
    return out


def _dump(eng) -> dict:
    out = {}
    with eng.connect() as c:
        for t in db.metadata.sorted_tables:
            cols = [col for col in t.columns if (t.name, col.name) not in (("corpus_version", "token"),
                                                                            ("report_changes", "seq"),
                                                                            ("failures", "added_at"))]
            order = list(t.primary_key.columns) or cols
            out[t.name] = [tuple(r) for r in c.execute(select(*cols).order_by(*order))]
        for q in ("SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH '法治' ORDER BY rowid",
                  "SELECT rowid FROM paragraphs_tri WHERE paragraphs_tri MATCH '\"依法行政\"' ORDER BY rowid"):
            out[q] = c.execute(text(q)).all()
    return out


def _run(path, results, *, threaded: bool, commit_every: int = 5):
    eng = db.connect(str(path))
    st = batch.AddStats()
    w = batch._Writer(eng, st, commit_every, batch._Stop())
    if threaded:
        w.start()
    for r in copy.deepcopy(results):
        w.put(r)
    w.close()
    return eng, st


def test_writer_thread_stores_what_the_inline_writer_stores(tmp_path, monkeypatch, results):
    monkeypatch.setattr(store, "now", lambda: "2026-01-01T00:00:00+00:00")
    monkeypatch.setattr(batch._Writer, "WRITE_EVERY", 3)     # groups written between the commits
    one, st1 = _run(tmp_path / "inline.db", results, threaded=False)
    two, st2 = _run(tmp_path / "thread.db", results, threaded=True)
    a, b = _dump(one), _dump(two)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k
    assert len(a["reports"]) == 12 and a["paragraphs"] and a["copy_keys"]
    assert (st2.added, st2.skipped, st2.failed) == (st1.added, st1.skipped, st1.failed) == (12, 1, 1)
    assert st2.write_cpu_seconds > 0


def test_a_fault_in_the_writer_thread_is_raised_in_the_caller(tmp_path, monkeypatch, results):
    """The disk fills after the first commit: the caller gets the fault (``put`` or ``close``),
    the stats count exactly the reports that were committed, the rest is not recorded as failed."""
    path = tmp_path / "c.db"
    eng = db.connect(str(path))
    st = batch.AddStats()
    w = batch._Writer(eng, st, 4, batch._Stop())
    w.start()
    real = store.insert_many
    calls = {"n": 0}

    def full(conn, rows):
        calls["n"] += 1
        if calls["n"] > 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real(conn, rows)

    monkeypatch.setattr(store, "insert_many", full)
    monkeypatch.setattr(store, "insert", lambda conn, rows: full(conn, [rows])[0])
    with pytest.raises(Exception) as e:
        for r in copy.deepcopy(results):
            w.put(r)
        w.close()
    from fazhi.corpus.faults import fault_of

    f = fault_of(e.value, str(path))
    assert f is not None and f.kind != "error", e.value
    w.discard()
    con = sqlite3.connect(path)
    stored = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    failed = con.execute("SELECT count(*) FROM failures").fetchone()[0]
    con.close()
    assert stored == st.added and st.added > 0 and failed == 0


def test_the_writer_connection_gets_the_default_cache_back(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for p in sorted(DEV.glob("*.txt"))[:3]:
        (d / p.name).write_bytes(p.read_bytes())
    path = tmp_path / "c.db"
    st = batch.add([d], str(path), workers=1, progress=False)
    assert st.added == 3
    eng = db.connect(str(path))
    with eng.connect() as c:    # the pooled connection the writer used
        assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -2000


def test_the_writer_sets_its_cache_while_it_writes(tmp_path):
    eng = db.connect(str(tmp_path / "c.db"))
    w = batch._Writer(eng, batch.AddStats(), 10, batch._Stop())
    w.put({"sha256": "f" * 64, "path": "bad.pdf", "rows": None, "error": "无法读取"})
    w._write()
    assert w.conn.exec_driver_sql("PRAGMA cache_size").scalar() == -batch._Writer.CACHE_KB
    w.close()
    assert w.conn is None
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
        assert c.exec_driver_sql("SELECT count(*) FROM failures").scalar() == 1
