"""Each rule, positive and negative, on a small well-formed report and its variants."""
import json
import re

import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.findings import evaluate
from fazhi.pipeline import analyze_text
from fazhi.rules import RuleError, load_rules

GOOD = """某某区2023年度法治政府建设情况报告
发布日期：2024-03-15
2023年，某某区坚持以习近平法治思想为指导，扎实推进法治政府建设。现将2023年度有关情况报告如下：
一、2023年推进法治政府建设的主要举措和成效
（一）严格规范执法。全年办理行政处罚案件126件，新申领行政执法证18人，组织执法人员培训3期。
（二）依法化解争议。受理行政复议案件31件，审结25件。行政诉讼开庭40宗，负责人出庭38宗，占比95%。
（三）深入开展普法。开展普法宣传活动45场次，发放宣传资料1.2万份，培育“法律明白人”120人。
二、存在的不足和原因
（一）执法队伍专业能力不足。部分执法人员对新修订的法律法规掌握不够，主要原因是培训形式单一、考核不严，一些单位对执法培训重视不够，执法案卷评查中发现文书制作不规范的问题12个。
（二）普法针对性不强。普法活动多集中在城区，农村和企业覆盖不足，原因是普法资源分布不均、基层普法队伍力量薄弱，普法效果评估机制尚未建立。
三、党政主要负责人履行推进法治建设第一责任人职责情况
区政府主要负责人认真履行推进法治建设第一责任人职责，全年主持召开常务会议专题研究法治政府建设工作4次，带头开展述法，把法治建设纳入全区发展规划和年度考核。区政府常务会议会前学法12次，主要负责人带头讲法治课2次，听取法治政府建设工作汇报并部署重点任务，对重大行政决策坚持合法性审查，督促各部门落实法治建设责任。
四、2024年推进法治政府建设的主要安排
（一）6月底前完成行政规范性文件清理。
（二）全年开展普法宣传活动50场。
某某区人民政府
2024年3月10日
"""


def run(text, rules=None):
    r = analyze_text(text)
    if rules is not None:
        evaluate(r, rules)
    return r


def ids(report):
    return {f.rule for f in report.findings}


def test_good_report_has_no_warnings_or_errors():
    r = run(GOOD)
    assert {f.rule for f in r.findings if f.severity != "info"} == set(), r.findings
    assert r.scores["completeness"] == 100 and r.scores["timeliness"] == 100
    assert 0 <= r.scores["total"] <= 100


@pytest.mark.parametrize("heading,rule", [
    ("一、2023年推进法治政府建设的主要举措和成效", "part.achievements"),
    ("二、存在的不足和原因", "part.shortcomings"),
    ("三、党政主要负责人履行推进法治建设第一责任人职责情况", "part.leader_duty"),
    ("四、2024年推进法治政府建设的主要安排", "part.next_year"),
])
def test_missing_part_is_an_error(heading, rule):
    # drop the heading and its section
    lines = GOOD.split("\n")
    i = lines.index(heading)
    j = next((k for k in range(i + 1, len(lines)) if re.match("^[一二三四]、", lines[k])), len(lines) - 3)
    r = run("\n".join(lines[:i] + lines[j:]))
    f = [x for x in r.findings if x.rule == rule]
    assert f and f[0].severity == "error" and "缺少法定内容" in f[0].message
    assert rule not in ids(run(GOOD))


def test_shortcomings_without_causes():
    text = GOOD.replace("主要原因是培训形式单一、考核不严，", "").replace("原因是普法资源分布不均、", "")
    assert "shortcomings.causes" in ids(run(text))


def test_leader_duty_thin_and_passing():
    short = re.sub(r"(三、党政主要负责人履行推进法治建设第一责任人职责情况\n)[^\n]+", r"\1主要负责人认真履职。", GOOD)
    assert "leader_duty.section" in ids(run(short))
    assert "leader_duty.section" not in ids(run(GOOD))


