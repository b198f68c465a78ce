"""The engine's own findings: missing statutory parts, no title, no year,
and the notes a reader left (e.g. pages without text).  The full compliance
rule set builds on these."""
from __future__ import annotations

from .model import PART_LABELS, REQUIRED_PARTS, Report


def basic(report: Report, raw, mr) -> None:
    have = {p.part for p in report.parts}
    for part in REQUIRED_PARTS:
        if part not in have:
            report.add("part.missing." + part, "error",
                       f"缺少法定内容“{PART_LABELS[part]}”：未找到以此为标题的部分，请单列一部分报告。")
    if not report.meta.title:
        report.add("meta.no_title", "warning", "未识别到报告标题：标题应写明单位、年度和“法治政府建设年度报告”。")
    if report.meta.year is None:
        report.add("meta.no_year", "warning", "未识别到报告年度：请在标题或正文开头写明所报告的年度。")
    for note in getattr(raw, "notes", []) or []:
        report.add("ingest.note", "info", note)
