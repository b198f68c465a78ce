"""CLI: ``fazhi ledger template|check|stats`` and ``fazhi draft``.

Loaded by ``fazhi.cli`` by name when one of them runs (``cli.LAZY_COMMANDS``).
Messages are in Chinese; a bad file gives a message naming the place, never a
traceback.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import err
from ..model import LEVEL_LABELS, LEVELS

SEV = {"error": ("错误", "bold red"), "warning": ("警告", "yellow")}


def _issues_table(led, title: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column("级别", no_wrap=True)
    t.add_column("位置", overflow="fold")
    t.add_column("问题", overflow="fold", ratio=1)
    order = {"error": 0, "warning": 1}
    for i in sorted(led.issues, key=lambda i: order[i.severity]):
        label, style = SEV[i.severity]
        t.add_row(f"[{style}]{label}[/{style}]", escape(i.where() or "—"), escape(i.message))
    return t


def _load(path: str, year: int | None):
    from .reader import check_year_known, read_ledger

    led = read_ledger(path, year)
    check_year_known(led)
    return led


def _refuse_if_errors(led, what: str) -> None:
    """Print the ledger's errors and exit 1 — figures from a wrong ledger would be wrong."""
    if not led.errors:
        return
    for i in led.errors[:30]:
        err.print(f"[red]错误：[/red]{escape(i.text())}")
    more = len(led.errors) - 30
    err.print(f"台账有 {len(led.errors)} 处错误{f'（另有 {more} 处未列出）' if more > 0 else ''}，未{what}。"
              f"请先用 [bold]fazhi ledger check {escape(led.path)}[/bold] 查看并修正。")
    sys.exit(1)


def _warn_summary(led) -> None:
    if led.warnings:
        err.print(f"[yellow]提示：[/yellow]台账有 {len(led.warnings)} 条警告（fazhi ledger check 可查看），"
                  + escape(led.warnings[0].text()) + ("……" if len(led.warnings) > 1 else ""))


@click.group()
def ledger():
    """工作台账（Excel）：生成模板、检查填写、统计指标。"""


@ledger.command("template")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--year", type=int, default=None, help="台账年度：日期列只允许该年内的日期")
@click.option("--example", is_flag=True, help="写出一份填好的示例台账（虚构数据），而不是空模板")
@click.option("--unit", default="礼嘉街道", show_default=True, help="示例台账的单位名称（配合 --example）")
@click.option("--force", is_flag=True, help="OUT 已存在时覆盖")
def template_cmd(out, year, example, unit, force):
    """写出台账模板 OUT.xlsx：每类记录一张表、中文表头、下拉选项、填写说明、示例行。"""
    from .example import write_example
    from .template import write_template

    p = Path(out)
    if p.exists() and not force:
        err.print(f"[red]错误：[/red]{escape(str(p))} 已存在；为免覆盖已填写的台账，请换一个文件名或加 --force")
        sys.exit(2)
    if p.suffix.lower() != ".xlsx":
        err.print("[yellow]提示：[/yellow]台账是 Excel 工作簿，文件名宜以 .xlsx 结尾")
    try:
        if example:
            write_example(p, year or 2024, unit)
        else:
            write_template(p, year)
    except OSError as e:
        err.print(f"[red]错误：[/red]无法写入 {escape(str(p))}：{e.strerror or e}")
        sys.exit(1)
    err.print(f"已写出{'示例台账' if example else '台账模板'}：{escape(str(p))}")


