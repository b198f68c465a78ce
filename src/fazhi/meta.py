"""Metadata: title, unit, level, region, year, dates, 发文字号, 索引号.

Everything is matched on the shadow text (simplified, half-width), so a
traditional-character page reads like a simplified one; values are cut from
the original text.

The unit is read from the whole report, not the title alone: the title, the
opening sentence, the signature block, the page fields and the report's
self-references (我市 with 《某某市…实施方案》, 中共某某县委, 全省 with the province
named).  Every candidate goes through one normalisation (field labels, tags,
joint issuers, region chains, 人民政府/政府) and one validity test (a fragment
of a sentence is no name); the level comes from the normalised name, or from
the self-references when the name is masked or missing.

``MetaResult.why`` says, per field, which rule decided it and on what evidence.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from . import regions
from .clean import Cleaned, is_meta_row
from .data import load_yaml
from .dates import find_dates, find_years, parse_date
from .model import Meta, Region
from .textnorm import may_match, tester
from .textnorm import shadow as _shadow

@lru_cache(maxsize=4096)
def shadow(s: str) -> str:
    """The matching form of a short string cut from a report (a unit, a title):
    simplified always, since a short string is too short to tell."""
    return _shadow(s, True)


MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}
_GOV_SUFFIX = re.compile(r"(人民政府|政府|办事处)$")
_PARTY = re.compile(r"^中共|(党委|党组|党工委)$")


@dataclass
class MetaResult:
    meta: Meta
    title_lines: set[int] = field(default_factory=set)  # line indices that form the title
    fields: dict[str, str] = field(default_factory=dict)  # parsed page fields, label -> value
    evidence: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> span in text
    why: dict[str, str] = field(default_factory=dict)  # field -> the rule that decided it (Chinese)
    body_year: int | None = None  # the year the opening says it reports on (may differ from the title's)


@lru_cache(maxsize=1)
def _vocab():
    d = load_yaml("meta.yaml")
    label_field = {}
    for fld, labels in d["labels"].items():
        for lab in labels:
            label_field[lab] = fld
    labs = sorted(label_field, key=len, reverse=True)
    # a label, with spaces allowed inside (文    号), in brackets or followed by a colon/space
    lab_alt = "|".join(r"\s*".join(map(re.escape, lab)) for lab in labs)
    label_re = re.compile(rf"[\[【]?\s*(?P<lab>{lab_alt})\s*[\]】]?\s*[:：]?\s*")
    return {
        "label_field": label_field,
        "label_re": label_re,
        "title_label": re.compile(r"^[\s|｜•·\-*]*(?:" + "|".join(map(re.escape, d["labels"]["title"])) + r")\s*[:：]\s*"),
        "title_needs": re.compile(d["title_needs"]),
        "title_not": re.compile(d["title_not"]),
        "raw_title_needs": re.compile(d["raw_title_needs"]),
        "doc_number_line": re.compile(d["doc_number_line"]),
        "unit_suffix": d["unit_suffix"],
        "unit_end": re.compile(d["unit_suffix"] + "$"),
        "followers": re.compile(d["unit_followers"]),
        "generic": re.compile(d["unit_generic"]),
        "not_start": re.compile(d["unit_not_start"]),
        "not_contain": re.compile(d["unit_not_contain"]),
        "short_ok": re.compile(d["unit_short_ok"]),
        "self_refs": {lvl: re.compile(rx) for lvl, rx in d["self_refs"].items()},
        "named_body": re.compile(d["named_body"]),
        "masked": re.compile(d["masked_unit"]),
        "levels": [(lvl, re.compile(rx)) for lvl, rx in d["levels"]],
    }


# ---------------------------------------------------------------- page fields
def parse_fields(c: Cleaned, sh: str, first_body: int) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
    """Label/value rows before the first heading: returns {field: value} for
    published/signed/doc_number/index_number/publisher/title and the span of
    each value in the text."""
    v = _vocab()
    out: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    lines = [ln for ln in c.lines if ln.start < first_body][:60]
    for li, ln in enumerate(lines):
        s = sh[ln.start:ln.end]
        if len(s) > 200:
            continue
        ms = list(v["label_re"].finditer(s)) if tester(v["label_re"])(s) else []
        # a label counts only at the line start or after a separator
        ms = [m for m in ms if m.start() == 0 or s[m.start()] in " \t[【|" or s[m.start() - 1] in " \t|｜•·[]【】"
              or m.group(0).rstrip()[-1:] in ":：]】"
              # a spaced label right after a value ("…2022-021文 号 沪市…": a PDF layer
              # closed the space before it)
              or s[m.start() - 1].isalnum() and re.search(r"\s", m.group("lab")) and m.group(0)[-1:].isspace()]
        for k, m in enumerate(ms):
            lab = re.sub(r"\s+", "", m.group("lab"))
            fld = v["label_field"][lab]
            vend = ms[k + 1].start() if k + 1 < len(ms) else len(s)
            val_s, val_e = m.end(), vend
            value = c.text[ln.start + val_s:ln.start + val_e].strip(" \t[]【】|｜•·:：")
            vs, ve = ln.start + val_s, ln.start + val_e
            if not value and k + 1 == len(ms) and li + 1 < len(lines):
                # flattened table: the value is on the next line, unless that is a label
                nxt = lines[li + 1]
                ns = sh[nxt.start:nxt.end]
                m2 = v["label_re"].match(ns)
                if not m2 or not m2.group("lab"):
                    value = c.text[nxt.start:nxt.end].strip()
                    vs, ve = nxt.start, nxt.end
            if not value or fld in out:
                continue
            out[fld] = value
            spans[fld] = (vs, ve)
    return out, spans


# ---------------------------------------------------------------------- title
_TITLE_CELLS = re.compile(r"\s*[|｜]\s*")
_TITLE_TAG = re.compile(r"^\s*[\[【〔][^\]】〕]{1,30}[\]】〕]\s*")
_TITLE_TAIL = re.compile(r"(?<=报告|总结)(?P<tail>\s*(?:[-_|｜–—·]+\s*\S.{0,40}|\s+\S.{0,40}|[A-Za-z0-9_]+.{0,40}))$")


def clean_title(t: str) -> tuple[str, str | None]:
    """A title line without what pages glue to it: table cells and a field
    label (``| 标题:… | |``), a tag or 文号 in brackets, a site name or spam
    after the title, a date after it (returned as the second value)."""
    v = _vocab()
    s = t.strip()
    if "|" in s or "｜" in s:
        cells = [x for x in _TITLE_CELLS.split(s) if x.strip()]
        good = [x for x in cells if tester(v["title_needs"])(shadow(x))]
        if good:
            s = good[0].strip()
    for rx in (v["title_label"], _TITLE_TAG):
        m = rx.match(shadow(s))
        if m:
            s = s[m.end():]
    date = None
    m = _TITLE_TAIL.search(shadow(s))
    if m:
        ds = find_dates(m.group("tail"))
        date = ds[0].iso if ds else None
        s = s[:m.start("tail")]
    return s.strip(), date


_TITLE_PIECE_NOT = re.compile(r"[。，,；;：:]|文件$")
_TITLE_THEN_FIELDS = re.compile(
    r"[\s•·]*(.{6,90}?(?:报告|总结))\s*(?=(?:作\s*者|来\s*源|信息来源|发布(?:时间|日期|机构)|日\s*期|时\s*间|索引号|发文字号|文\s*号)\s*[:：])")
_TITLE_END = re.compile(r"(报告|总结)$")
_LACKS_SUBJECT = re.compile(r"(关于|(19|20)\d{2}\s*年|法治)")


def find_title(c: Cleaned, sh: str, first_body: int, raw_title: str | None
               ) -> tuple[str | None, set[int], tuple[int, int] | None, str | None]:
    """(title, its line indices, its span, a date printed on the title line).

    A title is one line, or two or three short lines of a title broken by a
    large font ("某某县人民政府关于" / "2023年度法治政府建设" / "情况的报告"); a
    title lacking its subject ("关于2021年度…报告") takes the short line above
    that names the unit(s)."""
    v = _vocab()
    cands = [(i, ln) for i, ln in enumerate(c.lines) if ln.start < first_body][:25]
    shs = [sh[ln.start:ln.end].strip("• ·") for _, ln in cands]

    def complete(s: str) -> bool:
        return bool(tester(v["title_needs"])(s)) and ("报告" in s or "总结" in s) and not tester(v["title_not"])(s)

    def piece(s: str) -> bool:
        return 0 < len(s) <= 40 and not _TITLE_PIECE_NOT.search(s) and not is_meta_row(s) \
            and not tester(v["title_not"])(s) and not v["doc_number_line"].match(s)

    for k, (i, ln) in enumerate(cands):
        s = shs[k]
        line_end = ln.end
        g = _TITLE_THEN_FIELDS.match(sh, ln.start, ln.end) if may_match(_TITLE_THEN_FIELDS, sh, ln.start, ln.end) else None
        if g and complete(g.group(1)):
            # page fields glued to the title line: "…的报告作者:海关总署 发布时间:…"
            line_end = g.end(1)
            s = sh[ln.start:line_end].strip("• ·")
        if len(s) > 120 or (is_meta_row(s) and not v["title_label"].match(s)) or tester(v["title_not"])(s):
            continue
        if complete(s):
            title, date = clean_title(c.text[ln.start:line_end].strip().lstrip("•· "))
            if len(title) < 6:
                continue
            used, span = {i}, (ln.start, line_end)
            if _LACKS_SUBJECT.match(shadow(title)) and k > 0:
                pi, pl = cands[k - 1]
                ps = shs[k - 1]
                if len(ps) <= 40 and v["unit_end"].search(ps) and not is_meta_row(ps) and not tester(v["title_needs"])(ps):
                    title = c.text[pl.start:pl.end].strip() + title
                    used.add(pi)
                    span = (pl.start, ln.end)
            return title, used, span, date
        # a title broken over two or three short lines
        if not piece(s) or not (re.search("法治|依法行政", s) or s.endswith("关于") or v["unit_end"].search(s)):
            continue
        acc, last = s, k
        for j in range(k + 1, min(k + 3, len(cands))):
            if not piece(shs[j]) or complete(shs[j]) and re.search("法治|依法行政", shs[j]):
                break  # a complete title of its own starts there
            acc, last = acc + shs[j], j
            if complete(acc) and _TITLE_END.search(acc):
                first, end = cands[k][1], cands[last][1]
                text = "".join(c.text[x.start:x.end].strip() for _, x in cands[k:last + 1])
                title, date = clean_title(text)
                return title, {x for x, _ in cands[k:last + 1]}, (first.start, end.end), date
    if raw_title:
        rs, date = clean_title(raw_title)
        if v["raw_title_needs"].search(shadow(rs)) and 8 <= len(rs) <= 90:
            return rs, set(), None, date
    return None, set(), None, None


# ----------------------------------------------------------------------- year
# "2023年，…" at the start of the text or of a line: the text start is tried with
# ``match``, the line starts by a search led by the line break (the engine skips
# to it; an alternation with ^ in front is tried at every position)
_YEAR_LINE = r"\s*((?:19|20)\d{2})\s*年(?:以来|来|度)?\s*[，,]"
_YEAR_AT_START = re.compile(_YEAR_LINE)
_YEAR_AT_LINE = re.compile("\n" + _YEAR_LINE)


def body_year(sh: str, first_body: int) -> int | None:
    """The year the opening of the body says it reports on ("现将2023年度…报告如下",
    "2023年，…"), whatever the title says."""
    head = sh[:max(first_body, 0) + 1500]
    m = re.search(r"现(?:将|对|就)[^。]{0,30}?((?:19|20)\d{2})\s*年", head) \
        or _YEAR_AT_START.match(head) or _YEAR_AT_LINE.search(head)
    return int(m.group(1)) if m else None


def find_year(title: str | None, sh: str, first_body: int) -> tuple[int | None, str]:
    if title:
        ys = find_years(shadow(title))
        if ys:
            return ys[0][0], "标题中的年度"
    head = sh[:max(first_body, 0) + 1500]
    m = re.search(r"现(?:将|对|就)[^。]{0,30}?((?:19|20)\d{2})\s*年", head)
    if m:
        return int(m.group(1)), "“现将…年度…报告如下”"
    m = _YEAR_AT_START.match(head) or _YEAR_AT_LINE.search(head)
    if m:
        return int(m.group(1)), "开篇“某年，…”"
    m = re.search(r"(?<![—\-–~至到])((?:19|20)\d{2})\s*年度?[^。，,)）》]{0,12}法治(政府)?建设", head)
    if m:
        return int(m.group(1)), "开篇“某年…法治政府建设”"
    ys = Counter(y for y, _, _ in find_years(sh[:20000]))
    if ys:
        return ys.most_common(1)[0][0], "正文中出现最多的年份"
    return None, ""


# ----------------------------------------------------------------------- unit
def _strip_chain(u: str) -> str:
    """A township or a county named with its region chain keeps its own name:
    广州市增城区荔湖街道 -> 荔湖街道, 南昌市西湖区 -> 西湖区."""
    su = shadow(u)
    if not re.search(r"(街道|镇|乡|苏木|区|县|旗)$", su):
        return u
    ms = regions.mentions(su)
    pos = 0
    for name, st, en in ms:
        if st != pos or en >= len(su):
            break
        pos = en
    if 0 < pos < len(su) - 1:
        return u[pos:]
    return u


@lru_cache(maxsize=4096)
def normalise_unit(u: str) -> str:
    """One normalisation for every unit candidate (original characters kept)."""
    u = re.sub(r"\s+", "", u.strip(" ：:，,、|｜"))
    su = shadow(u)
    if su.startswith("关于"):
        u, su = u[2:], su[2:]
    if su.endswith("关于"):
        u, su = u[:-2], su[:-2]
    # joint issuers: "中共某某市委某某市人民政府" -> the government
    m = re.match(r"^中共\S*?(委员会|委)(?=\S*(政府|办事处))", su)
    if m:
        u, su = u[m.end():], su[m.end():]
    m = re.match(r"^(\S{2,}?)(党委|党组|党工委)(?=\S{2,})", su)
    if m and su[m.end():].startswith(m.group(1)[:2]):
        u, su = u[m.end():], su[m.end():]  # 海关总署党委海关总署 -> 海关总署
    # drop a leading region chain before a township or a department of it:
    # 广州市增城区人民政府荔湖街道办事处 -> 荔湖街道办事处
    m = re.search(r"(人民政府|政府)(?=.{2,})", su)
    if m and re.search(r"(街道|镇|乡|局|委|办|办事处)$", su):
        u, su = u[m.end():], su[m.end():]
    if su.endswith("街道办事处"):
        u, su = u[:-3], su[:-3]
    m = re.search(r"(人民政府|政府)$", su)
    if m and len(su) - len(m.group()) >= 2:
        u, su = u[:m.start()], su[:m.start()]
    m = re.search(r"(党委|党工委)$", su)
    if m and re.search(r"(街道|镇|乡)(?=党委$|党工委$)", su):
        u, su = u[:m.start()], su[:m.start()]
    return _strip_chain(u)


@lru_cache(maxsize=4096)
def valid_unit(u: str | None) -> bool:
    """A name, not a fragment of a sentence."""
    if not u:
        return False
    v = _vocab()
    s = shadow(u)
    if not 2 <= len(s) <= 30 or not v["unit_end"].search(s) or v["generic"].search(s):
        return False
    if v["not_start"].search(s) or tester(v["not_contain"])(s):
        return False
    stem = v["unit_end"].sub("", s)
    if len(stem) < 2 and not regions.lookup(s) and not v["short_ok"].match(s):
        return False  # 新区, 市局 …
    return True


_GOV_LEVEL_END = re.compile(r"(省|自治区|市|县|区|旗|州|盟)$")


@lru_cache(maxsize=4096)
def known_division(u: str) -> bool:
    """A government unit (…省/市/县/区) the division data knows, or a province
    named without its suffix; township and department names are not in it."""
    s = shadow(u)
    if not _GOV_LEVEL_END.search(s):
        return s in _province_short()
    return bool(regions.lookup(s))


def _trusted(u: str | None) -> bool:
    """A candidate read from running text: a valid name, and a known division
    when it is a government's name ("做好省" is a fragment)."""
    return valid_unit(u) and (not _GOV_LEVEL_END.search(shadow(u)) or known_division(u))


