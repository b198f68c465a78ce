"""Export the corpus: an Excel workbook to print and send up, CSV, Parquet.

``export(engine, "out.xlsx")`` picks the writer by extension:

- ``.xlsx`` (xlsxwriter, constant_memory: rows streamed, one sheet in memory at a time), the workbook the
  office hands to its leaders: 概况 (the cover), 报告清单 (one row per report, the copy
  share beside the score, a totals row), 问题清单, 督办清单, 抄袭雷同, 逐年对比 (``sheets.py``),
  one sheet per indicator topic, 合规矩阵 (reports x rules), 报告信息, 无法读取 and, when
  ``fazhi.corpus.roster`` gives a roster, 报送情况.  编号 (the report id) is the first
  column of every list.  Print: A4, portrait or landscape, fit to width at >= 9 pt (the
  widths are bounded: see "print layout" below), header row repeated, wrapped text with row
  heights set, page header and footer.  ``write_pdf`` prints it with LibreOffice.
- ``.csv`` — one row per report (编号 first), UTF-8 with BOM (Excel opens it right).

Report text is untrusted: a title, unit, file name or excerpt that starts
with ``= + - @``, a tab or a carriage return would be a live formula in a
spreadsheet (``=HYPERLINK(…)``).  In xlsx every such cell is written as a
string cell (an inline string, never ``<f>``) with Excel's *quote prefix* style, so
it shows exactly as written and stays text even when someone edits the cell;
in CSV, which has no cell types, it gets a leading apostrophe (the OWASP
guidance), which Excel hides.
- ``.parquet`` — via duckdb (no pyarrow/pandas): ``OUT.parquet`` (reports),
  ``OUT.facts.parquet`` and ``OUT.findings.parquet`` beside it, typed columns.
"""
from __future__ import annotations

from contextvars import ContextVar

import csv
import datetime as dt
import gc
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
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


class LazyRows(Sequence):
    """A sheet's rows made on demand from ``items`` by ``make`` — one at a time while the sheet
    is written, instead of a list of them all beside the items they are made from."""

    def __init__(self, items: list, make):
        self.items, self.make = items, make

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self.make(x) for x in self.items[k]]
        return self.make(self.items[k])

    def __iter__(self):
        return map(self.make, self.items)


@dataclass
class Col:
    header: str
    fmt: str | None = None
    comment: str | None = None
    max_width: int = WIDTH_MAX
    min_width: int = 8            # a wrapped text column is never made narrower than this
    wrap: bool | None = None      # None: text columns (no number format) wrap, numbers do not


@dataclass
class Sheet:
    name: str
    cols: list[Col]
    rows: list[list] = field(default_factory=list)
    freeze_cols: int = 0                    # columns kept in view besides the header row
    cond: list[tuple[int, str, str]] = field(default_factory=list)  # (col index, value, fill colour)
    note: str | None = None
    notes: list[str] = field(default_factory=list)   # legend lines under the table
    total: list | None = None               # a bold totals/averages row under the table (computed values)
    empty: str | None = None                # why there are no rows: the sheet then says 无 in one row
    key_cols: int = 0                       # columns repeated when a too-wide sheet is split
    at_least: list[tuple[int, float, str]] = field(default_factory=list)  # (col, threshold, fill): ≥ fills
    blocks: list | None = None              # the cover: [(heading, header row | None, rows)]
    widths: list[int] | None = None         # fixed widths (the cover)


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
        if fmt and "%" in fmt:
            s = f"{v * 100:.1f}%"
        elif fmt and "#,##0" in fmt:
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


# ------------------------------------------------------------ print layout
# Every sheet prints on A4 at >= MIN_PT: the body font is FONT_PT Arial (Liberation Sans in
# LibreOffice has the same metrics), and a sheet's columns are never wider in total than the
# printable width divided by TARGET_PT / FONT_PT, so fit-to-width shrinks it at most to
# TARGET_PT.  A column of width w takes w * PT_PER_UNIT + PT_PER_COL points: LibreOffice
# measured 5.56 pt per unit for Arial 10 (0.556 em), Excel 7 px = 5.25 pt plus 5 px of padding.
FONT_NAME, FONT_PT = "Arial", 10
MIN_PT, TARGET_PT = 9.0, 9.4
PT_PER_UNIT, PT_PER_COL = 5.6, 3.75
A4_PT = (595.28, 841.89)
MARGIN_LR, MARGIN_TB, MARGIN_HF = 0.4, 0.6, 0.25   # inches
WIDTH_SAMPLE = 2000        # rows looked at for a column's natural width
HEADER_NATURAL = 12        # a header wraps: it asks for at most this width
WIDE_MAX = 40              # the widest a wrapped text column gets


def printable_pt(landscape: bool) -> float:
    return (A4_PT[1] if landscape else A4_PT[0]) - 2 * MARGIN_LR * 72


def width_pt(widths) -> float:
    return sum(w * PT_PER_UNIT + PT_PER_COL for w in widths)


def budget_pt(landscape: bool) -> float:
    """The widest a sheet may be before fit-to-width would shrink it under TARGET_PT."""
    return printable_pt(landscape) * FONT_PT / TARGET_PT


def print_scale(widths, landscape: bool) -> float:
    return min(1.0, printable_pt(landscape) / width_pt(widths))


def _wraps(c: Col) -> bool:
    return c.wrap if c.wrap is not None else c.fmt is None


def _content_widths(sh: Sheet) -> list[int]:
    """Per column the width its values ask for (the first WIDTH_SAMPLE rows and the totals row)."""
    out = []
    for k, c in enumerate(sh.cols):
        w = 0
        for row in sh.rows[:WIDTH_SAMPLE] + ([sh.total] if sh.total else []):
            v = row[k]
            if isinstance(v, Val):
                v, f = v.value, v.fmt
            else:
                f = c.fmt
            if row is sh.total and isinstance(v, str):
                continue   # the totals row's text wraps
            # a number or date takes one unit a character (Arial digits: 0.556 em = 1 unit), plus one
            # for the cell's padding; text a little more room
            pad = 1 if isinstance(v, (int, float, dt.date)) and not isinstance(v, bool) else 2
            w = max(w, text_width(_shown(v, f)) + pad)
        out.append(w)
    return out


