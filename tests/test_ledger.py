"""The ledger: template, check, stats (fazhi ledger …)."""
import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.facts import load_catalog
from fazhi.ledger.example import example_data, write_example
from fazhi.ledger.reader import parse_date, parse_number, read_ledger
from fazhi.ledger.schema import load_schema
from fazhi.ledger.stats import compute, indicator_values
from fazhi.ledger.template import write_template

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return write_example(tmp_path_factory.mktemp("ledger") / "ledger.xlsx", YEAR)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return write_template(tmp_path_factory.mktemp("tpl") / "template.xlsx", YEAR)


def _edit(src, dst, fn):
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(dst)
    return dst


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# ------------------------------------------------------------------ schema
def test_every_record_type_feeds_catalog_indicators():
    s = load_schema()
    cat = load_catalog()
    names = [x.name for x in s.sheets]
    for want in ("合同审查", "矛盾纠纷调解", "行政复议", "行政应诉", "普法宣传", "学法培训", "法律咨询", "法律援助",
                 "12345热线工单", "行政执法人员", "规范性文件", "重大行政决策", "整改事项"):
        assert want in names
    for sh in s.sheets:
        assert all(i in cat for i in s.feeds(sh.name))
        if sh.name not in ("整改事项", "领导履职"):  # these feed the wording, not an indicator
            assert s.feeds(sh.name), sh.name
        else:
            assert not s.feeds(sh.name) and sh.note  # the instructions say what they are for
    assert s.feeds("行政应诉") == ["litigation.cases", "litigation.hearings", "litigation.head_appearances",
                                  "litigation.head_appearance_rate"]
    # every indicator of the catalog can come from the ledger
    assert {m.id for m in s.measures if m.indicator} == set(cat)


def test_cell_parsers():
    assert parse_number("12", True) == (12, None)
    assert parse_number("1,234.5", False) == (1234.5, None)
    assert parse_number(3.0, True) == (3, None)
    assert parse_number("12件", True)[1] and "不要带单位" in parse_number("12件", True)[1]
    assert parse_number("三", True)[0] is None
    assert parse_number(-1, True)[0] is None
    assert parse_number(2.5, True)[0] is None
    fm = load_schema().date_formats
    assert parse_date("2024/3/5", fm) == (dt.date(2024, 3, 5), None)
    assert parse_date("2024年3月5日", fm) == (dt.date(2024, 3, 5), None)
    assert parse_date("２０２４－０３－０５", fm)[0] == dt.date(2024, 3, 5)
    d, e = parse_date("2024-02-30", fm)
    assert d is None and "2月30日" in e
    assert parse_date("下周一", fm)[0] is None
    assert parse_date(45292, fm)[0] is None


# ------------------------------------------------------------------ template
def test_template_sheets_headers_validations(template):
    s = load_schema()
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:2] == ["填写说明", "基本情况"]
    assert set(wb.sheetnames[2:]) == {x.name for x in s.sheets}
    ws = wb["矛盾纠纷调解"]
    header = [c.value for c in ws[1]]
    assert header == [c.name for c in s.sheet("矛盾纠纷调解").columns]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    col = header.index("调解结果")
    letter = openpyxl.utils.get_column_letter(col + 1)
    assert lists[f"{letter}2"] == '"成功,失败,终止"'
    ws = wb["行政应诉"]
    header = [c.value for c in ws[1]]
    letter = openpyxl.utils.get_column_letter(header.index("负责人是否出庭") + 1)
    assert any(dv.formula1 == '"是,否"' and str(dv.sqref).startswith(f"{letter}2")
               for dv in ws.data_validations.dataValidation)
    # date columns: formatted and limited to the year
    letter = openpyxl.utils.get_column_letter(header.index("收到起诉状日期") + 1)
    assert ws.column_dimensions[letter].number_format == "yyyy-mm-dd"
    assert any(dv.type == "date" and dv.formula1 == f"DATE({YEAR},1,1)" for dv in ws.data_validations.dataValidation)
    # example row, grey; header comments
    assert ws.cell(row=2, column=1).value and ws.cell(row=2, column=1).font.color.rgb.endswith("808080")
    assert "必填" in ws.cell(row=1, column=2).comment.text
    # the instructions name the indicators each sheet feeds
    text = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "litigation.head_appearance_rate" in text and "示例行" in text


def test_fresh_template_checks_clean_but_says_examples_not_counted(template):
    led = read_ledger(template)
    assert led.errors == []
    assert led.year == YEAR
    assert any("示例行未计入" in i.message for i in led.warnings)
    assert all(not rows for rows in led.records.values())


