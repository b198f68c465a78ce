"""The HTML report card (fazhi.report_card): structure, nesting, escaping."""
from __future__ import annotations

import random
import re
from pathlib import Path

import lxml.etree as ET
import lxml.html
import pytest

from fazhi import report_card
from fazhi.facts import load_catalog
from fazhi.model import Fact, Finding, Meta, Part, Region, Report, Source
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).parent / "data" / "dev"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


# --------------------------------------------------------------------------- #
# helpers


def parse(page: str):
    return lxml.html.document_fromstring(page)


def by_id(doc, ident: str) -> list:
    return doc.xpath("//*[@id=$i]", i=ident)


def fulltext(doc) -> str:
    body = by_id(doc, "fulltext-body")
    assert len(body) == 1
    el = body[0]
    # labels are drawn by CSS from data-label; should any element carry a
    # visible label, it has class "lbl" and is excluded here
    for lbl in el.xpath(".//*[contains(concat(' ', normalize-space(@class), ' '), ' lbl ')]"):
        lbl.drop_tree()
    return el.text_content()


def xml_fulltext(page: str) -> str:
    """The page is also well-formed XML: a strict parser proves the nesting."""
    root = ET.fromstring(page.encode("utf-8"))
    (el,) = [e for e in root.iter() if e.get("id") == "fulltext-body"]
    return "".join(el.itertext())


