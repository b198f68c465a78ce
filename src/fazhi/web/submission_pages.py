"""What an office does with a submission beyond uploading it (``fazhi.corpus.submissions``).

    GET  /withdrawn                 (admin) the withdrawn reports, newest first, each with 恢复
    POST /reports/{rid}/restore     (admin) undo a withdrawal (every file of that version)
    POST /reports/{rid}/accept      (admin) count a text the genre check rejected

The same actions as ``fazhi corpus restore-withdrawn`` and ``fazhi corpus accept``;
each is written to the audit log.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..corpus import db, submissions
from . import audit
from .auth import require_admin
from .pages import Rid, _engine, _who, error_page, flash, render

router = APIRouter(include_in_schema=False)
LIMIT = 500   # rows shown on the withdrawn page


def _next(form, default: str) -> str:
    """Where to go back to: a path of this site only (never an open redirect)."""
    nxt = str(form.get("next") or "")
    return nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else default


def _withdrawn(eng) -> list[dict]:
    r = db.reports.c
    with eng.connect() as c:
        return [dict(m) for m in c.execute(
            select(r.id, r.path, r.unit, r.year, r.title, r.version, r.withdrawn_at, r.withdraw_reason)
            .where(r.withdrawn_at.is_not(None)).order_by(r.withdrawn_at.desc(), r.id.desc()).limit(LIMIT)).mappings()]


@router.get("/withdrawn")
def withdrawn_page(request: Request, user=Depends(require_admin)):
    return render(request, "withdrawn.html", nav="reports", rows=_withdrawn(_engine(request)), limit=LIMIT)


async def _act(request: Request, rid: int, user, fn, action: str, done: str, default_next: str):
    form = await request.form()
    eng = _engine(request)

    def run():
        with eng.begin() as c:
            ids = fn(c, rid)
            audit.record(c, action, target=f"报告 {rid}", detail=f"文件 {'、'.join(map(str, ids))}",
                         **_who(request, user))
            return ids

    try:
        ids = await run_in_threadpool(run)
    except submissions.SubmissionError as e:
        return error_page(request, 400, str(e))
    flash(request, done.format(rid=rid, n=len(ids)))
    return RedirectResponse(_next(form, default_next.format(rid=rid)), status_code=303)


@router.post("/reports/{rid}/restore")
async def report_restore(request: Request, rid: Rid, user=Depends(require_admin)):
    return await _act(request, rid, user, submissions.restore, "report.restore",
                      "已恢复报告 {rid}（{n} 个文件），重新计入统计", "/reports/{rid}")


@router.post("/reports/{rid}/accept")
async def report_accept(request: Request, rid: Rid, user=Depends(require_admin)):
    return await _act(request, rid, user, submissions.accept, "report.accept",
                      "已确认报告 {rid} 按法治政府建设年度报告计入统计（{n} 个文件）", "/reports/{rid}")
