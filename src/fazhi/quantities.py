"""Find quantities (number + unit) in the shadow text of a report.

``find(norm)`` returns every quantity in ``norm`` (the output of
``textnorm.shadow``, same offsets as the original text) as a ``Quantity``:
the value normalised (万/亿/千 multiplied out, percentages in percent, money
in yuan), the unit as written (``万元``, ``人次``, ``%``), a kind
(count/people/rate/amount/other) and whether the text qualifies it as
approximate (余/多/近/约/超过/逾/以上/左右).

A quantity needs a unit: bare numbers (years, document numbers, phone numbers,
hotline names such as 12345, enumerations) are never quantities.  Ordinals
(第五次), durations (24小时, 5个工作日), dates (3月, 2022年), named concepts
(“四个意识”, 三项制度, 十件实事) and Chinese numerals inside ordinary words
(一批, 统一部署, 一件事) are rejected by the grammar below.

Arabic numbers are converted with ``float``; Chinese numerals with
``cn2an.cn2an(span, "smart")`` applied to the extracted numeral span only.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from . import settings
from .textnorm import digit_class

# ---------------------------------------------------------------------------
# Unit vocabulary: unit -> (kind, negative lookahead: what may not follow).
# The lookahead keeps 个工作日 / 个月 / 名单 / 人民 / 条例 ... out.
UNITS: dict[str, tuple[str, str]] = {
    # people
    "人次": ("people", ""),
    "人": ("people", "民|大|员|口|事|身|格|工|才|均|居|性|选|力|心|们|文|类|生|际"),
    "名": ("people", "单|称|义|录|额|片|誉|牌|胜|列|次|字|号"),
    "位": ("people", "置|于|数|列|一体|次"),
    # money
    "元": ("amount", "化|素|旦|首|件|宵|器|老|月"),
    # rate
    "%": ("rate", ""),
    # other measures (not indicators, but quantities)
    "个百分点": ("other", ""),
    "百分点": ("other", ""),
    "倍": ("other", ""),
    "平方米": ("other", ""),
    "平方公里": ("other", ""),
    "公里": ("other", ""),
    "千米": ("other", ""),
    "亩": ("other", ""),
    "吨": ("other", ""),
    "公斤": ("other", ""),
    "千克": ("other", ""),
    "学时": ("other", ""),
    "课时": ("other", ""),
    # counts
    "件次": ("count", ""),
    "件": ("count", "事(?!项)|套"),
    "宗": ("count", "教|旨|族|师"),
    "起": ("count", "草|诉|到|来|步|点|始|源|码|见|因|止|跑|伏|飞"),
    "份": ("count", "额|子"),
    "场次": ("count", ""),
    "场": ("count", "所|景|地|面|合|馆|次|域|站|长|镇"),
    "次": ("count", "日|年|月|要|之|序|生|贷|级"),
    "期": ("count", "间|限|满|刊|望|待|末|初|中|货|权|内|后|前|盼|许"),
    "项": ("count", "目|链"),
    "个": ("count", "工作日|月|小时|百分点|半月|星期|季度|年|多月|体|人|别|性|案|税|例"),
    "条": ("count", "龙|例|件|款|规定|线|幅|文|理|令|约"),
    "家次": ("count", ""),
    "家": ("count", "庭|属|长|乡|园|风|门|族|人|用|中|具|电|政|事|务|喻"),
    "册": ("count", "子"),
    "篇": ("count", "章"),
    "部": ("count", "门|署|分|长|队|位|委|级|局|内|外|件"),
    "批次": ("count", ""),
    "批": ("count", "准|复|示|评|判|发|办|次"),
    "处": ("count", "理|置|罚|长|室|级|分|于|在|境|事"),
    "所": ("count", "有|在|属|以|长|谓|得|需|述|做|辖|涉"),
    "座": ("count", "谈|右"),
    "户次": ("count", ""),
    "户": ("count", "籍|口|外|型|主|头|政"),
    "张": ("count", "贴|挂|扬|力|开|网"),
    "套": ("count", "餐|路"),
    "本": ("count", "地|级|部|单位|次|年|着|人|身|市|县|区|镇|街|乡|村|局|质|领|职|届|辖|系|土|期|科|位|书|机"),
    "台": ("count", "账|阶|州|湾|上|下|前|后|风"),
    "类": ("count", "型|别|似"),
    "支": ("count", "持|部|付|出|撑|援|队(?!伍)"),
    "轮": ("count", "换|流|岗"),
    "例": ("count", "如|行|会|外"),
    "单": ("count", "位|独|一|元|个|纯|项|人|列"),
    "堂": ("count", ""),
    "块": ("count", ""),
    "幅": ("count", "度"),
    "则": ("count", ""),
    "期次": ("count", ""),
}
# 万余份 / 1.2万人次 / 100余万元: multiplier and approx marker sit between the
# number and the unit (see the grammar in ``_regexes``); the unit reported is
# multiplier + unit (万份, 万人次, 万元).

# approximation markers
PRE_APPROX = ("超过", "大约", "将近", "约", "近", "逾", "超")
MID_APPROX = ("余", "多")
POST_APPROX = ("以上", "左右", "有余")

MULT = {"万": 1e4, "亿": 1e8, "千": 1e3}
MAX_VALUE = 1e13  # no count, people or amount in these reports comes near (10^13 yuan = 10 万亿)

# Chinese numeral grammar (strict: 二三 / 二〇二二 are not accepted)
_D = "[一二两三四五六七八九]"
_SEC = rf"(?:零?{_D}千)?(?:零?{_D}百)?(?:零?{_D}?十)?(?:零?{_D})?"  # 十万零三千: 零 before 千 too
_CN = rf"(?=[零〇一二两三四五六七八九十])(?:{_SEC}亿)?(?:{_SEC}万)?{_SEC}(?:点[零〇一二三四五六七八九]+)?"
_CN_CHARS = "零〇一二两三四五六七八九十百千万亿"

# Chinese numerals with these after their unit are names of concepts
_NAMED_TAIL = (
    "意识|自信|维护|全面|制度|实事|最严|必须|统筹|优先|一体|服从|到位|作风|工程|行动|"
    "原则|战略|清单|体系|文化|建设|攻坚|联动|走进|进|服务|合一|不|"  # 三个转变 etc. are fine
)
_NAMED_TAIL = _NAMED_TAIL.strip("|")


@dataclass
class Quantity:
    value: float
    unit: str
    kind: str
    approx: bool
    start: int
    end: int
    num_start: int
    num_end: int


def _unit_alt() -> str:
    """The units as one alternation, longest first, behind a one-character
    look-ahead of their first letters (most positions fail there at once)."""
    parts = []
    for u in sorted(UNITS, key=len, reverse=True):
        neg = UNITS[u][1]
        parts.append(re.escape(u) + (f"(?!{neg})" if neg else ""))
    firsts = "".join(sorted({re.escape(u[0]) for u in UNITS}))
    return f"(?=[{firsts}])(?:" + "|".join(parts) + ")"


@lru_cache(maxsize=1)
def _regexes():
    pre = "|".join(PRE_APPROX)
    mid = "|".join(MID_APPROX)
    post = "|".join(POST_APPROX)
    # possessive quantifiers: a digit run is never re-tried shorter (a run of
    # 10^6 digits costs one pass, not a quadratic backtrack into the lookahead)
    ar = r"(?<![\d.A-Za-z/_\-])(?:\d{1,3}(?:,\d{3})++(?!\d)(?:\.\d++)?|\d++(?:\.\d++)?)(?![\d.]*+[\-/]\d)"
    cn = rf"(?<![{_CN_CHARS}]){_CN}"
    bare = r"(?<![零〇一二两三四五六七八九十百千万亿])[百千万](?=余|多)"
    pre1 = "".join(sorted({a[0] for a in PRE_APPROX}))
    first = rf"[\d零〇一二两三四五六七八九十百千万{pre1}]"
    q = re.compile(
        rf"(?={first})(?P<pre>{pre})?"
        rf"(?:(?P<ar>{ar})|(?P<cn>{cn})|(?P<bare>{bare}))"
        rf"[ \t]?(?P<m1>{mid})?(?P<mult>[万亿千](?![米克]))?(?P<m2>{mid})?[ \t]?"
        rf"(?P<unit>{_unit_alt()})"
        rf"(?P<post>{post})?"
    )
    pct = re.compile(rf"(?=[百{pre1}])(?P<pre>{pre})?百分之(?P<cn>百(?![分余])|{_CN})(?P<post>{post})?")
    # no look-ahead in front: the pattern starts with an alternation of words,
    # whose first characters the engine skips to by itself
    pre_bare = re.compile(rf"(?P<pre>{pre})(?P<bare>[百千万])(?P<mult>[万亿])?(?P<unit>{_unit_alt()})(?P<post>{post})?")
    named = re.compile(rf"(?:{_NAMED_TAIL})")
    return q, pct, pre_bare, named, _candidates()


@lru_cache(maxsize=1)
def _pre_bare_test():
    """A test for ``pre_bare`` (``_regexes``): its match holds the last character
    of a word of ``PRE_APPROX`` right before 百/千/万.  One search per character
    百, 千, 万, each led by it (the engine's fast scan for one character), where
    the pattern's own search stops at every 大, 近, 超 …"""
    lasts = "".join(sorted({a[-1] for a in PRE_APPROX}))
    tests = [re.compile(f"{c}(?<=[{lasts}]{c})").search for c in "百千万"]
    return lambda text: any(t(text) for t in tests)


def _candidates() -> re.Pattern:
    """Where a quantity of ``q`` (``_regexes``) may start, found by one scan that
    starts with a character class (the engine skips to those characters; ``q``,
    whose first item is optional, is tried at every position of the text).

    A superset of the starts of ``q``: a word of ``PRE_APPROX`` before a number;
    a digit that no [\\d.A-Za-z/_-] precedes, a Chinese numeral no numeral
    precedes, a bare 百/千/万 before 余/多 - each followed, within a bounded
    look-ahead, by what may stand between a number and its unit and a unit's
    first character (or by a number longer than the look-ahead).  Every part
    is of bounded width: linear on any text."""
    digits = "零〇一二两三四五六七八九"
    num_first = rf"[\d{digits}十百千万]"
    firsts = "".join(sorted({re.escape(u[0]) for u in UNITS}))
    mid = "".join(MID_APPROX)
    tail = rf"[ \t]?[{mid}]?[万亿千]?[{mid}]?[ \t]?[{firsts}]"
    pres = []
    for first in sorted({a[0] for a in PRE_APPROX}):
        rests = sorted({a[1:] for a in PRE_APPROX if a[0] == first}, key=len, reverse=True)
        rest = "|".join(re.escape(r) for r in rests if r)
        opt = "?" if "" in rests else ""
        pres.append(rf"(?<={first})(?=(?:{rest}){opt}{num_first})" if rest else rf"(?<={first})(?={num_first})")
    pre1 = "".join(sorted({a[0] for a in PRE_APPROX}))
    num = (
        rf"(?<=\d)(?<![\d.A-Za-z/_\-]\d)(?=[\d,.]{{0,40}}+{tail}|[\d,.]{{40}})"
        rf"|(?<=[{digits}十])(?<![{_CN_CHARS}].)(?=[{_CN_CHARS}]{{0,40}}(?:点[{digits}]+)?{tail}|[{_CN_CHARS}]{{40}})"
        rf"|(?<=[百千万])(?<![{_CN_CHARS}].)(?=[{mid}])"
    )
    # the words' alternatives behind one class test: a numeral (most candidates)
    # is not tried against each word
    words = rf"(?<=[{pre1}])(?:" + "|".join(pres) + ")"
    # the leading class with the digits as ranges (not the category \d): the
    # engine skips through the text several times faster
    return re.compile(rf"[{digit_class()}{digits}十百千万{pre1}](?:" + num + "|" + words + ")")


_OPEN_QUOTES = "“\"「『《‘'"
_CLOSE_QUOTES = "”」』》’"
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}


