"""Store: analysed reports into the corpus database, and search them.

The work is split so that a batch can run it on many cores with one writer:
``rows_of(report)`` (in a worker) turns a Report into plain row dicts —
including the segmented paragraphs — and ``insert(conn, rows)`` (in the one
writing process) inserts them.  Both are idempotent by the file's sha256.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, delete, func, insert as sa_insert, select, text
from sqlalchemy.engine import Connection, Engine

from ..model import REQUIRED_PARTS, Report
from ..parts import part_at
from . import db

_TOKEN_OK = re.compile(r"[\w\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _jieba():
    import rjieba

    return rjieba


def segment(s: str, *, for_search: bool = True) -> str:
    """Words of ``s`` joined by spaces (punctuation dropped), for the full-text index."""
    rj = _jieba()
    toks = rj.cut_for_search(s) if for_search else rj.cut(s)
    return " ".join(t for t in toks if t.strip() and _TOKEN_OK.search(t))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def rows_of(report: Report) -> dict:
    """Everything the database stores about one report, as plain dicts."""
    m = report.meta
    have = [p.part for p in report.parts]
    found = list(dict.fromkeys(have))
    missing = [p for p in REQUIRED_PARTS if p not in found]
    sev = [f.severity for f in report.findings]
    rep = {
        "sha256": report.source.sha256, "path": report.source.path, "format": report.source.format,
        "encoding": report.source.encoding, "title": m.title, "unit": m.unit, "level": m.level,
        "province": m.region.province, "city": m.region.city, "county": m.region.county,
        "year": m.year, "published": m.published, "signed": m.signed,
        "doc_number": m.doc_number, "index_number": m.index_number,
        "parts_found": ",".join(found), "parts_missing": ",".join(missing),
        "n_facts": sum(1 for f in report.facts if f.indicator), "n_errors": sev.count("error"),
        "n_warnings": sev.count("warning"), "score_total": report.scores.get("total"),
        "scores": dict(report.scores), "text": report.text, "added_at": now(),
    }
    _submission_fields(rep)
    paras = []
    pos = 0
    t = report.text
    for k, line in enumerate(t.split("\n")):
        start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        paras.append({"para_no": k, "part": part_at(report.parts, start), "start": start, "body": line,
                      "seg": segment(line)})
    rows = {
        "report": rep,
        "parts": [{"part": p.part, "heading": p.heading, "start": p.start, "end": p.end} for p in report.parts],
        "facts": [{"indicator": f.indicator, "value": float(f.value), "unit": f.unit, "approx": bool(f.approx),
                   "part": f.part, "quote": f.quote, "start": f.start, "end": f.end} for f in report.facts],
        "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message, "start": f.start,
                      "end": f.end} for f in report.findings],
        "paragraphs": paras,
    }
    from .copy_index import row_keys

    rows["copy_keys"] = row_keys(rows)   # here, in the worker that analysed it, not in the one writer
    return rows


def _submission_fields(rep: dict) -> dict:
    """The submission columns a new row needs (``corpus/submissions.py``): the unit's
    identity, the receipt time and the genre check; ``current`` etc. are set on insert."""
    if "unit_key" not in rep:
        from ..evaluate import norm_unit

        rep["unit_key"] = norm_unit(rep["unit"]) if rep.get("unit") else None
    if "title_key" not in rep:
        from .submissions import title_key

        rep["title_key"] = title_key(rep.get("title"))
    rep.setdefault("received_at", rep.get("added_at"))
    if "genre_ok" not in rep:
        from ..genre import classify

        g = classify(rep.get("title"), rep.get("text") or "")
        rep["genre_ok"], rep["genre"] = g.ok, (None if g.ok else g.label)
    return rep


def exists(conn: Connection, sha256: str) -> bool:
    q = select(db.reports.c.id).where(db.reports.c.sha256 == sha256)
    if conn.execute(q).first():
        return True
    return conn.execute(select(db.failures.c.id).where(db.failures.c.sha256 == sha256)).first() is not None


def known_hashes(conn: Connection) -> set[str]:
    """sha256 of every stored report and recorded failure (to skip on re-add)."""
    a = {r[0] for r in conn.execute(select(db.reports.c.sha256))}
    return a | {r[0] for r in conn.execute(select(db.failures.c.sha256))}


def insert(conn: Connection, rows: dict) -> int | None:
    """Insert one report's rows; None when its sha256 is already stored."""
    sha = rows["report"]["sha256"]
    db.write_lock(conn)   # another writer's report of the same file or unit and year is seen, or waits
    if conn.execute(select(db.reports.c.id).where(db.reports.c.sha256 == sha)).first():
        return None
    from . import submissions

    rep = _submission_fields(dict(rows["report"]))
    # the submission, version and current flag are decided before the row is written (once)
    p = submissions.plan(conn, rep, submissions.facts_key(rows["facts"]))
    rep.update(p.values)
    # execute(stmt, params) rather than stmt.values(**row): the compiled statement is cached
    rid = conn.execute(sa_insert(db.reports), rep).inserted_primary_key[0]
    for name, table in (("parts", db.parts), ("facts", db.facts), ("findings", db.findings)):
        if rows[name]:
            conn.execute(sa_insert(table), [{**r, "report_id": rid} for r in rows[name]])
    paras = rows["paragraphs"]
    if paras:
        conn.execute(sa_insert(db.paragraphs), [{**p, "report_id": rid} for p in paras])
        if db.is_sqlite(conn.engine):
            conn.execute(text("INSERT INTO paragraphs_fts(rowid, seg) SELECT id, seg FROM paragraphs "
                              "WHERE report_id = :rid"), {"rid": rid})
            conn.execute(text("INSERT INTO paragraphs_tri(rowid, body) SELECT id, body FROM paragraphs "
                              "WHERE report_id = :rid"), {"rid": rid})
    # a file that failed before and now reads (a newer fazhi) is no longer a failure
    conn.execute(delete(db.failures).where(db.failures.c.sha256 == sha))
    # a person's corrections of this file outlive its analyses: apply them to this one
    if conn.execute(select(db.corrections.c.id).where(db.corrections.c.sha256 == sha).limit(1)).first():
        from .corrections import apply

        apply(conn, rid)
    from .copy_index import index_report

    # its LSH band keys and sentence fingerprints (copy_index.copies_of)
    index_report(conn, rid, rows.get("copy_keys"))
    submissions.after_insert(conn, p)
    rows["placement"] = {"kind": p.kind, "withdrawn": p.withdrawn, "genre_ok": bool(rep["genre_ok"]),
                         "submission_id": p.submission_id, "version": p.version}
    return rid


