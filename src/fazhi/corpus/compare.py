"""Comparison tables over the corpus: what a collecting office builds by hand.

Pure functions over an engine that return rows (dicts):

- ``unit_table(engine, "mediation.cases", year=2022)`` — one row per report
  (unit and year) that states the indicator: its headline value, the number of
  mentions and every value in text order, ranked (descending).
- ``group_table(engine, ind, by="level"|"region"|"year")`` — per group: reports
  stating it, sum (not for rates), mean, median, min, max of the headline values.
- ``overview_table(engine)`` — units x a handful of headline indicators.

A report may state an indicator several times (a total and its breakdowns,
"受理16宗…成功处理700宗"): the *headline* is the largest value that is not
approximate, else the largest approximate one (shown as 约N / N余).

Filters (all functions): ``year`` and ``level`` (an id such as ``county`` or
its Chinese label such as ``县级``).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine

from ..model import LEVEL_LABELS
from . import db

# indicators of the overview (no --indicator): the figures most reports state
HEADLINE_INDICATORS = (
    "mediation.cases", "reconsideration.cases", "litigation.cases",
    "litigation.head_appearance_rate", "review.contracts", "publicity.events",
)
GROUPS = ("level", "region", "year")
GROUP_LABELS = {"unit": "单位", "level": "层级", "region": "省份", "year": "年度"}
KIND_UNIT = {"count": "件", "people": "人", "rate": "%", "amount": "元"}
NO_UNIT = "（未识别单位）"
NO_VALUE = "未识别"

_MULT = re.compile(r"^[十百千万亿]+")
_SUFFIX_APPROX = re.compile(r"[\d０-９一二三四五六七八九十百千万亿两]\s*[万亿千]?\s*(余|多)")
_CHUNK = 900  # ids per IN (...) — under SQLite's variable limit
ONE_PASS_CHUNKS = 4   # headlines of more reports than this many chunks: one query over the indicators


class CompareError(ValueError):
    """A bad filter or indicator; ``str(err)`` is a Chinese message."""


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict]:
    from ..facts import load_catalog

    return load_catalog()


@lru_cache(maxsize=1)
def topic_names() -> dict[str, str]:
    from ..facts import topics

    return topics()


def indicator_label(ind: str) -> str:
    return (catalog().get(ind) or {}).get("label") or ind


def check_indicator(ind: str) -> str:
    """``ind`` when it is a catalog id, else a CompareError naming close ids."""
    cat = catalog()
    if ind in cat:
        return ind
    import difflib

    by_label = [k for k, v in cat.items() if v.get("label") == ind]
    if by_label:
        return by_label[0]
    near = difflib.get_close_matches(ind, list(cat), n=3, cutoff=0.5)
    hint = f"；是否指：{'、'.join(near)}" if near else "；可用的指标见 indicators.yaml"
    raise CompareError(f"未知指标“{ind}”{hint}")


def normalise_level(level: str | None) -> str | None:
    """A level id (``county``) or its Chinese label (``县级``) -> the id."""
    if level is None or level == "":
        return None
    if level in LEVEL_LABELS and level is not None:
        return level
    for k, v in LEVEL_LABELS.items():
        if k and v == level:
            return k
    ok = "、".join(f"{k}（{v}）" for k, v in LEVEL_LABELS.items() if k)
    raise CompareError(f"未知层级“{level}”；可用：{ok}")


def base_unit(u: str) -> str:
    """万份 -> 份, 亿元 -> 元."""
    return _MULT.sub("", u or "") or (u or "")


def display_unit(ind: str, units_seen: list[str] | None = None) -> str:
    """The unit to print beside an indicator: % / 元 by kind, else the unit most used."""
    kind = (catalog().get(ind) or {}).get("kind") or "count"
    if kind in ("rate", "amount"):
        return KIND_UNIT[kind]
    if units_seen:
        bases = [base_unit(u) for u in units_seen if u]
        if bases:
            return max(set(bases), key=lambda u: (bases.count(u), -bases.index(u)))
    return KIND_UNIT.get(kind, "")


def header(ind: str, unit: str | None = None) -> str:
    """"调解矛盾纠纷数（件）"."""
    u = unit if unit is not None else display_unit(ind)
    return f"{indicator_label(ind)}（{u}）" if u else indicator_label(ind)


def level_label(level: str | None) -> str:
    return LEVEL_LABELS.get(level, level or NO_VALUE)


def number(v: float | None) -> int | float | None:
    """Integers as int (so that 700.0 is stored and printed as 700)."""
    if v is None:
        return None
    v = float(v)
    return int(v) if v.is_integer() else v


def fmt_number(v: float | None, kind: str = "count") -> str:
    if v is None:
        return ""
    v = float(v)
    if kind == "rate":
        return f"{v:.1f}".rstrip("0").rstrip(".") if not v.is_integer() else f"{int(v)}"
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


@dataclass
class Headline:
    """What one report says about one indicator."""
    indicator: str
    value: float                  # the headline: largest non-approximate value (else largest approximate)
    approx: bool
    marker: str                   # "约" (prefix) / "余" (suffix) / ""
    mentions: int
    values: list[float] = field(default_factory=list)  # every mention, in text order
    units: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return (catalog().get(self.indicator) or {}).get("kind") or "count"

    def display(self, with_unit: bool = False) -> str:
        s = fmt_number(self.value, self.kind)
        if self.approx:
            s = f"{s}余" if self.marker == "余" else f"约{s}"
        if with_unit:
            s += display_unit(self.indicator, self.units)
        return s


def _marker(quote: str | None) -> str:
    return "余" if quote and _SUFFIX_APPROX.search(quote) else "约"


def headline(ind: str, facts: list[dict]) -> Headline:
    """The headline of one report's facts (dicts with value/approx/unit/quote/start) for ``ind``."""
    fs = sorted(facts, key=lambda f: f["start"])
    exact = [f for f in fs if not f["approx"]]
    pool = exact or fs
    best = max(pool, key=lambda f: f["value"])
    return Headline(ind, float(best["value"]), not exact, _marker(best.get("quote")) if not exact else "",
                    len(fs), [float(f["value"]) for f in fs], [f["unit"] for f in fs])


