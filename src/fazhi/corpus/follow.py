"""Follow-through: were last year's promises reported done?

For a unit with reports for year N and N+1:

- **Plan items** of year N are the items of its ``next_year`` part: the
  sub-headings one level below the part heading (``（一）加强法治培训，提升法治素养。…``,
  each with its body up to the next sub-heading), or, when the part has none,
  its ``一是…二是…`` items, or else its sentences.
- **Evidence** of year N+1 is every sentence of its non-plan parts except the
  shortcomings (achievements, the leader-duty part, other matters; the whole
  text when no part was recognised): a plan "reported done" in the list of
  problems is not done.
- Evidence sentences that N's report already contains (near-)word for word
  are left out: an achievement copied from last year proves nothing about
  last year's plan.
- Each plan item is scored against each evidence sentence lexically: rjieba
  tokens (words of two or more characters; numbers and the stop words of the
  genre removed), TF-IDF weights fitted on the sentences of the two reports,
  cosine of the whole item (heading and body) with the sentence (``METHOD``;
  the alternatives measured — best piece of the item, heading alone,
  idf-weighted overlap, rapidfuzz ``token_set_ratio`` — did worse).  The
  best sentence at or above ``THRESHOLD`` makes the item **已落实** with that
  sentence as evidence; otherwise the item **未见下文** (it silently vanished).
- **问题重复出现**: sentences of N's shortcomings that reappear (near-)word for
  word in N+1's shortcomings — the copy machinery of ``similarity`` (NFKC,
  letters and digits only, unit name masked, digits folded) on character
  3-grams, Jaccard ≥ ``REPEAT_THRESHOLD``.

The method and threshold were measured by ``bench/measure_follow.py`` (hand-
written achievement sentences for the 10 plan items of the dev reports; see
``THRESHOLD``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine

from ..clean import Cleaned, Line
from ..evaluate import norm_unit
from ..outline import find_headings
from ..textnorm import shadow
from . import db
from . import similarity as sim

# Measured by bench/measure_follow.py: the 10 plan items of the dev reports, 30 hand-written
# achievement sentences as positives, 2,529 other-topic achievement sentences of the dev
# reports as negative pairs.  Best pair F1 per method: TF-IDF cosine of the whole item 0.912,
# best piece of the item 0.867, token_set_ratio 0.706, idf-weighted overlap 0.689, heading
# alone 0.453.  Cosine at 0.225: pairs P 0.963 / R 0.867 / F1 0.912; item decisions: 26/30
# plans found with the right sentence, 1/10 false 已落实 when no sentence reports the plan.
# (0.25 gives P 1.000 / R 0.767.)  Same-topic sentences of other reports as negatives
# (pessimistic bound): P 0.368 / R 0.833 at 0.225 — a related achievement is often taken as
# the plan done.
METHOD = "cosine"
THRESHOLD = 0.225
REPEAT_THRESHOLD = 0.7     # character 3-gram Jaccard for a repeated shortcoming
REPEAT_SHINGLE = 3
REPEAT_MIN_CHARS = 8       # normalised characters of a shortcoming sentence

DONE, VANISHED = "已落实", "未见下文"
PLAN_PART = "next_year"
EVIDENCE_EXCLUDED = {"next_year", "shortcomings"}

# function words and the genre's all-purpose verbs: they say nothing about which promise
STOP = frozenset("""
的 了 和 与 及 并 在 为 对 将 把 从 由 以 等 其 各 有 是 不 也 都 而 或 之 于 向 中 上 下 个 又
我们 我街 我镇 我县 我区 我市 本街 本镇 本单位 街道 社区 全街 全镇 全区 全县 全市 辖区
进一步 不断 持续 继续 深入 全面 切实 积极 认真 有效 扎实 大力 着力 努力 充分 进一步加强 更加
加强 加大 强化 提升 提高 完善 健全 推进 推动 推行 落实 实现 确保 做好 做到 开展 组织 坚持 实施
建立 建设 工作 情况 方面 问题 力度 水平 能力 作用 机制 制度 体系 要求 相关 有关 各类 各项 主要
同时 通过 结合 围绕 按照 根据 关于 以及 其中 目前 今年 全年 年度 本年度 明年 下一步 一是 二是 三是
四是 五是 工作人员 人员 干部 共计 累计 达到 达 共 余 多 项 次 件 场 人 名 个 家
""".split())
_TOKEN = re.compile(r"[\u3400-\u9fffA-Za-z]")
_NUMBERISH = re.compile(r"^[\d０-９.．%％万亿千百十零〇一二三四五六七八九两余多]+[次件场人名个家项期条份宗起户]?$")
_SENT = re.compile(r"[^。！？；!?\n]+[。！？；!?]?")


@lru_cache(maxsize=1)
def _jieba():
    import rjieba

    return rjieba


@lru_cache(maxsize=65536)
def tokens(s: str) -> tuple[str, ...]:
    """Content words of ``s``: rjieba words of ≥ 2 characters, no numbers, no stop words."""
    out = []
    for t in _jieba().cut(s):
        t = t.strip()
        if len(t) < 2 or t in STOP or not _TOKEN.search(t) or _NUMBERISH.match(t):
            continue
        out.append(t)
    return tuple(out)


# ------------------------------------------------------------------ documents
@dataclass
class Doc:
    """What follow-through needs of a report: its text and the spans of its parts."""
    id: int | None
    unit: str | None
    year: int | None
    text: str
    parts: list[tuple[str, int, int]] = field(default_factory=list)

    @classmethod
    def from_report(cls, report, id: int | None = None) -> "Doc":
        return cls(id, report.meta.unit, report.meta.year, report.text,
                   [(p.part, p.start, p.end) for p in report.parts])


@dataclass
class Piece:
    text: str
    start: int
    end: int
    title: str = ""


def sentences(text: str, start: int = 0, end: int | None = None, min_chars: int = 6) -> list[Piece]:
    """Sentences of ``text[start:end]`` (split at 。！？；and line ends), with offsets."""
    end = len(text) if end is None else end
    out = []
    for m in _SENT.finditer(text, start, end):
        s = m.group(0)
        st = m.start() + (len(s) - len(s.lstrip()))
        s = s.strip()
        if len(sim._keep(s)) >= min_chars:
            out.append(Piece(s, st, st + len(s)))
    return out


def _lines(text: str) -> list[Line]:
    out, pos = [], 0
    for ln in text.split("\n"):
        out.append(Line(pos, pos + len(ln)))
        pos += len(ln) + 1
    return out


def _tail_trim(text: str, start: int, end: int) -> int:
    """End of an item without the signature / page-chrome lines that follow the last one."""
    while end > start:
        cut = text.rfind("\n", start, end - 1)
        last = text[(cut + 1 if cut >= 0 else start):end].strip()
        if last and (len(last) >= 40 or re.search(r"[。！？；]$", last)):
            break
        if cut < 0 or cut <= start:
            break
        end = cut
    return end


def plan_items(doc: Doc) -> list[Piece]:
    """The next-year plan items of a report (sub-headings, else 一是… items, else sentences)."""
    spans = [(s, e) for p, s, e in doc.parts if p == PLAN_PART]
    if not spans:
        return []
    text = doc.text
    heads = find_headings(Cleaned(text, _lines(text)), shadow(text))
    out: list[Piece] = []
    for s, e in spans:
        inner = [h for h in heads if s < h.start < e]
        first_nl = text.find("\n", s, e)
        body_start = first_nl + 1 if first_nl >= 0 else e
        if inner:
            top = min(h.level for h in inner)
            tops = [h for h in inner if h.level == top]
            for k, h in enumerate(tops):
                nxt = next((h2.start for h2 in inner if h2.start > h.start and h2.level <= top), e)
                end = _tail_trim(text, h.start, nxt)
                title = h.title[len(h.label):].strip().rstrip("。.；;:：")
                out.append(Piece(text[h.start:end].strip(), h.start, end, title))
            continue
        # no sub-headings: 一是…二是… items, else sentences
        marks = [m.start() + body_start for m in re.finditer(r"(?:^|(?<=[。；;\n]))\s*[一二三四五六七八九十]+是",
                                                           text[body_start:e])]
        marks = [m + (len(text[m:]) - len(text[m:].lstrip())) for m in marks]
        if len(marks) >= 2:
            bounds = marks + [_tail_trim(text, body_start, e)]
            for a, b in zip(bounds, bounds[1:]):
                seg = text[a:b].strip()
                title = sentences(seg)[0].text.rstrip("。；;") if sentences(seg) else seg[:30]
                out.append(Piece(seg, a, b, title))
            continue
        for p in sentences(text, body_start, _tail_trim(text, body_start, e), min_chars=8):
            p.title = p.text.rstrip("。；;")
            out.append(p)
    return out


def evidence(doc: Doc) -> list[Piece]:
    """Sentences of the year's non-plan parts (shortcomings excluded)."""
    spans = [(s, e) for p, s, e in doc.parts if p not in EVIDENCE_EXCLUDED]
    if not doc.parts:
        spans = [(0, len(doc.text))]
    out = []
    for s, e in sorted(spans):
        out.extend(sentences(doc.text, s, e))
    return out


