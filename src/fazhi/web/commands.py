"""``fazhi serve`` (the web application) and ``fazhi user`` (accounts from the terminal).

Imported by ``fazhi.cli`` at start-up: the web libraries are imported only
when a command runs, so the other commands stay fast and work without them."""
from __future__ import annotations

import sys

import click

from ..cli import DB_OPTION, err, main


def _open(db, write: bool = True):
    from ..corpus import db as dbm

    return dbm.connect(db, write=write)


@main.command("serve")
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；0.0.0.0 表示对局域网开放（请放在 HTTPS 反向代理之后）")
@click.option("--port", type=int, default=8000, show_default=True, help="端口")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="FAZHI_DATA_DIR",
              help="上传原文件的保存目录（默认在数据库文件旁：<库名>-files/）")
@click.option("--max-size", type=float, default=None, help="单个上传文件大小上限（MB），默认 30")
@click.option("--secure-cookies", is_flag=True, envvar="FAZHI_SECURE_COOKIES",
              help="会话 Cookie 只经 HTTPS 发送（在 HTTPS 反向代理之后运行时使用）")
@click.option("--no-keep-files", is_flag=True, help="不保存上传的原文件（只保存分析结果）")
def serve(db, host, port, data_dir, max_size, secure_cookies, no_keep_files):
    """启动网页版：上传检查、报告库、统计看板、单位、导出，以及 /api/ 接口。

    首次启动时创建管理员账号 admin：密码取环境变量 FAZHI_ADMIN_PASSWORD，
    未设置时随机生成并只在此显示一次。"""
    try:
        import uvicorn

        from .app import create_app
        from .settings import Settings
    except ModuleNotFoundError as e:
        err.print(f"[red]错误：[/red]缺少网页版依赖（{e.name}），请重新安装 fazhi")
        sys.exit(2)
    over = {"db": db, "data_dir": data_dir, "secure_cookies": secure_cookies or None}
    if max_size:
        over["max_bytes"] = int(max_size * 1048576)
    if no_keep_files:
        over["keep_files"] = False
    from rich.markup import escape

    from .auth import AuthError

    settings = Settings.from_env(**over)
    try:
        app = create_app(settings, announce=lambda m: err.print(f"[bold yellow]{escape(m)}[/bold yellow]"))
    except AuthError as e:  # e.g. FAZHI_ADMIN_PASSWORD shorter than 8 characters
        err.print(f"[red]错误：[/red]无法创建管理员账号：{escape(str(e))}")
        sys.exit(2)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"fazhi 网页版：http://{shown}:{port}/   数据库：{settings.db or 'fazhi.db'}   （Ctrl-C 停止）")
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.secure_cookies:
        err.print("[yellow]提示：[/yellow]对局域网开放时，建议放在 HTTPS 反向代理之后并使用 --secure-cookies")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, date_header=True)


@main.group("user")
def user_group():
    """网页版账号：添加、列出、重设密码、删除、生成 API 令牌。"""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True,
              help="admin：管理员（上传、删除、导出、管理用户）；viewer：只读")
@click.password_option("--password", prompt="密码", confirmation_prompt="再输入一次", help="密码（至少 8 个字符）")
@DB_OPTION
def user_add(username, role, password, db):
    """添加账号。"""
    from .auth import AuthError, create_user

    try:
        u = create_user(_open(db), username, password, role)
    except AuthError as e:
        err.print(f"[red]错误：[/red]{e}")
        sys.exit(2)
    click.echo(f"已添加用户 {u.username}（{u.role_label}）")


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
        err.print(f"[red]错误：[/red]没有用户 {username}")
        sys.exit(2)
    return eng, u


@user_group.command("passwd")
@click.argument("username")
@click.password_option("--password", prompt="新密码", confirmation_prompt="再输入一次", help="新密码")
@DB_OPTION
def user_passwd(username, password, db):
    """重设密码（例如忘记了管理员密码）。"""
    from .auth import AuthError, set_password

    eng, u = _user_or_exit(db, username)
    try:
        set_password(eng, u.id, password)
    except AuthError as e:
        err.print(f"[red]错误：[/red]{e}")
        sys.exit(2)
    click.echo(f"已重设 {username} 的密码")


@user_group.command("remove")
@click.argument("username")
@DB_OPTION
def user_remove(username, db):
    """删除账号（及其 API 令牌）。"""
    from .auth import AuthError, delete_user

    eng, u = _user_or_exit(db, username)
    try:
        delete_user(eng, u.id)
    except AuthError as e:
        err.print(f"[red]错误：[/red]{e}")
        sys.exit(2)
    click.echo(f"已删除用户 {username}")


@user_group.command("token")
@click.argument("username")
@click.option("--name", default="命令行", help="令牌用途")
@DB_OPTION
def user_token(username, name, db):
    """为账号生成 API 令牌（只显示这一次），用于脚本：Authorization: Bearer <令牌>。"""
    from .auth import create_token

    eng, u = _user_or_exit(db, username)
    click.echo(create_token(eng, u.id, name))