def _unit_from_title(title: str) -> str | None:
    t = re.sub(r"\s+", " ", shadow(title)).strip()
    m = re.match(r"^(?P<u>.+?)\s*(关于)?\s*[(（]?\s*((19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年", t)
    if not (m and len(m.group("u")) >= 2):
        m = re.match(r"^\s*(?:(19|20)\d{2}\s*年度?)?\s*(?P<u>.+?)\s*(关于)?\s*(推进|开展|加强)?(法治政府|法治建设|依法行政)", t)
        if not m or len(m.group("u")) < 2:
            return None
    a, b = m.span("u")
    u_sh = t[a:b]
    u = re.sub(r"\s+", " ", title).strip()[a:b]
    # joint issuers ("中共长春市委 长春市人民政府", "海关总署党委 海关总署"): the
    # government or the body itself, not the party organ
    toks = [x for x in re.split(r"[\s、]+", u_sh.strip()) if x]
    if len(toks) > 1:
        keep = [k for k, x in enumerate(toks) if not _PARTY.search(x)]
        gov = [k for k in keep if _GOV_SUFFIX.search(toks[k])]
        pick = (gov or keep or [len(toks) - 1])[-1]
        u = re.split(r"[\s、]+", u.strip())[pick]
    u = normalise_unit(u)
    return u if valid_unit(u) else None


