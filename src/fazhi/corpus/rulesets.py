"""Rules per place: the rule file a corpus applies (``fazhi rules attach``).

A province asks its departments for their reports before 3月1日, a city adds a
rule of its own: the office attaches its rule file (YAML/TOML, merged over the
national ``data/rules.yaml`` exactly as ``fazhi check --rules`` does) to its
corpus once, and from then on

- ``corpus add`` and the web app's uploads check every new report with it (the
  workers receive its text: ``rules.RuleSet``);
- ``attach`` rechecks the stored reports (``recheck``): their findings and
  scores are recomputed from the stored analysis under the new rules, a
  person's corrections and dismissals still applied;
- each report row records the rule set its findings came from
  (``reports.rules_id``; None = the national rules), the workbook's cover names it;
- the roster's deadlines (``roster.default_deadline``) follow the rule set's
  ``timeliness.deadline`` params (a roster row's own deadline still wins).

``detach`` goes back to the national rules (and rechecks).  Every attached file
stays in ``rule_sets`` as history; at most one row is ``active``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..rules import RuleError, RuleSet, compiled, deadline_params
from . import db


@dataclass(frozen=True)
class Attached:
    id: int
    name: str
    sha256: str
    attached_at: str
    actor: str | None
    ruleset: RuleSet


def _now() -> str:
    from .store import now

    return now()


def active(target: Engine | Connection) -> Attached | None:
    """The rule set the corpus applies now (None: the national rules)."""
    t = db.rule_sets.c
    q = select(t.id, t.name, t.sha256, t.attached_at, t.actor, t.text).where(t.active == True).limit(1)  # noqa: E712
    if isinstance(target, Engine):
        with target.connect() as conn:
            row = conn.execute(q).first()
    else:
        row = target.execute(q).first()
    if row is None:
        return None
    return Attached(row.id, row.name, row.sha256, row.attached_at, row.actor, RuleSet(row.name, row.text))


def ruleset_of(target: Engine | Connection) -> RuleSet | None:
    a = active(target)
    return a.ruleset if a else None


def validate(rs: RuleSet) -> None:
    """Raise ``RuleError`` (Chinese) unless the rule set can be used as it is."""
    compiled(rs)
    p = deadline_params(rs)
    for level, md in [("default", p["default"]), *p["by_level"].items()]:
        try:
            mo, da = (int(x) for x in str(md).split("-"))
            dt.date(2024, mo, da)     # a leap year: 02-29 is a day some year has
        except (ValueError, TypeError):
            raise RuleError(f"规则文件 {rs.name}：timeliness.deadline 的期限“{md}”（{level}）应写成 月-日，如 03-01") from None


def attach(conn: Connection, rs: RuleSet, actor: str | None = None) -> Attached:
    """Make ``rs`` the corpus's rule set (validated first); the caller rechecks."""
    validate(rs)
    t = db.rule_sets.c
    at = _now()
    conn.execute(update(db.rule_sets).where(t.active == True).values(active=False, detached_at=at))  # noqa: E712
    rid = conn.execute(db.rule_sets.insert().values(name=rs.name[:200], sha256=rs.sha256, text=rs.text,
                                                    attached_at=at, actor=(actor or "")[:64] or None,
                                                    active=True)).inserted_primary_key[0]
    return Attached(rid, rs.name[:200], rs.sha256, at, actor, rs)


def detach(conn: Connection) -> bool:
    """Back to the national rules; False when none was attached."""
    t = db.rule_sets.c
    n = conn.execute(update(db.rule_sets).where(t.active == True)  # noqa: E712
                     .values(active=False, detached_at=_now())).rowcount
    return bool(n)


def history(conn: Connection) -> list[dict]:
    t = db.rule_sets.c
    return [dict(r) for r in conn.execute(select(t.id, t.name, t.sha256, t.attached_at, t.actor, t.active,
                                                 t.detached_at).order_by(t.id)).mappings()]


def _stale(a: Attached | None):
    r = db.reports.c
    return r.rules_id.is_not(None) if a is None else r.rules_id.is_distinct_from(a.id)


def stale(conn: Connection) -> int:
    """Stored reports whose findings came from another rule set than the active one."""
    from sqlalchemy import func

    return conn.execute(select(func.count()).select_from(db.reports).where(_stale(active(conn)))).scalar_one()


def recheck(engine: Engine, *, only_stale: bool = True, batch: int = 200,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute the findings and scores of stored reports under the active rule
    set, ``batch`` reports per transaction (an interruption keeps what was
    committed; running again continues with the reports still stale).  Returns
    how many were rechecked."""
    from .corrections import recheck_one

    a = active(engine)
    want = a.id if a else None
    r = db.reports.c
    with engine.connect() as conn:
        q = select(r.id).order_by(r.id)
        if only_stale:
            q = q.where(_stale(a))
        ids = [x for (x,) in conn.execute(q)]
    done = 0
    for i in range(0, len(ids), batch):
        with engine.begin() as conn:
            for rid in ids[i:i + batch]:
                recheck_one(conn, rid, a.ruleset if a else None, want)
                done += 1
        if progress:
            progress(done, len(ids))
    return done
