"""Metamorphic tests: every dev report, changed the way real copies of it
differ, gives the same answers as the report itself (minus what the change
removes).  The transformations and the comparison are in ``metamorphic.py``.

They guard what a gold file cannot: a rule that only works on the files it was
written against breaks here as soon as the same report comes without its
title, without line breaks, behind a masthead, in traditional characters, hard-
wrapped by a PDF converter, or as a Word/HTML/PDF file.
"""
from functools import lru_cache
from pathlib import Path

import pytest

import metamorphic as M
from fazhi.pipeline import analyze_bytes, analyze_text

DEV = Path(__file__).parent / "data" / "dev"
FILES = sorted(p.stem for p in DEV.glob("*.txt"))
# compositions: the changes meet in real copies too
COMBOS = {
    "masthead+title_twice": ("masthead", "title_twice"),
    "masthead+hard_wrap": ("masthead", "title_twice", "hard_wrap_38"),
    "traditional+bold": ("traditional_pinyin", "bold_headings"),
    "remove_title+markdown": ("remove_title", "markdown_headings"),
    "spam+bold+no_breaks": ("mirror_spam", "bold_headings", "remove_line_breaks"),
}


@lru_cache(maxsize=None)
def _text(name: str) -> str:
    return (DEV / f"{name}.txt").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _base(name: str) -> dict:
    return analyze_text(_text(name), f"{name}.txt").to_dict()


def _apply(name: str, steps) -> tuple[str, M.Expect] | None:
    text, exp = _text(name), M.Expect()
    for step in steps:
        r = M.TEXT_TRANSFORMS[step](text, _base(name))
        if r is None:
            return None
        text, e = r
        exp = M.Expect(may_lose=exp.may_lose | e.may_lose, changed={**exp.changed, **e.changed},
                       headings="prefix" if "prefix" in (exp.headings, e.headings) else "exact",
                       parts=exp.parts and e.parts, dept_to_gov=exp.dept_to_gov or e.dept_to_gov)
    return text, exp


@pytest.mark.parametrize("transform", sorted(M.TEXT_TRANSFORMS) + sorted(COMBOS))
@pytest.mark.parametrize("name", FILES)
def test_same_answers_after_the_change(name, transform):
    r = _apply(name, COMBOS.get(transform, (transform,)))
    if r is None:
        return  # nothing to change in this report (no title to remove or repeat)
    text, exp = r
    assert text != _text(name)
    new = analyze_text(text, f"{name}.txt").to_dict()
    assert M.compare(_base(name), new, exp) == []


@pytest.mark.parametrize("fmt", sorted(M.FORMATS))
@pytest.mark.parametrize("name", FILES)
def test_same_answers_in_every_format(name, fmt):
    lines = M.body_lines(_text(name)) if fmt == "html" else M.document_lines(_text(name))
    data = M.FORMATS[fmt](lines)
    new = analyze_bytes(data, f"{name}.{fmt}").to_dict()
    # a page rebuilt as a document keeps its metadata rows as plain paragraphs;
    # the date and number fields may not survive the rendering
    exp = M.Expect(may_lose={"published", "signed", "index_number", "doc_number"})
    assert M.compare(_base(name), new, exp) == []


def test_transformations_change_what_they_say():
    """The transformations themselves: each really makes its change."""
    name = "seed-000"
    text, base = _text(name), _base(name)
    assert base["meta"]["title"] not in M.remove_title(text, base)[0]
    assert "\n" not in M.remove_line_breaks(text, base)[0]
    assert M.masthead(text, base)[0].startswith("**")
    trad = M.traditional_with_pinyin(text, base)[0]
    assert "建設" in trad and "(" in trad
    assert M.SPAM in M.mirror_spam(text, base)[0]
    wrapped = M.hard_wrap(text, base)[0]
    assert max(M.width(x) for x in wrapped.split("\n") if "版权" not in x) <= 42 and "— 1 —" in wrapped