def _widths(sh: Sheet) -> tuple[list[int], list[int]]:
    """(natural, narrowest) widths.  A header wraps: it asks for at most HEADER_NATURAL (a number
    column's header at most its values' width, 4 characters a line).  A wrapped text column can
    narrow to its ``min_width``; a number column to its values' width."""
    nat, low = [], []
    for c, w in zip(sh.cols, _content_widths(sh)):
        wrap = _wraps(c)
        head = min(text_width(c.header) + 2, HEADER_NATURAL if wrap else max(w, 8))
        cap = min(c.max_width, WIDE_MAX) if wrap else c.max_width
        floor = min(WIDTH_MIN, c.max_width)
        n = max(floor, min(cap, max(w, head)))
        nat.append(n)
        low.append(min(n, max(floor, c.min_width)) if wrap else max(floor, min(n, w)))
    return nat, low


def natural_widths(sh: Sheet) -> list[int]:
    return _widths(sh)[0]


def min_widths(sh: Sheet, natural: list[int] | None = None) -> list[int]:
    return _widths(sh)[1]


def layout(sh: Sheet) -> tuple[list[int], bool]:
    """(column widths, landscape): portrait when the natural widths fit, else landscape with the
    wrapped text columns narrowed (all to one cap, never under their minimum) until they fit."""
    if sh.widths:
        return sh.widths, width_pt(sh.widths) > budget_pt(False)
    nat, mins = _widths(sh)
    if width_pt(nat) <= budget_pt(False):
        return nat, False
    if width_pt(nat) <= budget_pt(True):
        return nat, True
    lo, hi = 0, max(nat)
    best = mins
    while lo <= hi:
        cap = (lo + hi) // 2
        ws = [max(m, min(n, cap)) for n, m in zip(nat, mins)]
        if width_pt(ws) <= budget_pt(True):
            best, lo = ws, cap + 1
        else:
            hi = cap - 1
    return best, True


def split_wide(sh: Sheet, used: set[str]) -> list[Sheet]:
    """A sheet whose narrowest layout is still too wide for A4 landscape at TARGET_PT becomes
    several sheets, each with the key columns (编号, 单位, 年度) and as many others as fit."""
    mins = _widths(sh)[1]
    if width_pt(mins) <= budget_pt(True) or sh.key_cols <= 0:
        return [sh]
    keys = list(range(sh.key_cols))
    groups: list[list[int]] = [[]]
    for k in range(sh.key_cols, len(sh.cols)):
        trial = keys + groups[-1] + [k]
        if groups[-1] and width_pt([mins[i] for i in trial]) > budget_pt(True):
            groups.append([])
        groups[-1].append(k)
    out = []
    for g, ks in enumerate(groups):
        idx = keys + ks
        remap = {old: new for new, old in enumerate(idx)}
        name = sh.name if g == 0 else sheet_name(f"{sh.name}（续{g}）", used)
        out.append(Sheet(name, [sh.cols[i] for i in idx], [[row[i] for i in idx] for row in sh.rows],
                         freeze_cols=sh.freeze_cols,
                         cond=[(remap[k], v, c) for k, v, c in sh.cond if k in remap],
                         note=sh.note, notes=sh.notes, empty=sh.empty, key_cols=sh.key_cols,
                         total=[sh.total[i] for i in idx] if sh.total else None,
                         at_least=[(remap[k], v, c) for k, v, c in sh.at_least if k in remap]))
    return out


LINE_PT = 14.5   # one line of 10 pt CJK text as LibreOffice sets it (Noto Sans CJK: 1.45 em; measured on the PDF)
ROW_PAD_PT = 2.0
CELL_PAD_PT = 4.0          # the cell's inner margins


_CHAR_W: dict[str, float] = {}     # a character's width in lines_needed (the _WIDE test, remembered)
_ALL_WIDE = re.compile(_WIDE.pattern + "*")
_ALL_NARROW = re.compile("[^" + _WIDE.pattern[1:] + "*")
_PER_LINE: dict[tuple[float, float], int] = {}


def _per_line(w: float, room: float) -> int:
    """Characters of width ``w`` the greedy loop of ``lines_needed`` puts on a line of ``room``."""
    k = _PER_LINE.get((w, room))
    if k is None:
        used, k = 0.0, 0
        while not (used + w > room and used > 0):
            used += w
            k += 1
        _PER_LINE[(w, room)] = k
    return k


