"""Facts: quantities of a report mapped to catalog indicators.

``extract(text, norm, parts)`` finds every quantity (``fazhi.quantities``) and
decides, from the words around it, which indicator of the catalog
(``data/indicators.yaml``) it measures, or None.  The vocabulary is data: per
indicator the catalog lists the object nouns / verbs that must be near the
number (``rules``), vetoes (``not``), the units it may carry and a priority.

Context of a quantity, all on the shadow text ``norm``:

* the *clause*: from the previous clause boundary (，。；：( …, a skipped
  parenthesis counts as part of the clause) or the end of the previous quantity,
  to the number (``l``); and after the unit up to the next boundary, a few
  characters (``r``) — "51名干部参加年度法治理论网上考试" puts the noun after;
* the *sentence* (``s``).

A short clause with no object of its own ("组织讲座45场") borrows the words of
the clause before; an item of a 、-list borrows the list head's verb
("审查重大行政决策事项18件、行政规范性文件26件").  Titles in 《》 are masked
(a law title reads as 法律) so that 《信访工作条例》 does not pass for petitions.

Then the genre patterns that look at the quantity before, in the same sentence
(all data in the catalog file):

* a bare share ("占比95%") after a count takes the rate indicator of that count
  (``ratio_of``);
* breakdowns after 其中 take the indicator of the total when they have none of
  their own ("18起,其中家庭纠纷3起"); so do breakdowns by type without 其中,
  items named with the total's head noun ("政务服务事项515项,行政许可事项218项");
* a clause that is only a verb continues the count before it ("受理39件,审结…");
* "由2021年的85%提高到100%": the old value is no fact, the new one is read in
  the context of the old one.

Plans and targets (力争, 不少于, 将开展 …) and changes (同比增长15%) are no facts;
facts inside the ``next_year`` part are plans: indicator None.  Every quantity
is returned, with indicator None when it fits no catalog id.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache


from .model import Fact, Part
from .parts import part_at
from .quantities import UNITS, Quantity, find
from .textnorm import SENTENCE_STOPS, hard_stops, positions, soft_break, tester

_CATALOG_FILE = "indicators.yaml"

# clause boundaries (shadow text: full-width ASCII is already half-width)
_LEFT_STOP = frozenset("，,。；;：:(!！?？\n\r【[")
_RIGHT_STOP = frozenset("，,。；;：:、()!！?？\n\r【[]")
_LEFT_MAX = 40
_RIGHT_MAX = 18
_SENT_MAX = 220
# a short clause ("组织讲座45场") may borrow its object from the clause before
_FALLBACK_LEFT = 6
_FALLBACK_RIGHT = 3
_LIST_LEFT = 12
_QUOTE_STRIP = " \t\r\n\u3000、,，;；:："
_OWN_RATE = re.compile("率|比")  # "解决率92%" names its own measure


@lru_cache(maxsize=1)
def _raw_catalog() -> dict:
    from importlib import resources

    from .data import safe_yaml

    with resources.files("fazhi.data").joinpath(_CATALOG_FILE).open("r", encoding="utf-8") as f:
        return safe_yaml(f)


def load_catalog() -> dict[str, dict]:
    """Indicators by id: {id: {label, topic, kind, definition, examples}}."""
    return {d["id"]: {k: d.get(k) for k in ("label", "topic", "kind", "definition", "examples")}
            for d in _raw_catalog()["indicators"]}


def topics() -> dict[str, str]:
    return dict(_raw_catalog().get("topics") or {})


@dataclass
class _Ind:
    id: str
    kind: str
    units: frozenset
    priority: int
    rules: list  # list[tuple[needs, nots]], each a list[tuple[scope, Pattern]]
    nots: list   # list[tuple[scope, Pattern]]
    ratio_of: tuple
    trigger: re.Pattern | None = None  # union of the first words of the rules (c scope)
    test: object = None  # the trigger's test (``textnorm.tester``)


@dataclass
class _Rules:
    by_unit: dict          # base unit -> list[_Ind] (priority desc)
    plan: re.Pattern
    rate_not: re.Pattern
    ratio: re.Pattern
    breakdown: str
    ratio_map: dict        # count indicator -> rate indicator
    cont_max: int
    cont_not: re.Pattern
    cont_verbs: re.Pattern
    from_re: re.Pattern
    to_re: re.Pattern
    type_max: int
    unit_trigger: dict = None  # base unit -> union of its indicators' triggers or None (``_unit_trigger``)
    plan_test: object = None   # the tests (``textnorm.tester``) of plan, from_re and rate_not
    from_test: object = None
    rate_not_test: object = None
    plan_from_test: object = None  # plan or from_re, as one test when they can be joined
    untriggered: dict = None   # base unit -> its indicators without a trigger (``_untriggered``)


def _scoped(d: dict) -> tuple[str, re.Pattern]:
    (scope, rx), = d.items()
    if scope not in ("c", "l", "r", "s"):
        raise ValueError(f"bad scope {scope!r} in {_CATALOG_FILE}")
    return scope, re.compile(rx)


def _rule(r) -> tuple[list, list]:
    if isinstance(r, dict):
        return [_scoped(x) for x in r["need"]], [_scoped(x) for x in r.get("not", [])]
    return [_scoped(x) for x in r], []


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    cat = _raw_catalog()
    sets = {k: list(v) for k, v in cat["unit_sets"].items()}
    by_unit: dict[str, list[_Ind]] = {}
    ratio_map: dict[str, str] = {}
    for d in cat["indicators"]:
        m = d.get("match") or {}
        units = m.get("units", d["kind"])
        if isinstance(units, str):
            units = sets[units]
        ind = _Ind(
            id=d["id"], kind=d["kind"], units=frozenset(units),
            priority=int(m.get("priority", 0)),
            rules=[_rule(r) for r in m.get("rules", [])],
            nots=[_scoped(x) for x in m.get("not", [])],
            ratio_of=tuple(m.get("ratio_of", ())),
        )
        firsts = [r[0][0] for r in ind.rules]
        if firsts and all(sc == "c" for sc, _ in firsts):
            ind.trigger = re.compile("|".join(f"(?:{rx.pattern})" for _, rx in firsts))
            ind.test = tester(ind.trigger)
        for src in ind.ratio_of:
            ratio_map[src] = ind.id
        for u in ind.units:
            by_unit.setdefault(u, []).append(ind)
    for lst in by_unit.values():
        lst.sort(key=lambda i: -i.priority)
    R = _Rules(by_unit=by_unit, unit_trigger={}, untriggered={}, plan=re.compile(cat["plan_words"]),
                  rate_not=re.compile(cat["rate_not"]), ratio=re.compile(cat["ratio_words"]),
                  breakdown=cat["breakdown"], ratio_map=ratio_map,
                  cont_max=int(cat["continuation"]["max_left"]),
                  cont_not=re.compile(cat["continuation"]["not"]),
                  cont_verbs=re.compile(cat["continuation"]["verbs"]),
                  from_re=re.compile(cat["from_to"]["from"]),
                  to_re=re.compile(cat["from_to"]["to"]),
                  type_max=int(cat["breakdown_by_type"]["max_left"]))
    R.plan_test, R.from_test, R.rate_not_test = tester(R.plan), tester(R.from_re), tester(R.rate_not)
    R.plan_from_test = _either(R.plan, R.from_re)
    return R


def _either(a: re.Pattern, b: re.Pattern):
    """A test (``textnorm.tester``) true where ``a`` or ``b`` matches: their
    alternation when neither has groups (no back-reference can shift) and their
    flags agree, else the two tests one after the other."""
    if a.groups == 0 and b.groups == 0 and a.flags == b.flags:
        try:
            return tester(re.compile(f"(?:{a.pattern})|(?:{b.pattern})", a.flags))
        except re.error:  # e.g. a global inline flag inside one of them
            pass
    ta, tb = tester(a), tester(b)
    return lambda text, *span: ta(text, *span) or tb(text, *span)


def base_unit(unit: str) -> str:
    if unit in UNITS:
        return unit
    if unit[:1] in "万亿千" and unit[1:] in UNITS:
        return unit[1:]
    return unit


# ---------------------------------------------------------------------------
# the last clause stop or closing parenthesis before the end of the span it is
# matched on (at most _LEFT_MAX characters): the span taken whole, then given back
# from its end to the last stop - one test per character after it (the search of
# a stop followed by none tested each character twice)
_EVENTS = "".join(sorted(_LEFT_STOP | {")"}))
_LAST_EVENT = re.compile(f"(?s:.*)[{re.escape(_EVENTS)}]")


def _left_start(norm: str, pos: int, floor: int) -> int:
    """Start of the clause that ends at ``pos`` (not before ``floor``)."""
    lim = max(floor, pos - _LEFT_MAX)
    i = pos
    last = _LAST_EVENT.match
    while i > lim:
        # the characters after the last stop or ")" left of i: passed in one step
        m = last(norm, lim, i)
        if m is None:
            return lim
        i = m.end()
        c = norm[i - 1]
        if c == ")":  # skip a parenthesis: "发放宣传资料(物品)2.3万余份"
            j = norm.rfind("(", lim, i - 1)
            if j < 0:
                return i
            i = j
            continue
        if c in _LEFT_STOP and not (c == "\n" and soft_break(norm, i - 1)):
            return i
        i -= 1
    return i


def _right_end(norm: str, pos: int, ceil: int) -> int:
    lim = min(ceil, pos + _RIGHT_MAX, len(norm))
    i = pos
    while i < lim:
        c = norm[i]
        if (c in _RIGHT_STOP and not (c == "\n" and soft_break(norm, i))) or c.isdigit():
            break
        i += 1
    return i


def _sentence_stops(norm: str, masked: list[tuple[int, int]] = ()) -> list[int]:
    """Positions of the sentence ends (。；;!！?？ and line ends) of ``norm``
    (hard wraps excluded), less those inside the ``masked`` spans (disjoint, in
    text order: the titles, whose stand-ins hold no stop)."""
    out = hard_stops(norm, positions(norm, SENTENCE_STOPS))
    for a, b in reversed(masked):
        i = bisect_left(out, a)
        j = bisect_left(out, b, i)
        if i < j:
            del out[i:j]
    return out


def _sentence(stops: list[int], n: int, start: int, end: int) -> tuple[int, int]:
    k = bisect_left(stops, start)
    a = stops[k - 1] + 1 if k else 0
    k = bisect_left(stops, end)
    b = stops[k] if k < len(stops) else n
    return max(a, start - _SENT_MAX), min(b, end + _SENT_MAX)


class _Ctx:
    __slots__ = ("L", "R", "_S", "C")

    def __init__(self, L: str, R: str, S):
        """``S``: the sentence, or (text, start, end) to cut it from when a rule
        of sentence scope asks for it (few do: most quantities never need it)."""
        # any line break left inside a context is a hard wrap: read through it
        if "\n" in L:
            L = L.replace("\n", "")
        if "\n" in R:
            R = R.replace("\n", "")
        self.L, self.R, self._S = L, R, S
        self.C = L + "\x00" + R

    @property
    def S(self) -> str:
        S = self._S
        if type(S) is tuple:
            text, a, b = S
            S = text[a:b]
        if "\n" in S:
            S = S.replace("\n", "")
        self._S = S
        return S

    def dist(self, scope: str, rx: re.Pattern) -> int | None:
        """Distance of the nearest match to the number, or None."""
        best = None
        if scope in ("c", "l"):
            last = None
            for m in rx.finditer(self.L):
                last = m
            if last is not None:
                best = len(self.L) - last.end()
        if scope in ("c", "r"):
            m = rx.search(self.R)
            if m is not None:
                d = m.start() + 1
                if best is None or d < best:
                    best = d
        if scope == "s":
            return 0 if rx.search(self.S) else None
        return best

    def has(self, scope: str, rx: re.Pattern) -> bool:
        if scope == "s":
            return rx.search(self.S) is not None
        if scope in ("c", "l") and rx.search(self.L):
            return True
        if scope in ("c", "r") and rx.search(self.R):
            return True
        return False


def _unit_trigger(R: _Rules, unit: str):
    """The union of the triggers of a unit's indicators, as a test (``textnorm.tester``):
    one search tells that none of them matches (half the quantities), each trigger
    then need not be tried.  Compiled on first use (start-up compiles only the
    units a text has)."""
    try:
        return R.unit_trigger[unit]
    except KeyError:
        pass
    pats = [i.trigger.pattern for i in R.by_unit.get(unit, ()) if i.trigger is not None]
    rx = None
    if len(pats) > 1:
        try:
            rx = tester(re.compile("|".join(f"(?:{p})" for p in pats)))
        except re.error:  # patterns that cannot be joined (named groups): tried one by one
            rx = None
    R.unit_trigger[unit] = rx
    return rx


def _untriggered(R: _Rules, unit: str) -> list:
    """A unit's indicators that have no trigger, in priority order (what is left
    to try when the union of the triggers does not match)."""
    try:
        return R.untriggered[unit]
    except KeyError:
        got = R.untriggered[unit] = [i for i in R.by_unit.get(unit, ()) if i.trigger is None]
        return got


def _classify(q: Quantity, ctx: _Ctx, R: _Rules) -> str | None:
    # the searches whose match is only tested run as ``textnorm.tester``'s
    # (led by a character class: the engine skips to the candidates)
    if q.kind == "other":
        return None
    if R.plan_from_test(ctx.L):
        return None
    if q.kind == "rate" and (R.rate_not_test(ctx.L) or R.rate_not_test(ctx.R[:4])):
        return None
    best = None
    best_key = None
    bu = base_unit(q.unit)
    union = _unit_trigger(R, bu)
    C = ctx.C
    if union is None or union(C) is not None:
        inds = R.by_unit.get(bu, ())
    else:
        # no trigger matches: only the indicators without one can (the catalog
        # has none today: most quantities end here, without a loop)
        inds = _untriggered(R, bu)
        if not inds:
            return None
    for ind in inds:
        if best_key is not None and ind.priority < best_key[0]:
            break  # sorted by priority: nothing better can follow
        if ind.trigger is not None and not ind.test(C):
            continue
        if ind.nots and any(ctx.has(sc, rx) for sc, rx in ind.nots):
            continue
        for rule, rule_not in ind.rules:
            if rule_not and any(ctx.has(sc, rx) for sc, rx in rule_not):
                continue
            d0 = None
            ok = True
            for k, (sc, rx) in enumerate(rule):
                d = ctx.dist(sc, rx)
                if d is None:
                    ok = False
                    break
                if k == 0:
                    d0 = d
            if ok:
                key = (ind.priority, -(d0 or 0))
                if best_key is None or key > best_key:
                    best, best_key = ind.id, key
                break
    return best


_TITLE = re.compile(r"《([^《》\n]{1,60})》")
_LAW_TITLE = re.compile(r"(?:法|法典|条例|规定|办法|细则|准则|规则|纲要|决定|意见|通知|解释|规范)$")


def _mask_title(m: re.Match) -> str:
    """Same-length stand-in for a title: its words must not pass for context
    (《信访工作条例》 is not about petitions); a law title reads as 法律."""
    inner = m.group(1)
    if _LAW_TITLE.search(inner):
        fill = ("法律" + "_" * len(inner))[:len(inner)]
    else:
        fill = "_" * len(inner)
    return "《" + fill + "》"


# how a quantity got its indicator (``fazhi explain``)
HOW = {
    "words": "分句中的指标用语",
    "borrow": "借用前一分句的用语",
    "list": "顿号列举共用开头的动词",
    "from_to": "“由…提高到…”的新值",
    "ratio": "数量之后的“占比”",
    "breakdown": "“其中”之后的分项",
    "by_type": "总数之后按类型的分项（同一中心词）",
    "continuation": "续计前一个数量",
    "plan": "下一年度安排中的计划数，不计为数据",
}


def extract(text: str, norm: str, parts: list[Part], why: list | None = None) -> list[Fact]:
    """Facts of a report: every quantity, with its indicator id or None.
    ``why``, when given, receives one ``HOW`` key (or None) per fact."""
    R = _rules()
    parts = parts or []
    qs = find(norm)
    masked: list[tuple[int, int]] = []
    if "《" in norm:
        # the stops are those of the text less the ones inside a title (a stand-in
        # has none, and a line end is never inside one): read before masking,
        # on the text the numeric rules read too
        pieces, pos = [], 0
        for m in _TITLE.finditer(norm):
            pieces.append(norm[pos:m.start()])
            pieces.append(_mask_title(m))
            pos = m.end()
            masked.append(m.span(1))
        stops = _sentence_stops(norm, masked)
        if masked:
            pieces.append(norm[pos:])
            norm = "".join(pieces)
    else:
        stops = _sentence_stops(norm)
    n = len(qs)
    inds: list[str | None] = [None] * n
    lefts: list[int] = [0] * n
    rights: list[int] = [0] * n
    sents: list[tuple[int, int]] = [(0, 0)] * n
    how: list[str | None] = [None] * n
    list_head = 0
    for i, q in enumerate(qs):
        floor = qs[i - 1].end if i else 0
        ceil = qs[i + 1].start if i + 1 < n else len(norm)
        ls = _left_start(norm, q.start, floor)
        re_ = _right_end(norm, q.end, ceil)
        ss, se = _sentence(stops, len(norm), q.start, q.end)
        lefts[i], rights[i], sents[i] = ls, re_, (ss, se)
        ctx = _Ctx(norm[ls:q.start], norm[q.end:re_], (norm, ss, se))
        ind = _classify(q, ctx, R)
        h_ = "words"
        if ind is None and ls > ss and ls > floor and q.start - ls <= _FALLBACK_LEFT \
                and re_ - q.end <= _FALLBACK_RIGHT and not _OWN_RATE.search(norm, ls, q.start):
            # the object noun may sit in the clause before:
            # "开展普法宣传“七进”活动,组织讲座45场"
            ls2 = _left_start(norm, ls - 1, max(floor, ss))
            h_ = "borrow"
            if ls2 < ls - 1:
                ind = _classify(q, _Ctx(norm[ls2:q.start], ctx.R, ctx._S), R)
            elif i and ls - 1 <= floor + 1 and lefts[i - 1] >= ss and qs[i - 1].kind != q.kind:
                # the clause before ends with a quantity of another kind: borrow
                # its words ("开展执法证件考试2次,参考人员260人"); a count after a
                # count measures something else ("审查合同120件,提出意见30件")
                L2 = norm[lefts[i - 1]:qs[i - 1].start] + "，" + norm[ls:q.start]
                ind = _classify(q, _Ctx(L2, ctx.R, ctx._S), R)
        in_list = bool(i) and ls == floor and norm.startswith("、", ls)
        if ind is None and in_list and q.start - ls <= _LIST_LEFT:
            # a list sharing its verb: "审查重大行政决策事项18件、行政规范性文件26件"
            h, h_ = list_head, "list"
            if lefts[h] >= ss:
                L2 = norm[lefts[h]:qs[h].start] + "，" + norm[ls + 1:q.start]
                ind = _classify(q, _Ctx(L2, ctx.R, ctx._S), R)
        inds[i] = ind
        how[i] = h_ if ind else None
        if not in_list:
            list_head = i  # the item a following 、-list borrows its verb from

    # genre patterns that look at neighbouring quantities of the same sentence
    for i, q in enumerate(qs):
        if inds[i] is not None or i == 0:
            continue
        ss = sents[i][0]
        p = i - 1
        if qs[p].start >= ss and base_unit(qs[p].unit) == base_unit(q.unit) \
                and R.to_re.search(norm[lefts[i]:q.start]) \
                and R.from_re.search(norm[lefts[p]:qs[p].start]):
            # "出庭应诉率由2021年的85%提高到100%"
            L = norm[lefts[p]:qs[p].start]
            L = L[:R.from_re.search(L).start()]
            inds[i] = _classify(q, _Ctx(L, norm[q.end:rights[i]], (norm, ss, sents[i][1])), R)
            how[i] = "from_to"
            continue
        if q.kind == "rate":
            p = i - 1
            if qs[p].start >= ss and inds[p] in R.ratio_map \
                    and R.ratio.search(norm[lefts[i]:q.start]):
                inds[i], how[i] = R.ratio_map[inds[p]], "ratio"
            continue
        # breakdown: a total with an indicator, then 其中 ..., then this quantity
        k = norm.rfind(R.breakdown, ss, q.start)
        if k >= 0:
            for p in range(i - 1, -1, -1):
                if qs[p].end <= ss:
                    break
                if qs[p].end <= k and inds[p] is not None:
                    if qs[p].kind == q.kind and base_unit(q.unit) in _units_of(inds[p]):
                        inds[i], how[i] = inds[p], "breakdown"
                    break
            continue
        # breakdown by type without 其中: "政务服务事项515项,行政许可事项218项、
        # 公共服务事项297项" - items named with the total's head noun (事项, 案件,
        # 纠纷), right after it in the same sentence, no larger than it
        left = norm[lefts[i]:q.start]
        hd = _head(left)
        if hd and len(left) <= R.type_max:
            p = i - 1
            while p >= 0 and qs[p].start >= ss and inds[p] is None and _head(norm[lefts[p]:qs[p].start]) == hd:
                p -= 1
            if p >= 0 and qs[p].start >= ss and inds[p] is not None and _head(norm[lefts[p]:qs[p].start]) == hd \
                    and base_unit(qs[p].unit) == base_unit(q.unit) and q.value <= qs[p].value \
                    and not R.plan.search(left):
                inds[i], how[i] = inds[p], "by_type"
                continue
        # continuation: "受理行政复议案件45件,受理39件,审结36件" - a clause that is
        # only a verb goes on counting what the previous quantity counted
        p = i - 1
        if inds[p] is not None and qs[p].start >= ss and qs[p].kind == q.kind \
                and len(left.strip()) <= R.cont_max and rights[i] - q.end <= 2 \
                and base_unit(q.unit) in _units_of(inds[p]) \
                and lefts[i] > qs[p].end and not R.cont_not.search(left) \
                and R.cont_verbs.search(left.strip()):
            ind = _ind_by_id()[inds[p]]
            ctx = _Ctx(left, norm[q.end:rights[i]], (norm, ss, sents[i][1]))
            if not any(ctx.has(sc, rx) for sc, rx in ind.nots):
                inds[i], how[i] = inds[p], "continuation"

    facts: list[Fact] = []
    for i, q in enumerate(qs):
        part = part_at(parts, q.start)
        ind = inds[i] if part != "next_year" else None
        if why is not None:
            why.append("plan" if part == "next_year" and inds[i] else how[i] if ind else None)
        a = max(lefts[i], q.start - 16)
        b = min(rights[i], q.end + 14)
        quote = text[a:b].strip(_QUOTE_STRIP)
        # (positional: indicator, value, unit, approx, start, end, part, quote)
        facts.append(Fact(ind, q.value, q.unit, q.approx, q.start, q.end, part, quote))
    return facts


def matched_words(ind_id: str, context: str) -> list[str]:
    """The catalog words of ``ind_id`` found in ``context`` (shadow text):
    what a person reads to see why a quantity got this indicator."""
    ind = _ind_by_id().get(ind_id)
    if ind is None:
        return []
    for rule, _ in ind.rules:
        found = [m.group() for _, rx in rule if (m := rx.search(context))]
        if len(found) == len(rule):
            return found
    return []


@lru_cache(maxsize=None)
def _ind_by_id() -> dict:
    out = {}
    for lst in _rules().by_unit.values():
        for ind in lst:
            out[ind.id] = ind
    return out


_HEAD_WORDS = ("共", "共计", "合计", "累计", "总计", "达到", "达", "为", "有", "约", "近", "超过", "计", "的", "等",
               "数", "总数", "数量", "余")
_HEAD_TRIM = re.compile("(?:" + "|".join(_HEAD_WORDS) + ")+$")


def _head(left: str) -> str | None:
    """The head noun of the words before a number (its last two characters once
    counting words are trimmed): 行政许可事项 -> 事项, 家庭纠纷 -> 纠纷."""
    w = left.strip(" ,，、:：(（")
    # most end with none of the words (nor with a line break, before which $ matches too)
    if w.endswith(_HEAD_WORDS) or w.endswith("\n"):
        w = _HEAD_TRIM.sub("", w)
    if len(w) < 3 or not ("\u4e00" <= w[-1] <= "\u9fff" and "\u4e00" <= w[-2] <= "\u9fff"):
        return None
    return w[-2:]


def _units_of(ind_id: str) -> frozenset:
    ind = _ind_by_id().get(ind_id)
    return ind.units if ind else frozenset()
