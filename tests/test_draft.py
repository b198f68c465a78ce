"""The report draft (fazhi draft): round trip through the analyser, GB/T 9704
layout, --previous, PDF conversion with LibreOffice."""
import datetime as dt
import json
import os
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from docx.shared import Pt

from fazhi.cli import main
from fazhi.facts import load_catalog
from fazhi.draft.compose import PLAN_QUOTE, compose, quote_safe, read_back, to_markdown
from fazhi.draft.pdf import soffice, to_pdf
from fazhi.draft.previous import load_previous
from fazhi.draft.word import docx_paragraph_fonts, write_docx
from fazhi.ledger.example import example_data, write_example
from fazhi.ledger.reader import read_ledger
from fazhi.ledger.stats import compute, indicator_values
from fazhi.ledger.template import write_template
from fazhi.model import REQUIRED_PARTS
from fazhi.pipeline import analyze_path, analyze_text

DEV = Path(__file__).resolve().parent / "data" / "dev"
YEAR = 2024
UNIT = "礼嘉街道"
PLACEHOLDER_RULES = {"draft.placeholder"}  # the draft's 【请补充】 are errors until filled; no other error is allowed


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory):
    return write_example(tmp_path_factory.mktemp("draft") / "ledger.xlsx", YEAR)


@pytest.fixture(scope="module")
def draft_docx(ledger_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("draft") / "draft.docx"
    r = _run("draft", ledger_path, "--unit", UNIT, "--level", "township", "--year", YEAR,
             "--previous", DEV / "seed-004.txt", "-o", out)
    assert r.exit_code == 0, r.output
    return out


def _stats_set(ledger) -> set:
    r = _run("ledger", "stats", ledger, "--year", YEAR, "--format", "json")
    assert r.exit_code == 0, r.output
    return {(x["indicator"], float(x["value"])) for x in json.loads(r.stdout)["indicators"]}


def _facts_set(report) -> set:
    return {(f.indicator, round(f.value, 2)) for f in report.facts if f.indicator}


def _assert_round_trip(report, expected: set):
    parts = [p.part for p in report.parts]
    assert parts == list(REQUIRED_PARTS), parts  # every statutory part, in the statutory order
    errors = [(f.rule, f.message) for f in report.findings if f.severity == "error" and f.rule not in PLACEHOLDER_RULES]
    assert errors == []
    holes = [f for f in report.findings if f.rule in PLACEHOLDER_RULES]
    assert len(holes) == report.text.count("【请补充") and all(report.text[f.start:f.end].startswith("【请补充") for f in holes)
    got = _facts_set(report)
    assert got == expected, f"missing {expected - got}, extra {got - expected}"


# ------------------------------------------------------------------ round trip
def test_round_trip_docx_via_cli(ledger_path, draft_docx):
    """ledger -> draft.docx -> fazhi analyze: every part, no error, exactly the ledger's values."""
    expected = _stats_set(ledger_path)
    assert len(expected) >= 35
    r = _run("analyze", draft_docx)
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["meta"]["title"] == f"{UNIT}{YEAR}年度法治政府建设情况报告"
    assert d["meta"]["year"] == YEAR and d["meta"]["unit"] == UNIT
    _assert_round_trip(analyze_path(draft_docx), expected)
    assert {(f["indicator"], float(f["value"])) for f in d["facts"] if f["indicator"]} == expected


def test_round_trip_markdown(ledger_path, tmp_path):
    out = tmp_path / "draft.md"
    r = _run("draft", ledger_path, "--unit", UNIT, "--year", YEAR, "-o", out)
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# {UNIT}{YEAR}年度法治政府建设情况报告")
    _assert_round_trip(analyze_path(out), _stats_set(ledger_path))
    r = _run("draft", ledger_path, "--format", "md")  # unit and year from 基本情况, to stdout
    assert r.exit_code == 0 and r.stdout == text


def _variant(tmp_path, name, fn) -> Path:
    data = example_data(YEAR)
    fn(data)
    return write_template(tmp_path / f"{name}.xlsx", YEAR, data=data)


def _v_everything(d):
    d["basics"].update(e_license_uses=12000, enforcement_bodies=1, notary_cases=15)
    R = d["rows"]
    R["重大行政决策"][2][5] = "否"                      # not reviewed -> a shortcoming, no "均经…"
    R["行政应诉"][0][8] = "败诉"
    R["行政复议"][0][4] = "撤销"
    R["建议提案办理"][0][5], R["建议提案办理"][0][4] = "否", None
    for r in R["整改事项"]:
        r[5], r[6] = "已完成", dt.date(YEAR, 12, 1)


def _v_sparse(d):
    R = d["rows"]
    R["建议提案办理"] = [r for r in R["建议提案办理"] if r[0] == "政协提案"]
    R["行政应诉"] = [r for r in R["行政应诉"] if r[4] == "否"]       # no hearing: no rate
    R["行政复议"] = [r for r in R["行政复议"] if r[4] == "审理中"]   # nothing concluded
    R["整改事项"] = [r for r in R["整改事项"] if r[5] != "已完成"]
    for r in R["矛盾纠纷调解"]:
        r[8] = None
    R["学法考试"] = []
    R["12345热线工单"] = [r for r in R["12345热线工单"] if r[5] == "是"]


def _v_empty(d):
    for k in d["rows"]:
        d["rows"][k] = []
    d["basics"] = {"unit": "阴平镇", "year": YEAR}


def _v_county(d):
    d["basics"].update(unit="渝北区", level="县级", villages=200, villages_with_advisor=197, enforcement_bodies=41)
    for r in d["rows"]["矛盾纠纷调解"][:7]:
        r[6] = "失败"
    d["rows"]["建议提案办理"] = [r for r in d["rows"]["建议提案办理"] if r[0] == "人大代表建议"]


@pytest.mark.parametrize("name,fn", [("everything", _v_everything), ("sparse", _v_sparse),
                                     ("empty", _v_empty), ("county", _v_county)])
def test_round_trip_variants(tmp_path, name, fn):
    """Every wording alternative of phrases.yaml reads back exactly."""
    p = _variant(tmp_path, name, fn)
    led = read_ledger(p, YEAR)
    assert led.errors == []
    unit = led.basics["unit"]
    level = {"县级": "county"}.get(led.basics.get("level"), "township")
    d = compose(led, unit, YEAR, level)
    out = write_docx(d, tmp_path / f"{name}.docx")
    _assert_round_trip(analyze_path(out), indicator_values(compute(led)))
    text = "\n".join(b.text for b in d.blocks)
    if name == "everything":
        assert {i for i, _ in d.expected} == set(load_catalog())  # every catalog indicator, read back
        assert "电子证照调用12000次" in text and "行政执法主体1个" in text and "公证事项15件" in text
        assert "未经合法性审查：“农村人居环境整治三年行动方案”" in text and "均经合法性审查" not in text
        assert "败诉" in text and "等整改事项均已完成" in text
    if name == "county":
        assert "区委书记、区长" in text and "全区共有行政执法主体41个" in text
        assert "村（社区）法律顾问覆盖率达到98.5%" in text
    if name == "empty":
        assert d.expected == set()
        # empty sheets say "none" in words, never as a number
        for words in ("全年未发生行政复议案件", "全年未发生行政诉讼案件", "全年未发生群众来信来访", "全年未作出重大行政决策"):
            assert words in text


def test_rate_sentence_and_subset_count_read_right(ledger_path):
    """“调解成功率为X%（成功M件）”: the rate is the rate; the subset count is no second
    mediation.cases (the facts stage reads “调解成功M件” as a case count)."""
    led = read_ledger(ledger_path, YEAR)
    md = to_markdown(compose(led, UNIT, YEAR, "township"))
    assert "全年共调解矛盾纠纷64件，调解成功率为92.19%（成功59件）" in md
    heads = "、".join(dict.fromkeys(r.values["出庭负责人"].replace(" ", "") for r in led.rows("行政应诉")
                                    if r.values["负责人是否出庭"] == "是"))
    assert f"已开庭5件，行政机关负责人出庭应诉4件（{heads}），出庭应诉率80%" in md
    rep = analyze_text(md, "d.md")
    assert not [f for f in rep.facts if f.indicator == "mediation.cases" and f.value == 59]


# ------------------------------------------------------------------ placeholders, previous
def test_placeholders_where_only_a_person_can_write(draft_docx):
    """A full ledger leaves placeholders only where a person must judge: causes, other
    shortcomings, plans, what became of last year's plans, the date."""
    rep = analyze_path(draft_docx)
    by_part = {p.part: rep.text[p.start:p.end] for p in rep.parts}
    assert "【请补充：产生上述问题的主观原因和客观原因" in by_part["shortcomings"]
    assert by_part["leader_duty"].count("【请补充：") == 0  # the 领导履职 sheet wrote it
    assert by_part["next_year"].count("【请补充：") >= 4
    assert "【请补充：成文日期】" in rep.text
    ach = by_part["achievements"]
    before_previous = ach[:ach.index("对照2023年度工作安排的落实情况")]
    assert "【请补充" not in before_previous  # every topic had figures and a case
    assert ach.count("落实情况：【请补充") == ach.count("【请补充")


def test_leader_part_without_leader_sheet_is_left_to_write(tmp_path):
    data = example_data(YEAR)
    data["rows"]["领导履职"] = []
    led = read_ledger(write_template(tmp_path / "l.xlsx", YEAR, data=data), YEAR)
    md = to_markdown(compose(led, UNIT, YEAR, "township"))
    leader = md[md.index("## 三、"):md.index("## 四、")]
    assert leader.count("【请补充：") == 3
    assert "出庭应诉行政案件" in leader  # who appeared in court comes from the 行政应诉 sheet
    rep = analyze_text(md, "d.md")
    assert any(f.rule == "leader_duty.section" for f in rep.findings)  # placeholders are not the part


def test_previous_plans_and_shortcomings_are_listed(draft_docx):
    rep = analyze_path(draft_docx)
    by_part = {p.part: rep.text[p.start:p.end] for p in rep.parts}
    ach, short = by_part["achievements"], by_part["shortcomings"]
    assert "对照2023年度工作安排的落实情况" in ach
    for n, plan in enumerate(["持续加强干部学法用法工作：严格落实新提任领导干部法治理论考试", "持续提升基层治理法治水平：",
                              "持续服务企业优化营商环境”。", "持续加大普法宣传教育力度”。"], start=1):
        assert f"{n}.“{plan}" in ach  # headings with their targets (those with a number or a time)
    assert ach.count("落实情况：【请补充：") == 4
    # last year's problems answered by this year's 整改事项 rows (问题来源 上年度报告)
    rows = {r[1]: r for r in example_data(YEAR)["rows"]["整改事项"]}
    for n, (item, row) in enumerate([("基层干部法治素质有待提升", rows["基层干部法治素质有待提升"]),
                                     ("普法宣传效果有待加强", rows["普法宣传针对性不强"])], start=1):
        done = row[6]
        assert f"{n}.“{item}”。整改情况：{row[2]}，已于{done.month}月{done.day}日完成整改。" in short


@pytest.mark.parametrize("seed", ["seed-000", "seed-002", "seed-004"])
def test_previous_report_keeps_round_trip(ledger_path, tmp_path, seed):
    led = read_ledger(ledger_path, YEAR)
    prev = load_previous(DEV / f"{seed}.txt", YEAR)
    assert prev.plans and prev.shortcomings
    d = compose(led, UNIT, YEAR, "township", prev)
    rep = analyze_text(to_markdown(d), "d.md")
    _assert_round_trip(rep, d.expected)
    for p in prev.plans:
        assert quote_safe(p, PLAN_QUOTE) in rep.text


def test_quote_safe_drops_last_years_figures():
    # a target stays (至少…: the analyser reads no indicator value); a count is cut
    assert quote_safe("（二）各社区每季度至少开展1次学法活动，培育法律明白人20名。") == "各社区每季度至少开展1次学法活动……"
    assert quote_safe("全年开展普法宣传活动50场") == "全年开展普法宣传活动……"
    assert quote_safe("一是依法决策有待加强；") == "依法决策有待加强"
    assert quote_safe("加强法治培训,提升法治素养") == "加强法治培训,提升法治素养"


def test_bad_previous_and_missing_options(ledger_path, tmp_path):
    r = _run("draft", ledger_path, "--previous", tmp_path / "nope.txt", "-o", tmp_path / "d.docx")
    assert r.exit_code == 1 and "上一年度报告不存在" in r.output
    bad = tmp_path / "last.docx"
    bad.write_text("not a word file")
    r = _run("draft", ledger_path, "--previous", bad, "-o", tmp_path / "d.docx")
    assert r.exit_code == 1 and "上一年度报告" in r.output and "Traceback" not in r.output
    r = _run("draft", ledger_path)
    assert r.exit_code == 2 and "-o" in r.output
    blank = write_template(tmp_path / "blank.xlsx")  # no year, no unit
    r = _run("draft", blank, "-o", tmp_path / "d.docx")
    assert r.exit_code == 2 and "报告年度" in r.output


# ------------------------------------------------------------------ layout
def test_gbt9704_layout(draft_docx):
    doc = docx.Document(str(draft_docx))
    s = doc.sections[0]
    def mm(*xs):
        return [round(x.mm, 1) for x in xs]
    assert mm(s.page_width, s.page_height) == [210, 297]  # A4
    assert mm(s.top_margin, s.bottom_margin, s.left_margin, s.right_margin) == [37, 35, 28, 26]
    fonts = docx_paragraph_fonts(draft_docx)
    title = doc.paragraphs[0]
    assert title.text == f"{UNIT}{YEAR}年度法治政府建设情况报告"
    assert fonts[0][1:] == ("方正小标宋简体", 22)
    assert title.style.paragraph_format.alignment == 1  # centred
    by_text = {t: (f, sz) for t, f, sz in fonts}
    assert by_text["一、2024年推进法治政府建设的主要举措和成效"] == ("黑体", 16)
    assert by_text["（一）坚持党的领导，统筹推进法治政府建设"] == ("楷体_GB2312", 16)
    body = next(p for p in doc.paragraphs if p.text.startswith("2024年，礼嘉街道"))
    assert by_text[body.text] == ("仿宋_GB2312", 16)
    pf = doc.styles["Normal"].paragraph_format
    assert pf.line_spacing_rule == 4 and abs(pf.line_spacing.pt - 28.95) < 0.05  # EXACTLY
    assert pf.first_line_indent == Pt(32)
    ind = doc.styles["Normal"].element.pPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}ind")
    assert ind.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}firstLineChars") == "200"
    # East Asian font names in rPr via w:eastAsia
    xml = doc.styles.element.xml
    for f in ("方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"):
        assert f'w:eastAsia="{f}"' in xml
    # headings carry outline levels (navigation pane), page numbers “— N —” odd right / even left
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = s.footer.paragraphs[0], s.even_page_footer.paragraphs[0]
    assert odd.text.startswith("— ") and odd.text.endswith(" —") and "PAGE" in odd._p.xml
    assert odd.paragraph_format.alignment == 2 and even.paragraph_format.alignment == 0
    assert docx_paragraph_fonts_footer(odd) == ("宋体", 14)
    # placeholders highlighted
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.startswith("【请补充")]
    assert runs and all(r.font.highlight_color == 7 for r in runs)  # WD_COLOR_INDEX.YELLOW
    # signature block: unit, then the date placeholder, right-aligned
    assert [p.text for p in doc.paragraphs[-2:]] == [UNIT, "【请补充：成文日期】"]


