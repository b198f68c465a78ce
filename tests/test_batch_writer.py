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
