"""``fazhi roster template | import | list | assign`` and ``fazhi corpus status``:
the roster of units that must report, and who has not reported yet."""
from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err, output_file
from .commands import corpus

YEAR = click.option("--year", type=click.IntRange(1990, 2100), required=True, help="报告年度（如 2024）")


def _fail(msg: str, code: int = 2):
    err.print(f"[red]错误：[/red]{escape(msg)}")
    sys.exit(code)


@click.group()
def roster():
    """应报单位名单：下载模板、导入、查看；把未匹配的报告指定给单位。"""


@roster.command("template")
@click.argument("path", type=click.Path(dir_okay=False))
def template_cmd(path):
    """写出应报单位名单模板（.xlsx）：表头、一行示例、层级下拉选择、填写说明。"""
    from .roster import write_template

    if not str(path).lower().endswith(".xlsx"):
        _fail("模板文件名应以 .xlsx 结尾")
    p = output_file(path)
    try:
        write_template(p)
    except OSError as e:
        _fail(f"无法写入 {p}：{e.strerror or e}")
    click.echo(f"已写出名单模板：{p}（填写后用 fazhi roster import {p.name} --year 年度 导入）")


@roster.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@YEAR
@DB_OPTION
def import_cmd(path, year, db):
    """导入应报单位名单（.xlsx 或 .csv）；同一年度再次导入时整体替换该年度的名单。"""
    from pathlib import Path

    from . import db as dbm
    from .roster import RosterError, import_roster, read_roster

    p = Path(path)
    if not p.is_file():
        _fail(f"找不到文件：{p}")
    try:
        units, problems = read_roster(p)
    except RosterError as e:
        _fail(str(e))
    if problems:
        for pr in problems[:50]:
            err.print(f"[red]错误：[/red]{escape(str(pr))}")
        if len(problems) > 50:
            err.print(f"……另有 {len(problems) - 50} 处错误")
        _fail(f"名单有 {len(problems)} 处错误，未导入任何单位；改正后重新导入")
    from ..web.audit import CLI_ADDRESS, cli_actor, record

    eng = dbm.connect(db)
    n = import_roster(eng, year, units)
    record(eng, "roster.import", actor=cli_actor(), address=CLI_ADDRESS, target=p.name, detail=f"{year} 年度：{n} 个单位")
    click.echo(f"已导入 {year} 年度应报单位名单：{n} 个单位（该年度原有名单已替换）")


@roster.command("list")
@YEAR
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@DB_OPTION
def list_cmd(year, fmt, db):
    """列出某一年度的应报单位名单。"""
    from ..model import LEVEL_LABELS
    from . import db as dbm
    from .roster import default_deadline, roster_of

    eng = dbm.connect(db, write=False)
    units = roster_of(eng, year)
    if fmt == "json":
        click.echo(json.dumps([{k: u[k] for k in ("name", "level", "parent", "region", "deadline", "contact", "phone")}
                               for u in units], ensure_ascii=False, indent=1))
        return
    if not units:
        click.echo(f"{year} 年度还没有应报单位名单（fazhi roster import 名单.xlsx --year {year}）。")
        return
    t = Table(title=f"{year} 年度应报单位名单：{len(units)} 个单位（默认截止 {default_deadline(year)}，含当日）",
              title_justify="left")
    for c in ("单位名称", "层级", "上级单位", "地区", "报送截止", "联系人", "联系电话"):
        t.add_column(c, overflow="fold")
    for u in units:
        t.add_row(escape(u["name"]), LEVEL_LABELS.get(u["level"], u["level"]), escape(u["parent"] or ""),
                  escape(u["region"] or ""), u["deadline"] or "默认", escape(u["contact"] or ""), escape(u["phone"] or ""))
    Console().print(t)


