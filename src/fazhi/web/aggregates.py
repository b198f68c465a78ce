"""What the 统计看板, the stats API and the filter menus show, kept up to date report by
report instead of recomputed over the corpus on every view (issue 14).

A ``Snapshot`` (one per database, in each process) holds the metadata row of every
counted report (the columns of ``compare.report_rows``, no text), its timeliness
findings and its indicator headlines, and running aggregates per (year, level)
filter (``Agg``): the bucket counts of ``stats.corpus_stats``, the sorted score
lists, the publication months, each unit's latest report for the heatmap, the
ranking of each indicator.  Every request first asks the database's change log
(``corpus_version`` / ``report_changes``, kept by triggers: migration
0010_aggregates) whether anything changed since; the reports that did are read
again and their old contribution is taken out of every aggregate and the new one
put in.  A write therefore costs the next view the rows of the reports it touched,
never a pass over the corpus.

The figures are the recomputed ones, exactly: ``tests/test_aggregates.py``
compares them with ``queries.dashboard_fresh`` / ``stats.corpus_stats`` after
inserts, deletes, corrections and withdrawals.
"""
from __future__ import annotations

import bisect
import threading
from collections import Counter
from fractions import Fraction

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from ..corpus import compare, db, stats
from ..evaluate import norm_unit
from ..scores import SCORE_LABELS

GROUPS = ("level", "region", "year")
TIMELINESS_RULES = ("timeliness.deadline", "timeliness.premature")
_CHUNK = 900


# ------------------------------------------------------------------ reading reports
def _load(conn, ids: list[int] | None) -> dict[int, dict]:
    """Counted reports (all, or those of ``ids``) with their timeliness rules and headlines."""
    r, f, fa = db.reports.c, db.findings.c, db.facts.c
    cols = [getattr(r, c) for c in compare.REPORT_COLUMNS]
    out: dict[int, dict] = {}
    if ids is None:
        chunks = [None]
    else:
        ids = sorted(set(ids))
        chunks = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    facts: dict[tuple[int, str], list[dict]] = {}
    for chunk in chunks:
        q = select(*cols).where(db.counted())
        qf = select(f.report_id, f.rule).where(f.rule.in_(TIMELINESS_RULES))
        qa = (select(fa.report_id, fa.indicator, fa.value, fa.approx, fa.unit, fa.quote, fa.start)
              .where(fa.indicator.is_not(None)))
        params = {}
        if chunk is not None:
            q = q.where(r.id.in_(bindparam("ids", expanding=True)))
            qf = qf.where(f.report_id.in_(bindparam("ids", expanding=True)))
            qa = qa.where(fa.report_id.in_(bindparam("ids", expanding=True)))
            params = {"ids": chunk}
        got = {m["id"]: dict(m) for m in conn.execute(q, params).mappings()}
        for rep in got.values():
            rep["_rules"] = set()
            rep["_heads"] = {}
        for rid, rule in conn.execute(qf, params):
            if rid in got:
                got[rid]["_rules"].add(rule)
        for m in conn.execute(qa, params).mappings():
            if m["report_id"] in got:
                facts.setdefault((m["report_id"], m["indicator"]), []).append(dict(m))
        out.update(got)
    for (rid, ind), fs in facts.items():
        out[rid]["_heads"][ind] = compare.headline(ind, fs)
    for rep in out.values():
        _derive(rep)
    return out


