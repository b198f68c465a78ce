"""``fazhi rules attach | show | detach | recheck``: the rule file of a place, applied
to a whole corpus (``fazhi.corpus.rulesets``)."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fazhi.cli import DB_OPTION, err, main


def _fail(msg: str, code: int = 2):
    err.print(f"[red]错误：[/red]{escape(msg)}")
    sys.exit(code)


@main.group("rules")
def rules_group():
    """本地规则：把省、市的规则文件附加到报告库，入库、网页上传、报送情况和导出都按它检查。"""


def _recheck(eng, quiet: bool = False) -> int:
    from .rulesets import recheck

    def progress(done, total):
        if not quiet and sys.stderr.isatty():
            err.print(f"重新检查 {done}/{total}", end="\r")

    return recheck(eng, progress=progress)


def attach_file(eng, path: str, actor: str | None = None):
    """Attach ``path`` to the corpus (and recheck it); returns (Attached, rechecked).
    Raises ``RuleError`` (Chinese) for a file that cannot be used."""
    from ..rules import RuleSet
    from ..web.audit import record
    from .rulesets import active, attach

    rs = RuleSet.read(path)
    now = active(eng)
    if now is not None and now.sha256 == rs.sha256:
        return now, _recheck(eng)
    with eng.begin() as c:
        a = attach(c, rs, actor)
        record(c, "rules.attach", actor=actor, address="命令行", target=rs.name[:200], detail=rs.sha256[:12])
    return a, _recheck(eng)


@rules_group.command("attach")
@click.argument("path", type=click.Path(dir_okay=False))
@DB_OPTION
def attach_cmd(path, db):
    """附加规则文件（YAML/TOML，与 fazhi check --rules 相同的写法）并按它重新检查库中全部报告。"""
    from ..rules import RuleError
    from ..web.audit import cli_actor
    from . import db as dbm

    eng = dbm.connect(db)
    try:
        a, n = attach_file(eng, path, cli_actor())
    except RuleError as e:
        _fail(f"{e}（报告库未改动）")
    click.echo(f"已附加规则文件 {a.name}（{a.sha256[:12]}）；重新检查了 {n} 份报告。"
               "此后入库、网页上传、报送情况和导出都按它检查。")


@rules_group.command("detach")
@DB_OPTION
def detach_cmd(db):
    """取消附加的规则文件，恢复全国规则，并重新检查库中报告。"""
    from ..web.audit import record_cli
    from . import db as dbm
    from .rulesets import detach

    eng = dbm.connect(db)
    with eng.begin() as c:
        had = detach(c)
        if had:
            record_cli(c, "rules.attach", target="全国规则", detail="取消附加的规则文件")
    if not had:
        click.echo("报告库没有附加规则文件，一直按全国规则检查。")
        return
    click.echo(f"已恢复全国规则；重新检查了 {_recheck(eng)} 份报告。")


@rules_group.command("recheck")
@DB_OPTION
@click.option("--all", "everything", is_flag=True, help="全部重新检查（默认只检查按其他规则检查过的报告）")
def recheck_cmd(db, everything):
    """按当前规则重新检查报告（附加规则后中断过，或升级 fazhi 之后）。"""
    from . import db as dbm
    from .rulesets import recheck

    eng = dbm.connect(db)
    n = recheck(eng, only_stale=not everything)
    click.echo(f"重新检查了 {n} 份报告。")


@rules_group.command("show")
@DB_OPTION
def show_cmd(db):
    """当前适用的规则、期限和附加历史。"""
    from ..rules import compiled, deadline_params, load_rules
    from ..model import LEVEL_LABELS
    from . import db as dbm
    from .rulesets import active, history, stale

    eng = dbm.connect(db, write=False)
    a = active(eng)
    with eng.connect() as c:
        hist, n_stale = history(c), stale(c)
    con = Console()
    con.print(f"适用规则：{escape(a.name) + '（' + a.sha256[:12] + '，' + a.attached_at[:10] + ' 附加）' if a else '全国规则（内置）'}")
    p = deadline_params(a.ruleset if a else None)
    by = "；".join(f"{LEVEL_LABELS.get(k, k)} {v} 之前" for k, v in p["by_level"].items())
    con.print(f"报送并公开期限：次年 {p['default']} 之前" + (f"；{escape(by)}" if by else ""))
    rules = compiled(a.ruleset)[0] if a else tuple(load_rules())
    con.print(f"规则 {sum(1 for r in rules if r.enabled)} 条启用，{sum(1 for r in rules if not r.enabled)} 条停用")
    if n_stale:
        con.print(f"[yellow]提示：[/yellow]{n_stale} 份报告是按其他规则检查的，运行 fazhi rules recheck 更新")
    if hist:
        t = Table(title="附加历史", title_justify="left")
        for col in ("编号", "文件", "sha256", "附加时间", "操作人", "状态"):
            t.add_column(col)
        for h in hist:
            t.add_row(str(h["id"]), escape(h["name"]), h["sha256"][:12], h["attached_at"][:19].replace("T", " "),
                      escape(h["actor"] or ""), "当前" if h["active"] else f"已于 {(h['detached_at'] or '')[:10]} 停用")
        con.print(t)