# ------------------------------------------------------------------ many reports at once
def _report_defaults() -> dict:
    """Column -> the value an insert that leaves it out stores (the Python-side default)."""
    out = {}
    for c in db.reports.columns:
        if c.primary_key:
            continue
        d = c.default
        out[c.name] = d.arg if d is not None and d.is_scalar else None
    return out


def _keys_of(rep: dict) -> tuple:
    """What ``submissions.plan`` looks candidates up by: (unit_key, year) and title_key."""
    uk, year, tk = rep.get("unit_key"), rep.get("year"), rep.get("title_key")
    return ((uk, year) if uk is not None and year is not None else None), (tk or None)


def insert_many(conn: Connection, batch: list[dict]) -> list[int | None]:
    """``insert`` for many reports, in order, with the same rows as a loop of ``insert``
    (ids, submissions, versions, current flags, corrections), in a few statements per table.

    A report is placed by ``submissions.plan`` only when a stored row (or one earlier in
    ``batch``) shares its (unit_key, year) or title_key — the rows ``plan`` compares it
    with; the ``reports`` and ``facts`` rows before it (all ``plan`` reads) are written
    first.  Any other report starts a new submission (what ``plan`` decides when it finds
    no candidate) without a query.  ``parts``, ``findings``, ``paragraphs`` and the
    full-text indexes, which placing never reads, are written once at the end, in the
    same order.  A report with a correction of its file goes through ``insert`` (after
    everything before it is written).  Returns the new ids (None for a sha256 already
    stored, or repeated in ``batch``)."""
    from . import submissions

    if not batch:
        return []
    r = db.reports.c
    db.write_lock(conn)   # as in insert: what this batch reads is not changed by another writer meanwhile
    shas = [rows["report"]["sha256"] for rows in batch]
    q_in = lambda col: col.in_(bindparam("v", expanding=True))  # noqa: E731
    stored = {x for (x,) in conn.execute(select(r.sha256).where(q_in(r.sha256)), {"v": shas})}
    corrected = {x for (x,) in conn.execute(select(db.corrections.c.sha256).distinct()
                                            .where(q_in(db.corrections.c.sha256)), {"v": shas})}
    failed = {x for (x,) in conn.execute(select(db.failures.c.sha256).where(q_in(db.failures.c.sha256)),
                                         {"v": shas})}
    reps = [_submission_fields(dict(rows["report"])) for rows in batch]
    pairs = {k for k in (_keys_of(rep)[0] for rep in reps) if k}
    titles = {k for k in (_keys_of(rep)[1] for rep in reps) if k}
    # the keys a stored, placed row has among this batch's: a report with one of them is planned
    seen_pairs: set = set()
    seen_titles: set = set()
    if titles:
        seen_titles = {x for (x,) in conn.execute(select(r.title_key).distinct().where(
            q_in(r.title_key), r.submission_id.is_not(None)), {"v": sorted(titles)})}
    if pairs:
        seen_pairs = {(u, y) for u, y in conn.execute(
            select(r.unit_key, r.year).distinct().where(
                r.unit_key.in_(bindparam("u", expanding=True)), r.year.in_(bindparam("y", expanding=True)),
                r.submission_id.is_not(None)),
            {"u": sorted({u for u, _ in pairs}), "y": sorted({y for _, y in pairs})})} & pairs
    out: list[int | None] = [None] * len(batch)
    pending: list[tuple[int, dict, object]] = []      # (index in batch, report columns, Placement or None)
    written: list[tuple[int, int]] = []               # (index in batch, id) whose other rows are due
    p_pairs: set = set()
    p_titles: set = set()

    def flush() -> None:
        if pending:
            written.extend(_write_reports(conn, batch, pending, out))
            seen_pairs.update(p_pairs)
            seen_titles.update(p_titles)
            pending.clear()
            p_pairs.clear()
            p_titles.clear()

    done: set = set()
    for i, (rows, rep) in enumerate(zip(batch, reps)):
        sha = shas[i]
        if sha in stored or sha in done:
            continue
        done.add(sha)
        pair, tk = _keys_of(rep)
        if sha in corrected:                 # corrections are applied by the one-report path
            flush()
            _write_rest(conn, batch, written, failed)
            out[i] = insert(conn, rows)
            if pair:
                seen_pairs.add(pair)
            if tk:
                seen_titles.add(tk)
            continue
        if (pair and (pair in p_pairs or pair in seen_pairs)) or (tk and (tk in p_titles or tk in seen_titles)):
            flush()                          # plan compares with stored rows: write the earlier ones first
            p = submissions.plan(conn, rep, submissions.facts_key(rows["facts"]))
        else:
            p = None                         # no candidate: a new submission (made in _write_reports)
        pending.append((i, rep, p))
        if pair:
            p_pairs.add(pair)
        if tk:
            p_titles.add(tk)
    flush()
    _write_rest(conn, batch, written, failed)
    return out


