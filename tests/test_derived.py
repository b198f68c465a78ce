"""The stored copy shares and follow-through (``fazhi.corpus.derived``, migration 0012) equal a
fresh computation after every kind of write: inserts, a revision, a delete, corrections (unit,
year, a fact), a finding dismissed, a withdrawal and its undoing, and a write by another
program; and they are recomputed incrementally (not over the whole corpus) when that applies."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fazhi.corpus import copy_index, db, derived, sheets, similarity, store, submissions
from fazhi.corpus import corrections as cm
from fazhi.corpus import follow as fl
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).resolve().parent / "data" / "dev"


def copied_text() -> str:
    """礼嘉街道's 2022 report, a year later, under the name of 云溪镇."""
    t = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    t = t.replace("2023", "2024").replace("2022", "2023")
    return t.replace("礼嘉街道", "云溪镇").replace("礼嘉", "云溪")


def _fresh_follow(eng, pairs):
    out = []
    for a, b in pairs:
        with eng.connect() as c:
            out.append(asdict(fl.follow(fl._load(c, a), fl._load(c, b))))
    return out


def _check(eng) -> None:
    want = sheets.fresh_copy_shares(eng)
    assert sheets.copy_shares(eng) == want
    with eng.connect() as c:
        assert derived.state(c, derived.COPIES) == derived.version(c)     # stored for this version
    assert derived.read_copies(eng) == want
    pairs = fl.year_pairs(eng)
    assert [asdict(x) for x in derived.follow_rows(eng, pairs)] == _fresh_follow(eng, pairs)
    assert [asdict(x) for x in derived.follow_rows(eng, pairs)] == _fresh_follow(eng, pairs)   # read back


def _add(eng, name):
    return store.add_report(eng, analyze_path(DEV / f"{name}.txt"))


@pytest.fixture
def counting(monkeypatch):
    calls = {"analyse": 0, "copies_of": 0, "follow": 0}
    real_a, real_c, real_f = similarity.analyse, copy_index.copies_of_many, fl.follow

    def analyse(*a, **k):
        calls["analyse"] += 1
        return real_a(*a, **k)

    def copies_of_many(engine, ids, **k):      # counted: the reports recomputed one at a time or together
        ids = list(ids)
        calls["copies_of"] += len(ids)
        return real_c(engine, ids, **k)

    def follow(*a, **k):
        calls["follow"] += 1
        return real_f(*a, **k)
    monkeypatch.setattr(similarity, "analyse", analyse)
    monkeypatch.setattr(copy_index, "copies_of_many", copies_of_many)
    monkeypatch.setattr(fl, "follow", follow)
    return calls


