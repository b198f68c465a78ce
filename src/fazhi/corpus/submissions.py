"""Submissions, not files: one *current* report per unit and year.

A unit sends its report as .txt, .docx and .pdf, or sends it again after a
correction.  Each file is still one ``reports`` row (keyed by its sha256), but:

- a file whose text is near-identical to a stored one (another format, the same
  file re-saved) joins that row's **version** of the **submission**: same
  ``submission_id`` and ``version``.  Near-identical: shingle Jaccard ≥ ``SAME_TEXT``
  (0.9) on the text reduced to letters and digits (digits kept, so a corrected
  figure is a change), and the same indicator figures (the facts).  Compared only
  against rows of the same unit and year, or of the same title (``title_key``, at most
  ``MAX_CANDIDATES``), so placing a file costs a few comparisons however large the
  corpus;
- a different text of the same unit and year (both of the genre) is a **revision**:
  ``version`` + 1 in the same submission; it becomes the current version, the
  older one stays as history;
- anything else starts a new submission (a row in ``submissions``: unit, year,
  receipt of its first file).

``reports.is_current`` marks the one row that is counted: the first-received file of
the newest version that is not withdrawn and is of the genre (or was accepted by a
person).  ``refresh`` recomputes it for one submission; every count, ranking,
statistic, list and export filters on it through ``db.counted()`` — this module
owns that flag, nothing else writes it.

Withdrawing (``fazhi corpus withdraw``, the web API's DELETE) marks every file of
a version (``withdrawn_at``, ``withdraw_reason``): it leaves the statistics (the
previous version, if any, becomes current again) and is remembered by the sha256
of its files — ``corpus add`` skips them ("已撤回，跳过"), and a new file with the
same text joins the withdrawn version.  ``restore`` undoes it; ``accept`` lets a
text of another genre be counted.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, func, insert as sa_insert, or_, select, update
from sqlalchemy.engine import Connection

from . import db

SAME_TEXT = 0.9          # shingle Jaccard of the letters-and-digits text: the same version
MAX_CANDIDATES = 50      # rows compared when placing one file

NEW, SAME, REVISION = "new", "same", "revision"   # what place() did
_KEEP = re.compile(r"[^\W_]+")


def norm_text(text: str) -> str:
    """The text reduced to its letters and digits (NFKC): layout, punctuation and
    whitespace differences between formats disappear, figures stay."""
    return "".join(_KEEP.findall(unicodedata.normalize("NFKC", text or "")))


def title_key(title: str | None) -> str | None:
    """A title as compared: its letters and digits (first 100), None when it has none."""
    return norm_text(title)[:100] or None


def text_shingles(text: str) -> set[int]:
    from .similarity import shingles

    return shingles(norm_text(text), normalised=True)


def jaccard(a: set[int], b: set[int]) -> float:
    from .similarity import jaccard as j

    return j(a, b)


def _facts_of(conn: Connection, rid: int) -> Counter:
    f = db.facts.c
    return Counter((i, round(float(v), 6)) for i, v in conn.execute(
        select(f.indicator, f.value).where(f.report_id == rid, f.indicator.is_not(None))))


def facts_key(facts) -> Counter:
    return Counter((x["indicator"], round(float(x["value"]), 6)) for x in facts if x.get("indicator"))


@dataclass
class Placement:
    kind: str                 # new | same | revision
    submission_id: int
    version: int
    withdrawn: bool = False   # joined a withdrawn version
    values: dict = field(default_factory=dict)   # the columns the new row gets


def _new_submission(conn: Connection, rep: dict) -> int:
    return conn.execute(sa_insert(db.submissions).values(
        unit_key=rep.get("unit_key"), year=rep.get("year"),
        received_at=rep.get("received_at") or rep.get("added_at"))).inserted_primary_key[0]


def plan(conn: Connection, rep: dict, facts: Counter, *, exclude: int | None = None) -> Placement:
    """Where a row about to be stored (``rep``: its report columns) belongs: its
    submission, version and current flag (``Placement.values``), decided before the
    insert so that the row is written once.  A new submission gets its row in
    ``submissions`` here.  ``exclude``: the row's own id when it is stored already."""
    r = db.reports.c
    db.write_lock(conn)
    text = rep.get("text") or ""
    uk, year, tk = rep.get("unit_key"), rep.get("year"), rep.get("title_key")
    genre_ok = bool(rep.get("genre_ok", True))
    same_unit_year = uk is not None and year is not None
    conds = []
    if same_unit_year:
        conds.append(and_(r.unit_key == uk, r.year == year))
    if tk:
        conds.append(r.title_key == tk)
    cands = []
    if conds:
        q = (select(r.id, r.submission_id, r.version, r.unit_key, r.year, r.genre_ok, r.withdrawn_at,
                    r.withdraw_reason, r.accepted, func.length(r.text).label("n"))
             .where(or_(*conds), r.submission_id.is_not(None)).order_by(r.id.desc()).limit(MAX_CANDIDATES))
        if exclude is not None:
            q = q.where(r.id != exclude)
        cands = conn.execute(q).all()
    mine = None
    n_me = len(text)
    match = None
    for c in cands:
        if (uk is not None and c.unit_key is not None and c.unit_key != uk) or \
                (year is not None and c.year is not None and c.year != year):
            continue   # another unit's or year's text, however alike (a copy is not the same report)
        n = c.n or 0
        if not n or not n_me or min(n, n_me) / max(n, n_me) < SAME_TEXT * 0.8:
            continue   # lengths too different to be the same text
        if mine is None:
            mine = text_shingles(text)
        other = conn.execute(select(r.text).where(r.id == c.id)).scalar_one()
        if jaccard(mine, text_shingles(other)) >= SAME_TEXT and _facts_of(conn, c.id) == facts:
            match = c
            break
    if match is not None:
        p = Placement(SAME, match.submission_id, match.version, bool(match.withdrawn_at))
        p.values = {"accepted": bool(match.accepted), "is_current": False}
        if match.withdrawn_at:
            p.values.update(withdrawn_at=match.withdrawn_at, withdraw_reason=match.withdraw_reason)
    else:
        siblings = [c for c in cands if same_unit_year and c.unit_key == uk and c.year == year and c.genre_ok]
        if siblings and genre_ok:
            sid = min(c.submission_id for c in siblings)
            top = conn.execute(select(func.max(r.version)).where(r.submission_id == sid)).scalar_one() or 1
            p = Placement(REVISION, sid, top + 1)
        else:
            p = Placement(NEW, _new_submission(conn, rep), 1)
        p.values = {"is_current": genre_ok}   # a revision of the genre is the current version
    p.values.update(submission_id=p.submission_id, version=p.version)
    return p


