"""Search finds names as written: every paragraph holding a planted unit name
(某某街, 阴平镇 …) on SQLite and PostgreSQL.  The truth is computed here with
Python's ``in`` over every stored paragraph."""
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fazhi.cli import main
from fazhi.corpus import db, store
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).parent / "data" / "dev"
BIG = 100_000


def _planted() -> list:
    s0 = (DEV / "seed-000.txt").read_text(encoding="utf-8")
    s4 = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    out = [analyze_text(s0.replace("荔湖", "某某"), "mm-2022.txt"),                     # 某某街道, 某某街工作委员会
           analyze_text(s0.replace("荔湖", "某某").replace("2022", "2023"), "mm-2023.txt"),
           analyze_text(s4.replace("礼嘉街道", "阴平镇").replace("礼嘉", "阴平"), "yp.txt"),
           analyze_text("某某区2023年度法治政府建设情况报告\n一、主要举措和成效\n"
                        "行政复议决定履行率达到100%，纠错率为5_0（写法照录），另有\"引号\"和反斜杠\\。\n"
                        "阴平镇、某某街均按时报送。", "odd.txt")]
    return out


@pytest.fixture
def corpus(db_url):
    eng = db.connect(db_url)
    for f in sorted(DEV.glob("*.txt")):
        store.add_report(eng, analyze_path(f))
    for r in _planted():
        store.add_report(eng, r)
    return eng


def _truth(eng, s: str) -> set:
    """Paragraphs of counted reports (the current version of each) holding ``s``."""
    p = db.paragraphs.c
    with eng.connect() as c:
        rows = c.execute(select(p.report_id, p.para_no, p.body)
                         .join(db.reports, db.reports.c.id == p.report_id).where(db.counted()))
        return {(r.report_id, r.para_no) for r in rows if s in r.body}


@pytest.mark.parametrize("name", ["某某街", "阴平镇", "某某街道", "阴平", "某某", "街道办事处"])
def test_every_paragraph_with_the_name(corpus, name):
    truth = _truth(corpus, name)
    assert len(truth) >= 3, name
    hits = store.search(corpus, name, limit=BIG)
    got = {(h.report_id, h.para_no) for h in hits}
    assert truth <= got, (name, len(truth - got))
    assert len(got) == len(hits)                       # each paragraph once
    first = [(h.report_id, h.para_no) for h in hits[:len(truth)]]
    assert set(first) == truth                         # the paragraphs holding it as written come first
    assert all(f"【{name}】" in h.snippet for h in hits[:len(truth)])


def test_the_segmented_index_alone_misses_names(corpus):
    truth = _truth(corpus, "某某街")
    with corpus.connect() as c:
        seg = {(r[0], r[1]) for r in store._segmented(c, store.segment("某某街", for_search=False).split(), BIG)}
    assert len(seg & truth) < len(truth)               # the reason for the substring search


def test_limit_bounds_the_work(corpus):
    assert len(store.search(corpus, "某某", limit=3)) == 3
    assert store.search(corpus, "某某街", limit=0) == []


@pytest.mark.parametrize("q", ["100%", "5_0", "0%", "_", "%", '"引号"', "反斜杠\\", "\\"])
def test_like_and_fts_syntax_are_literal(corpus, q):
    truth = _truth(corpus, q)
    assert truth, q
    hits = store.search(corpus, q, limit=BIG)
    assert {(h.report_id, h.para_no) for h in hits[:len(truth)]} == truth, q


def test_substring_search_alone_is_exact(corpus):
    with corpus.connect() as c:
        for q in ("某某街", "阴平镇", "某某", "5_0", "%"):
            got = {(r[0], r[1]) for r in store.substring_search(c, q, BIG)}
            assert got == _truth(corpus, q), q


def test_deleted_report_leaves_the_substring_index(corpus):
    rid = store.search(corpus, "阴平镇", limit=1)[0].report_id
    assert store.delete_report(corpus, rid)
    assert all(h.report_id != rid for h in store.search(corpus, "阴平镇", limit=BIG))
    assert {(h.report_id, h.para_no) for h in store.search(corpus, "阴平镇", limit=BIG)} >= _truth(corpus, "阴平镇")


def test_old_database_gets_the_index(db_url):
    """A database made before the substring index (revision 0003) is filled on upgrade."""
    from alembic import command

    eng = db.connect(db_url)
    for r in _planted():
        store.add_report(eng, r)
    cfg = db._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    db._engine.cache_clear()
    eng2 = db.connect(db_url)
    with eng2.connect() as c:
        assert db.current_revision(c) == db.head_revision()
    got = {(h.report_id, h.para_no) for h in store.search(eng2, "某某街", limit=BIG)}
    assert got >= _truth(eng2, "某某街") and got


def test_search_cli_shows_report_ids(tmp_path):
    path = tmp_path / "s.db"
    eng = db.connect(path)
    ids = [store.add_report(eng, r) for r in _planted()]
    res = CliRunner().invoke(main, ["search", "阴平镇", "--db", str(path)])
    assert res.exit_code == 0, res.output
    assert "编号" in res.output and str(ids[2]) in res.output and "阴平镇" in res.output


def test_trigram_index_exists(db_url):
    eng = db.connect(db_url)
    with eng.connect() as c:
        if db.is_sqlite(eng):
            sql = "SELECT count(*) FROM sqlite_master WHERE name = 'paragraphs_tri'"
        else:   # the test server can create pg_trgm; without the privilege the search scans instead
            sql = "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_paragraphs_body_trgm'"
        assert c.exec_driver_sql(sql).scalar() == 1
