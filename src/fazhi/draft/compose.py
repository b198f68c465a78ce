"""Compose the report draft: the ledger's figures and the wording of
``phrases.yaml`` -> a list of ``Block`` (title, headings, paragraphs, signature).

The blocks are rendered to Word (``fazhi.draft.docx``, GB/T 9704 layout) or
Markdown (``to_markdown``).  Placeholders 【请补充：…】 mark what only a person
can write.  ``verify`` reads a draft back with the analyser and compares its
indicator values with the ledger's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from ..ledger.reader import Ledger
from ..ledger.stats import Value, compute, indicator_values

CN_NUM = "一二三四五六七八九十"


class DraftError(Exception):
    """A draft that cannot be written; ``str(err)`` is a Chinese message."""


@dataclass
class Block:
    kind: str   # title | h1 | h2 | p | item | sign | date
    text: str


@dataclass
class Draft:
    unit: str
    year: int
    level: str
    blocks: list[Block] = field(default_factory=list)
    values: dict[str, Value] = field(default_factory=dict)
    expected: set = field(default_factory=set)   # (indicator, value) the ledger implies

    @property
    def title(self) -> str:
        return next(b.text for b in self.blocks if b.kind == "title")


@lru_cache(maxsize=1)
def phrases() -> dict:
    with resources.files(__package__).joinpath("phrases.yaml").open("r", encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def cn_ordinal(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 23 -> 二十三 (n < 100)."""
    tens, ones = divmod(n, 10)
    out = ("" if tens < 2 else CN_NUM[tens - 1]) + ("十" if tens else "")
    return out + (CN_NUM[ones - 1] if ones else "")


# ------------------------------------------------------------------ wording
_FIELD = re.compile(r"\{([A-Za-z_][\w.]*)\}")
_COND = re.compile(r"^\s*([\w.]+)\s*(==|!=|<=|>=|<|>|absent_or_zero|absent|present)\s*(-?[\d.]+)?\s*$")


class Words:
    """Fills the templates of phrases.yaml for one draft."""

    def __init__(self, values: dict[str, Value], lists: dict[str, list[str]], ctx: dict[str, str]):
        self.values = values
        self.lists = lists
        self.ctx = ctx

    def present(self, mid: str) -> bool:
        v = self.values.get(mid)
        return v is not None and not v.zero

    def cond(self, c: str) -> bool:
        m = _COND.match(c)
        if not m:
            raise DraftError(f"phrases.yaml：无法理解的条件“{c}”")
        mid, op, num = m.groups()
        if op == "present":
            return self.present(mid)
        if op in ("absent", "absent_or_zero"):
            return not self.present(mid)
        v = self.values.get(mid)
        if v is None:
            return False
        x, y = v.shown, float(num)
        return {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]

    def fill(self, text: str) -> str | None:
        """The text with its fields filled, or None when a figure it names is
        missing or zero (a zero is said in words, never as a number)."""
        out = []
        pos = 0
        for m in _FIELD.finditer(text):
            name = m.group(1)
            out.append(text[pos:m.start()])
            pos = m.end()
            if name in self.ctx:
                out.append(self.ctx[name])
            elif name in self.lists:
                items = self.lists[name]
                if not items:
                    return None
                out.append("；".join(f"“{x}”" for x in items))
            elif "." in name:
                if not self.present(name):
                    return None
                out.append(self.values[name].text())
            else:
                raise DraftError(f"phrases.yaml：未知的字段 {{{name}}}")
        out.append(text[pos:])
        return "".join(out)

    def entry(self, e) -> str | None:
        """One sentence entry (text / one_of / clauses) -> its text or None."""
        if isinstance(e, str):
            return self.fill(e)
        if any(not self.cond(c) for c in e.get("when", [])):
            return None
        if "one_of" in e:
            for alt in e["one_of"]:
                t = self.entry(alt)
                if t:
                    return t
            return None
        if "clauses" in e:
            got = []
            for k, c in enumerate(e["clauses"]):
                t = self.entry(c)
                if t is None and k == 0:
                    return None
                if t:
                    got.append(t.rstrip("。，,"))
            return "，".join(got) + "。" if got else None
        return self.fill(e["text"])

    def placeholder(self, text: str) -> str:
        return phrases()["placeholder"].format(text=self.fill(text) or text)


