"""Near-duplicate paragraphs across the whole corpus: who copied from another
unit, who reused its own previous year.

Method (no pairwise comparison of the corpus):

1. **Shingles.**  A paragraph is normalised (NFKC; everything that is not a
   letter or a digit — whitespace, punctuation, symbols — removed; the
   report's own unit name removed; each run of digits made one ``0``, so that
   a paragraph copied with the name swapped and the numbers updated still
   matches) and cut into character 5-grams.  Each 5-gram gets a 32-bit hash computed with numpy
   (polynomial over the code points, then the splitmix64 finaliser).  Only
   paragraphs of at least ``MIN_CHARS`` normalised characters count: headings,
   signatures and one-line boilerplate are left out.
2. **MinHash.**  128 hash functions ``h_i(x) = ((a_i·x + b_i) mod 2^64) >> 32``
   (multiply-add-shift, a 2-universal family for 32-bit keys; ``a_i`` odd,
   fixed seed) — the signature is the minimum of each over the paragraph's
   shingles, a ``uint32[128]`` row.  Signatures are built in batches while the
   paragraphs stream from the database; memory is ``paragraphs × 512 bytes``
   (0.5 GB for a million paragraphs).
3. **LSH banding.**  ``BANDS = 25`` bands of ``ROWS = 5`` rows: two paragraphs
   become a candidate pair when one band agrees.  The S-curve
   ``1 − (1 − J^5)^25`` puts its midpoint at J ≈ 0.53 so that pairs at the
   verification threshold are found: P(candidate) = 0.990 at J = 0.7, 0.9996 at
   J = 0.8, while an unrelated pair of the genre (J ≈ 0.05) becomes a candidate
   with probability 8·10⁻⁶.  A bucket holding more than ``MAX_BUCKET``
   paragraphs (a text printed in hundreds of reports) is not expanded into all
   its pairs: each member is paired with the ``REPS`` earliest members (the
   likely sources) and with its own unit's other years, so the candidates stay
   proportional to the paragraphs.
4. **Verification.**  Candidates whose signatures agree on fewer than
   ``threshold − SIG_MARGIN`` of the 128 rows are dropped (the estimate's
   standard deviation is ≤ 0.045); the rest are verified with the exact
   shingle Jaccard ≥ ``THRESHOLD`` (0.7) on the paragraph text read back from
   the database.

Attribution.  Unit identity is ``fazhi.evaluate.norm_unit`` of the report's
unit (a report without a unit is its own unit).  A verified pair between two
units counts as *copied from another unit* for the report of the same or the
later year (a later report cannot be the source of an earlier one; in the same
year both are flagged, since the order is unknown).  A pair between two years
of the same unit counts as *reused from its own previous year* for the later
report.  Two reports of the same unit and year (the same report uploaded
twice) are not compared.  Shares are characters of the copied paragraphs over
the characters of all the report's paragraphs.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ..evaluate import norm_unit
from . import db

SHINGLE = 5
NUM_PERM = 128
BANDS = 25
ROWS = 5                 # BANDS * ROWS <= NUM_PERM
MIN_CHARS = 40           # normalised characters; shorter paragraphs are not compared
THRESHOLD = 0.7          # exact shingle Jaccard for a near-duplicate
SIG_MARGIN = 0.15        # signature pre-filter: estimated J >= THRESHOLD - SIG_MARGIN
MAX_BUCKET = 200         # a band bucket larger than this is not expanded into all its pairs
REPS = 20                # ... but each member is paired with its 20 earliest members
SEED = 20240601
_CHUNK = 32768           # shingles per MinHash block (32768 x 128 x 8 bytes = 32 MB)

_P = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_KEEP = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")


def _perms(n: int = NUM_PERM, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)   # odd
    b = rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2)
    return a, b


_A, _B = _perms()


def _keep(s: str) -> str:
    return "".join(_KEEP.findall(unicodedata.normalize("NFKC", s)))


def normalise(s: str, masks: tuple[str, ...] = ()) -> str:
    """The text shingles are taken from: NFKC, letters and digits only (whitespace,
    punctuation, symbols removed), the report's own unit name removed (``masks``,
    longest first) and every run of digits made one ``0`` — a paragraph copied
    with the unit name swapped and the numbers updated is still a copy."""
    t = _keep(s)
    for m in masks:
        if m:
            t = t.replace(m, "")
    return _DIGITS.sub("0", t)


def unit_masks(unit: str | None) -> tuple[str, ...]:
    """The strings removed from a report's paragraphs: its unit name and its normalised stem."""
    if not unit:
        return ()
    cands = {_keep(unit), _keep(norm_unit(unit) or "")}
    return tuple(sorted((c for c in cands if len(c) >= 2), key=len, reverse=True))


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX2
    return h ^ (h >> np.uint64(33))