# ----------------------------------------------------------------- queries
REPORT_COLUMNS = ("id", "unit", "level", "province", "city", "county", "year", "title", "published",
                  "signed", "doc_number", "path", "parts_found", "parts_missing", "n_facts", "n_errors",
                  "n_warnings", "score_total", "scores")


def report_rows(conn: Connection, *, year: int | None = None, level: str | None = None) -> list[dict]:
    """Report metadata (no text) matching the filters, ordered by unit, year, id."""
    r = db.reports.c
    q = select(*[getattr(r, c) for c in REPORT_COLUMNS]).where(db.counted())   # current versions only
    if year is not None:
        q = q.where(r.year == int(year))
    lv = normalise_level(level)
    if lv is not None:
        q = q.where(r.level == lv)
    rows = [dict(m) for m in conn.execute(q).mappings()]
    rows.sort(key=lambda d: (d["unit"] is None, d["unit"] or "", d["year"] or 0, d["id"]))
    return rows


def _chunks(ids: list[int]):
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def headlines(conn: Connection, indicators, report_ids: list[int]) -> dict[tuple[int, str], Headline]:
    """{(report_id, indicator): Headline} for the given reports and indicators."""
    inds = list(indicators)
    if not inds or not report_ids:
        return {}
    f = db.facts.c
    cols = (f.report_id, f.indicator, f.value, f.approx, f.unit, f.quote, f.start)
    ids = sorted(report_ids)
    if len(ids) > ONE_PASS_CHUNKS * _CHUNK:
        # many reports (the workbook): one pass over the indicators' facts.  A query per chunk of
        # ids is answered from the indicator index and reads all of them every time (quadratic).
        # The rows are put in the order the per-chunk queries give on SQLite — chunk by chunk,
        # by indicator, by row id — so that ties (the unit shown in a header, a headline among
        # equal values) fall as they did.
        chunk_of = {rid: k // _CHUNK for k, rid in enumerate(ids)}
        names = [c.name for c in cols]
        rows = [tuple(m) for m in conn.execute(select(f.id, *cols).where(
            f.indicator.in_(bindparam("inds", expanding=True))), {"inds": inds}) if m[1] in chunk_of]
        rows.sort(key=lambda m: (chunk_of[m[1]], m[2], m[0]))
        tuples: dict[tuple[int, str], list[tuple]] = {}
        for m in rows:
            tuples.setdefault((m[1], m[2]), []).append(m[1:])
        del rows
        return {k: headline(k[1], [dict(zip(names, t)) for t in v]) for k, v in tuples.items()}
    q = (select(*cols).where(f.indicator.in_(bindparam("inds", expanding=True)))
         .where(f.report_id.in_(bindparam("ids", expanding=True))))
    grouped: dict[tuple[int, str], list[dict]] = {}
    for chunk in _chunks(ids):
        for m in conn.execute(q, {"inds": inds, "ids": chunk}).mappings():
            grouped.setdefault((m["report_id"], m["indicator"]), []).append(dict(m))
    return {k: headline(k[1], v) for k, v in grouped.items()}


def _rank(rows: list[dict], key: str) -> None:
    """Competition ranking (1, 2, 2, 4) by ``row[key]`` descending; rows must be sorted."""
    prev, rank = object(), 0
    for i, row in enumerate(rows, 1):
        v = row[key]
        if v != prev:
            rank, prev = i, v
        row["rank"] = rank


def region_of(rep: dict) -> str:
    return rep.get("province") or NO_VALUE


def place_of(rep: dict) -> str:
    return "".join(x for x in (rep.get("province"), rep.get("city"), rep.get("county")) if x) or ""


def unit_table(engine: Engine, indicator: str, *, year: int | None = None,
               level: str | None = None) -> dict:
    """Reports stating ``indicator``, ranked by headline value (descending).

    Returns ``{"indicator", "label", "unit", "kind", "rows": [...], "missing": n}``
    where each row has rank, report_id, unit, level, level_label, region, year,
    value (number), approx, display, mentions, values, path; ``missing`` counts the
    filtered reports that do not state it.
    """
    ind = check_indicator(indicator)
    with engine.connect() as conn:
        reps = report_rows(conn, year=year, level=level)
        hl = headlines(conn, [ind], [r["id"] for r in reps])
    rows, units = [], []
    for rep in reps:
        h = hl.get((rep["id"], ind))
        if h is None:
            continue
        units += h.units
        rows.append({
            "report_id": rep["id"], "unit": rep["unit"] or NO_UNIT, "level": rep["level"],
            "level_label": level_label(rep["level"]), "region": place_of(rep), "year": rep["year"],
            "value": number(h.value), "approx": h.approx, "display": h.display(), "mentions": h.mentions,
            "values": [number(v) for v in h.values], "path": rep["path"],
        })
    rows.sort(key=lambda d: (-d["value"], d["unit"], d["year"] or 0, d["report_id"]))
    _rank(rows, "value")
    kind = (catalog().get(ind) or {}).get("kind") or "count"
    return {"indicator": ind, "label": indicator_label(ind), "unit": display_unit(ind, units), "kind": kind,
            "rows": rows, "missing": len(reps) - len(rows), "by": "unit"}


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def group_key(rep: dict, by: str):
    if by == "level":
        return rep["level"]
    if by == "region":
        return rep.get("province")
    if by == "year":
        return rep["year"]
    raise CompareError(f"未知分组“{by}”；可用：unit、level、region、year")


def group_label(key, by: str) -> str:
    if by == "level":
        return level_label(key)
    if key is None:
        return NO_VALUE
    return str(key)


def group_table(engine: Engine, indicator: str, by: str, *, year: int | None = None,
                level: str | None = None) -> dict:
    """Per level / region (province) / year: reports stating the indicator and the
    sum (None for rates), mean, median, min, max of their headline values.

    Rows are ranked by sum (rates: by mean), descending; ``--by year`` rows are in
    year order (the rank still says where each year stands).
    """
    ind = check_indicator(indicator)
    if by not in GROUPS:
        raise CompareError(f"未知分组“{by}”；可用：unit、level、region、year")
    with engine.connect() as conn:
        reps = report_rows(conn, year=year, level=level)
        hl = headlines(conn, [ind], [r["id"] for r in reps])
    kind = (catalog().get(ind) or {}).get("kind") or "count"
    groups: dict = {}
    units = []
    for rep in reps:
        g = groups.setdefault(group_key(rep, by), {"reports": 0, "values": []})
        g["reports"] += 1
        h = hl.get((rep["id"], ind))
        if h is not None:
            g["values"].append(h.value)
            units += h.units
    rows = []
    for key, g in groups.items():
        xs = g["values"]
        rows.append({
            "key": key, "label": group_label(key, by), "reports": g["reports"], "stating": len(xs),
            "sum": number(sum(xs)) if xs and kind != "rate" else None,
            "mean": round(sum(xs) / len(xs), 2) if xs else None,
            "median": number(_median(xs)), "min": number(min(xs)) if xs else None,
            "max": number(max(xs)) if xs else None,
        })
    metric = "mean" if kind == "rate" else "sum"
    rows.sort(key=lambda d: (d[metric] is None, -(d[metric] or 0), -d["stating"], d["key"] is None, d["label"]))
    _rank(rows, metric)
    if by == "year":
        rows.sort(key=lambda d: (d["key"] is None, d["key"] or 0))
    return {"indicator": ind, "label": indicator_label(ind), "unit": display_unit(ind, units), "kind": kind,
            "by": by, "metric": metric, "rows": rows}


def overview_table(engine: Engine, indicators=HEADLINE_INDICATORS, *, year: int | None = None,
                   level: str | None = None) -> dict:
    """Units x headline indicators; ranked by how many of them each report states."""
    inds = [check_indicator(i) for i in indicators]
    with engine.connect() as conn:
        reps = report_rows(conn, year=year, level=level)
        hl = headlines(conn, inds, [r["id"] for r in reps])
    rows = []
    units: dict[str, list[str]] = {i: [] for i in inds}
    for rep in reps:
        vals = {}
        for i in inds:
            h = hl.get((rep["id"], i))
            vals[i] = h
            if h:
                units[i] += h.units
        rows.append({
            "report_id": rep["id"], "unit": rep["unit"] or NO_UNIT, "level": rep["level"],
            "level_label": level_label(rep["level"]), "region": place_of(rep), "year": rep["year"],
            "stated": sum(1 for h in vals.values() if h),
            "values": {i: (number(h.value) if h else None) for i, h in vals.items()},
            "display": {i: (h.display() if h else "") for i, h in vals.items()},
            "path": rep["path"],
        })
    rows.sort(key=lambda d: (-d["stated"], d["unit"], d["year"] or 0, d["report_id"]))
    _rank(rows, "stated")
    return {"indicators": inds, "headers": {i: header(i, display_unit(i, units[i])) for i in inds},
            "rows": rows, "by": "overview"}