def _derive(rep: dict) -> None:
    """Per report, once: what every aggregate adds (the same reading as stats and queries)."""
    rep["_st"] = stats.status_of(rep, rep["_rules"])
    have = {p for p in (rep["parts_found"] or "").split(",") if p}
    rep["_have"] = have
    rep["_all"] = all(p in have for p in stats.REQUIRED_PARTS)
    rep["_dated"] = bool(rep["published"] or rep["signed"])
    sc = rep["scores"] or {}
    vals = []
    for k in SCORE_LABELS:
        v = rep["score_total"] if k == "total" else sc.get(k)
        if v is not None:
            vals.append((k, float(v)))
    rep["_scores"] = vals
    # timeliness_by_month: months after the start of the report year, or None (undated)
    off = None
    date = rep.get("published") or rep.get("signed")
    if date and rep.get("year"):
        try:
            off = (int(date[:4]) - rep["year"]) * 12 + int(date[5:7])
        except ValueError:
            off = None
    rep["_off"] = off
    # heatmap: the unit's identity, which of its reports is the latest, and the row order
    rep["_ukey"] = norm_unit(rep["unit"]) if rep["unit"] else None
    rep["_hkey"] = (rep["_ukey"] or rep["unit"]) if rep["unit"] else f"#{rep['id']}"
    rep["_latest"] = ((rep["year"] or 0), rep["id"])
    rep["_hsort"] = (-(rep["n_errors"] or 0), -(rep["n_warnings"] or 0), rep["unit"] or "", rep["id"])
    # compare.report_rows order (also the order display_unit reads units in)
    rep["_order"] = (rep["unit"] is None, rep["unit"] or "", rep["year"] or 0, rep["id"])


