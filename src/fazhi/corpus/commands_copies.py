"""``fazhi corpus copies`` (near-duplicate text across units and years) and
``fazhi corpus follow`` (were last year's plans reported done?)."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..clikit import DB_OPTION, err
from .commands import corpus
from ..evaluate import norm_unit


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _unit_ok(unit: str | None, want: str | None) -> bool:
    if not want:
        return True
    if not unit:
        return False
    return norm_unit(unit) == norm_unit(want) or want in unit


_SHORT = {"other": "他单位", "own": "本单位往年", "mutual": "雷同待核"}


def _who(info) -> str:
    return f"{info.unit or '（未识别单位）'} {info.year or '—'}年"


@corpus.command("copies")
@click.option("--top", type=int, default=20, show_default=True, help="最多列出多少份报告")
@click.option("--min-share", type=float, default=0.3, show_default=True,
              help="只列出抄自他单位、沿用往年与相互雷同的文字合计占比不低于此值的报告（0–1）")
@click.option("--unit", default=None, help="只看某个单位的报告（来源仍在全库中查找）")
@click.option("--year", type=int, default=None, help="只看某一年度的报告")
@click.option("--detail", "detail", type=int, default=None, metavar="REPORT_ID",
              help="逐段列出该报告被认定为抄袭/沿用/雷同/通用表述的段落及其来源")
@click.option("--threshold", type=float, default=None,
              help="段落相似度阈值（5 字片段的 Jaccard，默认 0.7）")
@click.option("--containment", type=float, default=None,
              help="包含度阈值（较短段落的 5 字片段出现在另一段中的比例，默认 0.8）")
@click.option("--common-units", type=int, default=None,
              help="同一段文字出现在至少这么多个不同单位的报告中即视为通用表述，不计为抄袭（默认 6）")
@click.option("--build-index", "build_index", is_flag=True,
              help="为已入库的报告补建段落比对索引（可中断后续建；新入库的报告自动建立）")
@DB_OPTION
def copies_cmd(top, min_share, unit, year, detail, threshold, containment, common_units, build_index, db):
    """查抄袭与沿用：全库段落近似重复检测（MinHash LSH），先认定沿用本单位往年表述，再按发布日期和年度判断谁抄自谁；
    同年且日期不能判断先后的列为相互雷同（先后待核）；多个单位共有的文字列为通用表述。"""
    from . import db as dbm
    from . import similarity as sim

    thr = sim.THRESHOLD if threshold is None else threshold
    cont = sim.CONTAINMENT if containment is None else containment
    cu = sim.COMMON_UNITS if common_units is None else common_units
    if not 0 < thr <= 1 or not 0 < cont <= 1:
        err.print("[red]错误：[/red]--threshold 和 --containment 应在 0 到 1 之间")
        sys.exit(2)
    if cu < 2:
        err.print("[red]错误：[/red]--common-units 至少为 2")
        sys.exit(2)
    console = Console()
    if build_index or detail is not None:
        from . import copy_index

        eng = dbm.connect(db)
        if build_index:
            n = copy_index.build_index(
                eng, progress=lambda k: print(f"\r已建立索引 {k} 份报告", end="", file=sys.stderr, flush=True))
            if n:
                print(file=sys.stderr)
            click.echo(f"段落比对索引已是最新：本次补建 {n} 份报告。")
            if detail is None:
                return
        # one report: its stored keys looked up, not the whole corpus recomputed (the same result)
        got = copy_index.copies_of(eng, detail, threshold=thr, containment=cont, common_units=cu)
        if got is None:
            err.print(f"[red]错误：[/red]报告库中没有编号为 {detail} 的报告（或该报告不计入统计）")
            sys.exit(2)
        _detail(console, eng, *got)
        return
    eng = dbm.connect(db, write=False)
    index, res = sim.analyse(eng, threshold=thr, containment=cont, common_units=cu, lean=True)
    if not index.reports:
        click.echo("报告库中还没有报告。请先用 fazhi corpus add 入库。")
        return
    rows = [rc for rc in res.values()
            if rc.share >= min_share and rc.share > 0 and _unit_ok(rc.unit, unit)
            and (year is None or rc.year == year)]
    rows.sort(key=lambda rc: (-rc.other_share, -rc.share, rc.report_id))
    if not rows:
        click.echo(f"没有报告的抄袭、沿用或雷同比例达到 {_pct(min_share)}（共比对 {len(index.reports)} 份报告、"
                   f"{len(index)} 个段落）。")
        return
    t = Table(title=f"抄袭与沿用：{len(rows)} 份报告达到 {_pct(min_share)}"
                    f"（共比对 {len(index.reports)} 份报告、{len(index)} 个段落，相似度阈值 {thr:g}，"
                    f"包含度阈值 {cont:g}，{cu} 个以上单位共有的文字为通用表述）",
              title_justify="left", caption="比例为占全文字数之比：抄自他单位、沿用本单位往年表述、相互雷同（先后待核）、通用表述（不计为抄袭）。"
                      "先后以发布（或成文）日期、再以年度判断。编号可用于 --detail 查看逐段对照",
              caption_justify="left")
    for col, j, nowrap in (("编号", "right", True), ("单位", "left", False), ("年度", "right", True),
                           ("抄自\n他单位", "right", True), ("沿用\n往年", "right", True),
                           ("雷同\n待核", "right", True), ("通用\n表述", "right", True),
                           ("主要来源", "left", False)):
        t.add_column(col, justify=j, overflow="fold", no_wrap=nowrap)
    for rc in rows[:top]:
        src = rc.main_source
        src_txt = "—"
        if src is not None:
            info = index.reports[src]
            src_txt = (f"{_SHORT[rc.source_kinds[src]]}：{escape(_who(info))}"
                       f"（编号 {src}，{_pct(rc.sources[src] / rc.chars)}）")
        t.add_row(str(rc.report_id), escape(rc.unit or "（未识别单位）"), str(rc.year or "—"),
                  _pct(rc.other_share), _pct(rc.own_share), _pct(rc.mutual_share), _pct(rc.common_share), src_txt)
    console.print(t)
    if len(rows) > top:
        click.echo(f"另有 {len(rows) - top} 份报告未列出（--top 调整）。")


def _detail(console: Console, eng, index, rc) -> None:
    from . import similarity as sim

    console.print(f"[bold]{escape(_who(index.reports[rc.report_id]))}[/bold]（编号 {rc.report_id}）："
                  f"抄自他单位 {_pct(rc.other_share)}，沿用本单位往年表述 {_pct(rc.own_share)}，"
                  f"相互雷同（先后待核） {_pct(rc.mutual_share)}，合计 {_pct(rc.share)}；"
                  f"另有通用表述 {_pct(rc.common_share)}（不计为抄袭；共 {rc.chars} 字）")
    if rc.sources:
        parts = [f"{sim.KIND_LABELS[rc.source_kinds[s]]} {escape(_who(index.reports[s]))}（编号 {s}，"
                 f"{_pct(ch / rc.chars)}）" for s, ch in sorted(rc.sources.items(), key=lambda kv: (-kv[1], kv[0]))]
        console.print("来源：" + "；".join(parts))
    if not rc.paragraphs:
        console.print("未发现与其他报告近似重复的段落。")
        return
    bodies = sim.paragraph_bodies(eng, [c.para_id for c in rc.paragraphs] + [c.source_para_id for c in rc.paragraphs])
    t = Table(title="逐段对照", title_justify="left", show_lines=True)
    t.add_column("段", justify="right", no_wrap=True)
    t.add_column("本报告原文", overflow="fold", ratio=1)
    t.add_column("认定与来源", overflow="fold", max_width=20)
    t.add_column("来源原文", overflow="fold", ratio=1)
    t.add_column("相似度 / 包含度", justify="right", no_wrap=True)
    for c in rc.paragraphs:
        info = index.reports[c.source_report]
        t.add_row(str(c.para_no + 1), escape(bodies.get(c.para_id, "").strip()),
                  f"{c.label}：{escape(_who(info))}\n编号 {c.source_report} 第 {c.source_para_no + 1} 段",
                  escape(bodies.get(c.source_para_id, "").strip()), f"{c.jaccard:.2f} / {c.containment:.2f}")
    console.print(t)


@corpus.command("follow")
@click.option("--unit", default=None, help="只看某个单位")
@click.option("--year", type=int, default=None, help="只看某一年度（N）的计划在 N+1 年报告中的落实情况")
@click.option("--threshold", type=float, default=None, help="计划与成效语句的相似度阈值（默认为实测值）")
@DB_OPTION
def follow_cmd(unit, year, threshold, db):
    """查承诺落实：同一单位相邻两年的报告，核对上一年“下一年度安排”在下一年报告中是否写明落实，以及问题是否原样重复。"""
    from . import db as dbm
    from . import follow as fl

    thr = fl.THRESHOLD if threshold is None else threshold
    eng = dbm.connect(db, write=False)
    console = Console()
    n = plans = done = repeats = 0
    for r in fl.follow_corpus(eng, unit, year, threshold=thr):
        n += 1
        plans += len(r.plans)
        done += r.done
        repeats += len(r.repeats)
        nxt = (r.year + 1) if r.year is not None else "—"
        head = (f"[bold]{escape(r.unit or '（未识别单位）')}[/bold]：{r.year}年报告的下一年度安排 → {nxt}年报告"
                f"（编号 {r.report} → {r.next_report}）：已落实 {r.done} / 共 {len(r.plans)}")
        if not r.plans:
            console.print(head + "\n  （该年报告没有识别出“下一年度安排”部分的事项）")
        else:
            t = Table(title=head, title_justify="left", show_lines=True)
            t.add_column("序号", justify="right", no_wrap=True)
            t.add_column("计划事项", overflow="fold", ratio=1)
            t.add_column("状态", no_wrap=True)
            t.add_column(f"依据（{nxt}年报告原文）", overflow="fold", ratio=2)
            t.add_column("相似度", justify="right", no_wrap=True)
            for p in r.plans:
                st = f"[green]{p.status}[/green]" if p.status == fl.DONE else f"[yellow]{p.status}[/yellow]"
                t.add_row(str(p.no), escape(p.title or p.text[:40]), st, escape(p.evidence or "—"), f"{p.score:.2f}")
            console.print(t)
        if r.reused:
            console.print(f"  （{nxt}年报告有 {r.reused} 句成效与{r.year}年报告原文相同或几乎相同，不作为落实依据）")
        if r.repeats:
            t = Table(title=f"问题重复出现：{len(r.repeats)} 处", title_justify="left", show_lines=True)
            t.add_column(f"{r.year}年 存在的不足", overflow="fold", ratio=1)
            t.add_column(f"{nxt}年 存在的不足", overflow="fold", ratio=1)
            t.add_column("相似度", justify="right", no_wrap=True)
            for x in r.repeats:
                t.add_row(escape(x.before), escape(x.after), f"{x.similarity:.2f}")
            console.print(t)
        else:
            console.print("问题重复出现：无")
        console.print()
    if not n:
        click.echo("报告库中没有同一单位相邻两个年度的报告" + ("（按所给条件）" if unit or year else "") + "。")
        return
    click.echo(f"共 {n} 组相邻年度报告：计划 {plans} 项，已落实 {done} 项，未见下文 {plans - done} 项；"
               f"问题重复出现 {repeats} 处（相似度阈值 {thr:g}）。")
