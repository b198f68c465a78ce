"""The Chinese pages: 登录, 上传检查, 报告库, 报告（体检报告）, 统计看板, 单位, 导出, 用户,
审计日志, 账号, API 说明."""
from __future__ import annotations

import functools

from importlib import resources
from typing import Annotated
from pathlib import Path as FilePath
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..corpus import compare, submissions
from ..corpus.faults import DatabaseFault
from . import audit, auth, queries
from .auth import current_user, csrf_token, require_admin, require_user
from .pools import Busy
from .responses import content_disposition, xlsx_response
from .uploads import UploadError, forget_file, received_date, stored_path, too_large_message, upload_request

router = APIRouter(include_in_schema=False)

Rid = Annotated[int, Path(ge=1, le=queries.MAX_ID, description="报告编号")]
Uid = Annotated[int, Path(ge=1, le=queries.MAX_ID, description="用户编号")]
Tid = Annotated[int, Path(ge=1, le=queries.MAX_ID, description="令牌编号")]


# ------------------------------------------------------------------ helpers
def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = request.session["flash"][-4:] + [[kind, message]]


def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
    env = request.app.state.templates
    s = request.app.state.settings
    try:
        user = current_user(request)
    except Exception:   # an error page while the database is down still renders
        user = None
    ctx.setdefault("nav", "")
    ctx.update(request=request, user=user, csrf=csrf_token(request), flashes=request.session.pop("flash", []),
               max_mb=f"{s.max_bytes / 1048576:g}", max_bytes=s.max_bytes)
    return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _safe_next(nxt: str | None) -> str:
    """Only a local path (no scheme, no host, no //) may follow a login."""
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    parts = urlsplit(nxt)
    if parts.scheme or parts.netloc:
        return "/"
    return nxt


def _engine(request: Request):
    return request.app.state.engine


def _who(request: Request, user) -> dict:
    return {"actor": user.username, "actor_id": user.id, "address": auth.client_address(request)}


# ------------------------------------------------------------------ login
@router.get("/login")
def login_page(request: Request, next: str | None = None):
    if current_user(request):
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next), username="")


@router.post("/login")
async def login(request: Request):
    form = await request.form()
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:auth.MAX_PASSWORD]
    nxt = _safe_next(str(form.get("next") or ""))
    try:
        user, nonce = await auth.login_attempt(request, username, password, via="网页")
    except auth.LoginRefused as e:
        resp = render(request, "login.html", status=e.status, next=nxt, username=username, error=e.message)
        if e.retry_after:
            resp.headers["Retry-After"] = str(e.retry_after)
        return resp
    auth.start_session(request, user)
    resp = RedirectResponse("/mine" if user.role == "unit" else nxt, status_code=303)
    auth.set_device_cookie(request, resp, user, nonce)
    return resp


@router.post("/logout")
def logout(request: Request):
    """Ends every session of this account (its session version moves on)."""
    user = current_user(request)
    if user is not None and not user.via_token:
        eng = _engine(request)
        auth.end_sessions(eng, user.id)
        auth.audit_quietly(eng, "logout", **_who(request, user))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, user=Depends(require_user)):
    if user.role == "unit":
        return RedirectResponse("/mine", status_code=303)
    return RedirectResponse("/upload" if user.is_admin else "/reports", status_code=303)


@router.get("/card.css")
def card_css():
    css = resources.files("fazhi.data").joinpath("report_card.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=3600"})


# ------------------------------------------------------------------ upload
@router.get("/upload")
def upload_page(request: Request, user=Depends(require_user)):
    from ..corpus.submissions import today

    return render(request, "upload.html", nav="upload", results=None, today=today().isoformat())


@router.post("/upload")
async def upload_form(request: Request, user=Depends(require_admin)):
    """Without JavaScript: a plain multipart form (the page's script uses the API instead)."""
    s = request.app.state.settings
    form = await request.form()
    files = [f for f in form.getlist("files") if hasattr(f, "read")]
    if not files:
        return render(request, "upload.html", status=400, nav="upload", results=None, error="请选择要上传的文件")
    try:
        received_on = received_date(form.get("received_on"))
    except UploadError as e:
        return render(request, "upload.html", status=400, nav="upload", results=None, error=e.message)
    results = []
    worst = 400
    for f in files:
        data = await f.read(s.max_bytes + 1)
        try:
            if len(data) > s.max_bytes:
                raise UploadError(too_large_message(s.max_bytes), 413)
            out = await upload_request(request, user, data, f.filename or "", received_on=received_on)
            results.append({"name": out.name, "id": out.report_id, "duplicate": out.duplicate})
        except (UploadError, DatabaseFault, Busy) as e:
            status = getattr(e, "status", 503)
            worst = max(worst, status)
            results.append({"name": f.filename or "", "error": getattr(e, "message", str(e))})
    ok = [r for r in results if "id" in r]
    if len(results) == 1 and ok:
        return RedirectResponse(f"/reports/{ok[0]['id']}", status_code=303)
    return render(request, "upload.html", status=200 if ok else worst, nav="upload", results=results)


