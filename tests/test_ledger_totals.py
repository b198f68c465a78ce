"""A ledger that protects its totals: a 500-row ledger with planted duplicates, a
合计 row, a split sheet, a renamed column, a zero and an empty sheet.  Every plant
is reported with its place; once fixed, the figures equal a recount made here
straight from the cells (openpyxl, no fazhi code), and the draft says the zero and
the empty sheet in words."""
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.draft.compose import compose, to_markdown
from fazhi.ledger.example import example_data
from fazhi.ledger.reader import read_ledger
from fazhi.ledger.schema import load_schema
from fazhi.ledger.stats import compute, indicator_values
from fazhi.ledger.template import write_template
from fazhi.pipeline import analyze_text

YEAR = 2024


def col(sheet: str, name: str) -> int:
    return [c.name for c in load_schema().sheet(sheet).columns].index(name)


def _base() -> dict:
    """The example ledger, grown past 500 rows, with a zero (8 hearings, no head in
    court) and an empty sheet (行政复议)."""
    data = example_data(YEAR)
    R = data["rows"]
    R["行政复议"] = []
    lit = R["行政应诉"]
    for k in range(3):  # two more hearings, one not heard
        row = list(lit[k])
        row[col("行政应诉", "案号")] = f"（{YEAR}）渝0192行初{90 + k}号"
        lit.append(row)
    for row in lit:
        row[col("行政应诉", "负责人是否出庭")] = "否"
        row[col("行政应诉", "出庭负责人")] = None
    for k in range(40):  # the second half of the year's petitions
        R["信访接待"].append([dt.date(YEAR, 7 + k % 6, 1 + k % 27), "来访", 1 + k % 4, "物业纠纷", "已办结", None])
    return data