def _unit_from_signature(c: Cleaned, sh: str) -> tuple[str | None, tuple[int, int] | None]:
    v = _vocab()
    tail = c.lines[-8:]
    for ln in reversed(tail):
        s = sh[ln.start:ln.end].strip()
        if find_dates(s) or not s:
            continue
        if len(s) <= 40 and v["unit_end"].search(s) and not re.search("[，,。；]", s):
            if s.startswith("中共") and any("政府" in sh[x.start:x.end] or "办事处" in sh[x.start:x.end] for x in tail):
                continue
            u = normalise_unit(c.text[ln.start:ln.end])
            if _trusted(u):
                return u, (ln.start, ln.end)
        elif not re.match(r"^[(（]?(此件|本件|联系人|联系电话|抄送|附件)", s):
            break  # standard closing lines after the signature do not end the search
    return None, None


_OPENING = None


def _opening_re():
    global _OPENING
    if _OPENING is None:
        v = _vocab()
        _OPENING = re.compile(
            r"(?:(?:^|\n|。)\s*(?:(?:19|20)\d{2}\s*年(?:度|以来|来)?\s*[,，]\s*)?(?:(?:一年来|今年以来|近年来|过去一年)\s*[,，]\s*)?"
            r"|[,，]\s*(?:19|20)\d{2}\s*年(?:度|以来|来)?\s*[,，]\s*)"
            r"(?:在[^。]{0,80}?下\s*[,，]\s*)?"
            r"(?P<u>[\u4e00-\u9fff]{2,24}?)(?:委\s*、\s*[\u4e00-\u9fff]{0,3}?(?:人民)?政府)?(?=" + v["followers"].pattern + ")")
    return _OPENING