def _gram_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """32-bit hashes of every k-gram of a code-point array (uint32)."""
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32)
    c = codes.astype(np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(k):
            h = h * _P + c[i:i + n]
        h = _mix(h)
    return (h >> np.uint64(32)).astype(np.uint32)


def _codes(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-32-le"), dtype="<u4")


def shingles(text: str, k: int = SHINGLE, *, normalised: bool = False,
             masks: tuple[str, ...] = ()) -> set[int]:
    """The set of hashed character k-grams of ``text`` (normalised first unless told)."""
    s = text if normalised else normalise(text, masks)
    if len(s) < k:  # a text shorter than one shingle is its own single shingle
        return set(_gram_hashes(_codes(s), len(s)).tolist()) if s else set()
    return set(_gram_hashes(_codes(s), k).tolist())


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def similarity(x: str, y: str, k: int = SHINGLE) -> float:
    """Exact shingle Jaccard of two texts."""
    return jaccard(shingles(x, k), shingles(y, k))


def signatures(norm_texts: list[str], k: int = SHINGLE) -> np.ndarray:
    """MinHash signatures (uint32, len × NUM_PERM) of normalised texts, each ≥ k chars."""
    out = np.empty((len(norm_texts), NUM_PERM), dtype=np.uint32)
    if not norm_texts:
        return out
    grams = [_gram_hashes(_codes(s), k) for s in norm_texts]
    i = 0
    while i < len(grams):
        # a block of paragraphs holding at most _CHUNK shingles (at least one paragraph)
        j, tot = i, 0
        while j < len(grams) and (j == i or tot + len(grams[j]) <= _CHUNK):
            tot += len(grams[j])
            j += 1
        if j == i + 1 and tot > _CHUNK:  # one very long paragraph: fold in slices
            g = grams[i].astype(np.uint64)
            sig = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
            for s0 in range(0, len(g), _CHUNK):
                with np.errstate(over="ignore"):
                    h = ((g[s0:s0 + _CHUNK, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)).astype(np.uint32)
                np.minimum(sig, h.min(axis=0), out=sig)
            out[i] = sig
        else:
            block = grams[i:j]
            g = np.concatenate(block).astype(np.uint64)
            starts = np.cumsum([0] + [len(x) for x in block[:-1]])
            with np.errstate(over="ignore"):
                h = ((g[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)).astype(np.uint32)
            out[i:j] = np.minimum.reduceat(h, starts, axis=0)
        i = j
    return out


def band_keys(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """uint64 key per (paragraph, band): a hash of the band's ``rows`` values."""
    n = sig.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            h = np.full(n, np.uint64(b) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
            for r in range(rows):
                h = _mix(h ^ sig[:, b * rows + r].astype(np.uint64))
            keys[:, b] = h
    return keys


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2's hash-based unique is far slower on millions of int64)."""
    if len(x) < 2:
        return x
    x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))]


def _big_bucket(members: np.ndarray, year: np.ndarray | None, unit: np.ndarray | None,
                reps: int) -> np.ndarray:
    """Pairs for a bucket too large for all pairs (text shared by hundreds of reports):
    every member with the ``reps`` earliest members (the likely sources), all pairs among
    those, and each member with the previous-year members of its own unit."""
    yr = year[members] if year is not None else np.zeros(len(members), dtype=np.int64)
    srt = np.lexsort((members, yr))
    members, yr = members[srt], yr[srt]
    head = members[:reps]
    iu, ju = np.triu_indices(len(head), 1)
    out = [np.stack([head[iu], head[ju]], axis=1)]
    rest = members[reps:]
    if len(rest):
        out.append(np.stack([np.repeat(rest, len(head)), np.tile(head, len(rest))], axis=1))
    if unit is not None:
        u = unit[members]
        by = np.lexsort((yr, u))            # members grouped by unit, by year within
        mu, my, uu = members[by], yr[by], u[by]
        new = np.concatenate(([True], (uu[1:] != uu[:-1]) | (my[1:] != my[:-1])))
        gid = np.cumsum(new) - 1            # (unit, year) group of each member
        last = np.append(np.flatnonzero(new)[1:], len(mu)) - 1   # last member of each group
        prev = gid - 1
        ok = prev >= 0
        ok[ok] = uu[last[prev[ok]]] == uu[ok]   # the previous group is the same unit's earlier year
        out.append(np.stack([mu[ok], mu[last[prev[ok]]]], axis=1))
    return np.concatenate(out)


def lsh_pairs(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS, max_bucket: int = MAX_BUCKET, *,
              year: np.ndarray | None = None, unit: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs (i < j, int64 array of shape (m, 2)) sharing at least one band.

    A bucket of more than ``max_bucket`` paragraphs (a text printed in hundreds of
    reports) is not expanded into all its pairs: each member is paired with the
    ``REPS`` earliest members (by ``year``) and with its own unit's other years
    (``unit``), so memory stays proportional to the paragraphs."""
    n = sig.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = band_keys(sig, bands, rows)
    codes = np.zeros(0, dtype=np.int64)
    for b in range(bands):
        col = keys[:, b]
        order = np.argsort(col, kind="stable")
        sk = col[order]
        brk = np.flatnonzero(sk[1:] != sk[:-1]) + 1
        starts = np.concatenate(([0], brk))
        sizes = np.diff(np.concatenate((starts, [n])))
        found: list[np.ndarray] = []
        two = starts[sizes == 2]
        if len(two):
            found.append(np.stack([order[two], order[two + 1]], axis=1))
        for s, m in zip(starts[sizes > 2], sizes[sizes > 2]):
            members = order[s:s + m]
            if m <= max_bucket:
                iu, ju = np.triu_indices(m, 1)
                found.append(np.stack([members[iu], members[ju]], axis=1))
            else:
                found.append(_big_bucket(members, year, unit, REPS))
        if found:
            p = np.concatenate(found).astype(np.int64)
            p = p[p[:, 0] != p[:, 1]]
            p.sort(axis=1)
            codes = _sorted_unique(np.concatenate((codes, p[:, 0] * n + p[:, 1])))
    return np.stack([codes // n, codes % n], axis=1)


# ------------------------------------------------------------------ the corpus index
@dataclass
class ReportInfo:
    id: int
    unit: str | None
    year: int | None
    unit_key: str
    chars: int = 0  # characters of all its paragraphs
    masks: tuple[str, ...] = ()


@dataclass
class Index:
    """The compared paragraphs of the corpus and their signatures (row = paragraph)."""
    para_id: np.ndarray      # int64, paragraphs.id
    report_id: np.ndarray    # int64
    para_no: np.ndarray      # int32
    length: np.ndarray       # int32, characters of the body
    sig: np.ndarray          # uint32 (n, NUM_PERM)
    reports: dict[int, ReportInfo]
    fp: np.ndarray | None = None   # int64 hash of the normalised text: equal -> Jaccard exactly 1

    def __len__(self) -> int:
        return len(self.para_id)


def _unit_key(rid: int, unit: str | None) -> str:
    k = norm_unit(unit) if unit else None
    return k or f"#{rid}"


def report_infos(engine: Engine) -> dict[int, ReportInfo]:
    r = db.reports.c
    with engine.connect() as conn:
        return {row.id: ReportInfo(row.id, row.unit, row.year, _unit_key(row.id, row.unit),
                                   masks=unit_masks(row.unit))
                for row in conn.execute(select(r.id, r.unit, r.year).where(db.counted()))}


def _stream_paragraphs(engine: Engine, batch: int) -> Iterator[list]:
    p = db.paragraphs.c
    q = select(p.id, p.report_id, p.para_no, p.body).order_by(p.id)
    with engine.connect() as conn:
        res = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
        yield from res.partitions(batch)


def build_index(engine: Engine, *, batch: int = 5000, min_chars: int = MIN_CHARS) -> Index:
    """Signatures of every paragraph of ≥ ``min_chars`` normalised characters, streamed in batches."""
    reports = report_infos(engine)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(db.paragraphs)
                             .join(db.reports, db.reports.c.id == db.paragraphs.c.report_id)
                             .where(db.counted())).scalar_one()
    sig = np.empty((total, NUM_PERM), dtype=np.uint32)
    pid = np.empty(total, dtype=np.int64)
    rid = np.empty(total, dtype=np.int64)
    pno = np.empty(total, dtype=np.int32)
    ln = np.empty(total, dtype=np.int32)
    fp = np.empty(total, dtype=np.int64)
    n = 0
    for rows in _stream_paragraphs(engine, batch):
        keep_norm, keep_rows = [], []
        for row in rows:
            info = reports.get(row.report_id)
            if info is None:
                continue
            info.chars += len(row.body)
            s = normalise(row.body, info.masks)
            if len(s) >= min_chars:
                keep_norm.append(s)
                keep_rows.append(row)
        if not keep_rows or n + len(keep_rows) > total:  # rows added while we read: ignore the excess
            keep_rows = keep_rows[:max(0, total - n)]
            keep_norm = keep_norm[:len(keep_rows)]
            if not keep_rows:
                continue
        m = len(keep_rows)
        sig[n:n + m] = signatures(keep_norm)
        pid[n:n + m] = [r.id for r in keep_rows]
        rid[n:n + m] = [r.report_id for r in keep_rows]
        pno[n:n + m] = [r.para_no for r in keep_rows]
        ln[n:n + m] = [len(r.body) for r in keep_rows]
        fp[n:n + m] = [hash(x) for x in keep_norm]
        n += m
    return Index(pid[:n], rid[:n], pno[:n], ln[:n], sig[:n], reports, fp[:n])


def _row_year_unit(index: Index) -> tuple[np.ndarray, np.ndarray]:
    """Year (-1 unknown) and a unit number per index row."""
    rids = np.array(sorted(index.reports), dtype=np.int64)
    keys: dict[str, int] = {}
    ukey = np.array([keys.setdefault(index.reports[int(r)].unit_key, len(keys)) for r in rids], dtype=np.int64)
    yr = np.array([index.reports[int(r)].year if index.reports[int(r)].year is not None else -1 for r in rids],
                  dtype=np.int64)
    pos = np.searchsorted(rids, index.report_id)
    return yr[pos], ukey[pos]


def _comparable(index: Index, pairs: np.ndarray) -> np.ndarray:
    """Drop pairs inside one report and pairs of the same unit and year."""
    if not len(pairs):
        return pairs
    year, unit = _row_year_unit(index)
    i, j = pairs[:, 0], pairs[:, 1]
    ok = (index.report_id[i] != index.report_id[j]) & ~((unit[i] == unit[j]) & (year[i] == year[j]))
    return pairs[ok]


def _bodies(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(int(i) for i in ids))
    out: dict[int, str] = {}
    p = db.paragraphs.c
    with engine.connect() as conn:
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            out.update(conn.execute(select(p.id, p.body).where(p.id.in_(chunk))).all())
    return out


def _shingles_of(index: Index, row: int, bodies: dict[int, str]) -> set[int]:
    info = index.reports[int(index.report_id[row])]
    return shingles(bodies.get(int(index.para_id[row]), ""), masks=info.masks)


@dataclass
class Pair:
    i: int           # index rows
    j: int
    jaccard: float


def verified_pairs(engine: Engine, index: Index, *, threshold: float = THRESHOLD,
                   block: int = 50000, cache_max: int = 200000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Near-duplicate pairs of the corpus as arrays (rows i, rows j, Jaccard): LSH
    candidates, then the exact shingle Jaccard ≥ ``threshold``.

    Pairs whose normalised texts are identical have Jaccard 1 without computing it;
    shingle sets are cached by normalised text (at most ``cache_max`` of them)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    year, unit = _row_year_unit(index)
    cand = _comparable(index, lsh_pairs(index.sig, year=year, unit=unit))
    if not len(cand):
        return empty
    est = np.empty(len(cand))
    for k in range(0, len(cand), 100000):
        c = cand[k:k + 100000]
        est[k:k + 100000] = (index.sig[c[:, 0]] == index.sig[c[:, 1]]).mean(axis=1)
    cand = cand[est >= threshold - SIG_MARGIN]
    fp = index.fp if index.fp is not None else np.arange(len(index), dtype=np.int64)
    same = fp[cand[:, 0]] == fp[cand[:, 1]]
    ident = cand[same]
    cand = cand[~same]
    cache: dict[int, set[int]] = {}
    keep_i: list[int] = []
    keep_j: list[int] = []
    keep_jac: list[float] = []
    for k in range(0, len(cand), block):
        c = cand[k:k + block]
        rows = [int(r) for r in _sorted_unique(c.ravel()) if int(fp[r]) not in cache]
        if len(cache) + len(rows) > cache_max:
            cache.clear()
            rows = [int(r) for r in _sorted_unique(c.ravel())]
        bodies = _bodies(engine, index.para_id[rows].tolist())
        for r in rows:
            cache[int(fp[r])] = _shingles_of(index, r, bodies)
        for i, j in c.tolist():
            jac = jaccard(cache[int(fp[i])], cache[int(fp[j])])
            if jac >= threshold:
                keep_i.append(i)
                keep_j.append(j)
                keep_jac.append(jac)
    return (np.concatenate((ident[:, 0], np.array(keep_i, dtype=np.int64))),
            np.concatenate((ident[:, 1], np.array(keep_j, dtype=np.int64))),
            np.concatenate((np.ones(len(ident)), np.array(keep_jac, dtype=float))))


def near_duplicates(engine: Engine, index: Index, *, threshold: float = THRESHOLD) -> list[Pair]:
    """``verified_pairs`` as a list of ``Pair`` (convenient on small corpora)."""
    i, j, jac = verified_pairs(engine, index, threshold=threshold)
    return [Pair(a, b, c) for a, b, c in zip(i.tolist(), j.tolist(), jac.tolist())]


def exact_pairs(engine: Engine, index: Index, *, threshold: float = THRESHOLD) -> list[Pair]:
    """All-pairs exact Jaccard (for checking the LSH on small corpora only: O(n²))."""
    bodies = _bodies(engine, index.para_id.tolist())
    sets = [_shingles_of(index, r, bodies) for r in range(len(index))]
    n = len(sets)
    allp = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64).reshape(-1, 2)
    out = []
    for i, j in _comparable(index, allp).tolist():
        jac = jaccard(sets[i], sets[j])
        if jac >= threshold:
            out.append(Pair(i, j, jac))
    return out


# ------------------------------------------------------------------ per-report result
@dataclass
class Copied:
    """One paragraph of a report and its best source for one kind of copying."""
    kind: str              # "other" (another unit) | "own" (own previous year)
    para_id: int
    para_no: int
    chars: int
    source_report: int
    source_para_id: int
    source_para_no: int
    jaccard: float


@dataclass
class ReportCopies:
    report_id: int
    unit: str | None
    year: int | None
    chars: int
    other_chars: int = 0
    own_chars: int = 0
    copied_chars: int = 0          # union of both kinds
    sources: dict[int, int] = field(default_factory=dict)   # source report -> chars
    paragraphs: list[Copied] = field(default_factory=list)

    @property
    def other_share(self) -> float:
        return self.other_chars / self.chars if self.chars else 0.0

    @property
    def own_share(self) -> float:
        return self.own_chars / self.chars if self.chars else 0.0

    @property
    def share(self) -> float:
        return self.copied_chars / self.chars if self.chars else 0.0

    @property
    def main_source(self) -> int | None:
        return max(self.sources, key=lambda r: (self.sources[r], -r)) if self.sources else None


def attribute(index: Index, pairs) -> dict[int, ReportCopies]:
    """Per report: the best source of each of its copied paragraphs, and the shares.

    ``pairs``: the arrays of ``verified_pairs`` or a list of ``Pair``."""
    if isinstance(pairs, tuple):
        I, J, JAC = pairs
    else:
        I = np.array([p.i for p in pairs], dtype=np.int64)
        J = np.array([p.j for p in pairs], dtype=np.int64)
        JAC = np.array([p.jaccard for p in pairs], dtype=float)
    year, unit = _row_year_unit(index)
    yi, yj = year[I], year[J]
    known = (yi >= 0) & (yj >= 0)
    other = unit[I] != unit[J]
    # a later report is never the source of an earlier one; the same year (or unknown): both ways
    o_ij = other & (~known | (yi >= yj))          # i copied from j
    o_ji = other & (~known | (yj >= yi))          # j copied from i
    own = ~other & known & (yi != yj)
    own_ij = own & (yi > yj)
    own_ji = own & (yj > yi)
    row = np.concatenate((I[o_ij], J[o_ji], I[own_ij], J[own_ji]))
    src = np.concatenate((J[o_ij], I[o_ji], J[own_ij], I[own_ji]))
    jac = np.concatenate((JAC[o_ij], JAC[o_ji], JAC[own_ij], JAC[own_ji]))
    kind = np.concatenate((np.zeros(int(o_ij.sum() + o_ji.sum()), np.int8),
                           np.ones(int(own_ij.sum() + own_ji.sum()), np.int8)))   # 0 other, 1 own

    out = {rid: ReportCopies(rid, info.unit, info.year, info.chars) for rid, info in index.reports.items()}
    if not len(row):
        return out
    # per (row, kind): the best source — highest Jaccard, then the earliest year, then the first row
    order = np.lexsort((src, year[src], -jac, kind, row))
    row, src, jac, kind = row[order], src[order], jac[order], kind[order]
    first = np.concatenate(([True], (row[1:] != row[:-1]) | (kind[1:] != kind[:-1])))
    row, src, jac, kind = row[first], src[first], jac[first], kind[first]
    names = ("other", "own")
    for r, s_, jc, kd in zip(row.tolist(), src.tolist(), jac.tolist(), kind.tolist()):
        rc = out[int(index.report_id[r])]
        ch = int(index.length[r])
        rc.paragraphs.append(Copied(names[kd], int(index.para_id[r]), int(index.para_no[r]), ch,
                                    int(index.report_id[s_]), int(index.para_id[s_]),
                                    int(index.para_no[s_]), float(jc)))
        if kd == 0:
            rc.other_chars += ch
        else:
            rc.own_chars += ch
    # each copied paragraph counts once in the union, for its best source over both kinds
    order = np.lexsort((src, year[src], -jac, row))
    row, src = row[order], src[order]
    first = np.concatenate(([True], row[1:] != row[:-1]))
    for r, s_ in zip(row[first].tolist(), src[first].tolist()):
        rc = out[int(index.report_id[r])]
        ch = int(index.length[r])
        rc.copied_chars += ch
        srid = int(index.report_id[s_])
        rc.sources[srid] = rc.sources.get(srid, 0) + ch
    for rc in out.values():
        rc.paragraphs.sort(key=lambda c: (c.para_no, c.kind))
    return out


def analyse(engine: Engine, *, threshold: float = THRESHOLD, batch: int = 5000) -> tuple[Index, dict[int, ReportCopies]]:
    """The whole corpus: index, near-duplicate pairs, per-report shares and sources."""
    index = build_index(engine, batch=batch)
    return index, attribute(index, verified_pairs(engine, index, threshold=threshold))


def paragraph_bodies(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    """Bodies of paragraphs by id (for showing a report's copied paragraphs beside their sources)."""
    return _bodies(engine, ids)
