"""Stored results of the corpus-wide analyses the workbook shows, kept current (issue 14).

Two analyses look at the whole corpus: the copy shares (``similarity.analyse``) and the
follow-through of every (N, N+1) pair (``follow.follow``).  Recomputing them for every
export cost minutes at 100,000 reports; their results are stored (migration 0012) and
tagged with the corpus version they were computed for (migration 0010: ``corpus_version``
and ``report_changes``, moved by triggers on every write to reports, parts, facts and
findings, whoever writes).

**Copy shares** (``copy_shares(engine)``, ``db.copy_shares``, state ``derived_state`` row
"copies").  A row per counted report: the character counts ``similarity.attribute`` sums
(so the shares are the same floats), the sources, and the *basis* the result depended on
(unit, year, date).  Brought up to date:

* the stored version is the current one: read;
* else the reports changed since (``report_changes.seq`` > stored version) whose copy basis
  changed — counted now but no row, a row but no longer counted, another unit, year or
  date (a correction); a change to findings only (``rules recheck``) is no change here —
  and the counted reports whose candidate pairs with them, or among themselves, can move
  (``_partners``: by the buckets' rules — every member of a small bucket, only the earliest
  members and the moved reports' units in a big one unless a moved report is among the
  earliest) are recomputed, ``MANY`` at a time, with
  ``copy_index.copies_of_many`` (equal to ``analyse`` for a report, tests/test_copy_index.py);
* the whole corpus (``analyse``) when nothing is stored, the database is another one (a
  restore: another token), a counted report was deleted or re-indexed under another unit
  name since (its old partners cannot be found any more), or the reports to recompute are
  more than ``INCREMENTAL_MAX`` of the counted ones (``analyse`` is then the cheaper way).

**Follow-through** (``follow_rows(engine, pairs)``, ``db.follow_results``).  A pair's result
depends on its two reports only (text, unit, year, parts): a stored row is used when neither
report changed after the version it was computed at (``seq``); the pairs themselves
(``follow.year_pairs``) are one query, made at every export.

Nothing is stored when the database cannot be written (read-only media): the results are
computed and used all the same.  ``refresh(engine)`` brings both up to date (``corpus add``
at the end of a batch)."""
from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import db

COPIES, FOLLOW = "copies", "follow"
INCREMENTAL_MAX = 0.02     # share of the counted reports recomputed one by one at most
INCREMENTAL_MIN = 50       # ... but always this many
MANY = 200                 # reports recomputed together (``copy_index.copies_of_many``)
_CHUNK = 500


# ------------------------------------------------------------------ versions
version = db.change_version


def state(conn: Connection, name: str) -> tuple[str, int] | None:
    s = db.derived_state.c
    row = conn.execute(select(s.token, s.n).where(s.name == name)).first()
    return (row[0], int(row[1])) if row else None


def _set_state(conn: Connection, name: str, tok: str, n: int) -> None:
    s = db.derived_state.c
    if conn.execute(update(db.derived_state).where(s.name == name).values(token=tok, n=n)).rowcount == 0:
        conn.execute(insert(db.derived_state).values(name=name, token=tok, n=n))


def _chunks(xs: list, n: int = _CHUNK):
    for i in range(0, len(xs), n):
        yield xs[i:i + n]


def _store(engine: Engine, fn) -> bool:
    """Run ``fn(conn)`` in a transaction; False (nothing stored) when the database cannot be
    written or another process stored the same rows at the same time."""
    try:
        with engine.begin() as conn:
            fn(conn)
        return True
    except DBAPIError:
        return False


# ------------------------------------------------------------------ copy shares
def _share(rid: int, chars: int, copied: int, other: int, own: int, paras: int, sources: list):
    from .sheets import CopyShare

    def f(x):
        return x / chars if chars else 0.0
    return CopyShare(rid, f(copied), f(other), f(own), paras, [(int(s), int(c)) for s, c in sources])


def _row_of(rc, basis: tuple) -> dict:
    src = sorted(rc.sources.items(), key=lambda kv: (-kv[1], kv[0]))
    unit, year, date = basis
    return {"report_id": rc.report_id, "unit": unit, "year": year, "date": date, "chars": int(rc.chars),
            "copied_chars": int(rc.copied_chars), "other_chars": int(rc.other_chars),
            "own_chars": int(rc.own_chars), "paragraphs": len({c.para_id for c in rc.paragraphs}),
            "sources": json.dumps([[int(s), int(c)] for s, c in src])}


