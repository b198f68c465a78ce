"""Near-duplicate paragraphs across the whole corpus, and who copied from whom:
another unit's earlier report, the unit's own earlier years, a same-year pair
whose order is unknown, or a text printed by many units.

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
3. **Candidates, paragraph level: LSH banding.**  ``BANDS = 25`` bands of
   ``ROWS = 5`` rows: two paragraphs become a candidate pair when one band
   agrees.  The S-curve ``1 − (1 − J^5)^25`` puts its midpoint at J ≈ 0.53 so
   that pairs at the verification threshold are found: P(candidate) = 0.990 at
   J = 0.7, 0.9996 at J = 0.8, while an unrelated pair of the genre (J ≈ 0.05)
   becomes a candidate with probability 8·10⁻⁶.  A bucket holding more than
   ``MAX_BUCKET`` paragraphs (a text printed in hundreds of reports) is not
   expanded into all its pairs: each member is paired with the ``REPS``
   earliest members (the likely sources) and with its own unit's other years,
   so the candidates stay proportional to the paragraphs.
4. **Candidates, sentence level.**  Banding finds pairs by *Jaccard*; a
   paragraph copied whole into a paragraph twice as long has Jaccard ≈ 0.5
   (P(candidate) = 0.55) and one copied into a paragraph three times as long
   ≈ 0.33 (P = 0.09), so banding alone misses them.  Each paragraph's
   sentences (split at 。！？；) of at least ``SENT_MIN`` normalised characters
   are fingerprinted too; two paragraphs sharing a sentence verbatim (after
   the same normalisation) are a candidate.  A sentence printed in more than
   ``MAX_BUCKET`` paragraphs is a stock phrase and pairs nothing (a whole
   paragraph printed that widely is still found by step 3).
5. **Verification.**  Candidates whose MinHash estimates fall below both
   ``THRESHOLD − SIG_MARGIN`` (Jaccard) and ``CONTAINMENT − SIG_MARGIN``
   (containment, estimated from the Jaccard and the two shingle counts) are
   dropped; the rest are verified exactly on the paragraph text read back from
   the database: a pair is a near-duplicate when the shingle **Jaccard**
   ``|A∩B| / |A∪B|`` ≥ ``THRESHOLD`` (0.7) **or** the **containment**
   ``|A∩B| / min(|A|, |B|)`` ≥ ``CONTAINMENT`` (0.8) — the smaller paragraph
   (itself ≥ ``MIN_CHARS``) is, to 80 % of its 5-grams, inside the larger one.
   Containment is what catches half a paragraph copied into a longer one;
   Jaccard alone needs the two to be of about the same length.

Attribution, one kind per paragraph, in this order:

* **通用表述 (common)** — the paragraph matches paragraphs of at least
  ``COMMON_UNITS`` distinct units (itself included): a quotation of the
  纲要, of a provincial notice, a stock formula.  Not counted as copying;
  reported apart.  The price: a model text copied by that many units is
  reported as common too (raise ``--common-units`` to look for it).
* **沿用本单位往年表述 (own)** — the same unit (``fazhi.evaluate.norm_unit``
  of the unit names; a report without a unit is its own unit) in an earlier
  year.  A paragraph that matches its own earlier year is this and nothing
  else, even when another unit printed it too.
* **抄自他单位 (other)** — another unit's report that came *earlier*: by the
  published date (else the signed date) when both reports carry one and they
  differ, else by the year when both are known and differ.  The earlier
  report is the source and is never marked.
* **相互雷同（先后待核） (mutual)** — another unit's report whose order the
  dates and years do not settle (the same year with no dates, or equal
  dates): both reports carry the pair as mutual, neither as copied.

Two reports of the same unit and year (the same report uploaded twice) are
not compared.  Characters: a paragraph matched at Jaccard ≥ ``THRESHOLD``
counts whole; one matched only by containment counts its covered fraction
(``|A∩B| / |A|`` of its length), so the longer paragraph of a half copy counts
the copied half.  Shares are those characters over the characters of all the
report's paragraphs.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, NamedTuple

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
CONTAINMENT = 0.8        # ... or |A∩B| / min(|A|, |B|): the smaller paragraph is inside the larger one
SENT_MIN = 20            # normalised characters of a sentence fingerprinted for the sentence-level candidates
COMMON_UNITS = 6         # a paragraph matched in this many distinct units is a common text (通用表述)
SIG_MARGIN = 0.15        # signature pre-filter: estimated J >= THRESHOLD - SIG_MARGIN (or containment)
MAX_BUCKET = 200         # a band bucket larger than this is not expanded into all its pairs
REPS = 20                # ... but each member is paired with its 20 earliest members
SEED = 20240601
_CHUNK = 512             # shingles per MinHash slice (512 x 128 x 8 bytes = 512 KB, in cache)

KINDS = ("common", "own", "other", "mutual")      # attribution order: the first that applies
KIND_LABELS = {"other": "抄自他单位", "own": "沿用本单位往年表述",
               "mutual": "相互雷同（先后待核）", "common": "通用表述"}

_P = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_KEEP = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_SENT_END_N = re.compile(r"[。！？；!?;｡]")   # sentence ends, after NFKC
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


@functools.lru_cache(maxsize=1 << 16)
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


def _rolling(codes: np.ndarray, k: int, n: int) -> np.ndarray:
    """The mixed 64-bit hashes of the first ``n`` k-grams of a code-point array."""
    c = codes.astype(np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(k):
            h = h * _P + c[i:i + n]
        return _mix(h)


def _gram_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """32-bit hashes of every k-gram of a code-point array (uint32)."""
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32)
    return (_rolling(codes, k, n) >> np.uint64(32)).astype(np.uint32)


def _all_gram_hashes(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """``_gram_hashes`` of every text, concatenated, and the number of each text's: one pass
    over all texts' code points (a k-gram's hash depends on its k code points only; the
    k - 1 grams that would cross into the next text are dropped)."""
    n = len(texts)
    lens = np.fromiter((max(len(t) - k + 1, 0) for t in texts), dtype=np.int64, count=n)
    codes = _codes("".join(texts))
    tl = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    total = len(codes) - k + 1
    if total <= 0 or not lens.sum():
        return np.zeros(0, dtype=np.uint32), lens
    h = _rolling(codes, k, total)
    starts = np.cumsum(tl) - tl
    valid = np.repeat(starts, lens) + (np.arange(int(lens.sum()), dtype=np.int64)
                                       - np.repeat(np.cumsum(lens) - lens, lens))
    return (h[valid] >> np.uint64(32)).astype(np.uint32), lens


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
    """MinHash signatures (uint32, len × NUM_PERM) of normalised texts, each ≥ k chars.

    The shingles of all texts are hashed in slices of ``_CHUNK`` (a 512 KB buffer, written in
    place: the cache holds it) and each text keeps the running minimum of its slices' rows —
    the same values as hashing each text whole, 3× faster than whole-block temporaries; a text
    given several times is hashed once.  A text without a shingle gets 0xFFFFFFFF everywhere."""
    n = len(norm_texts)
    if not n:
        return np.empty((0, NUM_PERM), dtype=np.uint32)
    first: dict[str, int] = {}
    which = np.fromiter((first.setdefault(t, len(first)) for t in norm_texts), dtype=np.int64, count=n)
    if len(first) < n:     # a text printed many times (通用表述): hashed once
        return signatures(list(first), k)[which]
    flat, lens = _all_gram_hashes(norm_texts, k)
    flat = flat.astype(np.uint64)
    text_of = np.repeat(np.arange(n, dtype=np.int64), lens)
    res = np.full((n, NUM_PERM), np.iinfo(np.uint64).max, dtype=np.uint64)
    buf = np.empty((_CHUNK, NUM_PERM), dtype=np.uint64)
    a, b, shift = _A[None, :], _B[None, :], np.uint64(32)
    for s0 in range(0, len(flat), _CHUNK):
        g = flat[s0:s0 + _CHUNK]
        h = buf[:len(g)]
        with np.errstate(over="ignore"):
            np.multiply(g[:, None], a, out=h)
            np.add(h, b, out=h)
        np.right_shift(h, shift, out=h)
        t = text_of[s0:s0 + len(g)]
        first = np.flatnonzero(np.concatenate(([True], t[1:] != t[:-1])))
        mins = np.minimum.reduceat(h, first, axis=0)
        rows = t[first]
        np.minimum(res[rows], mins, out=mins)     # a text split over two slices: the min of both
        res[rows] = mins
    return res.astype(np.uint32)


_KEY_ROWS = 1 << 15      # signature rows hashed into band keys at a time
_BAND_SEED = np.uint64(0x9E3779B97F4A7C15)   # band b's hash starts at b x this (the golden ratio)
_FLUSH = 1 << 20         # candidate codes gathered before they are merged into the union


def band_keys(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """uint64 key per (paragraph, band): a hash of the band's ``rows`` values.

    All bands at once (``rows`` passes over an n x bands array): the per-band loop cost
    ~125 small numpy calls per report, most of a stored report's indexing time."""
    n = sig.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    seed = np.arange(bands, dtype=np.uint64) * _BAND_SEED
    with np.errstate(over="ignore"):
        for a in range(0, n, _KEY_ROWS):    # a block of rows at a time: the hashing's temporaries stay small
            s = sig[a:a + _KEY_ROWS]
            h = np.broadcast_to(seed, (len(s), bands))
            for r in range(rows):   # band b's r-th value is column b * rows + r
                h = _mix(h ^ s[:, r:bands * rows:rows].astype(np.uint64))
            out[a:a + len(s)] = h
    return out


