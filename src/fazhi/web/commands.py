"""``fazhi serve`` (the web application) and ``fazhi user`` (accounts from the terminal).

Loaded by ``fazhi.cli`` by name when one of them runs (``cli.LAZY_COMMANDS``); the
web libraries are imported only when a command runs, so the other commands stay fast and work without them.
Account changes made here are in the audit log (actor: the operating-system
user, address "命令行"); ``user list`` and ``user audit`` only read, so they
work on a read-only copy of the database."""
from __future__ import annotations

import json
import sys

import click
from rich.markup import escape

from ..clikit import DB_OPTION, err


def _open(db, write: bool = True):
    from ..corpus import db as dbm

    return dbm.connect(db, write=write)


def _fail(msg: str, code: int = 2):
    err.print(f"[red]错误：[/red]{escape(str(msg))}")
    sys.exit(code)


@click.command("serve")
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；0.0.0.0 表示对局域网开放（请放在 HTTPS 反向代理之后）")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="端口")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="FAZHI_DATA_DIR",
              help="上传原文件的保存目录（默认在数据库文件旁：<库名>-files/）")
@click.option("--max-size", type=click.FloatRange(0.001, 2048), default=None, help="单个上传文件大小上限（MB），默认 30")
@click.option("--secure-cookies", is_flag=True, envvar="FAZHI_SECURE_COOKIES",
              help="会话 Cookie 只经 HTTPS 发送（在 HTTPS 反向代理之后运行时使用）")
@click.option("--no-keep-files", is_flag=True, help="不保存上传的原文件（只保存分析结果）")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False), default=None,
              help="本地规则文件：附加到报告库（同 fazhi rules attach），上传、报送情况和导出都按它检查")
def serve(db, host, port, data_dir, max_size, secure_cookies, no_keep_files, rules_file):
    """启动网页版：上传检查、报告库、统计看板、单位、导出，以及 /api/ 接口。

    首次启动时创建管理员账号 admin：密码取环境变量 FAZHI_ADMIN_PASSWORD，
    未设置时随机生成并只在此显示一次。"""
    try:
        import uvicorn

        from . import server
        from .app import create_app
        from .settings import Settings
    except ModuleNotFoundError as e:
        _fail(f"缺少网页版依赖（{e.name}），请重新安装 fazhi")
    over = {"db": db, "data_dir": data_dir, "secure_cookies": secure_cookies or None}
    if max_size:
        over["max_bytes"] = int(max_size * 1048576)
    if no_keep_files:
        over["keep_files"] = False
    from .auth import AuthError

    try:
        settings = Settings.from_env(**over)
    except ValueError as e:
        _fail(str(e))
    try:
        app = create_app(settings, announce=lambda m: err.print(f"[bold yellow]{escape(m)}[/bold yellow]"))
    except AuthError as e:  # e.g. FAZHI_ADMIN_PASSWORD shorter than 8 characters
        _fail(f"无法创建管理员账号：{e}")
    shown = f"[{host}]" if ":" in host else host
    from ..corpus import db as dbm
    from .aggregates import warm_in_background

    warm_in_background(app.state.engine)   # the pages' aggregates: read once now, not on the first view

    if rules_file:
        from ..corpus.commands_rules import attach_file
        from ..rules import RuleError
        from .audit import cli_actor

        try:
            a, n = attach_file(app.state.engine, rules_file, cli_actor())
        except RuleError as e:
            _fail(str(e))
        err.print(escape(f"适用规则：{a.name}（{a.sha256[:12]}）" + (f"；重新检查了 {n} 份报告" if n else "")))

    err.print(escape(f"fazhi 网页版：http://{shown}:{port}/   数据库：{dbm.describe(settings.db)}   （Ctrl-C 停止）"))
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.secure_cookies:
        err.print("[yellow]提示：[/yellow]对局域网开放时，建议放在 HTTPS 反向代理之后并使用 --secure-cookies")
    uvicorn.Server(server.config(app, host, port, settings)).run()


@click.group("user")
def user_group():
    """网页版账号：添加、列出、重设密码、删除、生成 API 令牌、查看审计日志。"""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "viewer", "unit"]), default="viewer", show_default=True,
              help="admin：管理员（上传、删除、导出、管理用户）；viewer：只读；unit：报送单位（只能报送和查看本单位的报告）")
@click.option("--unit", default=None, help="与 --role unit 合用：这个账号代表的应报单位（名单中的名称）")
@click.password_option("--password", prompt="密码", confirmation_prompt="再输入一次", help="密码（至少 8 个字符）")
@DB_OPTION
def user_add(username, role, unit, password, db):
    """添加账号。例：fazhi user add 某某街道司法所 --role unit --unit 某某街道"""
    from . import audit
    from .auth import AuthError, create_user

    if unit and role != "unit":
        _fail(AuthError("--unit 只用于报送单位账号（--role unit）"))
    eng = _open(db)
    try:
        u = create_user(eng, username, password, role, unit=unit)
    except AuthError as e:
        _fail(e)
    audit.record_cli(eng, "user.add", target=u.username, detail=u.role_label + (f"：{u.unit}" if u.unit else ""))
    click.echo(f"已添加用户 {u.username}（{u.role_label}" + (f"：{u.unit}" if u.unit else "") + "）")


