"""Numeral grammar of fazhi.quantities.find (runs on the shadow text)."""
from __future__ import annotations

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.quantities import find
from fazhi.textnorm import shadow


def q1(text: str):
    """The single quantity in ``text`` (asserts there is exactly one)."""
    norm = shadow(text)
    qs = find(norm)
    assert len(qs) == 1, [(norm[q.start:q.end], q.value) for q in qs]
    return qs[0]


@pytest.mark.parametrize("text, value, unit, kind, approx", [
    # Arabic, decimals, thousands separators (half- and full-width comma)
    ("协助审查政府合同1334份", 1334, "份", "count", False),
    ("受理案件1,334件", 1334, "件", "count", False),
    ("受理案件1，334件", 1334, "件", "count", False),
    ("调解成功率达94.44%", 94.44, "%", "rate", False),
    ("满意率９５％", 95, "%", "rate", False),  # full-width digits and percent sign
    # Chinese numerals
    ("将存在问题的两件文件予以废止", 2, "件", "count", False),
    ("十件", 10, "件", "count", False),
    ("七个领域", 7, "个", "count", False),
    ("一百二十人", 120, "人", "people", False),
    ("二十余场", 20, "场", "count", True),
    ("三千余份", 3000, "份", "count", True),
    ("结案率九十八点三%", 98.3, "%", "rate", False),
    ("聘请一名法律顾问", 1, "名", "people", False),
    # multipliers, mixed Arabic + 万/亿/千
    ("发放宣传资料2.3万余份", 23000, "万份", "count", True),
    ("涉及金额达1.23亿元", 123000000, "亿元", "amount", False),
    ("协议涉及金额378.12万元", 3781200, "万元", "amount", False),
    ("挽回损失100余万元", 1000000, "万元", "amount", True),
    ("3千余份", 3000, "千份", "count", True),
    ("十余万元", 100000, "万元", "amount", True),
    ("受教育群众达1.5万人次", 15000, "万人次", "people", False),
    # approx markers before and after
    ("约300人", 300, "人", "people", True),
    ("超过500件", 500, "件", "count", True),
    ("逾200场", 200, "场", "count", True),
    ("近千人", 1000, "人", "people", True),
    ("百余人", 100, "人", "people", True),
    ("100人左右", 100, "人", "people", True),
    ("调解成功率保持在98%以上", 98, "%", "rate", True),
    ("提供法律意见书20余次", 20, "次", "count", True),
    ("举办普法讲座20多场", 20, "场", "count", True),
    # percent in words
    ("结案率百分之九十八点三", 98.3, "%", "rate", False),
    ("百分之百", 100, "%", "rate", False),
    ("百分之九十以上", 90, "%", "rate", True),
    # people units
    ("累计提供法律咨询98人次", 98, "人次", "people", False),
    ("选派6名律师", 6, "名", "people", False),
    ("10位权威法学专家", 10, "位", "people", False),
    # other count units
    ("走访企业76家次", 76, "家次", "count", False),
    ("开展活动100余场次", 100, "场次", "count", True),
    ("举办培训班3期", 3, "期", "count", False),
    ("发放普法手册5000册", 5000, "册", "count", False),
    ("办结区交办件30件", 30, "件", "count", False),
    ("与 39 人", 39, "人", "people", False),  # PDF spacing
])
def test_grammar(text, value, unit, kind, approx):
    q = q1(text)
    assert q.value == pytest.approx(value)
    assert q.unit == unit
    assert q.kind == kind
    assert q.approx is approx


def test_spans():
    text = "共计发放宣传资料(物品)约2.3万余份。"
    q = q1(text)
    assert text[q.start:q.end] == "约2.3万余份"
    assert text[q.num_start:q.num_end] == "2.3"
    text = "调解成功率保持在98%以上"
    q = q1(text)
    assert text[q.start:q.end] == "98%以上"


