"""``fazhi corpus show ID``, ``fazhi corpus fix ID …`` and ``fazhi corpus corrections``."""
from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err
from .commands import corpus


def _report_or_exit(conn, report_id: int):
    from sqlalchemy import select

    from . import db

    rep = conn.execute(select(db.reports).where(db.reports.c.id == report_id)).mappings().first()
    if rep is None:
        err.print(f"[red]错误：[/red]报告库中没有编号为 {report_id} 的报告")
        sys.exit(2)
    return rep


def _shown(v) -> str:
    return "—" if v is None else str(v)


@corpus.command("show")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1))
@DB_OPTION
def show_cmd(report_id, db):
    """列出一份报告的元数据、法定部分、数据和问题（含编号，供 corpus fix 更正）。"""
    from sqlalchemy import select

    from . import corrections as cm
    from . import db as dbm
    from ..facts import load_catalog
    from ..model import LEVEL_LABELS, PART_LABELS

    eng = dbm.connect(db, write=False)
    con = Console(highlight=False)
    with eng.connect() as c:
        rep = _report_or_exit(c, report_id)
        done = {(x["target"], x["key"], x["field"]) for x in cm.active(c, rep["sha256"])}
        t = Table(title=f"报告 {report_id}：{escape(rep['title'] or '（未识别标题）')}", show_header=False,
                  title_justify="left")
        t.add_column("字段", style="bold")
        t.add_column("内容", overflow="fold")
        for fld, label in cm.META_FIELDS.items():
            v = rep[fld]
            v = LEVEL_LABELS.get(v, v) if fld == "level" else v
            mark = "（已更正）" if ("meta", fld, fld) in done else ""
            t.add_row(f"{label}（{fld}）", escape(_shown(v)) + mark)
        t.add_row("总分", _shown(rep["score_total"]))
        rules = c.execute(select(dbm.rule_sets.c.name, dbm.rule_sets.c.province)
                          .where(dbm.rule_sets.c.id == rep["rules_id"])).first() if rep["rules_id"] else None
        t.add_row("检查规则", escape(f"{rules.name}" + (f"（{rules.province}）" if rules.province else "")) if rules
                  else "全国规则（内置）")
        t.add_row("收到日期", _shown(rep["received_on"]))
        con.print(t)
        text = rep["text"]
        parts = c.execute(select(dbm.parts).where(dbm.parts.c.report_id == report_id).order_by(dbm.parts.c.id)).mappings()
        t = Table(title="法定部分", title_justify="left")
        for col in ("编号", "部分", "标题"):
            t.add_column(col, overflow="fold")
        for p in parts:
            mark = "（已更正）" if ("part", cm.part_key(p["heading"]), "part") in done else ""
            t.add_row(str(p["id"]), PART_LABELS.get(p["part"], p["part"]) + mark, escape(p["heading"]))
        con.print(t)
        cat = load_catalog()
        facts = c.execute(select(dbm.facts).where((dbm.facts.c.report_id == report_id) & dbm.facts.c.indicator.isnot(None))
                          .order_by(dbm.facts.c.id)).mappings()
        t = Table(title="数据（对应指标的）", title_justify="left")
        for col in ("编号", "指标", "数值", "原文"):
            t.add_column(col, overflow="fold")
        for f in facts:
            k = cm.fact_key(text, f["start"], f["end"])
            mark = "（已更正）" if any(("fact", k, x) in done for x in cm.FACT_FIELDS) else ""
            t.add_row(str(f["id"]), escape(cat.get(f["indicator"], {}).get("label", f["indicator"])) + mark,
                      f"{f['value']:g}{f['unit']}", escape(f["quote"] or ""))
        con.print(t)
        finds = c.execute(select(dbm.findings).where(dbm.findings.c.report_id == report_id)
                          .order_by(dbm.findings.c.id)).mappings()
        t = Table(title="问题", title_justify="left")
        for col in ("编号", "级别", "规则", "问题"):
            t.add_column(col, overflow="fold")
        sev = {"error": "错误", "warning": "警告", "info": "提示"}
        for f in finds:
            k = cm.finding_key(text, f["rule"], f["start"], f["end"], f["message"])
            mark = "（已确认）" if ("finding", k, "status") in done else ""
            t.add_row(str(f["id"]), sev.get(f["severity"], f["severity"]), escape(f["rule"]), escape(f["message"]) + mark)
        con.print(t)


@corpus.command("fix")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--meta", "metas", multiple=True, metavar="字段=值",
              help="更正元数据：unit/year/level/title/published/signed/province/city/county，如 --meta unit=某某街道")