def _is_wordchar(c: str) -> bool:
    return c.isalnum() or c in _OPEN_QUOTES or c in _CLOSE_QUOTES


def cn_value(span: str) -> float | None:
    """Value of a Chinese numeral span (no unit), or None."""
    if not span:
        return None
    if len(span) == 1 and span in _CN_DIGIT:
        return float(_CN_DIGIT[span])
    if span in ("十", "百", "千", "万", "亿"):
        return {"十": 10.0, "百": 100.0, "千": 1e3, "万": 1e4, "亿": 1e8}[span]
    try:
        import cn2an

        return float(cn2an.cn2an(span, "smart"))
    except Exception:
        return None


def _ar_value(s: str) -> float | None:
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None


def find(norm: str) -> list[Quantity]:
    """Every quantity in ``norm`` (shadow text), in text order.

    The facts stage and the numeric rules both ask for the same text's
    quantities; the last answer is kept (a fresh list each call)."""
    return list(_find_cached(norm))


def _matches(q_re: re.Pattern, cand_re: re.Pattern, norm: str):
    """``q_re.finditer(norm)``: ``q_re`` is tried only where a candidate starts
    (no match of it starts elsewhere), the scan resuming where a match ends."""
    search, match = cand_re.search, q_re.match
    pos = 0
    while (c := search(norm, pos)) is not None:
        p = c.start()
        m = match(norm, p)
        if m is None:
            pos = p + 1
            continue
        yield m
        pos = m.end()