# ------------------------------------------------------------------ quoting
_LABEL = re.compile(r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]|\d{1,2}\s*[、.．]|"
                    r"[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，,、])\s*")
_CLAUSE_END = "，,；;：:、"


def quote_safe(text: str, max_len: int = 60) -> str:
    """A sentence of another text quoted in the draft: numbering removed, and
    cut before its first count/rate/amount — a figure of last year (or of a free
    text cell) must not pass for this year's indicator value — and shortened."""
    from ..quantities import find
    from ..textnorm import shadow

    s = " ".join(text.split())
    while True:
        m = _LABEL.match(s)
        if not m or not m.end():
            break
        s = s[m.end():]
    s = s.strip().rstrip("。；;，,：:")
    cut = None
    for q in find(shadow(s)):
        if q.kind in ("count", "people", "rate", "amount"):
            cut = q.start
            break
    if cut is not None:
        k = max((s.rfind(c, 0, cut) for c in _CLAUSE_END), default=-1)
        s = (s[:k] if k >= 4 else s[:cut]).rstrip(_CLAUSE_END + "“”") + "……"
    if len(s) > max_len:
        k = max((s.rfind(c, 0, max_len) for c in _CLAUSE_END), default=-1)
        s = (s[:k] if k >= 10 else s[:max_len]).rstrip(_CLAUSE_END) + "……"
    return s


# ------------------------------------------------------------------ compose
def _ctx(unit: str, year: int, level: str) -> dict[str, str]:
    ph = phrases()
    lv = dict(ph["levels"].get(level) or ph["levels"]["other"])
    for suf, words in (lv.pop("by_suffix", None) or {}).items():
        if unit.endswith(suf):
            lv.update(words)
            break
    ctx = {k: str(v) for k, v in lv.items()}
    ctx.update(unit=unit, year=str(year), next_year=str(year + 1), prev_year=str(year - 1))
    return ctx


def _lists(led: Ledger) -> dict[str, list[str]]:
    from ..ledger.stats import _match

    out = {}
    for d in phrases().get("lists") or []:
        items = []
        for r in led.rows(d["sheet"]):
            if _match(r.values, d.get("where")):
                v = r.values.get(d["column"])
                if v:
                    items.append(quote_safe(str(v), 40))
        out[d["id"]] = items
    return out


