"""The yearly loop: last year's fazhi draft (as written, and as the clerk filled it
in) read back by --previous; `draft -o` never overwrites an edited draft."""
import os

import docx
import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.draft.compose import compose, to_markdown
from fazhi.draft.previous import load_previous
from fazhi.draft.safety import untouched
from fazhi.ledger.example import write_example
from fazhi.ledger.reader import read_ledger
from fazhi.pipeline import analyze_path, analyze_text

UNIT = "礼嘉街道"
PLANS = ["全年组织中心组集中学法不少于12次，6月底前完成行政执法人员全员轮训。",
         "年底前完成全部重大行政决策事项目录公开。",
         "矛盾纠纷调解成功率保持在95%以上。",
         "“宪法宣传周”期间开展集中宣传不少于5场。"]
FOUND = "部分执法人员对新修订的法律法规掌握不够，执法文书制作不规范。"
CAUSES = "主要原因是培训形式单一，考核不严。"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def last_year(tmp_path_factory):
    """fazhi's draft of 2023, untouched, and the same draft as the clerk filled it in."""
    tmp = tmp_path_factory.mktemp("loop")
    led = write_example(tmp / "2023.xlsx", 2023, UNIT)
    raw = tmp / "2023初稿.docx"
    r = _run("draft", led, "-o", raw)
    assert r.exit_code == 0, r.output
    doc = docx.Document(str(raw))
    part = None
    plans = iter(PLANS)
    short = iter([FOUND, CAUSES])
    for p in doc.paragraphs:
        if p.style.name == "公文一级标题":
            part = p.text[0]
            continue
        for run in p.runs:
            if not run.text.startswith("【请补充"):
                continue
            if part == "四":
                run.text = next(plans, "")
            elif part == "二":
                run.text = next(short, "")
            elif "成文日期" in run.text:
                run.text = "2024年3月10日"
            run.font.highlight_color = None
    edited = tmp / "2023定稿.docx"
    doc.save(str(edited))
    return raw, edited


def test_previous_reads_fazhis_own_unfilled_draft(last_year):
    raw, _ = last_year
    prev = load_previous(raw, 2024)
    assert prev.year == 2023
    assert prev.plans[:4] == ["持续深化习近平法治思想学习贯彻", "持续提升依法决策和行政执法水平", "持续推进矛盾纠纷多元化解",
                              "持续加大普法宣传教育力度"]
    assert any("没有写内容" in n for n in prev.notes)
    # the shortcomings are the sentences under the generic heading, not the headings themselves
    assert "存在的主要不足" not in prev.shortcomings and "原因分析" not in prev.shortcomings
    assert "行政机关负责人出庭应诉尚未实现全覆盖" in prev.shortcomings


def test_previous_reads_the_filled_in_draft_with_its_targets(last_year):
    _, edited = last_year
    prev = load_previous(edited, 2024)
    assert prev.plans[0] == "持续深化习近平法治思想学习贯彻：" + PLANS[0].rstrip("。")
    assert prev.plans[1] == "持续提升依法决策和行政执法水平：" + PLANS[1].rstrip("。")
    assert prev.plans[2] == "持续推进矛盾纠纷多元化解：" + PLANS[2].rstrip("。")
    assert FOUND.rstrip("。") in prev.shortcomings
    assert not [s for s in prev.shortcomings if "主要原因" in s]  # causes are not shortcomings
    assert not [n for n in prev.notes if "没有写内容" in n]


def test_this_years_draft_answers_last_years_targets(last_year, tmp_path):
    _, edited = last_year
    led_path = write_example(tmp_path / "2024.xlsx", 2024, UNIT)
    out = tmp_path / "2024.md"
    r = _run("draft", led_path, "--previous", edited, "-o", out)
    assert r.exit_code == 0, r.output
    md = out.read_text(encoding="utf-8")
    assert "1.“持续深化习近平法治思想学习贯彻：全年组织中心组集中学法不少于12次，6月底前完成行政执法人员全员轮训”。落实情况：" in md
    # a target the analyser would read as this year's rate is cut before its figure
    assert "3.“持续推进矛盾纠纷多元化解……”" in md and "95%" not in md
    led = read_ledger(led_path, 2024)
    d = compose(led, UNIT, 2024, "township", load_previous(edited, 2024))
    rep = analyze_text(to_markdown(d), "d.md")
    got = {(f.indicator, round(f.value, 2)) for f in rep.facts if f.indicator}
    assert got == d.expected  # last year's targets do not pass for this year's figures


# ------------------------------------------------------------------ overwriting
def test_draft_does_not_overwrite_an_edited_draft(tmp_path):
    led = write_example(tmp_path / "l.xlsx", 2024, UNIT)
    out = tmp_path / "初稿.docx"
    assert _run("draft", led, "-o", out).exit_code == 0
    assert untouched(out)
    assert _run("draft", led, "-o", out).exit_code == 0  # fazhi's own, untouched: regenerated
    doc = docx.Document(str(out))
    doc.paragraphs[2].add_run("（已修改）")
    doc.save(str(out))
    before = out.read_bytes()
    r = _run("draft", led, "-o", out)
    assert r.exit_code == 2 and "已被修改" in r.output and "--force" in r.output
    assert out.read_bytes() == before
    r = _run("draft", led, "-o", out, "--force")
    assert r.exit_code == 0 and out.read_bytes() != before and untouched(out)


@pytest.mark.parametrize("name,content", [("初稿.md", "我写的稿子".encode()), ("别人的.docx", None)])
def test_draft_does_not_overwrite_other_files(tmp_path, name, content):
    led = write_example(tmp_path / "l.xlsx", 2024, UNIT)
    out = tmp_path / name
    if content is None:
        d = docx.Document()
        d.add_paragraph("一份不是 fazhi 写的文档")
        d.save(str(out))
    else:
        out.write_bytes(content)
    before = out.read_bytes()
    r = _run("draft", led, "-o", out)
    assert r.exit_code == 2 and "已存在" in r.output and out.read_bytes() == before
    r = _run("draft", led, "-o", led)
    assert r.exit_code == 2 and "台账本身" in r.output


def test_draft_pdf_is_regenerated_but_another_pdf_is_kept(tmp_path):
    from fazhi.draft.pdf import soffice

    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is needed in CI")
        pytest.skip("LibreOffice (soffice) not installed")
    led = write_example(tmp_path / "l.xlsx", 2024, UNIT)
    out = tmp_path / "初稿.pdf"
    assert _run("draft", led, "-o", out).exit_code == 0
    assert _run("draft", led, "-o", out).exit_code == 0  # fazhi's own PDF
    other = tmp_path / "盖章扫描件.pdf"
    other.write_bytes(b"%PDF-1.4\n%%EOF\n")
    r = _run("draft", led, "-o", other)
    assert r.exit_code == 2 and other.read_bytes() == b"%PDF-1.4\n%%EOF\n"


def test_docx_properties_are_this_draft(tmp_path):
    import datetime as dt

    led = write_example(tmp_path / "l.xlsx", 2024, UNIT)
    out = tmp_path / "初稿.docx"
    assert _run("draft", led, "-o", out).exit_code == 0
    cp = docx.Document(str(out)).core_properties
    now = dt.datetime.now(dt.timezone.utc)
    for t in (cp.created, cp.modified):
        assert abs((now - t.replace(tzinfo=dt.timezone.utc)).total_seconds()) < 3600
    assert cp.author == UNIT and cp.last_modified_by == UNIT and cp.title == "礼嘉街道2024年度法治政府建设情况报告"
    assert analyze_path(out).meta.title == cp.title
