"""The ``fazhi`` command line.  Messages for the user are in Chinese.

Start-up stays light: ``fazhi analyze one.txt`` imports neither SQLAlchemy nor
the web stack.  The command groups that need them (``corpus``, ``serve``,
``user``, ``ledger``, ``draft``) are loaded when they are used (``LazyGroup``);
a module that adds a top-level command is listed in ``LAZY_COMMANDS``.

Every file is analysed in the sandbox (``fazhi.sandbox``): worker processes with a
memory cap and a deadline, several files at once, one bad file costing only itself.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .ingest import EXTENSIONS, SUPPORTED, display_name
from .model import LEVEL_LABELS, PART_LABELS

err = Console(stderr=True, soft_wrap=True, highlight=False)

# top-level commands that live beside their code: name -> module that registers it on ``main``
LAZY_COMMANDS = {
    "serve": "fazhi.web.commands",
    "user": "fazhi.web.commands",
    "ledger": "fazhi.ledger.commands",
    "draft": "fazhi.ledger.commands",
}


class LazyGroup(click.Group):
    """A group whose commands are registered by modules imported on first use.

    ``lazy``: command name -> module; ``lazy_modules``: a callable giving modules
    that register any number of commands (imported when a name is not found or
    the commands are listed)."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, lazy_modules=None, **kw):
        super().__init__(*args, **kw)
        self.lazy = dict(lazy or {})
        self.lazy_modules = lazy_modules
        self._loaded = False

    def _load_all(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for mod in sorted(set(self.lazy.values())) + list(self.lazy_modules() if self.lazy_modules else ()):
            importlib.import_module(mod)

    def list_commands(self, ctx):
        self._load_all()
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None and name in self.lazy:
            importlib.import_module(self.lazy[name])
            cmd = super().get_command(ctx, name)
        if cmd is None and self.lazy_modules is not None and not self._loaded:
            self._load_all()
            cmd = super().get_command(ctx, name)
        return cmd


def expand(paths) -> list[Path]:
    """Files as given; a directory means every supported file under it."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in EXTENSIONS))
        else:
            out.append(p)
    return out


def shown(path) -> str:
    """A path for messages: decodable whatever bytes the name has, rich markup escaped."""
    return escape(display_name(path))


def _job(path: Path, max_bytes: int | None):
    from .sandbox import Job

    return Job(name=display_name(path), path=os.fspath(path), max_bytes=max_bytes, key=path)


def analyze_safe(path: Path, max_bytes: int | None = None):
    """(report, None) or (None, Chinese error) for one file, analysed in the sandbox; never raises."""
    from .sandbox import local

    with local(1) as sb:
        res = sb.run(_job(Path(path), max_bytes))
    return (res.value, None) if res.ok else (None, res.error)


def each_report(files, max_bytes: int | None, failed: list):
    """(path, report) for each file that reads, in order (analysed in the sandbox,
    several at once); the others are reported in Chinese on stderr and appended
    to ``failed``.  OCR progress per page goes to stderr."""
    from .sandbox import local

    files = list(files)

    def progress(job, done: int, total: int) -> None:
        err.print(f"[dim]OCR 识别 {escape(job.name)}：第 {done}/{total} 页[/dim]")

    with local(min(len(files), _workers()) or 1) as sb:
        for res in sb.imap((_job(f, max_bytes) for f in files), ordered=True, progress=progress):
            if not res.ok:
                failed.append(res.key)
                err.print(f"[red]错误：[/red]{shown(res.key)}：{escape(res.error or '')}")
                if res.detail and os.environ.get("FAZHI_DEBUG"):
                    err.print(escape(res.detail))
                continue
            yield res.key, res.value


def _workers() -> int:
    from . import settings

    return settings.get("WORKERS")


def _dump(d: dict, indent: int | None = 1) -> str:
    return json.dumps(d, ensure_ascii=False, indent=indent)


def _summary_table(report) -> Table:
    m = report.meta
    t = Table(title=escape(m.title or "（未识别标题）"), show_header=False, title_justify="left")
    t.add_column("项目", style="bold", no_wrap=True)
    t.add_column("内容", overflow="fold", ratio=1)
    region = "".join(x for x in (m.region.province, m.region.city, m.region.county) if x) or "—"
    t.add_row("文件", escape(report.source.path))
    t.add_row("单位", escape(f"{m.unit or '—'}（{LEVEL_LABELS.get(m.level, '未识别')}）"))
    t.add_row("地区", region)
    t.add_row("年度", str(m.year or "—"))
    t.add_row("发布日期 / 成文日期", f"{m.published or '—'} / {m.signed or '—'}")
    if m.doc_number or m.index_number:
        t.add_row("发文字号 / 索引号", f"{m.doc_number or '—'} / {m.index_number or '—'}")
    parts = "\n".join(f"{PART_LABELS[p.part]}：{escape(p.heading)}" for p in report.parts) or "—"
    t.add_row("法定内容", parts)
    ind = [f for f in report.facts if f.indicator]
    t.add_row("数据", f"共 {len(report.facts)} 个数量，其中 {len(ind)} 个对应指标")
    sev = {"error": "[red]错误[/red]", "warning": "[yellow]警告[/yellow]", "info": "[blue]提示[/blue]"}
    t.add_row("问题", "\n".join(f"{sev[f.severity]} {escape(f.message)}" for f in report.findings) or "[green]未发现问题[/green]")
    return t


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fazhi")
def main():
    """fazhi：法治政府建设年度报告分析工具。"""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "table"]), default=None,
              help="输出格式：json（单个文件）、jsonl（每行一个）、table（终端摘要）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="把每个文件的结果写到 DIR/<文件名>.json")
@click.option("--max-size", type=float, default=None, help="单个文件大小上限（MB），默认 30")
def analyze(paths, fmt, out_dir, max_size):
    """分析报告文件（txt/md/html/docx/pdf），输出结构化结果。目录表示其下所有支持的文件。"""
    files = expand(paths)
    if not files:
        err.print(f"[red]错误：[/red]没有找到可分析的文件（支持 {SUPPORTED}）")
        sys.exit(2)
    max_bytes = int(max_size * 1048576) if max_size else None
    fmt = fmt or ("json" if len(files) == 1 else "jsonl")
    out = Path(out_dir) if out_dir else None
    if out:
        _make_dir(out)
    console = Console()
    failed: list = []
    used_names: set[str] = set()
    for f, report in each_report(files, max_bytes, failed):
        d = report.to_dict()
        if out:
            stem = display_name(f.stem).replace("/", "_").replace("\\", "_") or "report"
            name = stem
            k = 1
            while name in used_names:
                k += 1
                name = f"{stem}-{k}"
            used_names.add(name)
            try:
                (out / f"{name}.json").write_text(_dump(d), encoding="utf-8")
            except OSError as e:
                failed.append(f)
                err.print(f"[red]错误：[/red]无法写入 {shown(out / (name + '.json'))}：{escape(e.strerror or str(e))}")
        elif fmt == "table":
            console.print(_summary_table(report))
        elif fmt == "json" and len(files) == 1:
            click.echo(_dump(d))
        else:
            click.echo(_dump(d, None))
    if out:
        err.print(f"已写入 {len(files) - len(failed)} 个结果到 {shown(out)}" + (f"，{len(failed)} 个文件失败" if failed else ""))
    sys.exit(1 if failed else 0)


def _make_dir(path: Path) -> None:
    """Create an output folder or exit with a Chinese message (never a traceback)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        err.print(f"[red]错误：[/red]无法创建输出目录 {shown(path)}：{escape(e.strerror or str(e))}")
        sys.exit(2)


SEV_STYLE = {"error": ("错误", "bold red"), "warning": ("警告", "yellow"), "info": ("提示", "cyan")}


def _findings_table(report) -> Table:
    from .scores import SCORE_LABELS

    m = report.meta
    head = f"{escape(m.title or '（未识别标题）')}  [dim]{escape(report.source.path)}[/dim]"
    sc = "  ".join(f"{SCORE_LABELS[k]} {v:g}" for k, v in report.scores.items())
    t = Table(title=head, caption=f"评分：{sc}" if sc else None, title_justify="left", caption_justify="left")
    t.add_column("级别", no_wrap=True)
    t.add_column("规则", style="dim", no_wrap=True)
    t.add_column("问题与修改建议", overflow="fold", ratio=1)
    order = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(report.findings, key=lambda f: order[f.severity]):
        label, style = SEV_STYLE[f.severity]
        msg = escape(f.message)
        if f.start is not None and f.end is not None:
            ctx = " ".join(report.text[f.start:min(f.end, f.start + 40)].split())
            msg += f"\n[dim]原文：{escape(ctx)}{'…' if f.end - f.start > 40 else ''}[/dim]"
        t.add_row(f"[{style}]{label}[/{style}]", f.rule, msg)
    if not report.findings:
        t.add_row("[green]通过[/green]", "", "未发现问题", "")
    return t


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False), default=None,
              help="规则文件（YAML/TOML），覆盖或扩充内置的全国规则集")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl"]), default="table",
              help="输出格式：table（终端表格，默认）、json、jsonl")