def _from_row(m) -> object:
    return _share(m["report_id"], m["chars"], m["copied_chars"], m["other_chars"], m["own_chars"],
                  m["paragraphs"], json.loads(m["sources"]))


def _bases(conn: Connection, ids: list[int] | None = None) -> dict[int, tuple]:
    """(unit, year, date) of the counted reports (of ``ids``): what a copy result depends on
    besides the paragraphs (which never change for a report id)."""
    from .similarity import _date

    r = db.reports.c
    q = select(r.id, r.unit, r.year, r.published, r.signed).where(db.counted())
    rows = []
    if ids is None:
        rows = conn.execute(q).all()
    else:
        for c in _chunks(ids):
            rows += conn.execute(q.where(r.id.in_(bindparam("ids", expanding=True))), {"ids": c}).all()
    return {x.id: (x.unit, x.year, _date(x.published, x.signed)) for x in rows}


def read_copies(engine: Engine) -> dict:
    with engine.connect() as conn:
        return {m["report_id"]: _from_row(m) for m in conn.execute(select(db.copy_shares)).mappings()}


def full_copies(engine: Engine, *, store: bool = True) -> dict:
    """``similarity.analyse`` over the whole corpus; stored (all rows replaced) when ``store``."""
    from . import similarity as sim

    with engine.connect() as conn:
        tok, n = version(conn)      # read first: a write while we compute is seen by the next refresh
    _index, res = sim.analyse(engine, lean=True)
    bases = {rid: (info.unit, info.year, info.date) for rid, info in _index.reports.items()}
    del _index
    rows = [_row_of(rc, bases[rid]) for rid, rc in res.items()]
    out = {rid: _from_row(row) for rid, row in zip(res, rows)}
    del res
    if store:
        def put(conn):
            conn.execute(delete(db.copy_shares))
            for c in _chunks(rows, 2000):
                conn.execute(insert(db.copy_shares), c)
            _set_state(conn, COPIES, tok, n)
        _store(engine, put)
    return out


def _partners(conn: Connection, moved: list[int], old: dict[int, tuple], new: dict[int, tuple],
              found: set[int], limit: int) -> bool:
    """Add to ``found`` the counted reports whose copy result can differ because the ``moved``
    reports changed; False as soon as ``found`` holds more than ``limit``.

    ``old`` / ``new``: report id -> (unit, year) of the moved reports counted at the stored
    version / now (absent: not counted); every other report is as it is now.  A report's result
    depends only on its candidate pairs (``similarity.analyse``'s bucket rules) and its partners'
    unit, year and date, so per bucket (band key or sentence fingerprint) of a moved report:

    * a bucket of at most ``MAX_BUCKET`` members before or after (all pairs), or one that
      crosses the limit: every member;
    * a sentence bucket above the limit before and after pairs nothing: none;
    * a band bucket above the limit before and after pairs each member with the ``REPS``
      earliest (by year, then paragraph) and with its own unit's neighbouring years: when a
      moved report is among the earliest before or after, every member (the others' pairs
      move); else the earliest (equal before and after) and the members of the moved reports'
      units (old and new), whose neighbouring-year pairs may move."""
    from . import copy_index as ci
    from . import similarity as sim

    import numpy as np

    k = db.copy_keys.c
    q = select(k.key).where(k.report_id.in_(bindparam("ids", expanding=True))).distinct()
    keys = sorted({x for c in _chunks(moved) for (x,) in ci._fetch(conn, q, {"ids": c})})
    mv = set(moved)
    for kc in _chunks(keys, 2000):
        m = ci._members(conn, kc)                     # key, kind, report_id, para_id
        rids = sorted(set(m[:, 2].tolist()))
        now = ci._bases(conn, rids)                   # (unit, year) of the counted ones

        def state(before: bool):
            """Per member row: counted, year (-1: none), unit code."""
            units: dict[str, int] = {}
            inn, yr, un = [], [], []
            for x in rids:
                b = (old if before else new).get(x) if x in mv else now.get(x)
                inn.append(b is not None)
                yr.append(-1 if b is None or b[1] is None else b[1])
                un.append(units.setdefault(sim._unit_key(x, b[0] if b else None), len(units)))
            return np.array(inn), np.array(yr, dtype=np.int64), np.array(un, dtype=np.int64), units
        in0, yr0, un0, units0 = state(True)
        in1, yr1, un1, units1 = state(False)
        at = np.searchsorted(np.array(rids, dtype=np.int64), m[:, 2])
        is_mv = np.isin(np.array(rids, dtype=np.int64), np.array(moved, dtype=np.int64))
        order = np.lexsort((m[:, 3], m[:, 1], m[:, 0]))
        m, at = m[order], at[order]
        starts = np.flatnonzero(np.concatenate(([True], (m[1:, 0] != m[:-1, 0]) | (m[1:, 1] != m[:-1, 1]))))
        for s0, e0 in zip(starts.tolist(), np.append(starts[1:], len(m)).tolist()):
            a_, pid = at[s0:e0], m[s0:e0, 3]
            if not is_mv[a_].any():
                continue
            n0, n1 = int(in0[a_].sum()), int(in1[a_].sum())
            big = n0 > sim.MAX_BUCKET and n1 > sim.MAX_BUCKET
            if big and m[s0, 1] == ci.SENT:
                continue
            take = in0[a_] | in1[a_]
            if big:
                heads = []
                for inn, yr in ((in0, yr0), (in1, yr1)):
                    w = inn[a_]
                    srt = np.lexsort((pid[w], yr[a_][w]))
                    heads.append(a_[w][srt][:sim.REPS])
                head = np.concatenate(heads)
                if not is_mv[head].any():
                    mine = a_[is_mv[a_]]
                    own = np.isin(un0[a_], un0[mine]) | np.isin(un1[a_], un1[mine])
                    take = np.isin(a_, head) | own
            for x in np.unique(a_[take]).tolist():
                if rids[x] in now:
                    found.add(rids[x])
            if len(found) > limit:
                return False
    return True