def compose(led: Ledger, unit: str, year: int, level: str, previous=None) -> Draft:
    """The draft's blocks for the ledger (already checked) and, optionally, last
    year's report (``fazhi.draft.previous.Previous``)."""
    ph = phrases()
    values = compute(led)
    ctx = _ctx(unit, year, level)
    w = Words(values, _lists(led), ctx)
    d = Draft(unit=unit, year=year, level=level, values=values, expected=indicator_values(values))
    B = d.blocks.append

    B(Block("title", w.fill(ph["title"])))
    B(Block("p", " ".join(w.fill(ph["opening"]).split()).replace(" ", "")))

    # 一、主要举措和成效
    B(Block("h1", w.fill(ph["parts"]["achievements"])))
    k = 0
    for sec in ph["sections"]:
        sentences = [t for t in (w.entry(e) for e in sec.get("sentences") or []) if t]
        if not sentences and not sec.get("always"):
            continue
        k += 1
        B(Block("h2", f"（{cn_ordinal(k)}）{w.fill(sec['heading'])}"))
        body = "".join(sentences)
        B(Block("p", body + w.placeholder(sec["placeholder"]) if body else w.placeholder(sec["placeholder"])))
    if previous is not None and previous.plans:
        pp = ph["previous_plans"]
        k += 1
        B(Block("h2", f"（{cn_ordinal(k)}）{w.fill(pp['heading'])}"))
        B(Block("p", w.fill(pp["intro"])))
        for n, item in enumerate(previous.plans, start=1):
            B(Block("item", pp["item"].format(n=n, item=quote_safe(item)) + w.placeholder(pp["placeholder"])))

    # 二、存在的不足和原因
    sp = ph["shortcomings"]
    B(Block("h1", w.fill(ph["parts"]["shortcomings"])))
    B(Block("p", w.fill(sp["intro"])))
    B(Block("h2", f"（一）{sp['heading_found']}"))
    found = [t for t in (w.entry(e) for e in sp["findings"]) if t]
    B(Block("p", "".join(found) + w.placeholder(sp["placeholder_found"])))
    k = 1
    if previous is not None and previous.shortcomings:
        k += 1
        B(Block("h2", f"（{cn_ordinal(k)}）{w.fill(sp['previous_heading'])}"))
        B(Block("p", w.fill(sp["previous_intro"])))
        for n, item in enumerate(previous.shortcomings, start=1):
            B(Block("item", sp["previous_item"].format(n=n, item=quote_safe(item)) + w.placeholder(sp["previous_placeholder"])))
    k += 1
    B(Block("h2", f"（{cn_ordinal(k)}）{sp['causes_heading']}"))
    B(Block("p", w.placeholder(sp["causes_placeholder"])))

    # 三、第一责任人
    lp = ph["leader_duty"]
    B(Block("h1", w.fill(ph["parts"]["leader_duty"])))
    B(Block("p", w.fill(lp["intro"])))
    for n, it in enumerate(lp["items"], start=1):
        B(Block("h2", f"（{cn_ordinal(n)}）{w.fill(it['heading'])}"))
        B(Block("p", w.placeholder(it["placeholder"])))

    # 四、下一年度安排
    npart = ph["next_year"]
    B(Block("h1", w.fill(ph["parts"]["next_year"])))
    B(Block("p", w.fill(npart["intro"])))
    n = 0
    for it in npart["items"]:
        n += 1
        B(Block("h2", f"（{cn_ordinal(n)}）{w.fill(it['heading'])}"))
        B(Block("p", w.placeholder(it["placeholder"])))
    rc = npart.get("rectification")
    if rc and all(w.cond(c) for c in rc.get("when", [])):
        t = w.fill(rc["text"])
        if t:
            n += 1
            B(Block("h2", f"（{cn_ordinal(n)}）{w.fill(rc['heading'])}"))
            B(Block("p", t))

    B(Block("sign", unit))
    B(Block("date", w.placeholder(ph["signature"]["date_placeholder"])))
    return d


# ------------------------------------------------------------------ markdown
def to_markdown(d: Draft) -> str:
    out = []
    for b in d.blocks:
        if b.kind == "title":
            out.append(f"# {b.text}")
        elif b.kind == "h1":
            out.append(f"## {b.text}")
        elif b.kind == "h2":
            out.append(f"### {b.text}")
        elif b.kind == "sign":
            out.append(b.text)
            continue
        else:
            out.append(b.text)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------ round trip
@dataclass
class Check:
    missing: set      # (indicator, value) the ledger implies, not read from the draft
    extra: set        # (indicator, value) read from the draft, not implied
    parts: list[str]  # statutory parts found, in order
    errors: list      # error-level findings other than the placeholders left to fill
    holes: int = 0    # placeholders 【请补充：…】 the analyser found (rule draft.placeholder)

    @property
    def ok(self) -> bool:
        from ..model import REQUIRED_PARTS

        return not self.missing and not self.extra and not self.errors and all(p in self.parts for p in REQUIRED_PARTS)


def read_back(report, expected: set) -> Check:
    from ..ledger.stats import round2

    got = {(f.indicator, round2(f.value)) for f in report.facts if f.indicator}
    return Check(missing=expected - got, extra=got - expected, parts=[p.part for p in report.parts],
                 errors=[f for f in report.findings if f.severity == "error" and f.rule != "draft.placeholder"],
                 holes=sum(1 for f in report.findings if f.rule == "draft.placeholder"))


def verify(d: Draft, path=None) -> Check:
    """Read the draft back with the analyser (the written file when ``path`` is
    given, else its Markdown) and compare with the ledger's indicator values."""
    from ..pipeline import analyze_path, analyze_text

    report = analyze_path(path) if path else analyze_text(to_markdown(d), "draft.md")
    return read_back(report, d.expected)