@click.option("--html", "html_out", type=click.Path(), default=None,
              help="写出体检报告网页：一个文件时为 OUT.html，多个文件时为目录")
@click.option("--max-size", type=float, default=None, help="单个文件大小上限（MB），默认 30")
def check(paths, rules_file, fmt, html_out, max_size):
    """检查报告：法定部分、年度、时效、数据一致性等；存在“错误”级问题时以非零状态退出。"""
    from .findings import evaluate
    from .rules import RuleError, load_config, load_rules
    from .sandbox import apply_caps

    files = expand(paths)
    if not files:
        err.print(f"[red]错误：[/red]没有找到可检查的文件（支持 {SUPPORTED}）")
        sys.exit(2)
    try:
        rules = load_rules(rules_file) if rules_file else None
        rubric = load_config(rules_file).get("scores") if rules_file else None
    except RuleError as e:
        err.print(f"[red]错误：[/red]{e}")
        sys.exit(2)
    max_bytes = int(max_size * 1048576) if max_size else None
    html_dir = None
    if html_out and len(files) > 1:
        html_dir = Path(html_out)
        _make_dir(html_dir)
    console = Console()
    failed: list = []
    errors = 0
    for f, report in each_report(files, max_bytes, failed):
        if rules is not None or rubric is not None:
            from .scores import rubric as load_rubric

            evaluate(report, rules, load_rubric(rubric))
            apply_caps(report)
        errors += any(x.severity == "error" for x in report.findings)
        if html_out:
            from .report_card import write

            target = html_dir / f"{display_name(f.stem)}.html" if html_dir else Path(html_out)
            try:
                write(report, target)
            except OSError as e:
                err.print(f"[red]错误：[/red]无法写出体检报告 {shown(target)}：{escape(e.strerror or str(e))}")
                failed.append(f)
                continue
            err.print(f"已写出体检报告：{shown(target)}")
        if fmt == "table":
            console.print(_findings_table(report))
        else:
            click.echo(_dump(report.to_dict(), 1 if fmt == "json" and len(files) == 1 else None))
    if len(files) > 1 and fmt == "table":
        console.print(f"共检查 {len(files)} 个文件：{errors} 个存在错误，{len(failed)} 个无法读取。")
    sys.exit(1 if (errors or failed) else 0)