@user_group.command("list")
@DB_OPTION
def user_list(db):
    """列出账号。"""
    from .auth import list_users

    for u in list_users(_open(db, write=False)):
        click.echo(f"{u['id']}\t{u['username']}\t{u['role_label']}\t最近登录：{u['last_login'] or '—'}")


def _user_or_exit(db, username):
    """The database and the named account, or a Chinese error and exit 2."""
    from .auth import get_user_by_name

    eng = _open(db)
    u = get_user_by_name(eng, username)
    if u is None:
        _fail(f"没有用户 {username}")
    return eng, u


@user_group.command("passwd")
@click.argument("username")
@click.password_option("--password", prompt="新密码", confirmation_prompt="再输入一次", help="新密码")
@DB_OPTION
def user_passwd(username, password, db):
    """重设密码（例如忘记了管理员密码）：该账号的会话全部结束、API 令牌全部作废、登录限制解除。"""
    from . import audit
    from .auth import AuthError, set_password

    eng, u = _user_or_exit(db, username)
    try:
        with eng.begin() as c:
            n = set_password(eng, u.id, password, conn=c)
            audit.record_cli(c, "user.password", target=u.username,
                             detail=f"命令行重设；会话已结束，作废 API 令牌 {n} 个，登录限制已解除")
    except AuthError as e:
        _fail(e)
    click.echo(f"已重设 {username} 的密码；已登录的会话已结束" + (f"，{n} 个 API 令牌已作废" if n else "")
               + "，登录失败的限制已解除")


@user_group.command("remove")
@click.argument("username")
@DB_OPTION
def user_remove(username, db):
    """删除账号（及其 API 令牌）。"""
    from . import audit
    from .auth import AuthError, delete_user

    eng, u = _user_or_exit(db, username)
    try:
        with eng.begin() as c:
            delete_user(eng, u.id, conn=c)
            audit.record_cli(c, "user.delete", target=u.username)
    except AuthError as e:
        _fail(e)
    click.echo(f"已删除用户 {username}")


@user_group.command("token")
@click.argument("username")
@click.option("--name", default="命令行", help="令牌用途")
@DB_OPTION
def user_token(username, name, db):
    """为账号生成 API 令牌（只显示这一次），用于脚本：Authorization: Bearer <令牌>。"""
    from . import audit
    from .auth import create_token

    eng, u = _user_or_exit(db, username)
    token = create_token(eng, u.id, name)
    audit.record_cli(eng, "token.create", target=name[:100], detail=f"为 {u.username} 生成")
    click.echo(token)


@user_group.command("audit")
@click.option("--user", "actor", default=None, help="只看某个用户（登录失败时为输入的用户名）")
@click.option("--action", default=None,
              help="只看某类操作：login、login.failed、logout、upload、report.delete、export、user、token…")
@click.option("--failed", is_flag=True, help="只看失败的操作（如登录失败）")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True, help="最多显示多少条")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 记录")
@DB_OPTION
def user_audit(actor, action, failed, limit, as_json, db):
    """审计日志（最新的在前）：登录与登录失败、退出、上传、删除、导出、更正、账号变更。"""
    from rich.console import Console
    from rich.table import Table

    from . import audit

    if action and action not in audit.ACTIONS and action not in {a.split(".")[0] for a in audit.ACTIONS}:
        _fail(f"未知的操作类型“{action}”；可用：" + "、".join(audit.ACTIONS))
    rows, total = audit.query(_open(db, write=False),
                              audit.Query(actor=actor, action=action, ok=False if failed else None, per_page=limit))
    if as_json:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    if not rows:
        click.echo("审计日志中没有符合条件的记录。")
        return
    t = Table(title=f"审计日志：共 {total} 条" + (f"，显示最新 {len(rows)} 条" if total > len(rows) else ""),
              title_justify="left")
    for col in ("时间", "用户", "来源", "操作", "对象", "说明", "结果"):
        t.add_column(col, overflow="fold", no_wrap=col in ("时间", "操作", "结果"))
    for r in rows:
        t.add_row(r["at"][:19].replace("T", " "), escape(r["actor"] or "—"), escape(r["address"] or "—"),
                  r["action_label"], escape(r["target"] or ""), escape(r["detail"] or ""),
                  "成功" if r["ok"] else "[red]失败[/red]")
    Console().print(t)