def test_stored_results_follow_every_write(db_url, tmp_path, counting):
    from test_web_helpers import next_year_of

    eng = db.connect(db_url)
    _check(eng)                                   # empty corpus
    ids = {n: _add(eng, n) for n in ("seed-000", "seed-002", "seed-004", "excerpt-002", "excerpt-004")}
    ids["lijia-2023"] = store.add_report(eng, analyze_text(
        next_year_of((DEV / "seed-004.txt").read_text(encoding="utf-8")), "礼嘉街道-2023.txt"))
    _check(eng)
    assert fl.year_pairs(eng)                     # a follow-through pair exists
    n = dict(counting)
    ids["yunxi"] = store.add_report(eng, analyze_text(copied_text(), "yunxi-2023.txt"))   # a copy, inserted
    _check(eng)
    assert counting["copies_of"] > n["copies_of"] and counting["analyse"] == n["analyse"] + 1   # (the fresh one)
    assert sheets.copy_shares(eng)[ids["yunxi"]].share > 0.3
    ids["excerpt-007"] = _add(eng, "excerpt-007")
    _check(eng)
    # a revision of a report (same unit and year, other text): the old version stops counting
    src = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    p = tmp_path / "seed-002-rev.txt"
    p.write_text(src + "\n另：本报告为修订版。\n", encoding="utf-8")
    store.add_report(eng, analyze_path(p))
    _check(eng)
    # corrections: the copy's unit (its keys are re-indexed), a year, a fact's value, a finding dismissed
    for rid, field, value in ((ids["yunxi"], "unit", "礼嘉街道"), (ids["excerpt-004"], "year", "2021")):
        with eng.begin() as c:
            cm.record(c, rid, "meta", field, value, reason="以落款为准", actor="王科员")
            cm.apply(c, rid)
        _check(eng)
    with eng.connect() as c:
        f = c.execute(select(db.facts).where(db.facts.c.report_id == ids["seed-004"],
                                             db.facts.c.indicator.is_not(None))).mappings().first()
        fi = c.execute(select(db.findings).where(db.findings.c.report_id == ids["seed-000"])).mappings().first()
    with eng.begin() as c:
        cm.record(c, ids["seed-004"], "fact", "value", "98765", key=f["id"], reason="核对", actor="王科员")
        cm.apply(c, ids["seed-004"])
    _check(eng)
    n = dict(counting)
    with eng.begin() as c:
        cm.record(c, ids["seed-000"], "finding", "status", "dismissed", key=fi["id"], reason="核对", actor="王科员")
        cm.apply(c, ids["seed-000"])
    sheets.copy_shares(eng)
    assert counting["copies_of"] == n["copies_of"] and counting["analyse"] == n["analyse"]  # no copy basis moved
    _check(eng)
    # a withdrawal and its undoing
    with eng.begin() as c:
        submissions.withdraw(c, ids["excerpt-007"], "测试撤回")
    _check(eng)
    with eng.begin() as c:
        submissions.restore(c, ids["excerpt-007"])
    _check(eng)
    # a write this process did not make (raw SQL, as another program would)
    with eng.begin() as c:
        c.execute(text("UPDATE reports SET published = '2020-01-05' WHERE id = :i"), {"i": ids["seed-004"]})
    _check(eng)
    # a delete: the whole corpus again (the deleted report's keys went with it)
    n = dict(counting)
    store.delete_report(eng, ids["seed-004"])
    sheets.copy_shares(eng)
    assert counting["analyse"] == n["analyse"] + 1
    _check(eng)
    # nothing changed: nothing computed
    n = dict(counting)
    sheets.copy_shares(eng)
    derived.follow_rows(eng, fl.year_pairs(eng))
    assert counting == n


def test_a_unit_correction_indexed_by_someone_else_recomputes_everything(db_url, counting):
    eng = db.connect(db_url)
    for name in ("seed-000", "seed-004", "excerpt-004"):
        _add(eng, name)
    yunxi = store.add_report(eng, analyze_text(copied_text(), "yunxi-2023.txt"))
    _check(eng)
    with eng.begin() as c:
        cm.record(c, yunxi, "meta", "unit", "礼嘉街道", reason="以落款为准", actor="王科员")
        cm.apply(c, yunxi)
    copy_index.ensure_index(eng)       # the copies page re-indexed it before the export looked
    n = dict(counting)
    _check(eng)
    assert counting["analyse"] >= n["analyse"] + 2    # the stored one and the fresh one


def test_refresh_brings_both_up_to_date(db_url, counting):
    eng = db.connect(db_url)
    for name in ("seed-000", "seed-004"):
        _add(eng, name)
    assert derived.refresh(eng)["copies"] == "full"
    assert derived.refresh(eng)["copies"] == "current"
    n = dict(counting)
    _check(eng)
    assert counting["analyse"] == n["analyse"] + 1 and counting["copies_of"] == n["copies_of"]   # fresh only


def test_too_many_to_recompute_one_by_one_is_the_whole_corpus(db_url, counting, monkeypatch):
    eng = db.connect(db_url)
    _add(eng, "seed-004")
    sheets.copy_shares(eng)
    monkeypatch.setattr(derived, "INCREMENTAL_MIN", 0)
    monkeypatch.setattr(derived, "INCREMENTAL_MAX", 0.0)
    store.add_report(eng, analyze_text(copied_text(), "yunxi-2023.txt"))
    n = dict(counting)
    sheets.copy_shares(eng)
    assert counting["analyse"] == n["analyse"] + 1 and counting["copies_of"] == n["copies_of"]
    _check(eng)


