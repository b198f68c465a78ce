"""Human corrections of an analysis, kept apart from it (``fazhi corpus fix``).

A person corrects what the engine read: a metadata field (unit, year, level,
title, dates, region), a fact (its value, its indicator, or "not a fact"), the
statutory part of a heading, and marks a finding confirmed or dismissed.  Each
correction is one row of ``corrections`` (who, when, old value, new value,
reason); the analysis rows (``reports``, ``facts``, ``parts``, ``findings``)
are then rewritten from the analysis *plus* the corrections, so that every
statistic, ranking, status and export reads the corrected values without
knowing about corrections.

Corrections are keyed by the file (``sha256``) and by a fingerprint of their
evidence — the field name; the quoted text of a fact with the characters
before it; the heading text of a part; the rule and evidence of a finding — not
by row ids, so they survive deleting and re-adding the file, re-analysis and
engine upgrades: ``store.insert`` applies them to every new analysis of the
same file.  A correction whose evidence the analysis no longer contains is
kept and reported as "未能应用".

Scores and findings follow the corrections by difference: the rules and the
rubric are run on the report as stored and on the corrected report, and what
changes between the two is applied to the stored findings and scores (so a
correction never moves anything it does not touch).  A dismissed finding is
removed and its penalty given back.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from ..model import PART_LABELS, REQUIRED_PARTS, Fact, Finding, Meta, Part, Region, Report, Source
from ..textnorm import shadow
from . import db

META_FIELDS = {"title": "标题", "unit": "单位", "level": "层级", "year": "年度", "published": "发布日期",
               "signed": "成文日期", "province": "省份", "city": "市", "county": "县区"}
FACT_FIELDS = {"value": "数值", "indicator": "指标", "not_fact": "不是数据"}
FINDING_STATES = {"confirmed": "已确认", "dismissed": "已排除"}
CONTEXT = 12  # characters before a fact that go into its fingerprint


class CorrectionError(ValueError):
    """A correction that cannot be made (message in Chinese)."""


@dataclass
class Outcome:
    applied: int
    unapplied: list[dict]


def _key(*parts: str) -> str:
    s = "\x1f".join("".join(shadow(p or "").split()) for p in parts)
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:20]


def fact_key(text: str, start: int, end: int) -> str:
    return _key(text[max(0, start - CONTEXT):start], text[start:end])


def part_key(heading: str) -> str:
    return _key(heading)


def finding_key(text: str, rule: str, start: int | None, end: int | None, message: str) -> str:
    evidence = text[start:end][:80] if start is not None and end is not None else message
    return _key(rule, evidence)


# ------------------------------------------------------------------ recording
def record(conn: Connection, report_id: int, target: str, field: str, new, *, key: str | None = None,
           reason: str | None = None, actor: str | None = None) -> int:
    """Store one correction of report ``report_id`` (``apply`` then rewrites its rows).
    ``target``: meta | fact | part | finding; ``key``: the row id of the fact, part or
    finding being corrected (as shown by ``fazhi corpus show``), turned into its fingerprint."""
    rep = conn.execute(select(db.reports).where(db.reports.c.id == report_id)).mappings().first()
    if rep is None:
        raise CorrectionError(f"报告库中没有编号为 {report_id} 的报告")
    text = rep["text"]
    if target == "meta":
        if field not in META_FIELDS:
            raise CorrectionError(f"不能更正“{field}”，可更正的字段：{'、'.join(META_FIELDS)}")
        new = _meta_value(field, new)
        old, fp = rep[field], field
    elif target == "fact":
        row = _row(conn, db.facts, key, report_id, "数据")
        if field not in FACT_FIELDS:
            raise CorrectionError(f"数据只能更正：{'、'.join(FACT_FIELDS)}")
        if field == "value":
            try:
                new = float(str(new).replace(",", "").replace("，", ""))
            except ValueError:
                raise CorrectionError(f"数值“{new}”不是数字") from None
        elif field == "indicator":
            new = _indicator(new)
        else:
            new = True
        old = {"value": row["value"], "indicator": row["indicator"], "not_fact": False}[field]
        fp = fact_key(text, row["start"], row["end"])
    elif target == "part":
        row = _row(conn, db.parts, key, report_id, "法定部分")
        field = "part"
        if new not in PART_LABELS and new != "none":
            raise CorrectionError(f"法定部分只能是：{'、'.join(PART_LABELS)}，或 none（不是法定部分）")
        old, fp = row["part"], part_key(row["heading"])
    elif target == "finding":
        row = _row(conn, db.findings, key, report_id, "问题")
        field = "status"
        if new not in FINDING_STATES:
            raise CorrectionError("问题只能标为 confirmed（已确认）或 dismissed（已排除）")
        old, fp = None, finding_key(text, row["rule"], row["start"], row["end"], row["message"])
    else:
        raise CorrectionError(f"未知的更正对象“{target}”")
    # a metadata correction is about the report, not the file: the other files of the
    # same version (the .docx of this .pdf) get it too, so they stay one report
    shas = [(report_id, rep["sha256"])]
    if target == "meta":
        from .submissions import files_of_version

        sibs = [i for i in files_of_version(conn, report_id) if i != report_id]
        if sibs:
            shas += list(conn.execute(select(db.reports.c.id, db.reports.c.sha256).where(db.reports.c.id.in_(sibs))))
    c = db.corrections.c
    cid = None
    for rid, sha in shas:
        # a newer correction of the same thing supersedes the older one (kept as history)
        conn.execute(update(db.corrections).where(
            (c.sha256 == sha) & (c.target == target) & (c.key == fp) & (c.field == field) & c.active)
            .values(active=False))
        got = conn.execute(insert(db.corrections).values(
            sha256=sha, report_id=rid, target=target, key=fp, field=field,
            old_value=json.dumps(old, ensure_ascii=False), new_value=json.dumps(new, ensure_ascii=False),
            reason=(reason or "")[:1000] or None, actor=(actor or "")[:64] or None, at=_now(),
            active=True)).inserted_primary_key[0]
        cid = cid or got
    return cid


def apply_version(conn: Connection, report_id: int) -> Outcome:
    """``apply`` to a report and to the other files of its version (after ``record``)."""
    from .submissions import files_of_version

    sibs = [i for i in files_of_version(conn, report_id) if i != report_id]
    out = apply(conn, report_id)
    for i in sibs:
        apply(conn, i)
    return out


def _now() -> str:
    from .store import now

    return now()


def _row(conn, table, key, report_id: int, what: str):
    try:
        rid = int(key)
    except (TypeError, ValueError):
        raise CorrectionError(f"请给出{what}的编号（fazhi corpus show {report_id} 中列出）") from None
    row = conn.execute(select(table).where((table.c.id == rid) & (table.c.report_id == report_id))).mappings().first()
    if row is None:
        raise CorrectionError(f"报告 {report_id} 中没有编号为 {rid} 的{what}")
    return row


def _meta_value(field: str, v):
    if v in (None, "", "none", "空"):
        return None
    v = str(v).strip()
    if field == "year":
        if not (v.isdigit() and 1990 <= int(v) <= 2100):
            raise CorrectionError(f"年度“{v}”不是四位年份")
        return int(v)
    if field in ("published", "signed"):
        from ..dates import parse_date

        d = parse_date(v)
        if d is None:
            raise CorrectionError(f"日期“{v}”无法识别（请写成 2024-03-28 或 2024年3月28日）")
        return d
    if field == "level":
        from ..model import LEVEL_LABELS

        by_label = {lab: k for k, lab in LEVEL_LABELS.items()}
        if v in by_label:
            return by_label[v]
        if v not in LEVEL_LABELS:
            raise CorrectionError(f"层级只能是：{'、'.join(LEVEL_LABELS.values())}")
    return v[:500]


def _indicator(v):
    if v in (None, "", "none", "null", "空"):
        return None
    from ..facts import load_catalog

    if v not in load_catalog():
        raise CorrectionError(f"指标目录中没有“{v}”（见 indicators.yaml）")
    return v


# ------------------------------------------------------------------ applying
def active(conn: Connection, sha256: str) -> list[dict]:
    c = db.corrections.c
    rows = conn.execute(select(db.corrections).where((c.sha256 == sha256) & c.active)
                        .order_by(c.id)).mappings().all()
    return [{**r, "new": json.loads(r["new_value"]), "old": json.loads(r["old_value"])} for r in rows]


def history(conn: Connection, report_id: int | None = None) -> list[dict]:
    """Every correction (newest first), superseded ones too."""
    q = select(db.corrections).order_by(db.corrections.c.id.desc())
    if report_id is not None:
        sha = conn.execute(select(db.reports.c.sha256).where(db.reports.c.id == report_id)).scalar()
        q = q.where(db.corrections.c.sha256 == sha)
    return [dict(r) for r in conn.execute(q).mappings()]


def _snapshot(conn: Connection, rep) -> dict:
    """The analysis of a report as the engine made it (meta, parts, facts, findings,
    scores): saved the first time a correction rewrites the rows, read back after."""
    rid = rep["id"]
    got = conn.execute(select(db.analysis_base.c.analysis).where(db.analysis_base.c.report_id == rid)).scalar()
    if got is not None:
        return got if isinstance(got, dict) else json.loads(got)
    snap = _rows_snapshot(conn, rep)
    conn.execute(insert(db.analysis_base).values(report_id=rid, analysis=snap))
    return snap


def _report_of(rep, snap: dict) -> Report:
    m = snap["meta"]
    meta = Meta(title=m["title"], unit=m["unit"], level=m["level"],
                region=Region(m["province"], m["city"], m["county"]), year=m["year"],
                published=m["published"], signed=m["signed"], doc_number=rep["doc_number"],
                index_number=rep["index_number"])
    r = Report(source=Source(path=rep["path"], format=rep["format"], sha256=rep["sha256"]), text=rep["text"], meta=meta)
    r.parts = [Part(p["part"], p["heading"], p["start"], p["end"]) for p in snap["parts"]]
    r.facts = [Fact(f["indicator"], f["value"], f["unit"], f["approx"], f["start"], f["end"], f["part"], f["quote"] or "")
               for f in snap["facts"]]
    r.findings = [Finding(f["rule"], f["severity"], f["message"], f["start"], f["end"]) for f in snap["findings"]]
    r.scores = dict(snap["scores"])
    return r


def _outline(text: str):
    from ..pipeline import analyze_text

    return analyze_text(text).outline


def _corrected(base: Report, corrections: list[dict]) -> tuple[Report, list[dict], set[str]]:
    """A copy of ``base`` with the corrections applied; the ones whose evidence is
    gone; the fingerprints of dismissed findings."""
    import copy

    r = copy.deepcopy(base)
    text = r.text
    unapplied, dismissed = [], set()
    facts = {fact_key(text, f.start, f.end): f for f in reversed(r.facts)}
    parts = {part_key(p.heading): p for p in reversed(r.parts)}
    drop_facts, drop_parts = set(), set()
    for c in corrections:
        t, k, fld, new = c["target"], c["key"], c["field"], c["new"]
        if t == "meta":
            if fld in ("province", "city", "county"):
                setattr(r.meta.region, fld, new)
            else:
                setattr(r.meta, fld, new)
        elif t == "fact" and k in facts:
            f = facts[k]
            if fld == "not_fact":
                drop_facts.add(id(f))
            else:
                setattr(f, fld, new)
        elif t == "part" and k in parts:
            p = parts[k]
            if new == "none":
                drop_parts.add(id(p))
            else:
                p.part = new
        elif t == "finding" and any(finding_key(text, f.rule, f.start, f.end, f.message) == k for f in r.findings):
            if new == "dismissed":
                dismissed.add(k)
        else:
            unapplied.append(c)
    r.facts = [f for f in r.facts if id(f) not in drop_facts]
    r.parts = [p for p in r.parts if id(p) not in drop_parts]
    return r, unapplied, dismissed


def _evaluated(r: Report, notes: list[str], dismissed: set[str] = frozenset(), ruleset=None) -> Report:
    """Findings and scores of ``r`` recomputed (a copy) under ``ruleset`` (None: the
    national rules), dismissed findings left out of the scores."""
    import copy

    from .. import scores as scores_mod
    from ..findings import evaluate
    from ..rules import compiled

    rules, rubric = compiled(ruleset)
    r = copy.copy(r)
    r.findings = []
    evaluate(r, rules, rubric, notes=notes)
    if dismissed:
        r.findings = [f for f in r.findings if finding_key(r.text, f.rule, f.start, f.end, f.message) not in dismissed]
        r.scores = scores_mod.compute(r, rubric)
    return r


def _rule_ids(*rulesets) -> set[str]:
    """The finding ids the rules produce (national, and each given rule set's)."""
    from ..findings import default_rules
    from ..rules import compiled

    ids = {r.id for r in default_rules()}
    for rs in rulesets:
        if rs is not None:
            ids |= {r.id for r in compiled(rs)[0]}
    return ids


def _ruleset_by_id(conn: Connection, rules_id: int | None):
    from ..rules import RuleSet

    if rules_id is None:
        return None
    row = conn.execute(select(db.rule_sets.c.name, db.rule_sets.c.text)
                       .where(db.rule_sets.c.id == rules_id)).first()
    return RuleSet(row.name, row.text) if row else None


def recheck_one(conn: Connection, report_id: int, ruleset, rules_id: int | None) -> None:
    """Recompute one stored report's findings and scores under ``ruleset`` (its
    meta, parts and facts as stored; the outline read again from its text), then
    re-apply its corrections; record ``rules_id``.  Findings that no rule makes
    (the reader's notes) are kept as they are."""
    rep = conn.execute(select(db.reports).where(db.reports.c.id == report_id)).mappings().first()
    if rep is None:
        return
    has_base = conn.execute(select(db.analysis_base.c.report_id)
                            .where(db.analysis_base.c.report_id == report_id)).first() is not None
    snap = _snapshot(conn, rep) if has_base else _rows_snapshot(conn, rep)
    base = _report_of(rep, snap)
    base.outline = _outline(base.text)
    made_by_rules = _rule_ids(ruleset, _ruleset_by_id(conn, rep["rules_id"]))
    kept = [f for f in base.findings if f.rule not in made_by_rules]
    notes = [f.message for f in kept if f.rule == "ingest.note" and f.severity == "info"]
    after = _evaluated(base, notes, ruleset=ruleset)
    others = [f for f in kept if not (f.rule == "ingest.note" and f.severity == "info")]
    findings = others + after.findings
    conn.execute(update(db.reports).where(db.reports.c.id == report_id).values(rules_id=rules_id))
    if has_base:
        snap["findings"] = [{"rule": f.rule, "severity": f.severity, "message": f.message, "start": f.start,
                             "end": f.end} for f in findings]
        snap["scores"] = dict(after.scores)
        conn.execute(update(db.analysis_base).where(db.analysis_base.c.report_id == report_id)
                     .values(analysis=snap))
        apply(conn, report_id, ruleset)
        return
    base.findings = findings
    _write(conn, rep, base, findings, dict(after.scores), moved=False)


def _rows_snapshot(conn: Connection, rep) -> dict:
    """The stored analysis of a report without corrections (as ``_snapshot`` reads it)."""
    rid = rep["id"]
    rows = {name: [{k: v for k, v in r.items() if k not in ("id", "report_id")}
                   for r in conn.execute(select(t).where(t.c.report_id == rid).order_by(t.c.id)).mappings()]
            for name, t in (("parts", db.parts), ("facts", db.facts), ("findings", db.findings))}
    return {"meta": {k: rep[k] for k in ("title", "unit", "level", "province", "city", "county", "year",
                                         "published", "signed")},
            "scores": rep["scores"] or {}, **rows}


_UNSET = object()


def apply(conn: Connection, report_id: int, ruleset=_UNSET) -> Outcome:
    """Rewrite one report's analysis rows from the engine's analysis and the active
    corrections of its file (``store.insert`` calls it for every new analysis),
    under ``ruleset`` (default: the rule set of the report's province, ``rulesets.active``).  Idempotent: it
    always starts from the engine's analysis."""
    rep = conn.execute(select(db.reports).where(db.reports.c.id == report_id)).mappings().first()
    if rep is None:
        return Outcome(0, [])
    if ruleset is _UNSET:
        from .rulesets import attached, for_province

        a = for_province(attached(conn), rep["province"], rep["city"], rep["county"])
        ruleset = a.ruleset if a else None
    cors = active(conn, rep["sha256"])
    has_base = conn.execute(select(db.analysis_base.c.report_id)
                            .where(db.analysis_base.c.report_id == report_id)).first() is not None
    if not cors and not has_base:
        return Outcome(0, [])
    base = _report_of(rep, _snapshot(conn, rep))
    base.outline = _outline(base.text)
    fixed, unapplied, dismissed = _corrected(base, cors)
    fixed.outline = base.outline
    notes = [f.message for f in base.findings if f.rule == "ingest.note"]
    before = _evaluated(base, notes, ruleset=ruleset)
    after = _evaluated(fixed, notes, dismissed, ruleset=ruleset)
    # findings: the engine's, minus what the corrections made disappear, plus what
    # they made appear, minus the dismissed ones
    sig = lambda f: (f.rule, f.severity, f.message, f.start, f.end)  # noqa: E731
    had, has = {sig(f) for f in before.findings}, {sig(f) for f in after.findings}
    findings = [f for f in base.findings if sig(f) not in had - has] + [f for f in after.findings if sig(f) not in had]
    findings = [f for f in findings if finding_key(base.text, f.rule, f.start, f.end, f.message) not in dismissed]
    # scores: the engine's, moved by what the corrections change
    scores = {}
    for k, v in base.scores.items():
        if v is None:
            scores[k] = v
            continue
        delta = (after.scores.get(k) or 0) - (before.scores.get(k) or 0)
        scores[k] = round(max(0.0, min(100.0, v + delta)), 1)
    _write(conn, rep, fixed, findings, scores)
    return Outcome(len(cors) - len(unapplied), unapplied)


def _write(conn: Connection, rep, fixed: Report, findings: list[Finding], scores: dict, *, moved: bool = True) -> None:
    rid = rep["id"]
    m = fixed.meta
    found = list(dict.fromkeys(p.part for p in fixed.parts))
    sev = [f.severity for f in findings]
    conn.execute(update(db.reports).where(db.reports.c.id == rid).values(
        title=m.title, unit=m.unit, level=m.level, province=m.region.province, city=m.region.city,
        county=m.region.county, year=m.year, published=m.published, signed=m.signed,
        parts_found=",".join(found), parts_missing=",".join(p for p in REQUIRED_PARTS if p not in found),
        n_facts=sum(1 for f in fixed.facts if f.indicator), n_errors=sev.count("error"),
        n_warnings=sev.count("warning"), score_total=scores.get("total"), scores=scores))
    if moved:
        _replace_submission(conn, rep, m)
    # rows keep their ids where they stay the same (the ids a person was shown)
    _sync(conn, db.parts, rid, [{"part": p.part, "heading": p.heading, "start": p.start, "end": p.end}
                                for p in fixed.parts], ("start", "end", "heading"))
    _sync(conn, db.facts, rid, [{"indicator": f.indicator, "value": f.value, "unit": f.unit, "approx": f.approx,
                                 "part": f.part, "quote": f.quote, "start": f.start, "end": f.end}
                                for f in fixed.facts], ("start", "end", "unit"))
    _sync(conn, db.findings, rid, [{"rule": f.rule, "severity": f.severity, "message": f.message, "start": f.start,
                                    "end": f.end} for f in findings], ("rule", "start", "end", "message"))


def _replace_submission(conn: Connection, rep, m: Meta) -> None:
    """A corrected unit or year moves the file to the submission of that unit and
    year (its old one recomputes which version is current)."""
    from ..evaluate import norm_unit
    from . import submissions

    key = norm_unit(m.unit) if m.unit else None
    if key == rep["unit_key"] and m.year == rep["year"]:
        return
    conn.execute(update(db.reports).where(db.reports.c.id == rep["id"]).values(unit_key=key))
    old = rep["submission_id"]
    submissions.place(conn, rep["id"])
    if old is not None:
        submissions.refresh(conn, old)


def _sync(conn: Connection, table, rid: int, want: list[dict], ident: tuple[str, ...]) -> None:
    """Make ``table``'s rows of report ``rid`` equal ``want``: rows with the same
    identity are updated in place, the others deleted or inserted."""
    have: dict[tuple, list[dict]] = {}
    for r in conn.execute(select(table).where(table.c.report_id == rid).order_by(table.c.id)).mappings():
        have.setdefault(tuple(r[k] for k in ident), []).append(dict(r))
    new = []
    for w in want:
        old = have.get(tuple(w[k] for k in ident))
        if old:
            r = old.pop(0)
            if any(r[k] != v for k, v in w.items()):
                conn.execute(update(table).where(table.c.id == r["id"]).values(**w))
        else:
            new.append({**w, "report_id": rid})
    gone = [r["id"] for rows in have.values() for r in rows]
    if gone:
        conn.execute(delete(table).where(table.c.id.in_(gone)))
    if new:
        conn.execute(insert(table), new)
