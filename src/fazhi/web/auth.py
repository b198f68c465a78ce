"""Authentication in one place: accounts, passwords, sessions, API tokens, CSRF,
and the request-level helpers the pages and the API use (``current_user``,
``require_user``, ``require_admin``, ``csrf_guard``, ``login_attempt``).

- Passwords are hashed with argon2id (argon2-cffi); a hash made with older
  parameters is upgraded on the next login.  Hashing runs in a bounded pool
  (``pools.BoundedPool``) of its own, never in the pool that serves pages;
  an unknown user name costs the same hash as a known one.
- Roles: ``admin`` (upload, delete, export, manage users) and ``viewer`` (read only).
- Sessions: the signed cookie holds the user id and the account's
  ``session_version``; logout, a password change and a password reset bump
  the version, so every older cookie of that account stops working.
- API tokens (``fz_…``) are shown once; only their sha256 is stored; a
  password change or reset revokes the account's tokens.
- Logins are throttled per address, per user name and per trusted browser
  (``throttle.LoginThrottle``) and every attempt is in the audit log.
- The first start creates the administrator from ``FAZHI_ADMIN_PASSWORD`` or
  with a random password that is printed once; there is no built-in password.

Only SQLAlchemy and argon2 are imported at module level: ``fazhi user …`` on
the command line uses the account functions without the web framework.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import sys
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..corpus.store import now
from . import audit

try:  # the request type of the helpers below (FastAPI reads it to inject the request)
    from starlette.requests import Request
except ModuleNotFoundError:  # pragma: no cover - the CLI without the web libraries
    Request = object
from .tables import settings as settings_t
from .tables import tokens as tokens_t
from .tables import users as users_t

ROLES = {"admin": "管理员", "viewer": "只读", "unit": "报送单位"}
USERNAME = re.compile(r"^[\w.\-@]{2,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
TOKEN_PREFIX = "fz_"
DEVICE_COOKIE = "fazhi_device"
DEVICE_DAYS = 180

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not a password: used to spend the same time on unknown users")


class AuthError(ValueError):
    """A refused account operation; ``str(err)`` is a Chinese message."""


@dataclass
class User:
    id: int
    username: str
    role: str
    password_hash: str = ""
    session_version: int = 0
    via_token: bool = False
    unit: str | None = None   # role ``unit``: the roster unit it reports for

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _user(row) -> User:
    return User(row.id, row.username, row.role, row.password_hash, row.session_version or 0,
                unit=getattr(row, "unit", None))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"密码过长（最多 {MAX_PASSWORD} 个字符）")


def check_username(username: str) -> str:
    u = (username or "").strip()
    if not USERNAME.match(u):
        raise AuthError("用户名应为 2–32 个字符（中文、字母、数字或 . _ - @）")
    return u


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"未知角色“{role}”；可用：admin（管理员）、viewer（只读）、unit（报送单位）")
    return role


# ------------------------------------------------------------------ users
def count_users(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(users_t)).scalar_one()


def create_user(engine: Engine, username: str, password: str, role: str = "viewer", *,
                password_hash: str | None = None, unit: str | None = None) -> User:
    """A new account (``password_hash`` when the caller hashed it already, in a pool);
    a ``unit`` account names the roster unit it reports for."""
    username = check_username(username)
    check_password_rules(password)
    check_role(role)
    unit = "".join((unit or "").split())[:200] or None
    if role == "unit" and not unit:
        raise AuthError("报送单位账号需要指定单位（--unit 某某街道）")
    if role != "unit":
        unit = None
    h = password_hash or hash_password(password)
    try:
        with engine.begin() as c:
            uid = c.execute(insert(users_t).values(username=username, password_hash=h, role=role, unit=unit,
                                                   created_at=now(), session_version=0)).inserted_primary_key[0]
    except IntegrityError:
        raise AuthError(f"用户名“{username}”已存在") from None
    return get_user(engine, uid)


def get_user(engine: Engine, uid: int) -> User | None:
    if not isinstance(uid, int) or not 0 < uid < 2 ** 31:
        return None
    with engine.connect() as c:
        row = c.execute(select(users_t).where(users_t.c.id == uid)).first()
    return _user(row) if row else None


def get_user_by_name(engine: Engine, username: str) -> User | None:
    with engine.connect() as c:
        row = c.execute(select(users_t).where(users_t.c.username == (username or "").strip()[:64])).first()
    return _user(row) if row else None


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as c:
        rows = c.execute(select(users_t.c.id, users_t.c.username, users_t.c.role, users_t.c.created_at,
                                users_t.c.last_login).order_by(users_t.c.id)).mappings().all()
    return [dict(r, role_label=ROLES.get(r["role"], r["role"])) for r in rows]


def _admins(c) -> int:
    return c.execute(select(func.count()).select_from(users_t).where(users_t.c.role == "admin")).scalar_one()


def set_password(engine: Engine, uid: int, password: str, *, password_hash: str | None = None,
                 conn=None) -> int:
    """New password: every session of the account ends (its session version moves on)
    and every API token of the account is revoked.  Returns the tokens revoked."""
    check_password_rules(password)
    h = password_hash or hash_password(password)

    def run(c):
        n = c.execute(update(users_t).where(users_t.c.id == uid)
                      .values(password_hash=h, session_version=users_t.c.session_version + 1)).rowcount
        if not n:
            raise AuthError("用户不存在")
        return c.execute(delete(tokens_t).where(tokens_t.c.user_id == uid)).rowcount

    if conn is not None:
        return run(conn)
    with engine.begin() as c:
        return run(c)


def end_sessions(engine: Engine, uid: int) -> None:
    """Every session cookie of this account stops working (logout)."""
    with engine.begin() as c:
        c.execute(update(users_t).where(users_t.c.id == uid)
                  .values(session_version=users_t.c.session_version + 1))


def set_role(engine: Engine, uid: int, role: str, *, conn=None) -> None:
    check_role(role)

    def run(c):
        row = c.execute(select(users_t.c.role, users_t.c.unit).where(users_t.c.id == uid)).first()
        if row is None:
            raise AuthError("用户不存在")
        if (role == "unit") != (row.role == "unit") and row.role != role:
            raise AuthError("报送单位账号与其他角色不能互换：请新建账号（报送单位账号需指定单位）")
        if row.role == "admin" and role != "admin" and _admins(c) <= 1:
            raise AuthError("不能取消最后一个管理员的管理员角色")
        c.execute(update(users_t).where(users_t.c.id == uid).values(role=role))

    if conn is not None:
        return run(conn)
    with engine.begin() as c:
        run(c)


def delete_user(engine: Engine, uid: int, *, conn=None) -> None:
    def run(c):
        row = c.execute(select(users_t.c.role).where(users_t.c.id == uid)).first()
        if row is None:
            raise AuthError("用户不存在")
        if row.role == "admin" and _admins(c) <= 1:
            raise AuthError("不能删除最后一个管理员")
        c.execute(delete(tokens_t).where(tokens_t.c.user_id == uid))
        c.execute(delete(users_t).where(users_t.c.id == uid))

    if conn is not None:
        return run(conn)
    with engine.begin() as c:
        run(c)


def verify_password(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(right?, a new hash when the stored one has old parameters).  CPU-bound: run it
    in the hashing pool.  ``None`` (no such user) costs the same as a real hash."""
    password = (password or "")[:MAX_PASSWORD]
    if password_hash is None:
        try:
            _hasher.verify(_DUMMY, password)
        except (VerificationError, InvalidHashError):
            pass
        return False, None
    try:
        _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (hash_password(password) if _hasher.check_needs_rehash(password_hash) else None)