def incremental_copies(engine: Engine, since: int) -> dict | None:
    """Bring the stored copy shares from version ``since`` to now, recomputing only the reports
    that can have changed; None when that is not possible or not cheaper (see the module doc)."""
    from . import copy_index

    cr = db.copy_reports.c
    s = db.copy_shares.c
    with engine.connect() as conn:
        tok, n = version(conn)
        changed = db.changed_since(conn, since)
        stored: dict[int, tuple] = {}
        for c in _chunks(changed):
            stored.update((x.report_id, (x.unit, x.year, x.date)) for x in conn.execute(
                select(s.report_id, s.unit, s.year, s.date).where(s.report_id.in_(bindparam("ids", expanding=True))),
                {"ids": c}))
        now = _bases(conn, changed)
        moved = [rid for rid in changed if stored.get(rid) != now.get(rid)]
        if not moved:
            _store(engine, lambda c: _set_state(c, COPIES, tok, n))
            return read_copies(engine)
        r = db.reports.c
        units: dict[int, str | None] = {}     # every report, counted or not
        indexed: dict[int, str] = {}          # the unit name its stored keys were made with
        for c in _chunks(moved):
            units.update(conn.execute(select(r.id, r.unit).where(r.id.in_(bindparam("ids", expanding=True))),
                                      {"ids": c}).all())
            indexed.update(conn.execute(select(cr.report_id, cr.unit).where(
                cr.report_id.in_(bindparam("ids", expanding=True))), {"ids": c}).all())
        for rid in moved:
            if rid in stored and rid not in units:
                return None          # a counted report deleted: its keys went with it
            if rid in stored and stored[rid][0] != units.get(rid) and indexed.get(rid) == (units.get(rid) or ""):
                return None          # re-indexed under its new unit name: the old partners are not known
        n_counted = conn.execute(select(func.count()).select_from(db.reports).where(db.counted())).scalar_one()
        limit = max(INCREMENTAL_MIN, int(n_counted * INCREMENTAL_MAX))
        old = {rid: b[:2] for rid, b in stored.items() if rid in moved}
        new = {rid: b[:2] for rid, b in now.items() if rid in moved}
        found = set(new)
        if len(found) > limit or not _partners(conn, moved, old, new, found, limit):   # partners by the old keys
            return None
    try:
        reindexed = copy_index.ensure_index(engine)  # new reports and unit names (store.insert indexes most)
    except DBAPIError:
        return None                      # a read-only database: the whole corpus, nothing stored
    with engine.connect() as conn:
        # ... and by the new ones, when the index changed (else the same keys: nothing to add)
        if reindexed and not _partners(conn, moved, old, new, found, limit):
            return None
        bases = _bases(conn, sorted(found))
    rows = []
    for group in _chunks(sorted(found), MANY):
        got = copy_index.copies_of_many(engine, group, ensure=False)   # shared buckets read once
        res = got[1] if got is not None else {}
        for rid in group:
            if rid not in res or rid not in bases:
                return None      # no longer counted while we computed: start again next time
            rows.append(_row_of(res[rid], bases[rid]))

    def put(conn):
        gone = sorted(set(moved) | found)
        for c in _chunks(gone):
            conn.execute(delete(db.copy_shares).where(s.report_id.in_(bindparam("ids", expanding=True))), {"ids": c})
        for c in _chunks(rows, 2000):
            conn.execute(insert(db.copy_shares), c)
        _set_state(conn, COPIES, tok, n)
    if not _store(engine, put):
        out = read_copies(engine)
        for rid in moved:
            out.pop(rid, None)
        out.update((row["report_id"], _from_row(row)) for row in rows)
        return out
    return read_copies(engine)


