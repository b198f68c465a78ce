"""Incremental copy detection: one report's copies from stored signatures, without
recomputing the corpus (issue 14).

``similarity.analyse`` compares the whole corpus at once.  This module keeps what
it needs of every stored report in two tables (``db.copy_keys``, ``db.copy_reports``;
migration 0011) and answers for one report:

* **Written when a report is stored** (``index_report``, called by ``store.insert``):
  for each compared paragraph (≥ ``MIN_CHARS`` normalised characters, the report's
  unit name masked) its ``BANDS`` LSH band keys (kind 0) and the stable fingerprints
  of its sentences of ≥ ``SENT_MIN`` characters (kind 1), and a ``copy_reports`` row
  with the unit name that was masked, the paragraphs' MinHash signatures (``SIGS``
  records; migration 0013) and their fingerprints, lengths and shingle hashes (``grams_blob``;
  migration 0014).  Every report is indexed, counted or not (an
  older version may become current again); lookups join ``reports`` and keep the
  counted ones (``db.counted()``), so a withdrawal needs nothing here.  A deleted
  report's keys go with it (foreign key ``ON DELETE CASCADE``; re-indexing a report
  first deletes its keys).  A report whose unit name changed since it was indexed
  (a correction) is indexed again by ``ensure_index``.
* **Backfill** (``build_index``; ``fazhi corpus copies --build-index``, and lazily on
  the first lookup): the reports without a current ``copy_reports`` row, in batches,
  one transaction each — resumable after an interruption.
* **Lookup** (``copies_of``): the report's band keys and sentence fingerprints →
  the stored paragraphs sharing one (a query on ``ix_copy_keys_key``) → the same
  bucket rules as the whole-corpus run (a band bucket of ≤ ``MAX_BUCKET`` members
  pairs all; a larger one only the ``REPS`` earliest members and the unit's
  neighbouring years, by ``similarity._big_bucket`` itself; a sentence in more than
  ``MAX_BUCKET`` paragraphs pairs nothing) → ``similarity.verify_candidates``
  (exact shingle Jaccard / containment with the partners' stored shingles, then the signature
  pre-filter with their stored signatures: no partner text is read or normalised)
  → ``similarity.attribute``.  The buckets are read whole (their counted members),
  so the 通用表述 count over units sees the same partners as ``analyse`` and the
  result for a report equals ``analyse``'s (tests/test_copy_index.py).
"""
from __future__ import annotations

import hashlib
import itertools
import threading
from typing import Iterable

import numpy as np
from sqlalchemy import bindparam, delete, func, insert as sa_insert, select
from sqlalchemy.engine import Connection, Engine

from . import db
from . import similarity as sim

BAND, SENT = 0, 1     # copy_keys.kind
_CHUNK = 500          # ids / keys per IN (...) list
COMPACT = 4_000_000   # candidate pairs gathered before duplicates are dropped (copies_of_many)
# copy_reports.sigs: one record per compared paragraph (its id, its MinHash signature), 520 bytes
SIGS = np.dtype([("pid", "<i8"), ("sig", "<u4", (sim.NUM_PERM,))])
# copy_reports.grams (migration 0014): the number of compared paragraphs (int64), one GRAMS
# record per compared paragraph, then their shingle hashes (uint32, sorted, distinct: what
# ``similarity._shingle_array`` gives), one paragraph after the other
GRAMS = np.dtype([("pid", "<i8"), ("fp", "<i8"), ("no", "<i4"), ("chars", "<i4"), ("nlen", "<i4"), ("n", "<i4")])


def stable_hash(s: str) -> int:
    """A signed 64-bit fingerprint of a normalised sentence, the same in every process
    (``hash()`` of a str is salted per process)."""
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _i64(keys: np.ndarray) -> np.ndarray:
    return keys.astype(np.uint64).view(np.int64)


