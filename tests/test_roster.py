"""The roster of units that must report and ``status()``: name matching (tolerant,
never of two different units), reading rosters (Chinese errors naming sheet/row/
column), import replacing a year in one transaction, manual assignments kept across
re-imports, and the publication rates of 31 provinces built with the real engine
(SQLite and PostgreSQL)."""
import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fazhi.cli import main
from fazhi.corpus import db, roster as rm, store
from fazhi.pipeline import analyze_path, analyze_text


# ------------------------------------------------------------------ matching
ROSTER = ["荔湖街道", "增城区", "增城区司法局", "增城区人民政府办公室", "北京市朝阳区", "长春市朝阳区",
          "某某街道", "某某区甲街道", "城关镇", "广东省"]


@pytest.mark.parametrize("unit, expected", [
    ("广州市增城区荔湖街道办事处", "荔湖街道"),      # region chain + 办事处
    ("增城区人民政府荔湖街道办事处", "荔湖街道"),
    ("荔湖街", "荔湖街道"),                          # 街 / 街道
    ("荔 湖 街 道", "荔湖街道"),                      # spaces
    ("廣州市增城區荔湖街道辦事處", "荔湖街道"),      # traditional characters
    ("增城区人民政府", "增城区"),                    # 人民政府 / 政府
    ("增城区政府", "增城区"),
    ("广州市增城区", "增城区"),
    ("增城区政府办公室", "增城区人民政府办公室"),
    ("区司法局", "增城区司法局"),                    # an implicit region
    ("某某区某某街道办事处", "某某街道"),            # a region the division data does not know
    ("某某市某某区甲街道办事处", "某某区甲街道"),
    ("长春市朝阳区", "长春市朝阳区"),
    ("广东省人民政府", "广东省"),
    ("广东", "广东省"),                              # a province's short name
    ("ＸＸ", None),
])
def test_match_tolerant(unit, expected):
    m = rm.match_unit(unit, [{"name": n, "region": None} for n in ROSTER])
    assert m.name == expected, m


@pytest.mark.parametrize("unit", [
    "增城区公安局",            # another department of the same place
    "黄埔区司法局",            # the same department of another place
    "增城区荔湖街道派出所",    # a body inside a unit is not the unit
    "某某区",                  # a district is not its street
    "某某县甲街道",            # the same street name under another county
    "增城区荔城街道",
    "朝阳区",                  # two 朝阳区 on the roster: no guess
    None, "",
])
def test_match_never_two_units(unit):
    m = rm.match_unit(unit, [{"name": n, "region": None} for n in ROSTER])
    assert m.name is None, m


def test_judicial_bureau_is_not_the_government():
    idx = rm.RosterIndex([{"name": "增城区人民政府", "region": None}])
    assert idx.match("增城区司法局").name is None
    assert idx.match("增城区").name == "增城区人民政府"
    idx = rm.RosterIndex([{"name": "增城区", "region": None}])
    assert idx.match("增城区荔湖街道").name is None


def test_ambiguity_resolved_by_region_context():
    units = [{"name": "城关镇", "region": "甘肃省天水市清水县"}, {"name": "城关镇", "region": "湖南省衡阳市衡山县"}]
    # (a roster may not list the same name twice in one year; here: the index alone)
    idx = rm.RosterIndex(units)
    assert idx.match("城关镇").name is None and len(idx.match("城关镇").candidates) == 2
    assert idx.match("城关镇", region=("甘肃省", "天水市", "清水县")).name == "城关镇"


def test_name_from_file():
    assert rm.name_from_file("/x/荔湖街道2024年法治政府建设年度报告.pdf") == "荔湖街道"
    assert rm.years_in("增城区司法局关于2023年度法治政府建设情况的报告.docx") == {2023}


# ------------------------------------------------------------------ reading a roster
def _csv(path: Path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["单位名称", "层级", "上级单位", "地区", "报送截止日期（可选，覆盖默认）", "联系人", "联系电话"])
        w.writerows(rows)
    return path