def shortcoming_sentences(doc: Doc) -> list[Piece]:
    out = []
    for p, s, e in doc.parts:
        if p == "shortcomings":
            first_nl = doc.text.find("\n", s, e)
            out.extend(sentences(doc.text, first_nl + 1 if first_nl >= 0 else s, e, min_chars=REPEAT_MIN_CHARS))
    return out


# ------------------------------------------------------------------ scoring
class Matcher:
    """TF-IDF over the sentences of the reports compared; scores plan items against sentences."""

    def __init__(self, documents: list[str]):
        toks = [tokens(d) for d in documents]
        vocab: dict[str, int] = {}
        for t in toks:
            for w in t:
                vocab.setdefault(w, len(vocab))
        df = np.zeros(len(vocab))
        for t in toks:
            for w in set(t):
                df[vocab[w]] += 1
        n = len(toks)
        self.vocab = vocab
        self.idf = np.log((1 + n) / (1 + df)) + 1.0  # smoothed; unseen words get the highest idf
        self.idf_unseen = np.log(1 + n) + 1.0

    def _vecs(self, texts: list[str], extra: dict[str, int]) -> np.ndarray:
        """Rows of tf·idf (tf = count) over the vocabulary plus ``extra`` unseen words."""
        m = np.zeros((len(texts), len(self.vocab) + len(extra)))
        for i, s in enumerate(texts):
            for w in tokens(s):
                j = self.vocab.get(w)
                if j is None:
                    j = len(self.vocab) + extra.setdefault(w, len(extra))
                    if j >= m.shape[1]:
                        m = np.pad(m, ((0, 0), (0, j + 1 - m.shape[1])))
                    m[i, j] += self.idf_unseen
                else:
                    m[i, j] += self.idf[j]
        return m

    def matrix(self, items: list[str], sents: list[str], method: str = METHOD) -> np.ndarray:
        """Scores (items × sentences) in [0, 1]."""
        if not items or not sents:
            return np.zeros((len(items), len(sents)))
        if method == "token_set":
            from rapidfuzz import fuzz

            a = [" ".join(tokens(s)) for s in items]
            b = [" ".join(tokens(s)) for s in sents]
            return np.array([[fuzz.token_set_ratio(x, y) / 100 if x and y else 0.0 for y in b] for x in a])
        extra: dict[str, int] = {}
        A = self._vecs(items, extra)
        B = self._vecs(sents, extra)
        w = max(A.shape[1], B.shape[1])
        A = np.pad(A, ((0, 0), (0, w - A.shape[1])))
        B = np.pad(B, ((0, 0), (0, w - B.shape[1])))
        if method == "cosine":
            na = np.linalg.norm(A, axis=1, keepdims=True)
            nb = np.linalg.norm(B, axis=1, keepdims=True)
            return (A / np.where(na == 0, 1, na)) @ (B / np.where(nb == 0, 1, nb)).T
        if method == "overlap":
            # idf-weighted overlap coefficient of the word sets: Σ idf(shared) / min(Σ idf(A), Σ idf(B))
            W = self._w(w)
            Sa, Sb = (A > 0) * W, (B > 0).astype(float)
            shared = Sa @ Sb.T
            den = np.minimum(Sa.sum(1)[:, None], (Sb * W).sum(1)[None, :])
            return np.where(den > 0, shared / np.where(den > 0, den, 1), 0.0)
        raise ValueError(f"unknown method {method}")

    def _w(self, width: int) -> np.ndarray:
        w = np.full(width, self.idf_unseen)
        w[:len(self.idf)] = self.idf
        return w