def record_login(engine: Engine, user: User, new_hash: str | None = None) -> None:
    vals = {"last_login": now()}
    if new_hash:
        vals["password_hash"] = user.password_hash = new_hash
    with engine.begin() as c:
        c.execute(update(users_t).where(users_t.c.id == user.id).values(**vals))


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user when the password is right, else None (same work either way).
    Synchronous: for the command line and tests; the web uses ``login_attempt``."""
    user = get_user_by_name(engine, username)
    ok, new_hash = verify_password(user.password_hash if user else None, password)
    if not ok or user is None:
        return None
    record_login(engine, user, new_hash)
    return user


def ensure_admin(engine: Engine, username: str = "admin", password: str | None = None) -> str | None:
    """Create the first administrator when there is no user yet.

    With ``password`` (from FAZHI_ADMIN_PASSWORD) that is its password; without,
    a random one is generated and returned so that the caller prints it once.
    Returns None when users already exist or the password was given."""
    if count_users(engine):
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    try:
        u = create_user(engine, username, password, "admin")
    except AuthError:
        if count_users(engine):  # another process created it first
            return None
        raise
    audit.record(engine, "user.add", actor="fazhi serve", address=audit.CLI_ADDRESS, target=u.username,
                 detail="首次启动创建的管理员")
    return generated


# ------------------------------------------------------------------ API tokens
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(engine: Engine, uid: int, name: str = "") -> str:
    """A new API token for user ``uid``; the plain token is returned once, never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as c:
        c.execute(insert(tokens_t).values(user_id=uid, name=(name or "").strip()[:100] or "API",
                                          token_hash=_token_hash(token), prefix=token[:9], created_at=now()))
    return token


