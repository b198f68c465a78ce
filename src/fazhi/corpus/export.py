"""Export the corpus: an Excel workbook to print and send up, CSV, Parquet.

``export(engine, "out.xlsx")`` picks the writer by extension:

- ``.xlsx`` (openpyxl, write-only so that large corpora stay in bounds):
  1. 报告一览 — one row per report: unit, level, region, year, title, dates,
     document number, scores, missing statutory parts, error/warning counts, file;
  2. one sheet per indicator topic — reports (单位, 年度) x the topic's
     indicators, the headline value per cell (``compare.headline``);
  3. 问题清单 — every finding with an excerpt of the text it points at;
  4. 合规矩阵 — reports x rules, ✗ where the report has an error/warning for
     the rule, ✓ otherwise, with conditional fills.
  Bold header, frozen header row, autofilter, widths from content (CJK = 2),
  numbers as numbers with number formats, dates as dates, A4 landscape with the
  header row repeated on every printed page; an optional title row.
- ``.csv`` — the 报告一览 columns, UTF-8 with BOM (Excel opens it right).

Report text is untrusted: a title, unit, file name or excerpt that starts
with ``= + - @``, a tab or a carriage return would be a live formula in a
spreadsheet (``=HYPERLINK(…)``).  In xlsx every such cell is written as a
string cell (``t="s"``, never ``<f>``) with Excel's *quote prefix* style, so
it shows exactly as written and stays text even when someone edits the cell;
in CSV, which has no cell types, it gets a leading apostrophe (the OWASP
guidance), which Excel hides.
- ``.parquet`` — via duckdb (no pyarrow/pandas): ``OUT.parquet`` (reports),
  ``OUT.facts.parquet`` and ``OUT.findings.parquet`` beside it, typed columns.
"""
from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from ..model import PART_LABELS, REQUIRED_PARTS
from ..scores import SCORE_LABELS
from . import compare, db

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
SCORE_KEYS = [k for k in SCORE_LABELS if k != "total"]

FMT_COUNT = "#,##0"
FMT_RATE = "0.0"
FMT_MONEY = "#,##0.00"
FMT_YEAR = "0"
FMT_DATE = "yyyy-mm-dd"
FMT_SCORE = "0.0"
KIND_FORMAT = {"count": FMT_COUNT, "people": FMT_COUNT, "rate": FMT_RATE, "amount": FMT_MONEY}

EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_MAX = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
EXCERPT_MAX = 60
WIDTH_MIN, WIDTH_MAX = 6, 60

FILL_RED = "FFC7CE"
FILL_YELLOW = "FFEB9C"
FILL_GREEN = "C6EFCE"


class ExportError(ValueError):
    """``str(err)`` is a Chinese message."""


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(v) -> bool:
    """A text a spreadsheet would take for a formula (OWASP CSV injection)."""
    return isinstance(v, str) and v.startswith(FORMULA_START)


def csv_safe(v):
    """A CSV cell: formula-like text gets a leading apostrophe."""
    return "'" + v if formula_like(v) else v


def text_cell(ws, v: str):
    """An xlsx cell holding ``v`` as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=v)
    cell.data_type = "s"        # openpyxl would store "=…" as a formula
    cell.quotePrefix = True     # and Excel keeps it text when the cell is edited
    return cell


# ------------------------------------------------------------ sheet model
@dataclass
class Val:
    """A cell value with its own number format (e.g. an approximate count: "约"#,##0)."""
    value: object
    fmt: str | None = None


@dataclass
class Col:
    header: str
    fmt: str | None = None
    comment: str | None = None
    max_width: int = WIDTH_MAX


@dataclass
class Sheet:
    name: str
    cols: list[Col]
    rows: list[list] = field(default_factory=list)
    freeze_cols: int = 0                    # columns kept in view besides the header row
    cond: list[tuple[int, str, str]] = field(default_factory=list)  # (col index, value, fill colour)
    note: str | None = None


def sheet_name(name: str, used: set[str]) -> str:
    """Excel's rules: ≤ 31 characters, none of []:*?/\\, unique (case-insensitive)."""
    base = _BAD_SHEET_CHARS.sub("", name).strip().strip("'") or "工作表"
    base = base[:SHEET_NAME_MAX]
    out, k = base, 1
    while out.lower() in used:
        k += 1
        suffix = f"({k})"
        out = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(out.lower())
    return out


def topic_title(desc: str) -> str:
    """"矛盾纠纷化解 (人民调解、…)" -> "矛盾纠纷化解"."""
    return re.split(r"\s*[(（]", desc or "", maxsplit=1)[0].strip() or desc


_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]")


