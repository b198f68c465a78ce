"""Score analysis output against gold files, as ``annotation.md`` defines it.

The measures agree with the reference scorer (``shared/tools/score.py``):
parts P/R/F1 on part-id sets (micro-averaged) and exact heading match;
facts P/R/F1 on (indicator, value) pairs, values equal within 0.5 %, facts with
indicator null ignored, repeats counted once; metadata accuracy per field after
normalisation (NFKC, whitespace removed, traditional characters simplified:
廣東省 = 广东省), fields that gold leaves null not scored.  ``strict_null=True``
follows the stricter sentence of annotation.md instead: a non-null prediction
where gold is null counts as an error.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .textnorm import to_simplified

META_FIELDS = ["title", "unit", "level", "year", "published", "signed", "doc_number", "index_number",
               "region.province", "region.city", "region.county"]
_UNIT_AFFIX = re.compile(r"(人民政府|办事处|管委会|管理委员会|街道|街|镇|乡|区|县|市|省|自治区)$")


def norm_text(s):
    if s is None:
        return None
    s = to_simplified(unicodedata.normalize("NFKC", str(s)))
    s = re.sub(r"[\s*#]", "", s)
    return s.replace("〔", "[").replace("〕", "]").replace("【", "[").replace("】", "]")


def norm_unit(s):
    s = norm_text(s)
    if not s:
        return s
    s = re.sub(r"^.*?(省|自治区)", "", s) or s
    prev = None
    while prev != s:
        prev = s
        stripped = _UNIT_AFFIX.sub("", s)
        if stripped:
            s = stripped
    return s


def _get(d, dotted):
    for k in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def meta_equal(fld, g, p) -> bool:
    if fld == "unit":
        return norm_unit(g) == norm_unit(p) or (norm_unit(p) or "").endswith(norm_unit(g) or "\0")
    if fld == "year":
        try:
            return int(g) == int(p)
        except (TypeError, ValueError):
            return False
    if fld.startswith("region."):
        return norm_unit(g) == norm_unit(p)
    return norm_text(g) == norm_text(p)


def prf(tp, fp, fn) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def close(a, b) -> bool:
    a, b = float(a), float(b)
    return abs(a - b) <= 0.005 * max(abs(a), abs(b), 1e-9)


@dataclass
class Scores:
    parts: list[int] = field(default_factory=lambda: [0, 0, 0])  # tp fp fn
    headings: list[int] = field(default_factory=lambda: [0, 0])  # exact, compared
    facts: list[int] = field(default_factory=lambda: [0, 0, 0])
    meta: dict[str, list[int]] = field(default_factory=dict)  # field -> [ok, n]
    per_file: dict[str, dict] = field(default_factory=dict)

    @property
    def parts_prf(self):
        return prf(*self.parts)

    @property
    def facts_prf(self):
        return prf(*self.facts)

    @property
    def meta_acc(self) -> float:
        ok = sum(c[0] for c in self.meta.values())
        n = sum(c[1] for c in self.meta.values())
        return ok / n if n else 1.0


def group_of(name: str) -> str:
    """The group a dev file belongs to, from its name: ``seed-000`` -> ``seed``,
    ``excerpt-012`` -> ``excerpt``, ``excerpt-a07`` -> ``excerpt-a``."""
    g = re.sub(r"[-_]?\d+$", "", name)
    return g or name


def errors_of(row: dict) -> int:
    """How many things one file's analysis got wrong (for ranking the worst)."""
    return (len(row["parts_missing"]) + len(row["parts_extra"]) + len(row.get("headings_wrong", ()))
            + len(row["facts_missed"]) + len(row["facts_extra"]) + len(row["meta_wrong"]))


def score_one(res: Scores, name: str, gold: dict, pred: dict, strict_null: bool = False) -> None:
    gparts = {x["part"]: x.get("heading") for x in gold.get("parts", [])}
    pparts: dict = {}
    for x in pred.get("parts", []) or []:
        pparts.setdefault(x.get("part"), x.get("heading"))
    res.parts[0] += len(set(gparts) & set(pparts))
    res.parts[1] += len(set(pparts) - set(gparts))
    res.parts[2] += len(set(gparts) - set(pparts))
    heads_wrong = []
    for k in sorted(set(gparts) & set(pparts)):
        res.headings[1] += 1
        same = norm_text(gparts[k]) == norm_text(pparts[k])
        res.headings[0] += same
        if not same:
            heads_wrong.append(k)
    gf = [(f["indicator"], f["value"]) for f in gold.get("facts", [])]
    pf: list = []
    for f in pred.get("facts", []) or []:
        if f.get("indicator"):
            item = (f["indicator"], f.get("value"))
            if not any(i == item[0] and close(v, item[1]) for i, v in pf):
                pf.append(item)
    matched: set[int] = set()
    tp = 0
    for i, v in pf:
        hit = next((k for k, (gi, gv) in enumerate(gf) if k not in matched and gi == i and close(gv, v)), None)
        if hit is not None:
            matched.add(hit)
            tp += 1
    fp, fn = len(pf) - tp, len(gf) - len(matched)
    res.facts[0] += tp
    res.facts[1] += fp
    res.facts[2] += fn
    gm, pm = gold.get("meta", {}), pred.get("meta", {}) or {}
    wrong = []
    for fld in META_FIELDS:
        g, p = _get(gm, fld), _get(pm, fld)
        if g is None and (p is None or not strict_null):
            continue
        ok = (p is None) if g is None else (p is not None and meta_equal(fld, g, p))
        c = res.meta.setdefault(fld, [0, 0])
        c[0] += ok
        c[1] += 1
        if not ok:
            wrong.append(fld)
    res.per_file[name] = {
        "parts_missing": sorted(set(gparts) - set(pparts)),
        "parts_extra": sorted(set(pparts) - set(gparts)),
        "facts": prf(tp, fp, fn),
        "facts_missed": [x for k, x in enumerate(gf) if k not in matched],
        "facts_extra": [x for x in pf if not any(gi == x[0] and close(gv, x[1]) for gi, gv in gf)],
        "meta_wrong": wrong,
        "headings_wrong": heads_wrong,
    }