DB_OPTION = click.option("--db", "db", default=None, envvar="FAZHI_DB", show_default=False,
                         help="数据库：SQLite 文件路径（默认 ./fazhi.db）或 postgresql://… 地址")


def _corpus_modules() -> list[str]:
    """Corpus subcommands live beside their code (fazhi/corpus/commands_*.py)."""
    import pkgutil

    from . import corpus as pkg

    return [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("commands_")]


@main.group(cls=LazyGroup, lazy_modules=_corpus_modules)
def corpus():
    """报告库：批量入库、对比、导出、统计、查抄袭、查承诺落实。"""


@main.command()
@click.argument("query")
@DB_OPTION
@click.option("--limit", type=int, default=20, show_default=True, help="最多显示多少条")
def search(query, db, limit):
    """在报告库中全文检索（中文分词），列出匹配的报告和原文片段。"""
    from .corpus import db as dbm
    from .corpus.store import search as do_search

    eng = dbm.connect(db)
    hits = do_search(eng, query, limit)
    if not hits:
        click.echo(f"没有找到包含“{query}”的报告。")
        return
    t = Table(title=f"检索“{escape(query)}”：{len(hits)} 条", title_justify="left")
    t.add_column("单位")
    t.add_column("年度", justify="right")
    t.add_column("原文片段", overflow="fold", ratio=1)
    for h in hits:
        t.add_row(escape(h.unit or "—"), str(h.year or "—"), escape(h.snippet).replace("【", "[bold red]").replace("】", "[/bold red]"))
    Console().print(t)