def grams_blob(heads: np.ndarray, shingles: list[np.ndarray]) -> bytes:
    """``copy_reports.grams`` of a report: its ``GRAMS`` records and their shingle arrays."""
    return (len(heads).to_bytes(8, "little") + heads.astype(GRAMS).tobytes()
            + b"".join(x.astype("<u4").tobytes() for x in shingles))


def _grams_parts(blob: bytes) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``grams_blob`` read back: its ``GRAMS`` records, all shingles (a view) and where each
    paragraph's begin in them; ValueError when the blob is not one."""
    m = int.from_bytes(blob[:8], "little")
    rest = len(blob) - 8 - m * GRAMS.itemsize
    if len(blob) < 8 or rest < 0 or rest % 4:
        raise ValueError("copy_reports.grams: not a grams_blob")
    heads = np.frombuffer(blob, dtype=GRAMS, count=m, offset=8)
    ns = heads["n"].tolist()                       # in Python: a few paragraphs a blob
    starts = [0, *itertools.accumulate(ns)]
    if starts[-1] != rest // 4 or (ns and min(ns) < 0):
        raise ValueError("copy_reports.grams: the shingle counts do not match the records")
    flat = np.frombuffer(blob, dtype="<u4", offset=8 + m * GRAMS.itemsize)
    return heads, flat, starts


def read_grams(blob: bytes) -> tuple[np.ndarray, list[np.ndarray]]:
    """``grams_blob`` read back: the ``GRAMS`` records and each paragraph's shingles (views)."""
    heads, flat, starts = _grams_parts(blob)
    return heads, [flat[a:b] for a, b in zip(starts, starts[1:])]


def paragraph_keys(paras: list[tuple[int, int, str]], unit: str | None,
                   grams: bool = True) -> tuple[list[tuple[int, int, int]], np.ndarray, bytes | None]:
    """(key, kind, para_id) rows of the compared paragraphs among ``paras`` ((para_id, para_no,
    body)), their signatures (``SIGS`` records) and, with ``grams``, their ``grams_blob``."""
    masks = sim.unit_masks(unit)
    norms, pids, nos, chars, sents = [], [], [], [], []
    for pid, no, body in paras:
        s, ss = sim.split_normalised(body, masks)
        if len(s) >= sim.MIN_CHARS:
            norms.append(s)
            pids.append(pid)
            nos.append(no)
            chars.append(len(body))
            sents.append({stable_hash(x) for x in ss if len(x) >= sim.SENT_MIN})
    recs = np.zeros(len(norms), dtype=SIGS)
    blob = None
    if grams:
        heads = np.zeros(len(norms), dtype=GRAMS)
        shingles = [sim._shingle_array(x) for x in norms]
        heads["pid"], heads["no"], heads["chars"] = pids, nos, chars
        heads["fp"] = [stable_hash(x) for x in norms]
        heads["nlen"] = [len(x) for x in norms]
        heads["n"] = [len(x) for x in shingles]
        blob = grams_blob(heads, shingles)
    if not norms:
        return [], recs, blob
    sig = sim.signatures(norms)
    recs["pid"], recs["sig"] = pids, sig
    keys = _i64(sim.band_keys(sig)).tolist()
    out = []
    for pid, ks, fs in zip(pids, keys, sents):
        out.extend((k, BAND, pid) for k in dict.fromkeys(ks))
        out.extend((f, SENT, pid) for f in sorted(fs))
    return out, recs, blob


def row_keys(rows: dict) -> dict:
    """What ``index_reports`` writes for one report's ``store.rows_of`` rows, computed where
    the report was analysed (a ``corpus add`` worker) instead of in the one writer: the unit
    name that was masked, the (key, kind, paragraph number in ``rows["paragraphs"]``) rows, the
    signatures (``SIGS``) and the ``grams_blob`` (the same numbers in ``pid``)."""
    unit = rows["report"].get("unit")
    paras = [(i, p["para_no"], p["body"]) for i, p in enumerate(rows["paragraphs"])]
    keys, recs, grams = paragraph_keys(paras, unit)
    return {"unit": unit or "", "n": len(paras), "keys": keys, "sigs": recs, "grams": grams}


