"""`fazhi check 初稿.docx --annotate 批注版.docx`: each finding a Word comment on its
evidence, the summary first; read back by python-docx and by LibreOffice."""
import os
import re
import subprocess
import zipfile

import docx
import pytest
from click.testing import CliRunner
from lxml import etree

from fazhi.cli import main
from fazhi.draft.annotate import AUTHOR
from fazhi.draft.pdf import soffice
from fazhi.ledger.example import write_example
from fazhi.pipeline import analyze_path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """A draft as the clerk left it: a rate changed by hand (a contradiction), a
    comment of her own, the rest unfilled."""
    tmp = tmp_path_factory.mktemp("ann")
    led = write_example(tmp / "l.xlsx", 2024)
    raw = tmp / "初稿.docx"
    assert _run("draft", led, "-o", raw).exit_code == 0
    doc = docx.Document(str(raw))
    p = next(p for p in doc.paragraphs if "出庭应诉率80%" in p.text)
    r = next(r for r in p.runs if "出庭应诉率80%" in r.text)
    r.text = r.text.replace("出庭应诉率80%", "出庭应诉率90%")
    doc.add_comment(doc.paragraphs[0].runs, "请办公室核对标题", "张三", "ZS")
    out = tmp / "修改稿.docx"
    doc.save(str(out))
    return out


def anchored_text(path) -> dict[str, str]:
    """comment id -> the document text between its range start and end."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    active, acc = set(), {}
    for el in root.iter():
        if el.tag == W + "commentRangeStart":
            active.add(el.get(W + "id"))
            acc.setdefault(el.get(W + "id"), "")
        elif el.tag == W + "commentRangeEnd":
            active.discard(el.get(W + "id"))
        elif el.tag == W + "t":
            for i in active:
                acc[i] += el.text or ""
    return acc


def comments(path) -> list[tuple[str, str, str]]:
    """(id, author, text) of the comments, in the order of comments.xml."""
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/comments.xml"))
    return [(c.get(W + "id"), c.get(W + "author"), "".join(t.text or "" for t in c.iter(W + "t")))
            for c in root.iter(W + "comment")]


@pytest.fixture(scope="module")
def annotated(edited, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "批注版.docx"
    r = _run("check", edited, "--annotate", out)
    assert r.exit_code == 1, r.output  # the draft still has errors
    assert "已写出批注版" in r.output
    return out


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_each_finding_is_a_comment_at_its_evidence(edited, annotated):
    report = analyze_path(edited)
    assert any(f.rule == "numeric.rate" for f in report.findings)
    got = {cid: (author, text) for cid, author, text in comments(annotated)}
    ours = [(cid, text) for cid, (author, text) in got.items() if author == AUTHOR]
    assert len(ours) == 1 + len(report.findings)
    spans = anchored_text(annotated)
    texts = {text: cid for cid, text in ours}
    placed = 0
    for f in report.findings:
        cid = next(c for t, c in texts.items() if f.message in t)
        if f.start is not None and f.end is not None:
            assert squash(spans[cid]) == squash(report.text[f.start:f.end]), (f.rule, spans[cid])
            placed += 1
        else:
            assert spans[cid] == spans[ours[0][0]]  # on the title, with the summary
    assert placed >= len(report.findings) - 3
    rate = next(f for f in report.findings if f.rule == "numeric.rate")
    assert "90%" in spans[next(c for t, c in texts.items() if rate.message in t)]


def test_summary_comes_first_on_the_title(edited, annotated):
    report = analyze_path(edited)
    first_id, author, text = next(c for c in comments(annotated) if c[1] == AUTHOR)
    assert text.startswith("fazhi 检查结果：错误") and "评分：完整性" in text and "待撰写" in text
    assert squash(anchored_text(annotated)[first_id]) == squash(report.meta.title)
    # the clerk's own comment is kept
    assert any(a == "张三" and t == "请办公室核对标题" for _, a, t in comments(annotated))


def test_annotated_copy_reads_as_the_same_report(edited, annotated):
    a, b = analyze_path(edited), analyze_path(annotated)
    assert a.text == b.text and [f.rule for f in a.findings] == [f.rule for f in b.findings]


def test_checking_the_annotated_copy_again_replaces_fazhis_comments(annotated, tmp_path):
    again = tmp_path / "批注版2.docx"
    r = _run("check", annotated, "--annotate", again)
    assert "已替换上次的" in r.output
    before, after = comments(annotated), comments(again)
    assert len([c for c in after if c[1] == AUTHOR]) == len([c for c in before if c[1] == AUTHOR])
    assert [c for c in after if c[1] == "张三"] == [c for c in before if c[1] == "张三"]


def test_comments_open_in_libreoffice(annotated, tmp_path):
    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is needed in CI")
        pytest.skip("LibreOffice (soffice) not installed")
    subprocess.run([soffice(), f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
                    "--convert-to", "odt", "--outdir", str(tmp_path), str(annotated)], capture_output=True, timeout=180,
                   check=True)
    odt = tmp_path / (annotated.stem + ".odt")
    with zipfile.ZipFile(odt) as zf:
        root = etree.fromstring(zf.read("content.xml"))
    O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    bodies, spans, active = {}, {}, set()

    def walk(el):
        """Document order: an annotation's own text is its body; other text goes to the
        spans of the annotations open at that point."""
        if el.tag == O + "annotation":
            name = el.get(O + "name")
            bodies[name] = "".join(el.itertext())
            if name:
                active.add(name)
                spans.setdefault(name, "")
        else:
            if el.tag == O + "annotation-end":
                active.discard(el.get(O + "name"))
            elif el.text:
                for n in active:
                    spans[n] += el.text
            for c in el:
                walk(c)
        if el.tail:
            for n in active:
                spans[n] += el.tail

    walk(root)
    ours = {n: b for n, b in bodies.items() if AUTHOR in b}
    report = analyze_path(annotated)
    assert len(ours) == 1 + len(report.findings)
    rate = next(f for f in report.findings if f.rule == "numeric.rate")
    name = next(n for n, b in ours.items() if rate.message in b)
    assert squash(spans[name]) == squash(report.text[rate.start:rate.end])
    holes = [f for f in report.findings if f.rule == "draft.placeholder"]
    for f in holes:
        name = next(n for n, b in ours.items() if f.message in b)
        assert squash(spans[name]) == squash(report.text[f.start:f.end])


def test_annotate_refuses_what_it_cannot_do(edited, tmp_path):
    txt = tmp_path / "r.txt"
    txt.write_text("某某区2023年度法治政府建设情况报告\n一、主要举措和成效\n全年审查合同5份。\n", encoding="utf-8")
    r = _run("check", txt, "--annotate", tmp_path / "a.docx")
    assert r.exit_code == 2 and "只用于一个 Word 文档" in r.output
    r = _run("check", edited, "--annotate", edited)
    assert r.exit_code == 2 and "不能覆盖被检查的文档" in r.output
    mine = tmp_path / "我的批注版.docx"
    d = docx.Document()
    d.add_paragraph("别人的文件")
    d.save(str(mine))
    r = _run("check", edited, "--annotate", mine)
    assert r.exit_code == 2 and "已存在" in r.output and docx.Document(str(mine)).paragraphs[0].text == "别人的文件"
