"""The dataclasses that make up the output contract (``fazhi.report/1``).

Every offset (``start``/``end``) is a character offset into ``Report.text``,
the cleaned text the analysis ran on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_ID = "fazhi.report/1"

PART_IDS = ("achievements", "shortcomings", "leader_duty", "next_year", "other")
REQUIRED_PARTS = ("achievements", "shortcomings", "leader_duty", "next_year")
PART_LABELS = {
    "achievements": "主要举措和成效",
    "shortcomings": "存在的不足和原因",
    "leader_duty": "党政主要负责人履行第一责任人职责情况",
    "next_year": "下一年度主要安排",
    "other": "其他需要报告的情况",
}
LEVELS = ("province", "city", "county", "township", "department", "other")
LEVEL_LABELS = {
    "province": "省级", "city": "市级", "county": "县级", "township": "乡镇(街道)",
    "department": "政府部门", "other": "其他", None: "未识别",
}


@dataclass
class Source:
    path: str
    format: str
    sha256: str
    encoding: str | None = None


@dataclass
class Region:
    province: str | None = None
    city: str | None = None
    county: str | None = None


@dataclass
class Meta:
    title: str | None = None
    unit: str | None = None
    level: str | None = None
    region: Region = field(default_factory=Region)
    year: int | None = None
    published: str | None = None
    signed: str | None = None
    doc_number: str | None = None
    index_number: str | None = None


@dataclass
class Part:
    part: str
    heading: str
    start: int
    end: int


@dataclass
class Node:
    level: int
    label: str
    title: str
    start: int
    end: int
    children: list[Node] = field(default_factory=list)


@dataclass
class Fact:
    indicator: str | None
    value: float
    unit: str
    approx: bool
    start: int
    end: int
    part: str | None = None
    quote: str = ""


@dataclass
class Finding:
    rule: str
    severity: str  # error | warning | info
    message: str
    start: int | None = None
    end: int | None = None


def _node(n: Node) -> dict[str, Any]:
    return {"level": n.level, "label": n.label, "title": n.title, "start": n.start, "end": n.end,
            "children": [_node(c) for c in n.children]}


@dataclass
class Report:
    source: Source
    text: str
    meta: Meta = field(default_factory=Meta)
    parts: list[Part] = field(default_factory=list)
    outline: list[Node] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    # which rule decided each value, on what evidence (``fazhi explain``); not
    # part of the output contract
    why: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The output contract as plain dicts (written out field by field:
        ``dataclasses.asdict`` deep-copies and costs as much as the analysis)."""
        m, src = self.meta, self.source
        return {
            "schema": SCHEMA_ID,
            "source": {"path": src.path, "format": src.format, "sha256": src.sha256, "encoding": src.encoding},
            "text": self.text,
            "meta": {"title": m.title, "unit": m.unit, "level": m.level,
                     "region": {"province": m.region.province, "city": m.region.city, "county": m.region.county},
                     "year": m.year, "published": m.published, "signed": m.signed,
                     "doc_number": m.doc_number, "index_number": m.index_number},
            "parts": [{"part": p.part, "heading": p.heading, "start": p.start, "end": p.end} for p in self.parts],
            "outline": [_node(n) for n in self.outline],
            "facts": [{"indicator": f.indicator, "value": int(f.value) if isinstance(f.value, float) and f.value.is_integer() else f.value,
                       "unit": f.unit, "approx": f.approx, "start": f.start, "end": f.end, "part": f.part, "quote": f.quote}
                      for f in self.facts],
            "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message, "start": f.start, "end": f.end}
                         for f in self.findings],
            "scores": dict(self.scores),
        }

    def add(self, rule: str, severity: str, message: str,
            start: int | None = None, end: int | None = None) -> None:
        self.findings.append(Finding(rule, severity, message, start, end))
