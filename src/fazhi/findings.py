"""Findings and scores of one report: the rule set (``fazhi.rules``) run over
the analysis, the reader's notes (e.g. pages without text) as info findings,
and the rubric's scores (``fazhi.scores``)."""
from __future__ import annotations

from functools import lru_cache

from . import rules as rules_mod
from . import scores as scores_mod
from .model import Finding, Report
from .textnorm import shadow


@lru_cache(maxsize=1)
def default_rules() -> tuple:
    return tuple(rules_mod.load_rules())


def evaluate(report: Report, rules=None, rubric: dict | None = None, notes=(), sh: str | None = None) -> Report:
    """(Re)compute ``report.findings`` and ``report.scores`` in place."""
    sh = sh if sh is not None else shadow(report.text)
    kept = [f for f in report.findings if f.rule == "ingest.note"]
    kept += [Finding("ingest.note", "info", n) for n in notes]
    cache: dict = {}  # the written/content texts, computed once for the rules and the scores
    report.findings = kept + rules_mod.run(report, list(rules if rules is not None else default_rules()), sh, cache)
    report.scores = scores_mod.compute(report, rubric, sh, cache)
    return report