def test_migration_tables_match_db_py(db_url):
    from schema_drift import drift

    assert drift(db_url, {"derived_state", "copy_shares", "follow_results"}) == []


def test_incremental_copies_with_big_buckets(db_url, counting, monkeypatch):
    """With MAX_BUCKET and REPS small, the planted 通用表述 (COMMON in 13 reports) is a big band
    bucket: a new report that is not among its earliest members makes only the earliest and its
    own unit's reports recomputed, one among the earliest makes every member recomputed; after
    each write (inserts, a withdrawal of an earliest member and its undoing, a year moved into
    the earliest) the stored shares equal a fresh ``analyse``, without a whole-corpus run."""
    from test_copy_index import COMMON, _planted, _with_line

    monkeypatch.setattr(similarity, "MAX_BUCKET", 6)
    monkeypatch.setattr(similarity, "REPS", 3)
    eng = db.connect(db_url)
    ids = _planted(eng)
    _check(eng)
    with eng.connect() as c:
        holders = {x for (x,) in c.execute(select(db.copy_keys.c.report_id).where(
            db.copy_keys.c.para_id.in_(select(db.paragraphs.c.id).where(db.paragraphs.c.body.contains(COMMON[:30])))))}
    assert len(holders) > 6

    def step(write) -> int:
        n = dict(counting)
        write()
        got = sheets.copy_shares(eng)
        assert counting["analyse"] == n["analyse"], "the whole corpus was recomputed"
        assert got == sheets.fresh_copy_shares(eng)
        return counting["copies_of"] - n["copies_of"]

    late = _with_line((DEV / "excerpt-a05.txt").read_text(encoding="utf-8").replace("2018", "2025"), COMMON)
    few = step(lambda: ids.update(late=store.add_report(eng, analyze_text(late, "late.txt"))))
    assert 1 <= few < len(holders)              # the earliest and its own unit's, not every member
    early = _with_line((DEV / "excerpt-a06.txt").read_text(encoding="utf-8").replace("201", "200"), COMMON)
    every = step(lambda: ids.update(early=store.add_report(eng, analyze_text(early, "early.txt"))))
    assert every > few and every >= len(holders)     # among the earliest: everyone's pairs move
    step(lambda: _withdraw(eng, ids["early"]))
    step(lambda: _restore(eng, ids["early"]))
    step(lambda: _correct_year(eng, ids["late"], "2010"))
    _check(eng)


def _withdraw(eng, rid):
    with eng.begin() as c:
        submissions.withdraw(c, rid, "测试撤回")


def _restore(eng, rid):
    with eng.begin() as c:
        submissions.restore(c, rid)


def _correct_year(eng, rid, year):
    with eng.begin() as c:
        cm.record(c, rid, "meta", "year", year, reason="以落款为准", actor="王科员")
        cm.apply(c, rid)


def test_the_partners_are_looked_up_again_only_when_the_index_changed(db_url, counting, monkeypatch):
    """``_partners`` runs by the stored keys, and again after ``ensure_index`` only when it
    indexed something (a unit correction); an insert indexes its report itself."""
    eng = db.connect(db_url)
    ids = {n: _add(eng, n) for n in ("seed-000", "seed-002", "seed-004", "excerpt-002")}
    _check(eng)
    calls = []
    real = derived._partners
    monkeypatch.setattr(derived, "_partners", lambda *a, **k: calls.append(1) or real(*a, **k))
    ids["copy"] = store.add_report(eng, analyze_text(copied_text(), "yunxi-2023.txt"))
    _check(eng)
    assert len(calls) == 1 and sheets.copy_shares(eng)[ids["copy"]].share > 0.3
    calls.clear()
    with eng.begin() as c:
        cm.record(c, ids["copy"], "meta", "unit", "礼嘉街道", reason="以落款为准", actor="王科员")
        cm.apply(c, ids["copy"])
    _check(eng)
    assert len(calls) == 2
