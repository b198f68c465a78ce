"""Rules per place: the rule files a corpus applies (``fazhi rules attach``).

A province asks its departments for their reports before 3月1日, a city adds a
rule of its own: the office attaches its rule file (YAML/TOML, merged over the
national ``data/rules.yaml`` exactly as ``fazhi check --rules`` does) to its
corpus — for the whole corpus, or for the reports of one province
(``--province 广东省``: an evaluator's corpus of many provinces, each with its own
rules; a report gets its province's file, else the corpus-wide one, else the
national rules).  A level is set apart inside the file (``by_level``, ``levels``).
From then on

- ``corpus add`` and the web app's uploads check every new report with it (the
  workers receive the texts: ``rules.RuleChoice``);
- ``attach`` rechecks the stored reports (``recheck``): their findings and
  scores are recomputed from the stored analysis under the new rules, a
  person's corrections and dismissals still applied;
- each report row records the rule set its findings came from
  (``reports.rules_id``; None = the national rules), the workbook's cover names it;
- the roster's deadlines (``roster.default_deadline``) follow the rule set's
  ``timeliness.deadline`` params (a roster row's own deadline still wins).

``detach`` goes back (and rechecks).  Every attached file stays in ``rule_sets``
as history; at most one row per scope (a province, or the whole corpus) is active.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from ..rules import RuleChoice, RuleError, RuleSet, compiled, deadline_params, province_key
from . import db


@dataclass(frozen=True)
class Attached:
    id: int
    name: str
    sha256: str
    attached_at: str
    actor: str | None
    province: str | None      # None: the whole corpus
    ruleset: RuleSet

    @property
    def label(self) -> str:
        return f"{self.name}（{self.province}）" if self.province else self.name


def _now() -> str:
    from .store import now

    return now()


def _conn(target: Engine | Connection, fn):
    if isinstance(target, Engine):
        with target.connect() as conn:
            return fn(conn)
    return fn(target)


def attached(target: Engine | Connection) -> list[Attached]:
    """The active rule sets: the corpus-wide one first, then one per province."""
    t = db.rule_sets.c

    def read(conn):
        rows = conn.execute(select(t.id, t.name, t.sha256, t.attached_at, t.actor, t.province, t.text)
                            .where(t.active == True).order_by(t.province.is_not(None), t.id)).all()  # noqa: E712
        return [Attached(r.id, r.name, r.sha256, r.attached_at, r.actor, r.province, RuleSet(r.name, r.text))
                for r in rows]

    return _conn(target, read)


def for_province(sets: list[Attached], province: str | None, *within: str | None) -> Attached | None:
    """The rule set a report of ``province`` gets (its province's, else the corpus-wide
    one); ``within``: its city and county, for a report that does not name its province."""
    if not province and any(within) and any(a.province for a in sets):
        from ..regions import province_of

        province = province_of(*within)
    k = province_key(province)
    default = None
    for a in sets:
        if a.province is None:
            default = a
        elif k is not None and province_key(a.province) == k:
            return a
    return default


def active(target: Engine | Connection, province: str | None = None) -> Attached | None:
    """The rule set a report of ``province`` gets (None: the corpus-wide one; None
    returned: the national rules)."""
    return for_province(attached(target), province)


def choice(sets: list[Attached]) -> RuleChoice | None:
    """What the workers receive: every active rule set (None: the national rules only)."""
    if not sets:
        return None
    default = next((a.ruleset for a in sets if a.province is None), None)
    return RuleChoice(default, tuple((a.province, a.ruleset) for a in sets if a.province))


def rules_id(sets: list[Attached], province: str | None, *within: str | None) -> int | None:
    a = for_province(sets, province, *within)
    return a.id if a else None


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


def _scope(province: str | None):
    t = db.rule_sets.c
    return t.province.is_(None) if province is None else t.province == province


def attach(conn: Connection, rs: RuleSet, actor: str | None = None, province: str | None = None) -> Attached:
    """Make ``rs`` the rule set of ``province`` (None: the whole corpus), validated
    first; the caller rechecks."""
    validate(rs)
    t = db.rule_sets.c
    at = _now()
    province = "".join((province or "").split())[:50] or None
    conn.execute(update(db.rule_sets).where(t.active == True, _scope(province))  # noqa: E712
                 .values(active=False, detached_at=at))
    rid = conn.execute(db.rule_sets.insert().values(name=rs.name[:200], sha256=rs.sha256, text=rs.text,
                                                    attached_at=at, actor=(actor or "")[:64] or None,
                                                    province=province, active=True)).inserted_primary_key[0]
    return Attached(rid, rs.name[:200], rs.sha256, at, actor, province, rs)


def detach(conn: Connection, province: str | None = None) -> bool:
    """Back to the next rule set for that scope; False when none was attached there."""
    t = db.rule_sets.c
    province = "".join((province or "").split()) or None
    n = conn.execute(update(db.rule_sets).where(t.active == True, _scope(province))  # noqa: E712
                     .values(active=False, detached_at=_now())).rowcount
    return bool(n)


def history(conn: Connection) -> list[dict]:
    t = db.rule_sets.c
    return [dict(r) for r in conn.execute(select(t.id, t.name, t.sha256, t.attached_at, t.actor, t.province,
                                                 t.active, t.detached_at).order_by(t.id)).mappings()]


def _due(conn: Connection, sets: list[Attached], only_stale: bool = True) -> list[tuple[int, Attached | None]]:
    """(report id, the rule set it gets now) of every stored report, or only of those
    whose findings came from another one."""
    r = db.reports.c
    out = []
    for i, prov, city, county, have in conn.execute(select(r.id, r.province, r.city, r.county, r.rules_id)
                                                    .order_by(r.id)):
        a = for_province(sets, prov, city, county)
        if not only_stale or have != (a.id if a else None):
            out.append((i, a))
    return out


def stale(conn: Connection) -> int:
    """Stored reports whose findings came from another rule set than theirs now."""
    return len(_due(conn, attached(conn)))


def recheck(engine: Engine, *, only_stale: bool = True, batch: int = 200,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute the findings and scores of stored reports under their rule set,
    ``batch`` reports per transaction (an interruption keeps what was committed;
    running again continues with the reports still stale).  Returns how many
    were rechecked."""
    from .corrections import recheck_one

    sets = attached(engine)
    with engine.connect() as conn:
        todo = _due(conn, sets, only_stale)
    done = 0
    for i in range(0, len(todo), batch):
        with engine.begin() as conn:
            for rid, a in todo[i:i + batch]:
                recheck_one(conn, rid, a.ruleset if a else None, a.id if a else None)
                done += 1
        if progress:
            progress(done, len(todo))
    return done
