"""Numeric consistency checks: the arithmetic nobody checks by hand.

``check(report, sh, params)`` returns ``(kind, severity, message, start, end)``
tuples; ``start``/``end`` cover the evidence, from the first number involved to
the end of the last, as offsets into ``report.text``.  Four kinds:

* ``rate_mismatch`` — a stated share ("负责人出庭38宗,占比95%", "调解成功率达
  94.44%") that no pair of the counts before it (same sentence or the one
  before) produces.  A rate is flagged only when the count nearest before it is
  clearly what the rate measures (a bare 占比/比例 right after it, or the rate's
  name — 成功率, 出庭应诉率 — repeats the count's verb) and an earlier, larger
  count of the same unit exists to divide by.  When fewer than two usable counts
  are there, nothing is said.
* ``breakdown_exceeds_total`` — "案件18起,其中家庭纠纷3起,合同纠纷4起…" whose
  items add up to more than the total (less is fine: lists may be partial).
* ``percent_over_100`` — a share/ratio above 100% (change rates such as
  增长150% and attainment rates such as 完成率120% are fine).
* ``part_exceeds_total`` — "受理调解案件50件,调解成功52件": a subset count
  (成功/办结/审结/化解/结案/出庭/通过 …) larger than the total it belongs to, in
  one sentence, same unit, same object.

Everything runs on the shadow text ``sh`` (same offsets as ``report.text``).
Precision comes first: every check stays silent where the text leaves room for
another reading (approximate numbers, 万-rounded numbers, carried-over cases,
a denominator outside the text such as 占全市的…, 分别为 lists, plans).
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

from ..facts import base_unit, load_catalog
from ..quantities import Quantity, find
from ..textnorm import SENTENCE_STOPS, hard_stops, positions, tester

KINDS = ("rate_mismatch", "breakdown_exceeds_total", "percent_over_100", "part_exceeds_total")
DEFAULT_TOLERANCE = 0.6  # percentage points
# a stated rate further than this from the pair is taken to have a base the
# text does not give ("新增持证人员48人…持证率98%"), not to be a slip
DEFAULT_MAX_GAP = 30.0

# --------------------------------------------------------------- vocabulary
# sentence ends (shadow text: full-width punctuation is already half-width)
_HARD_STOPS = "。!?\n\r"
_SEMI_STOPS = ";"
_CLAUSE_STOPS = frozenset(",，。;；:：!！?？\n\r、()（）[]【】")

# a ratio: the words before the number
_RATIO = re.compile("率|占比|比例|比率|比重|占(?![地用道有据领位线])")
# what may stand between the ratio word and the number ("办结率达到95%", "占总数的40%")
_RATIO_TAIL = re.compile("^[^,，。;；:：]{0,8}$")
_RATIO_TAIL_NOT = re.compile("原来|原有|去年|上年|同期|之前|以前|倍")
# a change, not a level ("同比增长15%", "提高了20%"); "提高到95%" is a level
_CHANGE = re.compile(
    "同比|环比|(?:增长|下降|提高|提升|上升|降低|增加|减少|缩短|压缩|下滑|回落)(?![到至])|"
    "增幅|降幅|增速|涨幅|跌幅|减幅|百分点|较上年|比上年|较去年|比去年|较上一年|较\\d{4}年")
# "由2021年的85%提高到100%": the first value is an old level
_FROM_LEFT = re.compile("由[^,，。;；]{0,14}$")
_TO_RIGHT = re.compile("^(?:提高|提升|上升|增加|增长|下降|降低|减少|缩短|压缩)")
# ratios that may legitimately exceed 100% (attainment, use of a budget …)
_MAY_EXCEED = re.compile("原来|原有|完成|超额|执行|达成|利用|使用|负债|贡献|相当于|上年|去年|同期|上一年|预算|计划|结收")
# plans and targets: not results
_PLAN = re.compile("力争|争取|预计|目标|计划|不低于|不少于|至少|确保|力求|要求达到")
# the rate's name lists several rates: "结案率、满意率分别为95%、98%"
_RESPECTIVELY = re.compile("分别|依次|各为")
# a denominator outside the text: "占全市的15%"
_EXTERNAL = re.compile("占[^,，。;；]{0,12}(?:全国|全省|全市|全区|全县|全镇|全街|全州|全盟|全旗|上级|总量的|总额的)")
# a bare share right after the count: "(负责人出庭38宗,占比95%)"
_BARE_SHARE = re.compile(
    "^[\\s,，]*(?:的)?(?:占比|比例|比重|占(?:[^,，。;；\\d率]{0,10}?的)?)"
    "(?:为|达|达到|是|约为|约|近|超过)?\\s*$")
# qualifiers in a rate's name that the counted clause must repeat to be the same thing
_QUALIFIERS = ("按期", "按时", "及时", "限时", "一次性", "满意", "当场", "现场", "网上", "线上",
               "首次", "一次", "当日", "当天", "提前", "优秀", "良好")
# outcome verbs a rate's name may carry before its head
_OUTCOME = re.compile("成功|办结|审结|化解|结案|出庭|通过|调处|办复|答复|回复|胜诉|败诉|合格|采纳|"
                      "受理|处置|整改|公开|履行|执行|调解|持证|覆盖|到位|参加|参与")
# a gap between two items of one list
_LIST_GAP = re.compile("^[^,，。;；:：!?\\d]{0,12}$")
_LIST_SEP = re.compile("、|和|及|与|以及")
# bigrams too general to tie a rate to a count
_GENERIC = frozenset(("案件", "纠纷", "事项", "工作", "行政", "考试", "群众", "企业", "文件", "诉讼",
                      "总体", "综合", "整体", "平均", "全年", "年度", "全市", "全区", "全县", "当年",
                      "人员", "干部", "单位", "部门", "服务", "办理", "总的"))

# breakdowns
_BREAKDOWN = "其中"
_TOTAL_GAP = re.compile("^[^\\d,，。;；:：!?、]{0,10}[,，:：(（]?\\s*$")
_ITEM_STOP = re.compile(
    "已|共|累计|合计|总计|总|全部|均|占|率|比|此外|另外|另有|同时|还|并|以及|涉及|同比|较|新增|增加|减少|"
    "成功|办结|审结|结案|化解|满意|完成|通过|出庭|采纳|胜诉|败诉|撤诉|达|实现|其中")
_ITEM_MAX = 16  # a list item is a short noun phrase: "合同纠纷4起"
# a verb that starts a new statement unless the first item had it too
_ITEM_VERB = re.compile("办理|受理|开展|组织|举办|发放|审查|审核|出具|提供|接待|培训|聘请|制定|出台|"
                        "修订|印发|查处|处理|调解|立案|作出|收到|接收|参加|参与|走访|排查|"
                        "持证|持有|具有|取得|配备|成功|办结|审结|结案|化解|通过|合格|出庭")

# a total and a subset of it
_TOTAL_WORDS = re.compile("(?<!不予)(?<![不未])(?:受理|共|累计|总计|合计|收到|接收|接到|参与|参加|开庭|应诉|排查|登记)")
_NEGATED = re.compile("不予|未|不|没有|无法|尚未")
_SUBSET_WORDS = re.compile("成功|办结|审结|化解|结案|出庭|通过|调处|办复|答复|胜诉|合格|采纳")
# the count before a rate is an increment, not the part the rate measures
_PART_NOT = re.compile("新增|新招|新录|新聘|新办|增加|增长|减少|净增|同比|较|另|再")
_SUBSET_NOT = re.compile("累计|共计|合计|总|以来|历年|同比|较|比|增加|增长|新增|超过|另|此外|多于|以上")
_CARRY_OVER = re.compile("结转|上年|往年|去年|旧存|积存|存量|积案|遗留|历史|此前|以前|前期|往期")
# the two above are led by a group or a look-behind: tested (``textnorm.tester``), not searched
_CHANGE_TEST = tester(_CHANGE)
_TOTAL_TEST = tester(_TOTAL_WORDS)
_SUBSET_FILL = re.compile(
    "行政机关|机关|主要负责人|负责人|领导干部|领导|已经|已|均|全部|依法|当场|当年|年内|其中|并|且|的|了|"
    "予以|进行|为|有|案件|一次性|共|达|实现")


# ----------------------------------------------------------------- helpers
class _Q:
    """A quantity as the checks read it: its value, span and base unit, whether
    it is an exact integer count (not approximate, not rounded to 万/亿/千) and
    a count of things or people - worked out once, read many times."""
    __slots__ = ("q", "i", "indicator", "part", "value", "start", "end", "unit", "exact", "counted")

    def __init__(self, q: Quantity, i: int, indicator: str | None, part: str | None):
        self.q, self.i, self.indicator, self.part = q, i, indicator, part
        self.value, self.start, self.end = q.value, q.start, q.end
        self.unit = base_unit(q.unit)
        self.exact = not q.approx and q.unit == self.unit and float(q.value).is_integer()
        self.counted = q.kind in ("count", "people")


@lru_cache(maxsize=1)
def _rate_indicators() -> frozenset:
    try:
        return frozenset(k for k, d in load_catalog().items() if d.get("kind") == "rate")
    except Exception:  # the catalog is optional for these checks
        return frozenset()


@lru_cache(maxsize=8)
def _stop_re(chars: str) -> re.Pattern:
    return re.compile("[" + re.escape(chars) + "]")


def _stops(sh: str, chars: str) -> list[int]:
    if all(c in SENTENCE_STOPS for c in chars):  # the stops the facts stage found
        out = [i for i in positions(sh, SENTENCE_STOPS) if sh[i] in chars]
    else:
        out = [m.start() for m in _stop_re(chars).finditer(sh)]
    # a line may also wrap after a per cent sign (e.g. 增长12%, then 以上 on the next line)
    return hard_stops(sh, out, before="%") if "\n" in chars else out


def _span(stops: list[int], n: int, pos: int) -> tuple[int, int]:
    """The sentence [a, b) containing ``pos``."""
    k = bisect_right(stops, pos - 1)  # stops strictly before pos
    a = stops[k - 1] + 1 if k else 0
    b = stops[k] if k < len(stops) else n
    return a, b


# the last clause stop before the end of the span it is matched on (at most
# ``limit`` characters): the span taken whole, then given back to the stop
_LAST_STOP = re.compile("(?s:.*)[{0}]".format(re.escape("".join(sorted(_CLAUSE_STOPS)))))


def _left(sh: str, pos: int, floor: int, limit: int = 30) -> str:
    """The clause left of ``pos`` (not before ``floor``)."""
    lim = max(floor, pos - limit, 0)
    if pos <= lim:
        return sh[pos:pos]
    # the span taken whole and given back to its last stop (as ``facts._LAST_EVENT``)
    m = _LAST_STOP.match(sh, lim, pos)
    return sh[m.end() if m else lim:pos]


def _left_start(sh: str, pos: int, floor: int, limit: int = 30) -> int:
    return pos - len(_left(sh, pos, floor, limit))


def _right(sh: str, pos: int, limit: int = 8) -> str:
    j = pos
    end = min(len(sh), pos + limit)
    while j < end and sh[j] not in _CLAUSE_STOPS and not sh[j].isdigit():
        j += 1
    return sh[pos:j]


def _bigrams(s: str) -> set[str]:
    return {s[k:k + 2] for k in range(len(s) - 1)
            if "\u4e00" <= s[k] <= "\u9fff" and "\u4e00" <= s[k + 1] <= "\u9fff"}


def _fmt(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _decimals(v: float) -> int:
    s = _fmt(v)
    return len(s.split(".")[1]) if "." in s else 0


def _lower_bound_rate(txt: str) -> bool:
    return bool(re.search("以上|超过|逾|超|多|有余", txt))


def _upper_bound_rate(txt: str) -> bool:
    return bool(re.search("近|将近|不到|接近", txt))


# ------------------------------------------------------------------ context
class _Doc:
    def __init__(self, report, sh: str):
        self.text = report.text
        self.sh = sh
        self.n = len(sh)
        facts = {(f.start, f.end): f for f in (report.facts or [])}
        qs = find(sh)
        self.qs: list[_Q] = []
        for i, q in enumerate(qs):
            f = facts.get((q.start, q.end))
            self.qs.append(_Q(q, i, f.indicator if f else None, f.part if f else None))
        self.starts = [q.start for q in self.qs]
        # one pass: the sentence stops are the segment stops less the semicolons
        self.semi = _stops(sh, _HARD_STOPS + _SEMI_STOPS)
        self.hard = [i for i in self.semi if sh[i] not in _SEMI_STOPS]

    def between(self, a: int, b: int) -> list[_Q]:
        """The quantities lying inside [a, b)."""
        i = bisect_left(self.starts, a)
        out = []
        while i < len(self.qs) and self.qs[i].start < b:
            if self.qs[i].end <= b:
                out.append(self.qs[i])
            i += 1
        return out

    def sentence(self, pos: int) -> tuple[int, int]:
        return _span(self.hard, self.n, pos)

    def segment(self, pos: int) -> tuple[int, int]:
        """Sentence with ; as a stop too."""
        return _span(self.semi, self.n, pos)

    def floor(self, q: _Q, sent_start: int) -> int:
        prev = self.qs[q.i - 1].end if q.i else 0
        return max(sent_start, prev)

    def clause(self, q: _Q, sent_start: int) -> str:
        """Words of a count's own clause, left of it plus the noun right after."""
        return _left(self.sh, q.start, self.floor(q, sent_start)) + _right(self.sh, q.end)

    def quote(self, q: _Q) -> str:
        return self.text[q.start:q.end]


