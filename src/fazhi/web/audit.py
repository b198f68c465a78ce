"""The audit log (``web_audit``): who did what, when, from where.

Recorded: logins (and failed ones, with the name as typed), logouts, API
tokens issued and revoked, uploads (and refused ones), report deletions,
exports, corrections, and every account change — from the web application
and from ``fazhi user`` on the server's command line (actor: the operating
system user, address "命令行").  A record is written in the same transaction
as the change it describes where there is one (a deletion and its record
commit together).  Read by administrators: the 审计日志 page and
``fazhi user audit``.

SQLAlchemy only: the CLI reads and writes it without the web libraries.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Connection, Engine

from ..corpus.store import now
from .tables import audit as audit_t

ACTIONS = {
    "login": "登录",
    "login.failed": "登录失败",
    "logout": "退出登录",
    "token.create": "生成API令牌",
    "token.revoke": "作废API令牌",
    "upload": "上传报告",
    "upload.refused": "上传被拒",
    "report.delete": "删除报告",
    "report.restore": "恢复已撤回的报告",
    "report.accept": "确认为本类报告",
    "rules.attach": "附加规则文件",
    "export": "导出",
    "correction": "更正",
    "user.add": "添加用户",
    "user.delete": "删除用户",
    "user.role": "修改角色",
    "user.password": "重设密码",
    "account.password": "修改本人密码",
    "roster.import": "导入应报单位名单",
    "roster.assign": "指定报告单位",
}
CLI_ADDRESS = "命令行"


def cli_actor() -> str:
    try:
        return f"{getpass.getuser()}"[:64]
    except Exception:   # no user name for this uid (a container)
        return "命令行"


def _clip(s, n: int):
    return None if s is None else str(s)[:n]


def record(db: Engine | Connection, action: str, *, actor: str | None = None, actor_id: int | None = None,
           address: str | None = None, target: str | None = None, detail: str | None = None,
           ok: bool = True) -> None:
    """Write one record (in ``db``'s transaction when a Connection is given)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = {"at": now(), "actor": _clip(actor, 64), "actor_id": actor_id, "address": _clip(address, 64),
           "action": action, "target": _clip(target, 500), "detail": _clip(detail, 1000), "ok": bool(ok)}
    if isinstance(db, Connection):
        db.execute(insert(audit_t), row)
        return
    with db.begin() as c:
        c.execute(insert(audit_t), row)


def record_cli(db, action: str, **kw) -> None:
    record(db, action, actor=cli_actor(), address=CLI_ADDRESS, **kw)


@dataclass
class Query:
    actor: str | None = None
    action: str | None = None
    ok: bool | None = None
    page: int = 1
    per_page: int = 100


def query(engine: Engine, q: Query | None = None) -> tuple[list[dict], int]:
    """Records, newest first, and their total."""
    q = q or Query()
    a = audit_t.c
    conds = []
    if q.actor:
        conds.append(a.actor == q.actor)
    if q.action:   # "login" also finds "login.failed"; "user" every account change
        conds.append(or_(a.action == q.action, a.action.like(q.action + ".%")))
    if q.ok is not None:
        conds.append(a.ok == q.ok)
    sel = select(audit_t).order_by(a.id.desc()).limit(q.per_page).offset((q.page - 1) * q.per_page)
    cnt = select(func.count()).select_from(audit_t)
    for c in conds:
        sel, cnt = sel.where(c), cnt.where(c)
    with engine.connect() as conn:
        total = conn.execute(cnt).scalar_one()
        rows = [dict(m, action_label=ACTIONS.get(m["action"], m["action"])) for m in conn.execute(sel).mappings()]
    return rows, total
