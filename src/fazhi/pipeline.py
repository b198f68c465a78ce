"""The analysis pipeline: one ``Report`` through small stages.

    ingest -> clean -> outline (first pass) -> meta -> outline -> parts -> facts -> findings

``analyze_path`` reads a file; ``analyze_text`` starts from text already read.
Both raise ``IngestError`` (Chinese message) for files that cannot be read and
return a ``Report`` for everything else.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .findings import evaluate
from . import meta as meta_mod
from .clean import clean
from .facts import extract as extract_facts
from .ingest import DEFAULT_MAX_BYTES, RawDoc, format_of, read_bytes, read_file
from .model import Report, Source
from .outline import LABELS, assign_levels, build_tree, find_headings
from .parts import find_parts
from .rules import RuleChoice, compiled
from .textnorm import shadow

NUMBERED = {k for k, _ in LABELS} | {"bare"}


def analyze_raw(raw: RawDoc, source: Source, *, ruleset=None) -> Report:
    """``ruleset``: a place's ``rules.RuleSet``, or a ``rules.RuleChoice`` (the rule set of
    the report's province); None: the national rules."""
    c = clean(raw.text)
    sh = shadow(c.text, False if c.no_traditional else None, False if c.no_wide else None)
    heads0 = find_headings(c, sh)
    numbered = [h for h in heads0 if h.kind in NUMBERED]
    first_body = numbered[0].start if numbered else min(len(c.text), 1500)
    mr = meta_mod.extract(c, sh, first_body, raw.fields, raw.title)
    # the front matter (title, masthead, 文号/签发人, a title printed twice) is no
    # part of the outline; levels are assigned once it is gone
    heads = [h for h in heads0 if h.line not in mr.title_lines
             and (h.start >= first_body or h.kind in NUMBERED)]
    assign_levels(heads)
    report = Report(source=source, text=c.text, meta=mr.meta)
    report.why = {"meta": mr.why, "meta_spans": mr.evidence, "parts": []}
    report.outline = build_tree(heads, len(c.text))
    # parts read a heading's year against the year the body reports on: a title
    # with a wrong year must not turn the plans for next year into this year's work
    report.parts = find_parts(heads, sh, len(c.text), mr.body_year or mr.meta.year, why=report.why["parts"])
    report.why["facts"] = []
    report.facts = extract_facts(c.text, sh, report.parts, why=report.why["facts"])
    if isinstance(ruleset, RuleChoice):
        reg = report.meta.region
        ruleset = ruleset.pick(reg.province, reg.city, reg.county)
    rules, rubric = compiled(ruleset) if ruleset is not None else (None, None)
    evaluate(report, rules, rubric, notes=raw.notes or (), sh=sh)
    return report


def analyze_bytes(data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
    fmt = format_of(name) or "txt"
    raw = read_bytes(data, fmt, max_bytes=max_bytes)
    src = Source(path=str(name), format=fmt, sha256=hashlib.sha256(data).hexdigest(), encoding=raw.encoding)
    return analyze_raw(raw, src)


def analyze_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
    data, _ = read_file(path, max_bytes=max_bytes)
    return analyze_bytes(data, str(path), max_bytes=max_bytes)


def analyze_text(text: str, name: str = "<text>") -> Report:
    data = text.encode("utf-8")
    raw = RawDoc(text=text, format=format_of(name) or "txt", encoding="utf-8")
    src = Source(path=name, format=raw.format, sha256=hashlib.sha256(data).hexdigest(), encoding="utf-8")
    return analyze_raw(raw, src)
