"""The FastAPI application: ``create_app(settings)``.

Layers, outermost first: security headers (a Content-Security-Policy that
allows only this site's own scripts — no inline script, no CDN), the login
gate (a throttled address or a full hashing pool refused before anything
else, the answer held back a second), a limit on requests in progress (503 in
Chinese beyond it), a request body limit
(Content-Length checked up front, the stream counted as it arrives), gzip,
signed session cookies.  Every unsafe request (POST, DELETE…) made with the
session cookie must carry the session's CSRF token (``auth.csrf_guard``);
requests with an API token (``Authorization: Bearer fz_…``) carry no cookie
and need none.

Every error answers in Chinese — an HTML page for the pages, ``{"detail": …}``
for the API: 404/405/422 and bad parameters, database faults (507 for a full
disk, 503 for a read-only, corrupt, busy or unreachable database), and 500
for anything unexpected.  Imports point one way: app -> pages, api -> auth,
queries, responses, uploads.
"""
from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from ..corpus import db as dbm
from ..corpus.faults import DatabaseFault, fault_of
from . import auth
from .pools import BoundedPool, Busy, Shares
from .settings import Settings
from .throttle import LoginThrottle

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")


class BodyTooLarge(StarletteHTTPException):
    pass


def _plain_page(title: str, message: str, back: str = "/") -> bytes:
    return (f"<!DOCTYPE html><html lang=zh-CN><meta charset=utf-8><title>{escape(title)}</title>"
            f"<p>{escape(message)}</p><p><a href=\"{back}\">返回</a></p></html>").encode()


async def _send_plain(scope, send, status: int, message: str, title: str, headers=(), back: str = "/") -> None:
    if scope["path"].startswith("/api/"):
        body, ctype = json.dumps({"detail": message}, ensure_ascii=False).encode(), b"application/json"
    else:
        body, ctype = _plain_page(title, message, back), b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


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


class RequestLimit:
    """At most ``limit`` requests in progress; beyond that a Chinese 503 at once."""

    def __init__(self, app, limit: int):
        self.app, self.limit, self.active = app, max(1, int(limit)), 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.active >= self.limit:
            return await _send_plain(scope, send, 503, "服务器正忙：同时处理的请求过多，请稍后再试",
                                     "服务器正忙", [(b"retry-after", b"5")])
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