# --------------------------------------------------------------- the rates
def _ratio_rate(doc: _Doc, r: _Q) -> str | None:
    """The words naming a ratio rate (its left clause), or None for change
    rates and other percentages."""
    if r.q.unit != "%":
        return None
    ss, _ = doc.sentence(r.start)
    left = _left(doc.sh, r.start, doc.floor(r, ss), 24)
    right = _right(doc.sh, r.end, 6)
    if _CHANGE_TEST(left) or _CHANGE_TEST(right[:4]):
        return None
    if _RATIO_TAIL_NOT.search(left):
        return None  # "提高到原来的200%": a multiple of an old level
    if r.indicator in _rate_indicators():
        return left
    m = None
    for m in _RATIO.finditer(left):
        pass
    if m is not None:
        tail = left[m.end():]
        if m.group().startswith("占") and len(m.group()) == 1:
            tail = re.sub("^[^,，。;；:：\\d]{0,12}的", "", tail)
        if _RATIO_TAIL.search(tail):
            return left
    return None


def _pair_ok(p: float, w: float, stated: float, tol: float, approx_txt: str | None) -> bool:
    if w <= 0 or p > w:
        return False
    calc = p / w * 100.0
    for c in (calc, 100.0 - calc):  # the complement: 败诉率 from 胜诉 and 应诉
        if approx_txt is None:
            if abs(c - stated) <= tol:
                return True
        elif _lower_bound_rate(approx_txt):
            if c >= stated - tol:
                return True
        elif _upper_bound_rate(approx_txt):
            if stated - 5.0 - tol <= c <= stated + tol:
                return True
        elif abs(c - stated) <= max(tol, 2.5):
            return True
    return False


