from fazhi.clean import clean
from fazhi.outline import build_tree, find_headings
from fazhi.parts import classify, find_parts
from fazhi.textnorm import shadow


def heads_of(text):
    c = clean(text)
    sh = shadow(c.text)
    return find_headings(c, sh), c, sh


def test_numbering_systems_and_relative_levels():
    text = "\n".join([
        "一、主要举措和成效",
        "（一）强化组织领导。坚持党的领导，召开会议3次。",
        "1.完善制度。",
        "（1）修订办法。",
        "①细化清单",
        "(二)规范执法",
        "二、存在的不足和原因",
        "1、学习不够深入",
        "三、下一步工作打算",
    ])
    hs, c, _ = heads_of(text)
    got = [(h.level, h.label, h.title) for h in hs]
    assert got == [
        (1, "一、", "一、主要举措和成效"),
        (2, "（一）", "（一）强化组织领导。"),  # title cut at the first full stop
        (3, "1.", "1.完善制度。"),
        (4, "（1）", "（1）修订办法。"),
        (5, "①", "①细化清单"),
        (2, "(二)", "(二)规范执法"),
        (1, "二、", "二、存在的不足和原因"),
        (2, "1、", "1、学习不够深入"),  # a type not on the stack goes one level below
        (1, "三、", "三、下一步工作打算"),
    ]
    tree = build_tree(hs, len(c.text))
    assert [n.title for n in tree] == ["一、主要举措和成效", "二、存在的不足和原因", "三、下一步工作打算"]
    assert tree[0].children[0].children[0].title == "1.完善制度。"
    assert tree[0].end == tree[1].start


def test_inline_enumerations_and_numbers_are_not_headings():
    hs, _, _ = heads_of("一是加强学习。二是完善制度。\n1.23亿元用于建设。\n2022年完成任务。\n三、下一步打算")
    assert [h.title for h in hs] == ["三、下一步打算"]


def test_markdown_bold_and_bare_headings():
    hs, _, _ = heads_of("**主要工作**\n正文内容很多。\n# 存在的问题\n正文。\n下一步工作计划\n正文。")
    assert [h.title for h in hs] == ["主要工作", "存在的问题", "下一步工作计划"]
    assert all(h.level == 1 for h in hs)


def test_markdown_level_does_not_override_numbering():
    hs, _, _ = heads_of("## 一、主要举措和成效\n# （一）组织领导\n## 二、存在问题")
    assert [h.level for h in hs] == [1, 2, 1]


def test_classify_vocabulary():
    assert classify("主要举措和成效", 2022) == "achievements"
    assert classify("2022年推进法治政府建设的主要举措和成效", 2022) == "achievements"
    assert classify("存在的不足和原因", 2022) == "shortcomings"
    assert classify("党政主要负责人履行推进法治建设第一责任人职责情况", 2022) == "leader_duty"
    assert classify("加强党对法治政府建设的领导", 2018) == "leader_duty"
    assert classify("2023年推进法治政府建设的工作举措", 2022) == "next_year"
    assert classify("下一步工作计划", 2019) == "next_year"
    assert classify("其他需要报告的情况", 2022) == "other"
    assert classify("依法全面履行政府职能", 2017) is None  # a topic chapter


def test_parts_topic_chapters_and_leader_first():
    text = "\n".join([
        "一、加强党对法治政府建设的领导", "正文。",
        "二、依法全面履行政府职能", "正文。",
        "三、严格规范公正文明执法", "正文。",
        "四、存在的主要问题", "正文。",
        "五、2024年工作安排", "正文。",
    ])
    hs, c, sh = heads_of(text)
    parts = find_parts(hs, sh, len(c.text), 2023)
    assert [(p.part, p.heading) for p in parts] == [
        ("leader_duty", "一、加强党对法治政府建设的领导"),
        ("achievements", "二、依法全面履行政府职能"),  # chapters 二 and 三 merged
        ("shortcomings", "四、存在的主要问题"),
        ("next_year", "五、2024年工作安排"),
    ]
    assert parts[1].end == parts[2].start
    assert parts[-1].end == len(c.text)


def test_subsection_on_leadership_is_not_a_part():
    text = "一、主要成效\n（一）加强组织领导，切实履行第一责任人职责\n正文。\n二、存在问题\n正文。"
    hs, c, sh = heads_of(text)
    assert [p.part for p in find_parts(hs, sh, len(c.text), 2022)] == ["achievements", "shortcomings"]


def test_traditional_heading_classified():
    text = "司法部2019年法治政府建設年度報告\n一、加強黨對法治政府建設的領導，切實履行推進法治政府建設重要職責\n正文。"
    hs, c, sh = heads_of(text)
    parts = find_parts(hs, sh, len(c.text), 2019)
    assert parts[0].part == "leader_duty"
    assert parts[0].heading.startswith("一、加強黨")  # the heading keeps the author's characters
