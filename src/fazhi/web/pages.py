"""The Chinese pages: 登录, 上传检查, 报告库, 报告（体检报告）, 统计看板, 单位, 导出, 用户, 账号, API 说明."""
from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..corpus import compare, export, store
from . import auth, queries
from .app import current_user, csrf_token, require_admin, require_user
from .uploads import UploadError, forget_file, process, stored_path, too_large_message

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ helpers
def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = request.session["flash"][-4:] + [[kind, message]]


def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
    env = request.app.state.templates
    s = request.app.state.settings
    try:
        user = current_user(request)
    except Exception:
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


def _bump():
    queries.generation[0] += 1


def _content_disposition(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    keep = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in stem).strip("_")
    ascii_name = (keep or "fazhi") + ("." + "".join(ch for ch in ext if ch.isascii() and ch.isalnum()) if ext else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


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
    password = str(form.get("password") or "")[:256]
    nxt = _safe_next(str(form.get("next") or ""))
    throttle = request.app.state.throttle
    wait = throttle.wait(username)
    if wait:
        return render(request, "login.html", status=429, next=nxt, username=username,
                      error=f"登录失败次数过多，请 {max(1, wait // 60)} 分钟后再试")
    user = await run_in_threadpool(auth.authenticate, _engine(request), username, password)
    if user is None:
        throttle.failed(username)
        return render(request, "login.html", status=401, next=nxt, username=username,
                      error="用户名或密码不正确")
    throttle.succeeded(username)
    request.session.clear()
    request.session.update(uid=user.id, fp=user.fingerprint, csrf=auth.new_csrf())
    return RedirectResponse(nxt, status_code=303)


@router.post("/logout")
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, user=Depends(require_user)):
    return RedirectResponse("/upload" if user.is_admin else "/reports", status_code=303)


@router.get("/card.css")
def card_css():
    css = resources.files("fazhi.data").joinpath("report_card.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "max-age=3600"})


# ------------------------------------------------------------------ upload
@router.get("/upload")
def upload_page(request: Request, user=Depends(require_user)):
    return render(request, "upload.html", nav="upload", results=None)


@router.post("/upload")
async def upload_form(request: Request, user=Depends(require_admin)):
    """Without JavaScript: a plain multipart form (the page's script uses the API instead)."""
    s = request.app.state.settings
    form = await request.form()
    files = [f for f in form.getlist("files") if hasattr(f, "read")]
    if not files:
        return render(request, "upload.html", status=400, nav="upload", results=None, error="请选择要上传的文件")
    results = []
    for f in files:
        data = await f.read(s.max_bytes + 1)
        try:
            if len(data) > s.max_bytes:
                raise UploadError(too_large_message(s.max_bytes), 413)
            out = await run_in_threadpool(process, _engine(request), data, f.filename or "", max_bytes=s.max_bytes,
                                          data_dir=s.data_dir, keep=s.keep_files)
            if not out.duplicate:
                _bump()
            results.append({"name": out.name, "id": out.report_id, "duplicate": out.duplicate})
        except UploadError as e:
            results.append({"name": f.filename or "", "error": e.message})
    ok = [r for r in results if "id" in r]
    if len(results) == 1 and ok:
        return RedirectResponse(f"/reports/{ok[0]['id']}", status_code=303)
    return render(request, "upload.html", nav="upload", results=results)


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
                  facets=queries.facets(eng), corpus_total=store.count(eng)[0])