def _unit_from_opening(sh: str, text: str, first_body: int) -> tuple[str | None, tuple[int, int] | None]:
    head = sh[:max(first_body, 0) + 800]
    for m in (_opening_re().finditer(head) if tester(_opening_re())(head) else ()):
        a, b = m.span("u")
        u = normalise_unit(text[a:b])
        if _trusted(u):
            return u, (a, b)
    return None, None


def self_level(sh: str) -> tuple[str | None, int]:
    """The level the report speaks of itself at (全市, 我区, 本局 …) and how
    many times."""
    v = _vocab()
    cnt = Counter()
    for lvl, rx in v["self_refs"].items():
        cnt[lvl] = len(rx.findall(sh)) if tester(rx)(sh) else 0  # the test: led by a class, not a group
    if "自治区" in sh[:3000] and re.search(r"自治区(党委|人民政府|政府)", sh):
        cnt["province"] += cnt.pop("county", 0)  # 全区 in an autonomous region's report
    top = cnt.most_common(2)
    if not top or top[0][1] == 0 or (len(top) > 1 and top[1][1] == top[0][1]):
        return None, 0  # no self-reference, or two levels as often: undecided
    return top[0]


_LEVEL_SUFFIX = {"province": ("省", "自治区"), "city": ("市", "州", "盟"), "county": ("县", "区", "旗", "市"),
                 "township": ("镇", "乡", "街道")}