def test_order_is_info_only():
    a, b = GOOD.index("二、存在"), GOOD.index("三、党政")
    c = GOOD.index("四、2024")
    moved = GOOD[:GOOD.index("一、2023")] + GOOD[b:c].replace("三、", "一、") + GOOD[GOOD.index("一、2023"):a].replace("一、", "二、") + GOOD[a:b].replace("二、", "三、") + GOOD[c:]
    r = run(moved)
    f = [x for x in r.findings if x.rule == "parts.order"]
    assert f and f[0].severity == "info"
    assert "parts.order" not in ids(run(GOOD))


def test_title_genre_and_year():
    r = run(GOOD.replace("某某区2023年度法治政府建设情况报告", "某某区2023年度工作总结"))
    assert "title.genre" in ids(r)
    r = run(GOOD.replace("某某区2023年度法治政府建设情况报告", "某某区法治政府建设情况报告"))
    assert any(f.rule == "title.genre" and "年度" in f.message for f in r.findings)


def test_year_consistency_title_body_and_next_year():
    r = run(GOOD.replace("某某区2023年度法治政府建设情况报告", "某某区2022年度法治政府建设情况报告"))
    f = [x for x in r.findings if x.rule == "year.consistency"]
    assert f and f[0].severity == "error" and "2022" in f[0].message and "2023" in f[0].message
    r = run(GOOD.replace("四、2024年推进", "四、2025年推进"))
    assert any(x.rule == "year.consistency" and "2025" in x.message for x in r.findings)
    assert "year.consistency" not in ids(run(GOOD))


def test_deadline_late_premature_and_missing():
    late = run(GOOD.replace("发布日期：2024-03-15", "发布日期：2024-05-20"))
    f = [x for x in late.findings if x.rule == "timeliness.deadline"]
    assert f and f[0].severity == "error" and "2024-04-01" in f[0].message
    assert late.text[f[0].start:f[0].end].startswith("2024-05-20")
    early = run(GOOD.replace("发布日期：2024-03-15", "发布日期：2023-11-20"))
    assert "timeliness.premature" in ids(early)
    none = run(GOOD.replace("发布日期：2024-03-15\n", "").replace("2024年3月10日\n", ""))
    assert "timeliness.no_date" in ids(none) and "timeliness.deadline" not in ids(none)
    assert not {"timeliness.deadline", "timeliness.premature"} & ids(run(GOOD))


def test_data_support():
    bare = re.sub(r"（[一二三]）[^\n]+\n", "", GOOD.split("二、存在")[0])
    body = "（一）严格规范执法。坚持严格规范公正文明执法，不断完善执法程序，持续提升执法水平，执法规范化建设取得新成效。" * 6
    text = bare + body + "\n二、存在" + GOOD.split("二、存在")[1]
    assert "data.support" in ids(run(text))
    assert "data.support" not in ids(run(GOOD))


def test_balance_length_and_generic():
    gen = re.sub(r"(二、存在的不足和原因\n)(.|\n)*?(?=三、)", r"\1（一）法治学习有待加强。\n（二）普法工作还不够深入。\n", GOOD)
    assert "balance.generic" in ids(run(gen))
    long_achievements = gen.replace("（三）深入开展普法。", "（三）深入开展普法。" + "坚持“谁执法谁普法”，组织开展宪法宣传周、民法典宣传月等主题活动。" * 8)
    assert "balance.length" in ids(run(long_achievements))
    assert not {"balance.generic", "balance.length"} & ids(run(GOOD))


def test_next_year_concreteness():
    vague = GOOD.replace("（一）6月底前完成行政规范性文件清理。\n（二）全年开展普法宣传活动50场。",
                         "（一）进一步加强法治政府建设。\n（二）持续提升依法行政水平。")
    assert "next_year.concrete" in ids(run(vague))
    assert "next_year.concrete" not in ids(run(GOOD))


