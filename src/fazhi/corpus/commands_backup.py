"""``fazhi corpus backup FILE`` and ``fazhi corpus restore FILE``."""
from __future__ import annotations

import sys

import click
from rich.markup import escape

from ..clikit import DB_OPTION, err
from .commands import corpus


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


@corpus.command("backup")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="目标文件已存在时覆盖")
@DB_OPTION
def backup_cmd(out, force, db):
    """备份报告库到文件 OUT（SQLite 在线备份：备份时仍可使用；PostgreSQL 请用 pg_dump）。"""
    from .backup import BackupError, backup

    try:
        res = backup(db, out, force=force)
    except BackupError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    click.echo(f"已备份 {res.reports} 份报告到 {res.path}（{_size(res.bytes)}，已通过完整性检查）")


@corpus.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--yes", "-y", is_flag=True, help="不再确认，直接用备份替换当前报告库")
@DB_OPTION
def restore_cmd(src, yes, db):
    """用备份文件 SRC 恢复报告库。当前数据库先另存为 <库名>.before-restore-<时间>，不会丢失。
    恢复前请先停止 fazhi serve 和正在运行的 corpus add。"""
    from . import db as dbm
    from .backup import BackupError, check_backup, current_reports, restore

    try:
        n = check_backup(src)
        path = dbm.sqlite_path(db)
        now = current_reports(path) if path else None
        if path and now is not None and not yes:
            click.confirm(f"将用备份（{n} 份报告）替换当前报告库 {path}（现有 {now} 份报告；"
                          f"当前库会另存一份）。继续？", abort=True)
        res = restore(src, db)
    except BackupError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    if res.safety_copy:
        click.echo(f"原数据库已另存为 {res.safety_copy}")
    click.echo(f"已从 {src} 恢复报告库 {res.path}：{res.reports} 份报告")
