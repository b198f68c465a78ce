"""Genre rules, each on a report written for the test (not a dev file): the
kinds of failure the unseen reports showed, one test per rule.  A rule that
only works on the files it was written against fails here."""
import pytest

from fazhi.pipeline import analyze_text

INTRO = "2023年，在区委、区政府的坚强领导下，我街道坚持以习近平法治思想为指导，扎实推进法治政府建设各项工作。现将有关情况报告如下："


def parts(text):
    return [(p.part, p.heading) for p in analyze_text(text).parts]


def ids(text):
    return [p for p, _ in parts(text)]


# ----------------------------------------------------------------- parts
@pytest.mark.parametrize("heading,opening,expected", [
    # leading the work, by heading and opening content -> leader_duty
    ("一、坚持高位推动，统筹推进法治政府建设", "区政府主要负责同志认真履行推进法治建设第一责任人职责，每季度听取一次汇报。", "leader_duty"),
    ("一、提升政治站位，压实法治建设责任", "成立由主要领导任组长的法治政府建设领导小组，常务会议专题研究法治工作4次。", "leader_duty"),
    ("一、健全推进机制，夯实法治建设根基", "严格落实述法制度，党组书记带头述法。", "leader_duty"),
    # the same heading words with an opening about something else -> a topic chapter
    ("一、健全工作机制，依法化解矛盾纠纷", "全年调解矛盾纠纷120件，调解成功率98%。", "achievements"),
    # a results-framed summary is achievements even when leaders appear below
    ("一、坚持依法行政，法治政府建设取得新成效", "主要负责人履行第一责任人职责。", "achievements"),
    # strong words decide alone
    ("一、加强党的领导，完善法治政府建设推进机制", "全年开展执法检查20次。", "leader_duty"),
])
def test_leading_chapter_by_heading_and_opening(heading, opening, expected):
    text = "\n".join([INTRO, heading, opening, "二、依法全面履行政府职能", "梳理政务服务事项300项。"])
    got = ids(text)
    assert got[0] == expected
    assert got[-1] == "achievements"  # the next chapter then opens achievements


def test_leadership_chapter_at_the_end_of_topic_chapters():
    text = "\n".join([INTRO, "一、依法全面履行政府职能", "正文。", "二、严格规范公正文明执法", "正文。",
                      "三、加强党的领导，完善法治政府建设推进机制", "党政主要负责人履行第一责任人职责。",
                      "四、存在的不足和原因", "正文。", "五、2024年工作安排", "正文。"])
    assert ids(text) == ["achievements", "leader_duty", "shortcomings", "next_year"]


@pytest.mark.parametrize("front", [
    "**某某县人民政府文件**\n某政发〔2024〕3号\n签发人：张三",
    "# 某某县2023年度法治政府建设情况报告\n# 某某县2023年度法治政府建设情况报告",
    "**某某县2023年度法治政府建设情况报告**\n**（2024年2月20日）**",
    "**中共某某县委员会文件**",
])
def test_marked_front_matter_does_not_push_the_parts_down(front):
    body = "\n".join([INTRO, "一、主要举措和成效", "正文。", "二、存在的不足和原因", "正文。",
                      "三、党政主要负责人履行推进法治建设第一责任人职责情况", "正文。", "四、2024年工作安排", "正文。"])
    assert ids(front + "\n" + body) == ["achievements", "shortcomings", "leader_duty", "next_year"]


def test_a_lone_emphasised_line_above_the_parts():
    text = "\n".join([INTRO, "**现将有关情况报告如下**", "（一）主要举措和成效", "正文。", "（二）存在的不足和原因", "正文。",
                      "（三）下一步工作计划", "正文。"])
    assert ids(text) == ["achievements", "shortcomings", "next_year"]


def test_umbrella_lines_above_numbered_chapters():
    text = "\n".join([INTRO, "2023年某某镇法治政府建设工作情况", "一、坚持党的领导，推进基层法治建设", "正文。",
                      "二、依法全面履行政府职能", "正文。", "2024年工作计划", "一、持续深化法治建设", "正文。"])
    got = parts(text)
    assert [p for p, _ in got] == ["achievements", "next_year"]
    assert got[0][1] == "2023年某某镇法治政府建设工作情况"