class LoginGate:
    """The cheap answer to a login flood: a login from an address that must wait, or
    while the hashing pool is full, is refused here — before the session cookie,
    the routing and the body are looked at — and the refusal is held back up to
    ``tarpit`` seconds (an idle coroutine, outside the limit on requests in
    progress), so a client that retries at once sends one attempt a second, not
    hundreds.  Browsers with a device cookie go on to ``auth.login_attempt``, which
    decides for them (their own counter, their own pool)."""

    PATHS = ("/login", "/api/token")

    def __init__(self, app, state, tarpit: float = 1.0):
        self.app, self.state, self.tarpit = app, state, float(tarpit)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.PATHS:
            cookies = b"".join(v for k, v in scope.get("headers", []) if k == b"cookie")
            if auth.DEVICE_COOKIE.encode() + b"=" not in cookies:
                client = scope.get("client")
                wait = self.state.throttle.wait([("addr", (client[0] if client else "") or "unknown")])
                if wait > 0:
                    await self.state.tarpit_sleep(min(wait, self.tarpit))
                    secs = max(1, math.ceil(self.state.throttle.wait([("addr", (client[0] if client else "")
                                                                      or "unknown")])))
                    return await _send_plain(scope, send, 429, f"登录尝试过于频繁，请 {secs} 秒后再试", "请稍后再试",
                                             [(b"retry-after", str(secs).encode())], back="/login")
                if self.state.hash_pool.full():
                    await self.state.tarpit_sleep(self.tarpit / 2)
                    return await _send_plain(scope, send, 503, "登录请求过多，服务器正忙，请稍后再试", "服务器正忙",
                                             [(b"retry-after", b"5")], back="/login")
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes: by Content-Length before reading
    anything, and by counting the stream (chunked uploads) while it is read."""

    def __init__(self, app, limit: int, message: str):
        self.app, self.limit, self.message = app, limit, message

    async def _refuse(self, scope, send):
        await _send_plain(scope, send, 413, self.message, "文件过大")

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


# ------------------------------------------------------------------ validation errors in Chinese
_PYD = {"int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
        "float_parsing": "应为数字", "float_type": "应为数字", "bool_parsing": "应为 true 或 false",
        "missing": "缺少此参数", "string_type": "应为文字", "json_invalid": "不是有效的 JSON",
        "model_attributes_type": "应为 JSON 对象", "dict_type": "应为 JSON 对象",
        "string_pattern_mismatch": "取值无效", "literal_error": "取值无效", "enum": "取值无效",
        "finite_number": "应为有限的数字", "uuid_parsing": "格式不正确"}


def _zh(e: dict) -> str:
    t, ctx = e.get("type", ""), e.get("ctx") or {}
    if t in ("greater_than_equal", "greater_than"):
        return f"不能小于{'等于' if t == 'greater_than' else ''} {ctx.get('ge', ctx.get('gt'))}"
    if t in ("less_than_equal", "less_than"):
        return f"不能大于{'等于' if t == 'less_than' else ''} {ctx.get('le', ctx.get('lt'))}"
    if t == "string_too_long":
        return f"过长（最多 {ctx.get('max_length')} 个字符）"
    if t == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字符"
    return _PYD.get(t, "取值无效")


def validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict]]:
    """(status, Chinese message, [{loc, msg, type}]): a bad query parameter is a 400,
    a bad path (``/reports/abc``, an id out of range) a 404, a bad body a 422."""
    errs = exc.errors()
    where = [e.get("loc", ()) for e in errs]
    items = [{"loc": list(e.get("loc", ())), "msg": _zh(e), "type": e.get("type")} for e in errs[:20]]
    text = "；".join(f"{'.'.join(str(x) for x in e['loc'][1:]) or '请求'} {e['msg']}" for e in items[:5])
    if where and all(w[:1] == ("path",) for w in where):
        return 404, "页面或资源不存在（编号应为 1 到 2147483647 之间的整数）", items
    status = 400 if where and all(w[:1] == ("query",) for w in where) else 422
    return status, f"请求参数有误：{text}", items


# ------------------------------------------------------------------ the app
def create_app(settings: Settings | None = None, *, announce=None) -> FastAPI:
    """The web application over the corpus database of ``settings.db``.

    ``announce(message)`` prints the one-time administrator password when one
    is generated (default: standard error).  A database fault raises
    ``faults.DatabaseFault`` (Chinese) before the server starts."""
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
                     "`Authorization: Bearer fz_…`（在“账号”页或 `POST /api/token` 获取）。"
                     "出错时返回 `{\"detail\": \"中文说明\"}`。"),
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        dependencies=[Depends(auth.csrf_guard)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret = secret
    app.state.templates = _env()
    app.state.throttle = LoginThrottle(settings.login_free, cap=settings.login_delay_cap,
                                       window=settings.login_window)
    app.state.hash_pool = BoundedPool("hash", settings.hash_workers, settings.hash_queue, nice=10,
                                      busy_message="登录请求过多，服务器正忙，请稍后再试")
    app.state.hash_shares = Shares(2)
    app.state.tarpit_sleep = asyncio.sleep
    app.state.trusted_hash_pool = BoundedPool("hash-trusted", 1, 4, nice=5,
                                              busy_message="登录请求过多，服务器正忙，请稍后再试")
    app.state.upload_pool = BoundedPool("upload", settings.upload_workers, settings.upload_queue, nice=10,
                                        max_weight=settings.upload_queue_mb * 1048576,
                                        busy_message="服务器正忙：同时上传的文件过多，请稍后重新上传")

    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="fazhi_session",
                       max_age=int(settings.session_hours * 3600), same_site="lax",
                       https_only=settings.secure_cookies)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.add_middleware(BodyLimit, limit=settings.max_bytes + 1048576, message=too_large_message(settings.max_bytes))
    app.add_middleware(RequestLimit, limit=settings.max_requests)
    app.add_middleware(LoginGate, state=app.state, tarpit=settings.login_tarpit)
    app.add_middleware(SecurityHeaders)

    static = resources.files("fazhi.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    from . import ledger_pages  # the 起草 page (ledger, draft, annotated copy)

    app.include_router(ledger_pages.router)
    from . import roster_pages  # the 报送情况 page (roster import, status, assignments)

    app.include_router(roster_pages.router)
    from . import correction_pages  # corrections from the report page

    app.include_router(correction_pages.router)
    from . import unit_pages  # units submit their own report (role ``unit``)

    app.include_router(unit_pages.router)
    from . import submission_pages  # restore a withdrawn report, accept another genre

    app.include_router(submission_pages.router)

    def answer(request: Request, status: int, message: str, headers: dict | None = None, **extra):
        if auth.is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": message, **extra}, status_code=status, headers=headers)
        resp = pages.error_page(request, status, message)
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(auth.LoginRequired)
    async def _login_required(request: Request, exc: auth.LoginRequired):
        if auth.is_api(request):
            return JSONResponse({"detail": "请先登录，或在请求头中提供 API 令牌（Authorization: Bearer …）"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(nxt, safe='')}", status_code=303)

    @app.exception_handler(auth.Forbidden)
    async def _forbidden(request: Request, exc: auth.Forbidden):
        return answer(request, 403, exc.message)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return answer(request, 503, str(exc), {"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "请求有误"
        if exc.status_code == 404 and detail in ("Not Found", ""):
            detail = "页面或资源不存在"
        elif exc.status_code == 405:
            detail = f"不支持此请求方法（{request.method}）"
        elif not any("\u4e00" <= ch <= "\u9fff" for ch in detail):   # an English detail from a library
            detail = {400: "请求有误", 401: "需要登录", 403: "没有权限", 413: "请求过大",
                      429: "请求过于频繁，请稍后再试"}.get(exc.status_code, f"请求未能完成（{exc.status_code}）")
        return answer(request, exc.status_code, detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        status, msg, items = validation_errors(exc)
        if auth.is_api(request):
            return JSONResponse({"detail": msg, "errors": items}, status_code=status)
        return pages.error_page(request, status, msg)

    def fault_answer(request: Request, fault: DatabaseFault):
        print(f"fazhi：{request.method} {request.url.path}：{fault}", file=sys.stderr, flush=True)
        return answer(request, fault.status, fault.message, {"Retry-After": "30"} if fault.status == 503 else None,
                      fault=fault.kind)

    @app.exception_handler(DatabaseFault)
    async def _fault(request: Request, exc: DatabaseFault):
        return fault_answer(request, exc)

    @app.exception_handler(SQLAlchemyError)
    async def _db_error(request: Request, exc: SQLAlchemyError):
        return fault_answer(request, fault_of(exc, dbm.describe(engine)))

    @app.exception_handler(sqlite3.Error)
    async def _sqlite_error(request: Request, exc: sqlite3.Error):
        return fault_answer(request, fault_of(exc, dbm.describe(engine)))

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError):
        f = fault_of(exc)
        if f is not None:   # a full disk while writing an export or a kept file
            return answer(request, f.status, f"{f.title}：服务器无法写出临时文件，请稍后再试。已保存的数据完好。",
                          fault=f.kind)
        return _internal(request, exc)

    def _internal(request: Request, exc: BaseException):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
        return answer(request, 500, "服务器内部错误：请求未能完成。请稍后重试；如果一再出现，请把操作步骤告诉管理员。")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        f = fault_of(exc)
        if f is not None:
            return fault_answer(request, f)
        return _internal(request, exc)

    return app
