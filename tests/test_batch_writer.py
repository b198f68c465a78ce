"""The batch writer's SQLite connection: a large page cache while ``corpus add`` writes
(the copy index's key index and the full-text indexes are written at random places),
the default again once the connection goes back to the pool."""
from pathlib import Path

from fazhi.corpus import batch, db

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"


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
    # what the writer thread runs for a group handed to it (not committed yet)
    w._group([{"sha256": "f" * 64, "path": "bad.pdf", "rows": None, "error": "无法读取"}], commit=False)
    assert w.conn.exec_driver_sql("PRAGMA cache_size").scalar() == -batch._Writer.CACHE_KB
    w.close()   # commits what was written
    assert w.conn is None
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
        assert c.exec_driver_sql("SELECT count(*) FROM failures").scalar() == 1


def test_groups_are_written_in_the_writer_thread_and_counted_by_the_caller(tmp_path, monkeypatch):
    """``put`` hands every WRITE_EVERY results to the writer thread and goes on; the
    outcomes are counted (``stats``) in the caller's thread when the next group is handed
    over or at ``close``."""
    import threading

    from fazhi.corpus import store

    eng = db.connect(str(tmp_path / "c.db"))
    where = []
    real = store.record_failure

    def spy(conn, *a, **k):
        where.append(threading.current_thread())
        return real(conn, *a, **k)

    monkeypatch.setattr(store, "record_failure", spy)
    st = batch.AddStats()
    w = batch._Writer(eng, st, 1000, batch._Stop())
    n = batch._Writer.WRITE_EVERY
    for k in range(n + 3):
        w.put({"sha256": f"{k:064x}", "path": f"f{k}.pdf", "rows": None, "error": "无法读取"})
    assert w._job is not None and len(w.incoming) == 3   # one group in the thread's hands, 3 waiting
    assert st.failed == 0                                  # nothing committed, nothing counted yet
    w.close()
    assert st.failed == n + 3 and w.conn is None and w._pool is None
    assert len(where) == n + 3 and threading.main_thread() not in where
    with eng.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM failures").scalar() == n + 3