def place(conn: Connection, rid: int) -> Placement:
    """Place a row that is stored already (the migration's backfill): plan, update, refresh."""
    r = db.reports.c
    me = conn.execute(select(r.unit_key, r.title_key, r.year, r.genre_ok, r.text, r.received_at, r.added_at)
                      .where(r.id == rid)).mappings().one()
    p = plan(conn, dict(me), _facts_of(conn, rid), exclude=rid)
    conn.execute(update(db.reports).where(r.id == rid).values(**p.values))
    refresh(conn, p.submission_id)
    return p


def after_insert(conn: Connection, p: Placement) -> None:
    """Once the planned row is stored: an older version stops being current."""
    if p.kind != NEW:
        refresh(conn, p.submission_id)


def refresh(conn: Connection, submission_id: int) -> int | None:
    """Recompute ``current`` for one submission; returns the current row's id (or None)."""
    r = db.reports.c
    rows = conn.execute(select(r.id, r.version, r.withdrawn_at, r.genre_ok, r.accepted, r.is_current)
                        .where(r.submission_id == submission_id)).all()
    ok = [x for x in rows if not x.withdrawn_at and (x.genre_ok or x.accepted)]
    cur = None
    if ok:
        top = max(x.version for x in ok)
        cur = min(x.id for x in ok if x.version == top)
    for x in rows:
        want = x.id == cur
        if bool(x.is_current) != want:
            conn.execute(update(db.reports).where(r.id == x.id).values(is_current=want))
    return cur


# ------------------------------------------------------------------ actions on a version
class SubmissionError(ValueError):
    """A Chinese message for the person (no such report, already withdrawn…)."""


def _version_of(conn: Connection, rid: int):
    """(row, the condition selecting every file of its version, its submission id)."""
    r = db.reports.c
    q = select(r.id, r.submission_id, r.version, r.withdrawn_at, r.genre_ok, r.accepted).where(r.id == rid)
    row = conn.execute(q).first()
    if row is None:
        raise SubmissionError(f"没有编号为 {rid} 的报告")
    if row.submission_id is None:   # not placed (a row written around the migration): place it now
        place(conn, rid)
        row = conn.execute(q).first()
    sid = row.submission_id
    return row, and_(r.submission_id == sid, r.version == row.version), sid


def files_of_version(conn: Connection, rid: int) -> list[int]:
    r = db.reports.c
    _row, cond, _sid = _version_of(conn, rid)
    return [x for (x,) in conn.execute(select(r.id).where(cond).order_by(r.id))]


def withdraw(conn: Connection, rid: int, reason: str | None = None, *, at: str | None = None) -> list[int]:
    """Withdraw report ``rid`` (every file of its version); returns the ids withdrawn."""
    from .store import now

    row, cond, sid = _version_of(conn, rid)
    if row.withdrawn_at:
        raise SubmissionError(f"编号 {rid} 的报告已于 {row.withdrawn_at[:19].replace('T', ' ')} 撤回")
    ids = files_of_version(conn, rid)
    conn.execute(update(db.reports).where(cond).values(withdrawn_at=at or now(),
                                                      withdraw_reason=(reason or "")[:500] or None))
    refresh(conn, sid)
    return ids