def lines_needed(v, width: int) -> int:
    """How many lines ``v`` takes wrapped in a column of ``width`` units: the characters laid
    greedily, a CJK character FONT_PT wide, others 0.56 em (a unit), as LibreOffice breaks them."""
    if not isinstance(v, str) or not v:
        return 1
    room = max(FONT_PT, width * PT_PER_UNIT - CELL_PAD_PT)
    if len(v) * FONT_PT <= room and "\n" not in v:
        return 1          # even all wide, the characters fit on one line (the loop below says the same)
    n = 0
    cw = _CHAR_W
    for part in v.split("\n"):
        w = FONT_PT if _ALL_WIDE.fullmatch(part) else PT_PER_UNIT if _ALL_NARROW.fullmatch(part) else None
        if w is not None:     # one width throughout: every line holds the same number of characters
            k = _per_line(w, room)
            n += max(1, -(-len(part) // k))
            continue
        lines, used = 1, 0.0
        for ch in part:
            w = cw.get(ch)
            if w is None:
                w = cw[ch] = FONT_PT if _WIDE.match(ch) else PT_PER_UNIT
            if used + w > room and used > 0:
                lines += 1
                used = w
            else:
                used += w
        n += lines
    return n


def row_height(values, widths: list[int], wraps: list[bool]) -> float | None:
    """The height of a row whose wrapped cells need more than one line (LibreOffice does not
    grow the rows of an xlsx by itself), else None (the default height)."""
    n = max((lines_needed(v, w) for v, w, wr in zip(values, widths, wraps) if wr), default=1)
    return round(n * LINE_PT + ROW_PAD_PT, 1) if n > 1 else None


def note_lines(text: str, units: int) -> list[str]:
    """``text`` cut into lines of at most ``units`` display width (a note row is not wrapped:
    it runs over the empty cells beside it, so it must not be wider than the sheet)."""
    out, cur, w = [], "", 0
    for ch in text:
        cw = 2 if _WIDE.match(ch) else 1
        if w + cw > units and cur:
            out.append(cur)
            cur, w = "", 0
        cur += ch
        w += cw
    if cur:
        out.append(cur)
    return out


# ------------------------------------------------------------ sheets
REPORT_HEADERS = (["编号", "单位", "层级", "省", "市", "县", "年度", "标题", "发布日期", "成文日期", "发文字号",
                   SCORE_LABELS["total"]] + [SCORE_LABELS[k] for k in SCORE_KEYS]
                  + ["缺少的法定部分", "错误数", "警告数", "文件"])
COPY_NOTE_SHARE = 0.3      # 雷同比例 at or above this: the score is flagged on 报告清单
FMT_PCT = "0.0%"


PART_SHORT = {"achievements": "成效", "shortcomings": "不足和原因", "leader_duty": "第一责任人履职",
              "next_year": "下一年度安排", "other": "其他"}


def _missing_parts(rep: dict, short: bool = False) -> str:
    miss = [p for p in (rep.get("parts_missing") or "").split(",") if p]
    miss.sort(key=lambda p: REQUIRED_PARTS.index(p) if p in REQUIRED_PARTS else 99)
    labels = PART_SHORT if short else PART_LABELS
    return "、".join(labels.get(p, p) for p in miss)


def _score(rep: dict, key: str):
    sc = rep.get("scores") or {}
    if isinstance(sc, str):
        sc = json.loads(sc)
    v = rep.get("score_total") if key == "total" else sc.get(key)
    return compare.number(v)


def report_record(rep: dict) -> list:
    """One CSV row (Python values: str/int/float/date/None)."""
    return ([rep["id"], rep["unit"], compare.level_label(rep["level"]), rep["province"], rep["city"], rep["county"],
             rep["year"], rep["title"], as_date(rep["published"]), as_date(rep["signed"]), rep["doc_number"],
             _score(rep, "total")] + [_score(rep, k) for k in SCORE_KEYS]
            + [_missing_parts(rep), rep["n_errors"], rep["n_warnings"], rep["path"]])


def region(rep: dict) -> str:
    return "".join(x for x in (rep.get("province"), rep.get("city"), rep.get("county")) if x)


def copy_note(c) -> str:
    """The 雷同提示 of a report whose copied share is at or above COPY_NOTE_SHARE."""
    if c is None or c.share < COPY_NOTE_SHARE:
        return ""
    bits = []
    if c.other_share:
        bits.append(f"他单位 {c.other_share * 100:.0f}%")
    if c.own_share:
        bits.append(f"本单位往年 {c.own_share * 100:.0f}%")
    src = f"，主要来源编号 {c.main_source}" if c.main_source is not None else ""
    return f"疑似抄袭雷同：{'，'.join(bits)}{src}"


REPORT_LIST_HEADERS = (["编号", "单位", "层级", "地区", "年度", "标题", "发布日期", SCORE_LABELS["total"], "雷同比例"]
                       + [SCORE_LABELS[k] for k in SCORE_KEYS] + ["缺少的法定部分", "错误数", "警告数", "雷同提示"])


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 1) if xs else None


def reports_sheet(reps: list[dict], copies: dict | None = None) -> Sheet:
    """报告清单: one row per report, the copy share beside the score, a totals row at the bottom."""
    copies = copies or {}
    H = REPORT_LIST_HEADERS
    fmts = ([FMT_YEAR, None, None, None, FMT_YEAR, None, FMT_DATE, FMT_SCORE, FMT_PCT]
            + [FMT_SCORE] * len(SCORE_KEYS) + [None, FMT_COUNT, FMT_COUNT, None])
    cols = [Col(h, f) for h, f in zip(H, fmts)]
    cols[H.index("单位")].min_width = 10
    cols[H.index("层级")].min_width = 6
    cols[H.index("标题")].min_width = 14
    cols[H.index("雷同提示")].min_width = 10
    cols[H.index("缺少的法定部分")].min_width = 10
    cols[H.index("缺少的法定部分")].comment = "成效、不足和原因、第一责任人履职、下一年度安排：四个法定部分中报告没有的"
    cols[H.index("雷同比例")].comment = (f"报告段落中与他单位或本单位往年报告近似重复的文字占比；"
                                      f"≥{COPY_NOTE_SHARE * 100:.0f}% 标红，“雷同提示”写明来源，评分不宜直接采信")
    rows = []
    for r in reps:
        c = copies.get(r["id"])
        rows.append([r["id"], r["unit"], compare.level_label(r["level"]), region(r), r["year"], r["title"],
                     as_date(r["published"]), _score(r, "total"), round(c.share, 4) if c else None]
                    + [_score(r, k) for k in SCORE_KEYS]
                    + [_missing_parts(r, short=True), r["n_errors"], r["n_warnings"], copy_note(c)])
    units = len({(r["unit"] or f"#{r['id']}") for r in reps})
    col = {h: k for k, h in enumerate(H)}
    total = [None] * len(H)
    total[0] = "合计"
    total[1] = f"共 {len(reps)} 份报告、{units} 个单位；分数、雷同比例为平均值，错误数、警告数为合计"
    for h in [SCORE_LABELS["total"], "雷同比例"] + [SCORE_LABELS[k] for k in SCORE_KEYS]:
        v = _mean(row[col[h]] for row in rows)
        total[col[h]] = round(v, 4) if h == "雷同比例" and v is not None else v
    if rows:
        cs = [row[col["雷同比例"]] for row in rows if row[col["雷同比例"]] is not None]
        total[col["雷同比例"]] = round(sum(cs) / len(cs), 4) if cs else None
    total[col["错误数"]] = sum(row[col["错误数"]] or 0 for row in rows)
    total[col["警告数"]] = sum(row[col["警告数"]] or 0 for row in rows)
    flagged = sum(1 for row in rows if row[col["雷同提示"]])
    total[col["雷同提示"]] = f"疑似抄袭雷同 {flagged} 份"
    return Sheet("报告清单", cols, rows, freeze_cols=2, total=total, empty="报告库中没有符合条件的报告",
                 at_least=[(col["雷同比例"], COPY_NOTE_SHARE, FILL_RED)],
                 note="合计行为导出时计算的数值（不是公式），筛选后不随之变化。")


def details_sheet(reps: list[dict]) -> Sheet:
    """报告信息: what identifies each report (dates, document number, file)."""
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR), Col("标题", min_width=16),
            Col("发布日期", FMT_DATE), Col("成文日期", FMT_DATE), Col("发文字号", min_width=10),
            Col("省"), Col("市"), Col("县"), Col("文件", min_width=16)]
    rows = [[r["id"], r["unit"], r["year"], r["title"], as_date(r["published"]), as_date(r["signed"]),
             r["doc_number"], r["province"], r["city"], r["county"], r["path"]] for r in reps]
    return Sheet("报告信息", cols, rows, freeze_cols=2, empty="报告库中没有符合条件的报告")


