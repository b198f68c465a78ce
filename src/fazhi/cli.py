"""The ``fazhi`` command line.  Messages for the user are in Chinese.

Start-up stays light: ``fazhi analyze one.txt`` imports neither SQLAlchemy nor
the web stack.  The commands that need them (``corpus``, ``serve``, ``user``,
``ledger``, ``draft``, ``roster``, ``rules``) are defined by their features and
loaded by name when they are used (``LAZY_COMMANDS``, ``clikit.LazyGroup``); no
feature imports this module (what they share is in ``fazhi.clikit``).

Every file is analysed in the sandbox (``fazhi.sandbox``): worker processes with a
memory cap and a deadline, several files at once, one bad file costing only itself.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import recache

recache.install()  # before the engine's ~370 patterns are compiled (start-up time)

from .ingest import EXTENSIONS, SUPPORTED, display_name
from .model import LEVEL_LABELS, PART_LABELS
from .clikit import DB_OPTION, Console, LazyConsole, LazyGroup, Table, err, escape, output_dir, output_file


# the commands that live beside their code, registered by name: each feature owns its
# click command or group ("module:attribute") and never imports this module
LAZY_COMMANDS = {
    "corpus": "fazhi.corpus.commands:corpus",
    "serve": "fazhi.web.commands:serve",
    "user": "fazhi.web.commands:user_group",
    "ledger": "fazhi.ledger.commands:ledger",
    "draft": "fazhi.ledger.commands:draft_cmd",
    "roster": "fazhi.corpus.commands_roster:roster",
    "rules": "fazhi.corpus.commands_rules:rules_group",
}


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
        for res in sb.imap((_job(f, max_bytes) for f in files), ordered=True, progress=progress, ahead=1):
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


def _summary_table(report):
    m = report.meta
    t = Table(title=escape(m.title or "（未识别标题）"), show_header=False, title_justify="left")
    t.add_column("项目", style="bold", no_wrap=True)
    t.add_column("内容", overflow="fold", ratio=1)
    region = "".join(x for x in (m.region.province, m.region.city, m.region.county) if x) or "—"
    t.add_row("文件", escape(report.source.path))
    t.add_row("单位", escape(f"{m.unit or '—'}（{LEVEL_LABELS.get(m.level, '未识别')}）"))
    t.add_row("地区", escape(region))
    t.add_row("年度", str(m.year or "—"))
    t.add_row("发布日期 / 成文日期", f"{m.published or '—'} / {m.signed or '—'}")
    if m.doc_number or m.index_number:
        t.add_row("发文字号 / 索引号", escape(f"{m.doc_number or '—'} / {m.index_number or '—'}"))
    parts = "\n".join(f"{PART_LABELS[p.part]}：{escape(p.heading)}" for p in report.parts) or "—"
    t.add_row("法定内容", parts)
    ind = [f for f in report.facts if f.indicator]
    t.add_row("数据", f"共 {len(report.facts)} 个数量，其中 {len(ind)} 个对应指标")
    sev = {"error": "[red]错误[/red]", "warning": "[yellow]警告[/yellow]", "info": "[blue]提示[/blue]"}
    t.add_row("问题", "\n".join(f"{sev[f.severity]} {escape(f.message)}" for f in report.findings)
              or "[green]未发现问题[/green]")
    return t


class _Main(LazyGroup):
    """The ``fazhi`` group: a database fault in any command (disk full, read-only,
    corrupt, busy, unreachable) ends it with the Chinese message and exit status 3,
    never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as e:
            from .corpus.faults import EXIT_STATUS, fault_of

            fault = fault_of(e)
            if fault is None:
                raise
            err.print(f"[red]错误：[/red]{escape(fault.message)}")
            sys.exit(EXIT_STATUS)


@click.group(cls=_Main, lazy=LAZY_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fazhi")
def main():
    """fazhi：法治政府建设年度报告分析工具。"""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "table"]), default=None,
              help="输出格式：json（单个文件）、jsonl（每行一个）、table（终端摘要）")