def index_reports(conn: Connection, rids: Iterable[int], known: dict[int, dict] | None = None) -> int:
    """(Re-)index reports in ``conn``'s transaction; the number of key rows written.

    ``known``: report id -> ``row_keys`` of the rows just inserted for it; used when the
    stored unit name is still the one they were computed with (a correction applied at
    insert may have changed it), else the keys are computed here from the stored text."""
    rids = sorted(set(int(r) for r in rids))
    known = known or {}
    r, p, k = db.reports.c, db.paragraphs.c, db.copy_keys.c
    n = 0
    for c0 in range(0, len(rids), _CHUNK):
        chunk = rids[c0:c0 + _CHUNK]
        units = dict(conn.execute(select(r.id, r.unit).where(r.id.in_(bindparam("ids", expanding=True))),
                                  {"ids": chunk}).all())
        ready = {rid for rid in units if rid in known and known[rid]["unit"] == (units[rid] or "")}
        ids_of: dict[int, list] = {rid: [] for rid in ready}
        if ready:
            for pid, rid in conn.execute(
                    select(p.id, p.report_id).where(p.report_id.in_(bindparam("ids", expanding=True)))
                    .order_by(p.id), {"ids": sorted(ready)}):
                ids_of[rid].append(pid)
            ready = {rid for rid in ready if len(ids_of[rid]) == known[rid]["n"]}
        todo = [rid for rid in units if rid not in ready]
        paras: dict[int, list] = {rid: [] for rid in todo}
        if todo:
            for pid, rid, no, body in conn.execute(
                    select(p.id, p.report_id, p.para_no, p.body)
                    .where(p.report_id.in_(bindparam("ids", expanding=True))).order_by(p.id), {"ids": todo}):
                paras[rid].append((pid, no, body))
        conn.execute(delete(db.copy_keys).where(k.report_id.in_(bindparam("ids", expanding=True))), {"ids": chunk})
        conn.execute(delete(db.copy_reports).where(db.copy_reports.c.report_id.in_(
            bindparam("ids", expanding=True))), {"ids": chunk})
        rows, blobs = [], {}
        for rid, unit in units.items():
            if rid in ready:
                ids_l = ids_of[rid]    # paragraph number -> id: inserted in order, ids ascending
                keys = [(key, kind, ids_l[i]) for key, kind, i in known[rid]["keys"]]
                ids = np.asarray(ids_l, dtype=np.int64)
                recs = known[rid]["sigs"].copy()
                recs["pid"] = ids[recs["pid"]]
                heads, shingles = read_grams(known[rid]["grams"])
                heads = heads.copy()
                heads["pid"] = ids[heads["pid"]]
                grams = grams_blob(heads, shingles)
            else:
                keys, recs, grams = paragraph_keys(paras[rid], unit)
            rows.extend((key, kind, rid, pid) for key, kind, pid in keys)
            blobs[rid] = (recs.tobytes(), grams)
        db.insert_tuples(conn, db.copy_keys, rows)   # columns: key, kind, report_id, para_id
        conn.execute(sa_insert(db.copy_reports),
                     [{"report_id": rid, "unit": unit or "", "sigs": blobs[rid][0], "grams": blobs[rid][1]}
                      for rid, unit in units.items()])
        n += len(rows)
    return n


def index_report(conn: Connection, rid: int, known: dict | None = None) -> int:
    """The hook ``store.insert`` calls once a report's rows (and corrections) are written;
    ``known``: its ``row_keys``, when they came with the rows."""
    return index_reports(conn, [rid], {rid: known} if known else None)