def topic_sheets(reps: list[dict], hl: dict, used: set[str]) -> list[Sheet]:
    """One sheet per indicator topic; a topic that no report states is left out."""
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
        cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR)]
        for i in inds:
            kind = cat[i].get("kind") or "count"
            cols.append(Col(compare.header(i, compare.display_unit(i, units[i])), KIND_FORMAT.get(kind, FMT_COUNT),
                            comment=i))
        rows = []
        stated = 0
        for rep in reps:
            row = [rep["id"], rep["unit"] or compare.NO_UNIT, rep["year"]]
            for i in inds:
                h = hl.get((rep["id"], i))
                if h is None:
                    row.append(None)
                    continue
                stated += 1
                fmt = KIND_FORMAT.get(h.kind, FMT_COUNT)
                if h.approx:
                    fmt = f'{fmt}"余"' if h.marker == "余" else f'"约"{fmt}'
                    row.append(Val(compare.number(h.value), fmt))
                else:
                    row.append(compare.number(h.value))
            rows.append(row)
        if not stated:
            continue
        sh = Sheet(sheet_name(topic_title(desc), used), cols, rows, freeze_cols=2, key_cols=3)
        sheets += split_wide(sh, used)
    return sheets


# the corpus's rule sets while a workbook or Parquet export is built (``build_sheets``)
_RULESETS: ContextVar = ContextVar("fazhi_export_rulesets", default=())


def _rules():
    """The enabled rules: the national ones and those of the corpus's rule sets (by id, first wins)."""
    from ..rules import compiled, load_rules

    seen: dict[str, object] = {}
    for rules in [compiled(a.ruleset)[0] for a in _RULESETS.get()] + [load_rules()]:
        for r in rules:
            seen.setdefault(r.id, r)
    return [r for r in seen.values() if r.enabled]


def rule_titles() -> dict[str, str]:
    return {r.id: r.title for r in _rules()}


def _chunks(ids: list[int], n: int = 500):
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def load_findings(engine: Engine, reps: list[dict], with_excerpts: bool = True) -> list[dict]:
    """Findings of the reports (in report order), each with its excerpt of the text.  The rule,
    severity and message strings, repeated across reports, are kept once (plain tuples read,
    not mappings: a third of the time at 100,000 reports)."""
    f, r = db.findings.c, db.reports.c
    order = {rep["id"]: k for k, rep in enumerate(reps)}
    sev_order = {"error": 0, "warning": 1, "info": 2}
    same: dict[str, str] = {}
    keep = same.setdefault
    cols = (f.report_id, f.rule, f.severity, f.message, f.start, f.end)

    def row(m) -> dict:
        return {"report_id": m[0], "rule": keep(m[1], m[1]), "severity": keep(m[2], m[2]),
                "message": keep(m[3], m[3]) if m[3] is not None else None, "start": m[4], "end": m[5]}

    out = []
    with engine.connect() as conn:
        for chunk in _chunks(sorted(order)):
            q = select(*cols).where(f.report_id.in_(bindparam("ids", expanding=True)))
            rows = [row(m) for m in conn.execute(q, {"ids": chunk})]
            texts = {}
            if with_excerpts and any(x["start"] is not None for x in rows):
                need = sorted({x["report_id"] for x in rows if x["start"] is not None})
                texts = dict(conn.execute(select(r.id, r.text).where(r.id.in_(bindparam("ids", expanding=True))),
                                          {"ids": need}).all())
            for x in rows:
                x["excerpt"] = excerpt(texts.get(x["report_id"]), x["start"], x["end"]) if with_excerpts else ""
                out.append(x)
            del texts
    out.sort(key=lambda x: (order[x["report_id"]], sev_order.get(x["severity"], 9), x["start"] or 0, x["rule"]))
    return out


def findings_sheet(reps: list[dict], finds: list[dict]) -> Sheet:
    by_id = {r["id"]: r for r in reps}
    titles = rule_titles()
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10, max_width=16), Col("年度", FMT_YEAR),
            Col("级别", min_width=4), Col("规则", min_width=12, max_width=18), Col("规则名称", min_width=14), Col("问题", max_width=70, min_width=20),
            Col("原文片段", max_width=70, min_width=20)]
    n = {"error": 0, "warning": 0, "info": 0}
    for x in finds:
        n[x["severity"]] = n.get(x["severity"], 0) + 1

    def make(x) -> list:
        rep = by_id[x["report_id"]]
        return [rep["id"], rep["unit"] or compare.NO_UNIT, rep["year"], SEVERITY_LABELS.get(x["severity"], x["severity"]),
                x["rule"], titles.get(x["rule"], ""), x["message"], x["excerpt"]]
    rows = LazyRows(finds, make)       # one finding per row: made while the sheet is written
    total = ["合计", f"共 {len(rows)} 条", None, None, None, None,
             f"错误 {n['error']} 条，警告 {n['warning']} 条，提示 {n['info']} 条", None]
    return Sheet("问题清单", cols, rows, freeze_cols=2, total=total if rows else None,
                 empty="没有发现问题")


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