@ledger.command("check")
@click.argument("ledger_path", metavar="LEDGER.xlsx")
@click.option("--year", type=int, default=None, help="台账年度（默认取“基本情况”表中的年度）")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="输出格式")
def check_cmd(ledger_path, year, fmt):
    """检查台账：日期、年度、可选值、必填项、数字列、工作表和表头；有“错误”时退出码为 1。"""
    led = _load(ledger_path, year)
    if fmt == "json":
        n = {s: len(r) for s, r in led.records.items()}
        click.echo(json.dumps({"path": led.path, "year": led.year, "records": n,
                               "errors": len(led.errors), "warnings": len(led.warnings),
                               "issues": [i.to_dict() for i in led.issues]}, ensure_ascii=False, indent=1))
    else:
        console = Console()
        total = sum(len(r) for r in led.records.values())
        if led.issues:
            console.print(_issues_table(led, f"台账检查：{escape(led.path)}"))
        summary = (f"共 {total} 条记录（{len(led.records)} 张表）" if led.readable else "无法读取")
        summary += f"，{len(led.errors)} 处错误，{len(led.warnings)} 条警告。"
        if not led.issues:
            summary = "[green]未发现问题。[/green]" + summary
        console.print(summary + (f" 年度：{led.year}" if led.year else ""))
    sys.exit(1 if led.errors else 0)


@ledger.command("stats")
@click.argument("ledger_path", metavar="LEDGER.xlsx")
@click.option("--year", type=int, default=None, help="台账年度（默认取“基本情况”表中的年度）")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="输出格式")
@click.option("--all", "show_all", is_flag=True, help="同时列出不对应指标的辅助数据")
def stats_cmd(ledger_path, year, fmt, show_all):
    """台账推算出的指标值（对应指标目录 indicators.yaml）。"""
    from ..facts import load_catalog
    from .stats import compute, indicator_values

    led = _load(ledger_path, year)
    _refuse_if_errors(led, "统计")
    values = compute(led)
    cat = load_catalog()
    if fmt == "json":
        ind = sorted(indicator_values(values))
        click.echo(json.dumps({
            "path": led.path, "year": led.year, "unit": led.basics.get("unit"),
            "indicators": [{"indicator": i, "label": cat[i]["label"], "value": int(v) if float(v).is_integer() else v}
                           for i, v in ind],
            "values": [v.to_dict() for v in values.values() if v.indicator or show_all],
        }, ensure_ascii=False, indent=1))
        return
    _warn_summary(led)
    t = Table(title=f"{escape(str(led.basics.get('unit') or ''))}{led.year or ''}年度台账推算的指标", title_justify="left")
    t.add_column("指标", overflow="fold", ratio=2)
    t.add_column("数值", justify="right", no_wrap=True)
    t.add_column("计算依据（工作表：条件）", overflow="fold", ratio=3)
    shown = 0
    for m in led.schema.measures:
        v = values.get(m.id)
        if v is None or not (v.indicator or show_all):
            continue
        shown += 1
        label = cat[m.id]["label"] if v.indicator else "（辅助数据）"
        num = f"{v.text()}{v.unit}"
        if v.zero:
            num = f"[dim]{num}[/dim]"
            label += "（为零：草稿中不写数字）"
        t.add_row(f"{escape(label)}\n[dim]{m.id}[/dim]", num, escape(v.source))
    Console().print(t)
    missing = [m.id for m in led.schema.measures if m.indicator and m.id not in values]
    if missing:
        err.print(f"[dim]台账中没有数据的指标（{len(missing)} 个）：{'、'.join(missing)}[/dim]")


@click.command("draft")
@click.argument("ledger_path", metavar="LEDGER.xlsx")
@click.option("--unit", default=None, help="报告单位，如 礼嘉街道（默认取台账“基本情况”中的单位名称）")
@click.option("--level", type=click.Choice(LEVELS), default=None,
              help="单位层级（默认取台账“基本情况”中的层级，或由单位名称推断）")
@click.option("--year", type=int, default=None, help="报告年度（默认取台账“基本情况”中的年度）")
@click.option("--previous", "previous_path", default=None, metavar="LAST_YEAR_REPORT",
              help="上一年度的报告（txt/md/html/docx/pdf）：列出其下一年度安排和存在的问题，逐项说明落实情况")
@click.option("-o", "--out", "out", default=None, help="输出文件（.docx / .md / .pdf）；--format md 时可省略，输出到终端")
@click.option("--format", "fmt", type=click.Choice(["docx", "md", "pdf"]), default=None,
              help="输出格式（默认由 -o 的扩展名决定，否则为 docx）")
