"""The corpus store on SQLite and PostgreSQL: migrations, rows, idempotence, search."""
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from fazhi.cli import main
from fazhi.corpus import db, store
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).parent / "data" / "dev"


@pytest.fixture(scope="module")
def dev_reports():
    return [analyze_path(f) for f in sorted(DEV.glob("*.txt"))]


def test_add_rows_and_idempotence(db_url, dev_reports):
    eng = db.connect(db_url)
    ids = [store.add_report(eng, r) for r in dev_reports]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(dev_reports)
    assert store.count(eng) == (len(dev_reports), 0)
    assert store.add_report(eng, dev_reports[0]) is None  # same sha256: nothing changes
    eng2 = db.connect(db_url)  # re-opening migrates nothing and keeps the rows
    assert store.count(eng2) == (len(dev_reports), 0)
    r = dev_reports[-1]
    with eng.connect() as c:
        row = c.execute(select(db.reports).where(db.reports.c.sha256 == r.source.sha256)).mappings().one()
        assert (row["unit"], row["year"], row["text"]) == (r.meta.unit, r.meta.year, r.text)
        assert row["scores"]["total"] == r.scores["total"]
        nf = c.execute(select(func.count()).select_from(db.facts).where(db.facts.c.report_id == row["id"])).scalar()
        assert nf == len(r.facts)
        parts = c.execute(select(db.parts.c.part).where(db.parts.c.report_id == row["id"])).scalars().all()
        assert parts == [p.part for p in r.parts]


def test_failures_recorded_once(db_url):
    eng = db.connect(db_url)
    with eng.begin() as c:
        assert store.record_failure(c, "ab" * 32, "bad.pdf", "PDF 文件已损坏或不完整，无法读取")
        assert not store.record_failure(c, "ab" * 32, "bad.pdf", "again")
    assert store.count(eng) == (0, 1)
    with eng.connect() as c:
        assert "ab" * 32 in store.known_hashes(c)


@pytest.mark.parametrize("query,unit", [
    ("智慧法律服务", "礼嘉街道"),   # a phrase across words
    ("出庭应诉", "荔湖街"),
    ("普法", None),                # a two-character term (trigram indexes miss these)
])
def test_search_chinese(db_url, dev_reports, query, unit):
    eng = db.connect(db_url)
    for r in dev_reports:
        store.add_report(eng, r)
    hits = store.search(eng, query)
    assert hits, query
    assert all(query in h.snippet.replace("【", "").replace("】", "") or "【" in h.snippet for h in hits)
    assert any(f"【{query}】" in h.snippet for h in hits)
    if unit:
        assert any((h.unit or "").startswith(unit) for h in hits)
    assert store.search(eng, "量子纠缠") == []


def test_delete_report_removes_its_rows(db_url, dev_reports):
    eng = db.connect(db_url)
    rid = store.add_report(eng, dev_reports[-1])
    assert store.search(eng, "法律明白人")
    assert store.delete_report(eng, rid)
    with eng.connect() as c:
        for t in (db.parts, db.facts, db.findings, db.paragraphs):
            assert c.execute(select(func.count()).select_from(t)).scalar() == 0
    assert store.search(eng, "法律明白人") == []


def test_untrusted_text_is_data_not_sql(db_url):
    eng = db.connect(db_url)
    evil = "某某区2023年度法治政府建设情况报告\n一、主要举措和成效\n'); DROP TABLE reports; -- 普法宣传\"活动\"30场。"
    store.add_report(eng, analyze_text(evil))
    assert store.search(eng, "DROP TABLE reports") is not None
    assert store.search(eng, "普法宣传")
    assert store.count(eng)[0] == 1


def test_sqlite_is_in_wal_mode(tmp_path):
    eng = db.connect(tmp_path / "w.db")
    with eng.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_search_cli(tmp_path, dev_reports):
    dbp = tmp_path / "c.db"
    eng = db.connect(dbp)
    for r in dev_reports:
        store.add_report(eng, r)
    res = CliRunner().invoke(main, ["search", "智慧法律服务", "--db", str(dbp)])
    assert res.exit_code == 0 and "礼嘉" in res.output and "智慧法律服务" in res.output
    res = CliRunner().invoke(main, ["search", "量子纠缠", "--db", str(dbp)])
    assert res.exit_code == 0 and "没有找到" in res.output
