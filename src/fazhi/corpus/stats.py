"""Corpus statistics: publication and timeliness, statutory parts, scores.

``corpus_stats(engine, by=("level", "region", "year"))`` returns a plain dict
(JSON-ready):

- ``timeliness``: over all reports and per group — reports, dated (a
  publication or signing date is known), on time / premature / late / unknown.
  A report is *late* when it has a ``timeliness.deadline`` finding, *premature*
  when it has ``timeliness.premature``, *on time* when it has a date and
  neither, *unknown* when it has no date (the same order the timeliness score
  uses).
- ``parts``: per statutory part the number and share of reports that have it
  (overall and per group).
- ``scores``: per score (total and each component) count, mean, min, quartiles
  (inclusive method, as ``statistics.quantiles(..., method="inclusive")``),
  max; and a histogram of the totals in 10-point bins (90–100 includes 100).
"""
from __future__ import annotations

import math

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from ..model import PART_IDS, PART_LABELS, REQUIRED_PARTS
from ..scores import SCORE_LABELS
from . import compare, db

STATUSES = ("on_time", "premature", "late", "unknown")
STATUS_LABELS = {"on_time": "按期", "premature": "提前（年度未结束）", "late": "逾期", "unknown": "无日期"}
BINS = 10


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def quartiles(xs: list[float]) -> dict:
    """count, mean, min, q1, median, q3, max (None when empty)."""
    return quartiles_sorted(sorted(float(x) for x in xs if x is not None))


def quartiles_sorted(xs: list[float], total: float | None = None) -> dict:
    """``quartiles`` of floats already sorted (the aggregates keep them so): the inclusive
    method of ``statistics.quantiles`` and ``statistics.fmean``, computed the same way.
    ``total``: ``math.fsum(xs)`` when the caller keeps it (the correctly rounded sum)."""
    if not xs:
        return {"count": 0, "mean": None, "min": None, "q1": None, "median": None, "q3": None, "max": None}
    if len(xs) == 1:
        q1 = med = q3 = xs[0]
    else:
        m = len(xs) - 1
        qs = []
        for i in (1, 2, 3):     # statistics.quantiles(xs, n=4, method="inclusive"), term for term
            j, delta = divmod(i * m, 4)
            qs.append((xs[j] * (4 - delta) + xs[j + 1] * delta) / 4)
        q1, med, q3 = qs
    if total is None:
        total = math.fsum(xs)
    return {"count": len(xs), "mean": round(total / len(xs), 2), "min": xs[0], "q1": round(q1, 2),
            "median": round(med, 2), "q3": round(q3, 2), "max": xs[-1]}


def histogram(xs: list[float], bins: int = BINS) -> list[dict]:
    """10-point bins over 0–100: [{"lo", "hi", "count"}]; 100 falls in the last bin."""
    width = 100 / bins
    counts = [0] * bins
    for x in xs:
        if x is None:
            continue
        k = min(bins - 1, max(0, int(float(x) // width)))
        counts[k] += 1
    return [{"lo": round(k * width), "hi": round((k + 1) * width), "count": c} for k, c in enumerate(counts)]


def status_of(rep: dict, rules: set[str]) -> str:
    if "timeliness.deadline" in rules:
        return "late"
    if "timeliness.premature" in rules:
        return "premature"
    if rep.get("published") or rep.get("signed"):
        return "on_time"
    return "unknown"


def _timeliness_rules(engine: Engine, ids: list[int]) -> dict[int, set[str]]:
    f = db.findings.c
    out: dict[int, set[str]] = {}
    q = (select(f.report_id, f.rule)
         .where(f.rule.in_(["timeliness.deadline", "timeliness.premature"]))
         .where(f.report_id.in_(bindparam("ids", expanding=True))))
    with engine.connect() as conn:
        for i in range(0, len(ids), 900):
            for rid, rule in conn.execute(q, {"ids": ids[i:i + 900]}):
                out.setdefault(rid, set()).add(rule)
    return out


def _new_bucket() -> dict:
    return {"reports": 0, "dated": 0, **{s: 0 for s in STATUSES}, "parts": {p: 0 for p in PART_IDS}}


def _finish(b: dict) -> dict:
    n = b["reports"]
    out = {"reports": n, "dated": b["dated"], "dated_share": _share(b["dated"], n)}
    for s in STATUSES:
        out[s] = b[s]
        out[f"{s}_share"] = _share(b[s], n)
    out["parts"] = {p: {"count": c, "share": _share(c, n)} for p, c in b["parts"].items()}
    out["all_parts"] = b.get("all_parts", 0)
    out["all_parts_share"] = _share(b.get("all_parts", 0), n)
    return out


def corpus_stats(engine: Engine, by=("level", "region", "year"), *, year: int | None = None,
                 level: str | None = None) -> dict:
    by = tuple(by)
    for g in by:
        if g not in compare.GROUPS:
            raise compare.CompareError(f"未知分组“{g}”；可用：level、region、year")
    with engine.connect() as conn:
        reps = compare.report_rows(conn, year=year, level=level)
    tl = _timeliness_rules(engine, [r["id"] for r in reps])
    total = _new_bucket()
    groups: dict[str, dict] = {g: {} for g in by}
    scores: dict[str, list[float]] = {k: [] for k in SCORE_LABELS}
    for rep in reps:
        st = status_of(rep, tl.get(rep["id"], set()))
        have = {p for p in (rep["parts_found"] or "").split(",") if p}
        buckets = [total] + [groups[g].setdefault(compare.group_key(rep, g), _new_bucket()) for g in by]
        for b in buckets:
            b["reports"] += 1
            b["dated"] += bool(rep["published"] or rep["signed"])
            b[st] += 1
            for p in have:
                if p in b["parts"]:
                    b["parts"][p] += 1
            b["all_parts"] = b.get("all_parts", 0) + all(p in have for p in REQUIRED_PARTS)
        sc = rep["scores"] or {}
        for k in SCORE_LABELS:
            v = rep["score_total"] if k == "total" else sc.get(k)
            if v is not None:
                scores[k].append(float(v))
    out = {
        "reports": len(reps),
        "filters": {"year": year, "level": compare.normalise_level(level)},
        "timeliness": _finish(total),
        "by": {},
        "scores": {k: {"label": SCORE_LABELS[k], **quartiles(v)} for k, v in scores.items()},
        "histogram": histogram(scores["total"]),
    }
    for g in by:
        rows = []
        for key, b in groups[g].items():
            rows.append({"key": key, "label": compare.group_label(key, g), **_finish(b)})
        if g == "year":
            rows.sort(key=lambda d: (d["key"] is None, d["key"] or 0))
        else:
            rows.sort(key=lambda d: (d["key"] is None, -d["reports"], d["label"]))
        out["by"][g] = rows
    out["part_labels"] = {p: PART_LABELS[p] for p in PART_IDS}
    out["status_labels"] = dict(STATUS_LABELS)
    return out


def bar(n: int, most: int, width: int = 30) -> str:
    if not most or not n:
        return ""
    return "█" * max(1, round(width * n / most))