def item_scores(m: Matcher, items: list[Piece], sents: list[str], method: str = METHOD) -> np.ndarray:
    """items × sentences; an item is its heading plus body; ``maxpiece`` takes its best piece."""
    if method in ("maxpiece", "title"):
        out = np.zeros((len(items), len(sents)))
        for i, it in enumerate(items):
            pieces = [it.title] if method == "title" else [it.title] + [p.text for p in sentences(it.text)]
            pieces = [p for p in pieces if p] or [it.text]
            out[i] = m.matrix(pieces, sents, "cosine").max(axis=0)
        return out
    return m.matrix([it.text for it in items], sents, method)


# ------------------------------------------------------------------ results
@dataclass
class PlanStatus:
    no: int
    title: str
    text: str
    status: str
    score: float
    evidence: str | None = None
    evidence_start: int | None = None


@dataclass
class Repeat:
    before: str
    after: str
    similarity: float


@dataclass
class FollowResult:
    unit: str | None
    year: int | None          # N: the year whose plan is checked
    report: int | None        # report id of N
    next_report: int | None   # report id of N+1
    plans: list[PlanStatus] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    reused: int = 0           # N+1 sentences left out as evidence: already in N's report

    @property
    def done(self) -> int:
        return sum(p.status == DONE for p in self.plans)