def _libc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):     # not glibc: nothing to give back this way
        return None


_TRIM = _libc_trim()


def release_memory() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``).  numpy's
    temporaries below glibc's mmap threshold (which rises to 32 MB after the first large free)
    come from the heap, and the pages they leave free stay resident: in the whole-corpus run at
    200k reports that was ~250 MB of resident memory no array used.  Called after each band of
    the candidate pairs and before the attribution of the whole-corpus run; a no-op where the C
    library is not glibc."""
    if _TRIM is not None:
        _TRIM(0)


def _band_key(sig: np.ndarray, b: int, rows: int = ROWS) -> np.ndarray:
    """Column ``b`` of ``band_keys(sig, ..., rows)``: the key of band ``b`` of every row."""
    with np.errstate(over="ignore"):
        h = np.full(sig.shape[0], np.uint64(b) * _BAND_SEED, dtype=np.uint64)
        for r in range(rows):
            h = _mix(h ^ sig[:, b * rows + r].astype(np.uint64))
    return h


def _sorted_unique(x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """np.unique by sorting (numpy 2's hash-based unique is far slower on millions of int64);
    ``inplace``: ``x`` (a temporary of the caller's) is sorted in place instead of copied."""
    if len(x) < 2:
        return x
    if inplace:
        x.sort()
    else:
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


def _merge_codes(codes: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The sorted union of two sorted arrays of distinct int64 codes.  ``new``'s codes already in
    ``codes`` are dropped by a binary search, and the rest merged by a stable sort of the two
    runs (timsort merges them in linear time; a plain sort re-sorted everything).

    ``codes`` is grown in place (the caller's own array, no view of it kept): a large array's
    ``realloc`` moves pages rather than copying them, so the union is not held twice while it
    is merged — at 200k reports it is ~17 M codes (136 MB)."""
    if len(codes) and len(new):
        pos = np.searchsorted(codes, new)
        pos[pos == len(codes)] = 0
        new = new[codes[pos] != new]
        del pos
    if not len(new):
        return codes
    if not len(codes):
        return new
    if not codes.flags.owndata:
        codes = codes.copy()
    n0 = len(codes)
    codes.resize(n0 + len(new), refcheck=False)
    codes[n0:] = new
    codes.sort(kind="stable")
    return codes


def _codes_of(p: np.ndarray, n: int) -> np.ndarray:
    """Codes ``i * n + j`` (i < j) of the pairs ``p``, in their order (pairs of a row with itself dropped)."""
    a, b = p[:, 0].astype(np.int64), p[:, 1].astype(np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    return lo[keep] * n + hi[keep]


def _pair_codes(p: np.ndarray, n: int) -> np.ndarray:
    """Sorted distinct ``_codes_of`` the pairs ``p``."""
    return _sorted_unique(_codes_of(p, n), inplace=True)


def lsh_pairs(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS, max_bucket: int | None = None, *,
              year: np.ndarray | None = None, unit: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs (i < j, int64 array of shape (m, 2), in order) sharing at least one band.
    ``max_bucket`` None: ``MAX_BUCKET`` as it is at the call (the incremental lookups read it too).

    A bucket of more than ``max_bucket`` paragraphs (a text printed in hundreds of
    reports) is not expanded into all its pairs: each member is paired with the
    ``REPS`` earliest members (by ``year``) and with its own unit's other years
    (``unit``), so memory stays proportional to the paragraphs.

    A bucket whose members are those of a bucket of an earlier band gives the same pairs (they
    depend on the members only) and is skipped: identical texts fall into one bucket in every
    band, and expanding and sorting them 25 times was most of the whole-corpus run's time."""
    n = sig.shape[0]
    codes = _lsh_codes(sig, bands, rows, max_bucket, year=year, unit=unit)
    return np.stack([codes // max(n, 1), codes % max(n, 1)], axis=1)


def _lsh_codes(sig: np.ndarray, bands: int = BANDS, rows: int = ROWS, max_bucket: int | None = None, *,
               year: np.ndarray | None = None, unit: np.ndarray | None = None) -> np.ndarray:
    """``lsh_pairs`` as sorted distinct codes ``i * n + j`` (n = rows of ``sig``)."""
    max_bucket = MAX_BUCKET if max_bucket is None else max_bucket
    n = sig.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    codes = np.zeros(0, dtype=np.int64)
    seen: set[bytes] = set()
    for b in range(bands):
        col = _band_key(sig, b, rows)     # band by band: no n x bands key matrix beside the union
        order = np.argsort(col, kind="stable")    # members of a bucket in row order
        sk = col[order]
        brk = np.flatnonzero(sk[1:] != sk[:-1]) + 1
        starts = np.concatenate(([0], brk))
        sizes = np.diff(np.concatenate((starts, [n])))
        # each bucket's pairs as codes at once (a bucket's members are in row order: the stable
        # sort), not as (m, 2) pairs sorted later: the first band finds nearly every pair, and its
        # pairs' whole-array copies were most of the candidate phase's memory
        found: list[np.ndarray] = []
        pending = 0

        def flush() -> None:
            """The pairs found so far into the union (a few MB at a time: band 0 finds nearly all)."""
            nonlocal codes, pending
            if found:
                new = np.concatenate(found)
                found.clear()
                codes = _merge_codes(codes, _sorted_unique(new, inplace=True))
            pending = 0
        order64 = order.astype(np.int64)
        two = starts[sizes == 2]
        if len(two):
            found.append(order64[two] * n + order64[two + 1])
            pending += len(two)
        for s, m in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist()):
            if pending >= _FLUSH:
                flush()
            members = order64[s:s + m]
            key = hashlib.blake2b(order[s:s + m].tobytes(), digest_size=16).digest()
            if key in seen:
                continue
            seen.add(key)
            if m <= max_bucket:
                iu, ju = np.triu_indices(m, 1)
                found.append(members[iu] * n + members[ju])
            else:
                found.append(_codes_of(_big_bucket(members, year, unit, REPS), n))
            pending += len(found[-1])
        flush()
        release_memory()
    return codes


def sentence_pairs(sent_fp: np.ndarray, sent_row: np.ndarray, max_bucket: int | None = None) -> np.ndarray:
    """Candidate pairs (i < j) of index rows sharing a fingerprinted sentence.

    A sentence found in more than ``max_bucket`` rows (None: ``MAX_BUCKET`` at the call) is a
    stock phrase and pairs nothing."""
    max_bucket = MAX_BUCKET if max_bucket is None else max_bucket
    if len(sent_fp) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((sent_row, sent_fp))
    f, r = sent_fp[order], sent_row[order]
    keep = np.concatenate(([True], (f[1:] != f[:-1]) | (r[1:] != r[:-1])))   # a row once per sentence
    f, r = f[keep], r[keep]
    starts = np.concatenate(([0], np.flatnonzero(f[1:] != f[:-1]) + 1))
    sizes = np.diff(np.concatenate((starts, [len(f)])))
    found: list[np.ndarray] = []
    two = starts[sizes == 2]
    if len(two):
        found.append(np.stack([r[two], r[two + 1]], axis=1))
    mid = (sizes > 2) & (sizes <= max_bucket)
    for s, m in zip(starts[mid].tolist(), sizes[mid].tolist()):
        members = r[s:s + m]
        iu, ju = np.triu_indices(m, 1)
        found.append(np.stack([members[iu], members[ju]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    p = np.concatenate(found).astype(np.int64)
    p.sort(axis=1)
    return p




# ------------------------------------------------------------------ the corpus index
@dataclass(slots=True)
class ReportInfo:
    id: int
    unit: str | None
    year: int | None
    unit_key: str
    chars: int = 0  # characters of all its paragraphs
    masks: tuple[str, ...] = ()
    date: str | None = None   # published, else signed (YYYY-MM-DD): who came first


@dataclass
class Index:
    """The compared paragraphs of the corpus and their signatures (row = paragraph)."""
    para_id: np.ndarray      # int64, paragraphs.id
    report_id: np.ndarray    # int64
    para_no: np.ndarray      # int32
    length: np.ndarray       # int32, characters of the body
    sig: np.ndarray | None   # uint32 (n, NUM_PERM); None: not made (copy_index, see verify_candidates)
    reports: dict[int, ReportInfo]
    fp: np.ndarray | None = None   # int64 hash of the normalised text: equal -> Jaccard exactly 1
    nlen: np.ndarray | None = None       # int32, normalised characters (shingle count + SHINGLE - 1)
    sent_fp: np.ndarray | None = None    # int64 hash of each fingerprinted sentence ...
    sent_row: np.ndarray | None = None   # ... and its index row

    def __len__(self) -> int:
        return len(self.para_id)


@functools.lru_cache(maxsize=1 << 16)
def _norm_unit(unit: str) -> str | None:
    return norm_unit(unit)


def _unit_key(rid: int, unit: str | None) -> str:
    k = _norm_unit(unit) if unit else None
    return k or f"#{rid}"


def _date(published: str | None, signed: str | None) -> str | None:
    for d in (published, signed):
        if d and _DATE.match(d):
            return d
    return None


def report_infos(engine: Engine) -> dict[int, ReportInfo]:
    r = db.reports.c
    with engine.connect() as conn:
        return {row.id: ReportInfo(row.id, row.unit, row.year, _unit_key(row.id, row.unit),
                                   masks=unit_masks(row.unit), date=_date(row.published, row.signed))
                for row in conn.execute(select(r.id, r.unit, r.year, r.published, r.signed).where(db.counted()))}


def _stream_paragraphs(engine: Engine, batch: int) -> Iterator[list]:
    p = db.paragraphs.c
    q = select(p.id, p.report_id, p.para_no, p.body).order_by(p.id)
    with engine.connect() as conn:
        res = conn.execution_options(stream_results=True, yield_per=batch).execute(q)
        yield from res.partitions(batch)


def split_normalised(body: str, masks: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """The normalised paragraph and its normalised sentences (split at 。！？；) that are at
    least ``SENT_MIN`` characters before masking (shorter ones only after masking are dropped later)."""
    pieces = ["".join(_KEEP.findall(x)) for x in _SENT_END_N.split(unicodedata.normalize("NFKC", body))]

    def fin(t: str) -> str:
        for m in masks:
            if m:
                t = t.replace(m, "")
        return _DIGITS.sub("0", t)
    # the same as normalise(body, masks): a kept run never crosses the punctuation split at
    return fin("".join(pieces)), [fin(x) for x in pieces if len(x) >= SENT_MIN]


def build_index(engine: Engine, *, batch: int = 5000, min_chars: int = MIN_CHARS) -> Index:
    """Signatures of every paragraph of ≥ ``min_chars`` normalised characters, streamed in batches,
    and the fingerprints of their sentences of ≥ ``SENT_MIN`` normalised characters."""
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
    nl = np.empty(total, dtype=np.int32)
    fp = np.empty(total, dtype=np.int64)
    s_fp: list[np.ndarray] = []
    s_row: list[np.ndarray] = []
    n = 0
    for rows in _stream_paragraphs(engine, batch):
        keep_norm, keep_rows, keep_sents = [], [], []
        for row in rows:
            info = reports.get(row.report_id)
            if info is None:
                continue
            info.chars += len(row.body)
            s, sents = split_normalised(row.body, info.masks)
            if len(s) >= min_chars:
                keep_norm.append(s)
                keep_rows.append(row)
                keep_sents.append([x for x in sents if len(x) >= SENT_MIN])
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
        nl[n:n + m] = [len(x) for x in keep_norm]
        fp[n:n + m] = [hash(x) for x in keep_norm]
        fs = [(hash(x), n + k) for k, ss in enumerate(keep_sents[:m]) for x in ss]
        if fs:
            a = np.array(fs, dtype=np.int64)
            s_fp.append(a[:, 0])
            s_row.append(a[:, 1])
        n += m
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64))  # noqa: E731
    # the matrix was allocated for every counted paragraph and only the compared ones are kept:
    # shrunk in place, not copied (the unused tail was never written, so this frees address
    # space, not resident memory; at 100k reports ~130 MB of ~280 MB)
    sig.resize((n, NUM_PERM), refcheck=False)
    return Index(pid[:n], rid[:n], pno[:n], ln[:n], sig, reports, fp[:n], nl[:n], cat(s_fp), cat(s_row))


def _report_arrays(index: Index) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rids = np.array(sorted(index.reports), dtype=np.int64)
    keys: dict[str, int] = {}
    infos = [index.reports[int(r)] for r in rids]
    return rids, {
        "unit": np.array([keys.setdefault(i.unit_key, len(keys)) for i in infos], dtype=np.int64),
        "year": np.array([i.year if i.year is not None else -1 for i in infos], dtype=np.int64),
        "date": np.array([int(i.date.replace("-", "")) if i.date else -1 for i in infos], dtype=np.int64),
    }


def _row_attr(index: Index, name: str) -> np.ndarray:
    rids, arr = _report_arrays(index)
    return arr[name][np.searchsorted(rids, index.report_id)]


def _row_year_unit(index: Index) -> tuple[np.ndarray, np.ndarray]:
    """Year (-1 unknown) and a unit number per index row."""
    rids, arr = _report_arrays(index)
    pos = np.searchsorted(rids, index.report_id)
    return arr["year"][pos], arr["unit"][pos]


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


def _shingle_array(norm: str, k: int = SHINGLE) -> np.ndarray:
    """``shingles(norm, normalised=True)`` as a sorted uint32 array (~4 bytes a shingle; a Python
    set takes ~90)."""
    if len(norm) < k:
        return np.unique(_gram_hashes(_codes(norm), len(norm))) if norm else np.zeros(0, dtype=np.uint32)
    return np.unique(_gram_hashes(_codes(norm), k))


def _shingles_of(index: Index, row: int, bodies: dict[int, str]) -> set[int]:
    info = index.reports[int(index.report_id[row])]
    return shingles(bodies.get(int(index.para_id[row]), ""), masks=info.masks)


@dataclass
class Pair:
    i: int           # index rows
    j: int
    jaccard: float
    cover_i: float = 1.0     # |A∩B| / |A|: the share of row i's shingles found in row j
    cover_j: float = 1.0

    @property
    def containment(self) -> float:
        return max(self.cover_i, self.cover_j)


class Pairs(NamedTuple):
    """Verified near-duplicate pairs as arrays (index rows i < j): the shingles each pair shares
    and each index row's shingle count, from which ``values`` computes the Jaccard and the
    covers — 12 bytes a pair instead of 32 with three float columns (at 100k reports the pairs
    are ~7.5 M), and the same float64 values as computed from them at verification."""
    i: np.ndarray        # int32 when the rows fit, else int64
    j: np.ndarray
    inter: np.ndarray    # int32 |A∩B|; -1: identical normalised texts (Jaccard and covers 1)
    size: np.ndarray     # int32 per index row: |A| (0: not verified against another text)

    def values(self, k: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Jaccard, cover_i (|A∩B| / |A|, the share of row i's shingles found in row j) and cover_j
        of the pairs ``k`` (all when None)."""
        k = slice(None) if k is None else k
        inter = self.inter[k].astype(float)
        a, b = self.size[self.i[k]].astype(float), self.size[self.j[k]].astype(float)
        same = inter < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.where(same, 1.0, inter / (a + b - inter)), np.where(same, 1.0, inter / a),
                    np.where(same, 1.0, inter / b))

    @property
    def jaccard(self) -> np.ndarray:
        return self.values()[0]


def _matches(inter: int, a: int, b: int, threshold: float, containment: float) -> tuple[bool, float]:
    if not a or not b:
        return False, 0.0
    jac = inter / (a + b - inter)
    return jac >= threshold or inter / min(a, b) >= containment, jac


CODE_CHUNK = 1 << 20   # candidate codes decoded and tested for comparability at a time


def candidate_pairs(index: Index, *, prefilter: tuple[float, float] | None = None) -> np.ndarray:
    """LSH (paragraph level) and shared-sentence candidates, comparable pairs only (i < j, in
    order; int32 when the rows fit, else int64); with ``prefilter`` (threshold, containment) only
    those that pass the signature pre-filter of ``verify_candidates`` (a test of each pair).

    The union is kept as codes ``i * n + j`` and decoded and tested ``CODE_CHUNK`` at a time into
    one array allocated for all and shrunk in place: at 200k reports the candidates are ~17 M,
    and each whole-array temporary of the decoded pairs and their masks cost ~70-140 MB."""
    year, unit = _row_year_unit(index)
    n = max(len(index), 1)
    codes = _lsh_codes(index.sig, year=year, unit=unit)
    if index.sent_fp is not None and len(index.sent_fp):
        codes = _merge_codes(codes, _pair_codes(sentence_pairs(index.sent_fp, index.sent_row), n))
    rid = index.report_id
    nsh = _shingle_counts(index)
    # decoded in place when the rows fit in int32: code k's 8 bytes become pair k's two int32 (a
    # chunk is read before its pairs are written, and the pairs kept never overtake the codes read)
    inplace = n < 2**31 and codes.flags.owndata
    out = (codes.view(np.int32).reshape(-1, 2) if inplace
           else np.empty((len(codes), 2), dtype=np.int32 if n < 2**31 else np.int64))
    m = 0
    for k in range(0, len(codes), CODE_CHUNK):
        c = codes[k:k + CODE_CHUNK]
        i, j = c // n, c % n
        ok = (rid[i] != rid[j]) & ~((unit[i] == unit[j]) & (year[i] == year[j]))
        p = np.stack([i[ok], j[ok]], axis=1)
        if prefilter is not None:
            p = p[_prefilter(p, index.sig, None, nsh, *prefilter)]
        out[m:m + len(p)] = p
        m += len(p)
    if inplace:                       # the codes' buffer: shrunk in place to the pairs kept
        del out
        c = i = j = None              # no view of the buffer is left when it moves
        codes.resize(m, refcheck=False)
        return codes.view(np.int32).reshape(-1, 2)
    del codes
    out.resize((m, 2), refcheck=False)
    return out


def _shingle_counts(index: Index) -> np.ndarray:
    """Each row's shingle count as the pre-filter estimates it (float; huge when unknown)."""
    return (np.maximum(index.nlen - SHINGLE + 1, 1) if index.nlen is not None
            else np.full(len(index), 1 << 20)).astype(float)


def _prefilter(cand: np.ndarray, sig: np.ndarray, row: np.ndarray | None, nsh: np.ndarray,
               threshold: float, containment: float) -> np.ndarray:
    """Which pairs' signature estimate may reach the thresholds (``row``: index row -> row of
    ``sig``, None when they are the same; ``nsh``: ``_shingle_counts``) — a test of each pair on
    its own."""
    keep = np.empty(len(cand), dtype=bool)
    step = 20000        # two gathered signature blocks of 20,000 x 128 x 4 bytes (~10 MB each)
    for k in range(0, len(cand), step):
        c = cand[k:k + step]
        r = c if row is None else row[c]
        est = (sig[r[:, 0]] == sig[r[:, 1]]).mean(axis=1)
        a, b = nsh[c[:, 0]], nsh[c[:, 1]]
        est_c = np.minimum(est * (a + b) / (1 + est) / np.minimum(a, b), 1.0)
        keep[k:k + step] = (est >= threshold - SIG_MARGIN) | (est_c >= containment - SIG_MARGIN)
    return keep


def verified_pairs(engine: Engine, index: Index, *, threshold: float = THRESHOLD,
                   containment: float = CONTAINMENT, block: int = 50000, cache_max: int = 200000) -> Pairs:
    """Near-duplicate pairs of the corpus: candidates, then the exact shingle Jaccard
    ≥ ``threshold`` or containment ≥ ``containment``.

    Pairs whose normalised texts are identical match fully without computing it;
    shingle sets are cached by normalised text (at most ``cache_max`` of them)."""
    return verify_candidates(engine, index, candidate_pairs(index, prefilter=(threshold, containment)),
                             threshold=threshold, containment=containment, block=block, cache_max=cache_max,
                             prefiltered=True)


def verify_candidates(engine: Engine, index: Index, cand: np.ndarray, *, threshold: float = THRESHOLD,
                      containment: float = CONTAINMENT, block: int = 50000, cache_max: int = 200000,
                      norms: Callable[[int], str] | None = None,
                      sigs_of: Callable[[list[int]], np.ndarray] | None = None,
                      shingles: dict[int, np.ndarray] | None = None, prefiltered: bool = False) -> Pairs:
    """The verification step of ``verified_pairs`` on given candidate pairs (index rows i < j):
    the signature pre-filter, then the exact shingle Jaccard or containment on the stored text.

    ``copy_index.copies_of`` verifies its reports' candidates with it, giving an Index without
    signatures (``sig`` None), the rows' stored shingle arrays in ``shingles`` (index row ->
    ``_shingle_array`` of its normalised text) and the other rows' normalised texts through
    ``norms`` (index row -> text; nothing is read again): the exact test runs first and the
    signatures are made only for the rows of the pairs that pass it, the few that the
    pre-filter can still drop — both tests are per pair, so the pairs kept and their order are
    the same.  ``sigs_of`` (index rows -> their signatures) gives the stored ones; without it
    they are made from ``norms``.  ``prefiltered``: ``cand`` has passed the pre-filter already
    (``candidate_pairs(..., prefilter=(threshold, containment))``), and the index may have
    dropped its signatures."""
    size = np.zeros(len(index), dtype=np.int32)
    if not len(cand):
        return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32), size)
    nsh = _shingle_counts(index)
    late = index.sig is None and not prefiltered
    fp = index.fp if index.fp is not None else np.arange(len(index), dtype=np.int64)
    # shingle sets as sorted uint32 arrays (~4 bytes a shingle; a Python set takes ~90), cached by
    # normalised text; each distinct pair of texts is compared once per block.  The pre-filter and
    # the split of identical texts run per block too (whole-array masks and copies of ~8 M
    # candidates cost ~60 MB each at 100k reports); the identical pairs come first in the result,
    # then the verified ones, each in the candidates' order
    cache: dict[int, np.ndarray] = {}
    idents: list[np.ndarray] = []
    cols: tuple[list[np.ndarray], ...] = ([], [], [])     # i, j, |A∩B|
    for k in range(0, len(cand), block):
        c = cand[k:k + block]
        if not prefiltered and not late:
            c = c[_prefilter(c, index.sig, None, nsh, threshold, containment)]
        same = fp[c[:, 0]] == fp[c[:, 1]]
        if same.any():
            idents.append(c[same])
            c = c[~same]
        if not len(c):
            continue
        rows = [int(r) for r in _sorted_unique(c.ravel()) if int(fp[r]) not in cache]
        if len(cache) + len(rows) > cache_max:
            cache.clear()
            rows = [int(r) for r in _sorted_unique(c.ravel())]
        if norms is None:
            bodies = _bodies(engine, index.para_id[rows].tolist())
            for r in rows:
                cache[int(fp[r])] = _shingle_array(normalise(bodies.get(int(index.para_id[r]), ""),
                                                             index.reports[int(index.report_id[r])].masks))
        else:
            for r in rows:
                got = shingles.get(r) if shingles else None
                cache[int(fp[r])] = _shingle_array(norms(r)) if got is None else got
        fi, fj = fp[c[:, 0]], fp[c[:, 1]]
        order = np.lexsort((fj, fi))
        new = np.concatenate(([True], (fi[order][1:] != fi[order][:-1]) | (fj[order][1:] != fj[order][:-1])))
        group = np.empty(len(c), dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        res = np.empty((int(new.sum()), 3), dtype=np.int64)    # per distinct pair of texts: |A∩B|, |A|, |B|
        for g, (a_, b_) in enumerate(zip(fi[order][new].tolist(), fj[order][new].tolist())):
            sa, sb = cache[a_], cache[b_]
            res[g] = (np.intersect1d(sa, sb, assume_unique=True).size, sa.size, sb.size)
        inter, na, nb = res[group, 0], res[group, 1], res[group, 2]
        size[c[:, 0]], size[c[:, 1]] = na, nb
        with np.errstate(divide="ignore", invalid="ignore"):
            jac = np.where(na + nb - inter > 0, inter / (na + nb - inter), 0.0)
            ci = np.where(na > 0, inter / na, 0.0)
            cj = np.where(nb > 0, inter / nb, 0.0)
        ok = (na > 0) & (nb > 0) & ((jac >= threshold) | (np.maximum(ci, cj) >= containment))
        if ok.any():
            for col, x in zip(cols, (c[ok, 0], c[ok, 1], inter[ok].astype(np.int32))):
                col.append(x)
    keep = None
    if late and cols[0]:
        # identical texts have equal signatures (estimate 1): kept; the rest by the pre-filter
        pr = np.stack([np.concatenate(cols[0]), np.concatenate(cols[1])], axis=1).astype(np.int64)
        rows = _sorted_unique(pr.ravel())
        row = np.zeros(len(index), dtype=np.int64)
        row[rows] = np.arange(len(rows))
        rl = rows.tolist()
        keep = _prefilter(pr, sigs_of(rl) if sigs_of else signatures([norms(r) for r in rl]), row, nsh,
                          threshold, containment)

    # the identical pairs, then the verified ones (those ``keep`` keeps), written block by block
    # into each column and each block freed once written: no column is held twice
    nv = int(keep.sum()) if keep is not None else sum(len(x) for x in cols[0])
    ni = sum(len(x) for x in idents)
    out = [np.empty(ni + nv, dtype=cand.dtype), np.empty(ni + nv, dtype=cand.dtype), np.empty(ni + nv, dtype=np.int32)]
    at = 0
    for k, x in enumerate(idents):
        out[0][at:at + len(x)], out[1][at:at + len(x)] = x[:, 0], x[:, 1]
        at += len(x)
        idents[k] = None
    out[2][:ni] = -1
    for c, col in enumerate(cols):
        at, done = ni, 0
        for k, x in enumerate(col):
            if keep is not None:
                x, done = x[keep[done:done + len(x)]], done + len(x)
            out[c][at:at + len(x)] = x
            at += len(x)
            col[k] = None
    return Pairs(out[0], out[1], out[2], size)


def near_duplicates(engine: Engine, index: Index, *, threshold: float = THRESHOLD,
                    containment: float = CONTAINMENT) -> list[Pair]:
    """``verified_pairs`` as a list of ``Pair`` (convenient on small corpora)."""
    p = verified_pairs(engine, index, threshold=threshold, containment=containment)
    return [Pair(*x) for x in zip(p.i.tolist(), p.j.tolist(), *(v.tolist() for v in p.values()))]


def exact_pairs(engine: Engine, index: Index, *, threshold: float = THRESHOLD,
                containment: float = CONTAINMENT) -> list[Pair]:
    """All-pairs exact comparison (for checking the candidates on small corpora only: O(n²))."""
    bodies = _bodies(engine, index.para_id.tolist())
    sets = [_shingles_of(index, r, bodies) for r in range(len(index))]
    n = len(sets)
    allp = np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64).reshape(-1, 2)
    out = []
    for i, j in _comparable(index, allp).tolist():
        inter = len(sets[i] & sets[j])
        ok, jac = _matches(inter, len(sets[i]), len(sets[j]), threshold, containment)
        if ok:
            out.append(Pair(i, j, jac, inter / len(sets[i]), inter / len(sets[j])))
    return out


# ------------------------------------------------------------------ per-report result
@dataclass(slots=True)   # one per matched paragraph: ~150 bytes without a __dict__, ~200 with
class Copied:
    """One paragraph of a report and its best source, for the one kind it is attributed to."""
    kind: str              # "other" | "own" | "mutual" | "common" (see KINDS)
    para_id: int
    para_no: int
    chars: int             # characters counted (the covered part when matched by containment only)
    source_report: int
    source_para_id: int
    source_para_no: int
    jaccard: float
    containment: float = 1.0   # |A∩B| / min(|A|, |B|)
    cover: float = 1.0         # |A∩B| / |this paragraph|

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(slots=True)
class ReportCopies:
    report_id: int
    unit: str | None
    year: int | None
    chars: int
    other_chars: int = 0           # 抄自他单位
    own_chars: int = 0             # 沿用本单位往年表述
    mutual_chars: int = 0          # 相互雷同（先后待核）
    common_chars: int = 0          # 通用表述 (not copying)
    copied_chars: int = 0          # other + own + mutual (each paragraph has one kind)
    sources: dict[int, int] = field(default_factory=dict)   # source report -> chars (other, own, mutual)
    source_kinds: dict[int, str] = field(default_factory=dict)   # source report -> its kind
    paragraphs: list[Copied] = field(default_factory=list)

    def _share(self, n: int) -> float:
        return n / self.chars if self.chars else 0.0

    @property
    def other_share(self) -> float:
        return self._share(self.other_chars)

    @property
    def own_share(self) -> float:
        return self._share(self.own_chars)

    @property
    def mutual_share(self) -> float:
        return self._share(self.mutual_chars)

    @property
    def common_share(self) -> float:
        return self._share(self.common_chars)

    @property
    def share(self) -> float:
        return self._share(self.copied_chars)

    @property
    def main_source(self) -> int | None:
        return max(self.sources, key=lambda r: (self.sources[r], -r)) if self.sources else None


def _edge_kinds(row: np.ndarray, src: np.ndarray, year: np.ndarray, unit: np.ndarray, date: np.ndarray,
                n: int, common_units: int) -> np.ndarray:
    """The kind (index into KINDS, -1 none) of each directed edge row <- src; the edges given hold
    every edge of each of their rows (``attribute`` gives them a chunk of whole rows at a time)."""
    # distinct units each row is matched in (itself included)
    nu = int(unit.max()) + 1 if len(unit) else 1
    rows_seen = _sorted_unique(row).astype(np.int64)
    codes = _sorted_unique(np.concatenate((row.astype(np.int64) * nu + unit[src], rows_seen * nu + unit[rows_seen])))
    common = np.bincount(codes // nu, minlength=n)[row] >= common_units
    del codes
    yr, ys, dr, ds = year[row], year[src], date[row], date[src]
    by_date = (dr >= 0) & (ds >= 0) & (dr != ds)
    by_year = ~by_date & (yr >= 0) & (ys >= 0) & (yr != ys)
    src_first = (by_date & (ds < dr)) | (by_year & (ys < yr))
    undecided = ~by_date & ~by_year
    del dr, ds
    same = unit[row] == unit[src]
    kind = np.full(len(row), -1, dtype=np.int8)
    kind[~common & ~same & undecided] = KINDS.index("mutual")
    kind[~common & ~same & src_first] = KINDS.index("other")
    kind[~common & same & (yr >= 0) & (ys >= 0) & (ys < yr)] = KINDS.index("own")
    kind[common] = KINDS.index("common")
    return kind


EDGE_CHUNK = 1 << 18   # directed edges attributed at a time (a range of whole rows)


def _row_ranges(P: Pairs, n: int, chunk: int) -> np.ndarray:
    """Row bounds [r0 = 0, r1, ..., n] cutting the index rows into ranges of about ``chunk``
    directed edges each (a row with more edges is a range of its own)."""
    deg = np.bincount(P.i, minlength=n) + np.bincount(P.j, minlength=n)
    ends = np.cumsum(deg)
    cut = np.searchsorted(ends, np.arange(chunk, int(ends[-1]), chunk), side="right")
    return np.unique(np.concatenate(([0], cut, [n])))


def attribute(index: Index, P: Pairs, *, threshold: float = THRESHOLD,
              common_units: int = COMMON_UNITS) -> dict[int, ReportCopies]:
    """Per report: one kind and the best source for each matched paragraph, and the shares
    (see the module docstring for the order of the kinds and who is the source).

    ``P``: the verified pairs (``verified_pairs``, ``verify_candidates``)."""
    out = {rid: ReportCopies(rid, info.unit, info.year, info.chars) for rid, info in index.reports.items()}
    if not len(P.i):
        return out
    year, unit = _row_year_unit(index)
    date = _row_attr(index, "date")
    n = len(index)
    # per row: the first kind that applies, then its best source — most of the paragraph covered,
    # the highest Jaccard, the earliest year, the first row.  A pair p is two directed edges,
    # i <- j and j <- i.  The rows are cut into ranges of ~EDGE_CHUNK edges and each range's edges
    # gathered on their own (a row's kind depends on its own edges only: the units it is matched
    # in): no array over all edges is made (at 100k reports they are ~15 M, ~60-120 MB each),
    # and the winners are those of one sort of all edges
    bounds = _row_ranges(P, n, EDGE_CHUNK)
    pt = np.int16 if len(bounds) < 2**15 else np.int32
    part = np.repeat(np.arange(len(bounds) - 1, dtype=pt), np.diff(bounds))   # row -> its range
    pi, pj = part[P.i], part[P.j]
    del part

    def emit(pk: np.ndarray, fw: np.ndarray, kind: np.ndarray) -> None:
        """The winners of a range of rows (pair, direction, kind) into their reports, in row order
        (made per range: at 200k reports the winners are ~0.5 M, their Python values ~100 MB)."""
        row = np.where(fw, P.i[pk], P.j[pk])
        src = np.where(fw, P.j[pk], P.i[pk])
        jac, ci, cj = P.values(pk)
        win = (index.report_id[row], index.para_id[row], index.para_no[row], index.length[row],
               index.report_id[src], index.para_id[src], index.para_no[src],
               jac, np.where(fw, ci, cj), np.maximum(ci, cj), kind)
        for rid, pid, pno, ln, srid, spid, spno, jc, cv, ct, kd in zip(*(x.tolist() for x in win)):
            rc = out[rid]
            name = KINDS[kd]
            ch = ln if jc >= threshold else int(round(ln * cv))
            rc.paragraphs.append(Copied(name, pid, pno, ch, srid, spid, spno, jc, ct, cv))
            setattr(rc, f"{name}_chars", getattr(rc, f"{name}_chars") + ch)
            if name != "common":
                rc.copied_chars += ch
                rc.sources[srid] = rc.sources.get(srid, 0) + ch
                rc.source_kinds[srid] = name
    for k in range(len(bounds) - 1):
        fi, fj = np.flatnonzero(pi == k), np.flatnonzero(pj == k)
        px = np.concatenate((fi, fj))                       # the pair of each edge ...
        fx = np.arange(len(px)) < len(fi)                   # ... and its direction (True: i <- j)
        rx = np.concatenate((P.i[fi], P.j[fj]))
        sx = np.concatenate((P.j[fi], P.i[fj]))
        del fi, fj
        kx = _edge_kinds(rx, sx, year, unit, date, n, common_units)
        keep = kx >= 0
        px, fx, rx, sx, kx = px[keep], fx[keep], rx[keep], sx[keep], kx[keep]
        if not len(px):
            continue
        jac, ci, cj = P.values(px)
        cov = np.where(fx, ci, cj)
        so = np.lexsort((sx, year[sx], -jac, -cov, kx, rx))
        ro = rx[so]
        w = so[np.concatenate(([True], ro[1:] != ro[:-1]))]
        emit(px[w], fx[w], kx[w])
    del pi, pj
    for rc in out.values():
        rc.paragraphs.sort(key=lambda c: (c.para_no, c.kind))
    return out


def analyse(engine: Engine, *, threshold: float = THRESHOLD, containment: float = CONTAINMENT,
            common_units: int = COMMON_UNITS, batch: int = 5000,
            lean: bool = False) -> tuple[Index, dict[int, ReportCopies]]:
    """The whole corpus: index, near-duplicate pairs, per-report shares and sources.

    ``lean``: the signatures and sentence fingerprints are dropped once the candidates have
    passed the signature pre-filter, before the verification (~310 MB at 200k reports), and the
    index comes back without them (``sig``, ``sent_fp``, ``sent_row`` None) — for callers that
    read only its reports and rows."""
    index = build_index(engine, batch=batch)
    cand = candidate_pairs(index, prefilter=(threshold, containment))
    if lean:
        index.sig = index.sent_fp = index.sent_row = None
    pairs = verify_candidates(engine, index, cand, threshold=threshold, containment=containment, prefiltered=True)
    del cand
    release_memory()     # before the results are made (not before the verification: it would fault them in again)
    return index, attribute(index, pairs, threshold=threshold, common_units=common_units)


def summary(index: Index, rc: ReportCopies) -> dict:
    """One report's copy summary as plain data (for the workbook, the web pages and JSON):
    the shares of each kind and the source reports (id, unit, year, kind, characters, share)."""
    srcs = []
    for sid, ch in sorted(rc.sources.items(), key=lambda kv: (-kv[1], kv[0])):
        info = index.reports.get(sid)
        kd = rc.source_kinds.get(sid, "other")
        srcs.append({"report_id": sid, "unit": info.unit if info else None, "year": info.year if info else None,
                     "kind": kd, "label": KIND_LABELS[kd], "chars": ch,
                     "share": ch / rc.chars if rc.chars else 0.0})
    return {"report_id": rc.report_id, "unit": rc.unit, "year": rc.year, "chars": rc.chars,
            "copied_share": rc.share, "other_share": rc.other_share, "own_share": rc.own_share,
            "mutual_share": rc.mutual_share, "common_share": rc.common_share,
            "paragraphs": {k: sum(1 for c in rc.paragraphs if c.kind == k) for k in KINDS},
            "sources": srcs}


def copy_summaries(engine: Engine, **kw) -> dict[int, dict]:
    """``summary`` of every report of the corpus (``kw`` as for ``analyse``)."""
    index, res = analyse(engine, **kw)
    return {rid: summary(index, rc) for rid, rc in res.items()}


def paragraph_bodies(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    """Bodies of paragraphs by id (for showing a report's copied paragraphs beside their sources)."""
    return _bodies(engine, ids)