def has_class(cls: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')"


def check_card(report: Report, page: str) -> object:
    """Invariants every card must satisfy; returns the parsed document."""
    doc = parse(page)
    n = len(report.text)
    # full text: nothing lost or duplicated, through both parsers
    assert fulltext(doc) == report.text
    assert xml_fulltext(page) == report.text
    # each finding with offsets has exactly one anchor; the list links to it
    for i, f in enumerate(report.findings, 1):
        if isinstance(f.start, int) and isinstance(f.end, int):
            assert len(by_id(doc, f"f-{i}")) == 1, (i, f)
            assert doc.xpath("//a[@href=$h]", h=f"#f-{i}")
        else:
            assert not by_id(doc, f"f-{i}")
            assert not doc.xpath("//a[@href=$h]", h=f"#f-{i}")
        # the message is shown as text in the findings list
        item = by_id(doc, f"finding-{i}")
        assert len(item) == 1 and f.message in item[0].text_content()
    # each fact with an indicator has a <mark> whose title names the indicator
    cat = load_catalog()
    for i, fa in enumerate(report.facts, 1):
        marks = doc.xpath("//mark[@data-fact=$i]", i=str(i))
        if not (0 <= fa.start <= fa.end <= n):
            continue
        assert marks, (i, fa)
        label = cat[fa.indicator]["label"] if fa.indicator in cat else (
            "未对应指标" if fa.indicator is None else fa.indicator)
        for m in marks:
            assert label in m.get("title"), (i, fa, m.get("title"))
        first = by_id(doc, f"fact-{i}")
        assert len(first) == 1 and first[0].tag == "mark"
        assert "".join(m.text_content() for m in marks) == report.text[fa.start:fa.end]
    # one shading (first fragment, with its label) per statutory part
    shaded = doc.xpath(f"//*[@id='fulltext-body']//*[{has_class('part')}]")
    starts = [e for e in shaded if e.get("data-label")]
    assert len(starts) == len(report.parts)
    assert len({e.get("data-part") for e in shaded}) == len(report.parts)
    for i, p in enumerate(report.parts, 1):
        frags = doc.xpath("//*[@data-part=$i]", i=str(i))
        assert "".join(e.text_content() for e in frags) == report.text[p.start:p.end]
    # nothing from outside, nothing that runs
    assert not doc.xpath("//link")
    assert not doc.xpath("//script[@src]")
    assert not doc.xpath("//img | //iframe | //object | //embed | //base | //form")
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for k, v in el.attrib.items():
            assert not k.lower().startswith("on"), (el.tag, k)
            assert not re.search(r"(?i)(https?:|//|javascript:)", v) or k == "title", (el.tag, k, v)
    for st in doc.xpath("//style"):
        assert not re.search(r"(?i)https?://|url\(|@import", st.text_content())
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert csp and "default-src 'none'" in csp[0]
    return doc


# --------------------------------------------------------------------------- #
# dev reports


@pytest.mark.parametrize("name", ["seed-000", "seed-004"])
def test_dev_report_card(name, tmp_path):
    report = analyze_path(DEV / f"{name}.txt")
    page = report_card.render(report)
    assert page.startswith("<!DOCTYPE html>")
    doc = check_card(report, page)
    h1 = doc.xpath("//h1")[0].text_content()
    assert h1 == (report.meta.title or "（未识别标题）")
    assert f"{name}.txt" in doc.xpath("//header")[0].text_content()
    # parts summary shows the headings
    summary = by_id(doc, "parts")[0].text_content()
    for p in report.parts:
        assert p.heading in summary
    # facts table: one row per fact with an indicator
    rows = doc.xpath("//table[contains(@class,'facts')]/tbody/tr")
    assert len(rows) == sum(1 for f in report.facts if f.indicator is not None)
    out = report_card.write(report, tmp_path / "card.html")
    assert out.read_text(encoding="utf-8") == page


def test_scores_shown_with_chinese_names():
    report = analyze_path(DEV / "seed-004.txt")
    report.scores = {"completeness": 100.0, "timeliness": 80, "data_support": 72.5,
                     "candour": 55.0, "plan_concreteness": 64.0, "total": 78.3}
    doc = parse(report_card.render(report))
    head = doc.xpath("//header")[0].text_content()
    for name in ("完整性", "时效性", "数据支撑", "问题剖析", "计划具体性", "总分"):
        assert name in head
    assert "未评分" not in head
    assert "78.3" in head and "72.5" in head
    assert len(doc.xpath(f"//*[{has_class('fill')}]")) == 6


def test_number_formatting():
    f = Fact("mediation.amount", 3781200.0, "万元", False, 0, 8)
    assert report_card.fact_value(f, "378.12万元") == "3,781,200 元"
    f = Fact("publicity.events", 30.0, "场", True, 0, 4)
    assert report_card.fact_value(f, "30余场") == "30余 场"
    f = Fact("publicity.events", 30.0, "场", True, 0, 4)
    assert report_card.fact_value(f, "约30场") == "约30 场"
    f = Fact("study.exam_pass_rate", 99.5, "%", False, 0, 5)
    assert report_card.fact_value(f, "99.5%") == "99.5%"
    assert report_card.fmt_number(1234567.25) == "1,234,567.25"


# --------------------------------------------------------------------------- #
# untrusted input


def test_injected_report_is_escaped():
    src = (f"某某县人民政府{IMG}2023年法治政府建设年度报告{SCRIPT}\n\n"
           f"2023年，我县扎实推进法治政府建设。{IMG}\n\n"
           f"一、主要举措和成效{IMG}\n"
           f"全年审查合同120份，办理行政复议案件15件。示例：{SCRIPT}结束。\n"
           f"另见{IMG}说明。&lt;b&gt;不是标签&lt;/b&gt;\n"
           "二、存在的不足和原因\n一是不足。原因是认识不到位。\n")
    report = analyze_text(src, name=f"{IMG}{SCRIPT}.txt")
    # whatever the cleaner keeps, every field the card shows carries a payload
    report.meta.title = f"标题{SCRIPT}{IMG}"
    report.meta.unit = f"单位{SCRIPT}"
    report.meta.doc_number = IMG
    report.meta.index_number = SCRIPT
    report.meta.region = Region(province=IMG, city=SCRIPT)
    report.scores = {f"{SCRIPT}": 50.0, "total": 60.0}
    report.findings.append(Finding("x.test", "warning", f"消息{SCRIPT}{IMG}", 0, min(5, len(report.text))))
    report.findings.append(Finding(IMG, IMG, SCRIPT))
    for p in report.parts:
        p.heading = p.heading + SCRIPT
    for f in report.facts:
        f.unit = f.unit + SCRIPT
    assert IMG in report.text  # the body payload reached the card
    page = report_card.render(report)
    doc = check_card(report, page)
    assert not doc.xpath("//script")
    assert not doc.xpath("//img")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page.lower().replace("&lt;script", "")
    text = doc.text_content()
    assert SCRIPT in text and IMG in text
    assert doc.xpath("//h1")[0].text_content() == report.meta.title
    assert "&amp;lt;b&amp;gt;" in page  # already-escaped text is escaped again


def test_hand_built_payload_in_text():
    text = f"一、主要举措和成效\n{SCRIPT}合同12份{IMG}\n二、存在的不足和原因\n{IMG}"
    i = text.index("合同")
    report = Report(
        source=Source(path=f"/tmp/{IMG}.txt", format="txt", sha256="0" * 64),
        text=text, meta=Meta(title=SCRIPT),
        parts=[Part("achievements", "一、主要举措和成效", 0, text.index("二、")),
               Part("shortcomings", "二、存在的不足和原因" + IMG, text.index("二、"), len(text))],
        facts=[Fact("review.contracts", 12.0, "份", False, i + 2, i + 5, "achievements")],
        findings=[Finding("r", "error", IMG, 10, len(text) - 3)],
    )
    page = report_card.render(report)
    doc = check_card(report, page)
    assert not doc.xpath("//script | //img")
    assert doc.xpath("//title")[0].text_content().endswith(SCRIPT)


# --------------------------------------------------------------------------- #
# nesting


def _report(text: str, parts=(), facts=(), findings=(), scores=None) -> Report:
    return Report(source=Source(path="hand.txt", format="txt", sha256="0" * 64),
                  text=text, meta=Meta(title="手工报告", year=2023),
                  parts=list(parts), facts=list(facts), findings=list(findings),
                  scores=dict(scores or {}))


def test_overlapping_spans():
    text = ("一、主要举措和成效\n本年度审查合同100份，办理复议20件。\n\n"
            "二、存在的不足和原因\n问题较多，原因是重视不够。\n三、下一年度安排\n继续努力。")
    a = text.index("二、")
    b = text.index("三、")
    c = text.index("100份")
    d = text.index("20件")
    parts = [Part("achievements", "一、主要举措和成效", 0, a),
             Part("shortcomings", "二、存在的不足和原因", a, b),
             Part("next_year", "三、下一年度安排", b, len(text))]
    facts = [Fact("review.contracts", 100.0, "份", False, c, c + 4, "achievements"),
             Fact("reconsideration.cases", 20.0, "件", False, d, d + 3, "achievements"),
             Fact(None, 2.0, "件", False, a - 3, a + 4)]  # crosses a part boundary
    findings = [Finding("one", "error", "跨越两部分", c - 2, a + 6),       # part boundary, facts inside
                Finding("two", "warning", "与上一条重叠", d, b + 2),         # overlaps "one"
                Finding("three", "info", "与上一条同起点", d, d + 1),        # same start, shorter
                Finding("empty", "info", "零长度", b, b),                   # zero length
                Finding("nl", "warning", "只有换行", a - 2, a - 1),          # only a line break
                Finding("far", "warning", "越界", len(text) - 2, len(text) + 50),
                Finding("none", "error", "没有位置")]
    assert text[a - 2:a - 1] == "\n"
    report = _report(text, parts, facts, findings)
    page = report_card.render(report)
    doc = check_card(report, page)
    # fragments of each finding cover exactly its text
    for i, f in enumerate(findings, 1):
        if f.start is None:
            continue
        frags = doc.xpath("//*[@data-finding=$i]", i=str(i))
        s, e = max(0, f.start), min(len(text), f.end)
        if s < e and text[s:e].strip("\n"):
            assert "".join(x.text_content() for x in frags).replace("\n", "") == \
                text[s:e].replace("\n", "")
    # the crossing fact is split but its first fragment has the id
    marks = doc.xpath("//mark[@data-fact='3']")
    assert len(marks) >= 2 and marks[0].get("id") == "fact-3"
    assert "未对应指标" in marks[0].get("title")


def test_random_spans_stay_well_formed():
    rng = random.Random(20240601)
    alphabet = "法治政府建设\n年度报告，。12<>&\"'"
    for _ in range(150):
        n = rng.randint(0, 60)
        text = "".join(rng.choice(alphabet) for _ in range(n))

        def span():
            s = rng.randint(0, n)
            return s, rng.randint(s, n)

        parts = [Part(rng.choice(["achievements", "shortcomings", "leader_duty", "next_year",
                                  "other", "weird<x>"]), "标题", *span())
                 for _ in range(rng.randint(0, 4))]
        facts = [Fact(rng.choice([None, "review.contracts", "mediation.amount"]),
                      rng.choice([1.0, 12345.5, 3781200.0]), "件", rng.random() < 0.3, *span())
                 for _ in range(rng.randint(0, 6))]
        findings = [Finding("r", rng.choice(["error", "warning", "info", "odd"]), "消息",
                            *(span() if rng.random() < 0.8 else (None, None)))
                    for _ in range(rng.randint(0, 6))]
        report = _report(text, parts, facts, findings)
        check_card(report, report_card.render(report))


# --------------------------------------------------------------------------- #
# degenerate reports


def test_no_offsets_no_scores():
    report = _report("一段没有结构的文字。", findings=[Finding("x", "error", "没有位置的问题")])
    report.meta = Meta()
    doc = check_card(report, report_card.render(report))
    head = doc.xpath("//header")[0].text_content()
    assert "未评分" in head
    assert "（未识别标题）" in head
    assert "没有位置的问题" in by_id(doc, "findings")[0].text_content()
    assert not doc.xpath("//a[@href='#f-1']")
    assert "缺失" in by_id(doc, "parts")[0].text_content()


def test_empty_text():
    report = _report("")
    doc = check_card(report, report_card.render(report))
    assert fulltext(doc) == ""