def matrix_sheet(reps: list[dict], finds: list[dict], used: set[str] | None = None) -> list[Sheet]:
    """合规矩阵: reports x rules; the header says the rule's number, the legend under the table its title."""
    rules = matrix_columns(finds)
    hit: set[tuple[int, str]] = {(x["report_id"], x["rule"]) for x in finds if x["severity"] in ("error", "warning")}
    cols = [Col("编号", FMT_YEAR), Col("单位", min_width=10), Col("年度", FMT_YEAR)]
    for k, (rid, title, sev, _) in enumerate(rules, start=1):
        cols.append(Col(str(k), comment=f"{rid}（{SEVERITY_LABELS.get(sev, sev)}）：{title}", max_width=4,
                        min_width=4, wrap=False))
    rows = []
    for rep in reps:
        row = [rep["id"], rep["unit"] or compare.NO_UNIT, rep["year"]]
        for rid, _, _, levels in rules:
            if (rep["id"], rid) in hit:
                row.append("✗")
            elif levels and rep["level"] not in levels:
                row.append("—")  # the rule does not apply to this level
            else:
                row.append("✓")
        rows.append(row)
    cond = []
    for k, (_, _, sev, _) in enumerate(rules, start=3):
        cond.append((k, "✗", FILL_RED if sev == "error" else FILL_YELLOW))
        cond.append((k, "✓", FILL_GREEN))
    legend = [f"{k}. {title}（{rid}，{SEVERITY_LABELS.get(sev, sev)}）"
              for k, (rid, title, sev, _) in enumerate(rules, start=1)]
    sh = Sheet("合规矩阵", cols, rows, freeze_cols=3, cond=cond, key_cols=3, empty="报告库中没有符合条件的报告",
               note="表头数字为规则序号（见下方及表头批注）。✗ 表示该报告有此规则的错误或警告；✓ 表示未发现；"
                    "— 表示该规则不适用于此层级", notes=legend)
    return split_wide(sh, used if used is not None else {"合规矩阵"})


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


def _hf_text(s: str) -> str:
    """Header/footer text: ``&`` starts a code there."""
    return s.replace("&", "&&")


# ------------------------------------------------------------ the xlsx writer
# xlsxwriter in constant_memory mode: each row goes to the sheet's temporary file as soon as
# the next one starts, so memory does not grow with the rows.  Strings are written with
# write_string (never a formula); a formula-like one gets Excel's quote prefix as well.

def _sheet_class():
    """An xlsxwriter worksheet that writes every string as plain text: a string that happens
    to look like xlsxwriter's rich-text markup (``<r>…</r>``) is escaped like any other (the
    stock constant_memory writer would copy it into the XML unescaped), and a carriage return
    is a character reference (XML keeps it; ``_x000D_`` is not read back by every reader)."""
    from xlsxwriter.worksheet import Worksheet, _preserve_whitespace

    class SafeSheet(Worksheet):
        def fast_rows(self, styles: "_Styles", rows, r: int, widths: list[int], wraps: list[bool],
                      fmts: list, aligns: list) -> int:
            """Write the table rows from row ``r`` on straight into the row file, each as
            ``_put`` and ``row_height`` would (the same XML xlsxwriter writes for them, a
            few times faster); the next free row."""
            return _fast_rows(self, styles, rows, r, widths, wraps, fmts, aligns)

        @staticmethod
        def _escape_control_characters(data):
            if not isinstance(data, str) or "\r" not in data:   # a boolean's value is an int
                return Worksheet._escape_control_characters(data)
            return "\r".join(Worksheet._escape_control_characters(x) for x in data.split("\r"))

        def _escape_data(self, data):
            data = super()._escape_data(data)
            return data.replace("\r", "&#13;") if isinstance(data, str) else data

        def _xml_rich_inline_string(self, string, attributes=[]):  # noqa: B006 (the base's signature)
            self._xml_inline_string(string, _preserve_whitespace(string), attributes)

    return SafeSheet


_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_STR_MAX = 32767       # UTF-16 units in a cell (Excel's limit; xlsxwriter cuts longer strings)


