"""The workbook handed to the leaders: its sheets, their exact contents, and its print.

The corpus: the dev reports, a second year of 荔湖街道 (one of last year's shortcomings
repeated word for word, last year's plans not reported done), a copy of 礼嘉街道's 2022
report made a year later under another unit's name, and one file that could not be read.
The print test converts the workbook with LibreOffice and measures every character of
every page of the PDF with pdfplumber."""
from __future__ import annotations

import os
import statistics
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from fazhi.cli import main
from fazhi.corpus import db, export, sheets, store
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).parent / "data" / "dev"
REPEATED = ("部分干部职工学习法律的主动性、积极性不够强，因工作繁忙和任务重，仅注重业务知识的学习与运用，"
            "缺乏对于法律法规全面性、系统性的学习，导致学用结合有所欠缺，运用法治思维和法治方式解决问题的能力有待提高。")
LIHU_2023 = f"""荔湖街道关于2023年度法治政府建设情况的报告

一、2023年推进法治政府建设的主要举措和成效
全年成功处理矛盾纠纷850宗，其中家庭纠纷120宗。开展法治宣传60次，提供法律咨询约300人次。

二、存在的不足和原因
{REPEATED}

三、党政主要负责人履行推进法治建设第一责任人职责情况
街道党工委书记召开专题会议4次。

四、2024年推进法治政府建设的主要安排
2024年6月底前完成合同审查制度修订。

荔湖街道办事处
2024年3月20日
"""
FAIL_PATH = "损坏的报告.docx"
FAIL_REASON = "文件已损坏：不是有效的 Word 文档"
SHEETS = ["概况", "报告清单", "问题清单", "督办清单", "抄袭雷同", "逐年对比"]
TAIL = ["合规矩阵", "报告信息", "无法读取"]


def copied_text() -> str:
    """礼嘉街道's 2022 report, a year later, under the name of 云溪镇."""
    t = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    t = t.replace("2023", "2024").replace("2022", "2023")
    return t.replace("礼嘉街道", "云溪镇").replace("礼嘉", "云溪")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "wb.db"
    eng = db.connect(path)
    for f in sorted(DEV.glob("*.txt")):
        store.add_report(eng, analyze_path(f))
    store.add_report(eng, analyze_text(LIHU_2023, "lihu-2023.txt"))
    store.add_report(eng, analyze_text(copied_text(), "yunxi-2023.txt"))
    with eng.begin() as c:
        store.record_failure(c, "f" * 64, FAIL_PATH, FAIL_REASON)
    return eng, str(path)


def _reports(eng) -> list[dict]:
    with eng.connect() as c:
        return [dict(m) for m in c.execute(select(db.reports)).mappings()]


def _id(eng, unit: str, year: int) -> int:
    return next(r["id"] for r in _reports(eng) if (r["unit"] or "").startswith(unit) and r["year"] == year)


@pytest.fixture(scope="module")
def exported(corpus, tmp_path_factory):
    _, path = corpus
    out = tmp_path_factory.mktemp("wbx") / "汇总.xlsx"
    r = CliRunner().invoke(main, ["corpus", "export", str(out), "--db", path])
    assert r.exit_code == 0, r.output
    return out, load_workbook(out)


def _table(ws, head_row: int = 1) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(min_row=head_row, values_only=True))
    head = list(rows[0])
    body = []
    for r in rows[1:]:
        if all(v is None for v in r):
            break   # the notes under the table follow a blank row
        body.append(r)
    return head, body


def _col(head, name):
    return head.index(name)


# ---------------------------------------------------------------- sheets
def test_sheet_order_and_none_empty(exported):
    _, wb = exported
    names = wb.sheetnames
    assert names[:len(SHEETS)] == SHEETS
    assert names[-len(TAIL):] == TAIL
    assert "矛盾纠纷化解" in names and "报送情况" not in names   # no roster module: no 报送情况
    for name in names:
        ws = wb[name]
        if name == "概况":
            continue
        head, body = _table(ws)
        assert body, f"{name} has no row"
        if name != "无法读取":
            assert head[0] == "编号", name


