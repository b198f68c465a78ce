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
PLAN_QUOTE = 90   # characters of a plan of last year (heading and targets) quoted in the draft


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
_COND = re.compile(r"^\s*([\w.]+)\s*(==|!=|<=|>=|<|>|absent_or_zero|absent|present|zero)\s*(-?[\d.]+)?\s*$")


@dataclass
class Items:
    """A list of ledger cells (phrases.yaml ``lists``) and how it is joined."""
    items: list[str]
    quote: bool = True
    sep: str = ""
    more: bool = False    # the ledger has more than ``items`` (a following 等 is kept)

    def text(self) -> str:
        def q(x: str) -> str:  # quotes inside quotes become single quotes
            return "“" + x.replace("“", "‘").replace("”", "’") + "”"
        return self.sep.join(q(x) if self.quote else x for x in self.items)


class Words:
    """Fills the templates of phrases.yaml for one draft."""

    def __init__(self, values: dict[str, Value], lists: dict[str, Items], ctx: dict[str, str]):
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
        if op == "zero":  # the ledger says "none" (an empty sheet, a count of 0)
            v = self.values.get(mid)
            return v is not None and v.zero
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
                if not items.items:
                    return None
                out.append(items.text())
                if not items.more and text.startswith("等", pos):
                    pos += 1  # every item is named: no 等
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
    cut before its first figure the analyser would read as an indicator value —
    a figure of last year (or of a free text cell) must not pass for this year's
    — and shortened.  A target ("不少于12次", "力争…") is no indicator value: it stays."""
    from ..facts import extract
    from ..textnorm import shadow

    s = " ".join(text.split())
    while True:
        m = _LABEL.match(s)
        if not m or not m.end():
            break
        s = s[m.end():]
    s = s.strip().rstrip("。；;，,：:")
    cut = next((f.start for f in extract(s, shadow(s), []) if f.indicator), None)
    if cut is not None:
        k = max((s.rfind(c, 0, cut) for c in _CLAUSE_END), default=-1)
        s = (s[:k] if k >= 4 else s[:cut]).rstrip(_CLAUSE_END + "“”") + "……"
    if len(s) > max_len:
        k = max((s.rfind(c, 0, max_len) for c in _CLAUSE_END), default=-1)
        s = (s[:k] if k >= 10 else s[:max_len]).rstrip(_CLAUSE_END) + "……"
    return s


def level_for(led: Ledger, unit: str) -> str:
    """The unit's level: the ledger's 基本情况 (when it is the ledger's unit), else
    by the end of the unit's name (phrases.yaml ``infer_level``), else other."""
    b = led.schema.basic("level")
    v = led.basics.get("level")
    if b is not None and v in b.map and led.basics.get("unit") in (None, unit):
        return b.map[v]
    for rule in phrases().get("infer_level") or []:
        if any(unit.endswith(s) for s in rule["suffix"]):
            return rule["level"]
    return "other"


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


_COLUMN = re.compile(r"\{([^{}]+)\}")  # a column of the ledger in a list's format
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def _cell_text(v, max_len: int) -> str | None:
    """A ledger cell as the draft quotes it: dates as 3月20日, text without the
    blanks between Chinese characters (党工委书记 王某 -> 党工委书记王某) and cut
    before any figure (``quote_safe``)."""
    import datetime as dt

    if v is None or v == "":
        return None
    if isinstance(v, dt.date):
        return f"{v.month}月{v.day}日"
    t = _CJK_GAP.sub("", " ".join(str(v).split()))
    return quote_safe(t, max_len) or None


def _lists(led: Ledger) -> dict[str, Items]:
    """The ``lists`` of phrases.yaml over the ledger's rows.  A list takes one
    ``column`` (quoted “…” by default) or a ``format`` of columns ({日期}，{履职人}
    {履职内容}); ``order: frequency`` puts the most frequent values first; ``max``
    keeps the first N; ``sep`` joins them."""
    from collections import Counter

    from ..ledger.stats import _match

    out = {}
    for d in phrases().get("lists") or []:
        max_len = int(d.get("max_len", 40))
        items: list[str] = []
        more = False
        for r in led.rows(d["sheet"]):
            if not _match(r.values, d.get("where")):
                continue
            if "format" in d:
                fields = {}
                for name in _COLUMN.findall(d["format"]):
                    fields[name] = _cell_text(r.values.get(name), max_len)
                if any(v is None for v in fields.values()):
                    continue
                t = _COLUMN.sub(lambda m: fields[m.group(1)], d["format"])
            else:
                t = _cell_text(r.values.get(d["column"]), max_len)
            if t:
                items.append(t)
        if d.get("order") == "frequency":
            n = Counter(items)
            items = sorted(dict.fromkeys(items), key=lambda x: -n[x])
        elif d.get("distinct", True):
            items = list(dict.fromkeys(items))
        if d.get("max") and len(items) > int(d["max"]):
            items, more = items[:int(d["max"])], True
        quote = bool(d.get("quote", "format" not in d))
        out[d["id"]] = Items(items, quote, str(d.get("sep", "" if quote else "、")), more)
    return out


def _case(led: Ledger, topic: str) -> str | None:
    """The topic's typical case: the first filled 典型案例 cell of its sheets,
    as the clerk wrote it (one or two sentences), cut at a sentence end."""
    cp = phrases()["case"]
    col, max_chars = cp["column"], int(cp.get("max_chars", 160))
    for sh in led.schema.sheets:
        if sh.topic != topic or sh.column(col) is None:
            continue
        for r in led.rows(sh.name):
            v = r.values.get(col)
            if not v:
                continue
            t = _CJK_GAP.sub("", " ".join(str(v).split())).strip()
            if len(t) > max_chars:
                k = max(t.rfind(c, 0, max_chars) for c in "。；;！？")
                t = t[:k] if k >= 20 else t[:max_chars].rstrip("，,、") + "……"
            t = t.rstrip("。；;，,") + "。"
            return cp["text"].format(text=t)
    return None


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
    thin = int(ph.get("min_sentences", 2))
    for sec in ph["sections"]:
        sentences = [t for t in (w.entry(e) for e in sec.get("sentences") or []) if t]
        case = _case(led, sec["topic"])
        if not sentences and not case and not sec.get("always"):
            continue
        k += 1
        B(Block("h2", f"（{cn_ordinal(k)}）{w.fill(sec['heading'])}"))
        body = "".join(sentences)
        # a person writes only where the ledger says too little: no case and few sentences
        if not case and len(sentences) < thin:
            body += w.placeholder(sec["placeholder"])
        if body:
            B(Block("p", body))
        if case:
            B(Block("p", case))
    if previous is not None and previous.plans:
        pp = ph["previous_plans"]
        k += 1
        B(Block("h2", f"（{cn_ordinal(k)}）{w.fill(pp['heading'])}"))
        B(Block("p", w.fill(pp["intro"])))
        for n, item in enumerate(previous.plans, start=1):
            B(Block("item", pp["item"].format(n=n, item=quote_safe(item, PLAN_QUOTE)) + w.placeholder(pp["placeholder"])))

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
        fixes = match_rectification(previous.shortcomings, led)
        for n, item in enumerate(previous.shortcomings, start=1):
            fix = fixes.get(n - 1)
            tail = rectification_text(fix, year) if fix else w.placeholder(sp["previous_placeholder"])
            B(Block("item", sp["previous_item"].format(n=n, item=quote_safe(item)) + tail))
    k += 1
    B(Block("h2", f"（{cn_ordinal(k)}）{sp['causes_heading']}"))
    B(Block("p", w.placeholder(sp["causes_placeholder"])))

    # 三、第一责任人
    lp = ph["leader_duty"]
    B(Block("h1", w.fill(ph["parts"]["leader_duty"])))
    B(Block("p", w.fill(lp["intro"])))
    for n, it in enumerate(lp["items"], start=1):
        B(Block("h2", f"（{cn_ordinal(n)}）{w.fill(it['heading'])}"))
        sentences = [t for t in (w.entry(e) for e in it.get("sentences") or []) if t]
        B(Block("p", "".join(sentences) if sentences else w.placeholder(it["placeholder"])))

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


# ------------------------------------------------------------------ last year's problems
def _pairs(s: str) -> set[str]:
    from ..textnorm import shadow

    t = re.sub(r"[^\u3400-\u9fff\w]", "", shadow(s))
    return {t[i:i + 2] for i in range(len(t) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character pairs of two short texts."""
    x, y = _pairs(a), _pairs(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def match_rectification(items: list[str], led: Ledger) -> dict[int, dict]:
    """Last year's shortcomings -> this year's 整改事项 rows that answer them
    (greedy by similarity of 问题描述; a row from 上年度报告 needs less).  Each
    row answers one item at most."""
    rp = phrases()["shortcomings"]["rectification"]
    rows = [r.values for r in led.rows(rp["sheet"]) if r.values.get(rp["column"])]
    scored = []
    for i, item in enumerate(items):
        for j, r in enumerate(rows):
            sim = similarity(item, str(r[rp["column"]]))
            own = r.get(rp["source_column"]) == rp["source_value"]
            if sim >= (rp["threshold_own"] if own else rp["threshold"]):
                scored.append((sim + (0.1 if own else 0), i, j))
    out: dict[int, dict] = {}
    used: set[int] = set()
    for _, i, j in sorted(scored, reverse=True):
        if i in out or j in used:
            continue
        out[i] = rows[j]
        used.add(j)
    return out


def _date_words(d, year: int) -> str:
    return f"{d.month}月{d.day}日" if d.year == year else f"{d.year}年{d.month}月{d.day}日"


def rectification_text(row: dict, year: int) -> str:
    """"整改情况：" + the row's measures and status, in the wording of phrases.yaml."""
    import datetime as dt

    rp = phrases()["shortcomings"]["rectification"]
    status = row.get(rp["status_column"])
    tpl = rp["status"].get(status) or rp["status"]["default"]
    measure = _cell_text(row.get(rp["measure_column"]), 60) or ""
    fields = {"measure": measure}
    for key, col in (("done", rp["done_column"]), ("due", rp["due_column"])):
        v = row.get(col)
        fields[key] = _date_words(v, year) if isinstance(v, dt.date) else ""
    if (status == "已完成" and not fields["done"]) or (status != "已完成" and "{due}" in tpl and not fields["due"]):
        tpl = rp["status"]["default"]
    text = tpl.format(**fields)
    return text if measure else text.replace("，，", "，").lstrip("，")


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

