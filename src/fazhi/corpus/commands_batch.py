"""``fazhi corpus add | failures | info | withdraw | restore-withdrawn | accept | history``:
batch intake into the corpus database, and what a person decides about a stored report."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err
from .commands import corpus
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
@click.option("--retry-failed", is_flag=True, help="重新分析以前失败的文件（如机器繁忙时超时）")
@click.option("--received", default=None, metavar="YYYY-MM-DD",
              help="收到日期：这些报告何日收到（today 表示今天）；报送情况按它判断是否按期")
def add_cmd(paths, db, workers, engine, scheduler, time_limit, commit_every, no_progress, retry_failed, received):
    """批量分析并入库（文件、目录或 .zip 压缩包，目录递归）；按文件内容 sha256 去重，重复运行只补上未入库的文件。
    同一单位同一年度只计一份：其他格式并入同一份报告，内容不同的视为修订版（旧版保留为历史）。
    有文件失败、无法打开或为不支持的文档格式（.doc、.wps 等）时退出码为 1。"""
    from .batch import BatchFault, BatchInterrupted, add
    from .faults import EXIT_STATUS

    if scheduler and engine != "dask":
        engine = "dask"
    from .submissions import SubmissionError, parse_received

    try:
        received_on = parse_received(received)
    except SubmissionError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    try:
        st = add(paths, db, workers=workers, engine=engine, scheduler=scheduler, commit_every=commit_every,
                 time_limit=time_limit, progress=not no_progress, retry_failed=retry_failed,
                 received_on=received_on)
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
    for path, msg in st.failed_names:
        err.print(f"[red]失败：[/red]{escape(path)}：{escape(msg)}")
    if st.failed > len(st.failed_names):
        err.print(f"……另有 {st.failed - len(st.failed_names)} 个文件失败")
    line = (f"新增 {st.added} 份，跳过 {st.skipped} 份（已在库中），"
            f"失败 {st.failed} 份（原因见 `fazhi corpus failures`）")
    if st.unreadable:
        line += f"，无法打开 {st.unreadable} 个文件"
    rate = st.added / st.seconds if st.seconds else 0.0
    click.echo(line)
    for text in summary_lines(st):
        click.echo(text)
    click.echo(f"用时 {st.seconds:.1f} 秒" + (f"，{rate:.1f} 份/秒" if st.added else ""))
    if st.added:
        _refresh_derived(db, st.added)
    if st.done == 0:
        err.print(f"[red]错误：[/red]没有找到可入库的文件（支持 {SUPPORTED}，以及 .zip 压缩包）")
        sys.exit(2)
    if st.unreadable and st.unreadable == st.done:
        sys.exit(2)
    if st.failed or st.unsupported_documents or st.unreadable:
        sys.exit(1)


FULL_REFRESH_SHARE = 0.1   # a batch of at least this share of the counted reports may recompute the copies


def _refresh_derived(db, added: int) -> None:
    """The stored copy shares and follow-through brought up to date after a batch
    (``derived.refresh``), so that the next export reads them: always when only the reports
    the batch touches need recomputing; the whole corpus only when the batch is a large part
    of it (then it is cheap beside the batch).  Else the export does it."""
    import time

    from . import db as dbm
    from . import derived
    from .faults import DatabaseFault
    from .store import count

    t0 = time.perf_counter()
    try:
        eng = dbm.connect(db)
        res = derived.refresh(eng, full=added >= FULL_REFRESH_SHARE * count(eng)[0])
    except DatabaseFault as e:
        err.print(f"[yellow]提示：[/yellow]抄袭雷同、承诺落实的存储结果未能更新（{escape(str(e))}），导出时将重新计算")
        return
    if res["copies"] != "none":
        click.echo(f"已更新抄袭雷同、承诺落实的存储结果（{time.perf_counter() - t0:.1f} 秒），导出时直接读取")


def _names(items, n: int = 10) -> str:
    items = list(items)
    out = "、".join(items[:n])   # plain text (click.echo), never rich markup
    return out + ("……" if len(items) > n else "")


def summary_lines(st) -> list[str]:
    """What the added files are (submissions, genre) and what was left out, in Chinese."""
    out = []
    if st.zips:
        out.append(f"展开压缩包 {st.zips} 个")
    if st.same_report or st.revisions:
        out.append(f"其中同一报告的其他格式或重复文件 {st.same_report} 份（不重复计数），"
                   f"修订版 {st.revisions} 份（取代旧版，旧版保留为历史）")
    if st.other_genre:
        out.append(f"非本类报告 {st.other_genre} 份（已入库，不计入统计；确认后可用 `fazhi corpus accept 编号` 计入）："
                   + _names(f"{p}（{g}）" for p, g in st.other_genre_names))
    if st.withdrawn:
        out.append(f"已撤回，跳过 {st.withdrawn} 份（`fazhi corpus restore-withdrawn 编号` 可恢复）")
    if st.known_failed:
        out.append(f"以前失败的文件 {st.known_failed} 个未重新分析（加 --retry-failed 重试）")
    if st.unsupported:
        out.append(f"不支持的文件 {st.unsupported} 个：" + _names(st.unsupported_names))
    return out


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
    click.echo("问题解决后（或机器空闲时）重新分析：fazhi corpus add 原目录 --retry-failed")


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

    from .submissions import summary

    eng = dbm.connect(db, write=False)
    r = dbm.reports.c
    cur = dbm.counted()
    with eng.connect() as conn:
        n = conn.execute(select(func.count()).select_from(dbm.reports).where(cur)).scalar_one()
        nf = conn.execute(select(func.count()).select_from(dbm.failures)).scalar_one()
        units = conn.execute(select(func.count(func.distinct(r.unit))).where(cur)).scalar_one()
        years = conn.execute(select(r.year, func.count()).where(cur).group_by(r.year).order_by(r.year)).all()
        sm = summary(conn)
    t = Table(title="报告库概况", show_header=False, title_justify="left")
    t.add_column("项目", style="bold")
    t.add_column("内容", overflow="fold")
    t.add_row("数据库", escape(dbm.describe(eng)))
    t.add_row("报告", f"{n} 份（每个单位每年度计一份）")
    extra = [(sm["other_formats"], "同一报告的其他格式"), (sm["old_versions"], "旧版本"),
             (sm["withdrawn"], "已撤回"), (sm["other_genre"], "非本类报告")]
    t.add_row("文件", f"{sm['files']} 个" + ("（另有 " + "、".join(f"{label} {k} 个" for k, label in extra if k) + "，不计入统计）"
                                             if any(k for k, _ in extra) else ""))
    t.add_row("失败", f"{nf} 个文件" + ("（见 `fazhi corpus failures`）" if nf else ""))
    t.add_row("单位", f"{units} 个")
    t.add_row("年度", "、".join(f"{y if y is not None else '未识别'}（{c}）" for y, c in years) or "—")
    if dbm.is_sqlite(eng) and eng.url.database:
        size = sum(os.path.getsize(eng.url.database + s) for s in ("", "-wal")
                   if os.path.exists(eng.url.database + s))
        t.add_row("大小", _human(size))
    Console().print(t)


# ------------------------------------------------------------------ decisions on one report
def _decide(db, report_id: int, action, done: str) -> None:
    from . import db as dbm
    from .submissions import SubmissionError

    eng = dbm.connect(db)
    try:
        with eng.begin() as conn:
            ids = action(conn, report_id)
    except SubmissionError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    others = [i for i in ids if i != report_id]
    click.echo(done.format(id=report_id) + (f"（连同同一报告的其他文件：编号 {'、'.join(map(str, others))}）"
                                            if others else ""))


@corpus.command("withdraw")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1), metavar="编号")
@DB_OPTION
@click.option("--reason", default=None, help="撤回原因（记录在库中）")
def withdraw_cmd(report_id, db, reason):
    """撤回一份报告：不再计入任何统计（该单位该年度如有旧版本，旧版本重新计入）；
    按文件 sha256 记住，重新运行 corpus add 时跳过。"""
    from .submissions import withdraw

    _decide(db, report_id, lambda c, i: withdraw(c, i, reason), "已撤回编号 {id} 的报告")


@corpus.command("restore-withdrawn")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1), metavar="编号")
@DB_OPTION
def restore_withdrawn_cmd(report_id, db):
    """恢复一份已撤回的报告（重新计入统计）。"""
    from .submissions import restore

    _decide(db, report_id, restore, "已恢复编号 {id} 的报告")


@corpus.command("accept")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1), metavar="编号")
@DB_OPTION
def accept_cmd(report_id, db):
    """确认一份被识别为“非本类报告”的文本计入统计（体裁识别有误时使用）。"""
    from .submissions import accept

    _decide(db, report_id, accept, "已确认编号 {id} 的报告计入统计")


@corpus.command("history")
@click.argument("report_id", type=click.IntRange(1, 2**31 - 1), metavar="编号")
@DB_OPTION
def history_cmd(report_id, db):
    """一份报告的全部文件与版本：哪一份计入统计、旧版本、其他格式、撤回。"""
    from . import db as dbm
    from .submissions import SubmissionError, history

    eng = dbm.connect(db, write=False)
    try:
        with eng.connect() as conn:
            rows = history(conn, report_id)
    except SubmissionError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    t = Table(title=f"编号 {report_id} 所在的报告：{len(rows)} 个文件", title_justify="left")
    for col in ("编号", "版本", "状态", "文件", "收到时间"):
        t.add_column(col, overflow="fold")
    newest = max((r["version"] for r in rows), default=1)
    for r in rows:
        state = ("计入统计" if r["is_current"] else
                 f"已撤回（{r['withdraw_reason'] or '未注明原因'}）" if r["withdrawn_at"] else
                 f"非本类报告（{r['genre']}）" if not (r["genre_ok"] or r["accepted"]) else
                 "旧版本（已被修订版取代）" if r["version"] < newest else "同一报告的其他格式")
        t.add_row(str(r["id"]), str(r["version"]), escape(state), escape(r["path"]),
                  (r["received_at"] or "")[:19].replace("T", " "))
    Console().print(t)
