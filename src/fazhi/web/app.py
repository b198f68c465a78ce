"""The FastAPI application: ``create_app(settings)``.

Layers, outermost first: security headers (a Content-Security-Policy that
allows only this site's own scripts — no inline script, no CDN), a request
body limit (Content-Length checked up front, the stream counted as it
arrives), gzip, signed session cookies.  Every unsafe request (POST, DELETE…)
made with the session cookie must carry the session's CSRF token (a form
field ``csrf_token`` or the header ``X-CSRF-Token``); requests with an API
token (``Authorization: Bearer fz_…``) carry no cookie and need none.
"""
from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from ..corpus import db as dbm
from . import auth
from .settings import Settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
CSRF_EXEMPT = {"/api/token"}


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "权限不足：此操作需要管理员账号"):
        self.message = message


class BodyTooLarge(HTTPException):
    pass


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


# ------------------------------------------------------------------ ASGI middleware
class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send2(msg):
            if msg["type"] == "http.response.start":
                h = list(msg.get("headers", []))
                have = {k.lower() for k, _ in h}
                for k, v in ((b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                             (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                             (b"cross-origin-opener-policy", b"same-origin")):
                    if k not in have:
                        h.append((k, v))
                if not scope["path"].startswith("/static/") and b"cache-control" not in have:
                    h.append((b"cache-control", b"no-store"))
                msg = {**msg, "headers": h}
            await send(msg)

        await self.app(scope, receive, send2)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes: by Content-Length before reading
    anything, and by counting the stream (chunked uploads) while it is read."""

    def __init__(self, app, limit: int, message: str):
        self.app, self.limit, self.message = app, limit, message

    async def _refuse(self, scope, send):
        import json

        if scope["path"].startswith("/api/"):
            body, ctype = json.dumps({"detail": self.message}, ensure_ascii=False).encode(), b"application/json"
        else:
            body = (f"<!DOCTYPE html><meta charset=utf-8><title>文件过大</title><p>{self.message}</p>"
                    f'<p><a href="/upload">返回上传页</a></p>').encode()
            ctype = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    if int(v) > self.limit:
                        return await self._refuse(scope, send)
                except ValueError:
                    pass
        seen = 0
        started = False

        async def receive2():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(413, self.message)
            return msg

        async def send2(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive2, send2)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send)


# ------------------------------------------------------------------ templates
def _ticks(s) -> Markup:
    """`code` spans of a description as <code>, everything escaped."""
    parts = str(s or "").split("`")
    return Markup("".join(f"<code>{escape(p)}</code>" if i % 2 else str(escape(p)) for i, p in enumerate(parts)))


def _env() -> Environment:
    env = Environment(loader=PackageLoader("fazhi.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = lambda x, d=0: "—" if x is None else f"{x * 100:.{d}f}%"
    env.filters["num"] = lambda x: "—" if x is None else (f"{x:.1f}" if isinstance(x, float) and not x.is_integer()
                                                           else f"{int(x)}")
    env.filters["urlq"] = lambda s: quote(str(s or ""), safe="")
    env.filters["ticks"] = _ticks
    return env


# ------------------------------------------------------------------ the app
def create_app(settings: Settings | None = None, *, announce=None) -> FastAPI:
    """The web application over the corpus database of ``settings.db``.

    ``announce(message)`` prints the one-time administrator password when one
    is generated (default: standard error)."""
    from . import api, pages
    from .uploads import too_large_message

    settings = settings or Settings.from_env()
    engine = dbm.connect(settings.db)
    generated = auth.ensure_admin(engine, settings.admin_user, settings.admin_password)
    if generated:
        msg = (f"已创建管理员账号“{settings.admin_user}”，初始密码：{generated}\n"
               f"（只显示这一次；请登录后在“账号”页修改。也可以用环境变量 FAZHI_ADMIN_PASSWORD 预先指定。）")
        (announce or (lambda m: print(m, file=sys.stderr, flush=True)))(msg)
    secret = auth.session_secret(engine, settings.secret)
    if settings.keep_files:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)

    app = FastAPI(
        title="fazhi 法治政府建设年度报告分析 API",
        version="1",
        description=("上传并分析法治政府建设年度报告、检索报告库、统计、导出。"
                     "认证：网页登录后的会话（写操作需带 `X-CSRF-Token` 头），或 API 令牌 "
                     "`Authorization: Bearer fz_…`（在“账号”页或 `POST /api/token` 获取）。"),
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        dependencies=[Depends(csrf_guard)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.templates = _env()
    app.state.throttle = auth.LoginThrottle(settings.login_failures, settings.login_window)

    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="fazhi_session",
                       max_age=int(settings.session_hours * 3600), same_site="lax",
                       https_only=settings.secure_cookies)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limit=settings.max_bytes + 1048576, message=too_large_message(settings.max_bytes))
    app.add_middleware(SecurityHeaders)

    static = resources.files("fazhi.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    from . import ledger_pages  # the 起草 page (ledger, draft, annotated copy)

    app.include_router(ledger_pages.router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if is_api(request):
            return JSONResponse({"detail": "请先登录，或在请求头中提供 API 令牌（Authorization: Bearer …）"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(nxt, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        if is_api(request):
            return JSONResponse({"detail": exc.message}, status_code=403)
        return pages.error_page(request, 403, exc.message)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "页面或资源不存在"
        if exc.status_code == 405:
            detail = "不支持此请求方法"
        if is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
        return pages.error_page(request, exc.status_code, detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        where = "、".join(".".join(str(x) for x in e.get("loc", ())[1:]) or "请求" for e in errs[:5])
        msg = f"请求参数有误：{where}"
        if is_api(request):
            return JSONResponse({"detail": msg, "errors": [{"loc": e.get("loc"), "msg": e.get("msg")}
                                                           for e in errs[:20]]}, status_code=422)
        return pages.error_page(request, 422, msg)

    return app


# ------------------------------------------------------------------ dependencies
def current_user(request: Request) -> auth.User | None:
    """The user of this request: an API token, else the session (checked each time)."""
    if "user" in request.scope.get("state", {}):
        return request.state.user
    engine = request.app.state.engine
    user = None
    h = request.headers.get("authorization", "")
    if h[:7].lower() == "bearer ":
        user = auth.user_by_token(engine, h[7:].strip())
        if user is None:
            request.state.user = None
            raise LoginRequired()
    else:
        uid = request.session.get("uid")
        if uid is not None:
            user = auth.get_user(engine, int(uid))
            if user is None or request.session.get("fp") != user.fingerprint:
                request.session.clear()
                user = None
    request.state.user = user
    return user


def require_user(request: Request) -> auth.User:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    return user


def require_admin(request: Request) -> auth.User:
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden()
    return user


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = auth.new_csrf()
    return tok


async def csrf_guard(request: Request) -> None:
    """Every unsafe request that relies on the session cookie carries the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    if request.headers.get("authorization", "")[:7].lower() == "bearer ":
        return  # no cookie involved: a token cannot be sent by another site
    if request.url.path in CSRF_EXEMPT:
        return
    given = request.headers.get("x-csrf-token")
    if not given:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            given = form.get("csrf_token")
    if not auth.csrf_ok(request.session.get("csrf"), given if isinstance(given, str) else None):
        if is_api(request):
            raise HTTPException(403, "CSRF 校验失败：请求缺少有效的 X-CSRF-Token（请刷新页面后重试）")
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请返回刷新页面后重试")


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status)