def _stale(conn: Connection, limit: int | None = None, after: int = 0, among: list[int] | None = None) -> list[int]:
    """Reports (id > ``after``; of ``among`` when given) not indexed, indexed with another unit
    name than they carry now, or indexed without signatures or shingles (before migrations 0013,
    0014)."""
    r, c = db.reports.c, db.copy_reports.c
    q = (select(r.id).select_from(db.reports.outerjoin(db.copy_reports, c.report_id == r.id))
         .where(r.id > after, c.report_id.is_(None) | (c.unit != func.coalesce(r.unit, "")) | c.sigs.is_(None)
                | c.grams.is_(None))
         .order_by(r.id))
    if among is not None:
        out = []
        for c0 in range(0, len(among), _CHUNK):
            out.extend(x for (x,) in conn.execute(q.where(r.id.in_(bindparam("ids", expanding=True))),
                                                  {"ids": among[c0:c0 + _CHUNK]}))
        return out
    if limit:
        q = q.limit(limit)
    return [x for (x,) in conn.execute(q)]


BACKFILL_CACHE_KB = 262144   # SQLite page cache of the backfill's connection (the key index is written at random)


def build_index(engine: Engine, *, batch: int = 1000, progress=None) -> int:
    """Index every report not indexed yet (or whose unit name changed), ``batch`` reports per
    transaction, in id order — an interrupted run resumes where it stopped.  The number of
    reports indexed."""
    done, after = 0, 0
    while True:
        with engine.begin() as conn:
            if db.is_sqlite(engine):
                conn.exec_driver_sql(f"PRAGMA cache_size=-{int(BACKFILL_CACHE_KB)}")
            try:
                rids = _stale(conn, batch, after)
                if rids:
                    index_reports(conn, rids)
            finally:
                if db.is_sqlite(engine):
                    conn.exec_driver_sql("PRAGMA cache_size=-2000")   # the pooled connection: the default again
        if not rids:
            return done
        done += len(rids)
        after = rids[-1]
        if progress:
            progress(done)


_checked: dict[str, tuple[str, int]] = {}   # engine URL -> (change-log token, version) when last complete


def ensure_index(engine: Engine) -> int:
    """Index what is missing or stale before a lookup; the number of reports indexed.

    The first call in a process checks every report (``build_index`` when one is missing); later
    calls read the change log of migration 0010 (``corpus_version``, ``report_changes``, kept by
    triggers on every write to ``reports``) and check only the reports changed since."""
    key = str(engine.url)
    with engine.connect() as conn:
        last = _checked.get(key)
        tok, n, changed = db.changes(conn, last)
        if changed is None:
            stale, full = _stale(conn, 1), True
        elif n == last[1]:
            return 0
        else:
            stale, full = _stale(conn, among=changed), False
    done = 0
    if stale and full:
        done = build_index(engine)
    elif stale:
        with engine.begin() as conn:
            index_reports(conn, stale)
        done = len(stale)
    _checked[key] = (tok, n)
    return done


META_MAX = 1_000_000   # reports whose (unit, year, dates) a process keeps between lookups
_meta: dict[str, tuple[str, int, dict]] = {}   # engine URL -> (change-log token, version, rid -> meta)
_meta_lock = threading.Lock()


def _report_meta(conn: Connection, rids: list[int]) -> dict[int, tuple]:
    """report id -> (unit, year, published, signed) of the counted ones among ``rids``.

    Kept per process between lookups (a lookup reads the bases of tens of thousands of bucket
    members): the change log of migration 0010 (``corpus_version``, ``report_changes``) says
    which reports were written since, and only those are read again.  The version is read
    before the rows, so a write between the two is dropped again by the next call."""
    r = db.reports.c
    key = str(conn.engine.url)
    with _meta_lock:
        got = _meta.get(key)
        tok, n, changed = db.changes(conn, got[:2] if got else None)
        if changed is None or len(got[2]) > META_MAX:
            memo: dict[int, tuple | None] = {}
        else:
            memo = got[2]
            for x in changed:
                memo.pop(x, None)
        _meta[key] = (tok, n, memo)
        want = sorted({x for x in rids if x not in memo})
        q = select(r.id, r.unit, r.year, r.published, r.signed, r.is_current).where(
            r.id.in_(bindparam("ids", expanding=True)))
        for c0 in range(0, len(want), _CHUNK):
            for rid, unit, year, pub, signed, cur in _fetch(conn, q, {"ids": want[c0:c0 + _CHUNK]}):
                memo[rid] = (unit, year, pub, signed) if cur else None
        for x in want:
            memo.setdefault(x, None)     # deleted
        return {x: m for x in rids if (m := memo[x]) is not None}