def _run_sums(sh: str, qs: list[_Q]) -> list[float]:
    """Sums of the 、-lists of same-unit counts (a total the text leaves to
    the reader: "建议25件、提案23件")."""
    out = []
    for a in range(len(qs)):
        s = qs[a].value
        for b in range(a + 1, min(len(qs), a + 8)):
            gap = sh[qs[b - 1].end:qs[b].start]
            if qs[b].unit != qs[a].unit or not (_LIST_GAP.search(gap) and _LIST_SEP.search(gap)):
                break
            s += qs[b].value
            out.append(s)
    return out


def _linked(doc: _Doc, part: _Q, r: _Q, rleft: str, ss: int) -> bool:
    """Is the count ``part`` what rate ``r`` measures?"""
    # a bare share right after the count
    between = doc.sh[part.end:r.start]
    if part.i == r.i - 1 and len(between) <= 14 and _BARE_SHARE.search(between.replace("%", "")):
        if between.count(",") + between.count("，") <= 1 and not _EXTERNAL.search(between):
            return True
    # the rate's name repeats the count's words: 调解成功率 ~ 已成功调解17起
    k = rleft.rfind("率")
    if k <= 0:
        return False
    name = rleft[:k]
    name = re.sub("^(?:的|其|总)", "", name)[-6:]
    pclause = doc.clause(part, ss)
    for w in _QUALIFIERS:
        if w in name and w not in pclause:
            return False
    # the head of the name (办结率, 持证率), or an outcome verb just before it
    # (出庭应诉率); object nouns (建议提案办复率) do not tie the rate to one count
    keys = {name[-2:]}
    if len(name) >= 4 and _OUTCOME.fullmatch(name[-4:-2]):
        keys.add(name[-4:-2])
    keys = {b for b in keys if b in _bigrams(b)} - _GENERIC
    return any(b in pclause for b in keys)