@click.option("--out", "out_dir", default=None,
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
    out = output_dir(out_dir) if out_dir else None
    console = LazyConsole()
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
                from .corpus.faults import os_reason

                failed.append(f)
                err.print(f"[red]错误：[/red]无法写入 {shown(out / (name + '.json'))}：{escape(os_reason(e))}")
        elif fmt == "table":
            console.print(_summary_table(report))
        elif fmt == "json" and len(files) == 1:
            click.echo(_dump(d))
        else:
            click.echo(_dump(d, None))
    if out:
        err.print(f"已写入 {len(files) - len(failed)} 个结果到 {shown(out)}" + (f"，{len(failed)} 个文件失败" if failed else ""))
    sys.exit(1 if failed else 0)


META_LABELS = {"title": "标题", "unit": "单位", "level": "层级", "year": "年度", "published": "发布日期",
               "signed": "成文日期", "doc_number": "发文字号", "index_number": "索引号"}


def explanation(report) -> dict:
    """For each value of a report, which rule decided it and on what evidence."""
    from .facts import HOW, load_catalog, matched_words
    from .textnorm import shadow

    why = report.why or {}
    mwhy, spans = why.get("meta", {}), why.get("meta_spans", {})
    m = report.meta
    meta = {}
    for fld in META_LABELS:
        val = getattr(m, fld)
        span = spans.get(fld)
        meta[fld] = {"value": val, "why": mwhy.get(fld) or ("未找到" if val is None else ""),
                     "evidence": report.text[span[0]:span[1]] if span else None}
    region = "".join(x for x in (m.region.province, m.region.city, m.region.county) if x) or None
    meta["region"] = {"value": region, "why": "正文点名的地名及单位名称所在的行政区划" if region else "未找到",
                      "evidence": None}
    parts = [{"part": p, "heading": h, "why": r} for h, p, r in why.get("parts", [])]
    cat = load_catalog()
    facts = []
    for f, how in zip(report.facts, why.get("facts", [None] * len(report.facts))):
        if not f.indicator and how != "plan":
            continue
        words = matched_words(f.indicator, shadow(f.quote)) if f.indicator else []
        facts.append({"quote": f.quote, "value": f.value, "indicator": f.indicator,
                      "label": cat.get(f.indicator, {}).get("label") if f.indicator else None,
                      "why": HOW.get(how, "") + (f"：{'、'.join(words)}" if words else "")})
    return {"meta": meta, "parts": parts, "facts": facts}


SEV_STYLE = {"error": ("错误", "bold red"), "warning": ("警告", "yellow"), "info": ("提示", "cyan")}


def _findings_table(report):
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
        t.add_row(f"[{style}]{label}[/{style}]", escape(f.rule), msg)
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
@click.option("--annotate", "annotate_out", type=click.Path(dir_okay=False), default=None,
              help="写出批注版 Word 文档：每个问题作为批注标在原文处（只用于一个 .docx 文件）")
def check(paths, rules_file, fmt, html_out, max_size, annotate_out):
    """检查报告：法定部分、年度、时效、数据一致性等；存在“错误”级问题时以非零状态退出。"""
    from .findings import evaluate
    from .rules import RuleError, RuleSet, compiled
    from .sandbox import apply_caps

    files = expand(paths)
    if not files:
        err.print(f"[red]错误：[/red]没有找到可检查的文件（支持 {SUPPORTED}）")
        sys.exit(2)
    try:
        rules, rubric = compiled(RuleSet.read(rules_file)) if rules_file else (None, None)
    except RuleError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(2)
    max_bytes = int(max_size * 1048576) if max_size else None
    if annotate_out:
        _annotate_ok(files, annotate_out)
    html_dir = None
    if html_out and len(files) > 1:
        html_dir = output_dir(html_out)
    elif html_out:
        html_out = output_file(html_out)
    console = LazyConsole()
    failed: list = []
    errors = 0
    for f, report in each_report(files, max_bytes, failed):
        if rules is not None:
            evaluate(report, rules, rubric)
            apply_caps(report)
        errors += any(x.severity == "error" for x in report.findings)
        if html_out:
            from .report_card import write

            target = html_dir / f"{display_name(f.stem)}.html" if html_dir else Path(html_out)
            try:
                write(report, target)
            except OSError as e:
                from .corpus.faults import os_reason

                failed.append(f)
                err.print(f"[red]错误：[/red]无法写出体检报告 {shown(target)}：{escape(os_reason(e))}")
            else:
                err.print(f"已写出体检报告：{shown(target)}")
        if annotate_out:
            _annotate(f, report, annotate_out, rules)
        if fmt == "table":
            console.print(_findings_table(report))
        else:
            click.echo(_dump(report.to_dict(), 1 if fmt == "json" and len(files) == 1 else None))
    if len(files) > 1 and fmt == "table":
        console.print(f"共检查 {len(files)} 个文件：{errors} 个存在错误，{len(failed)} 个无法读取。")
    sys.exit(1 if (errors or failed) else 0)


@main.command()
@click.argument("path")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              help="输出格式：table（终端表格，默认）、json")
@click.option("--max-size", type=float, default=None, help="单个文件大小上限（MB），默认 30")
def explain(path, fmt, max_size):
    """逐项说明分析结果的依据：标题、单位、层级、年度、日期、各法定部分、各项数据由哪条规则、依据原文哪一处得出。"""
    max_bytes = int(max_size * 1048576) if max_size else None
    report, error = analyze_safe(Path(path), max_bytes)
    if error:
        err.print(f"[red]错误：[/red]{escape(path)}：{escape(error)}")
        sys.exit(1)
    ex = explanation(report)
    if fmt == "json":
        click.echo(_dump(ex))
        return
    console = LazyConsole()
    t = Table(title=f"分析依据：{escape(path)}", title_justify="left")
    for col in ("项目", "结果", "依据"):
        t.add_column(col, overflow="fold", ratio=1 if col == "依据" else None)
    for fld, row in ex["meta"].items():
        val = row["value"]
        if fld == "level":
            val = LEVEL_LABELS.get(val, "未识别") if val else None
        why = row["why"] + (f"\n[dim]原文：{escape(row['evidence'])}[/dim]" if row.get("evidence") else "")
        t.add_row(META_LABELS.get(fld, "地区"), escape(str(val)) if val is not None else "—", why)
    for p in ex["parts"]:
        t.add_row(f"法定部分：{PART_LABELS[p['part']]}", escape(p["heading"]), escape(p["why"]))
    if not ex["parts"]:
        t.add_row("法定部分", "—", "没有找到属于法定部分的标题")
    for f in ex["facts"]:
        v = f"{f['value']:g}"
        what = f"{f['label']}＝{v}" if f["indicator"] else f"（不计）{v}"
        t.add_row(f"数据：{escape(f['quote'])}", what, escape(f["why"]))
    console.print(t)


