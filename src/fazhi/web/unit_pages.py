"""Units submit their own report (account role ``unit``).

    GET  /mine            the unit's submissions (编号, file, year, score, problems,
                          receipt time) and the upload form
    POST /mine/upload     submit a report (or a revision): analysed and stored as
                          any upload, recorded as this unit's submission with its
                          receipt time, and assigned to the unit in that year's
                          roster when the roster lists it

A unit account sees its own submissions and their cards and nothing else
(``auth.UNIT_PATHS`` refuses every other page and the API); a report another
unit submitted answers 404.  The office sees each submission arrive in the audit
log and on 报送情况.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from ..corpus import db
from ..corpus.faults import DatabaseFault
from ..corpus.store import now
from .auth import Forbidden, require_user
from .pages import _engine, flash, render
from .pools import Busy
from .tables import submissions as subs_t
from ..corpus.submissions import today
from .uploads import UploadError, too_large_message, upload_request

router = APIRouter(include_in_schema=False)


def _unit_user(user=Depends(require_user)):
    if user.role != "unit":
        raise Forbidden("这个页面供报送单位账号使用")
    return user


def owns(engine: Engine, user, report_id: int) -> bool:
    """Did this unit account's unit submit report ``report_id``?"""
    with engine.connect() as c:
        return c.execute(select(subs_t.c.id).where((subs_t.c.report_id == report_id) & (subs_t.c.unit == user.unit))
                         .limit(1)).first() is not None


def submissions(engine: Engine, unit: str) -> list[dict]:
    r = db.reports.c
    with engine.connect() as c:
        got = c.execute(select(subs_t.c.report_id, subs_t.c.received_at, r.path, r.title, r.year, r.score_total,
                               r.n_errors, r.n_warnings)
                        .join(db.reports, db.reports.c.id == subs_t.c.report_id)
                        .where(subs_t.c.unit == unit).order_by(subs_t.c.id.desc())).mappings().all()
    return [dict(x) for x in got]


@router.get("/mine")
def mine(request: Request, user=Depends(_unit_user)):
    return render(request, "mine.html", nav="mine", rows=submissions(_engine(request), user.unit))


@router.post("/mine/upload")
async def mine_upload(request: Request, user=Depends(_unit_user)):
    s = request.app.state.settings
    eng = _engine(request)
    form = await request.form()
    f = form.get("file")
    if not hasattr(f, "read"):
        return render(request, "mine.html", 400, nav="mine", rows=submissions(eng, user.unit), error="请选择要报送的文件")
    data = await f.read(s.max_bytes + 1)
    try:
        if len(data) > s.max_bytes:
            raise UploadError(too_large_message(s.max_bytes), 413)
        out = await upload_request(request, user, data, f.filename or "", received_on=today().isoformat())
    except (UploadError, DatabaseFault, Busy) as e:
        return render(request, "mine.html", getattr(e, "status", 503), nav="mine", rows=submissions(eng, user.unit),
                      error=getattr(e, "message", str(e)))
    await run_in_threadpool(_record, eng, user, out.report_id)
    flash(request, f"已报送：{out.name}（编号 {out.report_id}）" + ("；这份文件此前已报送过" if out.duplicate else ""))
    return RedirectResponse("/mine", status_code=303)


def _record(eng: Engine, user, report_id: int) -> None:
    from ..corpus import roster

    with eng.begin() as c:
        c.execute(insert(subs_t).values(report_id=report_id, user_id=user.id, unit=user.unit, received_at=now()))
    try:   # the unit's report counts for it on 报送情况, whatever unit name the engine read
        roster.assign(eng, user.unit, report_id=report_id, actor=user.username)
    except roster.RosterError:
        pass   # no roster for that year yet, or the unit is not on it: the office assigns it