@pytest.mark.parametrize("text", [
    # years and dates
    "2022年", "2022年度", "3月", "8月15日", "二〇二二年", "发布时间: 2022-11-21 12:21",
    # document numbers, article numbers, ordinals
    "国办发〔2019〕54号", "第5号", "第十条", "第五次会议", "第一批", "应急处置预案(第二版)",
    "排名第3位", "全省第一批法治政府建设示范市",
    # durations
    "24小时", "10多年的产权遗留问题", "3天", "5个工作日", "3个月", "15分钟便民服务圈",
    # phone numbers, ids, hotline names
    "举报电话0632-7531007", "12345热线", "荔湖街12345政府服务热线", "索引号 115000005567784755/2023-00823",
    "沪市监法规20220029号", "渝ICP备15010887号",
    # enumerations
    "一是完善决策程序", "（一）坚持政治引领", "1.办公场地集成", "2、治理功能集成",
    # named concepts
    "三项制度", "全面落实行政执法“三项制度”", "八五普法", "一村一法律顾问", "两扫两验", "四个意识",
    "树牢“四个意识”", "一站式", "一镇街一法律服务团", "“四无”", "民生十件实事之一", "做到两个维护",
    "“两所(派出所、司法所)、四办”", "“四位一体”重点案件核查机制", "一社区一法律顾问",
    # Chinese numerals inside ordinary words
    "统一部署", "一些", "一体建设", "进一步", "公布了一批典型案例", "第一责任人", "一件事一次办",
    "每季度听取一次执法工作情况报告", "一次性告知", "千家万户", "一元化",
])
def test_not_quantities(text):
    assert find(shadow(text)) == []


def test_not_at_span():
    text = "2022年各调解组织共成功调解纠纷222件,于2023年3月8日报告(第5号)"
    qs = find(shadow(text))
    assert [(text[q.start:q.end], q.value) for q in qs] == [("222件", 222)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(
    "0123456789.,，%％一二两三四五六七八九十百千万亿零〇点余多约近超过以上左右第年月日件人名次元份个场项条"
    "百分之之（）()“”《》、。；：调解纠纷 \n"
)) | st.characters(), max_size=80))
def test_find_never_raises(text):
    norm = shadow(text)
    for q in find(norm):
        assert 0 <= q.start < q.end <= len(norm)
        assert q.start <= q.num_start < q.num_end <= q.end
        assert q.kind in ("count", "people", "rate", "amount", "other")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=99999))
def test_chinese_round_trip(n):
    text = cn2an.an2cn(n) + "件"
    q = q1(text)
    assert q.value == n
    assert (q.start, q.end) == (0, len(text))


def test_quantities_stop_at_four_times_the_facts_cap(monkeypatch):
    """A hostile text of very many quantities is read up to 4 x MAX_FACTS (the facts
    cap keeps the first MAX_FACTS and says so): facts and numeric rules stay bounded."""
    from fazhi.quantities import _find

    monkeypatch.setenv("FAZHI_MAX_FACTS", "10")
    text = "调解纠纷" + "12件、" * 100 + "百分之十。"
    got = _find(text)
    assert len(got) == 40 and all(q.value == 12 for q in got)
    monkeypatch.setenv("FAZHI_MAX_FACTS", "5000")
    got = _find(text)
    assert len(got) == 101 and got[-1].unit == "%"


def test_chinese_percent_beside_counts_is_kept_once():
    from fazhi.quantities import _find

    got = _find("受理案件12件，占百分之三十，办结11件，近千人参加。")
    assert [(q.value, q.unit) for q in got] == [(12, "件"), (30, "%"), (11, "件"), (1000, "人")]


_SPAN_ALPHABET = list(
    "0123456789.,-/_%一二两三四五六七八九十百千万亿零〇点余多约近超过大将逾以上左右第每前年月件人名次元份个"
    "场项条米克平方公里百分之倍部门事（）()“”、。 \tAaZ٣𝟑"
)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_SPAN_ALPHABET), max_size=60))
def test_candidate_scan_finds_what_the_grammar_does(text):
    """The grammar is tried only where the candidate scan says a quantity may
    start: the matches must be those of the grammar tried at every position."""
    from fazhi.quantities import _matches, _regexes

    q_re, *_, cand_re = _regexes()
    assert [m.span() for m in _matches(q_re, cand_re, text)] == [m.span() for m in q_re.finditer(text)]