def _infos(conn: Connection, rids: list[int]) -> dict[int, sim.ReportInfo]:
    return {rid: sim.ReportInfo(rid, unit, year, sim._unit_key(rid, unit), date=sim._date(pub, signed))
            for rid, (unit, year, pub, signed) in _report_meta(conn, rids).items()}   # masks: when used


def _fetch(conn: Connection, stmt, params: dict) -> list[tuple]:
    """All rows of ``stmt`` as the driver's tuples (SQLAlchemy's Row objects cost as much as the
    read itself on the tens of thousands of bucket rows a lookup reads)."""
    res = conn.execute(stmt, params)
    try:
        return res.cursor.fetchall() if res.cursor is not None else []
    finally:
        res.close()


def _members(conn: Connection, keys: list[int]) -> np.ndarray:
    """(key, kind, report_id, para_id) rows (int64, n × 4) of the paragraphs holding one of
    ``keys`` — an index-only read of ``ix_copy_keys_key``; the caller keeps the counted reports.
    (A join with ``reports`` here made SQLite scan the counted reports first: 1.4 s instead of
    0.09 s.)"""
    k = db.copy_keys.c
    q = select(k.key, k.kind, k.report_id, k.para_id).where(k.key.in_(bindparam("keys", expanding=True)))
    out = [np.zeros((0, 4), dtype=np.int64)]
    for c0 in range(0, len(keys), _CHUNK):   # to an array chunk by chunk: a row as a tuple takes ~150 B
        out.append(np.array(_fetch(conn, q, {"keys": keys[c0:c0 + _CHUNK]}), dtype=np.int64).reshape(-1, 4))
    return np.concatenate(out)


def _bases(conn: Connection, rids: list[int]) -> dict[int, tuple]:
    """report id -> (unit, year) of the counted ones among ``rids``."""
    return {rid: m[:2] for rid, m in _report_meta(conn, rids).items()}


def stored_sigs(engine: Engine, rids: list[int]) -> dict[int, np.ndarray]:
    """paragraph id -> stored signature (uint32, NUM_PERM) of the compared paragraphs of
    ``rids``; the reports indexed before migration 0013 have none."""
    c = db.copy_reports.c
    q = select(c.sigs).where(c.report_id.in_(bindparam("ids", expanding=True)), c.sigs.is_not(None))
    out: dict[int, np.ndarray] = {}
    with engine.connect() as conn:
        for c0 in range(0, len(rids), _CHUNK):
            for (blob,) in _fetch(conn, q, {"ids": rids[c0:c0 + _CHUNK]}):
                recs = np.frombuffer(blob, dtype=SIGS)
                out.update(zip(recs["pid"].tolist(), recs["sig"]))
    return out