def _annotate_ok(files, out) -> None:
    """--annotate: one .docx, and a target that is not a person's work."""
    from .draft.compose import DraftError
    from .draft.safety import check_target

    msg = None
    if len(files) != 1 or files[0].suffix.lower() != ".docx":
        msg = "--annotate 只用于一个 Word 文档（.docx）：批注写在该文档的副本中"
    elif Path(out).resolve() == files[0].resolve():
        msg = "批注版不能覆盖被检查的文档本身，请另起一个文件名，如 批注版.docx"
    elif Path(out).suffix.lower() != ".docx":
        msg = "批注版是 Word 文档，文件名应以 .docx 结尾"
    else:
        try:
            check_target(out, what="批注版")
        except DraftError as e:
            msg = str(e).replace("或确认可以覆盖后加 --force", "或先删除该文件")
    if msg:
        err.print(f"[red]错误：[/red]{escape(msg)}")
        sys.exit(2)


def _annotate(path, report, out, rules) -> None:
    from .draft.annotate import annotate
    from .draft.compose import DraftError

    try:
        n = annotate(path, report, out, rules)
    except DraftError as e:
        err.print(f"[red]错误：[/red]{escape(str(e))}")
        sys.exit(1)
    except OSError as e:
        err.print(f"[red]错误：[/red]无法写入 {escape(str(out))}：{e.strerror or e}")
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - a Chinese message, never a traceback
        err.print(f"[red]错误：[/red]批注版未能生成（内部错误：{type(e).__name__}），请将此文件反馈给开发者")
        sys.exit(1)
    err.print(f"已写出批注版：{escape(str(out))}（{n['comments']} 条批注，其中 {n['anchored']} 条标在原文处"
              + (f"，已替换上次的 {n['removed']} 条批注" if n["removed"] else "") + "）")


def _marked(snippet: str) -> str:
    """A search snippet for rich: the text escaped, the 【】 marks (balanced) made bold red."""
    out, buf, open_ = [], [], False
    for ch in snippet + "\0":
        if ch in "【】\0" and ((ch == "【") != open_ or ch == "\0"):
            out.append(escape("".join(buf)))
            buf = []
            if ch != "\0":
                out.append("[/bold red]" if open_ else "[bold red]")
                open_ = not open_
        else:
            buf.append(ch)
    return "".join(out) + ("[/bold red]" if open_ else "")