def _write_reports(conn: Connection, batch: list[dict], pending: list, out: list) -> list[tuple[int, int]]:
    """The ``submissions`` (a None placement: a new one), ``reports`` and ``facts`` rows
    of ``pending`` [(index in batch, report columns, Placement or None)], one statement
    per table; returns [(index, id)]."""
    from . import submissions

    new = [k for k, (_, _, p) in enumerate(pending) if p is None]
    if new:
        subs = [{"unit_key": pending[k][1].get("unit_key"), "year": pending[k][1].get("year"),
                 "received_at": pending[k][1].get("received_at") or pending[k][1].get("added_at")} for k in new]
        sids = [x for (x,) in conn.execute(
            sa_insert(db.submissions).returning(db.submissions.c.id, sort_by_parameter_order=True), subs)]
        for k, sid in zip(new, sids):
            i, rep, _ = pending[k]
            p = submissions.Placement(submissions.NEW, sid, 1)
            p.values = {"is_current": bool(rep.get("genre_ok", True)), "submission_id": sid, "version": 1}
            pending[k] = (i, rep, p)
    defaults = _report_defaults()
    for _, rep, p in pending:
        rep.update(p.values)
    # one key set for the executemany: a column no row gives gets its default from
    # SQLAlchemy (as in ``insert``), one that only some rows give the scalar default
    keys = [k for k in defaults if any(k in rep for _, rep, _ in pending)]
    params = [{k: rep.get(k, defaults[k]) for k in keys} for _, rep, _ in pending]
    rids = [x for (x,) in conn.execute(sa_insert(db.reports).returning(db.reports.c.id, sort_by_parameter_order=True),
                                       params)]
    _insert_children(conn, db.facts, [(i, rid) for (i, _, _), rid in zip(pending, rids)], batch, "facts")
    for (i, rep, p), rid in zip(pending, rids):
        submissions.after_insert(conn, p)   # another version or file of its submission is no longer current
        batch[i]["placement"] = {"kind": p.kind, "withdrawn": p.withdrawn, "genre_ok": bool(rep["genre_ok"]),
                                 "submission_id": p.submission_id, "version": p.version}
        out[i] = rid
    return [(i, rid) for (i, _, _), rid in zip(pending, rids)]