def text_width(s: str, cap: int = 200) -> int:
    """Display width: CJK / full-width characters count 2 (strings cut at ``cap``: widths are capped anyway)."""
    s = s[:cap]
    return len(s) + len(_WIDE.findall(s))


def _shown(v, fmt: str | None) -> str:
    """Roughly what Excel shows for ``v`` (for column widths)."""
    if v is None:
        return ""
    if isinstance(v, (dt.date, dt.datetime)):
        return "2000-01-01"
    if isinstance(v, bool):
        return "TRUE"
    if isinstance(v, (int, float)):
        if fmt and "#,##0" in fmt:
            s = f"{v:,.2f}" if ".00" in fmt else f"{v:,.0f}"
        elif fmt and "0.0" in fmt:
            s = f"{v:.1f}"
        else:
            s = f"{v:g}" if isinstance(v, float) else str(v)
        if fmt and '"' in fmt:
            s += "约"
        return s
    return str(v)


def as_date(s: str | None) -> dt.date | None:
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None


def excerpt(text: str | None, start: int | None, end: int | None, width: int = EXCERPT_MAX) -> str:
    """The text at [start, end) with context around it, at most ``width`` characters."""
    if text is None or start is None or start < 0 or start > len(text):
        return ""
    end = start if end is None or end < start else min(end, len(text))
    span = end - start
    if span >= width:
        s = text[start:start + width - 1] + "…"
    else:
        room = width - span
        s0 = max(0, start - room // 2)
        e0 = min(len(text), end + (room - (start - s0)))
        s0 = max(0, min(s0, e0 - width))
        s = text[s0:e0]
    return " ".join(s.split())[:width]


# ------------------------------------------------------------ sheets
REPORT_HEADERS = (["单位", "层级", "省", "市", "县", "年度", "标题", "发布日期", "成文日期", "发文字号",
                   SCORE_LABELS["total"]] + [SCORE_LABELS[k] for k in SCORE_KEYS]
                  + ["缺少的法定部分", "错误数", "警告数", "文件"])


def _missing_parts(rep: dict) -> str:
    miss = [p for p in (rep.get("parts_missing") or "").split(",") if p]
    miss.sort(key=lambda p: REQUIRED_PARTS.index(p) if p in REQUIRED_PARTS else 99)
    return "、".join(PART_LABELS.get(p, p) for p in miss)


def _score(rep: dict, key: str):
    sc = rep.get("scores") or {}
    if isinstance(sc, str):
        sc = json.loads(sc)
    v = rep.get("score_total") if key == "total" else sc.get(key)
    return compare.number(v)


def report_record(rep: dict) -> list:
    """One 报告一览 row (Python values: str/int/float/date/None)."""
    return ([rep["unit"], compare.level_label(rep["level"]), rep["province"], rep["city"], rep["county"],
             rep["year"], rep["title"], as_date(rep["published"]), as_date(rep["signed"]), rep["doc_number"],
             _score(rep, "total")] + [_score(rep, k) for k in SCORE_KEYS]
            + [_missing_parts(rep), rep["n_errors"], rep["n_warnings"], rep["path"]])


def reports_sheet(reps: list[dict]) -> Sheet:
    fmts = ([None, None, None, None, None, FMT_YEAR, None, FMT_DATE, FMT_DATE, None]
            + [FMT_SCORE] * (1 + len(SCORE_KEYS)) + [None, FMT_COUNT, FMT_COUNT, None])
    cols = [Col(h, f) for h, f in zip(REPORT_HEADERS, fmts)]
    cols[REPORT_HEADERS.index("标题")].max_width = 50
    return Sheet("报告一览", cols, [report_record(r) for r in reps], freeze_cols=1)


def topic_sheets(reps: list[dict], hl: dict, used: set[str]) -> list[Sheet]:
    cat = compare.catalog()
    sheets = []
    for tid, desc in compare.topic_names().items():
        inds = [i for i, d in cat.items() if d.get("topic") == tid]
        if not inds:
            continue
        units = {i: [] for i in inds}
        for (rid, i), h in hl.items():
            if i in units:
                units[i] += h.units
        cols = [Col("单位"), Col("年度", FMT_YEAR)]
        for i in inds:
            kind = cat[i].get("kind") or "count"
            cols.append(Col(compare.header(i, compare.display_unit(i, units[i])), KIND_FORMAT.get(kind, FMT_COUNT),
                            comment=i))
        rows = []
        for rep in reps:
            row = [rep["unit"] or compare.NO_UNIT, rep["year"]]
            for i in inds:
                h = hl.get((rep["id"], i))
                if h is None:
                    row.append(None)
                    continue
                fmt = KIND_FORMAT.get(h.kind, FMT_COUNT)
                if h.approx:
                    fmt = f'{fmt}"余"' if h.marker == "余" else f'"约"{fmt}'
                    row.append(Val(compare.number(h.value), fmt))
                else:
                    row.append(compare.number(h.value))
            rows.append(row)
        sheets.append(Sheet(sheet_name(topic_title(desc), used), cols, rows, freeze_cols=1))
    return sheets


def _rules():
    from ..rules import load_rules

    return [r for r in load_rules() if r.enabled]


def _chunks(ids: list[int], n: int = 500):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def load_findings(engine: Engine, reps: list[dict], with_excerpts: bool = True) -> list[dict]:
    """Findings of the reports (in report order), each with its excerpt of the text."""
    f, r = db.findings.c, db.reports.c
    order = {rep["id"]: k for k, rep in enumerate(reps)}
    sev_order = {"error": 0, "warning": 1, "info": 2}
    out = []
    with engine.connect() as conn:
        for chunk in _chunks(sorted(order)):
            q = (select(f.report_id, f.rule, f.severity, f.message, f.start, f.end)
                 .where(f.report_id.in_(bindparam("ids", expanding=True))))
            rows = [dict(m) for m in conn.execute(q, {"ids": chunk}).mappings()]
            texts = {}
            if with_excerpts and any(x["start"] is not None for x in rows):
                need = sorted({x["report_id"] for x in rows if x["start"] is not None})
                texts = dict(conn.execute(select(r.id, r.text).where(r.id.in_(bindparam("ids", expanding=True))),
                                          {"ids": need}).all())
            for x in rows:
                x["excerpt"] = excerpt(texts.get(x["report_id"]), x["start"], x["end"]) if with_excerpts else ""
                out.append(x)
    out.sort(key=lambda x: (order[x["report_id"]], sev_order.get(x["severity"], 9), x["start"] or 0, x["rule"]))
    return out


def findings_sheet(reps: list[dict], finds: list[dict]) -> Sheet:
    by_id = {r["id"]: r for r in reps}
    titles = {r.id: r.title for r in _rules()}
    cols = [Col("单位"), Col("年度", FMT_YEAR), Col("级别"), Col("规则"), Col("规则名称", max_width=40),
            Col("问题", max_width=70), Col("原文片段", max_width=70), Col("文件")]
    rows = []
    for x in finds:
        rep = by_id[x["report_id"]]
        rows.append([rep["unit"] or compare.NO_UNIT, rep["year"], SEVERITY_LABELS.get(x["severity"], x["severity"]),
                     x["rule"], titles.get(x["rule"], ""), x["message"], x["excerpt"], rep["path"]])
    return Sheet("问题清单", cols, rows, freeze_cols=1)


def matrix_columns(finds: list[dict]) -> list[tuple[str, str, str, list | None]]:
    """(rule id, title, severity, levels) of the rules that give errors or warnings."""
    cols = [(r.id, r.title, r.severity, r.levels) for r in _rules() if r.severity in ("error", "warning")]
    known = {c[0] for c in cols}
    extra: dict[str, str] = {}
    for x in finds:
        if x["severity"] in ("error", "warning") and x["rule"] not in known:
            if extra.get(x["rule"]) != "error":
                extra[x["rule"]] = x["severity"]
    cols += [(rid, rid, sev, None) for rid, sev in sorted(extra.items())]
    return cols


def matrix_sheet(reps: list[dict], finds: list[dict]) -> Sheet:
    rules = matrix_columns(finds)
    hit: set[tuple[int, str]] = {(x["report_id"], x["rule"]) for x in finds if x["severity"] in ("error", "warning")}
    cols = [Col("单位"), Col("年度", FMT_YEAR)]
    for rid, title, sev, _ in rules:
        cols.append(Col(title, comment=f"{rid}（{SEVERITY_LABELS.get(sev, sev)}）", max_width=18))
    rows = []
    for rep in reps:
        row = [rep["unit"] or compare.NO_UNIT, rep["year"]]
        for rid, _, _, levels in rules:
            if (rep["id"], rid) in hit:
                row.append("✗")
            elif levels and rep["level"] not in levels:
                row.append("—")  # the rule does not apply to this level
            else:
                row.append("✓")
        rows.append(row)
    cond = []
    for k, (_, _, sev, _) in enumerate(rules, start=2):
        cond.append((k, "✗", FILL_RED if sev == "error" else FILL_YELLOW))
        cond.append((k, "✓", FILL_GREEN))
    return Sheet("合规矩阵", cols, rows, freeze_cols=2, cond=cond,
                 note="✗ 表示该报告有此规则的错误或警告；✓ 表示未发现；规则编号见表头批注")


# ------------------------------------------------------------ writers
@contextmanager
def _quiet_cleanup():
    """After a failed save, openpyxl's half-written zip and XML writers complain from
    their destructors ("Exception ignored in …"); the failure itself is reported."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _u: None
    try:
        yield
    finally:
        sys.unraisablehook = hook


@contextmanager
def _atomic(out: Path):
    """Write to a temporary file beside ``out`` and rename it into place: a full disk
    or an error leaves no half-written workbook (and an older ``out`` untouched)."""
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _col_letter(k: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(k)


def _write_sheet(wb, sh: Sheet, title: str | None, warnings: list[str]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(sh.name)
    head_row = 2 if title else 1
    limit = EXCEL_MAX_ROWS - head_row
    rows = sh.rows
    if len(rows) > limit:
        warnings.append(f"工作表“{sh.name}”超过 Excel 行数上限，只写出前 {limit} 行（共 {len(rows)} 行）")
        rows = rows[:limit]
    ncol = len(sh.cols)
    last = _col_letter(ncol)

    # widths from content (CJK counts 2)
    for k, c in enumerate(sh.cols):
        w = text_width(c.header) + 2  # room for the filter button
        for row in rows:
            v = row[k]
            if isinstance(v, Val):
                v, f = v.value, v.fmt
            else:
                f = c.fmt
            w = max(w, text_width(_shown(v, f)))
        ws.column_dimensions[_col_letter(k + 1)].width = max(WIDTH_MIN, min(c.max_width, w + 2))

    ws.freeze_panes = f"{_col_letter(sh.freeze_cols + 1)}{head_row + 1}"
    end_row = head_row + max(len(rows), 1)
    ws.auto_filter.ref = f"A{head_row}:{last}{end_row}"
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_options.gridLines = True

    if title:
        t = text_cell(ws, title) if formula_like(title) else WriteOnlyCell(ws, value=title)
        t.font = Font(bold=True, size=14)
        ws.append([t])
    bold = Font(bold=True)
    head_fill = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
    wrap = Alignment(vertical="center", wrap_text=True)
    cells = []
    for c in sh.cols:
        cell = text_cell(ws, c.header) if formula_like(c.header) else WriteOnlyCell(ws, value=c.header)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = wrap
        if c.comment:
            cell.comment = Comment(c.comment, "fazhi")
        cells.append(cell)
    ws.append(cells)
    fmts = [c.fmt for c in sh.cols]
    for row in rows:
        out = []
        for v, f in zip(row, fmts):
            if isinstance(v, Val):
                v, f = v.value, v.fmt
            if f and v is not None and not isinstance(v, str):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = f
                out.append(cell)
            elif formula_like(v):
                out.append(text_cell(ws, v))
            else:
                out.append(v)
        ws.append(out)
    if sh.note:
        ws.append([])
        ws.append([text_cell(ws, sh.note) if formula_like(sh.note) else sh.note])
    for k, value, colour in sh.cond:
        col = _col_letter(k + 1)
        fill = PatternFill("solid", start_color=colour, end_color=colour)
        ws.conditional_formatting.add(f"{col}{head_row + 1}:{col}{end_row}",
                                      CellIsRule(operator="equal", formula=[f'"{value}"'], fill=fill))


def build_sheets(engine: Engine, *, year: int | None = None, level: str | None = None) -> list[Sheet]:
    with engine.connect() as conn:
        reps = compare.report_rows(conn, year=year, level=level)
        cat = compare.catalog()
        hl = compare.headlines(conn, list(cat), [r["id"] for r in reps])
    used = {"报告一览", "问题清单", "合规矩阵"}
    finds = load_findings(engine, reps)
    return ([reports_sheet(reps)] + topic_sheets(reps, hl, used)
            + [findings_sheet(reps, finds), matrix_sheet(reps, finds)])


def write_xlsx(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None,
               title: str | None = None) -> dict:
    """The workbook; returns {"path", "reports", "sheets", "warnings"}."""
    from openpyxl import Workbook

    sheets = build_sheets(engine, year=year, level=level)
    wb = Workbook(write_only=True)
    warnings: list[str] = []
    for sh in sheets:
        _write_sheet(wb, sh, title, warnings)
    wb.properties.creator = "fazhi"
    wb.properties.title = title or "法治政府建设年度报告汇总"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    failure = None
    with _quiet_cleanup():
        try:
            with _atomic(out) as tmp:
                wb.save(tmp)
        except OSError as e:   # a full disk: the half-written zip is dropped here, quietly
            failure = OSError(e.errno, e.strerror, str(out))
        wb = None
        gc.collect()
    if failure is not None:
        raise failure
    return {"path": [str(out)], "reports": len(sheets[0].rows), "sheets": [s.name for s in sheets],
            "warnings": warnings}


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return csv_safe(v)


def write_csv(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None) -> dict:
    """The 报告一览 columns, UTF-8 with BOM."""
    with engine.connect() as conn:
        reps = compare.report_rows(conn, year=year, level=level)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(out) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_HEADERS)
        for rep in reps:
            w.writerow([_csv_value(v) for v in report_record(rep)])
    return {"path": [str(out)], "reports": len(reps), "sheets": ["报告一览"], "warnings": []}


# ------------------------------------------------------------ parquet
REPORT_PARQUET = {
    "id": "BIGINT", "sha256": "VARCHAR", "path": "VARCHAR", "format": "VARCHAR", "encoding": "VARCHAR",
    "title": "VARCHAR", "unit": "VARCHAR", "level": "VARCHAR", "level_label": "VARCHAR",
    "province": "VARCHAR", "city": "VARCHAR", "county": "VARCHAR", "year": "INTEGER",
    "published": "DATE", "signed": "DATE", "doc_number": "VARCHAR", "index_number": "VARCHAR",
    "parts_found": "VARCHAR[]", "parts_missing": "VARCHAR[]", "n_facts": "INTEGER", "n_errors": "INTEGER",
    "n_warnings": "INTEGER", "score_total": "DOUBLE",
    **{f"score_{k}": "DOUBLE" for k in SCORE_KEYS},
    "text": "VARCHAR", "added_at": "TIMESTAMPTZ",
    "submission_id": "BIGINT", "version": "INTEGER", "received_at": "TIMESTAMPTZ",
}
FACT_PARQUET = {
    "id": "BIGINT", "report_id": "BIGINT", "report_unit": "VARCHAR", "report_year": "INTEGER",
    "indicator": "VARCHAR", "label": "VARCHAR", "topic": "VARCHAR", "kind": "VARCHAR", "value": "DOUBLE",
    "unit": "VARCHAR", "approx": "BOOLEAN", "part": "VARCHAR", "quote": "VARCHAR", "start": "INTEGER",
    "end": "INTEGER",
}
FINDING_PARQUET = {
    "id": "BIGINT", "report_id": "BIGINT", "report_unit": "VARCHAR", "report_year": "INTEGER",
    "rule": "VARCHAR", "rule_title": "VARCHAR", "severity": "VARCHAR", "message": "VARCHAR",
    "start": "INTEGER", "end": "INTEGER", "excerpt": "VARCHAR",
}


def parquet_paths(out: str | Path) -> dict[str, Path]:
    out = Path(out)
    return {"reports": out, "facts": out.with_suffix(".facts.parquet"),
            "findings": out.with_suffix(".findings.parquet")}


def _where(q, year, level):
    r = db.reports.c
    q = q.where(db.counted())   # current versions only (corpus/submissions.py)
    if year is not None:
        q = q.where(r.year == int(year))
    lv = compare.normalise_level(level)
    if lv is not None:
        q = q.where(r.level == lv)
    return q


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def _to_parquet(con, jsonl: Path, columns: dict[str, str], target: Path) -> None:
    cols = "{" + ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in columns.items()) + "}"
    sel = ", ".join(f'"{k}"' for k in columns)
    con.execute(f"COPY (SELECT {sel} FROM read_json({_sql_str(jsonl)}, format='newline_delimited', "
                f"columns={cols}, maximum_object_size=1073741824)) TO {_sql_str(target)} "
                f"(FORMAT parquet, COMPRESSION zstd)")


def write_parquet(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None) -> dict:
    """reports / facts / findings as Parquet files, streamed (one row at a time) through duckdb."""
    import duckdb

    paths = parquet_paths(out)
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    cat = compare.catalog()
    titles = {r.id: r.title for r in _rules()}
    r, f, fi = db.reports.c, db.facts.c, db.findings.c
    counts = {}
    with tempfile.TemporaryDirectory(prefix="fazhi-parquet-") as tmp, engine.connect() as conn:
        tmpd = Path(tmp)
        # reports
        jl = tmpd / "reports.jsonl"
        n = 0
        with jl.open("w", encoding="utf-8") as fh:
            q = _where(select(db.reports).order_by(r.id), year, level)
            for m in conn.execution_options(stream_results=True).execute(q).mappings():
                d = {k: m[k] for k in REPORT_PARQUET if k in m.keys()}
                d["level_label"] = compare.level_label(m["level"])
                d["published"] = str(as_date(m["published"])) if as_date(m["published"]) else None
                d["signed"] = str(as_date(m["signed"])) if as_date(m["signed"]) else None
                d["parts_found"] = [p for p in (m["parts_found"] or "").split(",") if p]
                d["parts_missing"] = [p for p in (m["parts_missing"] or "").split(",") if p]
                sc = m["scores"] or {}
                if isinstance(sc, str):
                    sc = json.loads(sc)
                for k in SCORE_KEYS:
                    d[f"score_{k}"] = sc.get(k)
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
                n += 1
        counts["reports"] = n
        # facts
        jf = tmpd / "facts.jsonl"
        n = 0
        with jf.open("w", encoding="utf-8") as fh:
            q = _where(select(f.id, f.report_id, r.unit.label("report_unit"), r.year.label("report_year"),
                              f.indicator, f.value, f.unit, f.approx, f.part, f.quote, f.start, f.end)
                       .join(db.reports, r.id == f.report_id).order_by(f.report_id, f.start, f.id), year, level)
            for m in conn.execution_options(stream_results=True).execute(q).mappings():
                d = dict(m)
                c = cat.get(m["indicator"]) or {}
                d.update(label=c.get("label"), topic=c.get("topic"), kind=c.get("kind"), approx=bool(m["approx"]))
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
                n += 1
        counts["facts"] = n
        # findings (excerpts need the text: one report at a time)
        jd = tmpd / "findings.jsonl"
        n = 0
        with jd.open("w", encoding="utf-8") as fh:
            q = _where(select(fi.id, fi.report_id, r.unit.label("report_unit"), r.year.label("report_year"),
                              fi.rule, fi.severity, fi.message, fi.start, fi.end)
                       .join(db.reports, r.id == fi.report_id).order_by(fi.report_id, fi.id), year, level)
            rows = conn.execute(q).mappings().all()
            cur_id, cur_text = None, None
            for m in rows:
                if m["report_id"] != cur_id:
                    cur_id = m["report_id"]
                    cur_text = conn.execute(select(r.text).where(r.id == cur_id)).scalar_one()
                d = dict(m)
                d["rule_title"] = titles.get(m["rule"])
                d["excerpt"] = excerpt(cur_text, m["start"], m["end"])
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
                n += 1
        counts["findings"] = n
        con = duckdb.connect()
        try:
            _to_parquet(con, jl, REPORT_PARQUET, paths["reports"])
            _to_parquet(con, jf, FACT_PARQUET, paths["facts"])
            _to_parquet(con, jd, FINDING_PARQUET, paths["findings"])
        finally:
            con.close()
    return {"path": [str(p) for p in paths.values()], "reports": counts["reports"], "counts": counts,
            "sheets": list(paths), "warnings": []}


WRITERS = {".xlsx": write_xlsx, ".csv": write_csv, ".parquet": write_parquet}


def export(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None,
           title: str | None = None) -> dict:
    """Write ``out`` in the format its extension names (.xlsx / .csv / .parquet)."""
    ext = Path(out).suffix.lower()
    if ext not in WRITERS:
        raise ExportError(f"不支持的导出格式“{ext or Path(out).name}”：请使用 .xlsx、.csv 或 .parquet")
    if ext == ".xlsx":
        return write_xlsx(engine, out, year=year, level=level, title=title)
    return WRITERS[ext](engine, out, year=year, level=level)