def repeated_shortcomings(a: Doc, b: Doc, threshold: float = REPEAT_THRESHOLD) -> list[Repeat]:
    masks_a, masks_b = sim.unit_masks(a.unit), sim.unit_masks(b.unit)
    sa = [(p, sim.shingles(p.text, REPEAT_SHINGLE, masks=masks_a)) for p in shortcoming_sentences(a)]
    sb = [(p, sim.shingles(p.text, REPEAT_SHINGLE, masks=masks_b)) for p in shortcoming_sentences(b)]
    out = []
    for p, x in sa:
        best = max(((sim.jaccard(x, y), q) for q, y in sb), key=lambda t: t[0], default=None)
        if best and best[0] >= threshold:
            out.append(Repeat(p.text, best[1].text, best[0]))
    return out


def fresh_evidence(a: Doc, b: Doc) -> tuple[list[Piece], int]:
    """N+1's evidence sentences minus those already in N's report (near-)word for word:
    an achievement copied from last year's report is no evidence that last year's plan was
    carried out.  Returns (sentences, number dropped)."""
    ev = evidence(b)
    masks_a, masks_b = sim.unit_masks(a.unit), sim.unit_masks(b.unit)
    prior = [sim.shingles(p.text, REPEAT_SHINGLE, masks=masks_a) for p in sentences(a.text)]
    by_gram: dict[int, list[int]] = {}
    for k, g in enumerate(prior):
        for x in g:
            by_gram.setdefault(x, []).append(k)
    out = []
    for p in ev:
        g = sim.shingles(p.text, REPEAT_SHINGLE, masks=masks_b)
        near = {k for x in g for k in by_gram.get(x, ())}
        if any(sim.jaccard(g, prior[k]) >= REPEAT_THRESHOLD for k in near):
            continue
        out.append(p)
    return out, len(ev) - len(out)


