"""The 报送情况 page: who has reported on a year, against the roster of units that must.

    GET  /status?year=&level=&parent=   totals, by level and parent, one row per unit,
                                        the reports and files left unmatched
    GET  /status/template               the roster template (.xlsx)
    POST /status/roster                 (admin) import a roster for a year (.xlsx/.csv)
    POST /status/assign                 (admin) assign an unmatched report / file to a unit

Every logged-in user sees the page; only administrators import or assign (the
forms are not shown to viewers and the POSTs answer 403).  CSRF: the app-wide
guard.  Report text (units, titles, file names) is escaped by Jinja2.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..corpus import compare, roster as rm
from ..model import LEVEL_LABELS, LEVELS
from . import auth, queries
from .auth import require_admin, require_user
from .pages import _who, error_page, flash, render
from .responses import _download

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _default_year(eng) -> int:
    ys = rm.years(eng)
    return ys[-1] if ys else date.today().year - 1


def _page(request: Request, year: int, level: str | None = None, parent: str | None = None, status: int = 200, **ctx):
    eng = request.app.state.engine
    st = rm.status(eng, year)
    units = [u for u in st["units"] if (not level or u["level"] == level)
             and (parent is None or (u["parent"] or "") == parent)]
    return render(request, "status.html", status=status, nav="status", st=st, units=units, year=year,
                  level=level, parent=parent, years=rm.years(eng), levels=[(k, LEVEL_LABELS[k]) for k in LEVELS],
                  parents=sorted(p for p in st["by_parent"]), counts=rm.COUNTS, count_labels=rm.COUNT_LABELS,
                  **ctx)


@router.get("/status")
def status_page(request: Request, year: str | None = None, level: str | None = None, parent: str | None = None,
                user=Depends(require_user)):
    try:
        y = queries.parse_year(year)
        lv = queries.parse_level(level)
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    parent = parent[:100] if parent else None
    return _page(request, y or _default_year(request.app.state.engine), lv, parent)


@router.get("/status/template")
def status_template(request: Request, user=Depends(require_user)):
    return _download(rm.write_template, "应报单位名单模板.xlsx", XLSX)


@router.post("/status/roster")
async def status_import(request: Request, user=Depends(require_admin)):
    s = request.app.state.settings
    form = await request.form()
    try:
        y = queries.parse_year(form.get("year"))
    except queries.QueryError as e:
        return _page(request, _default_year(request.app.state.engine), status=400, error=str(e))
    if y is None:
        return _page(request, _default_year(request.app.state.engine), status=400, error="请填写名单的年度")
    f = form.get("file")
    if f is None or not hasattr(f, "read") or not (f.filename or ""):
        return _page(request, y, status=400, error="请选择名单文件（.xlsx 或 .csv）")
    name = Path(f.filename).name
    data = await f.read(s.max_bytes + 1)
    if len(data) > s.max_bytes:
        return _page(request, y, status=413, error=f"名单文件“{name}”过大")
    eng = request.app.state.engine

    def run():
        units, problems = rm.read_roster(Path(name), data)
        if problems:
            return None, problems
        return rm.import_roster(eng, y, units), []

    try:
        n, problems = await run_in_threadpool(run)
    except rm.RosterError as e:
        return _page(request, y, status=400, error=str(e))
    if problems:
        auth.audit_quietly(eng, "roster.import", target=name, detail=f"{y} 年度：{len(problems)} 处错误，未导入",
                           ok=False, **_who(request, user))
        return _page(request, y, status=400, error=f"名单有 {len(problems)} 处错误，未导入任何单位；改正后重新上传",
                     problems=[str(p) for p in problems[:200]])
    auth.audit_quietly(eng, "roster.import", target=name, detail=f"{y} 年度：{n} 个单位", **_who(request, user))
    flash(request, f"已导入 {y} 年度应报单位名单：{n} 个单位（该年度原有名单已替换）")
    return RedirectResponse(f"/status?year={y}", status_code=303)


@router.post("/status/assign")
async def status_assign(request: Request, user=Depends(require_admin)):
    form = await request.form()
    eng = request.app.state.engine
    try:
        y = queries.parse_year(form.get("year"))
        rid = queries._int(form.get("id"), "编号", 1, queries.MAX_ID)
    except queries.QueryError as e:
        return error_page(request, 400, str(e))
    kind = str(form.get("kind") or "report")
    unit = str(form.get("unit") or "").strip()[:100]
    if rid is None or not unit:
        return _page(request, y or _default_year(eng), status=400, error="请选择单位")
    kw = {"failure_id": rid} if kind == "failure" else {"report_id": rid}
    try:
        res = rm.assign(eng, unit, year=y, actor=user.username, **kw)
    except rm.RosterError as e:
        return _page(request, y or _default_year(eng), status=400, error=str(e))
    auth.audit_quietly(eng, "roster.assign", target=f"{'文件' if kind == 'failure' else '报告'} {rid}",
                       detail=f"{res['year']} 年度：{res['unit']}", **_who(request, user))
    flash(request, f"已指定为“{res['unit']}”")
    return RedirectResponse(f"/status?year={res['year']}", status_code=303)
