"""Last year's report, for ``fazhi draft --previous``: its next-year plan items
(the checklist this year's report must answer) and its shortcomings (what
became of them).

Plan items are those of ``fazhi corpus follow`` (``corpus.follow.plan_items``:
the sub-headings of the next-year part, else its 一是… items, else its
sentences).  A sub-heading keeps its targets: the sentences under it that carry
a number or a time ("持续加大普法宣传教育力度：6月底前……"), so last year's own
fazhi draft, once its placeholders were filled in, gives its plans back with
their targets (an unfilled placeholder is not a target).  Shortcomings are
taken the same way from the shortcomings part, without the lead-in sentence
("…主要表现在："); under a generic sub-heading (the draft's "存在的主要不足") each
sentence is an item, and the sub-sections on causes and on the year before's
problems are not shortcomings (vocabulary: ``phrases.yaml`` ``previous``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .compose import DraftError

_LEAD_IN = re.compile(r"(主要表现在|表现在|具体如下|主要有|如下|体现在|方面)[:：]?\s*$")
_INLINE_LABEL = re.compile(r"[（(][一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+是")
MAX_ITEMS = 12


@dataclass
class Previous:
    path: str
    year: int | None
    unit: str | None
    plans: list[str] = field(default_factory=list)
    shortcomings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _words():
    from .compose import phrases

    pv = phrases()["previous"]
    return (re.compile(pv["generic_headings"]), re.compile(pv["skip_headings"]), re.compile(pv["target"]),
            int(pv.get("max_targets", 2)))


def _body(piece) -> str:
    """The text under a sub-heading (after its title), placeholders removed."""
    from ..rules.content import placeholder_re

    t = piece.text
    k = t.find(piece.title)
    body = t[k + len(piece.title):] if k >= 0 else t
    return placeholder_re().sub("", body).strip(" \n。.；;:：")


def _sentences(text: str) -> list[str]:
    return [x.strip(" \n，,") for x in re.split(r"(?<=[。；;！？!?])|\n", text) if len(x.strip(" \n，,。；;")) >= 4]


def _items(report, part: str) -> tuple[list[str], int]:
    """(items, number of sub-headings left unfilled) of a part."""
    from ..corpus.follow import Doc, plan_items

    generic, skip, target, max_targets = _words()
    doc = Doc.from_report(report)
    doc.parts = [("next_year", s, e) for p, s, e in doc.parts if p == part]
    out: list[str] = []
    unfilled = 0
    for piece in plan_items(doc):
        t = (piece.title or piece.text).strip()
        if piece.title:
            if skip.search(piece.title):
                continue  # 原因分析, last year's own look back: not items
            body = _body(piece)
            if not body:
                unfilled += 1
            sents = _sentences(body)
            if generic.search(piece.title):
                # "存在的主要不足": the sentences under it are the items
                for x in sents:
                    out.append(x.rstrip("。；;"))
                continue
            if part == "next_year" and sents:
                aims = [x.rstrip("。；;") for x in sents if target.search(x)][:max_targets]
                if aims:
                    out.append(f"{piece.title}：{'；'.join(aims)}")
                    continue
        # a sentence that carries several inline items: "…主要表现在:(一)依法决策有待加强"
        chunks = [c for c in re.split(r"[:：]", t) if c.strip()]
        if len(chunks) > 1 and _LEAD_IN.search(chunks[0] + "："):
            t = "：".join(chunks[1:])
        for sub in re.split(r"[；;]|" + _INLINE_LABEL.pattern, t):
            sub = sub.strip(" ，,；;。")
            if len(sub) >= 4 and not _LEAD_IN.search(sub):
                out.append(sub)
    seen = set()
    uniq = []
    for x in out:
        if x not in seen:
            seen.add(x)
            uniq.append(x)
    return uniq[:MAX_ITEMS], unfilled


def load_previous(path, year: int | None = None) -> Previous:
    """Analyse last year's report; ``DraftError`` (Chinese) when it cannot be read."""
    from ..ingest import IngestError
    from ..pipeline import analyze_path

    p = Path(path)
    if not p.exists():
        raise DraftError(f"上一年度报告不存在：{p}")
    try:
        report = analyze_path(p)
    except IngestError as e:
        raise DraftError(f"上一年度报告 {p.name} 无法读取：{e}") from None
    except Exception as e:  # noqa: BLE001 - the draft must say why, not show a traceback
        raise DraftError(f"上一年度报告 {p.name} 分析失败（{type(e).__name__}）") from None
    prev = Previous(path=str(p), year=report.meta.year, unit=report.meta.unit)
    parts = {x.part for x in report.parts}
    if "next_year" in parts:
        prev.plans, unfilled = _items(report, "next_year")
        if unfilled:
            prev.notes.append(f"上一年度报告 {p.name} 的下一年度安排中有 {unfilled} 项没有写内容（可能是未填写的初稿），"
                              "这些安排只列出了标题")
    else:
        prev.notes.append(f"上一年度报告 {p.name} 中没有找到“下一年度安排”部分，未列出上年安排")
    if "shortcomings" in parts:
        prev.shortcomings, _ = _items(report, "shortcomings")
    else:
        prev.notes.append(f"上一年度报告 {p.name} 中没有找到“存在的不足”部分，未列出上年问题")
    if year is not None and prev.year is not None and prev.year != year - 1:
        prev.notes.append(f"上一年度报告 {p.name} 报告的是 {prev.year} 年，不是 {year - 1} 年，请核对")
    return prev