_CHILD_COLUMNS: dict = {}   # table name -> its columns but the id (report_id first)


def _insert_children(conn: Connection, table, written: list, batch: list[dict], name: str) -> None:
    """The ``name`` rows (parts, facts, findings, paragraphs) of the reports in ``written``
    [(index in batch, id)], in order, through the driver's ``executemany``
    (``db.insert_tuples``): the values are plain numbers, booleans and strings, stored as
    SQLAlchemy would bind them, without its per-row parameter processing."""
    cols = _CHILD_COLUMNS.get(table.name)
    if cols is None:
        cols = _CHILD_COLUMNS[table.name] = ["report_id"] + [c.name for c in table.columns
                                                             if not c.primary_key and c.name != "report_id"]
    rest = cols[1:]   # after report_id
    rows = [(rid, *[x.get(k) for k in rest]) for i, rid in written for x in batch[i][name]]
    db.insert_tuples(conn, table, rows, cols)


def _write_rest(conn: Connection, batch: list[dict], written: list, failed: set) -> None:
    """The ``parts``, ``findings`` and ``paragraphs`` rows (and the SQLite full-text
    indexes) of the reports in ``written`` [(index in batch, id)]; their failures go."""
    if not written:
        return
    for name, table in (("parts", db.parts), ("findings", db.findings), ("paragraphs", db.paragraphs)):
        _insert_children(conn, table, written, batch, name)
    rids = [rid for i, rid in written if batch[i]["paragraphs"]]
    if rids and db.is_sqlite(conn.engine):
        for sql in ("INSERT INTO paragraphs_fts(rowid, seg) SELECT id, seg FROM paragraphs "
                    "WHERE report_id IN :ids ORDER BY id",
                    "INSERT INTO paragraphs_tri(rowid, body) SELECT id, body FROM paragraphs "
                    "WHERE report_id IN :ids ORDER BY id"):
            conn.execute(text(sql).bindparams(bindparam("ids", expanding=True)), {"ids": rids})
    gone = [batch[i]["report"]["sha256"] for i, _ in written if batch[i]["report"]["sha256"] in failed]
    if gone:   # a file that failed before and now reads is no longer a failure
        conn.execute(delete(db.failures).where(db.failures.c.sha256.in_(bindparam("v", expanding=True))),
                     {"v": gone})
    from .copy_index import index_reports

    # as ``insert``: their LSH band keys and sentence fingerprints (copy_index.copies_of)
    index_reports(conn, [rid for _, rid in written],
                  {rid: batch[i]["copy_keys"] for i, rid in written if batch[i].get("copy_keys")})
    written.clear()


def record_failure(conn: Connection, sha256: str, path: str, error: str) -> bool:
    """Record a file that could not be analysed; False when it was recorded already (a retry
    that fails again updates the error and the time of that record)."""
    f = db.failures.c
    if conn.execute(select(db.reports.c.id).where(db.reports.c.sha256 == sha256)).first():
        return False
    if conn.execute(select(f.id).where(f.sha256 == sha256)).first():
        conn.execute(db.failures.update().where(f.sha256 == sha256).values(path=path, error=error, added_at=now()))
        return False
    conn.execute(sa_insert(db.failures).values(sha256=sha256, path=path, error=error, added_at=now()))
    return True


def add_report(engine: Engine, report: Report) -> int | None:
    """Store one analysed report (one transaction). None if already stored."""
    rows = rows_of(report)
    with engine.begin() as conn:
        return insert(conn, rows)


