import datetime as dt

import pytest

from fazhi import regions
from fazhi.dates import find_dates, find_years, parse_date
from fazhi.meta import find_level, normalise_unit
from fazhi.pipeline import analyze_text


@pytest.mark.parametrize("s,iso", [
    ("2023-03-13", "2023-03-13"),
    ("发布时间：2023/3/13 09:41", "2023-03-13"),
    ("2023.03.13", "2023-03-13"),
    ("2023年3月13日", "2023-03-13"),
    ("2023 年 3 月 13 日", "2023-03-13"),
    ("二〇二三年三月十三日", "2023-03-13"),
    ("二○二二年十一月四日", "2022-11-04"),
    ("二〇二〇年十二月三十一日", "2020-12-31"),
])
def test_dates_every_form(s, iso):
    assert parse_date(s) == iso


def test_dates_reject_impossible_and_years():
    assert parse_date("2023-02-30") is None
    assert parse_date("2022年度") is None
    assert find_dates("2022年11月4日 12:21")[0].end == len("2022年11月4日 12:21")
    assert [y for y, _, _ in find_years("2022年,二〇二三年度,2015—2020年")] == [2022, 2023, 2020]


def test_regions_lookup_and_mentions():
    d = regions.lookup("增城区")[0]
    assert (d.ancestor("city").name, d.ancestor("province").name) == ("广州市", "广东省")
    assert [n for n, _, _ in regions.mentions("广州市增城区人民政府荔湖街道办事处")] == ["广州市", "增城区"]
    # a one-character stem inside ordinary words is not a county
    assert regions.mentions("认真贯彻落实省委、省人民政府和县委关于法治建设的部署") == []
    assert [n for n, _, _ in regions.mentions("安徽省和县")] == ["安徽省", "和县"]


@pytest.mark.parametrize("unit,level", [
    ("荔湖街道", "township"), ("阴平镇", "township"), ("中村乡", "township"),
    ("黄陂区", "county"), ("桃源县", "county"), ("禄丰市", "county"),
    ("长春市", "city"), ("郑州市", "city"), ("上海市", "province"), ("新疆维吾尔自治区", "province"),
    ("司法部", "department"), ("烟台市公安局", "department"), ("上海市市场监督管理局", "department"),
    ("两江新区管委会", "other"), (None, None),
])
def test_level_from_unit(unit, level):
    assert find_level(unit) == level


def test_normalise_unit():
    assert normalise_unit("广州市增城区人民政府荔湖街道办事处") == "荔湖街道"
    assert normalise_unit("桃源县人民政府") == "桃源县"
    assert normalise_unit("中共长春市委 长春市人民政府") == "长春市"


def _meta(text):
    return analyze_text(text).meta


def test_meta_from_a_scraped_page():
    m = _meta("\n".join([
        "您当前的位置：首页 > 政务公开",
        "[ 索引号 ] 11500000/2024-00012 [ 发文字号 ] 某府发〔2024〕3号",
        "[ 成文日期 ] 2024-03-10 [ 发布日期 ] 2024-03-15",
        "某某县人民政府关于2023年度法治政府建设情况的报告",
        "2023年，某某县坚持以习近平法治思想为指导。现将有关情况报告如下：",
        "一、主要举措和成效",
        "正文。",
    ]))
    assert m.title == "某某县人民政府关于2023年度法治政府建设情况的报告"
    assert (m.unit, m.year) == ("某某县", 2023)
    assert (m.published, m.signed) == ("2024-03-15", "2024-03-10")
    assert m.doc_number == "某府发〔2024〕3号"
    assert m.index_number == "11500000/2024-00012"


def test_title_split_over_two_lines_and_signature_date():
    m = _meta("\n".join([
        "中共某某市委 某某市人民政府",
        "关于2021年度法治政府建设情况的报告",
        "一、2021年度法治政府建设基本情况",
        "正文。",
        "中共某某市委",
        "某某市人民政府",
        "二〇二二年三月五日",
    ]))
    assert m.title.replace(" ", "") == "中共某某市委某某市人民政府关于2021年度法治政府建设情况的报告"
    assert m.unit == "某某市"
    assert m.signed == "2022-03-05"
    assert m.year == 2021


def test_no_title_unit_from_opening_sentence():
    m = _meta("2022年，烟台市公安局坚持以习近平法治思想为指导，现将有关情况报告如下：\n一、2022年度推进法治政府建设的主要举措和成效\n正文。")
    assert m.title is None
    assert (m.unit, m.level, m.year) == ("烟台市公安局", "department", 2022)
    assert m.region.city == "烟台市" and m.region.province is None  # only what the text says


def test_region_chain_only_from_what_the_text_names():
    m = _meta("黄陂区2020年法治政府建设工作报告\n2020年是武汉市法治政府建设实施方案收官之年。\n一、基本情况\n正文。")
    assert (m.region.province, m.region.city, m.region.county) == (None, "武汉市", "黄陂区")


def test_traditional_page():
    m = _meta("司法部2019年法治政府建設年度報告\n2020-03-24 09:41 來源: 司法部網站\n一、加強黨的領導\n正文。")
    assert m.title == "司法部2019年法治政府建設年度報告"
    assert (m.unit, m.level, m.year, m.published) == ("司法部", "department", 2019, "2020-03-24")


def test_year_not_taken_from_a_plan_period():
    m = _meta("根据《法治领域改革纲要(2023—2027年)》提出“实行法治建设年度报告制度”的要求，2023年，某某街道以学习为核心。现对2023年所做工作总结如下：\n一、主要举措\n正文。")
    assert m.year == 2023
    assert m.unit == "某某街道"


def test_dated_title_block_is_the_signing_date():
    m = _meta("某某市人民政府关于2023年度法治政府建设情况的报告\n（2024年3月10日）\n一、主要举措和成效\n正文。")
    assert m.signed == "2024-03-10" and m.published is None


def test_fast_date_and_year_scans_equal_the_reference_patterns():
    """dates._date_matches / _year_matches find exactly what DATE_RE / YEAR_RE find."""
    import random

    from fazhi import dates

    alpha = list("0123456789年月日号-/. 〇○零一二三四五六七八九十a")
    rnd = random.Random(7)
    for _ in range(20000):
        s = "".join(rnd.choice(alpha) for _ in range(rnd.randint(0, 30)))
        assert [m.span() for m in dates._date_matches(s)] == [m.span() for m in dates.DATE_RE.finditer(s)], s
        assert [m.span() for m in dates._year_matches(s)] == [m.span() for m in dates.YEAR_RE.finditer(s)], s