def test_template_round_trip(tmp_path):
    import openpyxl

    p = rm.write_template(tmp_path / "名单模板.xlsx")
    wb = openpyxl.load_workbook(p)
    ws = wb["应报单位名单"]
    assert [c.value for c in ws[1]] == [c["header"] for c in rm.vocab()["columns"]]
    assert any("省级" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    assert ws.cell(2, 1).value.startswith("示例")
    units, problems = rm.read_roster(p)       # the example row alone: nothing to import
    assert units == [] and [pr.message for pr in problems] == ["名单中没有任何单位（只有表头）"]
    ws.cell(2, 1).value = "荔湖街道"          # the example made a real row
    wb.save(p)
    units, problems = rm.read_roster(p)
    assert problems == [] and [u.name for u in units] == ["荔湖街道"] and units[0].level == "township"
    assert units[0].parent == "增城区" and units[0].deadline is None


def test_roster_errors_name_sheet_row_column(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "应报单位名单"
    ws.append([c["header"] for c in rm.vocab()["columns"]])
    ws.append(["荔湖街道", "乡镇(街道)", "增城区", None, None, None, None])
    ws.append([None, "县级", None, None, None, None, None])                     # row 3: empty name
    ws.append(["增城区", "区县", None, None, None, None, None])                 # row 4: unknown level
    ws.append(["增城区司法局", "部门", None, None, "明年三月", None, None])     # row 5: bad date
    ws.append(["广州市增城区荔湖街道办事处", "街道", None, None, None, None, None])  # row 6: same unit as row 2
    ws.append(["荔湖街道", "街道", None, None, None, None, None])               # row 7: duplicate
    p = tmp_path / "名单.xlsx"
    wb.save(p)
    units, problems = rm.read_roster(p)
    got = {(pr.row, pr.column) for pr in problems}
    assert got == {(3, "单位名称"), (4, "层级"), (5, "报送截止日期（可选，覆盖默认）"), (6, "单位名称"), (7, "单位名称")}
    text = "\n".join(map(str, problems))
    assert "工作表“应报单位名单”第3行“单位名称”列：单位名称为空" in text
    assert "区县" in text and "省级" in text          # the unknown level and the choices
    assert "明年三月" in text
    assert "与第2行“荔湖街道”是同一单位" in text
    assert "第7行" in text and "重复" in text


def test_csv_and_dates(tmp_path):
    p = _csv(tmp_path / "名单.csv", [["增城区", "县", "广州市", "", "2025年4月15日", "李四", "123"],
                                     ["荔湖街道", "乡镇（街道）", "增城区", "", "", "", ""]])
    units, problems = rm.read_roster(p)
    assert problems == []
    assert [(u.name, u.level, u.deadline) for u in units] == [("增城区", "county", "2025-04-15"),
                                                              ("荔湖街道", "township", None)]
    with pytest.raises(rm.RosterError):
        rm.read_roster(tmp_path / "名单.txt", b"abc")
    for name, data, says in [("名单.xlsx", b"not a zip", "不是 Excel 工作簿"),
                             ("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
                             ("名单.csv", b"", "空文件")]:
        with pytest.raises(rm.RosterError, match=says):
            rm.read_roster(tmp_path / name, data)


def test_csv_saved_by_excel_in_gbk(tmp_path):
    """Excel on a Chinese Windows saves CSV in GBK: read as such, not garbled."""
    p = tmp_path / "名单.csv"
    p.write_bytes("单位名称,层级\n荔湖街道,街道\n增城区人民政府,县级\n".encode("gbk"))
    units, problems = rm.read_roster(p)
    assert problems == [] and [u.name for u in units] == ["荔湖街道", "增城区人民政府"]


def test_migration_0004_matches_the_tables(db_url):
    """The tables migration 0004 creates are the ones db.py declares (no drift)."""
    from schema_drift import drift

    assert drift(db_url, {"roster_units", "roster_assignments"}) == []


def test_import_replaces_the_year_only(tmp_path):
    eng = db.connect(str(tmp_path / "c.db"))
    rm.import_roster(eng, 2024, [rm.RosterUnit("甲街道", "township"), rm.RosterUnit("乙街道", "township")])
    rm.import_roster(eng, 2023, [rm.RosterUnit("丙街道", "township")])
    rm.import_roster(eng, 2024, [rm.RosterUnit("丁街道", "township")])
    assert [u["name"] for u in rm.roster_of(eng, 2024)] == ["丁街道"]
    assert [u["name"] for u in rm.roster_of(eng, 2023)] == ["丙街道"]


def test_import_is_one_transaction(tmp_path):
    eng = db.connect(str(tmp_path / "c.db"))
    rm.import_roster(eng, 2024, [rm.RosterUnit("甲街道", "township")])
    with pytest.raises(Exception):   # the same name twice violates the unique key half way
        rm.import_roster(eng, 2024, [rm.RosterUnit("乙街道", "township"), rm.RosterUnit("乙街道", "township")])
    assert [u["name"] for u in rm.roster_of(eng, 2024)] == ["甲街道"]


# ------------------------------------------------------------------ 31 provinces, real engine
PROVINCES = ["北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市",
             "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省",
             "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
             "青海省", "宁夏回族自治区", "新疆维吾尔自治区"]
# scenario per province (cycled): what was published, and when
PLAN = ["on_time", "late", "signed_only", "missing", "on_time", "boundary_on", "boundary_late", "override",
        "duplicate", "traditional", "undated", "unreadable", "other_year", "on_time", "late", "missing"]
REPORTED = {"on_time", "late", "signed_only", "boundary_on", "boundary_late", "override", "duplicate",
            "traditional", "undated"}
ON_TIME = {"on_time", "signed_only", "boundary_on", "override", "duplicate", "traditional"}
LATE = {"late", "boundary_late"}


def report_text(unit: str, year: int, published: str | None, signed: str | None) -> str:
    body = [f"{unit}人民政府关于{year}年法治政府建设情况的报告"]
    if published:
        body.append(f"发布日期：{published}")
    body += [
        f"{year}年，{unit}人民政府坚持以习近平新时代中国特色社会主义思想为指导，全面推进法治政府建设。现将有关情况报告如下。",
        f"一、{year}年推进法治政府建设的主要举措和成效",
        "（一）深化行政复议体制改革。全年办理行政复议案件1200件，调解和解结案310件。",
        "（二）严格规范公正文明执法。开展行政执法案卷评查2次，评查案卷860卷。",
        "二、存在的不足和原因",
        "一是部分工作人员法治意识不强，主要原因是培训不够深入。",
        "三、党政主要负责人履行推进法治建设第一责任人职责情况",
        "政府主要负责同志认真履行第一责任人职责，召开常务会议专题研究法治政府建设4次。",
        f"四、{year + 1}年推进法治政府建设的主要安排",
        f"{year + 1}年，将继续深化行政复议体制改革，完成规范性文件清理。",
        f"{unit}人民政府",
    ]
    if signed:
        y, m, d = signed.split("-")
        body.append(f"{y}年{int(m)}月{int(d)}日")
    return "\n".join(body) + "\n"


def _docx(path: Path, text: str) -> Path:
    from docx import Document

    doc = Document()
    for line in text.splitlines():
        doc.add_paragraph(line)
    doc.save(path)
    return path


def scenario(i: int) -> str:
    return PLAN[i % len(PLAN)]


@pytest.fixture(scope="module")
def province_reports(tmp_path_factory):
    """(reports analysed by the real engine, failures (name, error), roster units) for 2024."""
    import opencc

    d = tmp_path_factory.mktemp("provinces")
    reports, failures, units = [], [], []
    for i, p in enumerate(PROVINCES):
        s = scenario(i)
        # the roster writes some names with 人民政府, some as short names
        name = p + "人民政府" if i % 3 == 0 else (p[:2] if p in ("新疆维吾尔自治区", "浙江省") else p)
        units.append(rm.RosterUnit(name, "province", parent="华北" if i < 15 else "其他",
                                   deadline="2025-04-15" if s == "override" else None))
        pub = {"on_time": "2025-03-20", "late": "2025-05-11", "boundary_on": "2025-03-31",
               "boundary_late": "2025-04-01", "override": "2025-04-10", "duplicate": "2025-02-28",
               "traditional": "2025-03-01"}.get(s)
        signed = None if s == "undated" else "2025-03-18"
        if s in ("missing", "unreadable"):
            if s == "unreadable":
                failures.append((f"{p}2024年法治政府建设年度报告.pdf", "文件已损坏，无法读取"))
            continue
        if s == "other_year":
            reports.append(analyze_text(report_text(p, 2023, "2024-03-01", "2024-02-28"), f"{p}-2023.txt"))
            continue
        text = report_text(p, 2024, pub, signed)
        if s == "traditional":
            text = opencc.OpenCC("s2t").convert(text)
        reports.append(analyze_text(text, f"{p}.txt"))
        if s == "duplicate":   # the same report stored again as .docx
            reports.append(analyze_path(_docx(d / f"{p}.docx", text)))
    # a report of a unit that is not on the roster, and one whose unit the engine cannot tell
    reports.append(analyze_text(report_text("广州市增城区荔湖街道办事处", 2024, "2025-03-02", None).replace(
        "人民政府", "", 2), "lihu.txt"))
    reports.append(analyze_text("2024年法治政府建设情况报告\n一、主要举措和成效\n全年办理行政复议案件12件。\n", "anon.txt"))
    return reports, failures, units


def _load(db_url, province_reports):
    reports, failures, units = province_reports
    eng = db.connect(db_url)
    for r in reports:
        assert store.add_report(eng, r)
    with eng.begin() as conn:
        for k, (path, error) in enumerate(failures):
            store.record_failure(conn, f"{k:064x}", path, error)
    rm.import_roster(eng, 2024, units)
    return eng


def test_status_of_31_provinces(db_url, province_reports):
    eng = _load(db_url, province_reports)
    st = rm.status(eng, 2024)
    plan = [scenario(i) for i in range(len(PROVINCES))]
    n = len(PROVINCES)
    want = {"expected": n, "reported": sum(s in REPORTED for s in plan), "on_time": sum(s in ON_TIME for s in plan),
            "late": sum(s in LATE for s in plan), "undated": plan.count("undated"),
            "unreadable": plan.count("unreadable"), "missing": plan.count("missing") + plan.count("other_year")}
    assert {k: st["totals"][k] for k in want} == want
    assert st["totals"]["published_rate"] == round(want["reported"] / n, 4)
    assert st["totals"]["on_time_rate"] == round(want["on_time"] / n, 4)
    assert st["by_level"]["province"]["expected"] == n and st["by_level"]["province"]["on_time"] == want["on_time"]
    north = [s for i, s in enumerate(plan) if i < 15]
    assert st["by_parent"]["华北"]["on_time"] == sum(s in ON_TIME for s in north)
    assert st["by_parent"]["其他"]["expected"] == n - 15
    rows = {u["name"]: u for u in st["units"]}
    state = {"on_time": "on_time", "signed_only": "on_time", "boundary_on": "on_time", "override": "on_time",
             "duplicate": "on_time", "traditional": "on_time", "late": "late", "boundary_late": "late",
             "undated": "undated", "unreadable": "unreadable", "missing": "missing", "other_year": "missing"}
    for u, s in zip(st["units"], plan):
        assert u["state"] == state[s], (u["name"], s, u)
    dup = next(u for u, s in zip(st["units"], plan) if s == "duplicate")
    assert len(dup["reports"]) == 1 and dup["state"] == "on_time"     # two files, one counted report
    signed = next(u for u, s in zip(st["units"], plan) if s == "signed_only")
    assert (signed["date"], signed["date_kind"]) == ("2025-03-18", "signed")
    over = next(u for u, s in zip(st["units"], plan) if s == "override")
    assert over["deadline"] == "2025-04-15" and over["deadline_overridden"]
    assert rows[next(iter(rows))]["deadline"] in ("2025-03-31", "2025-04-15")
    # the street and the anonymous report are left for a person
    kinds = sorted((x["kind"], x["reason"]) for x in st["unmatched"])
    assert kinds == [("report", "名单中没有该单位"), ("report", "未识别出报告单位")]


def test_assignment_kept_across_reimport_and_cli(tmp_path, province_reports):
    dbp = str(tmp_path / "c.db")
    eng = _load(dbp, province_reports)
    st = rm.status(eng, 2024)
    anon = next(x for x in st["unmatched"] if x["reason"] == "未识别出报告单位")
    missing = next(u["name"] for u in st["units"] if u["state"] == "missing")
    run = CliRunner().invoke(main, ["roster", "assign", str(anon["id"]), missing, "--db", dbp])
    assert run.exit_code == 0, run.output
    assert missing in run.output
    st2 = rm.status(eng, 2024)
    assert st2["totals"]["reported"] == st["totals"]["reported"] + 1
    assert anon["id"] in next(u for u in st2["units"] if u["name"] == missing)["reports"]
    # re-import the same roster: the manual match stays
    rm.import_roster(eng, 2024, province_reports[2])
    assert rm.status(eng, 2024)["totals"] == st2["totals"]
    # a unit that is not on the roster: a Chinese message, exit 2, nothing stored
    run = CliRunner().invoke(main, ["roster", "assign", str(anon["id"]), "火星省", "--db", dbp])
    assert run.exit_code == 2 and "名单中没有“火星省”" in run.output
    run = CliRunner().invoke(main, ["roster", "assign", "999999", missing, "--db", dbp])
    assert run.exit_code == 2 and "没有编号为 999999 的报告" in run.output
    # corpus status --format json is status()
    run = CliRunner().invoke(main, ["corpus", "status", "--year", "2024", "--format", "json", "--db", dbp])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output) == rm.status(eng, 2024)
    run = CliRunner().invoke(main, ["corpus", "status", "--year", "2024", "--db", dbp])
    assert run.exit_code == 0 and "公开率" in run.output and "未匹配" in run.output
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(db.roster_assignments)).scalar() == 1


def test_assignment_to_another_year(tmp_path):
    """A report the engine dated 2023 but that is the unit's 2024 report: assigned with --year 2024,
    it counts for 2024 and no longer for 2023; an unreadable file assigned likewise."""
    eng = db.connect(str(tmp_path / "c.db"))
    for y in (2023, 2024):
        rm.import_roster(eng, y, [rm.RosterUnit("增城区", "county"), rm.RosterUnit("荔湖街道", "township")])
    rid = store.add_report(eng, analyze_text(report_text("增城区", 2023, "2024-03-01", None), "zc.txt"))
    with eng.begin() as conn:
        store.record_failure(conn, "f" * 64, "荔湖街道年度报告.pdf", "文件已损坏")
    with eng.connect() as conn:
        fid = conn.execute(select(db.failures.c.id)).scalar_one()
    before = {y: {u["name"]: u["state"] for u in rm.status(eng, y)["units"]} for y in (2023, 2024)}
    assert before[2023] == {"增城区": "on_time", "荔湖街道": "unreadable"}
    assert before[2024] == {"增城区": "missing", "荔湖街道": "unreadable"}   # no year in the file name
    rm.assign(eng, "增城区", report_id=rid, year=2024)
    rm.assign(eng, "荔湖街道", failure_id=fid, year=2024)
    after = {y: {u["name"]: u["state"] for u in rm.status(eng, y)["units"]} for y in (2023, 2024)}
    assert after[2023] == {"增城区": "missing", "荔湖街道": "missing"}
    assert after[2024] == {"增城区": "on_time", "荔湖街道": "unreadable"}


def test_cli_template_import_list(tmp_path):
    dbp = str(tmp_path / "c.db")
    r = CliRunner()
    run = r.invoke(main, ["roster", "template", str(tmp_path / "名单模板.xlsx")])
    assert run.exit_code == 0 and (tmp_path / "名单模板.xlsx").exists()
    p = _csv(tmp_path / "名单.csv", [["增城区", "县级", "广州市", "", "", "", ""], ["", "县级", "", "", "", "", ""],
                                     ["荔湖街道", "火星级", "", "", "", "", ""]])
    run = r.invoke(main, ["roster", "import", str(p), "--year", "2024", "--db", dbp])
    assert run.exit_code == 2 and "第3行" in run.output and "第4行" in run.output and "未导入任何单位" in run.output
    assert "Traceback" not in run.output
    p = _csv(tmp_path / "名单.csv", [["增城区", "县级", "广州市", "", "", "", ""], ["荔湖街道", "街道", "增城区", "", "", "", ""]])
    run = r.invoke(main, ["roster", "import", str(p), "--year", "2024", "--db", dbp])
    assert run.exit_code == 0 and "2 个单位" in run.output
    from fazhi.web.tables import audit as audit_t

    with db.connect(dbp).connect() as c:
        rec = c.execute(select(audit_t.c.action, audit_t.c.detail)).all()
    assert [(a, d) for a, d in rec] == [("roster.import", "2024 年度：2 个单位")]
    run = r.invoke(main, ["roster", "list", "--year", "2024", "--format", "json", "--db", dbp])
    assert [u["name"] for u in json.loads(run.output)] == ["增城区", "荔湖街道"]
    run = r.invoke(main, ["roster", "import", str(tmp_path / "无此文件.xlsx"), "--year", "2024", "--db", dbp])
    assert run.exit_code == 2 and "找不到文件" in run.output
    run = r.invoke(main, ["corpus", "status", "--year", "2023", "--db", dbp])
    assert run.exit_code == 1 and "还没有应报单位名单" in run.output