@lru_cache(maxsize=1)
def _province_short() -> dict[str, str]:
    """Short names of the provinces (江苏 -> 江苏省, 内蒙古 -> 内蒙古自治区)."""
    out = {}
    for name, divs in regions.index().items():
        if any(d.level == "province" for d in divs):
            short = re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$", "", name)
            if len(short) >= 2:
                out[short] = name
    return out


@lru_cache(maxsize=1)
def _province_short_re() -> re.Pattern:
    return re.compile("|".join(sorted(map(re.escape, _province_short()), key=len, reverse=True)))


def _unit_from_self(sh: str, text: str) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """(unit, level, span) from the report's self-references and the bodies it
    names at that level: 我市 with 《鹤岗市人民政府关于…》, 全省 with 江苏."""
    v = _vocab()
    lvl, n = self_level(sh)
    if lvl is None or lvl in ("department", "township") or n < 1:
        return None, lvl, None  # a department's or a township's own name is not in the division data
    if tester(v["self_refs"]["department"])(sh):
        return None, lvl, None  # a department speaking of 全市 is not the city
    sufs = _LEVEL_SUFFIX[lvl]
    cnt: Counter = Counter()
    first: dict[str, tuple[int, int]] = {}
    for m in (v["named_body"].finditer(sh) if tester(v["named_body"])(sh) else ()):
        g = "n" if m.group("n") else "n2"
        name, suf = m.group(g), m.group("s" if g == "n" else "s2")
        if suf not in sufs:
            continue
        # the division the match ends with; a name the division data does not
        # know is a fragment of a sentence ("…紧紧围绕市委")
        div = next(((nm, st) for nm, st, en in regions.mentions(name) if en == len(name)), None)
        if div is None or not any(d.level == lvl for d in regions.lookup(div[0])):
            continue  # (上海市 is no city: a district's report names its municipality)
        name = div[0]
        cnt[name] += 1
        a = m.start(g) + div[1]
        first.setdefault(name, (a, a + len(name)))
    if lvl == "province":
        for m in _province_short_re().finditer(sh):
            cnt[m.group()] += 1
            first.setdefault(m.group(), m.span())
    if lvl in ("city", "county"):
        # a division of that level named anywhere, when nothing names a body
        if not cnt:
            for nm, st, en in regions.mentions(sh):
                if nm.endswith(sufs) and any(d.level == lvl for d in regions.lookup(nm)):
                    cnt[nm] += 1
                    first.setdefault(nm, (st, en))
    if not cnt:
        return None, lvl, None
    name, k = cnt.most_common(1)[0]
    # a province short name and its full name are one name
    if lvl == "province":
        full = _province_short().get(name)
        if full and full in cnt:
            name = full
    a, b = first[name]
    return text[a:b], lvl, (a, b)


