"""``fazhi corpus table``, ``fazhi corpus export``, ``fazhi corpus stats``."""
from __future__ import annotations

import csv
import io
import json
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err
from .commands import corpus
from . import compare

BY_CHOICES = ["unit", "level", "region", "year"]


def _fail(msg: str, code: int = 2):
    err.print(f"[red]错误：[/red]{escape(msg)}")
    sys.exit(code)


def _filters_text(year, level) -> str:
    bits = []
    if year is not None:
        bits.append(f"{year}年度")
    if level:
        bits.append(compare.level_label(compare.normalise_level(level)))
    return "，".join(bits)


def _csv_out(headers: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    from .export import csv_safe

    for r in rows:
        w.writerow(["" if v is None else csv_safe(v) for v in r])
    # BOM: the output is meant for a file that Excel opens (… > table.csv)
    click.echo("\ufeff" + buf.getvalue(), nl=False)


def _n(v, kind: str = "count") -> str:
    return compare.fmt_number(v, kind) if v is not None else "—"


# ---------------------------------------------------------------- table
@corpus.command("table")
@click.option("--indicator", "-i", default=None,
              help="指标 id（如 mediation.cases）或中文名；省略时列出几个常用指标")
@click.option("--year", type=int, default=None, help="只看某一年度")
@click.option("--by", "by", type=click.Choice(BY_CHOICES), default="unit", show_default=True,
              help="按单位逐行列出，或按层级 / 省份 / 年度汇总")
@click.option("--level", default=None, help="只看某一层级：province/city/county/township/department 或 省级/市级/…")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="table：终端表格；csv：输出 CSV（带 BOM，便于 Excel 打开）")
@click.option("--limit", type=int, default=None, help="终端表格最多显示多少行")
@DB_OPTION
def table_cmd(indicator, year, by, level, fmt, limit, db):
    """对比表：各单位某项指标的数值排名，或按层级、省份、年度汇总（报告数、合计、中位数、最小、最大）。"""
    from . import db as dbm

    eng = dbm.connect(db, write=False)
    try:
        compare.normalise_level(level)
        if indicator is None:
            if by != "unit":
                _fail("按层级、省份或年度汇总时须用 --indicator 指定指标")
            res = compare.overview_table(eng, year=year, level=level)
            return _print_overview(res, fmt, limit, year, level)
        if by == "unit":
            res = compare.unit_table(eng, indicator, year=year, level=level)
            return _print_units(res, fmt, limit, year, level)
        res = compare.group_table(eng, indicator, by, year=year, level=level)
        return _print_groups(res, fmt, limit, year, level)
    except compare.CompareError as e:
        _fail(str(e))


def _print_units(res: dict, fmt: str, limit, year, level) -> None:
    head = compare.header(res["indicator"], res["unit"])
    rows = res["rows"]
    if fmt == "csv":
        _csv_out(["排名", "单位", "层级", "地区", "年度", head, "约数", "提及次数", "各处数值", "文件"],
                 [[r["rank"], r["unit"], r["level_label"], r["region"], r["year"], r["value"],
                   "是" if r["approx"] else "", r["mentions"], "；".join(str(v) for v in r["values"]), r["path"]]
                  for r in rows])
        return
    filt = _filters_text(year, level)
    if not rows:
        click.echo(f"没有报告提及“{res['label']}”（符合条件的报告共 {res['missing']} 份）。")
        return
    t = Table(title=f"{escape(head)}  [dim]{escape(res['indicator'])}[/dim]" + (f"  {escape(filt)}" if filt else "")
              + "  按单位排名",
              title_justify="left", caption_justify="left",
              caption=f"共 {len(rows)} 份报告提及该指标，另有 {res['missing']} 份未提及。"
                      "数值取报告中最大的非约数；“约/余”表示原文仅有约数。")
    t.add_column("排名", justify="right")
    t.add_column("单位", overflow="fold", min_width=8)
    t.add_column("层级", overflow="fold")
    t.add_column("地区", overflow="fold")
    t.add_column("年度", justify="right")
    t.add_column(escape(head), justify="right", style="bold", overflow="fold", min_width=8)
    t.add_column("提及次数", justify="right")
    t.add_column("各处数值", overflow="fold")
    shown = rows[:limit] if limit else rows
    for r in shown:
        vals = "、".join(compare.fmt_number(v, res["kind"]) for v in r["values"])
        t.add_row(str(r["rank"]), escape(r["unit"]), r["level_label"], escape(r["region"] or "—"),
                  str(r["year"] or "—"), r["display"], str(r["mentions"]), vals if r["mentions"] > 1 else "")
    Console().print(t)
    if limit and len(rows) > limit:
        click.echo(f"（只显示前 {limit} 行，共 {len(rows)} 行）")