@click.option("--force", is_flag=True, help="覆盖已存在且已被编辑过的输出文件（默认拒绝，以免覆盖人工修改）")
def draft_cmd(ledger_path, unit, level, year, previous_path, out, fmt, force):
    """由工作台账生成年度报告初稿（GB/T 9704 公文格式的 Word 文档，或 Markdown）。

    -o 指向的文件已存在时：若是 fazhi 生成后未改动过的初稿，直接重新生成；
    若已被编辑（或不是 fazhi 生成的文件），拒绝覆盖，除非加 --force。
    """
    from ..draft.compose import DraftError, compose, read_back, to_markdown
    from ..draft.safety import check_target

    if fmt is None:
        suf = Path(out).suffix.lower() if out else ""
        fmt = {".md": "md", ".markdown": "md", ".pdf": "pdf"}.get(suf, "docx")
    if fmt != "md" and not out:
        err.print("[red]错误：[/red]请用 -o 指定输出文件，如 -o 初稿.docx（或 --format md 输出到终端）")
        sys.exit(2)
    if out:
        try:
            if Path(out).resolve() == Path(ledger_path).resolve():
                raise DraftError("输出文件不能是台账本身")
            check_target(out, force)
        except DraftError as e:
            err.print(f"[red]错误：[/red]{escape(str(e))}")
            sys.exit(2)
    led = _load(ledger_path, year)
    _refuse_if_errors(led, "生成初稿")
    _warn_summary(led)
    year = year or led.year
    unit = unit or led.basics.get("unit")
    if not year:
        err.print("[red]错误：[/red]不知道报告年度：请加 --year，或在台账“基本情况”表中填写“年度”")
        sys.exit(2)
    if not unit:
        err.print("[red]错误：[/red]不知道报告单位：请加 --unit，或在台账“基本情况”表中填写“单位名称”")
        sys.exit(2)
    level = level or _level_of(led, unit)
    previous = None
    try:
        if previous_path:
            from ..draft.previous import load_previous

            previous = load_previous(previous_path, year)
            for n in previous.notes:
                err.print(f"[yellow]提示：[/yellow]{escape(n)}")
        d = compose(led, unit, year, level, previous)
        target = Path(out) if out else None
        if fmt == "md":
            md = to_markdown(d)
            if target:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(md, encoding="utf-8")
            else:
                click.echo(md, nl=False)
            from ..pipeline import analyze_text

            report = analyze_text(md, "draft.md")
        else:
            from ..draft.word import write_docx
            from ..pipeline import analyze_path

            if fmt == "pdf":
                import tempfile

                from ..draft.pdf import to_pdf

                with tempfile.TemporaryDirectory(prefix="fazhi-draft-") as tmp:
                    docx_path = write_docx(d, Path(tmp) / (target.stem + ".docx"))
                    report = analyze_path(docx_path)
                    to_pdf(docx_path, target)
            else:
                write_docx(d, target)
                report = analyze_path(target)
    except DraftError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(1)
    except OSError as e:
        err.print(f"[red]错误：[/red]无法写入 {escape(str(out))}：{e.strerror or e}")
        sys.exit(1)
    chk = read_back(report, d.expected)
    holes = sum(b.text.count("【请补充") for b in d.blocks)
    where = f"已写出 {escape(str(out))}" if out else "初稿如上"
    err.print(f"{where}：{escape(d.title)}（{LEVEL_LABELS.get(level, level)}），含台账数据 {len(d.expected)} 项，"
              f"{holes} 处【请补充】须人工撰写。")
    if chk.missing or chk.extra:
        lost = "、".join(f"{i}={v:g}" for i, v in sorted(chk.missing))
        extra = "、".join(f"{i}={v:g}" for i, v in sorted(chk.extra))
        err.print("[yellow]提示：[/yellow]用 fazhi analyze 读回初稿，数据与台账不完全一致"
                  + (f"；未读出：{lost}" if lost else "") + (f"；多读出：{extra}" if extra else "")
                  + "。请检查台账文字列（如典型案例、履职内容）中的数字，或 phrases.yaml 中的措辞。")


def _level_of(led, unit: str) -> str:
    from ..draft.compose import level_for

    return level_for(led, unit)