def follow(a: Doc, b: Doc, *, threshold: float = THRESHOLD, method: str = METHOD) -> FollowResult:
    """Plans of ``a`` (year N) against the report ``b`` (year N+1)."""
    res = FollowResult(a.unit, a.year, a.id, b.id)
    items = plan_items(a)
    ev, res.reused = fresh_evidence(a, b)
    docs = [p.text for p in sentences(a.text)] + [p.text for p in sentences(b.text)]
    m = Matcher(docs)
    scores = item_scores(m, items, [p.text for p in ev], method) if ev else np.zeros((len(items), 0))
    for k, it in enumerate(items):
        j = int(scores[k].argmax()) if scores.shape[1] else -1
        s = float(scores[k, j]) if j >= 0 else 0.0
        if j >= 0 and s >= threshold:
            res.plans.append(PlanStatus(k + 1, it.title, it.text, DONE, s, ev[j].text, ev[j].start))
        else:
            res.plans.append(PlanStatus(k + 1, it.title, it.text, VANISHED, s))
    res.repeats = repeated_shortcomings(a, b)
    return res


# ------------------------------------------------------------------ the corpus
def _load(conn, rid: int) -> Doc:
    r = db.reports.c
    row = conn.execute(select(r.id, r.unit, r.year, r.text).where(r.id == rid)).one()
    p = db.parts.c
    parts = [(x.part, x.start, x.end) for x in
             conn.execute(select(p.part, p.start, p.end).where(p.report_id == rid).order_by(p.start))]
    return Doc(row.id, row.unit, row.year, row.text, parts)


def unit_names(conn, unit: str) -> list[str]:
    """The stored unit names ``year_pairs`` can match for ``unit`` (its key, or the
    text inside the name): read from the unit column alone, never the report texts."""
    from .store import _like

    r = db.reports.c
    q = (select(r.unit).where(db.counted(), r.unit.is_not(None),
                              (r.unit_key == norm_unit(unit)) | r.unit.like(_like(unit), escape="\\"))
         .distinct())
    return [u for (u,) in conn.execute(q)]


def year_pairs(engine: Engine, unit: str | None = None, year: int | None = None, *,
               names=None) -> list[tuple[int, int]]:
    """(report of N, report of N+1) for every unit with both years; one report per unit-year
    (the longest, when a year was stored more than once).

    ``names``: the stored unit names that can match ``unit`` (the web's aggregates know
    them): only their rows are read, through the (unit, year) index, instead of every
    report's; the result is the same as long as ``names`` holds every matching name."""
    r = db.reports.c
    want = norm_unit(unit) if unit else None
    best: dict[tuple[str, int], tuple[int, int]] = {}
    q = (select(r.id, r.unit, r.year, func.length(r.text))
         .where(r.year.is_not(None), r.unit.is_not(None), db.counted()))
    with engine.connect() as conn:
        if names is None and unit:
            names = unit_names(conn, unit)
        if names is not None:
            names = sorted(set(names))
            rows = []
            for k in range(0, len(names), 500):
                rows += conn.execute(q.where(r.unit.in_(bindparam("names", expanding=True))),
                                     {"names": names[k:k + 500]}).all()
        else:
            rows = conn.execute(q).all()
    for rid, u, y, n in rows:
        key = norm_unit(u)
        if not key:
            continue
        if unit and not (key == want or unit in u):
            continue
        cur = best.get((key, y))
        if cur is None or (n or 0, rid) > cur:
            best[(key, y)] = (n or 0, rid)
    out = []
    for (key, y), (_n, rid) in sorted(best.items()):
        nxt = best.get((key, y + 1))
        if nxt and (year is None or y == year):
            out.append((rid, nxt[1]))
    return out


def follow_corpus(engine: Engine, unit: str | None = None, year: int | None = None, *,
                  threshold: float = THRESHOLD, names=None):
    """Follow-through for every unit/year pair of the corpus (a generator); ``names`` as for
    ``year_pairs``."""
    for a_id, b_id in year_pairs(engine, unit, year, names=names):
        with engine.connect() as conn:
            a, b = _load(conn, a_id), _load(conn, b_id)
        yield follow(a, b, threshold=threshold)
