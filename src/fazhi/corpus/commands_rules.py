"""``fazhi rules attach | show | detach | recheck``: the rule file of a place, applied
to a whole corpus or to one province's reports (``fazhi.corpus.rulesets``)."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err


def _fail(msg: str, code: int = 2):
    err.print(f"[red]错误：[/red]{escape(msg)}")
    sys.exit(code)


@click.group("rules")
def rules_group():
    """本地规则：把省、市的规则文件附加到报告库，入库、网页上传、报送情况和导出都按它检查。"""


def _recheck(eng, quiet: bool = False) -> int:
    from .rulesets import recheck

    def progress(done, total):
        if not quiet and sys.stderr.isatty():
            err.print(f"重新检查 {done}/{total}", end="\r")

    return recheck(eng, progress=progress)


PROVINCE = click.option("--province", default=None, metavar="省份",
                        help="只用于这个省份的报告（评估多个省份时各附各的规则）；不给时用于整个报告库")


def attach_file(eng, path: str, actor: str | None = None, province: str | None = None):
    """Attach ``path`` to the corpus, or to one province's reports (and recheck);
    returns (Attached, rechecked).  Raises ``RuleError`` (Chinese) for a file that cannot be used."""
    from ..rules import RuleSet
    from ..web.audit import record
    from .rulesets import attach, attached

    rs = RuleSet.read(path)
    same = [a for a in attached(eng) if a.sha256 == rs.sha256 and a.province == (province or None)]
    if same:
        return same[0], _recheck(eng)
    with eng.begin() as c:
        a = attach(c, rs, actor, province)
        record(c, "rules.attach", actor=actor, address="命令行", target=a.label[:200], detail=rs.sha256[:12])
    return a, _recheck(eng)


@rules_group.command("attach")
@click.argument("path", type=click.Path(dir_okay=False))
@PROVINCE
@DB_OPTION
def attach_cmd(path, province, db):
    """附加规则文件（YAML/TOML，与 fazhi check --rules 相同的写法）并按它重新检查库中报告。"""
    from ..rules import RuleError
    from ..web.audit import cli_actor
    from . import db as dbm

    eng = dbm.connect(db)
    try:
        a, n = attach_file(eng, path, cli_actor(), province)
    except RuleError as e:
        _fail(f"{e}（报告库未改动）")
    scope = f"{a.province}的报告" if a.province else "整个报告库"
    click.echo(f"已附加规则文件 {a.name}（{a.sha256[:12]}，用于{scope}）；重新检查了 {n} 份报告。"
               "此后入库、网页上传、报送情况和导出都按它检查。")


@rules_group.command("detach")
@PROVINCE
@DB_OPTION
def detach_cmd(province, db):
    """取消附加的规则文件（整个报告库的，或 --province 某省的），并重新检查库中报告。"""
    from ..web.audit import record_cli
    from . import db as dbm
    from .rulesets import detach

    eng = dbm.connect(db)
    with eng.begin() as c:
        had = detach(c, province)
        if had:
            record_cli(c, "rules.attach", target=province or "整个报告库", detail="取消附加的规则文件")
    if not had:
        click.echo(f"{province or '报告库'}没有附加规则文件。")
        return
    click.echo(f"已取消{province or '整个报告库'}的规则文件；重新检查了 {_recheck(eng)} 份报告。")


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
    from ..model import LEVEL_LABELS
    from ..rules import compiled, deadline_params, load_rules
    from . import db as dbm
    from .rulesets import attached, history, stale

    eng = dbm.connect(db, write=False)
    sets = attached(eng)
    with eng.connect() as c:
        hist, n_stale = history(c), stale(c)
    con = Console()
    if not sets or sets[0].province is not None:
        sets = [None] + sets
    for a in sets:
        scope = f"{a.province}的报告" if a and a.province else "整个报告库" if a else "整个报告库（未附加）"
        con.print(f"{scope}：" + (f"{escape(a.name)}（{a.sha256[:12]}，{a.attached_at[:10]} 附加）" if a else "全国规则（内置）"))
        p = deadline_params(a.ruleset if a else None)
        by = "；".join(f"{LEVEL_LABELS.get(k, k)} {v} 之前" for k, v in p["by_level"].items())
        rules = compiled(a.ruleset)[0] if a else tuple(load_rules())
        con.print(f"  报送并公开期限：次年 {p['default']} 之前" + (f"；{escape(by)}" if by else "")
                  + f"；规则 {sum(1 for r in rules if r.enabled)} 条启用，{sum(1 for r in rules if not r.enabled)} 条停用")
    if n_stale:
        con.print(f"[yellow]提示：[/yellow]{n_stale} 份报告是按其他规则检查的，运行 fazhi rules recheck 更新")
    if hist:
        t = Table(title="附加历史", title_justify="left")
        for col in ("编号", "文件", "范围", "sha256", "附加时间", "操作人", "状态"):
            t.add_column(col)
        for h in hist:
            t.add_row(str(h["id"]), escape(h["name"]), escape(h["province"] or "整个报告库"), h["sha256"][:12],
                      h["attached_at"][:19].replace("T", " "), escape(h["actor"] or ""),
                      "当前" if h["active"] else f"已于 {(h['detached_at'] or '')[:10]} 停用")
        con.print(t)