def _window_start(doc: _Doc, r: _Q, params: dict) -> int:
    w = params.get("window", "sentence")
    ss, _ = doc.sentence(r.start)
    if isinstance(w, int) and not isinstance(w, bool):
        return max(0, r.start - w)
    if w in ("sentence_only", "same_sentence"):
        return ss
    # "sentence": this sentence and the one before it
    return doc.sentence(ss - 1)[0] if ss > 0 else ss


def _rate_mismatch(doc: _Doc, params: dict, out: list) -> None:
    tol = float(params.get("rate_tolerance", DEFAULT_TOLERANCE))
    max_gap = float(params.get("rate_max_gap", DEFAULT_MAX_GAP))
    for r in doc.qs:
        if r.q.unit != "%" or r.part == "next_year":
            continue
        rleft = _ratio_rate(doc, r)
        if rleft is None:
            continue
        ss, se = doc.sentence(r.start)
        wider = doc.sh[max(ss, r.start - 40):r.start]
        if _PLAN.search(rleft) or _RESPECTIVELY.search(rleft) or _EXTERNAL.search(rleft):
            continue
        lc = _left(doc.sh, r.start, ss, 24)
        if _FROM_LEFT.search(lc) or _TO_RIGHT.search(_right(doc.sh, r.end, 6)):
            continue  # "由85%提高到…": an old level
        if _RESPECTIVELY.search(wider[-12:]):
            continue
        ws = _window_start(doc, r, params)
        before = [q for q in doc.between(ws, r.start) if q.counted]
        after = [q for q in doc.between(r.end, se) if q.counted]
        if len(before) < 2:
            continue  # nothing to compute the rate from
        stated = r.value
        rtxt = doc.text[r.start:r.end]
        approx_txt = doc.sh[r.start:r.end] if r.q.approx else None
        pool = before + after
        near = before[-1]
        earlier = [q for q in before[:-1] if q.unit == near.unit and q.exact]
        # the count the rate names ("成功调解23起…成功率") above every earlier count of
        # its unit: no share of them can be right, whatever other pairs give
        sums = _run_sums(doc.sh, before)
        exceeds = (near.exact and earlier and stated <= 100
                   and near.value > max([q.value for q in earlier] + sums)  # nor a listed sum
                   and _linked(doc, near, r, rleft, doc.sentence(near.start)[0]))
        if not exceeds and any(_pair_ok(a.value, b.value, stated, tol, approx_txt)
                               for a in pool for b in pool if a is not b):
            continue  # some pair gives the stated rate
        if not exceeds and any(_pair_ok(a.value, w, stated, tol, approx_txt) for a in pool for w in sums):
            continue  # a part of a listed sum: "建议25件、提案23件,办复46件,办复率95.8%"
        # a plausible pair that does not: the count nearest before the rate
        part = before[-1]
        if not part.exact or not _linked(doc, part, r, rleft, doc.sentence(part.start)[0]):
            continue
        whole = next((q for q in reversed(before[:-1])
                      if q.unit == part.unit and q.value > part.value), None)
        over = False
        if whole is None:
            # the part exceeds every earlier count: against the first (the total)
            # the rate would pass 100%, which no share can
            whole = next((q for q in before[:-1] if q.unit == part.unit and q.exact), None)
            over = whole is not None and part.value > whole.value and stated <= 100
            if not over:
                continue
        if not whole.exact:
            continue
        pss = doc.sentence(part.start)[0]
        pclause = doc.clause(part, pss)
        if _PART_NOT.search(pclause):
            continue
        wss = doc.sentence(whole.start)[0]
        if wss != pss:  # the total sits in the sentence before: same topic?
            common = _bigrams(doc.clause(whole, wss)) & (_bigrams(pclause) | _bigrams(rleft))
            if not common:
                continue
        calc = part.value / whole.value * 100.0
        if abs(calc - stated) > max_gap and not over:
            continue
        d = max(1, _decimals(stated))
        msg = (f"比率与所列数字不符：{_fmt(part.value)}÷{_fmt(whole.value)}={calc:.{d}f}%"
               f"（{doc.quote(part)}÷{doc.quote(whole)}），文中写作{rtxt}，请核对。")
        out.append(("rate_mismatch", "error", msg, whole.start, r.end))