@click.option("--fact", "fact_id", type=int, default=None, help="要更正的数据编号（corpus show 中列出）")
@click.option("--value", default=None, help="与 --fact 合用：正确的数值")
@click.option("--indicator", default=None, help="与 --fact 合用：正确的指标（indicators.yaml 中的编号；none 表示无指标）")
@click.option("--not-fact", is_flag=True, help="与 --fact 合用：这不是一项数据")
@click.option("--part", "part_fix", default=None, metavar="编号=部分",
              help="更正法定部分，如 --part 12=shortcomings（none 表示不是法定部分）")
@click.option("--dismiss", "dismiss_id", type=int, default=None, help="排除一条问题（误报），其扣分退回")
@click.option("--confirm", "confirm_id", type=int, default=None, help="确认一条问题")
@click.option("--reason", default=None, help="更正理由（记入更正记录）")
@click.option("--by", "actor", default=None, help="更正人（默认：当前系统用户）")
@DB_OPTION
def fix_cmd(report_id, metas, fact_id, value, indicator, not_fact, part_fix, dismiss_id, confirm_id, reason, actor, db):
    """人工更正一份报告的分析结果。更正单独保存（谁、何时、原值、新值、理由），
    重新分析同一文件后仍然有效；统计、排名、报送情况和导出都使用更正后的结果。"""
    from . import corrections as cm
    from . import db as dbm
    from ..web.audit import cli_actor, record

    todo: list[tuple[str, str, object, int | None]] = []
    for m in metas:
        if "=" not in m:
            err.print(f"[red]错误：[/red]--meta 的格式是 字段=值（收到“{escape(m)}”）")
            sys.exit(2)
        k, v = m.split("=", 1)
        todo.append(("meta", k.strip(), v, None))
    if fact_id is not None:
        given = [(f, v) for f, v in (("value", value), ("indicator", indicator), ("not_fact", not_fact or None))
                 if v is not None]
        if not given:
            err.print("[red]错误：[/red]--fact 需要 --value、--indicator 或 --not-fact 之一")
            sys.exit(2)
        todo += [("fact", f, v, fact_id) for f, v in given]
    elif value is not None or indicator is not None or not_fact:
        err.print("[red]错误：[/red]--value/--indicator/--not-fact 需要与 --fact 编号合用")
        sys.exit(2)
    if part_fix:
        pid, _, label = part_fix.partition("=")
        todo.append(("part", "part", label.strip(), pid.strip()))
    if dismiss_id is not None:
        todo.append(("finding", "status", "dismissed", dismiss_id))
    if confirm_id is not None:
        todo.append(("finding", "status", "confirmed", confirm_id))
    if not todo:
        err.print("[red]错误：[/red]没有给出要更正的内容（见 fazhi corpus fix --help）")
        sys.exit(2)
    who = actor or cli_actor()
    eng = dbm.connect(db)
    try:
        with eng.begin() as c:
            _report_or_exit(c, report_id)
            for target, field, new, key in todo:
                cm.record(c, report_id, target, field, new, key=key, reason=reason, actor=who)
                record(c, "correction", actor=who, address="命令行", target=f"报告 {report_id}",
                       detail=f"{target}.{field} → {new}" + (f"（{reason}）" if reason else ""))
            out = cm.apply_version(c, report_id)
    except cm.CorrectionError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}（未做任何更正）")
        sys.exit(2)
    click.echo(f"已更正报告 {report_id}：{len(todo)} 项" + (f"；{len(out.unapplied)} 项未能应用（原文中已找不到其依据）"
                                                      if out.unapplied else ""))


@corpus.command("corrections")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1), required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@DB_OPTION
def corrections_cmd(report_id, fmt, db):
    """列出更正记录（谁、何时、改了什么、原值、新值、理由），含已被后来更正取代的。"""
    from . import corrections as cm
    from . import db as dbm

    eng = dbm.connect(db, write=False)
    with eng.connect() as c:
        rows = cm.history(c, report_id)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("没有更正记录。")
        return
    t = Table(title="更正记录", title_justify="left")
    for col in ("编号", "报告", "对象", "原值", "新值", "理由", "更正人", "时间", "状态"):
        t.add_column(col, overflow="fold")
    names = {"meta": "元数据", "fact": "数据", "part": "法定部分", "finding": "问题"}
    for r in rows:
        what = names.get(r["target"], r["target"]) + (f"·{cm.META_FIELDS.get(r['field'], r['field'])}"
                                                       if r["target"] == "meta" else f"·{r['field']}")
        t.add_row(str(r["id"]), _shown(r["report_id"]), what, escape(_shown(json.loads(r["old_value"] or "null"))),
                  escape(_shown(json.loads(r["new_value"] or "null"))), escape(r["reason"] or ""),
                  escape(r["actor"] or ""), r["at"], "有效" if r["active"] else "已取代")
    Console(highlight=False).print(t)