def _rows(data) -> int:
    return sum(len(v) for v in data["rows"].values())


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    data = _base()
    assert _rows(data) >= 500
    return write_template(tmp_path_factory.mktemp("fixed") / "fixed.xlsx", YEAR, data=data)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The same ledger as a clerk might hand it in: every way a total goes wrong."""
    data = _base()
    R = data["rows"]
    second = R["信访接待"][25:]
    R["信访接待"] = R["信访接待"][:25]
    consult = R["法律咨询"]
    consult.insert(10, list(consult[3]))                     # an identical row: row 12 repeats row 5
    total = [None] * len(consult[0])
    total[0] = "合计"
    total[col("法律咨询", "人次")] = sum(r[col("法律咨询", "人次")] for r in consult)
    consult.append(total)                                     # a 合计 row at the bottom
    hot = R["12345热线工单"]
    hot[50][0] = hot[20][0]                                   # 工单编号 of row 22 again in row 52
    lit = R["行政应诉"]
    lit[4][0] = lit[1][0]                                     # 案号 of row 3 again in row 6
    pub = R["普法宣传"]
    sub = list(pub[0])
    sub[col("普法宣传", "活动名称")] = "小计"                   # a subtotal row with a date in it
    sub[col("普法宣传", "受众人数")] = sum(r[col("普法宣传", "受众人数")] for r in pub)
    pub.insert(5, sub)
    path = write_template(tmp_path_factory.mktemp("planted") / "planted.xlsx", YEAR, data=data)
    wb = openpyxl.load_workbook(path)
    ws = wb["普法宣传"]
    ws.cell(row=1, column=col("普法宣传", "受众人数") + 1, value="受众人数（人次）")   # a renamed column
    split = wb.copy_worksheet(wb["信访接待"])                                         # a split sheet
    split.title = "信访接待(下半年)"
    split.delete_rows(2, split.max_row)
    for row in second:
        split.append(row)
    wb.save(path)
    return path, {"consult_dup": (12, 5), "consult_total": len(consult) + 1, "hot": (52, 22), "lit": (6, 3),
                  "pub_sub": 7, "split_rows": len(second)}


def test_every_plant_is_named_with_its_place(planted):
    path, at = planted
    led = read_ledger(path, YEAR)
    errs = led.errors
    by = {(i.sheet, i.row, i.column): i.message for i in errs}
    dup_row, first = at["consult_dup"]
    assert f"与第{first}行内容完全相同" in by[("法律咨询", dup_row, None)]
    assert "“合计”行" in by[("法律咨询", at["consult_total"], "日期")]
    row, first = at["hot"]
    assert f"与第{first}行重复" in by[("12345热线工单", row, "工单编号")]
    row, first = at["lit"]
    assert f"与第{first}行重复" in by[("行政应诉", row, "案号")]
    assert "“小计”行" in by[("普法宣传", at["pub_sub"], "活动名称")]
    msg = by[("信访接待(下半年)", None, None)]
    assert "表头与“信访接待”相同" in msg and f"本表的 {at['split_rows']} 条记录未计入" in msg
    msg = by[("普法宣传", 1, None)]
    letter = openpyxl.utils.get_column_letter(col("普法宣传", "受众人数") + 1)
    assert "缺少列“受众人数”" in msg and "publicity.reach" in msg and f"{letter}列“受众人数（人次）”疑似由它改名而来" in msg
    assert len(errs) == 7, "\n".join(i.text() for i in errs)  # the plants and nothing else
    # the zero and the empty sheet are not errors: the ledger says "none"
    assert not [i for i in led.issues if i.sheet in ("行政复议",) or (i.sheet == "行政应诉" and "出庭" in i.message)]


def test_planted_ledger_is_refused_by_stats_and_draft(planted, tmp_path):
    path, _ = planted
    r = CliRunner().invoke(main, ["ledger", "check", str(path), "--format", "json"])
    d = json.loads(r.stdout)
    assert r.exit_code == 1 and d["errors"] == 7
    assert {(i["sheet"], i["row"]) for i in d["issues"] if i["severity"] == "error"} >= {("法律咨询", 12), ("12345热线工单", 52)}
    r = CliRunner().invoke(main, ["draft", str(path), "-o", str(tmp_path / "d.docx")])
    assert r.exit_code == 1 and "未生成初稿" in r.output and not (tmp_path / "d.docx").exists()


def _round2(x) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def recount(path) -> dict[str, float]:
    """The catalog figures straight from the cells: rows, sums and shares as a
    person with a calculator would make them."""
    wb = openpyxl.load_workbook(path, data_only=True)

    def rows(name):
        ws = wb[name]
        head = [c.value for c in ws[1]]
        return [dict(zip(head, r)) for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]

    basics = {r[0]: r[1] for r in wb["基本情况"].iter_rows(min_row=2, values_only=True)}

    def n(name, **where):
        return sum(1 for r in rows(name) if all(r[k] in (v if isinstance(v, tuple) else (v,)) for k, v in where.items()))

    def total(name, column, **where):
        return sum(r[column] or 0 for r in rows(name) if all(r[k] == v for k, v in where.items()))

    def pct(a, b):
        return _round2(a / b * 100)

    med = n("矛盾纠纷调解")
    hot = n("12345热线工单")
    rated = n("12345热线工单", 满意度评价=("满意", "基本满意", "不满意"))
    takers = total("学法考试", "参考人数")
    props = n("建议提案办理")
    out = {
        "review.contracts": n("合同审查"), "review.major_decisions": n("重大行政决策"),
        "review.normative_docs": n("规范性文件", 办理事项="合法性审核"), "review.docs_repealed": n("规范性文件", 办理事项="清理废止"),
        "advisor.count": n("法律顾问"), "advisor.opinions": total("法律顾问", "出具法律意见数"),
        "advisor.coverage_rate": pct(basics["已配备法律顾问的村（社区）数"], basics["辖区村（社区）数"]),
        "mediation.cases": med, "mediation.success_rate": pct(n("矛盾纠纷调解", 调解结果="成功"), med),
        "mediation.parties": total("矛盾纠纷调解", "当事人数"),
        "mediation.amount": _round2(total("矛盾纠纷调解", "协议涉及金额（万元）", 调解结果="成功")) * 10000,
        "litigation.cases": n("行政应诉"), "litigation.hearings": n("行政应诉", 是否开庭="是"),
        "hotline.cases": hot, "hotline.ontime_rate": pct(n("12345热线工单", 是否按期办结="是"), hot),
        "hotline.satisfaction_rate": pct(n("12345热线工单", 满意度评价=("满意", "基本满意")), rated),
        "petition.visits": total("信访接待", "人次"), "enforcement.officers": n("行政执法人员", 在岗状态="在岗"),
        "enforcement.delegated_items": basics["承接下放行政执法事项数"], "services.items": basics["政务服务事项数"],
        "services.e_license_uses": basics["电子证照使用次数"], "publicity.legal_literates": basics["培育“法律明白人”数"],
        "legal_aid.cases": n("法律援助"), "consultation.count": total("法律咨询", "人次"),
        "publicity.events": n("普法宣传"), "publicity.materials": total("普法宣传", "发放资料（份）"),
        "publicity.reach": total("普法宣传", "受众人数"), "study.sessions": n("学法培训"),
        "study.exam_takers": takers, "study.exam_pass_rate": pct(total("学法考试", "通过人数"), takers),
        "oversight.npc_suggestions": n("建议提案办理", 类型="人大代表建议"),
        "oversight.cppcc_proposals": n("建议提案办理", 类型="政协提案"),
        "oversight.reply_rate": pct(n("建议提案办理", 是否办复="是"), props),
    }
    return {k: float(v) for k, v in out.items() if v}


def test_fixed_ledger_stats_equal_an_independent_recount(fixed):
    led = read_ledger(fixed, YEAR)
    assert led.issues == []
    assert sum(len(r) for r in led.records.values()) >= 500
    values = compute(led)
    assert indicator_values(values) == set(recount(fixed).items())
    # the zero and the empty sheet are kept as zeros, not dropped
    assert values["litigation.head_appearances"].zero and values["litigation.head_appearance_rate"].zero
    assert values["litigation.hearings"].value == 8
    assert values["reconsideration.cases"].zero and values["reconsideration.cases"].value == 0


def test_fixed_ledger_draft_says_zeros_in_words(fixed):
    led = read_ledger(fixed, YEAR)
    d = compose(led, "礼嘉街道", YEAR, "township")
    md = to_markdown(d)
    ach, short = md.split("## 二、")[0], md.split("## 二、")[1].split("## 三、")[0]
    assert "全年未发生行政复议案件。" in ach
    assert "行政机关负责人均未出庭应诉" in ach
    assert "行政机关负责人均未出庭应诉，“告官不见官”问题仍然存在" in short  # the 0 % rate is a shortcoming
    rep = analyze_text(md, "d.md")
    got = {(f.indicator, round(f.value, 2)) for f in rep.facts if f.indicator}
    assert got == d.expected  # words, not numbers: nothing extra read back