# ------------------------------------------------------------------ reports
@router.get("/reports")
def reports_page(request: Request, user=Depends(require_user)):
    eng = _engine(request)
    try:
        f = queries.Filters.parse(request.query_params)
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    hits = None
    if f.q:
        hits = queries.search(eng, f.q, f)
        rows, total = [], len(hits)
    else:
        rows, total = queries.list_reports(eng, f)
    pages = max(1, -(-total // f.per_page))
    return render(request, "reports.html", nav="reports", f=f, rows=rows, hits=hits, total=total, pages=pages,
                  facets=queries.facets(eng), corpus_total=queries.counted_reports(eng))


def _load(request: Request, rid: int):
    got = queries.load_report(_engine(request), rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    return got


@router.get("/reports/{rid}")
def report_page(request: Request, rid: Rid, user=Depends(require_user)):
    if user.role == "unit":
        from .unit_pages import owns

        if not owns(_engine(request), user, rid):   # another unit's report: as if it did not exist
            raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row, report = _load(request, rid)
    s = request.app.state.settings
    has_file = False
    try:
        has_file = user.is_admin and stored_path(s.data_dir, row["sha256"], row["format"]).is_file()
    except ValueError:
        pass
    cp, cp_state = None, "hidden"
    if user.role != "unit":   # the sources name other units' reports: the office's view only
        cp, cp_state = queries.report_copies(_engine(request), rid, s.copy_wait)
    return render(request, "report.html", nav="reports", row=row, card=queries.card_body(report), has_file=has_file,
                  copies=cp, copies_state=cp_state)


@router.post("/reports/{rid}/delete")
def report_delete(request: Request, rid: Rid, user=Depends(require_admin)):
    eng = _engine(request)
    row, _ = _load(request, rid)
    with eng.begin() as conn:
        # withdrawn, not erased: remembered by sha256 (`fazhi corpus restore-withdrawn` undoes it)
        submissions.withdraw(conn, rid, f"网页删除（{user.username}）")
        audit.record(conn, "report.delete", target=f"报告 {rid}：{row['unit'] or row['path']}"[:500],
                     detail=row["path"], **_who(request, user))
    s = request.app.state.settings
    forget_file(s.data_dir, row["sha256"], row["format"])
    flash(request, f"已删除报告 {rid}：{row['unit'] or row['path']}")
    return RedirectResponse("/reports", status_code=303)


@router.get("/reports/{rid}/file")
def report_file(request: Request, rid: Rid, user=Depends(require_user)):
    if not user.is_admin:
        raise auth.Forbidden("只读账号不能下载原文件（导出需要管理员账号）")
    row, _ = _load(request, rid)
    p = stored_path(request.app.state.settings.data_dir, row["sha256"], row["format"])
    if not p.is_file():
        raise HTTPException(404, "原文件未保存")
    name = FilePath(row["path"]).name
    if not name.lower().endswith("." + row["format"]):
        name += "." + row["format"]
    return FileResponse(p, media_type="application/octet-stream",
                        headers={"Content-Disposition": content_disposition(name)})


# ------------------------------------------------------------------ dashboard, unit
@router.get("/dashboard")
def dashboard_page(request: Request, year: str | None = None, level: str | None = None,
                   indicator: str | None = None, user=Depends(require_user)):
    eng = _engine(request)
    try:
        y = queries.parse_year(year)
        lv = queries.parse_level(level)
        data = queries.dashboard(eng, year=y, level=lv, indicator=(indicator or "").strip()[:100] or None)
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    return render(request, "dashboard.html", nav="dashboard", data=data, data_json=queries.json_for_script(data),
                  facets=queries.facets(eng), year=y, level=lv, level_label=compare.level_label(lv))


@router.get("/unit")
def unit_page(request: Request, name: str = "", user=Depends(require_user)):
    name = name.strip()[:100]
    if not name:
        return RedirectResponse("/reports", status_code=303)
    page = queries.unit_page(_engine(request), name, copy_wait=request.app.state.settings.copy_wait)
    if page is None:
        raise HTTPException(404, f"报告库中没有单位“{name}”的报告")
    chart = {"years": page.years, "trends": page.trends}
    return render(request, "unit.html", nav="reports", page=page, chart_json=queries.json_for_script(chart))


# ------------------------------------------------------------------ export
@router.get("/export")
def export_page(request: Request, user=Depends(require_user)):
    eng = _engine(request)
    return render(request, "export.html", nav="export", facets=queries.facets(eng), total=queries.counted_reports(eng))


@router.get("/export/download")
def export_download(request: Request, year: str | None = None, level: str | None = None,
                    user=Depends(require_admin)):
    try:
        y = queries.parse_year(year)
        lv = queries.parse_level(level)
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    resp = xlsx_response(_engine(request), y, lv)
    auth.audit_quietly(_engine(request), "export", target="Excel 汇总工作簿",
                        detail=f"年度 {y or '全部'}，层级 {compare.level_label(lv) if lv else '全部'}",
                        **_who(request, user))
    return resp


# ------------------------------------------------------------------ users (admin)
def _users_page(request: Request, status: int = 200, **ctx):
    eng = _engine(request)
    return render(request, "users.html", status=status, nav="users", users=auth.list_users(eng),
                  tokens=auth.list_tokens(eng), roles=auth.ROLES, **ctx)


@router.get("/users")
def users_page(request: Request, user=Depends(require_admin)):
    return _users_page(request)


async def _hash(request: Request, password: str) -> str:
    auth.check_password_rules(password)
    return await request.app.state.hash_pool.run(auth.hash_password, password)


@router.post("/users")
async def users_add(request: Request, user=Depends(require_admin)):
    form = await request.form()
    name, pw, role, unit = (str(form.get(k) or "") for k in ("username", "password", "role", "unit"))
    eng = _engine(request)
    try:
        auth.check_username(name)
        auth.check_role(role or "viewer")
        if role == "unit" and not unit.strip():
            raise auth.AuthError("报送单位账号需要指定单位")
        h = await _hash(request, pw)
        u = await run_in_threadpool(functools.partial(auth.create_user, eng, name, pw, role or "viewer",
                                                      password_hash=h, unit=unit or None))
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    await run_in_threadpool(audit.record, eng, "user.add", target=u.username,
                            detail=u.role_label + (f"：{u.unit}" if u.unit else ""), **_who(request, user))
    flash(request, f"已添加用户“{u.username}”（{u.role_label}）")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/delete")
def users_delete(request: Request, uid: Uid, user=Depends(require_admin)):
    if uid == user.id:
        return _users_page(request, 400, error="不能删除自己的账号")
    eng = _engine(request)
    target = auth.get_user(eng, uid)
    try:
        with eng.begin() as c:
            auth.delete_user(eng, uid, conn=c)
            audit.record(c, "user.delete", target=target.username if target else str(uid), **_who(request, user))
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    flash(request, "已删除用户")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/role")
async def users_role(request: Request, uid: Uid, user=Depends(require_admin)):
    form = await request.form()
    role = str(form.get("role") or "")
    eng = _engine(request)
    target = auth.get_user(eng, uid)

    def run():
        with eng.begin() as c:
            auth.set_role(eng, uid, role, conn=c)
            audit.record(c, "user.role", target=target.username if target else str(uid),
                         detail=auth.ROLES.get(role, role), **_who(request, user))

    try:
        await run_in_threadpool(run)
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    flash(request, "已修改角色")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/password")
async def users_password(request: Request, uid: Uid, user=Depends(require_admin)):
    form = await request.form()
    pw = str(form.get("password") or "")
    eng = _engine(request)
    target = auth.get_user(eng, uid)
    try:
        h = await _hash(request, pw)

        def run():
            with eng.begin() as c:
                n = auth.set_password(eng, uid, pw, password_hash=h, conn=c)
                audit.record(c, "user.password", target=target.username if target else str(uid),
                             detail=f"该用户的会话已结束，作废 API 令牌 {n} 个", **_who(request, user))
            return n

        n = await run_in_threadpool(run)
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    if uid == user.id:  # keep this session valid
        auth.refresh_session(request, eng, uid)
    flash(request, f"已重设密码；该用户已登录的会话全部失效" + (f"，作废 API 令牌 {n} 个" if n else ""))
    return RedirectResponse("/users", status_code=303)


@router.post("/tokens/{tid}/delete")
async def token_delete(request: Request, tid: Tid, user=Depends(require_user)):
    form = await request.form()
    eng = _engine(request)
    ok = auth.revoke_token(eng, tid, None if user.is_admin else user.id)
    if ok:
        auth.audit_quietly(eng, "token.revoke", target=f"令牌 {tid}", **_who(request, user))
    flash(request, "已作废令牌" if ok else "令牌不存在", "ok" if ok else "error")
    back = "/users" if user.is_admin and form.get("back") == "users" else "/account"
    return RedirectResponse(back, status_code=303)


@router.get("/audit")
def audit_page(request: Request, user=Depends(require_admin)):
    p = request.query_params
    try:
        action = (p.get("action") or "").strip() or None
        if action and action not in audit.ACTIONS and action not in {a.split(".")[0] for a in audit.ACTIONS}:
            raise queries.QueryError(f"未知的操作类型“{action[:50]}”")
        ok = {"": None, "yes": True, "no": False}.get((p.get("ok") or "").strip())
        if (p.get("ok") or "").strip() not in ("", "yes", "no"):
            raise queries.QueryError("“结果”应为 yes 或 no")
        q = audit.Query(actor=(p.get("actor") or "").strip()[:64] or None, action=action, ok=ok,
                        page=queries._int(p.get("page"), "页码", 1, queries.MAX_PAGE) or 1, per_page=100)
    except queries.QueryError as e:
        return error_page(request, 400, str(e))
    rows, total = audit.query(_engine(request), q)
    pages = max(1, -(-total // q.per_page))
    return render(request, "audit.html", nav="audit", rows=rows, total=total, q=q, pages=pages,
                  actions=audit.ACTIONS, ok=(p.get("ok") or "").strip())


# ------------------------------------------------------------------ own account
def _account_page(request: Request, user, status: int = 200, **ctx):
    return render(request, "account.html", status=status, nav="account",
                  tokens=auth.list_tokens(_engine(request), user.id), **ctx)


@router.get("/account")
def account_page(request: Request, user=Depends(require_user)):
    return _account_page(request, user)


@router.post("/account/password")
async def account_password(request: Request, user=Depends(require_user)):
    form = await request.form()
    eng = _engine(request)
    old, new, again = (str(form.get(k) or "") for k in ("old", "new", "again"))
    ok, _ = await request.app.state.hash_pool.run(auth.verify_password, user.password_hash, old)
    if not ok:
        await run_in_threadpool(auth.audit_quietly, eng, "account.password", detail="当前密码不正确", ok=False,
                                **_who(request, user))
        return _account_page(request, user, 400, error="当前密码不正确")
    if new != again:
        return _account_page(request, user, 400, error="两次输入的新密码不一致")
    try:
        h = await _hash(request, new)

        def run():
            with eng.begin() as c:
                n = auth.set_password(eng, user.id, new, password_hash=h, conn=c)
                audit.record(c, "account.password", detail=f"其他会话已结束，作废 API 令牌 {n} 个",
                             **_who(request, user))
            return n

        n = await run_in_threadpool(run)
    except auth.AuthError as e:
        return _account_page(request, user, 400, error=str(e))
    auth.refresh_session(request, eng, user.id)
    flash(request, "密码已修改；其他已登录的会话已失效" + (f"，本账号的 {n} 个 API 令牌已作废" if n else ""))
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens")
async def account_token(request: Request, user=Depends(require_user)):
    form = await request.form()
    eng = _engine(request)
    name = str(form.get("name") or "")
    token = auth.create_token(eng, user.id, name)
    auth.audit_quietly(eng, "token.create", target=(name.strip() or "API")[:100], detail="账号页",
                        **_who(request, user))
    return _account_page(request, user, new_token=token)


# ------------------------------------------------------------------ API docs (offline)
_RESP = {"Successful Response": "成功", "Validation Error": "参数有误"}


@router.get("/api/docs")
def api_docs(request: Request):
    spec = request.app.openapi()
    ops = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "description": p.get("description") or (p.get("schema") or {}).get("title", "")}
                      for p in op.get("parameters", [])]
            ops.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "description": op.get("description", ""), "params": params,
                        "responses": {k: _RESP.get(v.get("description", ""), v.get("description", ""))
                                      for k, v in op.get("responses", {}).items()}})
    return render(request, "api_docs.html", nav="api", spec=spec, ops=ops)