def _percent_over_100(doc: _Doc, out: list) -> None:
    for r in doc.qs:
        if r.q.unit != "%" or r.value <= 100.0 + 1e-9:
            continue
        rleft = _ratio_rate(doc, r)
        if rleft is None:
            continue
        ss, _ = doc.sentence(r.start)
        if _MAY_EXCEED.search(doc.sh[max(ss, r.start - 24):r.start]):
            continue
        rtxt = doc.text[r.start:r.end]
        label = re.sub("(?:达到|达|为|是|到|至|了|的)+$", "", rleft.strip()) or "比率"
        msg = (f"比率超过100%：“{label}”写作{rtxt}，占比或比率不应超过100%，"
               f"请核对数字（如为增长幅度，请写明“增长”）。")
        out.append(("percent_over_100", "error", msg, r.start, r.end))


# ------------------------------------------------------------- breakdowns
def _breakdown(doc: _Doc, out: list) -> None:
    sh = doc.sh
    k = sh.find(_BREAKDOWN)
    while k >= 0:
        nxt = sh.find(_BREAKDOWN, k + 2)
        _one_breakdown(doc, k, out)
        k = nxt


def _one_breakdown(doc: _Doc, k: int, out: list) -> None:
    sh = doc.sh
    ss, se = doc.sentence(k)
    prior = doc.between(ss, k)
    if not prior:
        return
    total = prior[-1]
    if not total.counted or not _TOTAL_GAP.search(sh[total.end:k]):
        return
    # "18起(其中…)": the breakdown ends with the parenthesis
    end = se
    gap = sh[total.end:k]
    if "(" in gap or "（" in gap:
        c = min([j for j in (sh.find(")", k, se), sh.find("）", k, se)) if j >= 0] or [se])
        end = c
    items: list[_Q] = []
    first_verbs: set[str] = set()
    depth = 0
    pos = k + len(_BREAKDOWN)
    for q in doc.between(pos, end):
        seg = sh[pos:q.start]
        depth += seg.count("(") + seg.count("（") - seg.count(")") - seg.count("）")
        pos = q.start
        if depth > 0:
            continue  # a detail of an item: "家庭纠纷3起(涉及5人)"
        floor = max(k + len(_BREAKDOWN), doc.qs[q.i - 1].end if q.i else 0)
        left = _left(sh, q.start, floor, 40)
        if items:
            if _ITEM_STOP.search(left) or len(left) > _ITEM_MAX:
                break
            # items of one list are alike: all categories ("家庭纠纷3起") or all
            # the same act ("受理45件,不予受理5件"); "其中持证800人,公职律师85人"
            # mixes an attribute with roles
            v = set(_ITEM_VERB.findall(left))
            if v != first_verbs and not (v and v <= first_verbs):
                break
            if _BREAKDOWN in sh[items[-1].end:q.start]:
                break
            if sum(x.value for x in items) == total.value:
                break  # the items already make up the total: what follows is another cut
        else:
            first_verbs = set(_ITEM_VERB.findall(left))
        if q.unit != total.unit or q.q.kind != total.q.kind:
            break
        items.append(q)
    if not items:
        return
    if not total.exact or not all(q.exact for q in items):
        return
    s = sum(q.value for q in items)
    if s <= total.value + 1e-9:
        return
    # "受理行政案件30件、民事案件20件,其中…": the count before 其中 may be the
    # last item of a list, the breakdown one of the whole list
    run = total.value
    for q in reversed(prior[:-1]):
        if q.unit != total.unit or q.q.kind != total.q.kind:
            break
        run += q.value
    if s <= run + 1e-9:
        return
    unit = total.q.unit
    terms = "+".join(_fmt(q.value) for q in items)
    expr = f"{terms}={_fmt(s)}{unit}" if len(items) > 1 else f"{_fmt(s)}{unit}"
    msg = (f"分项之和超过总数：“其中”所列各项合计{expr}，多于总数{_fmt(total.value)}{unit}"
           f"（原文“{doc.quote(total)}”），请核对总数或各分项数字。")
    out.append(("breakdown_exceeds_total", "error", msg, total.start, items[-1].end))


