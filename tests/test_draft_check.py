"""`fazhi check` knows a draft: placeholders are errors with their place, placeholder
text and bare headings are not content for any rule or score, scores clamp before
their penalties."""
import re

import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.pipeline import analyze_text
from test_rules import GOOD

LEADER_HEAD = "三、党政主要负责人履行推进法治建设第一责任人职责情况\n"


def rules_of(report, rule):
    return [f for f in report.findings if f.rule == rule]


def _replace_section(text: str, head: str, body: str) -> str:
    """The section under ``head`` replaced by ``body`` (up to the next part or the signature)."""
    i = text.index(head) + len(head)
    m = re.search(r"\n(?:[一二三四五六七八九]、|某某区人民政府\n)", text[i:])
    j = m.start() + i + 1
    return text[:i] + body + text[j:]


def test_each_placeholder_is_an_error_at_its_place_and_summed_by_part():
    holes = ["【请补充：该项安排的落实情况】", "【请补充：产生上述问题的原因】", "【请补充：成文日期】"]
    text = GOOD.replace("（三）深入开展普法。", "（三）深入开展普法。" + holes[0])
    text = text.replace("普法效果评估机制尚未建立。", "普法效果评估机制尚未建立。" + holes[1])
    text = text.replace("2024年3月10日", holes[2])
    r = analyze_text(text)
    found = rules_of(r, "draft.placeholder")
    assert [r.text[f.start:f.end] for f in found] == holes
    assert all(f.severity == "error" for f in found)
    assert "“主要举措和成效”部分尚未撰写" in found[0].message
    assert "“存在的不足和原因”部分尚未撰写" in found[1].message
    (todo,) = rules_of(r, "draft.todo")
    assert todo.severity == "info" and "还有 3 处待撰写" in todo.message
    assert "主要举措和成效 1 处" in todo.message and "存在的不足和原因 1 处" in todo.message
    assert not rules_of(analyze_text(GOOD), "draft.placeholder") and not rules_of(analyze_text(GOOD), "draft.todo")
    # completeness pays for each hole
    assert r.scores["completeness"] == 100 - 2 * 3


def test_placeholder_text_is_not_the_leader_part():
    thin = "区政府主要负责人认真履行第一责任人职责。"
    filler = "【请补充：主要负责人本人带头学法、讲授法治课、参加述法的情况，主持召开会议研究法治建设的次数、议题和作出的部署，" \
             "在重大行政决策、合法性审查、出庭应诉、督察整改等方面亲自推动的事项，压实领导班子成员和各部门法治建设责任、" \
             "开展法治建设考核和督促检查、听取法治政府建设工作汇报、解决法治建设中遇到的重大问题、推动法治建设重点任务落实的情况】"
    assert len(filler) > 150
    r = analyze_text(_replace_section(GOOD, LEADER_HEAD, thin + filler + "\n"))
    (f,) = rules_of(r, "leader_duty.section")
    assert f"仅 {len(thin)} 字" in f.message
    # the same number of characters written by a person passes
    written = thin + filler.strip("【】").replace("请补充：", "")
    assert not rules_of(analyze_text(_replace_section(GOOD, LEADER_HEAD, written + "\n")), "leader_duty.section")


def test_bare_causes_heading_is_no_cause():
    head = "二、存在的不足和原因\n"
    shortcomings = ("（一）存在的主要不足\n部分执法人员对新修订的法律法规掌握不够，执法案卷评查中发现文书制作不规范。"
                    "普法活动多集中在城区，农村和企业覆盖不足，普法效果评估机制尚未建立。\n")
    bare = _replace_section(GOOD, head, shortcomings + "（二）原因分析\n")
    assert rules_of(analyze_text(bare), "shortcomings.causes")
    holed = _replace_section(GOOD, head, shortcomings + "（二）原因分析\n【请补充：产生上述问题的主观原因和客观原因】\n")
    assert rules_of(analyze_text(holed), "shortcomings.causes")
    # the heading with a written analysis under it, even one without a cue word of its own
    done = _replace_section(GOOD, head, shortcomings + "（二）原因分析\n一是思想认识不到位，二是培训考核机制不健全。\n")
    assert not rules_of(analyze_text(done), "shortcomings.causes")


def test_placeholders_do_not_pad_the_shortcomings_share_or_plans():
    head = "二、存在的不足和原因\n"
    pad = "【请补充：" + "台账数据以外的主要不足，如依法行政能力、执法规范化、普法实效等方面的具体问题和表现" * 6 + "】"
    r = analyze_text(_replace_section(GOOD, head, "普法工作还不够深入。" + pad + "\n"))
    assert rules_of(r, "balance.length")  # a short part padded by a placeholder is still short
    nxt = "四、2024年推进法治政府建设的主要安排\n"
    plan = _replace_section(GOOD, nxt, "【请补充：6月底前完成的工作和全年目标，如开展普法宣传活动50场】\n")
    r = analyze_text(plan)
    assert rules_of(r, "next_year.concrete") and r.scores["plan_concreteness"] == 0


def test_penalty_is_taken_after_the_clamp():
    good = analyze_text(GOOD)
    assert good.scores["data_support"] == 100
    bad = analyze_text(GOOD.replace("占比95%", "占比85%"))
    assert rules_of(bad, "numeric.rate")
    assert bad.scores["data_support"] == 100 - 15


def test_changing_only_the_title_year_raises_no_false_premature_warning():
    r = analyze_text(GOOD.replace("某某区2023年度法治政府建设情况报告", "某某区2024年度法治政府建设情况报告"))
    assert rules_of(r, "year.consistency")  # the real problem is named
    assert not rules_of(r, "timeliness.premature")


def test_changing_only_the_title_year_keeps_the_next_year_part():
    r = analyze_text(GOOD.replace("某某区2023年度法治政府建设情况报告", "某某区2024年度法治政府建设情况报告"))
    assert "next_year" in [p.part for p in r.parts]
    assert not rules_of(r, "part.next_year")


def test_unfilled_draft_fails_check_and_says_what_is_left(tmp_path):
    from fazhi.ledger.example import write_example

    led = write_example(tmp_path / "l.xlsx", 2024)
    out = tmp_path / "d.docx"
    r = CliRunner().invoke(main, ["draft", str(led), "-o", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["check", str(out)])
    assert r.exit_code == 1 and "draft.placeholder" in r.output and "待撰写" in r.output