def test_statutory_sub_sections_inside_an_achievements_chapter():
    text = "\n".join([INTRO, "一、2023年法治政府建设情况", "（一）主要举措", "正文。", "（二）存在的不足和原因", "正文。",
                      "二、2024年法治政府建设主要安排", "正文。"])
    assert parts(text) == [("achievements", "一、2023年法治政府建设情况"), ("shortcomings", "（二）存在的不足和原因"),
                           ("next_year", "二、2024年法治政府建设主要安排")]


def test_a_heading_that_lost_its_numeral():
    text = "\n".join([INTRO, "一、主要举措和成效", "正文。", "、存在的不足和原因", "正文。", "三、下一步工作打算", "正文。"])
    assert ids(text) == ["achievements", "shortcomings", "next_year"]


def test_a_line_that_starts_with_a_comma_mark_is_no_heading():
    long = "全年共审查合同120份，出具法律意见书30份，提供法律咨询服务，参与信访接待，协助处理涉法涉诉事项，服务党中央"
    text = "\n".join([INTRO, "一、主要举措和成效", long, "、国务院决策部署落实。", "二、存在的问题", "正文。"])
    assert ids(text) == ["achievements", "shortcomings"]


def test_run_on_text_without_line_breaks():
    body = "街道召开会议研究法治工作，推动各项任务落地见效。" * 4
    text = ("某某街道2023年度法治政府建设情况报告" + INTRO + "一、主要举措和成效（一）加强组织领导。" + body +
            "二、存在的不足和原因法治宣传的针对性还不够强。" + body + "三、党政主要负责人履行推进法治建设第一责任人职责情况"
            "街道主要负责人带头学法。" + body + "四、2024年工作安排继续推进法治政府建设，抓好各项工作落实。")
    got = parts(text)
    assert [p for p, _ in got] == ["achievements", "shortcomings", "leader_duty", "next_year"]
    assert got[0][1] == "一、主要举措和成效" and got[1][1] == "二、存在的不足和原因"


def test_plans_for_this_year_are_no_next_year_part():
    text = "\n".join(["某某县2023年度法治政府建设情况报告", INTRO, "一、2023年工作开展情况", "正文。", "二、下一步打算", "正文。"])
    assert ids(text) == ["achievements", "next_year"]


# ------------------------------------------------------------------ meta
def meta(text):
    return analyze_text(text).meta


@pytest.mark.parametrize("opening,unit,level", [
    ("2023年，我市以《某某市法治政府建设实施方案》为统领，鹤岗市人民政府常务会议专题研究法治工作。我市坚持依法行政。", "鹤岗市", "city"),
    ("2023年，全县各级各部门在中共桃源县委、桃源县人民政府的领导下，扎实推进法治建设。我县坚持依法决策。", "桃源县", "county"),
    ("2023年，全省各级政府认真落实省委、省政府部署，法治日益成为江苏现代化建设的显著优势。全省上下坚持依法行政。", "江苏", "province"),
])
def test_unit_from_self_references_when_there_is_no_title(opening, unit, level):
    m = meta(opening + "\n一、主要举措和成效\n正文。")
    assert (m.unit, m.level) == (unit, level)


def test_unit_from_the_signature_block():
    m = meta(INTRO.replace("我街道", "街道") + "\n一、主要举措和成效\n正文。\n\n某某市某某区人民政府新华街道办事处\n2024年3月1日")
    assert (m.unit, m.level, m.signed) == ("新华街道", "township", "2024-03-01")


def test_closing_lines_after_the_date_keep_unit_and_date():
    m = meta(INTRO.replace("我街道", "街道") + "\n一、主要举措和成效\n正文。\n\n某某县人民政府\n2024年3月1日\n（此件公开发布）\n联系人：李四，电话：12345678")
    assert (m.signed, m.level) == ("2024-03-01", "county")