# ---------------------------------------------------------- part > total
# a subset is looked for among this many quantities after its total (bounds the
# work on a sentence of thousands of quantities; real breakdowns are a few)
_SUBSET_REACH = 64

def _part_exceeds(doc: _Doc, out: list) -> None:
    sh = doc.sh
    carry: dict[int, bool] = {}  # segment start -> it names a carry-over (searched once per segment)
    lefts: dict[tuple[int, int], str] = {}  # (quantity, segment start) -> its left clause

    def left_of(q: _Q, ss: int) -> str:
        # a count's left clause is read once per segment, not once per total before it
        k = (q.i, ss)
        v = lefts.get(k)
        if v is None:
            v = lefts[k] = _left(sh, q.start, doc.floor(q, ss))
        return v

    marks: dict[tuple[int, int], tuple[str, int]] = {}  # (quantity, segment start) -> (left clause, its kind)

    def subset_mark(q: _Q, ss: int) -> tuple[str, int]:
        # what a count's clause says as a candidate subset, worked out once per
        # segment: 0 none (another total when it names one: 1), 2 a subset, 3 a
        # subset word that the clause itself takes back (累计, 同比 …, a plan)
        k = (q.i, ss)
        v = marks.get(k)
        if v is None:
            sl = left_of(q, ss)
            if not _SUBSET_WORDS.search(sl):
                v = (sl, 1 if _TOTAL_TEST(sl) else 0)
            else:
                v = (sl, 3 if _SUBSET_NOT.search(sl) or _PLAN.search(sl) else 2)
            marks[k] = v
        return v

    for t in doc.qs:
        if not t.counted or not t.exact or t.part == "next_year":
            continue
        ss, se = doc.segment(t.start)
        if ss not in carry:
            carry[ss] = bool(_CARRY_OVER.search(sh, ss, se))
        if carry[ss]:
            continue
        tl = left_of(t, ss)
        if not _TOTAL_TEST(tl) or _PLAN.search(tl) or _NEGATED.search(tl):
            continue
        tclause = tl + _right(sh, t.end)  # doc.clause(t, ss)
        for s in doc.qs[t.i + 1:t.i + 1 + _SUBSET_REACH]:
            if s.start >= se:
                break
            if s.unit != t.unit or s.q.kind != t.q.kind:
                continue
            sl, mark = subset_mark(s, ss)
            if mark == 1:
                break  # another total: the later subsets belong to it
            if mark != 2:
                continue
            if not s.exact or s.value <= t.value:
                continue
            mid = [q for q in doc.qs[t.i + 1:s.i] if q.unit == t.unit]
            if any(q.value >= s.value for q in mid):
                break  # the subset may belong to a larger count in between
            if any(q.unit == t.unit and q.value >= s.value for q in doc.between(ss, t.start)):
                break  # ... or to a larger one before the total
            # siblings of the total ("受理行政案件30件、民事案件20件,结案45件"):
            # the subset may count them all; items after 其中 are parts of it
            whole = t.value + sum(
                q.value for q in mid
                if _BREAKDOWN not in sh[t.end:q.start]
                and not _SUBSET_WORDS.search(left_of(q, ss)))
            if s.value <= whole:
                continue
            # same object: what the subset clause names besides its verb must be
            # named in the total's clause ("受理调解案件50件,调解成功52件")
            rest = _SUBSET_WORDS.sub(" ", sl + _right(sh, s.end))
            rest = _SUBSET_FILL.sub(" ", rest)
            if not all(b in tclause for b in _bigrams(rest)):
                continue
            unit = t.q.unit
            msg = (f"部分大于总数：{sl.strip()}{_fmt(s.value)}{unit}，多于{tl.strip()}"
                   f"{_fmt(t.value)}{unit}（“{doc.quote(s)}”＞“{doc.quote(t)}”），"
                   f"请核对（如含上年结转等，请写明）。")
            out.append(("part_exceeds_total", "error", msg, t.start, s.end))
            break


# ---------------------------------------------------------------- the API
def check(report, sh: str, params: dict) -> list[tuple[str, str, str, int, int]]:
    """Return (kind, severity, message, start, end) tuples. kind is one of
    "rate_mismatch", "breakdown_exceeds_total", "percent_over_100", "part_exceeds_total"."""
    params = params or {}
    if not sh or not any(c.isdigit() or c in "十百千万" for c in sh):
        return []
    doc = _Doc(report, sh)
    out: list[tuple[str, str, str, int, int]] = []
    _rate_mismatch(doc, params, out)
    _breakdown(doc, out)
    _percent_over_100(doc, out)
    _part_exceeds(doc, out)
    # one finding per piece of evidence ("50件,其中调解成功52件" is a breakdown
    # and a part larger than its total: say it once)
    seen = set()
    uniq = []
    for f in sorted(out, key=lambda f: (f[3], f[4], KINDS.index(f[0]))):
        if f[0] == "part_exceeds_total" and ("breakdown_exceeds_total", f[3], f[4]) in seen:
            continue
        if (f[0], f[3], f[4]) not in seen:
            seen.add((f[0], f[3], f[4]))
            uniq.append(f)
    return uniq
