"""fazhi.facts: quantities mapped to catalog indicators."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from fazhi.facts import extract, load_catalog
from fazhi.model import Part
from fazhi.textnorm import shadow

DATA = Path(__file__).parent / "data"
DEV = DATA / "dev"
SPEC = yaml.safe_load((DATA / "indicators.yaml").read_text(encoding="utf-8"))
OURS = yaml.safe_load((Path(__file__).parents[1] / "src/fazhi/data/indicators.yaml")
                      .read_text(encoding="utf-8"))


def facts_of(text: str, parts=()):
    return [(f.indicator, f.value) for f in extract(text, shadow(text), list(parts))]


def indicators_of(text: str, parts=()):
    return {(i, v) for i, v in facts_of(text, parts) if i}


# --- the catalog -------------------------------------------------------------
def test_catalog_has_exactly_the_spec_ids():
    spec_ids = [d["id"] for d in SPEC["indicators"]]
    our_ids = [d["id"] for d in OURS["indicators"]]
    assert our_ids == spec_ids
    assert len(set(our_ids)) == len(our_ids)


def test_catalog_copies_the_spec_fields():
    ours = {d["id"]: d for d in OURS["indicators"]}
    for d in SPEC["indicators"]:
        for field in ("label", "topic", "kind", "definition", "examples"):
            assert ours[d["id"]][field] == d[field], (d["id"], field)
    assert OURS["topics"] == SPEC["topics"]


def test_load_catalog():
    cat = load_catalog()
    assert set(cat) == {d["id"] for d in SPEC["indicators"]}
    assert cat["review.contracts"]["label"] == "合同合法性审查数"
    assert cat["mediation.success_rate"]["kind"] == "rate"
    assert all({"label", "topic", "kind"} <= set(v) for v in cat.values())


@pytest.mark.parametrize("ind_id, example", [
    (d["id"], ex) for d in SPEC["indicators"] for ex in d["examples"]
])
def test_catalog_examples(ind_id, example):
    assert ind_id in {i for i, _ in facts_of(example)}


# --- genre patterns ----------------------------------------------------------
def test_hearings_appearances_rate():
    text = "今年以来,在荔湖街参与的52宗行政诉讼案件中,已开庭案件40宗(负责人出庭38宗,占比95%)。"
    assert indicators_of(text) == {
        ("litigation.cases", 52), ("litigation.hearings", 40),
        ("litigation.head_appearances", 38), ("litigation.head_appearance_rate", 95)}


def test_breakdown_after_qizhong():
    text = ("2019年累计接受申请、移交、委托等“访调”对接案件18起,其中家庭纠纷3起,合同纠纷4起,"
            "劳动纠纷2起,土地纠纷5起,宅基纠纷1起,已成功调解17起,调解成功率达94.44%。")
    got = facts_of(text)
    assert [v for i, v in got if i == "mediation.cases"] == [18, 3, 4, 2, 5, 1, 17]
    assert ("mediation.success_rate", 94.44) in got
    assert not any(i == "review.contracts" for i, _ in got)


def test_breakdown_different_kind_not_inherited():
    text = "2019年举办了4期法治专题培训,其中1次为宪法学习。"
    assert indicators_of(text) == {("study.sessions", 4), ("study.sessions", 1)}


def test_next_year_part_gives_none():
    text = ("一、主要举措和成效\n全年开展普法宣传27次。\n"
            "二、2023年推进法治政府建设的主要安排\n全年开展普法宣传30次,各社区每季度开展1次学法活动。\n")
    cut = text.index("二、")
    parts = [Part("achievements", "一、主要举措和成效", 0, cut),
             Part("next_year", "二、2023年推进法治政府建设的主要安排", cut, len(text))]
    facts = extract(text, shadow(text), parts)
    by_part = {(f.part, f.indicator, f.value) for f in facts}
    assert ("achievements", "publicity.events", 27) in by_part
    assert all(f.indicator is None for f in facts if f.part == "next_year")
    assert {f.value for f in facts if f.part == "next_year"} == {30, 1}


def test_fact_fields():
    text = "街道法律顾问协助审查政府合同1334份，共计发放宣传资料（物品）2.3万余份。"
    facts = extract(text, shadow(text), [])
    f = facts[0]
    assert (f.indicator, f.value, f.unit, f.approx) == ("review.contracts", 1334, "份", False)
    assert text[f.start:f.end] == "1334份"
    assert "审查政府合同1334份" in f.quote
    g = facts[1]
    assert (g.indicator, g.value, g.approx) == ("publicity.materials", 23000, True)
    assert g.quote in text and "2.3万余份" in g.quote


@pytest.mark.parametrize("text", [
    "再次取消县级行政审批事项5项。",
    "36个行政审批单位200项行政审批事项完成了目录化、编码化。",
    "印发《长春市政府部门权责事项清单》4133项。",
    "下发执法问题通报11期。",
    "2022年以来共召开党委会议4次研究部署依法治乡工作。",
    "依托省市基层单元提供立法相关意见50余条。",
    "镇政府与人大代表、政协委员实现沟通率和满意率100%。",
    "网上办件量同比增长25%。",
    "计划开展普法活动不少于20场。",
    "查处行政处罚案件523件，罚没款320万元。",
    "建成人民调解委员会18个，调解员96人。",
])
def test_not_indicators(text):
    assert indicators_of(text) == set()


@pytest.mark.parametrize("text, expected", [
    ("全年受理行政复议案件31件，已审结25件，其中通过调解和解结案6件。",
     {("reconsideration.cases", 31), ("reconsideration.concluded", 25), ("reconsideration.mediated", 6)}),
    ("共办理人大代表建议86件、政协提案112件，办复率100%。",
     {("oversight.npc_suggestions", 86), ("oversight.cppcc_proposals", 112), ("oversight.reply_rate", 100)}),
    ("12345热线受理群众诉求5623件，按时办结率99.2%，群众满意率96.5%。",
     {("hotline.cases", 5623), ("hotline.ontime_rate", 99.2), ("hotline.satisfaction_rate", 96.5)}),
    ("开展普法宣传“七进”活动，组织讲座45场，发放资料1.5万份。",
     {("publicity.events", 45), ("publicity.materials", 15000)}),
    ("全年共收到行政复议申请45件，受理39件，审结36件。",
     {("reconsideration.cases", 45), ("reconsideration.cases", 39), ("reconsideration.concluded", 36)}),
    ("行政机关负责人出庭应诉率由2021年的85%提高到100%。", {("litigation.head_appearance_rate", 100)}),
    ("全年共办理法律援\n助案件85件。", {("legal_aid.cases", 85)}),  # hard-wrapped line
    ("专题学习《习近平法治思想学习纲要》和《法律援助法》《信访工作条例》等内容2次。", {("study.sessions", 2)}),
])
def test_genre_sentences(text, expected):
    assert indicators_of(text) == expected


# --- the dev set ---------------------------------------------------------------
_HEAD = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|\*\*|#+)\s*(.*)$", re.M)
_PLAN = re.compile(r"下一步|下一年|明年|今后|工作计划|工作举措|主要安排|工作安排|打算|思路")


def crude_parts(text: str) -> list[Part]:
    """Top-level headings by their words: enough to mark the next_year part."""
    heads = [(m.start(), m.group(1)) for m in _HEAD.finditer(text)]
    parts = []
    for i, (s, h) in enumerate(heads):
        e = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if _PLAN.search(h) and "成效" not in h:
            p = "next_year"
        elif re.search("存在|不足|问题", h):
            p = "shortcomings"
        else:
            p = "achievements"
        parts.append(Part(p, h, s, e))
    return parts


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 * max(abs(a), abs(b), 1e-9)


def _dedup(pairs):
    out = []
    for ind, v in pairs:
        if ind and not any(i == ind and _close(v, w) for i, w in out):
            out.append((ind, v))
    return out


def test_dev_facts_f1():
    tp = fp = fn = 0
    files = sorted(DEV.glob("*.txt"))
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8")
        gold = json.loads((DEV / "gold" / f"{f.stem}.json").read_text(encoding="utf-8"))["facts"]
        G = _dedup((g["indicator"], float(g["value"])) for g in gold)
        P = _dedup(facts_of(text, crude_parts(text)))
        hit = [p for p in P if any(p[0] == g[0] and _close(p[1], g[1]) for g in G)]
        tp += len(hit)
        fp += len(P) - len(hit)
        fn += sum(1 for g in G if not any(p[0] == g[0] and _close(p[1], g[1]) for p in P))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    assert f1 >= 0.85, (precision, recall, f1)
