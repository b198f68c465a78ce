"""Settings of the web application, from arguments and the environment.

| setting | environment | default |
|---|---|---|
| db | FAZHI_DB | ./fazhi.db |
| data_dir (kept uploads) | FAZHI_DATA_DIR | beside the SQLite file: ``<name>-files/``; else ./fazhi-files |
| max_bytes (one upload) | FAZHI_MAX_BYTES | 30 MB |
| secret (signs session cookies) | FAZHI_SECRET | generated once, stored in the database |
| admin_user / admin_password | FAZHI_ADMIN_USER / FAZHI_ADMIN_PASSWORD | admin / a one-time random password printed once |
| secure_cookies (HTTPS only) | FAZHI_SECURE_COOKIES=1 | off (plain http on an office network) |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
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
    login_failures: int = 10          # failed logins per user name ...
    login_window: int = 600           # ... within this many seconds -> locked for the rest of it

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
        if env.get("FAZHI_MAX_BYTES"):
            kw["max_bytes"] = int(env["FAZHI_MAX_BYTES"])
        kw.update({k: v for k, v in over.items() if v is not None})
        return cls(**kw)