@lru_cache(maxsize=1)
def _find_cached(norm: str) -> tuple[Quantity, ...]:
    return tuple(_find(norm))


def _find(norm: str) -> list[Quantity]:
    q_re, pct_re, pre_bare_re, named_re, cand_re = _regexes()
    out: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    # a report holds hundreds of quantities; a text of hundreds of thousands is
    # hostile or broken: stop well above what the facts cap keeps (MAX_FACTS),
    # so that the facts and the numeric rules stay bounded too
    limit = 4 * settings.get("MAX_FACTS")
    n = len(norm)
    for m in _matches(q_re, cand_re, norm):
        if len(out) >= limit:
            break
        # the groups in one call: pre, ar, cn, bare, m1, mult, m2, unit, post
        pre, ar, cn, _bare, m1, mult, m2, unit, post = m.groups()
        kind = UNITS[unit][0]
        grp = 2 if ar else (3 if cn else 4)
        ns, ne = m.span(grp)
        if ns > 0:
            # 第五次 (an ordinal), 每人, 排名前三位: no quantity
            b = norm[ns - 1]
            if b == "第" or b == "每" or b == "前" and ns >= 2 and norm[ns - 2] in "排列居位":
                continue
        end = m.end()
        if grp == 2:
            v = _ar_value(ar)
            if v is None or not v < MAX_VALUE:
                continue  # a digit run no report counts in (or inf)
        else:
            numtxt = cn if grp == 3 else _bare
            if grp == 3:
                # the article 一 (一批, 一件事, 一次, 统一部署 ...) is not a count;
                # 一名/一位 are genuine people counts
                # (unless nothing follows the unit: "审结一件。")
                if numtxt == "一" and not mult and unit not in ("名", "位") and (
                        kind not in ("count", "people")
                        or end < n and _is_wordchar(norm[end])):
                    continue
                # named concepts: “四个意识”, 三项制度, 十件实事, 两所(…)
                if ns > 0 and norm[ns - 1] in _OPEN_QUOTES:
                    continue
                if kind == "count" and named_re.match(norm, end):
                    continue
            v = cn_value(numtxt)
            if v is None:
                continue
        if mult:
            v *= MULT[mult]
        approx = bool(pre or m1 or m2 or post or grp == 4)
        start = m.start(1) if pre else ns
        out.append(Quantity(v, (mult or "") + unit, kind, approx, start, end, ns, ne))
        taken.append((start, end))

    extra: list[Quantity] = []
    for m in (pct_re.finditer(norm) if "百分之" in norm else ()):
        cn = m.group("cn")
        v = 100.0 if cn == "百" else cn_value(cn)
        if v is None:
            continue
        start = m.start("pre") if m.group("pre") else m.start()
        extra.append(Quantity(v, "%", "rate", bool(m.group("pre") or m.group("post")),
                              start, m.end(), m.start("cn"), m.end("cn")))
    for m in (pre_bare_re.finditer(norm) if _pre_bare_test()(norm) else ()):  # 近千人, 超万人
        v = cn_value(m.group("bare"))
        if m.group("mult"):
            v *= MULT[m.group("mult")]
        unit = m.group("unit")
        extra.append(Quantity(v, (m.group("mult") or "") + unit, UNITS[unit][0], True,
                              m.start(), m.end(), m.start("bare"), m.end("bare")))
    if extra:
        # ``taken`` holds disjoint spans in text order: a span overlaps one of them
        # only if it overlaps the last one starting before its end (bisect: linear overall)
        starts = [a for a, _ in taken]
        for q in extra[:max(0, limit - len(out))]:
            i = bisect_left(starts, q.end)
            if i and taken[i - 1][1] > q.start:
                continue
            starts.insert(i, q.start)
            taken.insert(i, (q.start, q.end))
            out.append(q)
        out.sort(key=lambda q: q.start)
    return out