@main.command()
@click.argument("query")
@DB_OPTION
@click.option("--limit", type=int, default=20, show_default=True, help="最多显示多少条")
def search(query, db, limit):
    """在报告库中全文检索（中文分词；单位名称等短词和含“街、镇、乡、区、县、局”等的词另按原文逐字查找），列出报告编号、单位、年度和原文片段。"""
    from .corpus import db as dbm
    from .corpus.store import search as do_search

    eng = dbm.connect(db, write=False)
    hits = do_search(eng, query, limit)
    if not hits:
        click.echo(f"没有找到包含“{query}”的报告。")
        return
    t = Table(title=f"检索“{escape(query)}”：{len(hits)} 条" + ("（可用 --limit 显示更多）" if len(hits) >= limit else ""),
              title_justify="left", caption="编号可用于 fazhi corpus copies --detail 等命令", caption_justify="left")
    t.add_column("编号", justify="right", no_wrap=True)
    t.add_column("单位")
    t.add_column("年度", justify="right", no_wrap=True)
    t.add_column("段", justify="right", no_wrap=True)
    t.add_column("原文片段", overflow="fold", ratio=1)
    for h in hits:
        t.add_row(str(h.report_id), escape(h.unit or "—"), str(h.year or "—"), str(h.para_no + 1),
                  _marked(h.snippet))
    Console().print(t)


@main.command("eval")
@click.argument("gold_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--strict-null", is_flag=True, help="gold 为空而预测非空时计为错误（annotation.md 的严格口径）")
@click.option("--per-file", is_flag=True, help="逐个文件列出差异")
@click.option("--worst", type=int, default=5, show_default=True, help="列出差错最多的几个文件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出全部结果")
def eval_cmd(gold_dir, input_dir, strict_null, per_file, worst, as_json):
    """对照 gold 标注评测：分析 INPUT_DIR 中与 GOLD_DIR/<名>.json 同名的报告，输出精确率/召回率/F1。

    结果按文件组（名称去掉末尾编号：seed、excerpt、excerpt-a …）和字段分别列出。"""
    from .evaluate import Scores, errors_of, group_of, score_one

    from .sandbox import Job, local

    res = Scores()
    groups: dict[str, Scores] = {}
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
        pred = preds.get(g.stem, {})
        score_one(res, g.stem, gold, pred, strict_null=strict_null)
        score_one(groups.setdefault(group_of(g.stem), Scores()), g.stem, gold, pred, strict_null=strict_null)
    pp, pr, pf = res.parts_prf
    fp_, fr, ff = res.facts_prf
    ranked = sorted(res.per_file.items(), key=lambda kv: -errors_of(kv[1]))
    ranked = [(k, v) for k, v in ranked if errors_of(v)][:max(worst, 0)]
    if as_json:
        def figures(s: Scores) -> dict:
            return {"files": len(s.per_file),
                    "parts": dict(zip(("p", "r", "f1"), s.parts_prf), headings_exact=s.headings),
                    "facts": dict(zip(("p", "r", "f1"), s.facts_prf), tp_fp_fn=s.facts),
                    "meta": {k: {"ok": v[0], "n": v[1]} for k, v in sorted(s.meta.items())},
                    "meta_acc": s.meta_acc}
        out = figures(res)
        out["groups"] = {k: figures(v) for k, v in sorted(groups.items())}
        out["worst"] = [k for k, _ in ranked]
        out["per_file"] = res.per_file
        click.echo(_dump(out))
        return
    if per_file:
        for name, row in res.per_file.items():
            click.echo(f"{name}: 缺部分={row['parts_missing']} 多部分={row['parts_extra']} 标题不同={row['headings_wrong']} "
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
    console = LazyConsole()
    console.print(t)
    gt = Table(title="按文件组 / by group", title_justify="left")
    for col in ("组", "文件数", "parts F1", "标题一致", "facts F1", "meta"):
        gt.add_column(col, justify="left" if col == "组" else "right")
    for k, s in sorted(groups.items()):
        gt.add_row(escape(k), str(len(s.per_file)), f"{s.parts_prf[2]:.3f}", f"{s.headings[0]}/{s.headings[1]}",
                   f"{s.facts_prf[2]:.3f}", f"{s.meta_acc:.3f}")
    console.print(gt)
    if ranked:
        click.echo("差错最多的文件 / worst files:")
        for name, row in ranked:
            what = [f"缺{p}" for p in row["parts_missing"]] + [f"多{p}" for p in row["parts_extra"]] \
                + [f"标题{p}" for p in row["headings_wrong"]] \
                + [f"漏{i}={v}" for i, v in row["facts_missed"]] + [f"多{i}={v}" for i, v in row["facts_extra"]] \
                + [f"错{m}" for m in row["meta_wrong"]]
            click.echo(f"  {name}（{errors_of(row)}）：" + "，".join(what))
    for k, s in sorted(groups.items()):
        click.echo(f"group {k} files={len(s.per_file)} parts_f1={s.parts_prf[2]:.3f} "
                   f"facts_f1={s.facts_prf[2]:.3f} meta_acc={s.meta_acc:.3f}")
    click.echo(f"overall parts_f1={pf:.3f} facts_f1={ff:.3f} meta_acc={res.meta_acc:.3f}")


if __name__ == "__main__":
    main()