def _print_groups(res: dict, fmt: str, limit, year, level) -> None:
    by_label = compare.GROUP_LABELS[res["by"]]
    head = compare.header(res["indicator"], res["unit"])
    kind = res["kind"]
    rows = res["rows"]
    if fmt == "csv":
        _csv_out(["排名", by_label, "报告总数", "提及报告数", "合计", "平均", "中位数", "最小", "最大"],
                 [[r["rank"], r["label"], r["reports"], r["stating"], r["sum"], r["mean"], r["median"], r["min"],
                   r["max"]] for r in rows])
        return
    filt = _filters_text(year, level)
    metric = "平均" if res["metric"] == "mean" else "合计"
    t = Table(title=f"{escape(head)}  [dim]{escape(res['indicator'])}[/dim]" + (f"  {escape(filt)}" if filt else "")
              + f"  按{by_label}汇总",
              title_justify="left", caption_justify="left",
              caption=f"每份报告取其最大的非约数（无则取约数）；排名按{metric}从高到低。"
                      + ("比率不求和。" if kind == "rate" else ""))
    t.add_column("排名", justify="right")
    t.add_column(by_label, overflow="fold")
    t.add_column("报告总数", justify="right")
    t.add_column("提及报告数", justify="right")
    if kind != "rate":
        t.add_column("合计", justify="right", style="bold")
    t.add_column("平均", justify="right", style="bold" if kind == "rate" else None)
    t.add_column("中位数", justify="right")
    t.add_column("最小", justify="right")
    t.add_column("最大", justify="right")
    for r in (rows[:limit] if limit else rows):
        cells = [str(r["rank"]), escape(r["label"]), str(r["reports"]), str(r["stating"])]
        if kind != "rate":
            cells.append(_n(r["sum"], kind))
        cells += [_n(r["mean"], kind), _n(r["median"], kind), _n(r["min"], kind), _n(r["max"], kind)]
        t.add_row(*cells)
    Console().print(t)


def _print_overview(res: dict, fmt: str, limit, year, level) -> None:
    inds = res["indicators"]
    heads = [res["headers"][i] for i in inds]
    rows = res["rows"]
    if fmt == "csv":
        _csv_out(["排名", "单位", "层级", "年度"] + heads + ["提及指标数", "文件"],
                 [[r["rank"], r["unit"], r["level_label"], r["year"]] + [r["values"][i] for i in inds]
                  + [r["stated"], r["path"]] for r in rows])
        return
    filt = _filters_text(year, level)
    t = Table(title="常用指标对比" + (f"  {filt}" if filt else ""), title_justify="left", caption_justify="left",
              caption="排名按提及的指标个数；每格取报告中最大的非约数。用 --indicator 查看单项指标的排名。")
    t.add_column("排名", justify="right")
    t.add_column("单位", overflow="fold", min_width=8)
    t.add_column("年度", justify="right")
    for h in heads:
        t.add_column(escape(h), justify="right", overflow="fold")
    t.add_column("提及指标数", justify="right", overflow="fold")
    for r in (rows[:limit] if limit else rows):
        t.add_row(str(r["rank"]), escape(r["unit"]), str(r["year"] or "—"),
                  *[r["display"][i] or "" for i in inds], str(r["stated"]))
    Console().print(t)
    if not rows:
        click.echo("报告库中没有符合条件的报告。")