def test_example_row_left_in_a_filled_sheet_is_reported_and_not_counted(example, template, tmp_path):
    wb = openpyxl.load_workbook(template)
    ex = [c.value for c in wb["合同审查"][2]]

    def add(wb):
        ws = wb["合同审查"]
        ws.append(ex)
    out = _edit(example, tmp_path / "x.xlsx", add)
    led = read_ledger(out, YEAR)
    assert not led.errors
    assert any(i.sheet == "合同审查" and "示例行" in i.message for i in led.warnings)
    assert len(led.rows("合同审查")) == 38


def test_template_refuses_to_overwrite(tmp_path):
    p = tmp_path / "t.xlsx"
    p.write_bytes(b"filled ledger")
    r = _run("ledger", "template", p)
    assert r.exit_code == 2 and "已存在" in r.output
    assert p.read_bytes() == b"filled ledger"
    assert _run("ledger", "template", p, "--force", "--year", YEAR).exit_code == 0


# ------------------------------------------------------------------ check
def test_example_ledger_is_clean_and_its_stats(example):
    led = read_ledger(example, YEAR)
    assert led.issues == []
    v = {k: x.value for k, x in compute(led).items()}
    assert v["mediation.cases"] == 64 and v["mediation.success_rate"] == 92.19
    assert (v["litigation.cases"], v["litigation.hearings"], v["litigation.head_appearances"],
            v["litigation.head_appearance_rate"]) == (6, 5, 4, 80)
    assert v["mediation.amount"] == 1309800  # 130.98 万元, in 元 like the analyser
    assert v["hotline.satisfaction_rate"] == 97.62  # 164 / 168 rated
    assert v["enforcement.officers"] == 20  # 在岗 only
    assert "enforcement.bodies" not in v  # blank in 基本情况: no value


def test_shipped_example_ledger_matches_the_generator():
    p = ROOT / "examples" / "ledger-example.xlsx"
    led = read_ledger(p)
    assert led.issues == [] and led.year == YEAR
    data = example_data(YEAR)
    assert {k: len(v) for k, v in led.records.items()} == {k: len(v) for k, v in data["rows"].items()}


def _bad(example, tmp_path):
    def edit(wb):
        wb["行政应诉"].title = "应诉台账"               # renamed sheet
        ws = wb["矛盾纠纷调解"]
        ws["D5"] = "三人"                               # text in a number column
        ws["A6"] = "2024-02-30"                         # impossible date
        ws["G7"] = "部分成功"                           # not in the drop-down
        ws["A8"] = None                                 # required cell empty
        ws["A9"] = dt.datetime(2023, 12, 30)            # outside the year
        wb["学法考试"]["D3"] = 200                      # passed > sat
        wb["行政复议"]["A1"] = "案件编号"               # renamed optional column
        wb["法律援助"]["B1"] = "日期"                   # renamed required column
        del wb["信访接待"]                              # missing sheet
        wb.create_sheet("备忘").append(["随手记", "内容"])  # unknown sheet
    return _edit(example, tmp_path / "bad.xlsx", edit)


def test_check_names_every_place(example, tmp_path):
    led = read_ledger(_bad(example, tmp_path), YEAR)
    texts = [i.text() for i in led.errors]
    joined = "\n".join(texts)
    assert "工作表“应诉台账”" in joined and "疑似由“行政应诉”改名" in joined
    assert "工作表“矛盾纠纷调解”第5行D列“当事人数”：“三人”不是数字" in joined
    assert "工作表“矛盾纠纷调解”第6行A列“受理日期”：“2024-02-30”不是有效日期" in joined
    assert "第7行G列“调解结果”：“部分成功”不是可选值（可选：成功、失败、终止）" in joined
    assert "第8行A列“受理日期”：必填项为空" in joined
    assert "第9行A列“受理日期”：日期 2023-12-30 不在 2024 年度内" in joined
    assert "工作表“学法考试”第3行D列“通过人数”" in joined
    assert "工作表“法律援助”第1行：缺少必填列“受理日期”" in joined
    assert "工作表“信访接待”：缺少此工作表" in joined
    warn = "\n".join(i.text() for i in led.warnings)
    assert "未识别的列“案件编号”" in warn and "缺少列“案号”" in warn
    assert "工作表“备忘”：未识别的工作表" in warn
    assert "台账的工作表为：合同审查、矛盾纠纷调解、行政复议" in warn and "{'" not in warn  # the list, not its code
    # nothing silently dropped: every bad row is named
    assert len(led.errors) == 9


def test_cross_column_rules(example, tmp_path):
    def edit(wb):
        ws = wb["行政应诉"]
        hdr = [c.value for c in ws[1]]
        ws.cell(row=7, column=hdr.index("负责人是否出庭") + 1, value="是")   # not heard, head "appeared"
        ws = wb["矛盾纠纷调解"]
        hdr = [c.value for c in ws[1]]
        ws.cell(row=3, column=hdr.index("结案日期") + 1, value=dt.datetime(2024, 1, 1))  # before 受理日期
    led = read_ledger(_edit(example, tmp_path / "x.xlsx", edit), YEAR)
    msgs = [i.text() for i in led.errors]
    assert any("“负责人是否出庭”为“是”时，“是否开庭”应为“是”" in m for m in msgs)
    assert any("结案日期（2024-01-01）早于受理日期" in m for m in msgs)