def _full_name(u: str, fields: dict[str, str]) -> str:
    """A department named short in the body ("教育局") takes the full form of
    the page's issuer field when that ends with it ("襄垣县教育局")."""
    pub = fields.get("publisher")
    if pub and find_level(u) == "department":
        full = normalise_unit(pub)
        if shadow(full).endswith(shadow(u)) and len(full) > len(u) and valid_unit(full):
            return full
    return u


def find_unit(title, c, sh, first_body, fields) -> tuple[str | None, str, tuple[int, int] | None]:
    """(unit, why, span)."""
    if title:
        u = _unit_from_title(title)
        if u:
            return u, "标题中的单位名称", None
    u, span = _unit_from_opening(sh, c.text, first_body)
    if u:
        full = _full_name(u, fields)
        if full != u:
            return full, f"开篇第一句的主语“{u}”，页面发布机构栏的全称", span
        return u, "开篇第一句的主语", span
    u, span = _unit_from_signature(c, sh)
    if u:
        return u, "文末署名", span
    # "现将县人民政府2022年…": the generic word, named elsewhere
    m = re.search(r"现将\s*(县|区|市|镇|乡|街道)(人民政府|政府)?", sh[:first_body + 800])
    if m:
        u = _name_generic(m.group(1), sh)
        if u:
            return u, f"“现将{m.group(1)}…”，正文中的全称", None
    u, lvl, span = _unit_from_self(sh, c.text)
    if u:
        return u, "正文自称（我市/全省…）与其中点名的机关、方案", span
    pub = fields.get("publisher")
    if pub and lvl:
        # the page's issuer field names the unit when the body speaks at its level
        # (a district's page may publish a street's report: then it does not)
        u = normalise_unit(pub)
        if _trusted(u) and find_level(u) == lvl:
            return u, "页面“发布机构/来源”栏（与正文自称的层级一致）", None
    return None, "", None


def _name_generic(unit: str, sh: str) -> str | None:
    """'县人民政府' in the text, with '岳阳县人民政府' elsewhere: the named form."""
    m = re.match(r"^(县|区|市|镇|乡|街道)(人民政府|政府)?$", unit)
    if not m:
        return None
    suf = m.group(1)
    cnt = Counter()
    for name, st, en in regions.mentions(sh):
        if name.endswith(suf):
            cnt[name] += 1
    if suf in "镇乡街道":
        for mm in re.finditer(rf"([\u4e00-\u9fff]{{2,5}}{suf})(?:人民政府|党委|办事处)", sh):
            cnt[mm.group(1)] += 1
    return cnt.most_common(1)[0][0] if cnt else None