@pytest.mark.parametrize("title_line,title,unit", [
    ("标题:某某县司法局2023年度法治政府建设情况报告", "某某县司法局2023年度法治政府建设情况报告", "某某县司法局"),
    ("| 标题:某某县司法局2023年度法治政府建设情况报告 | |", "某某县司法局2023年度法治政府建设情况报告", "某某县司法局"),
    ("【法治政府】某某区2023年法治政府建设年度报告", "某某区2023年法治政府建设年度报告", "某某区"),
    ("某某区2023年法治政府建设年度报告_某某区人民政府网", "某某区2023年法治政府建设年度报告", "某某区"),
    ("中共某某市委 某某市人民政府关于2023年度法治政府建设情况的报告", None, "某某市"),
    ("广州市增城区荔城街道2023年法治政府建设年度报告", None, "荔城街道"),
    ("关于某某市2023年法治政府建设情况的报告", None, "某某市"),
    ("某某区政府2023年度法治政府建设情况报告", None, "某某区"),
])
def test_title_and_unit_cleaned(title_line, title, unit):
    m = meta(title_line + "\n" + INTRO + "\n一、主要举措和成效\n正文。")
    assert m.title.replace(" ", "") == (title or title_line).replace(" ", "")
    assert m.unit == unit


def test_date_printed_on_the_title_line_is_the_publication_date():
    m = meta("某某街道2024年度法治政府建设工作情况报告 2025-02-28\n" + INTRO + "\n一、主要举措和成效\n正文。")
    assert (m.title, m.published) == ("某某街道2024年度法治政府建设工作情况报告", "2025-02-28")


def test_sentence_fragments_are_no_unit():
    for text in ["2023年，在省委坚强领导下，推动实现县区法治建设全覆盖。\n一、主要举措\n正文。",
                 "一是加强组织领导。深化街道法治建设，做好省对我市督察迎检工作。\n一、主要举措\n正文。"]:
        m = meta(text)
        assert m.unit is None or m.unit.endswith(("市", "县", "区", "省")) and len(m.unit) <= 5


def test_level_from_a_masked_name_and_from_self_references():
    m = meta("2023年，(略)市人民政府认真贯彻落实全市法治政府建设部署，全市各级各部门扎实推进。\n一、主要举措和成效\n正文。")
    assert (m.unit, m.level) == (None, "city")


def test_traditional_level_and_labels():
    m = meta("北京市朝陽區2022年法治政府建設年度報告\n發布日期：2023-03-31\n2022年，朝陽區政府深入學習。\n一、主要舉措和成效\n正文。")
    assert (m.unit, m.level, m.published) == ("朝陽區", "county", "2023-03-31")


def test_date_glued_to_a_time_as_ocr_gives_it():
    m = meta("某某区2023年法治政府建设年度报告\n发布时间：2024-03-2810:30\n" + INTRO + "\n一、主要举措和成效\n正文。")
    assert m.published == "2024-03-28"


# ----------------------------------------------------------------- facts
def facts(text):
    return sorted((f.indicator, f.value) for f in analyze_text("一、主要举措和成效\n" + text).facts if f.indicator)


def test_breakdown_by_type_without_qizhong():
    assert facts("梳理政务服务事项515项，行政许可事项218项、公共服务事项297项。") == [
        ("services.items", 218), ("services.items", 297), ("services.items", 515)]


def test_a_type_larger_than_its_total_is_no_breakdown():
    assert facts("梳理政务服务事项515项，行政执法事项1200项。") == [("services.items", 515)]


def test_short_forms_of_deputies_suggestions_and_proposals():
    got = facts("主动接受人大法律监督、政协民主监督，办结人大代表和政协委员建议提案，其中办结建议12件，提案8件。")
    assert ("oversight.npc_suggestions", 12) in got and ("oversight.cppcc_proposals", 8) in got