def test_every_row_has_a_report_id(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    ids = {r["id"] for r in _reports(eng)}
    for name in wb.sheetnames:
        if name in ("概况", "无法读取"):
            continue
        _, body = _table(wb[name])
        for r in body:
            assert r[0] in ids or r[0] in ("合计", "无"), (name, r[0])
    head, body = _table(wb["报告清单"])
    assert sorted(r[0] for r in body if r[0] != "合计") == sorted(ids)


def test_report_list_totals_row(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    reps = _reports(eng)
    head, body = _table(wb["报告清单"])
    total = body[-1]
    assert total[0] == "合计" and sum(1 for r in body if r[0] == "合计") == 1
    assert total[_col(head, "总分")] == pytest.approx(round(statistics.fmean(r["score_total"] for r in reps), 1))
    assert total[_col(head, "错误数")] == sum(r["n_errors"] for r in reps)
    assert total[_col(head, "警告数")] == sum(r["n_warnings"] for r in reps)
    units = len({r["unit"] for r in reps})
    assert total[1].startswith(f"共 {len(reps)} 份报告、{units} 个单位")
    ws = wb["报告清单"]
    last = ws.max_row
    assert ws.auto_filter.ref.endswith(str(len(body)))    # the filter stops above the totals row
    assert any(c.font.bold for c in ws[len(body) + 1])
    assert last > len(body) + 1                             # the note on computed values


def test_copy_beside_the_score(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    head, body = _table(wb["报告清单"])
    copy = next(r for r in body if r[0] == _id(eng, "云溪镇", 2023))
    assert copy[_col(head, "雷同比例")] >= 0.9
    assert "疑似抄袭雷同" in copy[_col(head, "雷同提示")]
    assert f"主要来源编号 {_id(eng, '礼嘉街道', 2022)}" in copy[_col(head, "雷同提示")]
    source = next(r for r in body if r[0] == _id(eng, "礼嘉街道", 2022))
    assert not source[_col(head, "雷同提示")]         # the earlier report is the source, not a copy
    ws = wb["报告清单"]
    k = _col(head, "雷同比例")
    assert ws.cell(2, k + 1).number_format == "0.0%"
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert any(r.operator == "greaterThanOrEqual" and r.formula == ["0.3"] for r in rules)


def test_copies_sheet(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    head, body = _table(wb["抄袭雷同"])
    rows = [r for r in body if r[0] != "合计"]
    top = rows[0]
    assert top[0] == _id(eng, "云溪镇", 2023) and top[1].startswith("云溪镇") and top[2] == 2023
    assert top[_col(head, "雷同比例")] >= 0.9 and top[_col(head, "抄自他单位")] >= 0.9
    assert top[_col(head, "主要来源编号")] == _id(eng, "礼嘉街道", 2022)
    assert top[_col(head, "主要来源单位")] == "礼嘉街道" and top[_col(head, "来源年度")] == 2022
    assert top[_col(head, "提示")] == "疑似抄袭"
    shares = [r[_col(head, "雷同比例")] for r in rows]
    assert shares == sorted(shares, reverse=True) and all(s > 0 for s in shares)


def test_todo_sheet(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    head, body = _table(wb["督办清单"])
    lihu22, lihu23 = _id(eng, "荔湖街道", 2022), _id(eng, "荔湖街道", 2023)
    yunxi = _id(eng, "云溪镇", 2023)
    kind = _col(head, "类型")
    plans = [r for r in body if r[kind] == "上年计划未见落实"]
    repeats = [r for r in body if r[kind] == "问题原样重复"]
    copies = [r for r in body if r[kind] == "抄袭雷同"]
    from fazhi.corpus import follow as fl

    res = next(x for x in fl.follow_corpus(eng, unit="荔湖街道") if x.next_report == lihu23)
    vanished = [p for p in res.plans if p.status != fl.DONE]
    assert vanished and len([r for r in plans if r[0] == lihu23]) == len(vanished)
    assert all(r[_col(head, "对照编号")] == lihu22 and r[1] == "荔湖街道" and r[2] == 2023
               for r in plans if r[0] == lihu23)
    assert [r[0] for r in repeats] == [lihu23]
    assert repeats[0][_col(head, "事项")] == REPEATED
    assert f"编号 {lihu22}" in repeats[0][_col(head, "依据")]
    # the copy, and 荔湖街道 2023 itself: its one shortcoming paragraph is last year's, word for word
    assert sorted((r[0], r[_col(head, "对照编号")]) for r in copies) == sorted(
        [(yunxi, _id(eng, "礼嘉街道", 2022)), (lihu23, lihu22)])
    own = next(r for r in copies if r[0] == lihu23)
    assert "沿用本单位往年" in own[_col(head, "事项")] and "抄自他单位" not in own[_col(head, "事项")]
    total = body[-1]
    assert total[0] == "合计" and total[1] == f"共 {len(plans) + len(repeats) + len(copies)} 项"


def test_yearly_sheet(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    head, body = _table(wb["逐年对比"])
    lihu = [r for r in body if r[1] == "荔湖街道"]
    assert [r[2] for r in lihu] == [2022, 2023]
    reps = {r["id"]: r for r in _reports(eng)}
    a, b = reps[lihu[0][0]], reps[lihu[1][0]]
    assert lihu[0][_col(head, "总分较上年")] is None
    assert lihu[1][_col(head, "总分较上年")] == pytest.approx(round(b["score_total"] - a["score_total"], 1))
    assert lihu[1][_col(head, "错误较上年")] == b["n_errors"] - a["n_errors"]
    mediation = next(h for h in head if h and h.startswith("调解矛盾纠纷数"))
    assert lihu[1][_col(head, mediation)] == 850
    # only units with two years
    assert len({r[1] for r in body}) * 2 <= len(body)


def test_findings_sheet(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    with eng.connect() as c:
        n = len(c.execute(select(db.findings.c.id)).all())
    head, body = _table(wb["问题清单"])
    assert head[:5] == ["编号", "单位", "年度", "级别", "规则"] and "原文片段" in head
    assert len(body) == n + 1 and body[-1][0] == "合计" and body[-1][1] == f"共 {n} 条"


def test_failures_sheet(exported):
    _, wb = exported
    head, body = _table(wb["无法读取"])
    assert head[:3] == ["记录号", "文件", "原因"]
    assert [(r[1], r[2]) for r in body if r[0] != "合计"] == [(FAIL_PATH, FAIL_REASON)]


def test_cover(corpus, exported):
    eng, _ = corpus
    _, wb = exported
    reps = _reports(eng)
    cells = {}
    for r in wb["概况"].iter_rows(values_only=True):
        if r[0] is not None and r[1] is not None:
            cells.setdefault(r[0], r)
    assert cells["报告数"][1] == len(reps)
    assert cells["单位数"][1] == len({r["unit"] for r in reps})
    assert cells["平均总分"][1] == pytest.approx(statistics.fmean(r["score_total"] for r in reps))
    assert cells["疑似抄袭雷同"][1] == 2          # 云溪镇's copy, 荔湖街道 2023's reuse
    assert cells["无法读取的文件"][1] == 1
    texts = [str(v) for r in wb["概况"].iter_rows(values_only=True) for v in r if v is not None]
    assert any(t.startswith("二、总分最低的5个单位") for t in texts)
    assert any(t.startswith("三、与上一年相比") for t in texts)
    # the five weakest: the lowest latest-year totals
    rows = list(wb["概况"].iter_rows(values_only=True))
    k = next(i for i, r in enumerate(rows) if str(r[0]).startswith("二、"))
    weak = rows[k + 2:k + 7]
    latest: dict[str, dict] = {}
    for r in reps:
        if r["unit"] not in latest or (r["year"], r["id"]) > (latest[r["unit"]]["year"], latest[r["unit"]]["id"]):
            latest[r["unit"]] = r
    lowest = sorted(x["score_total"] for x in latest.values())[:5]
    assert [w[3] for w in weak] == lowest
    assert all(w[4] for w in weak)


def test_empty_corpus_sheets_say_none(tmp_path):
    eng = db.connect(tmp_path / "empty.db")
    out = tmp_path / "empty.xlsx"
    export.export(eng, out)
    wb = load_workbook(out)
    assert wb.sheetnames == SHEETS + TAIL   # no topic sheet: no report states an indicator
    for name in wb.sheetnames[1:]:
        head, body = _table(wb[name])
        assert body and body[0][0] == "无", name


# ---------------------------------------------------------------- roster hook
ROSTER_ROWS = [
    {"unit": "荔湖街道", "level": "township", "parent": "增城区", "status": "已报送", "received": "2024-03-20",
     "published": "2024-03-20", "deadline": "2024-04-01"},
    {"unit": "云溪镇", "level": "township", "parent": "增城区", "status": "未报送", "received": None,
     "published": None, "deadline": "2024-04-01"},
]


def test_status_sheet_rows():
    sh = sheets.status_sheet(ROSTER_ROWS)
    assert [c.header for c in sh.cols] == ["编号", "单位", "层级", "上级单位", "状态", "收到日期", "发布日期", "截止日期"]
    assert [r[1] for r in sh.rows] == ["荔湖街道", "云溪镇"]
    assert sh.rows[0][2] == "乡镇(街道)" and str(sh.rows[0][5]) == "2024-03-20" and sh.rows[1][5] is None
    assert sh.total[4] == "已报送 1，未报送 1"


def test_roster_hook(corpus, tmp_path, monkeypatch):
    eng, _ = corpus
    assert sheets.roster_rows(eng, 2023) is None           # no module fazhi.corpus.roster here
    fake = types.ModuleType("fazhi.corpus.roster")
    seen = []
    fake.status = lambda engine, year: seen.append(year) or ROSTER_ROWS
    monkeypatch.setitem(sys.modules, "fazhi.corpus.roster", fake)
    out = tmp_path / "r.xlsx"
    export.export(eng, out, year=2023)
    wb = load_workbook(out)
    assert wb.sheetnames[-1] == "报送情况" and seen == [2023]
    head, body = _table(wb["报送情况"])
    assert [r[1] for r in body[:2]] == ["荔湖街道", "云溪镇"]
    fake.status = lambda engine, year: []                  # a module without a roster: no sheet
    export.export(eng, out, year=2023)
    assert "报送情况" not in load_workbook(out).sheetnames

    class RosterError(ValueError):
        pass

    def no_roster(engine, year):
        raise RosterError("没有名册")

    fake.RosterError, fake.status = RosterError, no_roster   # the module's own "no roster" error
    assert sheets.roster_rows(eng, 2023) is None
    # the shape of roster.status() on main: a dict whose "units" are the roster's units
    lihu = _id(eng, "荔湖街道", 2023)
    fake.status = lambda engine, year: {"year": year, "roster_size": 2, "units": [
        {"name": "荔湖街道", "level": "township", "parent": "增城区", "deadline": "2024-04-01", "state": "on_time",
         "state_label": "按期", "date": "2024-03-20", "date_kind": "published", "reports": [lihu]},
        {"name": "云溪镇", "level": "township", "parent": "增城区", "deadline": "2024-04-01", "state": "missing",
         "state_label": "未报", "date": None, "date_kind": None, "reports": []}]}
    rows = sheets.roster_rows(eng, 2023)
    assert rows[0] == {"unit": "荔湖街道", "level": "township", "parent": "增城区", "status": "按期", "received": None,
                       "published": "2024-03-20", "deadline": "2024-04-01", "report_id": lihu}
    assert rows[1]["status"] == "未报" and rows[1]["report_id"] is None
    fake.status = lambda engine, year: {"year": year, "roster_size": 0, "units": []}
    assert sheets.roster_rows(eng, 2023) is None


# ---------------------------------------------------------------- print
def col_width(ws, k: int) -> float | None:
    """Column ``k``'s width (1-based); a ``<col min max>`` element may set several columns at once."""
    for d in ws.column_dimensions.values():
        if (d.min or 0) <= k <= (d.max or 0):
            return d.width
    return None


def test_print_setup(exported):
    _, wb = exported
    for name in wb.sheetnames:
        ws = wb[name]
        assert ws.page_setup.paperSize in ("9", 9), name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None)
        assert ws.page_setup.fitToHeight in (0, "0"), name
        assert "第 &P 页 共 &N 页" in ws.oddFooter.center.text and ws.oddHeader.right.text == "&A"
        if name != "概况":
            assert ws.print_title_rows == "$1:$1", name
        widths = [col_width(ws, k + 1) for k in range(ws.max_column)]
        landscape = ws.page_setup.orientation == "landscape"
        # fit-to-width shrinks the sheet to at most TARGET_PT
        assert export.print_scale(widths, landscape) * export.FONT_PT >= export.TARGET_PT - 1e-6, name


def test_layout_narrows_wrapped_columns_and_splits():
    cols = [export.Col("编号", export.FMT_YEAR), export.Col("单位"), export.Col("长文字", min_width=10)]
    sh = export.Sheet("t", cols, [[1, "某某单位", "字" * 400]])
    widths, landscape = export.layout(sh)
    assert export.width_pt(widths) <= export.budget_pt(landscape)
    cols = [export.Col("编号", export.FMT_YEAR), export.Col("单位"), export.Col("年度", export.FMT_YEAR)]
    cols += [export.Col(f"指标{k}", export.FMT_COUNT) for k in range(40)]
    wide = export.Sheet("宽表", cols, [[1, "单位", 2023] + [123456] * 40], key_cols=3)
    parts = export.split_wide(wide, {"宽表"})
    assert len(parts) >= 2 and parts[1].name == "宽表（续1）"
    assert all([c.header for c in p.cols[:3]] == ["编号", "单位", "年度"] for p in parts)
    assert sum(len(p.cols) - 3 for p in parts) == 40
    for p in parts:
        w, land = export.layout(p)
        assert export.print_scale(w, land) * export.FONT_PT >= export.TARGET_PT


def _need_soffice():
    if export.soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed in CI: install Debian's libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-calc-nogui fonts-noto-cjk")


def test_pdf_every_character_at_least_9pt(corpus, tmp_path):
    pdfplumber = pytest.importorskip("pdfplumber")
    _need_soffice()
    _, path = corpus
    out = tmp_path / "汇总.xlsx"
    r = CliRunner().invoke(main, ["corpus", "export", str(out), "--db", path, "--pdf"])
    assert r.exit_code == 0, r.output
    pdf = out.with_suffix(".pdf")
    assert pdf.exists() and f"已打印为 PDF：{pdf}" in r.output
    names = load_workbook(out, read_only=True).sheetnames
    small, seen, pages = [], set(), 0
    with pdfplumber.open(pdf) as doc:
        for k, page in enumerate(doc.pages):
            pages += 1
            assert (round(page.width), round(page.height)) in ((595, 842), (842, 595)), k   # A4
            for ch in page.chars:
                if ch["text"].strip() and ch["size"] < export.MIN_PT:
                    small.append((k, ch["text"], round(ch["size"], 2)))
            head = (page.extract_text() or "").splitlines()[0]
            seen |= {n for n in names if head.endswith(n)}   # the page header names the sheet
    assert pages > len(names)
    assert not small, small[:20]
    assert seen == set(names)


def test_pdf_without_soffice(corpus, tmp_path, monkeypatch):
    _, path = corpus
    monkeypatch.setattr(export, "soffice", lambda: None)
    out = tmp_path / "x.xlsx"
    r = CliRunner().invoke(main, ["corpus", "export", str(out), "--db", path, "--pdf"])
    assert r.exit_code == 2
    assert "未找到 LibreOffice" in r.output and "Traceback" not in r.output
    assert out.exists()                                  # the workbook is written all the same
    r = CliRunner().invoke(main, ["corpus", "export", str(tmp_path / "x.csv"), "--db", path, "--pdf"])
    assert r.exit_code == 2 and "--pdf 只用于" in r.output


def test_pdf_timeout(tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(export, "soffice", lambda: str(fake))
    x = tmp_path / "a.xlsx"
    x.write_bytes(b"PK")
    with pytest.raises(export.ExportError, match="超时"):
        export.write_pdf(x, timeout=1)
    assert not x.with_suffix(".pdf").exists()


def test_year_filter_keeps_history(corpus, tmp_path):
    """--year 2023: the lists hold 2023's reports; 逐年对比 and the cover still compare with 2022."""
    eng, _ = corpus
    out = tmp_path / "y.xlsx"
    export.export(eng, out, year=2023)
    wb = load_workbook(out)
    head, body = _table(wb["报告清单"])
    assert {r[_col(head, "年度")] for r in body if r[0] != "合计"} == {2023}
    head, body = _table(wb["逐年对比"])
    assert [r[2] for r in body if r[1] == "荔湖街道"] == [2022, 2023]
    head, body = _table(wb["督办清单"])
    assert {r[2] for r in body if r[0] != "合计"} == {2023}
    assert any(r[_col(head, "类型")] == "上年计划未见落实" for r in body)
    texts = [str(v) for r in wb["概况"].iter_rows(values_only=True) for v in r if v is not None]
    assert "三、与上一年相比（2023年度对2022年度）" in texts