def restore(conn: Connection, rid: int) -> list[int]:
    """Undo a withdrawal (every file of the version); returns the ids restored."""
    row, cond, sid = _version_of(conn, rid)
    if not row.withdrawn_at:
        raise SubmissionError(f"编号 {rid} 的报告没有撤回")
    ids = files_of_version(conn, rid)
    conn.execute(update(db.reports).where(cond).values(withdrawn_at=None, withdraw_reason=None))
    refresh(conn, sid)
    return ids


def accept(conn: Connection, rid: int) -> list[int]:
    """A person accepts a text the genre check rejected: it is counted."""
    row, cond, sid = _version_of(conn, rid)
    if row.genre_ok:
        raise SubmissionError(f"编号 {rid} 的报告就是法治政府建设年度报告，无需确认")
    if row.accepted:
        raise SubmissionError(f"编号 {rid} 的报告已确认计入统计")
    ids = files_of_version(conn, rid)
    conn.execute(update(db.reports).where(cond).values(accepted=True))
    refresh(conn, sid)
    return ids


def status_note(row: dict) -> str | None:
    """Why a stored row is not counted, in Chinese (None when it is counted)."""
    if row.get("is_current", True):
        return None
    if row.get("withdrawn_at"):
        return "已撤回，不计入统计"
    if not (row.get("genre_ok", True) or row.get("accepted")):
        return f"不是法治政府建设年度报告（{row.get('genre') or '其他文种'}），已入库但不计入统计；确认后可计入"
    return "同一单位同一年度的报告已在库中：本文件是其他格式或旧版本，不重复计数"


def withdrawn_hashes(conn: Connection) -> set[str]:
    r = db.reports.c
    return {s for (s,) in conn.execute(select(r.sha256).where(r.withdrawn_at.is_not(None)))}


def history(conn: Connection, rid: int) -> list[dict]:
    """Every file of report ``rid``'s submission: version, current, withdrawn, received."""
    r = db.reports.c
    _row, _cond, sid = _version_of(conn, rid)
    return [dict(m) for m in conn.execute(
        select(r.id, r.path, r.format, r.version, r.is_current, r.received_at, r.withdrawn_at, r.withdraw_reason,
               r.genre, r.genre_ok, r.accepted).where(r.submission_id == sid).order_by(r.version, r.id)).mappings()]


def summary(conn: Connection) -> dict:
    """Files stored, and what they are: counted, other formats, older versions, withdrawn, other genre."""
    r = db.reports.c
    rows = conn.execute(select(r.is_current, r.withdrawn_at.is_not(None), r.genre_ok, r.accepted, r.submission_id,
                               r.version)).all()
    newest: dict[int, int] = {}
    for x in rows:
        if x[4] is not None:
            newest[x[4]] = max(newest.get(x[4], 0), x[5] or 1)
    out = {"files": len(rows), "current": 0, "other_formats": 0, "old_versions": 0, "withdrawn": 0,
           "other_genre": 0}
    for cur, wd, gok, acc, sid, ver in rows:
        if cur:
            out["current"] += 1
        elif wd:
            out["withdrawn"] += 1
        elif not (gok or acc):
            out["other_genre"] += 1
        elif sid is not None and (ver or 1) < newest.get(sid, 1):
            out["old_versions"] += 1
        else:
            out["other_formats"] += 1
    return out


# ------------------------------------------------------------------ the migration's backfill
def rebuild(conn: Connection) -> int:
    """Place every stored row again, in order of receipt (migration 0005 runs this
    on an existing corpus); returns the number of rows placed."""
    from ..evaluate import norm_unit
    from ..genre import classify

    r = db.reports.c
    ids = [x for (x,) in conn.execute(select(r.id).order_by(r.added_at, r.id))]
    conn.execute(update(db.reports).values(submission_id=None))
    conn.execute(db.submissions.delete())
    for rid in ids:
        row = conn.execute(select(r.unit, r.title, r.text, r.added_at, r.received_at).where(r.id == rid)).one()
        g = classify(row.title, row.text)
        conn.execute(update(db.reports).where(r.id == rid).values(
            unit_key=norm_unit(row.unit) if row.unit else None, title_key=title_key(row.title), received_at=row.received_at or row.added_at,
            genre=None if g.ok else g.label, genre_ok=g.ok))
        place(conn, rid)
    return len(ids)


# ------------------------------------------------------------------ receipt dates
def today():
    """Today in China (the office's calendar day, whatever the server's zone)."""
    import datetime as dt

    return dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


def parse_received(value) -> str | None:
    """A 收到日期 as a person writes it (YYYY-MM-DD, or ``today``; not in the future)
    -> ISO date; None when empty.  Raises ``SubmissionError`` (Chinese)."""
    import datetime as dt

    v = str(value or "").strip()
    if not v:
        return None
    if v.lower() in ("today", "今天"):
        return today().isoformat()
    try:
        d = dt.date.fromisoformat(v)
    except ValueError:
        raise SubmissionError(f"收到日期“{v[:20]}”应写成 年-月-日，如 2025-03-05") from None
    if d > today():
        raise SubmissionError(f"收到日期 {d.isoformat()} 晚于今天")
    return d.isoformat()