def user_by_token(engine: Engine, token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    h = _token_hash(token)
    with engine.connect() as c:
        row = c.execute(select(users_t, tokens_t.c.id.label("token_id"), tokens_t.c.last_used)
                        .join(tokens_t, tokens_t.c.user_id == users_t.c.id)
                        .where(tokens_t.c.token_hash == h)).first()
    if row is None:
        return None
    stamp = now()
    if (row.last_used or "")[:16] != stamp[:16]:  # at most one write a minute per token
        try:
            with engine.begin() as c:
                c.execute(update(tokens_t).where(tokens_t.c.id == row.token_id).values(last_used=stamp))
        except Exception as e:  # a full disk must not stop a script from reading
            from ..corpus.faults import classify

            if classify(e) is None:
                raise
    u = _user(row)
    u.via_token = True
    return u


def list_tokens(engine: Engine, uid: int | None = None) -> list[dict]:
    q = (select(tokens_t.c.id, tokens_t.c.name, tokens_t.c.prefix, tokens_t.c.created_at, tokens_t.c.last_used,
                users_t.c.username).join(users_t, users_t.c.id == tokens_t.c.user_id).order_by(tokens_t.c.id))
    if uid is not None:
        q = q.where(tokens_t.c.user_id == uid)
    with engine.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]


def revoke_token(engine: Engine, token_id: int, uid: int | None = None) -> bool:
    q = delete(tokens_t).where(tokens_t.c.id == token_id)
    if uid is not None:
        q = q.where(tokens_t.c.user_id == uid)
    with engine.begin() as c:
        return c.execute(q).rowcount > 0