def stored_grams(conn: Connection, rids: list[int], want: Iterable[int] | None = None) -> dict[int, tuple]:
    """paragraph id -> (fp, para_no, chars, nlen, shingles) of the compared paragraphs of
    ``rids`` (of those among ``want`` when given), from ``copy_reports.grams``; the reports
    indexed before migration 0014 have none, nor has one whose blob does not read back (their
    shingles are then made from the text)."""
    c = db.copy_reports.c
    q = select(c.grams).where(c.report_id.in_(bindparam("ids", expanding=True)), c.grams.is_not(None))
    wanted = None if want is None else set(want)
    out: dict[int, tuple] = {}
    for c0 in range(0, len(rids), _CHUNK):
        for (blob,) in _fetch(conn, q, {"ids": rids[c0:c0 + _CHUNK]}):
            try:
                heads, flat, starts = _grams_parts(blob)
            except ValueError:
                continue
            pids = heads["pid"].tolist()
            for k in range(len(pids)) if wanted is None else [k for k, x in enumerate(pids) if x in wanted]:
                h = heads[k]
                out[pids[k]] = (int(h["fp"]), int(h["no"]), int(h["chars"]), int(h["nlen"]),
                                flat[starts[k]:starts[k + 1]])
    return out


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every (x, y) for x in ``a``, y in ``b``."""
    return np.stack([np.repeat(a, len(b)), np.tile(b, len(a))], axis=1)


def _big_bucket_of(rows: np.ndarray, mine: np.ndarray, year: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """The pairs of ``similarity._big_bucket(rows, year, unit, REPS)`` that hold one of ``mine``
    (a subset of ``rows``), without making the others: of the earliest members' pairs those
    with one of mine; the own-unit pairs from the members of mine's units only (such a pair
    never leaves its unit, and a unit's groups and their last members are the same among its
    members alone).  O(members) instead of O(members × REPS)."""
    yr = year[rows]
    srt = np.lexsort((rows, yr))
    rows = rows[srt]
    head, rest = rows[:sim.REPS], rows[sim.REPS:]
    is_m = np.isin(rows, mine)
    mh, mr = head[is_m[:sim.REPS]], rest[is_m[sim.REPS:]]
    out = [_cross(mh, head), _cross(mr, head), _cross(rest, mh)]
    own = np.isin(unit[rows], unit[mine])
    if own.any():
        out.append(sim._big_bucket(rows[own], year, unit, 0))
    return np.concatenate(out)


def copies_of(engine: Engine, report_id: int, *, threshold: float = sim.THRESHOLD,
              containment: float = sim.CONTAINMENT, common_units: int = sim.COMMON_UNITS,
              ensure: bool = True) -> tuple[sim.Index, sim.ReportCopies] | None:
    """One counted report's copied paragraphs, sources and kinds — what ``similarity.analyse``
    reports for it — from the stored keys; None when the report is not counted.  The returned
    Index holds the report's compared paragraphs and their verified partners only (enough for
    ``similarity.summary`` and the sources' units and years)."""
    got = copies_of_many(engine, [report_id], threshold=threshold, containment=containment,
                         common_units=common_units, ensure=ensure)
    if got is None:
        return None
    index, res = got
    return index, res[report_id]