def test_head_appearance_rate_written_as_yingsu_rate():
    assert facts("新增行政诉讼案件5件，行政机关负责人出庭应诉5件，应诉率达100%。") == [
        ("litigation.cases", 5), ("litigation.head_appearance_rate", 100), ("litigation.head_appearances", 5)]


@pytest.mark.parametrize("phrase,value", [
    ("发放宣传资料1.2万余份", 12000), ("发放宣传资料十万零三千份", 103000), ("发放宣传资料3.5万份", 35000),
    ("发放宣传资料两万份", 20000),
])
def test_numerals(phrase, value):
    assert facts(phrase + "。") == [("publicity.materials", value)]


def test_licence_types_are_no_licence_uses():
    assert facts("实现174个电子证照跨部门调用。") == []
    assert facts("电子证照调用1.2万次。") == [("services.e_license_uses", 12000)]


def test_the_last_part_ends_before_the_signature_and_its_closing_lines():
    text = "\n".join([INTRO, "一、主要举措和成效", "正文。", "二、下一步工作打算", "继续推进。", "",
                      "某某县人民政府", "2024年3月1日", "（此件公开发布）", "联系人：李四，电话：12345678"])
    r = analyze_text(text)
    assert r.parts[-1].part == "next_year"
    assert r.text[r.parts[-1].start:r.parts[-1].end].rstrip().endswith("继续推进。")


@pytest.mark.parametrize("opening", [
    "2023年，统筹部署坚持依法行政，各项工作有序推进。",
    "2023年，服务大局坚持依法行政，各项工作有序推进。",
    "2023年，一是加强组织领导坚持依法行政。",
])
def test_verb_phrases_ending_like_an_organ_are_no_unit(opening):
    assert meta(opening + "\n一、主要举措和成效\n正文。").unit is None


def test_a_count_after_a_count_does_not_borrow_its_object():
    assert facts("全年审查合同120件，提出意见30件。") == [("review.contracts", 120)]


def test_a_results_heading_naming_a_later_year_is_no_plan():
    # the title says 2022, the first chapter reports 2023's results (a wrong title year):
    # the chapter stays achievements and its facts stay facts
    text = "\n".join(["某某区2022年法治政府建设年度报告", "一、2023年推进法治政府建设的主要举措和成效", "审查合同120份。",
                      "二、2024年工作安排", "正文。"])
    r = analyze_text(text)
    assert [p.part for p in r.parts] == ["achievements", "next_year"]
    assert [(f.indicator, f.value) for f in r.facts if f.indicator] == [("review.contracts", 120)]
    assert any(f.rule == "year.consistency" for f in r.findings)


@pytest.mark.parametrize("lines,title", [
    (["某某县人民政府关于", "2023年度法治政府建设", "情况的报告"], "某某县人民政府关于2023年度法治政府建设情况的报告"),
    (["某某县人民政府关于2023年度法治政府", "建设情况的报告"], "某某县人民政府关于2023年度法治政府建设情况的报告"),
    (["中华人民共和国某某部", "某某部2023年法治政府建设年度报告"], "某某部2023年法治政府建设年度报告"),
    (["**某某县人民政府文件**", "某政发〔2024〕3号", "某某县2023年度法治政府建设情况报告"], "某某县2023年度法治政府建设情况报告"),
])
def test_titles_broken_over_lines_and_headers_above_them(lines, title):
    m = meta("\n".join(lines) + "\n" + INTRO + "\n一、主要举措和成效\n正文。")
    assert m.title == title


def test_ocr_letter_o_between_digits_reads_as_zero():
    m = meta("某某区2023年法治政府建设年度报告\n发布时间：2O24-O3-28\n" + INTRO + "\n一、主要举措和成效\n正文。")
    assert m.published == "2024-03-28"


def test_unnumbered_bold_part_headings():
    text = "\n".join([INTRO, "**主要做法和成效**", "正文。", "**存在的困难和问题**", "正文。",
                      "**党政主要负责人履行推进法治建设第一责任人职责情况**", "正文。", "**下一步工作打算**", "正文。"])
    assert ids(text) == ["achievements", "shortcomings", "leader_duty", "next_year"]