# ---------------------------------------------------------------- export
@corpus.command("export")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--year", type=int, default=None, help="只导出某一年度")
@click.option("--level", default=None, help="只导出某一层级：province/city/county/township/department 或 省级/市级/…")
@click.option("--title", default=None, help="Excel 每页顶部的标题行（可选）")
@click.option("--pdf", "pdf", is_flag=True, default=False,
              help="同时用 LibreOffice 把工作簿打印为 PDF（与 OUT 同名，扩展名 .pdf；A4，字号不小于 9 磅）")
@click.option("--pdf-timeout", type=click.IntRange(min=1), default=None, metavar="秒",
              help="PDF 转换的时限（默认 600 秒；几千份报告的工作簿需更长，或按年度、层级分别导出）")
@DB_OPTION
def export_cmd(out, year, level, title, pdf, pdf_timeout, db):
    """导出报告库：OUT.xlsx（概况、报告清单、问题清单、督办清单、抄袭雷同、逐年对比、各专题指标、合规矩阵、
    报告信息、无法读取，有名册时另有报送情况；可直接打印上报，--pdf 同时生成 PDF）、OUT.csv 或 OUT.parquet。"""
    from pathlib import Path

    from . import db as dbm
    from .export import ExportError, export, write_pdf

    if pdf and Path(out).suffix.lower() != ".xlsx":
        _fail("--pdf 只用于 Excel 工作簿（.xlsx）")
    eng = dbm.connect(db, write=False)
    try:
        res = export(eng, out, year=year, level=level, title=title)
    except (ExportError, compare.CompareError) as e:
        _fail(str(e))
    except OSError as e:
        from .faults import os_reason

        _fail(f"无法写出 {out}：{os_reason(e)}（已保存在数据库中的数据未受影响）")
    pdf_path = None
    if pdf:
        try:
            pdf_path = write_pdf(out) if pdf_timeout is None else write_pdf(out, timeout=pdf_timeout)
        except ExportError as e:
            _fail(str(e))
        except OSError as e:
            from .faults import os_reason

            _fail(f"无法写出 PDF：{os_reason(e)}（工作簿已写出：{out}）")
    for w in res["warnings"]:
        err.print(f"[yellow]提示：[/yellow]{escape(w)}")
    if res["reports"] == 0:
        err.print("[yellow]提示：[/yellow]报告库中没有符合条件的报告，只写出了表头")
    if "counts" in res:
        c = res["counts"]
        p = res["path"]
        click.echo(f"已导出 {c['reports']} 份报告：{p[0]}；{c['facts']} 条数据：{p[1]}；{c['findings']} 条问题：{p[2]}")
    else:
        click.echo(f"已导出 {res['reports']} 份报告到 {res['path'][0]}（工作表：{'、'.join(res['sheets'])}）")
    if pdf_path is not None:
        click.echo(f"已打印为 PDF：{pdf_path}")


# ---------------------------------------------------------------- stats
def _pct(n: int, share) -> str:
    return f"{n}（{share * 100:.1f}%）" if share is not None else str(n)


def _timeliness_table(title: str, first: str, rows: list[tuple[str, dict]]) -> Table:
    from .stats import STATUS_LABELS, STATUSES

    t = Table(title=title, title_justify="left")
    t.add_column(first)
    t.add_column("报告数", justify="right")
    t.add_column("有日期", justify="right")
    for s in STATUSES:
        t.add_column(STATUS_LABELS[s], justify="right")
    for label, b in rows:
        t.add_row(escape(label), str(b["reports"]), _pct(b["dated"], b["dated_share"]),
                  *[_pct(b[s], b[f"{s}_share"]) for s in STATUSES])
    return t


