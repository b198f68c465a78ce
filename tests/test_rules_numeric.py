"""fazhi.rules.numeric: rates, breakdowns, percentages and subsets that do not add up."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from fazhi.pipeline import analyze_path, analyze_text
from fazhi.rules.numeric import KINDS, check
from fazhi.textnorm import shadow

DEV = Path(__file__).parent / "data" / "dev"

HEAD = "某某区2023年度法治政府建设情况报告\n一、主要举措和成效\n"
TAIL = "\n二、存在的不足和原因\n基层法治力量仍然薄弱，原因是编制不足。\n"


def run(body: str, **params):
    r = analyze_text(HEAD + body + TAIL)
    return r, check(r, shadow(r.text), params)


def kinds(body: str, **params) -> list[str]:
    return [f[0] for f in run(body, **params)[1]]


def assert_one(body: str, kind: str, numbers: list[str], **params):
    """Exactly one finding of ``kind``; Chinese message naming the numbers;
    its span covers every number."""
    r, res = run(body, **params)
    got = [f for f in res if f[0] == kind]
    assert len(got) == 1, res
    k, sev, msg, s, e = got[0]
    assert sev == "error"
    assert re.search("[\u4e00-\u9fff]{4}", msg) and "请核对" in msg
    assert 0 <= s < e <= len(r.text)
    for n in numbers:
        assert n in msg, (n, msg)
        if re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d.,]\d)", body):  # written in the text (sums are not)
            assert n in r.text[s:e], (n, r.text[s:e])
    return msg


def test_api_shape():
    r, res = run("开庭40宗，负责人出庭36宗，占比95%。")
    assert isinstance(res, list) and len(res) == 1
    k, sev, msg, s, e = res[0]
    assert k in KINDS and isinstance(msg, str) and isinstance(s, int) and isinstance(e, int)
    r, res = run("没有数字的句子。")
    assert res == []


# ------------------------------------------------------------ rate_mismatch
@pytest.mark.parametrize("body,numbers", [
    ("今年以来，已开庭案件40宗（负责人出庭36宗，占比95%）。", ["36", "40", "95%"]),
    ("开庭40宗，负责人出庭38宗，占比85%。", ["38", "40", "85%"]),
    ("受理“访调”对接案件18起，其中家庭纠纷3起，合同纠纷4起，劳动纠纷2起，土地纠纷5起，"
     "宅基纠纷1起，其他纠纷3起，已成功调解17起，调解成功率达84.44%。", ["17", "18", "84.44%"]),
    ("全年受理投诉40件，办结38件。办结率为90%。", ["38", "40", "90%"]),
    ("行政应诉案件32件，其中败诉2件，败诉率16.25%。", ["2", "32", "16.25%"]),
    ("共调解各类矛盾纠纷1,256件，调解成功1,238件，调解成功率96.6%。", ["1238", "1256", "1,238", "1,256", "96.6%"]),
    ("開庭40宗，負責人出庭36宗，佔比95%。", ["36", "40", "95%"]),  # traditional characters
])
def test_rate_mismatch_found(body, numbers):
    msg = assert_one(body, "rate_mismatch", numbers)
    assert "比率与所列数字不符" in msg


@pytest.mark.parametrize("body", [
    "今年以来，已开庭案件40宗（负责人出庭38宗，占比95%）。",
    "受理“访调”对接案件18起，其中家庭纠纷3起，合同纠纷4起，劳动纠纷2起，土地纠纷5起，"
    "宅基纠纷1起，其他纠纷3起，已成功调解17起，调解成功率达94.44%。",
    "受理案件40件，办结38件，办结率95%。",
    "参加考试的干部52人，其中合格51人，合格率98%。",
    "全县执法人员432人，其中持证执法人员426人，持证率98.6%。",
    "共受理投诉400件，办结390件，其中按期办结380件，按期办结率97.4%。",
    "办理建议25件、提案23件，已办复46件，办复率95.8%。",
    "排查纠纷120起，调解成功115件，成功率95.8%。",
    "行政应诉案件32件，其中胜诉30件，败诉率6.25%。",
    # 100% coverage, no counts to compute it from
    "村（居）法律顾问实现全覆盖，覆盖率达100%。",
    "51名干部参加年度法治理论网上考试，通过率100%。落实行政执法人员持证100%。",
    # approximate counts cannot be checked
    "受理案件40余件，办结38件，办结率90%。",
    "受理案件4万件，办结3.8万件，办结率90%。",
    # change rates are no shares
    "受理案件40件，办结38件，同比增长20%。",
    # the base is outside the text
    "受理案件40件，办结38件，占全市的20%。",
    # an increment, not the part the rate measures
    "全区共有执法人员500人，今年新增持证人员48人，持证率98%。",
    # the rate's name does not name the count before it
    "受理案件40件，办结38件，群众满意率90%。",
    "共办理人大代表建议25件、政协提案23件，建议提案办复率100%。",
    "受理案件40件，办结38件，按期办结率100%。",
    # several rates at once
    "受理案件40件、办结38件，结案率、满意率分别为90%、98%。",
    # an old level
    "开庭40宗，出庭38宗，出庭应诉率由2021年的85%提高到95%。",
    # a lower bound
    "调解纠纷50件，成功49件，调解成功率保持在95%以上。",
])
def test_rate_mismatch_not_found(body):
    assert kinds(body) == []


def test_rate_tolerance_param():
    body = "受理案件40件，办结38件，办结率94.5%。"
    assert kinds(body) == []
    assert kinds(body, rate_tolerance=0.1) == ["rate_mismatch"]


def test_window_param():
    body = "全年受理投诉40件，办结38件。办结率为90%。"
    assert kinds(body) == ["rate_mismatch"]
    assert kinds(body, window="sentence_only") == []


# --------------------------------------------------- breakdown_exceeds_total
@pytest.mark.parametrize("body,numbers", [
    ("受理案件18起，其中家庭纠纷30起，合同纠纷4起。", ["30", "4", "34", "18"]),
    ("受理案件18起，其中家庭纠纷3起、合同纠纷4起；劳动纠纷12起。", ["3", "4", "12", "19", "18"]),
    ("组织培训5次，参训300人次，其中领导干部120人次、一般干部200人次。", ["120", "200", "320", "300"]),
    ("审查合同50份（其中采购合同30份，租赁合同25份）。", ["30", "25", "55", "50"]),
])
def test_breakdown_exceeds_total_found(body, numbers):
    msg = assert_one(body, "breakdown_exceeds_total", numbers)
    assert "分项之和超过总数" in msg


@pytest.mark.parametrize("body", [
    "受理案件18起，其中家庭纠纷3起，合同纠纷4起，劳动纠纷2起，土地纠纷5起，宅基纠纷1起，"
    "其他纠纷3起，已成功调解17起。",
    "受理案件18起，其中家庭纠纷3起，合同纠纷4起。",  # a partial list is fine
    "处理案件18起，其中简易程序3起、一般程序15起，罚款案件10起。",  # another cut
    "受理案件100余件，其中家庭纠纷60件，合同纠纷50件。",  # approximate total
    "受理行政案件30件、民事案件20件，其中调解结案35件。",  # the whole list
    "2019年举办了4期法治专题培训，其中1次为宪法学习。",
    "全年共办理案件120件，其中行政处罚案件80件，办理行政许可50件。",
    "受理案件18起，其中家庭纠纷3起（涉及当事人25人），合同纠纷4起。",
])
def test_breakdown_exceeds_total_not_found(body):
    assert kinds(body) == []


# ---------------------------------------------------------- percent_over_100
@pytest.mark.parametrize("body,numbers", [
    ("行政机关负责人出庭应诉率达到120%。", ["120%"]),
    ("专职律师占比105%。", ["105%"]),
])
def test_percent_over_100_found(body, numbers):
    msg = assert_one(body, "percent_over_100", numbers)
    assert "超过100%" in msg


@pytest.mark.parametrize("body", [
    "全区税收同比增长150%。",
    "政务服务事项网上办理量增长率达到130%。",
    "年度普法任务完成率120%。",
    "行政机关负责人出庭应诉率达到100%。",
    "办事效率提高到原来的200%。",
    "违法占地整治120%。",
    "执法检查频次是去年的130%。",
])
def test_percent_over_100_not_found(body):
    assert kinds(body) == []


# -------------------------------------------------------- part_exceeds_total
@pytest.mark.parametrize("body,numbers", [
    ("受理调解案件50件，调解成功52件。", ["50", "52"]),
    ("参加考试51人，考试通过53人。", ["51", "53"]),
    ("共受理行政复议案件45件，审结47件。", ["45", "47"]),
    ("受理50件，其中行政30件、民事20件，办结52件。", ["50", "52"]),
])
def test_part_exceeds_total_found(body, numbers):
    msg = assert_one(body, "part_exceeds_total", numbers)
    assert "部分大于总数" in msg


@pytest.mark.parametrize("body", [
    "受理调解案件50件，调解成功48件。",
    "受理案件50件，审结52件（含上年结转5件）。",
    "受理案件50件，化解矛盾纠纷52件。",  # not clearly the same things
    "受理调解案件50件。全年调解成功52件。",  # another sentence
    "共收到投诉20件，通过平台回复25件。",
    "受理行政案件30件、民事案件20件，结案45件。",
    "受理调解案件50件，累计调解成功520件。",
    "共组织培训5期，参加培训200人，考试通过198人。",
])
def test_part_exceeds_total_not_found(body):
    assert kinds(body) == []


def test_one_finding_per_evidence():
    assert kinds("受理调解案件50件，其中调解成功52件。") == ["breakdown_exceeds_total"]


# ------------------------------------------------------------- dev reports
@pytest.fixture(scope="module")
def dev_reports():
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(DEV.glob("*.txt"))}


def test_dev_reports_have_no_findings():
    paths = sorted(DEV.glob("*.txt"))
    assert paths
    for p in paths:
        r = analyze_path(p)
        assert check(r, shadow(r.text), {}) == [], p.name


@pytest.mark.parametrize("stem,old,new,kind,numbers", [
    ("seed-000", "负责人出庭38宗", "负责人出庭36宗", "rate_mismatch", ["36", "40", "95%"]),
    ("seed-002", "94.44%", "84.44%", "rate_mismatch", ["17", "18", "84.44%"]),
    ("seed-002", "其中家庭纠纷3起", "其中家庭纠纷30起", "breakdown_exceeds_total", ["30", "45", "18"]),
])
def test_mutated_dev_reports(dev_reports, stem, old, new, kind, numbers):
    text = dev_reports[stem]
    assert text.count(old) == 1
    r = analyze_text(text.replace(old, new), name=f"{stem}.txt")
    res = check(r, shadow(r.text), {})
    assert [f[0] for f in res] == [kind], res
    _, _, msg, s, e = res[0]
    for n in numbers:
        assert n in msg
    for n in numbers[:1] + numbers[-1:]:
        assert n in r.text[s:e]