@router.get("/reports/{rid}")
def report_page(request: Request, rid: int, user=Depends(require_user)):
    got = queries.load_report(_engine(request), rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row, report = got
    s = request.app.state.settings
    has_file = False
    try:
        has_file = stored_path(s.data_dir, row["sha256"], row["format"]).is_file()
    except ValueError:
        pass
    return render(request, "report.html", nav="reports", row=row, card=queries.card_body(report), has_file=has_file)


@router.post("/reports/{rid}/delete")
def report_delete(request: Request, rid: int, user=Depends(require_admin)):
    eng = _engine(request)
    got = queries.load_report(eng, rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row, _ = got
    store.delete_report(eng, rid)
    _bump()
    s = request.app.state.settings
    forget_file(s.data_dir, row["sha256"], row["format"])
    flash(request, f"已删除报告 {rid}：{row['unit'] or row['path']}")
    return RedirectResponse("/reports", status_code=303)


@router.get("/reports/{rid}/file")
def report_file(request: Request, rid: int, user=Depends(require_user)):
    got = queries.load_report(_engine(request), rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row, _ = got
    p = stored_path(request.app.state.settings.data_dir, row["sha256"], row["format"])
    if not p.is_file():
        raise HTTPException(404, "原文件未保存")
    name = Path(row["path"]).name
    if not name.lower().endswith("." + row["format"]):
        name += "." + row["format"]
    return FileResponse(p, media_type="application/octet-stream",
                        headers={"Content-Disposition": _content_disposition(name)})


# ------------------------------------------------------------------ dashboard, unit
@router.get("/dashboard")
def dashboard_page(request: Request, year: str | None = None, level: str | None = None,
                   indicator: str | None = None, user=Depends(require_user)):
    eng = _engine(request)
    try:
        y = queries._int(year, "年度", 1949, 2200)
        lv = compare.normalise_level(level) if level else None
        data = queries.dashboard(eng, year=y, level=lv, indicator=indicator)
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    return render(request, "dashboard.html", nav="dashboard", data=data, data_json=queries.json_for_script(data),
                  facets=queries.facets(eng), year=y, level=lv, level_label=compare.level_label(lv))


@router.get("/unit")
def unit_page(request: Request, name: str = "", user=Depends(require_user)):
    name = name.strip()[:100]
    if not name:
        return RedirectResponse("/reports", status_code=303)
    page = queries.unit_page(_engine(request), name)
    if page is None:
        raise HTTPException(404, f"报告库中没有单位“{name}”的报告")
    chart = {"years": page.years, "trends": page.trends}
    return render(request, "unit.html", nav="reports", page=page, chart_json=queries.json_for_script(chart))


# ------------------------------------------------------------------ export
@router.get("/export")
def export_page(request: Request, user=Depends(require_user)):
    eng = _engine(request)
    return render(request, "export.html", nav="export", facets=queries.facets(eng), total=store.count(eng)[0])


def xlsx_response(engine, year: int | None, level: str | None) -> FileResponse:
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-export-"))
    label = "".join(x for x in (f"{year}年度" if year else "", compare.level_label(level) if level else ""))
    name = f"法治政府建设年度报告汇总{('-' + label) if label else ''}.xlsx"
    out = tmp / "export.xlsx"
    try:
        export.write_xlsx(engine, out, year=year, level=level, title=name[:-5])
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(out, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": _content_disposition(name)},
                        background=BackgroundTask(shutil.rmtree, tmp, True))


@router.get("/export/download")
def export_download(request: Request, year: str | None = None, level: str | None = None,
                    user=Depends(require_admin)):
    try:
        y = queries._int(year, "年度", 1949, 2200)
        lv = compare.normalise_level(level) if level else None
    except (queries.QueryError, compare.CompareError) as e:
        return error_page(request, 400, str(e))
    return xlsx_response(_engine(request), y, lv)


# ------------------------------------------------------------------ users (admin)
def _users_page(request: Request, status: int = 200, **ctx):
    eng = _engine(request)
    return render(request, "users.html", status=status, nav="users", users=auth.list_users(eng),
                  tokens=auth.list_tokens(eng), roles=auth.ROLES, **ctx)


@router.get("/users")
def users_page(request: Request, user=Depends(require_admin)):
    return _users_page(request)


@router.post("/users")
async def users_add(request: Request, user=Depends(require_admin)):
    form = await request.form()
    try:
        u = await run_in_threadpool(auth.create_user, _engine(request), str(form.get("username") or ""),
                                    str(form.get("password") or ""), str(form.get("role") or "viewer"))
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    flash(request, f"已添加用户“{u.username}”（{u.role_label}）")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/delete")
def users_delete(request: Request, uid: int, user=Depends(require_admin)):
    if uid == user.id:
        return _users_page(request, 400, error="不能删除自己的账号")
    try:
        auth.delete_user(_engine(request), uid)
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    flash(request, "已删除用户")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/role")
async def users_role(request: Request, uid: int, user=Depends(require_admin)):
    form = await request.form()
    try:
        auth.set_role(_engine(request), uid, str(form.get("role") or ""))
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    flash(request, "已修改角色")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{uid}/password")
async def users_password(request: Request, uid: int, user=Depends(require_admin)):
    form = await request.form()
    try:
        await run_in_threadpool(auth.set_password, _engine(request), uid, str(form.get("password") or ""))
    except auth.AuthError as e:
        return _users_page(request, 400, error=str(e))
    if uid == user.id:  # keep this session valid
        request.session["fp"] = auth.get_user(_engine(request), uid).fingerprint
    flash(request, "已重设密码")
    return RedirectResponse("/users", status_code=303)


@router.post("/tokens/{tid}/delete")
async def token_delete(request: Request, tid: int, user=Depends(require_user)):
    form = await request.form()
    ok = auth.revoke_token(_engine(request), tid, None if user.is_admin else user.id)
    flash(request, "已作废令牌" if ok else "令牌不存在", "ok" if ok else "error")
    back = "/users" if user.is_admin and form.get("back") == "users" else "/account"
    return RedirectResponse(back, status_code=303)


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
    if await run_in_threadpool(auth.authenticate, eng, user.username, old) is None:
        return _account_page(request, user, 400, error="当前密码不正确")
    if new != again:
        return _account_page(request, user, 400, error="两次输入的新密码不一致")
    try:
        await run_in_threadpool(auth.set_password, eng, user.id, new)
    except auth.AuthError as e:
        return _account_page(request, user, 400, error=str(e))
    request.session["fp"] = auth.get_user(eng, user.id).fingerprint
    flash(request, "密码已修改；其他已登录的会话已失效")
    return RedirectResponse("/account", status_code=303)


@router.post("/account/tokens")
async def account_token(request: Request, user=Depends(require_user)):
    form = await request.form()
    token = auth.create_token(_engine(request), user.id, str(form.get("name") or ""))
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