def delete_report(target: Engine | Connection, report_id: int) -> bool:
    """Delete one report and its rows (in ``target``'s transaction when it is a Connection)."""
    if isinstance(target, Engine):
        with target.begin() as conn:
            return delete_report(conn, report_id)
    from . import submissions

    conn = target
    sid = conn.execute(select(db.reports.c.submission_id).where(db.reports.c.id == report_id)).scalar()
    if db.is_sqlite(conn.engine):
        conn.execute(text("DELETE FROM paragraphs_fts WHERE rowid IN "
                          "(SELECT id FROM paragraphs WHERE report_id = :rid)"), {"rid": report_id})
        # an external-content index is told the old values of the rows it forgets
        conn.execute(text("INSERT INTO paragraphs_tri(paragraphs_tri, rowid, body) "
                          "SELECT 'delete', id, body FROM paragraphs WHERE report_id = :rid"), {"rid": report_id})
    for t in (db.paragraphs, db.findings, db.facts, db.parts, db.analysis_base):
        conn.execute(delete(t).where(t.c.report_id == report_id))
    gone = conn.execute(delete(db.reports).where(db.reports.c.id == report_id)).rowcount > 0
    if sid is not None:
        submissions.refresh(conn, sid)   # an older version or another file may now be the current one
    return gone


def count(engine: Engine) -> tuple[int, int]:
    """(reports counted — current versions only —, failures) stored."""
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(db.reports).where(db.counted())).scalar_one()
        f = conn.execute(select(func.count()).select_from(db.failures)).scalar_one()
    return n, f


# ------------------------------------------------------------------ search
@dataclass
class Hit:
    report_id: int
    title: str | None
    unit: str | None
    year: int | None
    path: str
    para_no: int
    snippet: str  # the paragraph around the match, terms marked with 【】
    score: float


