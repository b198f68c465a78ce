"""Scores: the rubric of ``data/scores.yaml`` applied to findings and facts.

completeness       100 − 25 per missing required part − 10 without causes − …
                   − 2 per placeholder left (at most − 30)
timeliness         100 on time, 60 premature, 20 late, 50 when no date is known
data_support       facts per 1,000 characters of 主要举措和成效 against a target
                   (at most 100), − 15 per numeric inconsistency
candour            share of the text given to 存在的不足和原因 against a target
                   (at most 100), − 30 when only generic phrases, − 20 when no causes
plan_concreteness  measurable items in 下一年度安排 against a target, + 30 for time words
total              weighted mean (weights in the rubric)

Lengths and facts are those of the written content (``fazhi.rules.content``):
placeholders 【请补充：…】 and bare headings do not count.  A penalty is taken
from the score after its base is capped at 100, so a contradiction always costs.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .data import load_yaml
from .model import REQUIRED_PARTS, Report
from .rules.content import length, mask, written
from .textnorm import shadow, tester

@lru_cache(maxsize=1)
def _time_words() -> re.Pattern:
    """The time words of the next_year.concrete rule (one vocabulary for rule and score)."""
    rule = next(r for r in load_yaml("rules.yaml")["rules"] if r["id"] == "next_year.concrete")
    return re.compile(rule["params"]["time_words"])


def rubric(override: dict | None = None) -> dict:
    base = load_yaml("scores.yaml")
    if not override:
        return base
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k].update(v)
        else:
            merged[k] = v
    return merged


def _clamp(x: float) -> float:
    return round(max(0.0, min(100.0, x)), 1)


def compute(report: Report, rub: dict | None = None, sh: str | None = None,
            cache: dict | None = None) -> dict[str, float]:
    """``cache``: the rules' per-report cache (``rules.Ctx.cache``) for the
    written and content texts, when the caller ran the rules on the same ``sh``."""
    r = rub or rubric()
    rules = {f.rule for f in report.findings}
    have = {p.part for p in report.parts}

    sh = sh if sh is not None else shadow(report.text)

    cache = cache if cache is not None else {}
    w = cache.get("written")
    if w is None:
        w = cache["written"] = written(sh)
    content = cache.get("content")
    if content is None:
        content = cache["content"] = mask(report, sh, w)
    total_len = length(content) or 1

    def facts_in(pid: str) -> int:
        return sum(1 for f in report.facts if f.part == pid and 0 <= f.start < len(w) and not w[f.start].isspace())

    c = r["completeness"]
    completeness = 100 - c["per_missing_part"] * sum(1 for p in REQUIRED_PARTS if p not in have)
    holes = sum(1 for f in report.findings if f.rule == "draft.placeholder")
    completeness -= min(c.get("placeholder_max", 30), c.get("per_placeholder", 2) * holes)
    completeness -= c["missing_causes"] * ("shortcomings.causes" in rules)
    completeness -= c["leader_duty_thin"] * ("leader_duty.section" in rules)
    completeness -= c["no_title"] * ("meta.title" in rules)

    t = r["timeliness"]
    if "timeliness.deadline" in rules:
        timeliness = t["late"]
    elif "timeliness.premature" in rules:
        timeliness = t["premature"]
    elif report.meta.published or report.meta.signed:
        timeliness = t["on_time"]
    else:
        timeliness = t["unknown"]

    d = r["data_support"]
    ach = [p for p in report.parts if p.part == "achievements"]
    chars = sum(length(content, p.start, p.end) for p in ach)
    n = facts_in("achievements")
    density = n * 1000 / chars if chars else 0.0
    data_support = min(100.0, 100 * density / d["full_at_per_1000"])
    data_support -= d["per_numeric_error"] * sum(1 for f in report.findings if f.rule.startswith("numeric."))

    k = r["candour"]
    share = sum(length(content, p.start, p.end) for p in report.parts if p.part == "shortcomings") / total_len
    candour = min(100.0, 100 * share / k["full_at_share"])
    candour -= k["generic_only"] * ("balance.generic" in rules)
    candour -= k["missing_causes"] * ("shortcomings.causes" in rules)

    pl = r["plan_concreteness"]
    nxt = [p for p in report.parts if p.part == "next_year"]
    if nxt:
        items = facts_in("next_year")
        test = tester(_time_words())  # a truth test: led by \d, the pattern is tried at every position
        timed = any(test(w, p.start, p.end) for p in nxt)
        plan = min(100, 70 * items / pl["full_at_items"]) + pl["time_bonus"] * timed
    else:
        plan = 0

    scores = {
        "completeness": _clamp(completeness),
        "timeliness": _clamp(timeliness),
        "data_support": _clamp(data_support),
        "candour": _clamp(candour),
        "plan_concreteness": _clamp(plan),
    }
    w = r["weights"]
    wsum = sum(w.get(k, 0) for k in scores) or 1
    scores["total"] = _clamp(sum(scores[k] * w.get(k, 0) for k in scores) / wsum)
    return scores


SCORE_LABELS = {
    "completeness": "完整性", "timeliness": "时效性", "data_support": "数据支撑",
    "candour": "问题剖析", "plan_concreteness": "计划具体性", "total": "总分",
}