# ------------------------------------------------------------------ secret, CSRF
def session_secret(engine: Engine, given: str | None = None) -> str:
    """FAZHI_SECRET, else the secret stored in the database (generated on first use)."""
    if given:
        return given
    q = select(settings_t.c.value).where(settings_t.c.key == "session_secret")
    with engine.connect() as c:
        v = c.execute(q).scalar()
    if v:
        return v
    try:
        with engine.begin() as c:
            c.execute(insert(settings_t).values(key="session_secret", value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process stored one first
    with engine.connect() as c:
        return c.execute(q).scalar_one()


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# ================================================================== request level
class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "权限不足：此操作需要管理员账号"):
        self.message = message


class LoginRefused(Exception):
    """A refused login: ``status`` 401 / 429 / 503, ``message`` Chinese, ``retry_after`` seconds."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        self.status, self.message, self.retry_after = status, message, retry_after


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def client_address(request: Request) -> str:
    """The client's address (uvicorn applies X-Forwarded-For from trusted proxies)."""
    c = request.client
    return (c.host if c else "") or "unknown"


def current_user(request: Request) -> User | None:
    """The user of this request: an API token, else the session (checked each time
    against the account's session version)."""
    if "user" in request.scope.get("state", {}):
        return request.state.user
    engine = request.app.state.engine
    user = None
    h = request.headers.get("authorization", "")
    if h[:7].lower() == "bearer ":
        user = user_by_token(engine, h[7:].strip())
        if user is None:
            request.state.user = None
            raise LoginRequired()
    else:
        uid = request.session.get("uid")
        if uid is not None:
            user = get_user(engine, uid if isinstance(uid, int) else -1)
            if user is None or request.session.get("sv") != user.session_version:
                request.session.clear()
                user = None
    request.state.user = user
    return user


# what a ``unit`` account may open (everything else is refused, whatever the page):
# its own submissions page, its own reports' cards, its account, logging out
UNIT_PATHS = re.compile(r"^/(?:|mine(?:/upload)?|card\.css|account(?:/password)?|logout|reports/\d+)$")


def require_user(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    if user.role == "unit" and not (UNIT_PATHS.match(request.url.path) and not user.via_token):
        raise Forbidden("报送单位账号只能报送和查看本单位的报告")
    return user


def require_admin(request: Request) -> User:
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden()
    return user


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = new_csrf()
    return tok


CSRF_EXEMPT = {"/api/token"}


async def csrf_guard(request: Request) -> None:
    """Every unsafe request that relies on the session cookie carries the session's CSRF token."""
    from starlette.exceptions import HTTPException

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
    if not csrf_ok(request.session.get("csrf"), given if isinstance(given, str) else None):
        if is_api(request):
            raise HTTPException(403, "CSRF 校验失败：请求缺少有效的 X-CSRF-Token（请刷新页面后重试）")
        raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请返回刷新页面后重试")


# ------------------------------------------------------------------ trusted browsers
def _device_signer(request: Request):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(request.app.state.secret, salt="fazhi-device")


def device_of(request: Request, username: str) -> tuple[int, str] | None:
    """(user id, nonce) of this browser's device cookie when it was issued for ``username``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not username or len(raw) > 400:
        return None
    from itsdangerous import BadSignature

    try:
        d = _device_signer(request).loads(raw, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    if (not isinstance(d, dict) or d.get("name") != username.lower() or not isinstance(d.get("u"), int)
            or not isinstance(d.get("n"), str)):
        return None
    return d["u"], d["n"]


def set_device_cookie(request: Request, response, user: User, nonce: str | None = None) -> None:
    value = _device_signer(request).dumps({"u": user.id, "name": user.username.lower(),
                                           "n": nonce or secrets.token_urlsafe(12)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies, path="/login")


# ------------------------------------------------------------------ logging in
def audit_quietly(engine, action: str, **kw) -> None:
    """A login proceeds when the disk is full (reading still works); the record that
    could not be written is reported on the server's terminal."""
    try:
        audit.record(engine, action, **kw)
    except Exception as e:
        from ..corpus.faults import classify

        f = classify(e)
        if f is None:
            raise
        print(f"fazhi：审计记录未能写入（{action} {kw.get('actor')}）：{f}", file=sys.stderr, flush=True)


async def login_attempt(request: Request, username: str, password: str, *, via: str = "网页") -> tuple[User, str | None]:
    """Check a login: (user, this browser's device nonce or None), or ``LoginRefused``."""
    from starlette.concurrency import run_in_threadpool

    from .pools import Busy

    app = request.app
    eng = app.state.engine
    throttle = app.state.throttle
    name = (username or "").strip()[:64]
    addr = client_address(request)

    async def refuse_if_waiting(keys):
        wait = throttle.wait(keys)
        if wait > 0:   # held back a moment (no hot loop), then refused without checking the password
            await app.state.tarpit_sleep(min(wait, app.state.settings.login_tarpit))
            secs = max(1, math.ceil(throttle.wait(keys)))
            raise LoginRefused(429, f"登录尝试过于频繁，请 {secs} 秒后再试", retry_after=secs)

    # first what needs no database: a flood from one address costs next to nothing
    device = device_of(request, name)
    await refuse_if_waiting([("device", device[1])] if device else [("addr", addr)])
    user = await run_in_threadpool(get_user_by_name, eng, name)
    nonce = device[1] if device and user is not None and user.id == device[0] else None
    if nonce:
        keys = [("device", nonce)]
    else:
        keys = [("addr", addr), ("user", name.lower(), user.session_version if user else 0)]
        await refuse_if_waiting(keys)
    pool = app.state.trusted_hash_pool if nonce else app.state.hash_pool
    share = None if nonce else ("addr", addr)   # one address may hold only a few places in the queue

    async def busy():
        await app.state.tarpit_sleep(app.state.settings.login_tarpit / 2)   # no hot loop of refusals
        return LoginRefused(503, "登录请求过多，服务器正忙，请稍后再试", retry_after=5)

    if share is not None and not app.state.hash_shares.take(share):
        raise await busy()
    try:
        ok, new_hash = await pool.run(verify_password, user.password_hash if user else None, password)
    except Busy:
        raise await busy() from None
    finally:
        if share is not None:
            app.state.hash_shares.give(share)
    if not ok or user is None:
        throttle.failed(keys)
        await run_in_threadpool(audit_quietly, eng, "login.failed", actor=name or "（空）", address=addr,
                                detail=f"{via}；" + ("用户不存在" if user is None else "密码不正确"), ok=False)
        raise LoginRefused(401, "用户名或密码不正确")
    if nonce:
        throttle.clear(keys)

    def after():
        try:
            record_login(eng, user, new_hash)
        except Exception as e:
            from ..corpus.faults import classify

            if classify(e) is None:
                raise
        audit_quietly(eng, "login", actor=user.username, actor_id=user.id, address=addr, detail=via)

    await run_in_threadpool(after)
    return user, nonce


def start_session(request: Request, user: User) -> None:
    request.session.clear()
    request.session.update(uid=user.id, sv=user.session_version, csrf=new_csrf())


def refresh_session(request: Request, engine: Engine, uid: int) -> None:
    """Keep this session valid after its own account's version moved on (own password change)."""
    u = get_user(engine, uid)
    if u is not None:
        request.session["sv"] = u.session_version
