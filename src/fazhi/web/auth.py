"""Accounts, passwords, API tokens, the session secret and CSRF tokens.

- Passwords are hashed with argon2id (argon2-cffi); a hash made with older
  parameters is upgraded on the next login.
- Roles: ``admin`` (upload, delete, export, manage users) and ``viewer`` (read only).
- API tokens (``fz_…``) are shown once; only their sha256 is stored.
- The session cookie is signed with ``FAZHI_SECRET`` or with a random secret
  generated on first start and kept in ``web_settings``.
- The first start creates the administrator from ``FAZHI_ADMIN_PASSWORD`` or
  with a random password that is printed once; there is no built-in password.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..corpus.store import now
from .tables import settings as settings_t
from .tables import tokens as tokens_t
from .tables import users as users_t

ROLES = {"admin": "管理员", "viewer": "只读"}
USERNAME = re.compile(r"^[\w.\-@]{2,32}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "fz_"

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
    via_token: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def fingerprint(self) -> str:
        """Changes with the password: sessions made before a password change end."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def _user(row) -> User:
    return User(row.id, row.username, row.role, row.password_hash)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > 256:
        raise AuthError("密码过长（最多 256 个字符）")


def check_username(username: str) -> str:
    u = (username or "").strip()
    if not USERNAME.match(u):
        raise AuthError("用户名应为 2–32 个字符（中文、字母、数字或 . _ - @）")
    return u


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"未知角色“{role}”；可用：admin（管理员）、viewer（只读）")
    return role


# ------------------------------------------------------------------ users
def count_users(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(users_t)).scalar_one()


def create_user(engine: Engine, username: str, password: str, role: str = "viewer") -> User:
    username = check_username(username)
    check_password_rules(password)
    check_role(role)
    try:
        with engine.begin() as c:
            uid = c.execute(insert(users_t).values(username=username, password_hash=hash_password(password),
                                                   role=role, created_at=now())).inserted_primary_key[0]
    except IntegrityError:
        raise AuthError(f"用户名“{username}”已存在") from None
    return get_user(engine, uid)


def get_user(engine: Engine, uid: int) -> User | None:
    with engine.connect() as c:
        row = c.execute(select(users_t).where(users_t.c.id == uid)).first()
    return _user(row) if row else None


def get_user_by_name(engine: Engine, username: str) -> User | None:
    with engine.connect() as c:
        row = c.execute(select(users_t).where(users_t.c.username == username)).first()
    return _user(row) if row else None


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as c:
        rows = c.execute(select(users_t.c.id, users_t.c.username, users_t.c.role, users_t.c.created_at,
                                users_t.c.last_login).order_by(users_t.c.id)).mappings().all()
    return [dict(r, role_label=ROLES.get(r["role"], r["role"])) for r in rows]


def _admins(c) -> int:
    return c.execute(select(func.count()).select_from(users_t).where(users_t.c.role == "admin")).scalar_one()


def set_password(engine: Engine, uid: int, password: str) -> None:
    check_password_rules(password)
    with engine.begin() as c:
        n = c.execute(update(users_t).where(users_t.c.id == uid)
                      .values(password_hash=hash_password(password))).rowcount
    if not n:
        raise AuthError("用户不存在")


def set_role(engine: Engine, uid: int, role: str) -> None:
    check_role(role)
    with engine.begin() as c:
        row = c.execute(select(users_t.c.role).where(users_t.c.id == uid)).first()
        if row is None:
            raise AuthError("用户不存在")
        if row.role == "admin" and role != "admin" and _admins(c) <= 1:
            raise AuthError("不能取消最后一个管理员的管理员角色")
        c.execute(update(users_t).where(users_t.c.id == uid).values(role=role))


def delete_user(engine: Engine, uid: int) -> None:
    with engine.begin() as c:
        row = c.execute(select(users_t.c.role).where(users_t.c.id == uid)).first()
        if row is None:
            raise AuthError("用户不存在")
        if row.role == "admin" and _admins(c) <= 1:
            raise AuthError("不能删除最后一个管理员")
        c.execute(delete(tokens_t).where(tokens_t.c.user_id == uid))
        c.execute(delete(users_t).where(users_t.c.id == uid))


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The user when the password is right, else None (same work either way)."""
    user = get_user_by_name(engine, (username or "").strip())
    if user is None:
        try:
            _hasher.verify(_DUMMY, password or "")
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    vals = {"last_login": now()}
    if _hasher.check_needs_rehash(user.password_hash):
        vals["password_hash"] = user.password_hash = hash_password(password)
    with engine.begin() as c:
        c.execute(update(users_t).where(users_t.c.id == user.id).values(**vals))
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
        create_user(engine, username, password, "admin")
    except AuthError:
        if count_users(engine):  # another process created it first
            return None
        raise
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
        with engine.begin() as c:
            c.execute(update(tokens_t).where(tokens_t.c.id == row.token_id).values(last_used=stamp))
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


class LoginThrottle:
    """At most ``limit`` failed logins per user name in ``window`` seconds (in memory)."""

    def __init__(self, limit: int = 10, window: int = 600):
        self.limit, self.window = limit, window
        self._fails: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, t: float) -> deque:
        q = self._fails[key]
        while q and q[0] < t - self.window:
            q.popleft()
        return q

    def wait(self, username: str) -> int:
        """Seconds until this user name may try again (0: now)."""
        key = (username or "").strip().lower()
        t = time.monotonic()
        with self._lock:
            q = self._prune(key, t)
            if len(q) >= self.limit:
                return max(1, int(q[0] + self.window - t))
        return 0

    def failed(self, username: str) -> None:
        key = (username or "").strip().lower()
        with self._lock:
            self._prune(key, time.monotonic()).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop((username or "").strip().lower(), None)
