"""One collecting season end to end, as a 依法治区办 runs it from the command line:
a roster of 40 units, a province's rule file (townships before 3月1日), reports
in four formats with the same report sent twice, revisions, a text of another
kind, a file that fails on a busy machine and is retried, a withdrawn report,
two corrected figures — then 报送情况, the counts and the leaders' workbook must
agree with what was sent.  SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fazhi.cli import main
from fazhi.corpus import batch, db, roster as rm

POOL = "东西南北中新金石竹松柏梅兰桃李杏荷菊桂枫"
NAMES = [f"{a}{b}街道" for a in POOL[:8] for b in POOL[8:13]][:40]
PROVINCE = "rules:\n  - id: timeliness.deadline\n    params:\n      by_level: {township: \"03-01\"}\n"
GENRE = ("{unit}2024年政府信息公开工作年度报告\n一、总体情况\n2024年，主动公开政府信息120条。\n"
         "二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n全年收到申请12件。\n"
         "四、政府信息公开行政复议、行政诉讼情况\n五、存在的主要问题及改进情况\n")


def text(unit: str, published: str, cases: int, extra: str = "") -> str:
    return (f"{unit}关于2024年法治政府建设情况的报告\n发布日期：{published}\n"
            f"一、2024年推进法治政府建设的主要举措和成效\n全年办理行政复议案件{cases}件，"
            f"开展普法活动{cases // 3 + 7}场。{extra}\n"
            "二、存在的不足和原因\n一是法治意识不强，主要原因是培训不够。\n"
            "三、党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责同志召开专题会议4次，研究法治政府建设重大事项。\n"
            "四、2025年推进法治政府建设的主要安排\n2025年6月底前完成规范性文件清理。\n")


def _docx(path: Path, body: str) -> None:
    from docx import Document

    doc = Document()
    for line in body.splitlines():
        doc.add_paragraph(line)
    doc.save(path)


def _html(path: Path, body: str) -> None:
    import html

    lines = body.splitlines()
    path.write_text(f"<html><head><title>{html.escape(lines[0])}</title></head><body><h1>{html.escape(lines[0])}</h1>"
                    + "".join(f"<p>{html.escape(x)}</p>" for x in lines[1:]) + "</body></html>", encoding="utf-8")


def _ok(args):
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    return run.output


@pytest.fixture
def season(tmp_path):
    """The files of the season: {name: what it is} under tmp_path/in, and the roster csv."""
    d = tmp_path / "in"
    d.mkdir()
    for i, u in enumerate(NAMES):
        if i == 8:
            _html(d / f"{u}.html", text(u, "2025-02-20", 100 + i))
        elif i < 30:
            (d / f"{u}.txt").write_text(text(u, "2025-02-20", 100 + i), encoding="utf-8")
        if i < 5:                                  # the same report again, as Word
            _docx(d / f"{u}.docx", text(u, "2025-02-20", 100 + i))
        if 5 <= i < 8:                             # a revision (other figures) in a subfolder
            (d / "修改稿").mkdir(exist_ok=True)
            (d / "修改稿" / f"{u}-修改稿.txt").write_text(text(u, "2025-02-20", 200 + i, "另办理行政应诉案件9件。"),
                                                      encoding="utf-8")
        if i in (30, 31):                          # on time nationally, late under the province's rule
            (d / f"{u}.md").write_text(text(u, "2025-03-15", 100 + i), encoding="utf-8")
        if i == 32:
            (d / f"{u}-信息公开.txt").write_text(GENRE.format(unit=u), encoding="utf-8")
        if i == 33:                                # slow on a busy machine: times out once
            (d / f"{u}.txt").write_text(text(u, "2025-02-21", 100 + i), encoding="utf-8")
        if i == 34:                                # sent, then withdrawn
            (d / f"{u}.txt").write_text(text(u, "2025-02-22", 100 + i), encoding="utf-8")
    roster = tmp_path / "名单.csv"
    roster.write_text("单位名称,层级,上级单位\n" + "".join(f"{u},乡镇(街道),增城区\n" for u in NAMES), encoding="utf-8-sig")
    rules = tmp_path / "某省规则.yaml"
    rules.write_text(PROVINCE, encoding="utf-8")
    return d, roster, rules


def test_a_season_from_roster_to_workbook(db_url, season, tmp_path, monkeypatch):
    d, roster, rules = season
    _ok(["roster", "import", str(roster), "--year", "2024", "--db", db_url])
    _ok(["rules", "attach", str(rules), "--db", db_url])
    # first run: the slow file times out (the test hook makes it sleep past the limit)
    monkeypatch.setattr(batch, "TEST_HOOK", {"slow": (NAMES[33], 40.0)})
    st = batch.add([d], db_url, workers=2, progress=False, time_limit=10)   # far above a normal file under load
    assert st.failed == 1 and st.added == 42, st   # 30 + 5 Word + 3 revisions + 2 + 1 + 1
    assert st.same_report == 5 and st.revisions == 3 and st.other_genre == 1
    eng = db.connect(db_url)
    s = rm.status(eng, 2024)
    by = {u["name"]: u for u in s["units"]}
    assert by[NAMES[33]]["state"] == "unreadable"
    # the retry on a quiet machine
    monkeypatch.setattr(batch, "TEST_HOOK", None)
    st = batch.add([d], db_url, workers=2, progress=False, retry_failed=True)
    assert st.added == 1 and st.failed == 0
    with eng.connect() as c:
        rid34 = c.execute(select(db.reports.c.id).where(db.reports.c.unit == NAMES[34])).scalar_one()
        rid0, rid1 = (c.execute(select(db.reports.c.id).where(db.reports.c.unit == NAMES[k], db.counted())).scalar_one()
                      for k in (0, 1))
        facts = {rid: c.execute(select(db.facts.c.id).where(db.facts.c.report_id == rid,
                                                            db.facts.c.indicator == "reconsideration.cases")).scalar_one()
                 for rid in (rid0, rid1)}
    _ok(["corpus", "withdraw", str(rid34), "--reason", "报错了单位", "--db", db_url])
    _ok(["corpus", "fix", str(rid0), "--fact", str(facts[rid0]), "--value", "1234", "--reason", "笔误", "--db", db_url])
    _ok(["corpus", "fix", str(rid1), "--fact", str(facts[rid1]), "--value", "4321", "--reason", "笔误", "--db", db_url])
    # adding everything again changes nothing (the withdrawn file stays out)
    st = batch.add([d], db_url, workers=2, progress=False)
    assert st.added == 0

    s = rm.status(eng, 2024)
    by = {u["name"]: u for u in s["units"]}
    t = s["totals"]
    assert (t["expected"], t["reported"], t["on_time"], t["late"], t["other_genre"], t["missing"], t["unreadable"]) == \
        (40, 33, 31, 2, 1, 6, 0)
    assert by[NAMES[30]]["state"] == by[NAMES[31]]["state"] == "late" and by[NAMES[30]]["deadline"] == "2025-02-28"
    assert by[NAMES[32]]["state"] == "other_genre" and by[NAMES[34]]["state"] == "missing"
    assert all(len(by[NAMES[i]]["reports"]) == 1 for i in range(30))      # one report per unit, whatever was sent
    with eng.connect() as c:
        counted = c.execute(select(func.count()).select_from(db.reports).where(db.counted())).scalar_one()
        stored = c.execute(select(func.count()).select_from(db.reports)).scalar_one()
        vals = dict(c.execute(select(db.facts.c.report_id, db.facts.c.value)
                              .where(db.facts.c.id.in_(list(facts.values())))).all())
    assert counted == 33 and stored == 43            # the withdrawn one stays stored, uncounted
    assert vals == {rid0: 1234.0, rid1: 4321.0}

    out = tmp_path / "汇总.xlsx"
    _ok(["corpus", "export", str(out), "--year", "2024", "--db", db_url])
    from openpyxl import load_workbook

    wb = load_workbook(out, read_only=True)
    rows = [r for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]
    # the corrected figures, on the rows of their units, and not the figures the engine read
    assert any(NAMES[0] in r and 1234 in r for r in rows) and any(NAMES[1] in r and 4321 in r for r in rows)
    assert not any(NAMES[0] in r and 100 in r and "行政复议" in str(r) for r in rows)
    cover = [r for r in wb["概况"].iter_rows(values_only=True)]
    assert any(r and r[0] == "适用规则" and r[1] == "某省规则.yaml" for r in cover)
    listed = [r for r in wb["报告清单"].iter_rows(values_only=True) if r and isinstance(r[0], int)]
    assert len(listed) == 33
    status = [r for r in wb["报送情况"].iter_rows(values_only=True) if r and r[1] in NAMES]
    states = {r[1]: r[4] for r in status}
    assert len(states) == 40 and states[NAMES[30]] == "逾期" and states[NAMES[32]] == "非本类报告"
    assert states[NAMES[34]] == "未报" and states[NAMES[0]] == "按期"
