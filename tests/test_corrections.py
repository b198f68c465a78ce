"""Human corrections (``fazhi corpus fix``): kept apart from the analysis, with who,
when, old and new values and a reason; the analysis rows follow them (so stats and
exports do); they survive deleting and re-adding the file; findings and scores move
only by what a correction changes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fazhi.cli import main
from fazhi.corpus import corrections as cm
from fazhi.corpus import db, store
from fazhi.pipeline import analyze_path

DEV = Path(__file__).resolve().parent / "data" / "dev"


@pytest.fixture
def corpus(db_url):
    eng = db.connect(db_url)
    ids = {}
    for name in ("seed-000", "seed-002", "seed-004"):
        ids[name] = store.add_report(eng, analyze_path(DEV / f"{name}.txt"))
    return eng, ids


def _rep(eng, rid):
    with eng.connect() as c:
        return dict(c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().first())


def _rows(eng, table, rid):
    with eng.connect() as c:
        return [dict(r) for r in c.execute(select(table).where(table.c.report_id == rid).order_by(table.c.id)).mappings()]


def _fix(eng, rid, target, field, new, key=None, reason="核对原文", actor="王科员"):
    with eng.begin() as c:
        cm.record(c, rid, target, field, new, key=key, reason=reason, actor=actor)
        return cm.apply(c, rid)


def _fact(eng, rid, indicator=None):
    return next(f for f in _rows(eng, db.facts, rid) if f["indicator"] and (indicator is None or f["indicator"] == indicator))


def test_meta_correction_is_recorded_apart_and_read_by_every_query(corpus):
    eng, ids = corpus
    rid = ids["seed-002"]
    before = _rep(eng, rid)
    _fix(eng, rid, "meta", "unit", "阴平镇人民政府", reason="以落款为准")
    after = _rep(eng, rid)
    assert after["unit"] == "阴平镇人民政府" and before["unit"] != after["unit"]
    with eng.connect() as c:
        [h] = cm.history(c, rid)
    assert (h["target"], h["field"], json.loads(h["old_value"]), json.loads(h["new_value"])) == \
        ("meta", "unit", before["unit"], "阴平镇人民政府")
    assert h["actor"] == "王科员" and h["reason"] == "以落款为准" and h["active"] and h["at"]
    # untouched: the other reports, and this report's other fields
    assert after["year"] == before["year"] and after["score_total"] == before["score_total"]
    assert _rep(eng, ids["seed-000"])["unit"] == "荔湖街道"


def test_fact_value_indicator_and_not_a_fact(corpus):
    eng, ids = corpus
    rid = ids["seed-004"]
    n0 = _rep(eng, rid)["n_facts"]
    f = _fact(eng, rid)
    _fix(eng, rid, "fact", "value", "1234", key=f["id"])
    moved = [x for x in _rows(eng, db.facts, rid) if (x["start"], x["end"]) == (f["start"], f["end"])]
    assert [x["value"] for x in moved] == [1234.0]
    g = _fact(eng, rid)
    _fix(eng, rid, "fact", "indicator", "none", key=g["id"])
    assert _rep(eng, rid)["n_facts"] == n0 - 1
    h = next(x for x in _rows(eng, db.facts, rid) if x["indicator"] and (x["start"], x["end"]) != (f["start"], f["end"]))
    _fix(eng, rid, "fact", "not_fact", True, key=h["id"])
    facts = _rows(eng, db.facts, rid)
    assert all((x["start"], x["end"]) != (h["start"], h["end"]) for x in facts)
    assert _rep(eng, rid)["n_facts"] == n0 - 2
    # the first correction still holds after the later ones
    assert [x["value"] for x in facts if (x["start"], x["end"]) == (f["start"], f["end"])] == [1234.0]


def test_dismissed_finding_leaves_and_its_penalty_is_given_back(corpus):
    eng, ids = corpus
    rid = ids["seed-000"]
    before = _rep(eng, rid)
    prem = next(f for f in _rows(eng, db.findings, rid) if f["rule"] == "timeliness.premature")
    _fix(eng, rid, "finding", "status", "dismissed", key=prem["id"], reason="该报告为征求意见稿之后的正式稿")
    after = _rep(eng, rid)
    assert all(f["rule"] != "timeliness.premature" for f in _rows(eng, db.findings, rid))
    assert after["n_warnings"] == before["n_warnings"] - 1
    # the premature rule costs the timeliness score; dismissed, the score is what it is without it
    assert after["scores"]["timeliness"] > before["scores"]["timeliness"]
    assert after["score_total"] > before["score_total"]
    # untouched scores stay exactly
    for k in ("completeness", "data_support", "candour", "plan_concreteness"):
        assert after["scores"][k] == before["scores"][k]


def test_a_corrected_date_moves_timeliness_both_ways(corpus):
    eng, ids = corpus
    rid = ids["seed-004"]   # published 2023-03-13: on time
    before = _rep(eng, rid)
    _fix(eng, rid, "meta", "published", "2023年6月30日")
    late = _rep(eng, rid)
    assert late["published"] == "2023-06-30"
    assert any(f["rule"] == "timeliness.deadline" for f in _rows(eng, db.findings, rid))
    assert late["scores"]["timeliness"] < before["scores"]["timeliness"]
    _fix(eng, rid, "meta", "published", "2023-03-13")   # corrected back: exactly the analysis again
    back = _rep(eng, rid)
    assert back["scores"] == before["scores"] and back["n_errors"] == before["n_errors"]
    assert not any(f["rule"] == "timeliness.deadline" for f in _rows(eng, db.findings, rid))
    with eng.connect() as c:
        hist = cm.history(c, rid)
    assert [h["active"] for h in hist] == [True, False]   # the later supersedes, both kept


def test_corrections_survive_deleting_and_re_adding_the_file(corpus):
    eng, ids = corpus
    rid = ids["seed-004"]
    f = _fact(eng, rid)
    _fix(eng, rid, "meta", "unit", "重庆市北碚区礼嘉街道")
    _fix(eng, rid, "fact", "value", "77", key=f["id"])
    corrected = (_rep(eng, rid), _rows(eng, db.facts, rid))
    assert store.delete_report(eng, rid)
    rid2 = store.add_report(eng, analyze_path(DEV / "seed-004.txt"))
    assert rid2 is not None
    again = (_rep(eng, rid2), _rows(eng, db.facts, rid2))
    assert again[0]["unit"] == "重庆市北碚区礼嘉街道"
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("id", "report_id")} for r in rows]  # noqa: E731
    assert strip(again[1]) == strip(corrected[1])
    assert again[0]["scores"] == corrected[0]["scores"]


def test_apply_is_idempotent(corpus):
    eng, ids = corpus
    rid = ids["seed-000"]
    _fix(eng, rid, "fact", "value", "5", key=_fact(eng, rid)["id"])
    snap = (_rep(eng, rid), _rows(eng, db.facts, rid), _rows(eng, db.findings, rid))
    with eng.begin() as c:
        cm.apply(c, rid)
        cm.apply(c, rid)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    again = (_rep(eng, rid), _rows(eng, db.facts, rid), _rows(eng, db.findings, rid))
    assert again[0] == snap[0] and strip(again[1]) == strip(snap[1]) and strip(again[2]) == strip(snap[2])


@pytest.mark.parametrize("target, field, new, why", [
    ("meta", "colour", "红", "不能更正"),
    ("meta", "year", "二〇二二", "不是四位年份"),
    ("meta", "published", "下个月", "无法识别"),
    ("meta", "level", "宇宙级", "层级只能是"),
    ("fact", "value", "很多", "不是数字"),
    ("fact", "indicator", "no.such.indicator", "指标目录中没有"),
    ("finding", "status", "maybe", "只能标为"),
])
def test_bad_corrections_are_refused_in_chinese(corpus, target, field, new, why):
    eng, ids = corpus
    rid = ids["seed-000"]
    key = None
    if target == "fact":
        key = _fact(eng, rid)["id"]
    elif target == "finding":
        key = _rows(eng, db.findings, rid)[0]["id"]
    with pytest.raises(cm.CorrectionError) as e:
        with eng.begin() as c:
            cm.record(c, rid, target, field, new, key=key)
    assert why in str(e.value)
    with eng.connect() as c:
        assert cm.history(c) == []


def test_cli_show_fix_and_list(tmp_path):
    dbf = tmp_path / "c.db"
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(DEV / "seed-004.txt", src)
    r = CliRunner().invoke(main, ["corpus", "add", str(src), "--db", str(dbf), "--no-progress", "--workers", "1"])
    assert r.exit_code == 0, r.output
    eng = db.connect(str(dbf))
    with eng.connect() as c:
        rid = c.execute(select(db.reports.c.id)).scalar()
    fact = _fact(eng, rid)
    r = CliRunner().invoke(main, ["corpus", "show", str(rid), "--db", str(dbf)])
    assert r.exit_code == 0 and str(fact["id"]) in r.output and "礼嘉街道" in r.output, r.output
    r = CliRunner().invoke(main, ["corpus", "fix", str(rid), "--fact", str(fact["id"]), "--value", "99",
                                  "--meta", "unit=礼嘉街道办事处", "--reason", "原文笔误", "--by", "李四", "--db", str(dbf)])
    assert r.exit_code == 0 and "已更正报告" in r.output, r.output
    assert _rep(eng, rid)["unit"] == "礼嘉街道办事处"
    r = CliRunner().invoke(main, ["corpus", "show", str(rid), "--db", str(dbf)])
    assert "（已更正）" in r.output
    r = CliRunner().invoke(main, ["corpus", "corrections", "--db", str(dbf), "--format", "json"])
    rows = json.loads(r.output)
    assert {(x["target"], x["field"], x["actor"], x["reason"]) for x in rows} == \
        {("meta", "unit", "李四", "原文笔误"), ("fact", "value", "李四", "原文笔误")}
    # a bad value: Chinese message, exit 2, nothing written
    r = CliRunner().invoke(main, ["corpus", "fix", str(rid), "--fact", str(_fact(eng, rid)["id"]), "--value", "x",
                                  "--db", str(dbf)])
    assert r.exit_code == 2 and "不是数字" in r.output and "未做任何更正" in r.output
    assert len(json.loads(CliRunner().invoke(main, ["corpus", "corrections", "--db", str(dbf), "--format", "json"]).output)) == 2
    r = CliRunner().invoke(main, ["corpus", "fix", "999", "--meta", "year=2020", "--db", str(dbf)])
    assert r.exit_code == 2 and "没有编号为 999 的报告" in r.output
    # re-adding the folder after a delete: the correction comes back with the file
    assert store.delete_report(eng, rid)
    r = CliRunner().invoke(main, ["corpus", "add", str(src), "--db", str(dbf), "--no-progress", "--workers", "1"])
    with eng.connect() as c:
        assert c.execute(select(db.reports.c.unit)).scalar() == "礼嘉街道办事处"


def test_migration_0007_matches_the_tables(db_url):
    """The tables migration 0007 creates are the ones db.py declares (no drift)."""
    from schema_drift import drift

    assert drift(db_url, {"corrections", "analysis_base"}) == []


def test_the_export_reads_the_corrected_rows(corpus, tmp_path):
    import openpyxl

    from fazhi.corpus.export import write_xlsx

    eng, ids = corpus
    _fix(eng, ids["seed-002"], "meta", "unit", "更正后的阴平镇")
    out = tmp_path / "x.xlsx"
    write_xlsx(eng, out)
    cells = {str(c.value) for ws in openpyxl.load_workbook(out, read_only=True) for row in ws.iter_rows() for c in row}
    assert "更正后的阴平镇" in cells and "阴平镇" not in cells