@corpus.command("stats")
@click.option("--by", "by", type=click.Choice(["level", "region", "year"]), multiple=True,
              help="分组：level（层级）、region（省份）、year（年度）；可重复，默认三者都列")
@click.option("--year", type=int, default=None, help="只统计某一年度")
@click.option("--level", default=None, help="只统计某一层级")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table：终端表格；json：机器可读")
@DB_OPTION
def stats_cmd(by, year, level, fmt, db):
    """统计：发布与按期报送情况（按层级、省份、年度），法定部分齐全率，评分分布。"""
    from ..model import PART_IDS, PART_LABELS, REQUIRED_PARTS
    from . import db as dbm
    from .stats import bar, corpus_stats

    eng = dbm.connect(db, write=False)
    groups = tuple(by) or ("level", "region", "year")
    try:
        st = corpus_stats(eng, groups, year=year, level=level)
    except compare.CompareError as e:
        _fail(str(e))
    if fmt == "json":
        click.echo(json.dumps(st, ensure_ascii=False, indent=1))
        return
    con = Console()
    n = st["reports"]
    filt = _filters_text(year, level)
    if not n:
        click.echo("报告库中没有符合条件的报告。")
        return
    tot = st["timeliness"]
    con.print(_timeliness_table(f"发布与时效（共 {n} 份报告{('，' + filt) if filt else ''}）", "范围",
                                [("全部", tot)]))
    for g in groups:
        label = compare.GROUP_LABELS[g]
        con.print(_timeliness_table(f"发布与时效：按{label}", label,
                                    [(r["label"], r) for r in st["by"][g]]))
    # statutory parts
    t = Table(title="法定部分：含有该部分的报告", title_justify="left")
    t.add_column("法定部分")
    t.add_column("报告数", justify="right")
    t.add_column("占比", justify="right")
    for p in PART_IDS:
        c = tot["parts"][p]
        t.add_row(PART_LABELS[p] + ("" if p in REQUIRED_PARTS else "（非必需）"), str(c["count"]),
                  f"{c['share'] * 100:.1f}%")
    t.add_row("[bold]四个法定部分齐全[/bold]", str(tot["all_parts"]), f"{tot['all_parts_share'] * 100:.1f}%")
    con.print(t)
    if by:  # the parts per group only when asked for a grouping
        for g in groups:
            label = compare.GROUP_LABELS[g]
            t = Table(title=f"法定部分齐全率：按{label}", title_justify="left")
            t.add_column(label, overflow="fold")
            t.add_column("报告数", justify="right")
            for p in REQUIRED_PARTS:
                t.add_column(PART_LABELS[p], justify="right", overflow="fold")
            t.add_column("四部分齐全", justify="right", overflow="fold")
            for r in st["by"][g]:
                t.add_row(escape(r["label"]), str(r["reports"]),
                          *[f"{r['parts'][p]['share'] * 100:.1f}%" for p in REQUIRED_PARTS],
                          f"{r['all_parts_share'] * 100:.1f}%")
            con.print(t)
    # scores
    t = Table(title="评分分布", title_justify="left")
    for col in ("评分", "份数", "平均", "最低", "下四分位", "中位数", "上四分位", "最高"):
        t.add_column(col, justify="left" if col == "评分" else "right")
    for k, s in st["scores"].items():
        if not s["count"]:
            continue
        t.add_row(s["label"], str(s["count"]), *[f"{s[x]:.1f}" for x in ("mean", "min", "q1", "median", "q3", "max")])
    con.print(t)
    most = max((b["count"] for b in st["histogram"]), default=0)
    click.echo("总分分布（每 10 分一档）：")
    for b in st["histogram"]:
        hi = f"{b['hi']}]" if b["hi"] == 100 else f"{b['hi']})"
        rng = f"[{b['lo']:>3}, {hi}"
        click.echo(f"  {rng:<11}{bar(b['count'], most):<30} {b['count']}")