def copies_of_many(engine: Engine, report_ids: Iterable[int], *, threshold: float = sim.THRESHOLD,
                   containment: float = sim.CONTAINMENT, common_units: int = sim.COMMON_UNITS,
                   ensure: bool = True) -> tuple[sim.Index, dict[int, sim.ReportCopies]] | None:
    """``copies_of`` of several reports at once: what they share (bucket reads, the partners'
    signatures, each candidate pair) is done once.  The counted ones among ``report_ids`` get a
    result; None when none is counted.

    The buckets (the stored paragraphs sharing a band key or sentence fingerprint with one of
    the reports' paragraphs) are read whole, as arrays, and only the candidate pairs that hold
    one of their paragraphs are made — the same ones ``analyse`` makes and keeps for them."""
    if ensure:
        ensure_index(engine)
    p = db.paragraphs.c
    with engine.connect() as conn:
        infos = _infos(conn, sorted(set(int(x) for x in report_ids)))
        if not infos:
            return None
        targets = sorted(infos)
        own: dict[int, tuple] = {}           # paragraph id -> (para_no, body) of the targets
        paras: dict[int, list] = {rid: [] for rid in targets}
        q = select(p.id, p.report_id, p.para_no, p.body).where(p.report_id.in_(bindparam("ids", expanding=True)))
        for c0 in range(0, len(targets), _CHUNK):
            for pid, rid, no, body in sorted(_fetch(conn, q, {"ids": targets[c0:c0 + _CHUNK]})):
                own[pid] = (no, body)
                paras[rid].append((pid, no, body))
        key_rows = []
        for rid in targets:
            infos[rid].chars = sum(len(b) for _, _, b in paras[rid])
            key_rows.extend((key, kind, rid, pid)
                            for key, kind, pid in paragraph_keys(paras[rid], infos[rid].unit, grams=False)[0])
        kk = np.array(key_rows, dtype=np.int64).reshape(-1, 4)
        mine = np.unique(kk[:, 3])
        if not len(mine):
            empty = sim.Index(*(np.zeros(0, dt) for dt in (np.int64, np.int64, np.int32, np.int32)),
                              np.zeros((0, sim.NUM_PERM), np.uint32), dict(infos))
            return empty, {rid: sim.ReportCopies(rid, i.unit, i.year, i.chars) for rid, i in infos.items()}
        members = _members(conn, np.unique(kk[:, 0]).tolist())
        bases = _bases(conn, sorted(set(members[:, 2].tolist()) - set(targets)))
        bases.update((rid, (i.unit, i.year)) for rid, i in infos.items())
        # every (key, kind, report, paragraph) of a counted report, the targets' own added
        allm = np.concatenate((members, kk))
        allm = allm[np.isin(allm[:, 2], np.fromiter(bases, dtype=np.int64, count=len(bases)))]
        space, at = np.unique(allm[:, 3], return_inverse=True)     # the rows: paragraph ids in order
        rid_of = np.zeros(len(space), dtype=np.int64)
        rid_of[at] = allm[:, 2]
        rids, inv = np.unique(rid_of, return_inverse=True)
        ukey: dict[str, int] = {}
        year = np.array([-1 if bases[x][1] is None else bases[x][1] for x in rids.tolist()], dtype=np.int64)[inv]
        unit = np.array([ukey.setdefault(sim._unit_key(x, bases[x][0]), len(ukey)) for x in rids.tolist()],
                        dtype=np.int64)[inv]
        is_mine = np.isin(space, mine)
        # the buckets: the rows of each (key, kind), sorted, each row once
        order = np.lexsort((at, allm[:, 1], allm[:, 0]))
        bk, bd, br = allm[order, 0], allm[order, 1], at[order]
        keep = np.concatenate(([True], (bk[1:] != bk[:-1]) | (bd[1:] != bd[:-1]) | (br[1:] != br[:-1])))
        bk, bd, br = bk[keep], bd[keep], br[keep]
        starts = np.flatnonzero(np.concatenate(([True], (bk[1:] != bk[:-1]) | (bd[1:] != bd[:-1]))))
        ends = np.append(starts[1:], len(br))
        # the pairs as codes i * n + j (i < j), made unique whenever COMPACT have gathered: a
        # paragraph's 25 band buckets are mostly the same members (25 copies of each pair)
        n_sp = max(len(space), 1)
        found: list[np.ndarray] = [np.zeros(0, np.int64)]
        gathered = 0
        for s0, e0, kind in zip(starts.tolist(), ends.tolist(), bd[starts].tolist()):
            m = e0 - s0
            if m < 2 or (kind == SENT and m > sim.MAX_BUCKET):
                continue
            rows = br[s0:e0]
            mr = rows[is_mine[rows]]
            if m <= sim.MAX_BUCKET:
                got = _cross(mr, rows)      # all pairs of the bucket that hold one of mine
            else:
                got = _big_bucket_of(rows, mr, year, unit)
            got = got[(got[:, 0] != got[:, 1]) & (is_mine[got[:, 0]] | is_mine[got[:, 1]])]
            found.append(got.min(axis=1) * n_sp + got.max(axis=1))
            gathered += len(got)
            if gathered > COMPACT:
                found = [sim._sorted_unique(np.concatenate(found))]
                gathered = len(found[0])
        codes = sim._sorted_unique(np.concatenate(found))
        pairs = np.stack([codes // n_sp, codes % n_sp], axis=1)
        ok = (rid_of[pairs[:, 0]] != rid_of[pairs[:, 1]]) & ~((unit[pairs[:, 0]] == unit[pairs[:, 1]])
                                                              & (year[pairs[:, 0]] == year[pairs[:, 1]]))
        pairs = pairs[ok]
        # the local index: the targets' compared paragraphs and their candidates
        rows = np.union1d(np.flatnonzero(is_mine), pairs.ravel())
        pids = space[rows].tolist()
        mem_rid = dict(zip(pids, rid_of[rows].tolist()))
        used = set(mem_rid.values())
        infos.update(_infos(conn, sorted(used - set(targets))))
        for rid in used:
            infos[rid].masks = sim.unit_masks(infos[rid].unit)
        # per row: (fp, para_no, chars, nlen) and its shingles — the partners' stored (migration
        # 0014), the targets' and those of partners indexed before it made from the text
        grams = stored_grams(conn, sorted(used - set(targets)), pids)
        norms: dict[int, str] = {}          # local row -> normalised text, where made from the text
        rest = [x for x in pids if x not in own and x not in grams]
        for c0 in range(0, len(rest), _CHUNK):
            own.update((pid, (no, b)) for pid, no, b in conn.execute(
                select(p.id, p.para_no, p.body).where(p.id.in_(bindparam("ids", expanding=True))),
                {"ids": rest[c0:c0 + _CHUNK]}))
    heads = np.zeros(len(pids), dtype=[("fp", "<i8"), ("no", "<i4"), ("chars", "<i4"), ("nlen", "<i4")])
    stored: dict[int, np.ndarray] = {}      # local row -> stored shingles
    for k, pid in enumerate(pids):
        g = grams.get(pid)
        if g is None:
            no, body = own[pid]
            norms[k] = s = sim.split_normalised(body, infos[mem_rid[pid]].masks)[0]
            heads[k] = (stable_hash(s), no, len(body), len(s))
        else:
            heads[k] = g[:4]
            stored[k] = g[4]
    index = sim.Index(np.array(pids, dtype=np.int64), np.array([mem_rid[x] for x in pids], dtype=np.int64),
                      heads["no"].astype(np.int32), heads["chars"].astype(np.int32),
                      None, {rid: infos[rid] for rid in sorted(used | set(targets))},
                      heads["fp"].astype(np.int64), heads["nlen"].astype(np.int32))
    local = np.searchsorted(rows, pairs)      # space rows -> local index rows (both sorted)

    def norm_of(k: int) -> str:
        """The normalised text of local row ``k`` (read when only its shingles were stored)."""
        if k not in norms:
            body = sim._bodies(engine, [pids[k]]).get(pids[k], "")
            norms[k] = sim.split_normalised(body, infos[mem_rid[pids[k]]].masks)[0]
        return norms[k]

    def sigs_of(rows: list[int]) -> np.ndarray:
        """The signatures of index rows ``rows``: stored, or made from the text when not."""
        got = stored_sigs(engine, sorted(set(index.report_id[rows].tolist())))
        out = np.empty((len(rows), sim.NUM_PERM), dtype=np.uint32)
        missing = []
        for k, pid in enumerate(index.para_id[rows].tolist()):
            s = got.get(pid)
            if s is None:
                missing.append(k)
            else:
                out[k] = s
        if missing:
            out[missing] = sim.signatures([norm_of(rows[k]) for k in missing])
        return out
    verified = sim.verify_candidates(engine, index, local, threshold=threshold, containment=containment,
                                     norms=norm_of, sigs_of=sigs_of, shingles=stored)
    res = sim.attribute(index, verified, threshold=threshold, common_units=common_units)
    return index, {rid: res[rid] for rid in targets}