# ---------------------------------------------------------------------- level
@lru_cache(maxsize=4096)
def find_level(unit: str | None) -> str | None:
    if not unit:
        return None
    v = _vocab()
    u = shadow(unit)
    if u in MUNICIPALITIES:
        return "province"
    if u in _province_short():
        return "province"
    for lvl, rx in v["levels"]:
        if rx.search(u):
            if lvl == "city":
                divs = regions.lookup(u)
                if divs and all(d.level == "county" for d in divs):
                    return "county"
            return lvl
    return None


# --------------------------------------------------------------------- region
def find_region(unit: str | None, level: str | None, c: Cleaned, sh: str) -> Region:
    # mentions in the body (page-metadata rows name the publisher, not the place)
    body = [s for ln in c.lines if not is_meta_row(s := sh[ln.start:ln.end])]
    joined = "\n".join(body)
    # one pass over the lines joined: no name spans a line break, and a line
    # start reads as the start of a text (what precedes it is no Chinese character)
    body_mentions: list[str] = [n for n, _, _ in regions.mentions(joined)]
    mentioned = Counter(body_mentions)
    # provinces named without their suffix count too (江苏, 上海)
    short_named = {_province_short()[m.group()] for m in _province_short_re().finditer(joined)}
    anchor_names: list[str] = []
    su = shadow(unit) if unit else None
    if su:
        um = [n for n, _, _ in regions.mentions(su)]
        if um:
            anchor_names = [um[-1]]
        elif level in ("province", "city", "county") and regions.lookup(su):
            anchor_names = [su]
        elif level == "province" and su in _province_short():
            anchor_names = [_province_short()[su]]
    if not anchor_names and not unit:
        # no unit named: a place the text mentions is not the unit's place,
        # except the one province all of it is about (省委、省政府 + 辽宁省…)
        provs = {d.ancestor("province").name for n in mentioned for d in regions.lookup(n)
                 if d.ancestor("province") is not None} | short_named
        if level != "department" and len(provs) == 1:
            return Region(province=provs.pop())
        return Region()
    if not anchor_names:
        # a township or a department: the places its text names, nearest first
        if level == "department":
            return Region()
        rank = {"county": 0, "city": 1, "province": 2}
        best = sorted(mentioned.items(), key=lambda kv: (
            min(rank[d.level] for d in regions.lookup(kv[0])), -kv[1], body_mentions.index(kv[0])))
        if not best:
            return Region(province=short_named.pop()) if len(short_named) == 1 else Region()
        anchor_names = [best[0][0]]
    name = anchor_names[0]
    divs = regions.lookup(name)
    if not divs:
        return Region()

    def named(a) -> bool:
        return a.name in mentioned or a.name in short_named

    # disambiguate by ancestors the text mentions
    scored = sorted(divs, key=lambda d: -sum(1 for a in d.chain()[1:] if named(a)))
    d = scored[0]
    if len(divs) > 1 and sum(1 for a in d.chain()[1:] if named(a)) == 0:
        # ambiguous and nothing in the text decides: keep only the name itself
        r = Region()
        setattr(r, "province" if d.level == "province" else d.level, name)
        return r
    r = Region()
    for a in d.chain():
        if a is d or named(a):
            setattr(r, a.level, a.name)
    return r