@roster.command("assign")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1))
@click.argument("unit_name")
@click.option("--failure", is_flag=True, help="REPORT_ID 是读不了的文件的编号（fazhi corpus status 未匹配清单中的“文件”）")
@click.option("--year", type=click.IntRange(1990, 2100), default=None, help="名单年度（默认：报告的年度）")
@DB_OPTION
def assign_cmd(report_id, unit_name, failure, year, db):
    """把一份报告（或读不了的文件）人工指定给名单中的单位；重新统计、重新导入名单后仍然有效。"""
    from ..web.audit import CLI_ADDRESS, cli_actor, record
    from . import db as dbm
    from .roster import RosterError, assign

    eng = dbm.connect(db)
    kw = {"failure_id": report_id} if failure else {"report_id": report_id}
    try:
        res = assign(eng, unit_name, year=year, actor=cli_actor(), **kw)
    except RosterError as e:
        _fail(str(e))
    record(eng, "roster.assign", actor=cli_actor(), address=CLI_ADDRESS,
           target=f"{'文件' if failure else '报告'} {report_id}", detail=f"{res['year']} 年度：{res['unit']}")
    click.echo(f"已将{'文件' if failure else '报告'} {report_id} 指定为 {res['year']} 年度名单中的“{res['unit']}”")


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _totals_table(title: str, head: str, rows) -> Table:
    from .roster import COUNT_LABELS, COUNTS

    # 12 columns: compact enough for an 80-column terminal
    t = Table(title=title, title_justify="left", padding=(0, 1), pad_edge=False, collapse_padding=True)
    t.add_column(head, overflow="fold")
    for k in COUNTS:
        t.add_column(COUNT_LABELS[k], justify="right")
    t.add_column("公开率", justify="right")
    t.add_column("按期公开率", justify="right")
    for label, s in rows:
        t.add_row(escape(label), *[str(s[k]) for k in COUNTS], _pct(s["published_rate"]), _pct(s["on_time_rate"]))
    return t


@corpus.command("status")
@YEAR
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table：终端表格；json：机器可读（与 roster.status() 相同）")
@click.option("--level", default=None, help="只列出某一层级的单位（合计仍为全部）")
@click.option("--parent", default=None, help="只列出某一上级单位下的单位")
@DB_OPTION
def status_cmd(year, fmt, level, parent, db):
    """报送情况：名单中每个单位已报 / 按期 / 逾期 / 未报 / 读不了，公开率与按期公开率（按层级、按上级）。"""
    from . import db as dbm
    from .roster import STATE_LABELS, level_choices, parse_level, status

    eng = dbm.connect(db, write=False)
    st = status(eng, year)
    if fmt == "json":
        click.echo(json.dumps(st, ensure_ascii=False, indent=1))
        return
    if not st["roster_size"]:
        _fail(f"{year} 年度还没有应报单位名单：先 fazhi roster template 名单模板.xlsx，填写后 "
              f"fazhi roster import 名单.xlsx --year {year}", 1)
    lv = None
    if level:
        lv = parse_level(level)
        if lv is None:
            _fail(f"层级“{level}”无法识别：应为 {level_choices()} 之一")
    con = Console()
    tot = st["totals"]
    con.print(_totals_table(f"{year} 年度报送情况（默认截止 {st['default_deadline']}，含当日，规则：{escape(st['rules'] or '全国规则')}；"
                            "以收到日期为准，无则发布日期，再无则成文日期）",
                            "范围", [("全部", tot)]))
    con.print(_totals_table("按层级", "层级", [(s["label"], s) for s in st["by_level"].values()]))
    if len(st["by_parent"]) > 1 or "" not in st["by_parent"]:
        con.print(_totals_table("按上级单位", "上级单位", [(s["label"], s) for s in st["by_parent"].values()]))
    units = [u for u in st["units"] if (lv is None or u["level"] == lv) and (parent is None or (u["parent"] or "") == parent)]
    t = Table(title=f"各单位（{len(units)} 个）", title_justify="left")
    for c in ("单位", "层级", "上级单位", "状态", "日期", "截止", "报告编号"):
        t.add_column(c, overflow="fold")
    colour = {"on_time": "green", "late": "red", "undated": "yellow", "unreadable": "magenta", "missing": "red",
              "other_genre": "magenta"}
    for u in units:
        d = (f"{u['date']}（{u['date_kind_label']}" + ("，年度未结束" if u["premature"] else "") + "）") if u["date"] else "—"
        t.add_row(escape(u["name"]), u["level_label"], escape(u["parent"] or ""),
                  f"[{colour[u['state']]}]{STATE_LABELS[u['state']]}[/{colour[u['state']]}]", d,
                  u["deadline"] + ("*" if u["deadline_overridden"] else ""),
                  "、".join(map(str, u["reports"])) or ("非本类 " + "、".join(str(x["id"]) for x in u["other_genre"])
                                                        if u["other_genre"] else
                                                        "文件 " + "、".join(map(str, u["failures"])) if u["failures"] else ""))
    con.print(t)
    if st["unmatched"]:
        t = Table(title=f"未匹配：{len(st['unmatched'])} 项（用 fazhi roster assign 编号 单位名称 指定）", title_justify="left")
        for c in ("类别", "编号", "识别的单位 / 文件", "原因"):
            t.add_column(c, overflow="fold")
        for x in st["unmatched"]:
            what = x["unit"] or x["path"]
            reason = x["reason"] + ("：" + "、".join(x["candidates"][:5]) if x["candidates"] else "")
            t.add_row("报告" if x["kind"] == "report" else "读不了的文件（--failure）", str(x["id"]),
                      escape(what or "—"), escape(reason))
        con.print(t)