def _exact_sum(xs: list[float]) -> Fraction:
    """The exact sum of floats (each float is m·2^e: summed as integers over the smallest 2^e)."""
    if not xs:
        return Fraction(0)
    parts = [x.as_integer_ratio() for x in xs]
    den = max(d for _, d in parts)          # denominators are powers of two: the largest divides by all
    return Fraction(sum(n * (den // d) for n, d in parts), den)


def _insort(xs: list, x) -> None:
    bisect.insort(xs, x)


def _remove(xs: list, x) -> None:
    i = bisect.bisect_left(xs, x)
    if i >= len(xs) or xs[i] != x:   # pragma: no cover - the aggregates and the reports disagree
        raise RuntimeError("aggregate out of step with its reports")
    del xs[i]


# ------------------------------------------------------------------ one filter
class IndAgg:
    """One indicator's ranking (``compare.unit_table``) within an Agg."""

    def __init__(self, ind: str):
        self.ind = ind
        self.rank: list[tuple] = []     # (-value, unit, year, id): unit_table's order
        # display_unit over the stated units in report_rows order: the base unit most used,
        # ties to the one seen first — per base its count and its occurrences' positions
        self.base_count: Counter = Counter()
        self.base_first: dict[str, list[tuple]] = {}

    def apply(self, rep: dict, sign: int, bulk: bool = False) -> bool:
        h = rep["_heads"].get(self.ind)
        if h is None:
            return False
        a = (-compare.number(h.value), rep["unit"] or compare.NO_UNIT, rep["year"] or 0, rep["id"])
        if bulk:
            self.rank.append(a)
        else:
            (_insort if sign > 0 else _remove)(self.rank, a)
        for j, u in enumerate(h.units):
            if not u:
                continue
            b = compare.base_unit(u)
            self.base_count[b] += sign
            pos = self.base_first.setdefault(b, [])
            if bulk:
                pos.append((rep["_order"], j))
            else:
                (_insort if sign > 0 else _remove)(pos, (rep["_order"], j))
            if self.base_count[b] <= 0:
                del self.base_count[b], self.base_first[b]
        return True

    def finish_bulk(self) -> None:
        self.rank.sort()
        for v in self.base_first.values():
            v.sort()

    def display_unit(self) -> str:
        """``compare.display_unit(ind, units)`` of the units of every stated report."""
        if not self.base_count:
            return compare.display_unit(self.ind, None)
        kind = (compare.catalog().get(self.ind) or {}).get("kind") or "count"
        if kind in ("rate", "amount"):
            return compare.display_unit(self.ind, None)
        return min(self.base_count, key=lambda b: (-self.base_count[b], self.base_first[b][0]))


class Agg:
    def __init__(self, year: int | None, level: str | None):
        self.year, self.level = year, level
        self.n = 0
        self.total = stats._new_bucket()
        self.groups: dict[str, dict] = {g: {} for g in GROUPS}
        self.scores: dict[str, list[float]] = {k: [] for k in SCORE_LABELS}
        self.sums: dict[str, Fraction] = {k: Fraction(0) for k in SCORE_LABELS}   # exact: float(sum) == fsum
        self.hist = [0] * stats.BINS
        self.months: dict[int, Counter] = {}
        self.undated = 0
        self.units: dict[str, dict[int, tuple]] = {}    # heatmap key -> {report id: (year or 0, id)}
        self.latest: dict[str, tuple] = {}              # heatmap key -> its latest report's row order
        self.chosen: list[tuple] = []                   # latest reports in heatmap order
        self.inds: dict[str, IndAgg] = {}
        self.cache: dict = {}
        self._bulk = False

    def build(self, reps) -> "Agg":
        """Add every matching report at once (lists sorted once, not kept sorted one by one)."""
        self._bulk = True
        try:
            for rep in reps:
                if self.matches(rep):
                    self.apply(rep, 1)
        finally:
            self._bulk = False
        for k, v in self.scores.items():
            v.sort()
            self.sums[k] = _exact_sum(v)
        self.latest = {k: max(m.values())[1] for k, m in self.units.items()}
        self.chosen = sorted(self.latest.values())
        return self

    def matches(self, rep: dict) -> bool:
        return (self.year is None or rep["year"] == self.year) and (self.level is None or rep["level"] == self.level)

    def apply(self, rep: dict, sign: int) -> None:
        self.cache.clear()
        self.n += sign
        st = rep["_st"]
        buckets = [(None, None, self.total)]
        for g in GROUPS:
            key = compare.group_key(rep, g)
            b = self.groups[g].get(key)
            if b is None:
                b = self.groups[g][key] = stats._new_bucket()
            buckets.append((g, key, b))
        for g, key, b in buckets:
            b["reports"] += sign
            b["dated"] += sign * rep["_dated"]
            b[st] += sign
            for p in rep["_have"]:
                if p in b["parts"]:
                    b["parts"][p] += sign
            b["all_parts"] = b.get("all_parts", 0) + sign * rep["_all"]
            if g is not None and b["reports"] == 0:
                del self.groups[g][key]
        for k, v in rep["_scores"]:
            if self._bulk:
                self.scores[k].append(v)
            else:
                (_insort if sign > 0 else _remove)(self.scores[k], v)
                self.sums[k] += sign * Fraction(v)
            if k == "total":
                self.hist[min(stats.BINS - 1, max(0, int(v // (100 / stats.BINS))))] += sign
        off = rep["_off"]
        if off is None:
            self.undated += sign
        else:
            c = self.months.setdefault(off, Counter())
            c[st] += sign
            if not any(c.values()):
                del self.months[off]
        if self._bulk:
            self.units.setdefault(rep["_hkey"], {})[rep["id"]] = (rep["_latest"], rep["_hsort"])
            return
        self._heat(rep, sign)
        for ia in self.inds.values():
            ia.apply(rep, sign)

    def _heat(self, rep: dict, sign: int) -> None:
        key = rep["_hkey"]
        members = self.units.setdefault(key, {})
        old = self.latest.get(key)
        if sign > 0:
            members[rep["id"]] = (rep["_latest"], rep["_hsort"])
        else:
            members.pop(rep["id"], None)
        new = max(members.values())[1] if members else None
        if not members:
            del self.units[key]
        if old != new:
            if old is not None:
                _remove(self.chosen, old)
                del self.latest[key]
            if new is not None:
                _insort(self.chosen, new)
                self.latest[key] = new

    def ind_agg(self, ind: str, reps: dict[int, dict]) -> IndAgg:
        ia = self.inds.get(ind)
        if ia is None:
            ia = IndAgg(ind)
            for rep in reps.values():
                if self.matches(rep):
                    ia.apply(rep, 1, bulk=True)
            ia.finish_bulk()
            self.inds[ind] = ia
        return ia

    # -------------------------------------------------------------- results
    def stats(self, by=GROUPS) -> dict:
        """``stats.corpus_stats(engine, by, year=…, level=…)``."""
        by = tuple(by)
        for g in by:
            if g not in compare.GROUPS:
                raise compare.CompareError(f"未知分组“{g}”；可用：level、region、year")
        out = {
            "reports": self.n,
            "filters": {"year": self.year, "level": compare.normalise_level(self.level)},
            "timeliness": stats._finish(self.total),
            "by": {},
            "scores": {k: {"label": SCORE_LABELS[k], **stats.quartiles_sorted(v, total=float(self.sums[k]))}
                       for k, v in self.scores.items()},
            "histogram": [{"lo": round(k * 100 / stats.BINS), "hi": round((k + 1) * 100 / stats.BINS), "count": c}
                          for k, c in enumerate(self.hist)],
        }
        for g in by:
            rows = [{"key": key, "label": compare.group_label(key, g), **stats._finish(b)}
                    for key, b in self.groups[g].items()]
            if g == "year":
                rows.sort(key=lambda d: (d["key"] is None, d["key"] or 0))
            else:
                rows.sort(key=lambda d: (d["key"] is None, -d["reports"], d["label"]))
            out["by"][g] = rows
        out["part_labels"] = {p: stats.PART_LABELS[p] for p in stats.PART_IDS}
        out["status_labels"] = dict(stats.STATUS_LABELS)
        return out

    def timeliness(self) -> dict:
        """``queries.timeliness_by_month``."""
        from .queries import _month_label

        months = sorted(self.months)
        if months:
            months = list(range(min(months), max(months) + 1))
        return {"months": [_month_label(o) for o in months],
                "series": [{"status": s, "label": stats.STATUS_LABELS[s],
                            "data": [self.months.get(o, {}).get(s, 0) for o in months]}
                           for s in ("on_time", "premature", "late")],
                "undated": self.undated, "dated": sum(sum(v.values()) for v in self.months.values())}

    def heat_rows(self, reps: dict[int, dict], max_rows: int) -> tuple[list[dict], int]:
        """The latest report of each unit, in heatmap order (first ``max_rows``), and the unit count."""
        return [reps[t[3]] for t in self.chosen[:max_rows]], len(self.chosen)

    def chart(self, ind: str, reps: dict[int, dict], top: int = 30) -> dict:
        """``queries.indicator_chart``."""
        ia = self.ind_agg(ind, reps)
        kind = (compare.catalog().get(ind) or {}).get("kind") or "count"
        rows = [reps[a[3]] for a in ia.rank[:top]]
        heads = [r["_heads"][ind] for r in rows]
        return {"indicator": ind, "label": compare.indicator_label(ind), "unit": ia.display_unit(),
                "kind": kind,
                "units": [f"{r['unit'] or compare.NO_UNIT}（{r['year'] or '—'}）" for r in rows],
                "values": [compare.number(h.value) for h in heads], "display": [h.display() for h in heads],
                "report_ids": [r["id"] for r in rows], "total": len(ia.rank), "missing": self.n - len(ia.rank)}


# ------------------------------------------------------------------ the database's snapshot
class Snapshot:
    MAX_AGGS = 64   # filters kept (each a pass over the reports to start)

    def __init__(self):
        self.lock = threading.RLock()
        self.token: str | None = None
        self.seen = -1
        self.reps: dict[int, dict] = {}
        self.aggs: dict[tuple, Agg] = {}
        self.indicators: Counter = Counter()
        self.levels: Counter = Counter()
        self.provinces: Counter = Counter()
        self.years: Counter = Counter()
        self.unit_names: Counter = Counter()
        self.unit_keys: dict[str, Counter] = {}    # norm_unit(name) -> names

    # -------------------------------------------------------------- keeping up
    def refresh(self, engine: Engine) -> None:
        with self.lock, engine.connect() as conn:
            token, n, ids = db.changes(conn, None if self.token is None else (self.token, self.seen))
            if ids is None:                            # the first read, another database, a restore
                self._reset()
                self.reps = _load(conn, None)
                for rep in self.reps.values():
                    self._globals(rep, 1)
                self.token, self.seen = token, n
                return
            if n == self.seen:
                return
            new = _load(conn, ids)
            for rid in ids:
                old = self.reps.pop(rid, None)
                if old is not None:
                    self._apply(old, -1)
                rep = new.get(rid)
                if rep is not None:
                    self.reps[rid] = rep
                    self._apply(rep, 1)
            self.seen = n

    def _reset(self) -> None:
        self.reps, self.aggs = {}, {}
        for c in (self.indicators, self.levels, self.provinces, self.years, self.unit_names, self.unit_keys):
            c.clear()

    def _globals(self, rep: dict, sign: int) -> None:
        for c, v in ((self.levels, rep["level"]), (self.provinces, rep["province"]), (self.years, rep["year"]),
                     (self.unit_names, rep["unit"])):
            c[v] += sign
            if c[v] <= 0:
                del c[v]
        if rep["_ukey"]:
            names = self.unit_keys.setdefault(rep["_ukey"], Counter())
            names[rep["unit"]] += sign
            if names[rep["unit"]] <= 0:
                del names[rep["unit"]]
                if not names:
                    del self.unit_keys[rep["_ukey"]]
        for ind in rep["_heads"]:
            self.indicators[ind] += sign
            if self.indicators[ind] <= 0:
                del self.indicators[ind]

    def _apply(self, rep: dict, sign: int) -> None:
        self._globals(rep, sign)
        for a in self.aggs.values():
            if a.matches(rep):
                a.apply(rep, sign)

    def agg(self, year: int | None, level: str | None) -> Agg:
        key = (year, compare.normalise_level(level))
        a = self.aggs.get(key)
        if a is None:
            if len(self.aggs) >= self.MAX_AGGS:
                self.aggs.pop(next(k for k in self.aggs if k != (None, None)))
            a = self.aggs[key] = Agg(*key).build(self.reps.values())
        return a

    # -------------------------------------------------------------- what the pages ask
    def count(self) -> int:
        return len(self.reps)

    def indicator_list(self) -> list[dict]:
        """``queries.indicators_in_corpus``."""
        out = [{"id": i, "label": compare.indicator_label(i), "reports": n} for i, n in self.indicators.items()]
        out.sort(key=lambda d: (-d["reports"], d["id"]))
        return out

    def facet_values(self) -> tuple[list, list, list]:
        """(levels incl. None, provinces, years) of the counted reports (``queries.facets``)."""
        return (list(self.levels), sorted(x for x in self.provinces if x),
                sorted((x for x in self.years if x), reverse=True))

    def units_named(self, name: str) -> list[str]:
        """``queries.matching_units``."""
        key = norm_unit(name)
        out = set(self.unit_keys.get(key, ())) if key else set()
        if name and name in self.unit_names:
            out.add(name)
        return sorted(out)


    def follow_names(self, unit: str) -> set[str]:
        """Stored names ``follow.year_pairs(unit=…)`` can match: the same unit by norm_unit,
        or a name containing ``unit``."""
        key = norm_unit(unit)
        out = set(self.unit_keys.get(key, ())) if key else set()
        out.update(u for u in self.unit_names if u and unit in u)
        return out


_snapshots: dict[str, Snapshot] = {}
_snap_lock = threading.Lock()


def snapshot(engine: Engine) -> Snapshot:
    """The engine's snapshot, brought up to date with the database (cheap when nothing changed)."""
    key = str(engine.url)
    with _snap_lock:
        s = _snapshots.get(key)
        if s is None:
            s = _snapshots[key] = Snapshot()
    s.refresh(engine)
    return s


def warm_in_background(engine: Engine) -> threading.Thread:
    """Build the engine's snapshot in a daemon thread (``fazhi serve`` at start: the first
    view does not pay for reading the corpus; a view arriving meanwhile waits for it)."""
    def run():
        try:
            snapshot(engine)
        except Exception:   # pragma: no cover - the first view builds it and reports the fault
            pass
    t = threading.Thread(target=run, name="fazhi-aggregates", daemon=True)
    t.start()
    return t