def _snippet(body: str, query: str, terms: list[str], width: int = 60) -> str:
    """The paragraph around the match: the whole query where it occurs, else its words."""
    marks = [query] if query and query in body else [t for t in terms if t and t in body]
    pos = [body.find(t) for t in marks]
    c = min(pos) if pos else 0
    s, e = max(0, c - width // 2), min(len(body), c + width)
    out = ("…" if s else "") + body[s:e] + ("…" if e < len(body) else "")
    for t in sorted(set(marks), key=len, reverse=True):
        out = out.replace(t, f"【{t}】")
    return out.replace("】【", "")


# Substring search beside the segmented index (the segmenter cuts names: 某某街 -> 某某 / 街).
SUBSTRING_MAX_CHARS = 4          # a query this short always gets the substring search too
NAME_MARKERS = ("街", "镇", "乡", "区", "县", "局", "市", "村", "州", "旗", "盟", "厅", "委", "办")
TRIGRAM = 3                      # the trigram index serves terms of at least 3 characters
SHORT_SCAN_MAX = 200_000         # a 1-2 character term is looked for in the latest paragraphs only
RANK_WINDOW = 10_000             # segmented search (SQLite): bm25 ranks the latest this many matches
_LIKE_ESC = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def wants_substring(query: str) -> bool:
    """Short (≤ ``SUBSTRING_MAX_CHARS`` characters) or name-like (contains 街, 镇, 局 …) queries."""
    q = "".join(query.split())
    return 0 < len(q) <= SUBSTRING_MAX_CHARS or any(m in q for m in NAME_MARKERS)


def _like(term: str) -> str:
    return "%" + term.translate(_LIKE_ESC) + "%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def substring_search(conn: Connection, query: str, limit: int) -> list:
    """(report_id, para_no, body, score) of paragraphs containing every whitespace-separated
    term of ``query`` as written, at most ``limit``, in paragraph order.

    SQLite: terms of ≥ 3 characters through the FTS5 trigram index ``paragraphs_tri``,
    shorter terms by LIKE (escaped); PostgreSQL: LIKE, served by the pg_trgm GIN index for
    terms of ≥ 3 characters when the extension is installed.  A query made only of 1-2
    character terms scans at most the latest ``SHORT_SCAN_MAX`` paragraphs."""
    terms = [t for t in dict.fromkeys(query.split()) if t]
    if not terms or limit <= 0:
        return []
    long_ = [t for t in terms if len(t) >= TRIGRAM]
    short = [t for t in terms if len(t) < TRIGRAM]
    params: dict = {"n": limit}
    likes = []
    for k, t in enumerate(terms if not db.is_sqlite(conn.engine) else short):
        params[f"l{k}"] = _like(t)
        likes.append(f"p.body LIKE :l{k} ESCAPE '\\'")
    if db.is_sqlite(conn.engine) and long_:
        params["q"] = " AND ".join(_fts_phrase(t) for t in long_)
        where = " AND ".join(["paragraphs_tri MATCH :q"] + likes)
        sql = ("SELECT p.report_id, p.para_no, p.body, 0.0 FROM paragraphs_tri "
               "JOIN paragraphs p ON p.id = paragraphs_tri.rowid "
               "JOIN reports r ON r.id = p.report_id AND r.is_current "
               f"WHERE {where} ORDER BY paragraphs_tri.rowid LIMIT :n")
    elif long_:                                   # PostgreSQL, the trigram index when present
        sql = ("SELECT p.report_id, p.para_no, p.body, 0.0 FROM paragraphs p "
               "JOIN reports r ON r.id = p.report_id AND r.is_current "
               f"WHERE {' AND '.join(likes)} ORDER BY p.id LIMIT :n")
    else:                 # only short terms: a bounded scan of the latest rows, stopping at the limit
        params["scan"] = SHORT_SCAN_MAX
        sql = ("SELECT p.report_id, p.para_no, p.body, 0.0 FROM paragraphs p "
               "JOIN reports r ON r.id = p.report_id AND r.is_current "
               "WHERE p.id > (SELECT coalesce(max(id), 0) FROM paragraphs) - :scan "
               f"AND {' AND '.join(likes)} ORDER BY p.id DESC LIMIT :n")
    return [tuple(r) for r in conn.execute(text(sql), params).all()]


def _segmented(conn: Connection, words: list[str], limit: int) -> list:
    rows: list = []
    if db.is_sqlite(conn.engine):
        # ranked by bm25 among the latest RANK_WINDOW matching paragraphs (all of them below that:
        # ranking the ~300,000 paragraphs a stock phrase is in took 2 s at 100,000 reports)
        for expr in ('"' + " ".join(words) + '"', " AND ".join(f'"{w}"' for w in words)):
            rows = conn.execute(text(
                "SELECT p.report_id, p.para_no, p.body, f.score FROM "
                "(SELECT rowid AS rid, bm25(paragraphs_fts) AS score FROM paragraphs_fts "
                " WHERE paragraphs_fts MATCH :q ORDER BY rowid DESC LIMIT :w) f "
                "JOIN paragraphs p ON p.id = f.rid "
                "WHERE p.report_id IN (SELECT id FROM reports WHERE is_current) "
                "ORDER BY f.score LIMIT :n"), {"q": expr, "n": limit, "w": RANK_WINDOW}).all()
            if rows:
                break
    else:
        for fn in ("phraseto_tsquery", "plainto_tsquery"):
            rows = conn.execute(text(
                f"SELECT p.report_id, p.para_no, p.body, "
                f"-ts_rank(to_tsvector('simple', p.seg), {fn}('simple', :q)) AS score "
                f"FROM paragraphs p JOIN reports r ON r.id = p.report_id AND r.is_current "
                f"WHERE to_tsvector('simple', p.seg) @@ {fn}('simple', :q) "
                f"ORDER BY score LIMIT :n"), {"q": " ".join(words), "n": limit}).all()
            if rows:
                break
    return [tuple(r) for r in rows]


def search(engine: Engine, query: str, limit: int = 20) -> list[Hit]:
    """Paragraphs matching ``query``: the query as written (substring) for short and
    name-like queries, or when the segmented index finds nothing; then the segmented
    index (Chinese words, phrase first, then all words).  At most ``limit`` hits; a
    paragraph found both ways is listed once, the substring hits first."""
    query = query.strip()
    words = [w for w in segment(query, for_search=False).split() if w]
    if not query:
        return []
    with engine.connect() as conn:
        rows: list = []
        if wants_substring(query):
            rows = substring_search(conn, query, limit)
        if words and len(rows) < limit:
            seen = {(r[0], r[1]) for r in rows}
            rows += [r for r in _segmented(conn, words, limit) if (r[0], r[1]) not in seen][:limit - len(rows)]
        if not rows and not wants_substring(query):
            rows = substring_search(conn, query, limit)
        if not rows:
            return []
        ids = sorted({r[0] for r in rows})
        meta = {r.id: r for r in conn.execute(
            select(db.reports.c.id, db.reports.c.title, db.reports.c.unit, db.reports.c.year, db.reports.c.path)
            .where(db.reports.c.id.in_(bindparam("ids", expanding=True))), {"ids": ids})}
    return [Hit(r[0], meta[r[0]].title, meta[r[0]].unit, meta[r[0]].year, meta[r[0]].path, r[1],
                _snippet(r[2], query, list(dict.fromkeys(query.split() + words))), float(r[3])) for r in rows]