def docx_paragraph_fonts_footer(p):
    st = p.style
    rpr = st.element.rPr
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return rpr.find(w + "rFonts").get(w + "eastAsia"), int(rpr.find(w + "sz").get(w + "val")) / 2


def test_pdf_with_libreoffice(draft_docx, tmp_path):
    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed in CI: install Debian's libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui fonts-noto-cjk")
    pdf = to_pdf(draft_docx, tmp_path / "draft.pdf")
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 4
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4
    first = reader.pages[0].extract_text()
    assert "法治政府建设情况报告" in "".join(first.split())  # CJK glyphs came through
    assert "— 2 —" in reader.pages[1].extract_text()


def test_docx_opens_and_has_properties(draft_docx):
    doc = docx.Document(str(draft_docx))
    assert doc.core_properties.title == f"{UNIT}{YEAR}年度法治政府建设情况报告"
    assert len(doc.paragraphs) > 40


def test_ledger_unchanged_by_draft(ledger_path):
    wb = openpyxl.load_workbook(ledger_path, read_only=True)
    assert "矛盾纠纷调解" in wb.sheetnames
    wb.close()


def test_read_back_reports_mismatch():
    rep = analyze_text("礼嘉街道2024年度法治政府建设情况报告\n一、主要举措和成效\n全年共审查合同5份。\n", "x.txt")
    chk = read_back(rep, {("review.contracts", 6.0)})
    assert chk.missing == {("review.contracts", 6.0)} and chk.extra == {("review.contracts", 5.0)}
    assert not chk.ok


@pytest.mark.parametrize("unit,words", [("渝北区司法局", "本单位党组（党委）书记和主要负责人"),
                                        ("阴平镇", "镇党委书记、镇长"), ("渝北区", "区委书记、区长")])
def test_level_words_follow_the_unit(ledger_path, unit, words):
    r = _run("draft", ledger_path, "--unit", unit, "--format", "md")
    assert r.exit_code == 0 and words in r.stdout
    _assert_round_trip(analyze_text(r.stdout, "d.md"), _stats_set(ledger_path))