def _bring_copies(engine: Engine, *, full: bool) -> tuple[str, dict | None]:
    """Bring the stored copy shares up to date: ("current", None) when they are, else
    ("incremental" or "full", the shares now); ("none", None) when only the whole corpus
    would do and ``full`` is False."""
    with engine.connect() as conn:
        tok, n = version(conn)
        st = state(conn, COPIES)
    if st == (tok, n):
        return "current", None
    if st is not None and st[0] == tok and st[1] <= n:
        out = incremental_copies(engine, st[1])
        if out is not None:
            return "incremental", out
    return ("full", full_copies(engine)) if full else ("none", None)


def copy_shares(engine: Engine) -> dict:
    """Per counted report id its ``sheets.CopyShare``, as ``similarity.analyse`` gives it now."""
    _how, out = _bring_copies(engine, full=True)
    return read_copies(engine) if out is None else out


# ------------------------------------------------------------------ follow-through
def _result_json(res) -> str:
    return json.dumps(asdict(res), ensure_ascii=False)


def _result(s: str):
    from .follow import FollowResult, PlanStatus, Repeat

    d = json.loads(s)
    d["plans"] = [PlanStatus(**p) for p in d["plans"]]
    d["repeats"] = [Repeat(**x) for x in d["repeats"]]
    return FollowResult(**d)


def follow_rows(engine: Engine, pairs: list[tuple[int, int]]) -> list:
    """``follow.follow`` of every (N, N+1) pair of report ids, in the order given: the stored
    result where neither report changed since it was computed, else computed (and stored)."""
    from . import follow as fl

    f, rc = db.follow_results.c, db.report_changes.c
    with engine.connect() as conn:
        tok, n = version(conn)
        st = state(conn, FOLLOW)
        valid_token = st is not None and st[0] == tok
        stored: dict[tuple[int, int], tuple[int, str]] = {}
        seq: dict[int, int] = {}
        if valid_token and pairs:
            firsts = sorted({a for a, _ in pairs})
            want = set(pairs)
            for c in _chunks(firsts):
                for a, b, s_, res in conn.execute(select(f.report_id, f.next_report, f.seq, f.result)
                                                  .where(f.report_id.in_(bindparam("ids", expanding=True))),
                                                  {"ids": c}):
                    if (a, b) in want:
                        stored[(a, b)] = (int(s_), res)
            ids = sorted({x for p in stored for x in p})
            for c in _chunks(ids):
                seq.update(conn.execute(select(rc.report_id, rc.seq)
                                        .where(rc.report_id.in_(bindparam("ids", expanding=True))), {"ids": c}).all())
    out, new = [], []
    for a, b in pairs:
        hit = stored.get((a, b))
        if hit is not None and hit[0] >= max(seq.get(a, 0), seq.get(b, 0)):
            out.append(_result(hit[1]))
            continue
        with engine.connect() as conn:
            res = fl.follow(fl._load(conn, a), fl._load(conn, b))
        out.append(res)
        new.append({"report_id": a, "next_report": b, "seq": n, "result": _result_json(res)})
    if new or not valid_token or st[1] != n:
        def put(conn):
            if not valid_token:
                conn.execute(delete(db.follow_results))
            for x in new:
                if (x["report_id"], x["next_report"]) in stored:   # recomputed: the old row goes
                    conn.execute(delete(db.follow_results).where(f.report_id == x["report_id"],
                                                                  f.next_report == x["next_report"]))
            for c in _chunks(new):
                conn.execute(insert(db.follow_results), c)
            _set_state(conn, FOLLOW, tok, n)
        _store(engine, put)
    return out


def refresh(engine: Engine, *, full: bool = True) -> dict:
    """Bring the stored copy shares and follow-through up to date (``corpus add`` after a batch);
    ``full=False``: only when the incremental way applies.  {"copies": how, "follow": pairs}."""
    from . import follow as fl

    how, _out = _bring_copies(engine, full=full)
    pairs = fl.year_pairs(engine)
    follow_rows(engine, pairs)
    return {"copies": how, "follow": len(pairs)}