# ----------------------------------------------------------------------- main
def extract(c: Cleaned, sh: str, first_body: int, raw_fields: dict[str, str], raw_title: str | None) -> MetaResult:
    fields, spans = parse_fields(c, sh, first_body)
    why: dict[str, str] = {}
    v = _vocab()
    # reader-supplied fields (HTML tables) fill what the text rows lack
    for lab, val in (raw_fields or {}).items():
        fld = v["label_field"].get(re.sub(r"\s+", "", shadow(lab)))
        if fld and fld not in fields and val and val.strip():
            fields[fld] = val.strip()
    title, title_lines, tspan, title_date = find_title(c, sh, first_body, raw_title)
    if title is None and fields.get("title"):
        t, d = clean_title(fields["title"])
        if tester(v["title_needs"])(shadow(t)):
            title, title_date = t, d
            why["title"] = "页面“标题”栏"
    meta = Meta(title=title)
    if tspan:
        spans["title"] = tspan
        why["title"] = "开头的标题行"
    elif title and "title" not in why:
        why["title"] = "文件自带的标题（网页 <title> / Word 文档属性）"
    meta.year, why["year"] = find_year(title, sh, first_body)
    meta.published = parse_date(shadow(fields["published"])) if fields.get("published") else None
    meta.signed = parse_date(shadow(fields["signed"])) if fields.get("signed") else None
    if meta.published:
        why["published"] = "页面“发布时间/发布日期”栏"
    if meta.signed:
        why["signed"] = "页面“成文日期”栏"
    if meta.published is None:
        # a bare date line under the title ("2020-12-22 11:50" / "2020-03-24 09:41 来源: …")
        for ln in c.lines:
            if ln.start >= first_body:
                break
            s = sh[ln.start:ln.end]
            ds = find_dates(s) if len(s) < 60 else ()  # a longer line is no date line
            if ds and ds[0].start == 0 and (ds[0].end >= len(s.strip()) - 1 or "来源" in s):
                meta.published = ds[0].iso
                spans["published"] = (ln.start + ds[0].start, ln.start + ds[0].end)
                why["published"] = "标题下单独一行的日期"
                break
    if meta.published is None and title_date:
        meta.published = title_date
        why["published"] = "标题行末尾的日期"
    if meta.signed is None:
        # the date under the closing signature (standard closing lines may follow it)
        for ln in c.lines[-6:][::-1]:
            s = sh[ln.start:ln.end].strip()
            ds = find_dates(s) if len(s) <= 20 else ()  # a longer line is no date line
            if ds and ds[0].start == 0:
                meta.signed = ds[0].iso
                spans["signed"] = (ln.start, ln.end)
                why["signed"] = "文末署名下的日期"
                break
            if s and not re.match(r"^[(（]?(此件|本件|联系人|联系电话|抄送|附件)", s) and len(s) > 40:
                break
    if meta.signed is None:
        # a dated title block: "（2024年3月10日）" on its own line right under the title
        for ln in c.lines:
            if ln.start >= first_body:
                break
            s = sh[ln.start:ln.end].strip()
            m = re.fullmatch(r"[(（]\s*(.+?)\s*[)）]", s)
            ds = find_dates(m.group(1)) if m else []
            if ds and ds[0].start == 0 and ds[0].end >= len(m.group(1).strip()) - 1:
                meta.signed = ds[0].iso
                spans["signed"] = (ln.start, ln.end)
                why["signed"] = "标题下括号中的日期"
                break
    dn = fields.get("doc_number")
    if dn and re.search(r"\d", dn) and len(dn) <= 40:
        meta.doc_number = dn
        why["doc_number"] = "页面“发文字号”栏"
    else:
        for ln in c.lines:
            if ln.start >= first_body:
                break
            s = sh[ln.start:ln.end].strip()
            if v["doc_number_line"].match(s):
                meta.doc_number = c.text[ln.start:ln.end].strip()
                spans["doc_number"] = (ln.start, ln.end)
                why["doc_number"] = "版头单独一行的发文字号"
                break
    ix = fields.get("index_number")
    if ix and re.search(r"\d", ix) and len(ix) <= 60:
        meta.index_number = ix.split()[0]
        why["index_number"] = "页面“索引号”栏"
    meta.unit, why["unit"], uspan = find_unit(title, c, sh, first_body, fields)
    if uspan:
        spans["unit"] = uspan
    meta.level = find_level(meta.unit)
    if meta.level:
        why["level"] = f"单位名称“{meta.unit}”的后缀"
    else:
        head = sh[:first_body + 1500]
        m = v["masked"].search(head) if tester(v["masked"])(head) else None
        lvl, n = self_level(sh)
        if m:
            meta.level = find_level("某" + m.group(1))
            why["level"] = f"隐去名称的“{m.group()}”"
        elif lvl and n >= 2:
            meta.level = lvl
            why["level"] = f"正文自称的层级（出现 {n} 次）"
    meta.region = find_region(meta.unit, meta.level, c, sh)
    return MetaResult(meta, title_lines, fields, spans, {k: x for k, x in why.items() if x},
                      body_year(sh, first_body))