def _xml_text(s: str, esc) -> str:
    """The text of an inline string as the SafeSheet writes it (``esc``: its control-character escape)."""
    if not _XML_SPECIAL.search(s):
        return s
    return esc(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _fast_rows(ws, styles, rows, r: int, widths, wraps, fmts, aligns) -> int:
    from xlsxwriter.utility import _datetime_to_excel_datetime, _utf16_len, _utf16_truncate, xl_col_to_name

    ncol = len(widths)
    letters = [xl_col_to_name(k) for k in range(ncol)]
    rooms = [max(FONT_PT, w * PT_PER_UNIT - CELL_PAD_PT) for w in widths]
    xfs: dict = {}
    esc = ws._escape_control_characters
    date_1904, no_tz = ws.date_1904, ws.remove_timezone

    def xf(a, f, q):
        key = (a, f, q)
        x = xfs.get(key)
        if x is None:
            fm = styles.get(None, None, a, f, None, q)
            x = xfs[key] = f' s="{fm._get_xf_index()}"' if fm is not None else ""
        return x

    if r > ws.previous_row:
        ws._write_single_row(r)      # what the ordinary calls left pending
    # per column the style of its text (plain, quote-prefixed) and of its numbers
    str_xf = [(xf(aligns[k], None, False), xf(aligns[k], None, True)) for k in range(ncol)]
    num_xf = [xf(aligns[k], fmts[k], False) for k in range(ncol)]
    write = ws.fh.write
    for row in rows:
        cells = []
        lines = 1
        cmin = cmax = None
        rs = str(r + 1)
        for k, v in enumerate(row):
            if v is None:
                continue
            t_ = type(v)
            own = fmts[k]
            isval = t_ is Val
            if isval:
                own, v = v.fmt, v.value
                if v is None:
                    continue
                t_ = type(v)
            if t_ is str or isinstance(v, str):
                if not v:
                    s_ = str_xf[k][0]
                    if not s_:
                        continue
                    cells.append(f'<c r="{letters[k]}{rs}"{s_}/>')
                else:
                    if wraps[k] and (len(v) * FONT_PT > rooms[k] or "\n" in v):
                        n_ = lines_needed(v, widths[k])
                        if n_ > lines:
                            lines = n_
                    if len(v) > _STR_MAX // 2 and _utf16_len(v) > _STR_MAX:
                        v = _utf16_truncate(v, _STR_MAX)
                    t = _xml_text(v, esc) if _XML_SPECIAL.search(v) else v
                    sp = ' xml:space="preserve"' if t[0].isspace() or t[-1].isspace() else ""
                    cells.append(f'<c r="{letters[k]}{rs}"{str_xf[k][v.startswith(FORMULA_START)]} t="inlineStr">'
                                 f'<is><t{sp}>{t}</t></is></c>')
            elif t_ is int or t_ is float or (isinstance(v, (int, float)) and not isinstance(v, bool)):
                s_ = xf(aligns[k], own, False) if isval else num_xf[k]
                if v != v:      # as xlsxwriter's nan_inf_to_errors writes them
                    cells.append(f'<c r="{letters[k]}{rs}"{s_} t="e"><f>#NUM!</f><v>#NUM!</v></c>')
                elif v in (_INF, -_INF):
                    cells.append(f'<c r="{letters[k]}{rs}"{s_} t="e"><f>{"-" if v < 0 else ""}1/0</f>'
                                 f'<v>#DIV/0!</v></c>')
                else:
                    cells.append(f'<c r="{letters[k]}{rs}"{s_}><v>{v:.16G}</v></c>')
            elif t_ is bool:
                s_ = xf(aligns[k], own, False) if isval else num_xf[k]
                cells.append(f'<c r="{letters[k]}{rs}"{s_} t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, (dt.date, dt.datetime)):
                n = _datetime_to_excel_datetime(v, date_1904, no_tz)
                cells.append(f'<c r="{letters[k]}{rs}"{xf(aligns[k], own or FMT_DATE, False)}>'
                             f'<v>{n:.16G}</v></c>')
            else:
                v = str(v)
                if not v:
                    continue
                t = _xml_text(v, esc)
                sp = ' xml:space="preserve"' if t[0].isspace() or t[-1].isspace() else ""
                cells.append(f'<c r="{letters[k]}{rs}"{str_xf[k][v.startswith(FORMULA_START)]} t="inlineStr">'
                             f'<is><t{sp}>{t}</t></is></c>')
            if cmin is None:
                cmin = k
            cmax = k
        if cmin is not None:
            ws._check_dimensions(r, cmin)
            ws._check_dimensions(r, cmax)
        h = f' ht="{round(lines * LINE_PT + ROW_PAD_PT, 1) * 4 / 3 * 0.75:.16g}" customHeight="1"' \
            if lines > 1 else ""   # as set_row_pixels(h * 4 / 3) writes it
        if cells:
            write(f'<row r="{rs}"{h}>{"".join(cells)}</row>')
        elif h:
            write(f'<row r="{rs}"{h}/>')
        ws.previous_row = r
        r += 1
    return r


_INF = float("inf")


class _Styles:
    """xlsxwriter formats by (font, fill, align, number format, border, quote prefix), made once."""

    FONTS = {"bold": {"bold": True}, "big": {"bold": True, "font_size": 16}, "head": {"bold": True, "font_size": 12},
             "title": {"bold": True, "font_size": 14}}
    FILLS = {"head": "D9E1F2", "total": "F2F2F2"}
    ALIGNS = {"head": {"align": "center", "valign": "vcenter", "text_wrap": True},
              "top_wrap": {"valign": "top", "text_wrap": True}, "top": {"valign": "top"}}

    def __init__(self, wb):
        self.wb = wb
        self.cache: dict = {}

    def get(self, font=None, fill=None, align=None, fmt=None, border=None, quote=False):
        key = (font, fill, align, fmt, border, quote)
        f = self.cache.get(key, False)
        if f is False:
            props: dict = {}
            if font:
                props.update(self.FONTS[font])
            if fill:
                props.update(pattern=1, fg_color=self.FILLS[fill])
            if align:
                props.update(self.ALIGNS[align])
            if fmt:
                props["num_format"] = fmt
            if border:
                props["top"] = 2          # medium
            if quote:
                props["quote_prefix"] = True
            f = self.cache[key] = self.wb.add_format(props) if props else None
        return f


def _put(ws, styles: _Styles, r: int, c: int, v, *, font=None, fill=None, align=None, fmt=None,
         border=None) -> None:
    """One cell: text as a string cell (quote-prefixed when formula-like), numbers, dates and
    booleans typed, an empty value (None or "") a styled blank when it has a style."""
    if isinstance(v, str) and v:
        ws.write_string(r, c, v, styles.get(font, fill, align, None, border, formula_like(v)))
    elif v is None or v == "":
        f = styles.get(font, fill, align, None, border)
        if f is not None:
            ws.write_blank(r, c, None, f)
    elif isinstance(v, bool):
        ws.write_boolean(r, c, v, styles.get(font, fill, align, fmt, border))
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v, styles.get(font, fill, align, fmt, border))
    elif isinstance(v, (dt.date, dt.datetime)):
        ws.write_datetime(r, c, v, styles.get(font, fill, align, fmt or FMT_DATE, border))
    else:
        s = str(v)
        ws.write_string(r, c, s, styles.get(font, fill, align, None, border, formula_like(s)))


def _row_height(ws, r: int, h: float | None) -> None:
    if h:
        ws.set_row_pixels(r, h * 4 / 3)     # xlsxwriter stores pixels: this writes ht="h" exactly


def _page_setup(ws, widths: list[int], landscape: bool, head_row: int | None, caption: str) -> None:
    for k, w in enumerate(widths):
        ws.set_column_pixels(k, k, w * 7)   # 7 px a character: this writes width="w" exactly
    if head_row:
        ws.repeat_rows(head_row - 1)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(9)                     # A4
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(0)                # gridlines shown and printed
    ws.set_margins(left=MARGIN_LR, right=MARGIN_LR, top=MARGIN_TB, bottom=MARGIN_TB)
    ws.set_header(f"&L&{FONT_PT} {_hf_text(caption)}&R&{FONT_PT} &A", {"margin": MARGIN_HF})
    ws.set_footer(f"&C&{FONT_PT} 第 &P 页 共 &N 页", {"margin": MARGIN_HF})


def _write_sheet(wb, styles: _Styles, sh: Sheet, title: str | None, warnings: list[str], caption: str) -> None:
    if sh.blocks is not None:
        return _write_cover(wb, styles, sh, caption)
    ws = wb.add_worksheet(sh.name, worksheet_class=_sheet_class())
    head_row = 2 if title else 1
    limit = EXCEL_MAX_ROWS - head_row - 4
    rows = sh.rows
    if len(rows) > limit:
        warnings.append(f"工作表“{sh.name}”超过 Excel 行数上限，只写出前 {limit} 行（共 {len(rows)} 行）")
        rows = rows[:limit]
    ncol = len(sh.cols)
    widths, landscape = layout(sh)
    _page_setup(ws, widths, landscape, head_row, caption)
    ws.freeze_panes(head_row, sh.freeze_cols)
    end_row = head_row + max(len(rows), 1)
    ws.autofilter(head_row - 1, 0, end_row - 1, ncol - 1)
    r = 0
    if title:
        _put(ws, styles, r, 0, title, font="title")
        r += 1
    wraps = [_wraps(c) for c in sh.cols]
    _row_height(ws, r, row_height([c.header for c in sh.cols], widths, [True] * ncol))
    for k, c in enumerate(sh.cols):
        _put(ws, styles, r, k, c.header, font="bold", fill="head", align="head")
        if c.comment:
            ws.write_comment(r, k, c.comment, {"author": "fazhi"})
    r += 1
    aligns = ["top_wrap" if w else "top" for w in wraps]
    fmts = [c.fmt for c in sh.cols]
    r = ws.fast_rows(styles, rows, r, widths, wraps, fmts, aligns)
    if not rows:
        _row_height(ws, r, row_height(["无", sh.empty or ""], widths, [False, True]))
        _put(ws, styles, r, 0, "无", align="top")
        if sh.empty:
            _put(ws, styles, r, 1, sh.empty, align="top_wrap")
        r += 1
    if sh.total and rows:
        _row_height(ws, r, row_height(sh.total, widths, [True] * ncol))
        for k, (v, f, a) in enumerate(zip(sh.total, fmts, aligns)):
            _put(ws, styles, r, k, v, font="bold", fill="total", align=a, fmt=f, border=True)
        r += 1
    notes = ([sh.note] if sh.note else []) + list(sh.notes)
    if notes:
        r += 1
        units = max(10, int(sum(widths) * 0.95))
        for n in notes:
            for line_ in note_lines(n, units):
                _put(ws, styles, r, 0, line_)
                r += 1
    for k, value, colour in sh.cond:
        ws.conditional_format(head_row, k, end_row - 1, k, {
            "type": "cell", "criteria": "equal to", "value": f'"{value}"',
            "format": _cond_format(wb, styles, colour)})
    for k, value, colour in sh.at_least:
        ws.conditional_format(head_row, k, end_row - 1, k, {
            "type": "cell", "criteria": "greater than or equal to", "value": repr(float(value)),
            "format": _cond_format(wb, styles, colour)})


def _cond_format(wb, styles: _Styles, colour: str):
    key = ("cond", colour)
    f = styles.cache.get(key)
    if f is None:
        f = styles.cache[key] = wb.add_format({"pattern": 1, "bg_color": colour, "fg_color": colour})
    return f


def _write_cover(wb, styles: _Styles, sh: Sheet, caption: str) -> None:
    """The cover: a title, then blocks of (heading, header row, rows)."""
    ws = wb.add_worksheet(sh.name, worksheet_class=_sheet_class())
    widths, landscape = layout(sh)
    _page_setup(ws, widths, landscape, None, caption)
    title, sub = sh.rows[0][0], sh.rows[0][1]
    r = -1

    def row(values=None, height=None):
        nonlocal r
        r += 1
        _row_height(ws, r, height or (row_height(values, widths, [True] * len(values)) if values else None))

    row(height=24)
    _put(ws, styles, r, 0, title, font="big")
    row()
    _put(ws, styles, r, 0, sub)
    for heading, header, rows in sh.blocks:
        row()
        row(height=18)
        _put(ws, styles, r, 0, heading, font="head")
        if header:
            row(header)
            for k, h in enumerate(header):
                _put(ws, styles, r, k, h, font="bold", fill="head", align="top_wrap")
        for rw in rows:
            vals = [v.value if isinstance(v, Val) else v for v in rw]
            row(vals)
            for k, (x, v) in enumerate(zip(vals, rw)):
                _put(ws, styles, r, k, x, align="top_wrap",
                     fmt=v.fmt if isinstance(v, Val) and x is not None and not isinstance(x, str) else None)


def iter_sheets(engine: Engine, *, year: int | None = None, level: str | None = None,
                roster: bool = True):
    """The workbook's sheets in order, built one at a time (a sheet's rows can go once it is
    written): the analyses and the reports are read once, the findings dropped after the
    sheets that need their excerpts."""
    from . import sheets as extra

    from .rulesets import attached

    _RULESETS.set(tuple(attached(engine)))   # titles of a place's rules (the context of this export)
    with engine.connect() as conn:
        reps = compare.report_rows(conn, year=year, level=level)
        every = reps if year is None else compare.report_rows(conn, level=level)
        cat = compare.catalog()
        hl = compare.headlines(conn, list(cat), [r["id"] for r in every])
    copies = extra.copy_shares(engine)
    used = {"概况", "报告清单", "报告信息", "问题清单", "督办清单", "抄袭雷同", "逐年对比", "合规矩阵", "无法读取",
            "报送情况"}
    finds = load_findings(engine, reps)
    fails = extra.failure_rows(engine)
    follow = extra.follow_rows(engine, reps, year=year)
    yield extra.cover_sheet(engine, reps, every, finds, copies, fails, year=year, level=level)
    yield reports_sheet(reps, copies)
    sh = findings_sheet(reps, finds)
    del finds            # its rows hold what they show: the findings themselves can go before it is written
    yield sh
    del sh
    yield extra.todo_sheet(reps, follow, copies)
    del follow
    yield extra.copies_sheet(reps, copies, every)
    yield extra.yearly_sheet(reps, every, copies, hl)
    del copies
    yield from topic_sheets(reps, hl, used)
    del hl
    yield from matrix_sheet(reps, load_findings(engine, reps, with_excerpts=False), used)
    yield details_sheet(reps)
    yield extra.failures_sheet(fails)
    if roster:
        rows = extra.roster_rows(engine, year if year is not None else max((r["year"] for r in reps if r["year"]),
                                                                           default=None))
        if rows:
            yield extra.status_sheet(rows)


def build_sheets(engine: Engine, *, year: int | None = None, level: str | None = None,
                 roster: bool = True) -> list[Sheet]:
    """Every sheet of the workbook at once (``iter_sheets`` as a list)."""
    return list(iter_sheets(engine, year=year, level=level, roster=roster))


def write_xlsx(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None,
               title: str | None = None) -> dict:
    """The workbook; returns {"path", "reports", "sheets", "warnings"}.  Streamed: one sheet's
    rows in memory at a time, and xlsxwriter's constant_memory mode writes each row out as the
    next begins."""
    import xlsxwriter

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    caption = title or "法治政府建设年度报告汇总"
    names: list[str] = []
    n_reports = 0
    failure = None
    with _quiet_cleanup(), _atomic(out) as tmp, tempfile.TemporaryDirectory(prefix="fazhi-xlsx-") as rows_dir:
        # constant_memory keeps each sheet's rows in a file of rows_dir until close (a failure
        # leaves them there: the directory goes with them).  The default font sets the column-width
        # unit: Arial (Liberation Sans in LibreOffice) measures the same in Excel and LibreOffice,
        # Calibri would be replaced by a wider font
        wb = xlsxwriter.Workbook(str(tmp), {
            "constant_memory": True, "tmpdir": rows_dir, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False, "nan_inf_to_errors": True,
            "default_format_properties": {"font_name": FONT_NAME, "font_size": FONT_PT}})
        try:
            styles = _Styles(wb)
            for k, sh in enumerate(iter_sheets(engine, year=year, level=level)):
                if k == 1:
                    n_reports = len(sh.rows)
                _write_sheet(wb, styles, sh, title, warnings, caption)
                names.append(sh.name)
                del sh
            wb.set_properties({"author": "fazhi", "title": caption})
            wb.close()
        except xlsxwriter.exceptions.FileCreateError as e:   # a full disk: the half-written zip goes with tmp
            cause = e.__context__ if isinstance(e.__context__, OSError) else None
            failure = OSError(cause.errno if cause else None, cause.strerror if cause else str(e), str(out))
            cause = None      # its traceback holds the half-written zip (released below, quietly)
        except OSError as e:
            failure = OSError(e.errno, e.strerror, str(out))
        finally:
            wb = styles = None
            gc.collect()      # the half-written zip's destructor complains here, quietly
        if failure is not None:
            raise failure     # inside _atomic: the half-written file is dropped, an older one kept
    return {"path": [str(out)], "reports": n_reports, "sheets": names, "warnings": warnings}


# ------------------------------------------------------------ PDF
PDF_TIMEOUT = 600   # seconds; a 5,000-report workbook (thousands of pages) takes longer: --pdf-timeout


def soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


def write_pdf(xlsx: str | Path, pdf: str | Path | None = None, *, timeout: int = PDF_TIMEOUT) -> Path:
    """``xlsx`` printed to PDF by LibreOffice headless (a private profile, a timeout);
    ``ExportError`` (Chinese) when LibreOffice is missing, fails or takes too long."""
    import signal
    import subprocess

    xlsx = Path(xlsx)
    pdf = Path(pdf) if pdf else xlsx.with_suffix(".pdf")
    exe = soffice()
    if exe is None:
        raise ExportError(f"未找到 LibreOffice（soffice），无法生成 PDF；工作簿已写出：{xlsx}。"
                          "请安装 LibreOffice（Debian：libreoffice-calc-nogui）后重试")
    with tempfile.TemporaryDirectory(prefix="fazhi-xlsx-pdf-") as tmp:
        src = Path(tmp, "workbook.xlsx")
        shutil.copyfile(xlsx, src)
        outdir = Path(tmp, "out")
        cmd = [exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), str(src)]
        env = dict(os.environ)
        env.setdefault("HOME", tmp)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            _out, errb = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)   # soffice starts children of its own
            proc.communicate()
            raise ExportError(f"LibreOffice 转换 PDF 超时（{timeout} 秒）；工作簿已写出：{xlsx}") from None
        made = outdir / "workbook.pdf"
        if proc.returncode != 0 or not made.exists():
            msg = (errb or b"").decode("utf-8", "replace").strip().splitlines()
            raise ExportError("LibreOffice 转换 PDF 失败" + (f"：{msg[-1]}" if msg else ""))
        pdf.parent.mkdir(parents=True, exist_ok=True)
        with _atomic(pdf) as t:
            shutil.copyfile(made, t)
    return pdf


def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return csv_safe(v)


def write_csv(engine: Engine, out: str | Path, *, year: int | None = None, level: str | None = None) -> dict:
    """One row per report (``REPORT_HEADERS``), UTF-8 with BOM."""
    with engine.connect() as conn:
        reps = compare.report_rows(conn, year=year, level=level)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _atomic(out) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REPORT_HEADERS)
        for rep in reps:
            w.writerow([_csv_value(v) for v in report_record(rep)])
    return {"path": [str(out)], "reports": len(reps), "sheets": ["报告清单"], "warnings": []}


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
    from .rulesets import attached

    _RULESETS.set(tuple(attached(engine)))
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