def test_classified_marker():
    r = run("秘密★1年\n" + GOOD)
    assert "classified.markers" in ids(r)
    assert "classified.markers" not in ids(run(GOOD.replace("严格规范执法。", "严格规范执法，除涉及国家秘密的事项外全部公开。")))


def test_rule_file_overrides_deadline_for_departments(tmp_path):
    dept = GOOD.replace("某某区2023年度", "某某区司法局2023年度").replace("某某区人民政府\n", "某某区司法局\n")
    dept = dept.replace("发布日期：2024-03-15", "发布日期：2024-03-05")
    assert "timeliness.deadline" not in ids(run(dept))
    rf = tmp_path / "province.yaml"
    rf.write_text("rules:\n  - id: timeliness.deadline\n    params:\n      by_level: {department: \"03-01\"}\n"
                  "  - id: custom.no_plan_numbers\n    check: plan_concreteness\n    title: 本省要求\n    severity: error\n"
                  "    params: {time_words: '永远不会出现的词'}\n", encoding="utf-8")
    rules = load_rules(rf)
    r = run(dept, rules)
    assert "timeliness.deadline" in ids(r) and "2024-03-01" in next(f.message for f in r.findings if f.rule == "timeliness.deadline")
    assert "timeliness.deadline" not in ids(run(GOOD, rules))  # a district government keeps 1 April


def test_rule_file_toml_and_errors(tmp_path):
    t = tmp_path / "r.toml"
    t.write_text('[[rules]]\nid = "classified.markers"\nenabled = false\n', encoding="utf-8")
    assert "classified.markers" not in ids(run("秘密★1年\n" + GOOD, load_rules(t)))
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    check: no_such_check\n", encoding="utf-8")
    with pytest.raises(RuleError, match="不存在"):
        load_rules(bad)
    bad.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RuleError, match="格式有误"):
        load_rules(bad)


def test_check_cli_exit_codes_and_json(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(good)])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.txt"
    bad.write_text(GOOD.replace("发布日期：2024-03-15", "发布日期：2024-06-01"), encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(bad)])
    assert res.exit_code == 1 and "错误" in res.output and "timeliness.deadline" in res.output
    res = CliRunner().invoke(main, ["check", str(bad), "--format", "json"])
    d = json.loads(res.output)
    assert d["scores"]["timeliness"] < 100 and any(f["rule"] == "timeliness.deadline" for f in d["findings"])
    rf = tmp_path / "bad-rules.yaml"
    rf.write_text("rules:\n  - check: deadline\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["check", str(good), "--rules", str(rf)])
    assert res.exit_code == 2 and "id" in res.output


def test_scores_rubric_override(tmp_path):
    rf = tmp_path / "w.yaml"
    rf.write_text("scores:\n  weights: {completeness: 1, timeliness: 0, data_support: 0, candour: 0, plan_concreteness: 0}\n",
                  encoding="utf-8")
    from fazhi.rules import load_config
    from fazhi.scores import compute, rubric

    r = run(GOOD)
    assert compute(r, rubric(load_config(rf)["scores"]))["total"] == r.scores["completeness"]


def test_check_cli_writes_report_cards(tmp_path):
    one = tmp_path / "a.txt"
    one.write_text(GOOD.replace("（二）依法化解争议。", "（二）依法化解争议<script>alert(1)</script>。"), encoding="utf-8")
    two = tmp_path / "b.txt"
    two.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "card.html"
    res = CliRunner().invoke(main, ["check", str(one), "--html", str(out)])
    page = out.read_text(encoding="utf-8")
    assert res.exit_code == 0 and "<script>alert" not in page and "&lt;script&gt;" in page
    assert "某某区2023年度法治政府建设情况报告" in page and "http://" not in page and "https://" not in page
    cards = tmp_path / "cards"
    res = CliRunner().invoke(main, ["check", str(one), str(two), "--html", str(cards)])
    assert res.exit_code == 0 and sorted(p.name for p in cards.iterdir()) == ["a.html", "b.html"]