@pytest.mark.parametrize("name,content,expect", [
    ("empty.xlsx", b"", "空文件"),
    ("text.xlsx", "这不是表格".encode(), "不是 Excel 工作簿"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel"),
])
def test_unreadable_files_give_a_chinese_error(tmp_path, name, content, expect):
    p = tmp_path / name
    p.write_bytes(content)
    led = read_ledger(p)
    assert not led.readable and expect in led.errors[0].message
    r = _run("ledger", "check", p)
    assert r.exit_code == 1 and expect in r.output and "Traceback" not in r.output
    r = _run("draft", p, "--unit", "礼嘉街道", "--year", YEAR, "-o", tmp_path / "d.docx")
    assert r.exit_code == 1 and expect in r.output and not (tmp_path / "d.docx").exists()


def test_word_document_named_xlsx(tmp_path):
    import docx

    p = tmp_path / "report.xlsx"
    docx.Document().save(p)
    led = read_ledger(p)
    assert "Word 文档" in led.errors[0].message


def test_missing_file_and_empty_workbook(tmp_path):
    assert "文件不存在" in read_ledger(tmp_path / "nope.xlsx").errors[0].message
    p = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(p)
    led = read_ledger(p)
    assert any("缺少此工作表" in i.message for i in led.errors)
    assert any("未识别的工作表" in i.message for i in led.warnings) is False  # an empty Sheet1 is not worth a word


# ------------------------------------------------------------------ CLI
def test_cli_check_exit_codes(example, tmp_path):
    r = _run("ledger", "check", example, "--year", YEAR)
    assert r.exit_code == 0 and "未发现问题" in r.output
    bad = _bad(example, tmp_path)
    r = _run("ledger", "check", bad, "--year", YEAR)
    assert r.exit_code == 1 and "错误" in r.output and "Traceback" not in r.output
    r = _run("ledger", "check", bad, "--year", YEAR, "--format", "json")
    d = json.loads(r.stdout)
    assert d["errors"] == 9 and any(i["sheet"] == "矛盾纠纷调解" and i["row"] == 5 and i["column"] == "当事人数"
                                     for i in d["issues"])
    # stats and draft refuse a ledger with errors
    r = _run("ledger", "stats", bad, "--year", YEAR)
    assert r.exit_code == 1 and "未统计" in r.output


def test_cli_stats_json_and_table(example):
    r = _run("ledger", "stats", example, "--year", YEAR, "--format", "json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    got = {(x["indicator"], x["value"]) for x in d["indicators"]}
    assert got == indicator_values(compute(read_ledger(example, YEAR)))
    assert ("litigation.head_appearance_rate", 80) in got
    r = _run("ledger", "stats", example, "--year", YEAR)
    assert r.exit_code == 0 and "出庭应诉率" in r.output and "80%" in r.output


def test_zero_counts_are_not_indicator_values(example, tmp_path):
    def edit(wb):
        ws = wb["行政应诉"]
        hdr = [c.value for c in ws[1]]
        for row in range(2, ws.max_row + 1):
            ws.cell(row=row, column=hdr.index("负责人是否出庭") + 1, value="否")
    led = read_ledger(_edit(example, tmp_path / "z.xlsx", edit), YEAR)
    v = compute(led)
    assert v["litigation.head_appearances"].zero and v["litigation.head_appearance_rate"].zero
    ind = dict(indicator_values(v))
    assert "litigation.head_appearances" not in ind and ind["litigation.hearings"] == 5


def test_ledger_copies_are_independent(example, tmp_path):
    # the module fixture must not be modified by the tests that edit copies
    shutil.copy(example, tmp_path / "copy.xlsx")
    assert read_ledger(tmp_path / "copy.xlsx", YEAR).issues == []


def test_duplicate_sheet_and_year_mismatch(example, tmp_path):
    def edit(wb):
        ws = wb.copy_worksheet(wb["法律援助"])
        ws.title = "法律援助 "  # the same name but a blank: not counted twice
    p = _edit(example, tmp_path / "dup.xlsx", edit)
    led = read_ledger(p, 2024)
    assert any("“法律援助”出现了两次" in i.message for i in led.errors)
    assert len(led.rows("法律援助")) == 9
    led = read_ledger(example, 2025)
    assert any("“年度”填的是 2024" in i.message for i in led.warnings)
    assert any("不在 2025 年度内" in i.message for i in led.errors)
