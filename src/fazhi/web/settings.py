"""Settings of the web application, from arguments and the environment.

| setting | environment | default |
|---|---|---|
| db | FAZHI_DB | ./fazhi.db |
| data_dir (kept uploads) | FAZHI_DATA_DIR | beside the SQLite file: ``<name>-files/``; else ./fazhi-files |
| max_bytes (one upload) | FAZHI_MAX_BYTES | 30 MB |
| secret (signs session cookies) | FAZHI_SECRET | generated once, stored in the database |
| admin_user / admin_password | FAZHI_ADMIN_USER / FAZHI_ADMIN_PASSWORD | admin / a one-time random password printed once |
| secure_cookies (HTTPS only) | FAZHI_SECURE_COOKIES=1 | off (plain http on an office network) |
| upload_workers (uploads analysed and stored at once) | FAZHI_UPLOAD_WORKERS | CPU cores |
| upload_queue / upload_queue_mb (waiting uploads) | FAZHI_UPLOAD_QUEUE / FAZHI_UPLOAD_QUEUE_MB | 64 / 256 MB, then 503 |
| hash_workers / hash_queue (argon2 at once / waiting) | FAZHI_HASH_WORKERS / FAZHI_HASH_QUEUE | 1 / 8, then 503 |
| max_requests (requests in progress) | FAZHI_MAX_REQUESTS | 200, then 503 |
| header_timeout / body_timeout / write_timeout (s) | FAZHI_HEADER_TIMEOUT / FAZHI_BODY_TIMEOUT / FAZHI_WRITE_TIMEOUT | 30 / 120 / 60 |
| copy_wait (s a report or unit page waits for its copy comparison, then shows the last one or 比对中) | FAZHI_COPY_WAIT | 0.2 |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest import DEFAULT_MAX_BYTES


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def default_data_dir(db: str | None) -> Path:
    s = str(db) if db else "fazhi.db"
    if "://" in s and not s.startswith("sqlite:///"):
        return Path("fazhi-files")
    p = Path(s.removeprefix("sqlite:///")).expanduser()
    return p.with_name(p.stem + "-files")


def _copy_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("FAZHI_COPY_WAIT", "") or 0.2))
    except ValueError:
        raise ValueError(f"环境变量 FAZHI_COPY_WAIT 应为数字：“{os.environ['FAZHI_COPY_WAIT']}”") from None


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class Settings:
    db: str | None = None
    data_dir: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    secret: str | None = None
    admin_user: str = "admin"
    admin_password: str | None = None
    secure_cookies: bool = False
    keep_files: bool = True
    session_hours: float = 12.0
    # login throttling (throttle.LoginThrottle): free failures per key, then 1, 2, 4 … s up to the cap
    login_free: dict = field(default_factory=lambda: {"addr": 10, "device": 10, "user": 5})
    login_delay_cap: float = 300.0
    login_window: float = 900.0       # a key is forgotten this long after its last failure
    login_tarpit: float = 1.0         # a refused login (throttled, pool full) is answered after this long
    hash_workers: int = 1             # argon2 verifications at once (64 MiB each) ...
    hash_queue: int = 8               # ... and waiting; more: 503
    upload_workers: int = field(default_factory=_cores)
    upload_queue: int = 64
    upload_queue_mb: int = 256
    max_requests: int = 200
    header_timeout: float = 30.0      # a request's headers must arrive within this
    body_timeout: float = 120.0       # and its body within this
    write_timeout: float = 60.0       # a client that stops reading the answer for this long is cut
    copy_wait: float = field(default_factory=_copy_wait)   # queries.copies_for: then the last result / 比对中

    def __post_init__(self):
        if self.data_dir is None:
            self.data_dir = default_data_dir(self.db)
        self.data_dir = Path(self.data_dir)

    @classmethod
    def from_env(cls, **over) -> "Settings":
        env = os.environ
        kw = {
            "db": env.get("FAZHI_DB") or None,
            "data_dir": env.get("FAZHI_DATA_DIR") or None,
            "secret": env.get("FAZHI_SECRET") or None,
            "admin_user": env.get("FAZHI_ADMIN_USER") or "admin",
            "admin_password": env.get("FAZHI_ADMIN_PASSWORD") or None,
            "secure_cookies": _flag("FAZHI_SECURE_COOKIES"),
        }
        for name, key, conv in (("FAZHI_MAX_BYTES", "max_bytes", int),
                                ("FAZHI_UPLOAD_WORKERS", "upload_workers", int),
                                ("FAZHI_UPLOAD_QUEUE", "upload_queue", int),
                                ("FAZHI_UPLOAD_QUEUE_MB", "upload_queue_mb", int),
                                ("FAZHI_HASH_WORKERS", "hash_workers", int),
                                ("FAZHI_HASH_QUEUE", "hash_queue", int),
                                ("FAZHI_MAX_REQUESTS", "max_requests", int),
                                ("FAZHI_HEADER_TIMEOUT", "header_timeout", float),
                                ("FAZHI_BODY_TIMEOUT", "body_timeout", float),
                                ("FAZHI_WRITE_TIMEOUT", "write_timeout", float)):
            if env.get(name):
                try:
                    kw[key] = conv(env[name])
                except ValueError:
                    raise ValueError(f"环境变量 {name} 应为数字：“{env[name]}”") from None
        kw.update({k: v for k, v in over.items() if v is not None})
        return cls(**kw)
