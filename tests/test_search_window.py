"""Segmented search on SQLite ranks by bm25 among the latest ``store.RANK_WINDOW`` matching
paragraphs: below the window the ranking is the full one; above it, only the latest
matches are ranked (a stock phrase in 300,000 paragraphs is not ranked whole per query)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from fazhi.corpus import db, store
from fazhi.pipeline import analyze_path

DEV = Path(__file__).resolve().parent / "data" / "dev"


@pytest.fixture
def eng(tmp_path):
    e = db.connect(str(tmp_path / "c.db"))
    for name in ("seed-000", "seed-002", "seed-004"):
        store.add_report(e, analyze_path(DEV / f"{name}.txt"))
    return e


def _full_ranking(e, words, limit):
    with e.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT p.report_id, p.para_no, p.body, bm25(paragraphs_fts) AS score "
            "FROM paragraphs_fts JOIN paragraphs p ON p.id = paragraphs_fts.rowid "
            "JOIN reports r ON r.id = p.report_id AND r.is_current "
            "WHERE paragraphs_fts MATCH :q ORDER BY score LIMIT :n"),
            {"q": '"' + " ".join(words) + '"', "n": limit}).all()]


def test_below_the_window_the_ranking_is_the_full_one(eng):
    words = ["法治"]
    with eng.connect() as c:
        got = store._segmented(c, words, 10_000)
    want = _full_ranking(eng, words, 10_000)
    assert len(got) >= 5
    # the same hits with the same scores, best first (ties may come in either order)
    assert sorted((r[0], r[1], round(r[3], 9)) for r in got) == sorted((r[0], r[1], round(r[3], 9)) for r in want)
    assert [round(r[3], 9) for r in got] == [round(r[3], 9) for r in want]


def test_above_the_window_only_the_latest_matches_are_ranked(eng, monkeypatch):
    words = ["法治"]
    with eng.connect() as c:
        latest = [r for (r,) in c.execute(text(
            "SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH :q ORDER BY rowid DESC LIMIT 3"),
            {"q": '"法治"'})]
        ids = {(rid, no): pid for pid, rid, no in c.execute(text("SELECT id, report_id, para_no FROM paragraphs"))}
    monkeypatch.setattr(store, "RANK_WINDOW", 3)
    with eng.connect() as c:
        got = store._segmented(c, words, 20)
    assert len(got) == 3 and {ids[(r[0], r[1])] for r in got} == set(latest)
    assert [r[3] for r in got] == sorted(r[3] for r in got)   # still best first
