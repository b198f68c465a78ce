"""Metadata: title, unit, level, region, year, dates, 发文字号, 索引号.

Everything is matched on the shadow text (simplified, half-width), so a
traditional-character page reads like a simplified one; values are cut from
the original text.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from . import regions
from .clean import META_ROW, Cleaned
from .data import load_yaml
from .dates import find_dates, find_years, parse_date
from .model import Meta, Region

MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}


@dataclass
class MetaResult:
    meta: Meta
    title_lines: set[int] = field(default_factory=set)  # line indices that form the title
    fields: dict[str, str] = field(default_factory=dict)  # parsed page fields, label -> value
    evidence: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> span in text


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
        "title_needs": re.compile(d["title_needs"]),
        "title_not": re.compile(d["title_not"]),
        "unit_suffix": d["unit_suffix"],
        "unit_end": re.compile(d["unit_suffix"] + "$"),
        "followers": re.compile(d["unit_followers"]),
        "generic": re.compile(d["unit_generic"]),
        "levels": [(lvl, re.compile(rx)) for lvl, rx in d["levels"]],
    }


# ---------------------------------------------------------------- page fields
def parse_fields(c: Cleaned, sh: str, first_body: int) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
    """Label/value rows before the first heading (and in the last lines): returns
    {field: value} for published/signed/doc_number/index_number/publisher and
    the span of each value in the text."""
    v = _vocab()
    out: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    lines = [ln for ln in c.lines if ln.start < first_body][:60]
    for li, ln in enumerate(lines):
        s = sh[ln.start:ln.end]
        if len(s) > 200:
            continue
        ms = list(v["label_re"].finditer(s))
        # a label counts only at the line start or after a separator
        ms = [m for m in ms if m.start() == 0 or s[m.start()] in " \t[【" or s[m.start() - 1] in " \t|｜•·[]【】"
              or m.group(0).rstrip()[-1:] in ":：]】"]
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
                if not v["label_re"].match(ns) or not v["label_re"].match(ns).group("lab"):
                    value = c.text[nxt.start:nxt.end].strip()
                    vs, ve = nxt.start, nxt.end
                else:
                    m2 = v["label_re"].match(ns)
                    if m2 and m2.start() != 0:
                        value = c.text[nxt.start:nxt.end].strip()
            if not value or fld in out:
                continue
            out[fld] = value
            spans[fld] = (vs, ve)
    return out, spans


# ---------------------------------------------------------------------- title
def find_title(c: Cleaned, sh: str, first_body: int, raw_title: str | None) -> tuple[str | None, set[int], tuple[int, int] | None]:
    v = _vocab()
    cands = [(i, ln) for i, ln in enumerate(c.lines) if ln.start < first_body][:25]
    for k, (i, ln) in enumerate(cands):
        s = sh[ln.start:ln.end].strip("• ·")
        if len(s) > 90 or META_ROW.search(s) or v["title_not"].search(s):
            continue
        if not v["title_needs"].search(s):
            # a title split over two lines: "XX人民政府关于2022年度法治政府" / "建设情况的报告"
            if k + 1 < len(cands) and re.search("法治|依法行政", s) and len(s) < 50:
                j, nx = cands[k + 1]
                t2 = sh[nx.start:nx.end]
                if len(t2) < 40 and re.search("报告$", t2) and not v["title_not"].search(t2):
                    return (c.text[ln.start:ln.end] + c.text[nx.start:nx.end]).strip(), {i, j}, (ln.start, nx.end)
            continue
        if "报告" not in s and "总结" not in s:
            continue
        title = c.text[ln.start:ln.end].strip().lstrip("•· ")
        used = {i}
        span = (ln.start, ln.end)
        # "关于2021年度…报告" / "2017年度法治政府建设情况报告" lacking its subject:
        # the previous short line names the unit(s)
        if re.match(r"(关于|(19|20)\d{2}年|法治)", s) and k > 0:
            pi, pl = cands[k - 1]
            ps = sh[pl.start:pl.end]
            if len(ps) <= 40 and v["unit_end"].search(ps) and not META_ROW.search(ps) and not v["title_needs"].search(ps):
                title = c.text[pl.start:pl.end].strip() + title
                used.add(pi)
                span = (pl.start, ln.end)
        return title, used, span
    if raw_title:
        rs = raw_title.strip()
        if v["title_needs"].search(rs) and len(rs) <= 90:
            return rs, set(), None
    return None, set(), None


# ----------------------------------------------------------------------- year
def find_year(title: str | None, sh: str, first_body: int) -> int | None:
    if title:
        ys = find_years(title)
        if ys:
            return ys[0][0]
    head = sh[:max(first_body, 0) + 1500]
    m = re.search(r"现(?:将|对|就)[^。]{0,30}?((?:19|20)\d{2})\s*年", head)
    if m:
        return int(m.group(1))
    m = re.search(r"(?<![—\-–~至到])((?:19|20)\d{2})\s*年度?[^。，,)）》]{0,12}法治(政府)?建设", head)
    if m:
        return int(m.group(1))
    m = re.search(r"(?:^|\n)\s*((?:19|20)\d{2})\s*年(?:以来|来|度)?\s*[，,]", sh)
    if m:
        return int(m.group(1))
    ys = Counter(y for y, _, _ in find_years(sh[:20000]))
    return ys.most_common(1)[0][0] if ys else None


# ----------------------------------------------------------------------- unit
def normalise_unit(u: str) -> str:
    u = u.strip(" ：:，,、")
    # drop a leading party committee when a government follows it
    m = re.match(r"^中共\S*?(委员会|委)\s*(?=\S*(政府|办事处))", u)
    if m:
        u = u[m.end():]
    u = re.sub(r"\s+", "", u)
    if u.endswith("人民政府") and len(u) > 4:
        u = u[:-4]
    if u.endswith("街道办事处"):
        u = u[:-3]
    # drop a leading region chain before a township or a department of it:
    # 广州市增城区人民政府荔湖街道办事处 -> 荔湖街道
    m = re.search(r"(人民政府|政府)(?=.{2,})", u)
    if m and re.search(r"(街道|镇|乡|局|委|办)$", u):
        u = u[m.end():]
    return u


def _unit_from_title(title: str) -> str | None:
    v = _vocab()
    t = re.sub(r"\s+", " ", title).strip()
    m = re.match(r"^(?P<u>.+?)\s*(关于)?\s*[(（]?\s*((19|20)\d{2}|[〇○零一二三四五六七八九]{4})\s*年", t)
    if m and len(m.group("u")) >= 2:
        u = m.group("u")
    else:
        m = re.match(r"^\s*(?:(19|20)\d{2}\s*年度?)?\s*(?P<u>.+?)\s*(关于)?\s*(推进|开展|加强)?(法治政府|法治建设|依法行政)", t)
        if not m or len(m.group("u")) < 2:
            return None
        u = m.group("u")
    u = re.sub(r"关于$", "", u).strip()
    if "政府" in u and re.search("委员会|委", u):
        # "中共长春市委 长春市人民政府" -> the government
        parts = re.split(r"\s+|(?<=委)(?=\S)|(?<=委员会)|、", u)
        gov = [p for p in parts if "政府" in p]
        if gov:
            u = gov[-1]
    u = normalise_unit(u)
    if not u or not v["unit_end"].search(u) or v["generic"].search(u):
        return None
    return u


def _unit_from_signature(c: Cleaned, sh: str) -> str | None:
    v = _vocab()
    tail = c.lines[-6:]
    for ln in reversed(tail):
        s = sh[ln.start:ln.end].strip()
        if find_dates(s) or not s:
            continue
        if len(s) <= 40 and v["unit_end"].search(s) and not re.search("[，,。；]", s):
            if s.startswith("中共") and any("政府" in sh[x.start:x.end] or "办事处" in sh[x.start:x.end] for x in tail):
                continue
            u = normalise_unit(c.text[ln.start:ln.end])
            if u and not v["generic"].search(u):
                return u
        else:
            break
    return None


def _unit_from_opening(sh: str, text: str, first_body: int) -> str | None:
    v = _vocab()
    head = sh[:max(first_body, 0) + 800]
    for m in re.finditer(r"(?:(?:^|\n|。)\s*(?:(?:19|20)\d{2}\s*年(?:度|以来|来)?\s*[,，]\s*)?|[,，]\s*(?:19|20)\d{2}\s*年(?:度|以来|来)?\s*[,，]\s*)"
                         r"(?:在[^。]{0,80}?下\s*[,，]\s*)?"
                         r"(?P<u>[\u4e00-\u9fff]{2,24}?)(?=" + v["followers"].pattern + ")", head):
        u = m.group("u")
        if v["unit_end"].search(u) and not v["generic"].search(u):
            return normalise_unit(text[m.start("u"):m.end("u")])
    return None


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


def find_unit(title, c, sh, first_body, fields) -> str | None:
    u = _unit_from_title(title) if title else None
    if u is None:
        u = _unit_from_opening(sh, c.text, first_body)
    if u is None:
        u = _unit_from_signature(c, sh)
    if u is None:
        # "现将县人民政府2022年…" : the generic word, named elsewhere
        m = re.search(r"现将\s*(县|区|市|镇|乡|街道)(人民政府|政府)?", sh[:first_body + 800])
        if m:
            u = _name_generic(m.group(1), sh)
    if u is None and title:
        m = re.match(r"^\s*((?:县|区|市)(?:人民政府|政府))", title)
        if m:
            u = _name_generic(m.group(1), sh)
    return u


# ---------------------------------------------------------------------- level
def find_level(unit: str | None) -> str | None:
    if not unit:
        return None
    v = _vocab()
    u = unit
    if u in MUNICIPALITIES:
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
    body_mentions: list[str] = []
    for ln in c.lines:
        s = sh[ln.start:ln.end]
        if META_ROW.search(s):
            continue
        body_mentions.extend(n for n, _, _ in regions.mentions(s))
    mentioned = Counter(body_mentions)
    anchor_names: list[str] = []
    if unit:
        um = [n for n, _, _ in regions.mentions(unit)]
        if um:
            anchor_names = [um[-1]]
        elif level in ("province", "city", "county") and regions.lookup(unit):
            anchor_names = [unit]
    if not anchor_names:
        if level == "department":
            return Region()
        rank = {"county": 0, "city": 1, "province": 2}
        best = sorted(mentioned.items(), key=lambda kv: (
            min(rank[d.level] for d in regions.lookup(kv[0])), -kv[1], body_mentions.index(kv[0])))
        if not best:
            return Region()
        anchor_names = [best[0][0]]
    name = anchor_names[0]
    divs = regions.lookup(name)
    if not divs:
        return Region()
    # disambiguate by ancestors the text mentions
    scored = sorted(divs, key=lambda d: -sum(1 for a in d.chain()[1:] if a.name in mentioned))
    d = scored[0]
    if len(divs) > 1 and sum(1 for a in d.chain()[1:] if a.name in mentioned) == 0:
        # ambiguous and nothing in the text decides: keep only the name itself
        r = Region()
        setattr(r, "province" if d.level == "province" else d.level, name)
        return r
    r = Region()
    for a in d.chain():
        if a is d or a.name in mentioned:
            setattr(r, a.level, a.name)
    return r


# ----------------------------------------------------------------------- main
def extract(c: Cleaned, sh: str, first_body: int, raw_fields: dict[str, str], raw_title: str | None) -> MetaResult:
    fields, spans = parse_fields(c, sh, first_body)
    # reader-supplied fields (HTML tables) fill what the text rows lack
    v = _vocab()
    for lab, val in (raw_fields or {}).items():
        fld = v["label_field"].get(re.sub(r"\s+", "", lab))
        if fld and fld not in fields and val and val.strip():
            fields[fld] = val.strip()
    title, title_lines, tspan = find_title(c, sh, first_body, raw_title)
    meta = Meta(title=title)
    if tspan:
        spans["title"] = tspan
    meta.year = find_year(title, sh, first_body)
    meta.published = parse_date(fields["published"]) if fields.get("published") else None
    meta.signed = parse_date(fields["signed"]) if fields.get("signed") else None
    if meta.published is None:
        # a bare date line under the title ("2020-12-22 11:50" / "2020-03-24 09:41 来源: …")
        for ln in c.lines:
            if ln.start >= first_body:
                break
            s = sh[ln.start:ln.end]
            ds = find_dates(s)
            if ds and ds[0].start == 0 and len(s) < 60 and (ds[0].end >= len(s.strip()) - 1 or "来源" in s):
                meta.published = ds[0].iso
                spans["published"] = (ln.start + ds[0].start, ln.start + ds[0].end)
                break
    if meta.signed is None:
        # the date under the closing signature
        for ln in c.lines[-4:][::-1]:
            s = sh[ln.start:ln.end].strip()
            ds = find_dates(s)
            if ds and len(s) <= 20 and ds[0].start == 0:
                meta.signed = ds[0].iso
                spans["signed"] = (ln.start, ln.end)
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
                break
    dn = fields.get("doc_number")
    if dn and re.search(r"\d", dn) and len(dn) <= 40:
        meta.doc_number = dn
    ix = fields.get("index_number")
    if ix and re.search(r"\d", ix) and len(ix) <= 60:
        meta.index_number = ix.split()[0]
    meta.unit = find_unit(title, c, sh, first_body, fields)
    meta.level = find_level(meta.unit)
    meta.region = find_region(meta.unit, meta.level, c, sh)
    return MetaResult(meta, title_lines, fields, spans)