@main.command("eval")
@click.argument("gold_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--strict-null", is_flag=True, help="gold 为空而预测非空时计为错误（annotation.md 的严格口径）")
@click.option("--per-file", is_flag=True, help="逐个文件列出差异")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出全部结果")
def eval_cmd(gold_dir, input_dir, strict_null, per_file, as_json):
    """对照 gold 标注评测：分析 INPUT_DIR 中与 GOLD_DIR/<名>.json 同名的报告，输出精确率/召回率/F1。"""
    from .evaluate import Scores, score_one

    from .sandbox import Job, local

    res = Scores()
    inputs = {}
    for f in expand([input_dir]):
        inputs.setdefault(f.stem, f)
    golds = sorted(Path(gold_dir).glob("*.json"))
    if not golds:
        err.print("[red]错误：[/red]gold 目录中没有 .json 文件")
        sys.exit(2)
    preds: dict[str, dict] = {}
    todo = [(g, inputs[g.stem]) for g in golds if g.stem in inputs]
    with local(min(len(todo), _workers()) or 1) as sb:
        jobs = (Job(name=display_name(src), path=os.fspath(src), want="dict", key=g.stem) for g, src in todo)
        for r in sb.imap(jobs):
            if r.ok:
                preds[r.key] = r.value
            else:
                err.print(f"[red]错误：[/red]{escape(r.name)}：{escape(r.error or '')}（按空结果计分）")
    for g in golds:
        gold = json.loads(g.read_text(encoding="utf-8"))
        if g.stem not in inputs:
            err.print(f"[yellow]提示：[/yellow]{escape(g.stem)} 没有对应的输入文件，按空结果计分")
        score_one(res, g.stem, gold, preds.get(g.stem, {}), strict_null=strict_null)
    pp, pr, pf = res.parts_prf
    fp_, fr, ff = res.facts_prf
    if as_json:
        click.echo(_dump({"parts": {"p": pp, "r": pr, "f1": pf, "headings_exact": res.headings},
                          "facts": {"p": fp_, "r": fr, "f1": ff, "tp_fp_fn": res.facts},
                          "meta": {k: {"ok": v[0], "n": v[1]} for k, v in res.meta.items()},
                          "meta_acc": res.meta_acc, "per_file": res.per_file}))
        return
    if per_file:
        for name, row in res.per_file.items():
            click.echo(f"{name}: 缺部分={row['parts_missing']} 多部分={row['parts_extra']} "
                       f"数据 P/R/F={row['facts'][0]:.2f}/{row['facts'][1]:.2f}/{row['facts'][2]:.2f} "
                       f"漏={row['facts_missed']} 多={row['facts_extra']} 元数据错={row['meta_wrong']}")
    t = Table(title=f"评测结果（{len(golds)} 份报告" + ("，严格口径" if strict_null else "") + "）")
    for col in ("项目", "精确率 P", "召回率 R", "F1 / 准确率"):
        t.add_column(col, justify="right" if col != "项目" else "left")
    t.add_row("法定部分 parts", f"{pp:.3f}", f"{pr:.3f}", f"{pf:.3f}")
    t.add_row(f"  标题完全一致 {res.headings[0]}/{res.headings[1]}", "", "", "")
    t.add_row(f"数据 facts (tp={res.facts[0]} fp={res.facts[1]} fn={res.facts[2]})", f"{fp_:.3f}", f"{fr:.3f}", f"{ff:.3f}")
    for k, (ok, n) in sorted(res.meta.items()):
        t.add_row(f"元数据 {k}", "", "", f"{ok}/{n}")
    t.add_row("元数据总准确率 meta", "", "", f"{res.meta_acc:.3f}")
    Console().print(t)
    click.echo(f"overall parts_f1={pf:.3f} facts_f1={ff:.3f} meta_acc={res.meta_acc:.3f}")


if __name__ == "__main__":
    main()
