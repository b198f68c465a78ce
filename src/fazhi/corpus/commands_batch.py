"""``fazhi corpus add | failures | info``: batch intake into the corpus database."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fazhi.cli import DB_OPTION, corpus, err
from fazhi.ingest import SUPPORTED


@corpus.command("add")
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@click.option("--workers", type=int, default=None, help="并行进程数（默认：CPU 核数）")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local：本机多进程；dask：Dask 分布式集群")
@click.option("--scheduler", default=None, metavar="tcp://…",
              help="Dask 调度器地址；不给时在本机启动 LocalCluster")
@click.option("--time-limit", type=float, default=60.0, envvar="FAZHI_TIME_LIMIT", show_default=True,
              help="单个文件处理时限（秒），超时记为失败并跳过；0 表示不限")
@click.option("--commit-every", type=int, default=200, show_default=True, help="每处理多少份提交一次")
@click.option("--no-progress", is_flag=True, help="不显示进度条")
def add_cmd(paths, db, workers, engine, scheduler, time_limit, commit_every, no_progress):
    """批量分析并入库（文件或目录，目录递归）；按文件内容 sha256 去重，重复运行只补上未入库的文件。"""
    from .batch import BatchFault, BatchInterrupted, add
    from .faults import EXIT_STATUS

    if scheduler and engine != "dask":
        engine = "dask"
    try:
        st = add(paths, db, workers=workers, engine=engine, scheduler=scheduler, commit_every=commit_every,
                 time_limit=time_limit, progress=not no_progress)
    except BatchInterrupted as e:
        err.print(f"已中断：已保存 {e.stats.added} 份，重新运行同一命令即可继续")
        sys.exit(130)
    except BatchFault as e:
        err.print(f"[red]错误：[/red]{escape(str(e.fault))}")
        err.print(f"已保存 {e.stats.added} 份（完好）；问题解决后重新运行同一命令即可继续")
        sys.exit(EXIT_STATUS)
    for path, msg in st.errors:
        err.print(f"[red]无法打开：[/red]{escape(path)}：{escape(msg)}")
    if st.unreadable > len(st.errors):
        err.print(f"……另有 {st.unreadable - len(st.errors)} 个文件无法打开")
    line = (f"新增 {st.added} 份，跳过 {st.skipped} 份（已在库中），"
            f"失败 {st.failed} 份（原因见 `fazhi corpus failures`）")
    if st.unreadable:
        line += f"，无法打开 {st.unreadable} 个文件"
    rate = st.added / st.seconds if st.seconds else 0.0
    click.echo(line)
    click.echo(f"用时 {st.seconds:.1f} 秒" + (f"，{rate:.1f} 份/秒" if st.added else ""))
    if st.done == 0:
        err.print(f"[red]错误：[/red]没有找到可入库的文件（支持 {SUPPORTED}）")
        sys.exit(2)
    if st.unreadable and st.unreadable == st.done:
        sys.exit(2)


@corpus.command("failures")
@DB_OPTION
@click.option("--limit", type=int, default=None, help="最多显示多少条（默认全部）")
def failures_cmd(db, limit):
    """列出入库失败的文件及其原因。"""
    from sqlalchemy import select

    from . import db as dbm

    eng = dbm.connect(db, write=False)
    q = select(dbm.failures.c.path, dbm.failures.c.error, dbm.failures.c.added_at).order_by(dbm.failures.c.id)
    if limit:
        q = q.limit(limit)
    with eng.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        click.echo("没有失败记录。")
        return
    t = Table(title=f"入库失败：{len(rows)} 个文件", title_justify="left")
    t.add_column("文件", overflow="fold")
    t.add_column("原因", overflow="fold", ratio=1)
    t.add_column("时间", no_wrap=True, style="dim")
    for r in rows:
        t.add_row(escape(r.path), escape(r.error), r.added_at[:19].replace("T", " "))
    Console().print(t)


def _human(n: int) -> str:
    for u in ("B", "KB", "MB", "GB"):
        if n < 1024 or u == "GB":
            return f"{n:.0f} {u}" if u == "B" else f"{n:.1f} {u}"
        n /= 1024
    return str(n)


@corpus.command("info")
@DB_OPTION
def info_cmd(db):
    """报告库概况：报告数、失败数、年度、单位、数据库大小。"""
    import os

    from sqlalchemy import func, select

    from . import db as dbm

    eng = dbm.connect(db, write=False)
    r = dbm.reports.c
    with eng.connect() as conn:
        n = conn.execute(select(func.count()).select_from(dbm.reports)).scalar_one()
        nf = conn.execute(select(func.count()).select_from(dbm.failures)).scalar_one()
        units = conn.execute(select(func.count(func.distinct(r.unit)))).scalar_one()
        years = conn.execute(select(r.year, func.count()).group_by(r.year).order_by(r.year)).all()
    t = Table(title="报告库概况", show_header=False, title_justify="left")
    t.add_column("项目", style="bold")
    t.add_column("内容", overflow="fold")
    t.add_row("数据库", escape(dbm.describe(eng)))
    t.add_row("报告", f"{n} 份")
    t.add_row("失败", f"{nf} 个文件" + ("（见 `fazhi corpus failures`）" if nf else ""))
    t.add_row("单位", f"{units} 个")
    t.add_row("年度", "、".join(f"{y if y is not None else '未识别'}（{c}）" for y, c in years) or "—")
    if dbm.is_sqlite(eng) and eng.url.database:
        size = sum(os.path.getsize(eng.url.database + s) for s in ("", "-wal")
                   if os.path.exists(eng.url.database + s))
        t.add_row("大小", _human(size))
    Console().print(t)
