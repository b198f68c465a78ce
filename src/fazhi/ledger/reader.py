"""Read and check a ledger workbook.

``read_ledger(path, year)`` never raises for a bad file: every problem becomes
an ``Issue`` naming the place in Chinese (工作表、行、列) — an empty file, a file
that is not an .xlsx, a renamed or missing sheet, a missing header, a wrong or
out-of-year date, a value outside a drop-down list, text in a number column, a
missing required cell, a row whose columns contradict each other.  Nothing is
dropped silently: a row that is not counted (the template's example row) is
reported as a warning.

The totals are protected: a row identical to another, a repeated 案号/工单编号
(columns marked ``unique``), a 合计/小计 row, a sheet split in two (an unknown
sheet with the header of a known one) and a renamed column that a figure is
computed from are errors — each would make a figure silently wrong.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .schema import Schema, Sheet, example_value, load_schema

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
_EXAMPLE_MSG = "这是模板中的示例行，未计入统计；请删除或改为实际记录"


@dataclass
class Issue:
    severity: str                 # error | warning
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None     # header name
    letter: str | None = None     # Excel column letter

    def where(self) -> str:
        out = ""
        if self.sheet:
            out += f"工作表“{self.sheet}”"
        if self.row:
            out += f"第{self.row}行"
        if self.column:
            out += f"{self.letter or ''}列“{self.column}”" if self.letter else f"“{self.column}”列"
        return out

    def text(self) -> str:
        w = self.where()
        return f"{w}：{self.message}" if w else self.message

    def to_dict(self) -> dict:
        return {"severity": self.severity, "sheet": self.sheet, "row": self.row, "column": self.column,
                "letter": self.letter, "message": self.message, "text": self.text()}


@dataclass
class Record:
    row: int
    values: dict


@dataclass
class Ledger:
    path: str
    schema: Schema
    year: int | None = None
    records: dict[str, list[Record]] = field(default_factory=dict)   # sheet name -> records
    basics: dict[str, object] = field(default_factory=dict)          # basic key -> value
    issues: list[Issue] = field(default_factory=list)
    readable: bool = True

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def rows(self, sheet: str) -> list[Record]:
        return self.records.get(sheet, [])

    def add(self, severity: str, message: str, sheet=None, row=None, column=None, letter=None):
        self.issues.append(Issue(severity, message, sheet, row, column, letter))


def _key(s) -> str:
    """Header / sheet name as compared: NFKC, no blanks, no line breaks."""
    s = unicodedata.normalize("NFKC", str(s or ""))
    return re.sub(r"\s+", "", s)


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _show(v) -> str:
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    return s if len(s) <= 30 else s[:30] + "…"


# ------------------------------------------------------------------ cells
_NUM = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def parse_number(v, integer: bool) -> tuple[object, str | None]:
    """(value, None) or (None, Chinese reason)."""
    if isinstance(v, bool):
        return None, f"应填写数字，而不是逻辑值“{v}”"
    if isinstance(v, (int, float)):
        num = v
    elif isinstance(v, (dt.date, dt.datetime)):
        return None, f"应填写数字，而不是日期“{_show(v)}”"
    else:
        s = unicodedata.normalize("NFKC", str(v)).strip()
        if not _NUM.match(s):
            hint = "（不要带单位或文字）" if re.search(r"\d", s) else ""
            return None, f"“{_show(v)}”不是数字，应填写阿拉伯数字{hint}"
        num = float(s.replace(",", ""))
    if num < 0:
        return None, f"“{_show(v)}”是负数，应为 0 或正数"
    if integer:
        if float(num) != int(num):
            return None, f"“{_show(v)}”不是整数，应填写整数"
        return int(num), None
    return float(num), None


def parse_date(v, formats: list[str]) -> tuple[dt.date | None, str | None]:
    if isinstance(v, dt.datetime):
        return v.date(), None
    if isinstance(v, dt.date):
        return v, None
    if isinstance(v, bool) or isinstance(v, (int, float)):
        return None, f"“{_show(v)}”不是日期，应填写如 2024-03-15 的日期"
    s = unicodedata.normalize("NFKC", str(v)).strip()
    s2 = re.sub(r"\s+", "", s)
    for f in formats:
        try:
            return dt.datetime.strptime(s2, f).date(), None
        except ValueError:
            continue
    m = re.match(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})日?$", s2)
    if m:
        return None, f"“{s}”不是有效日期（{m.group(1)}年没有{int(m.group(2))}月{int(m.group(3))}日）"
    return None, f"“{_show(v)}”不是有效日期，应填写如 2024-03-15 的日期"


def _text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return _show(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


# ------------------------------------------------------------------ file
def _open(path: Path, led: Ledger):
    """The openpyxl workbook, or None with an issue recorded."""
    if not path.exists():
        led.add("error", f"文件不存在：{path}")
        return None
    if path.is_dir():
        led.add("error", f"{path} 是目录，不是 Excel 文件")
        return None
    size = path.stat().st_size
    if size == 0:
        led.add("error", f"文件 {path.name} 是空文件（0 字节），不是 Excel 工作簿")
        return None
    if size > MAX_BYTES:
        led.add("error", f"文件 {path.name} 过大（{size / 1048576:.0f} MB），超过上限 {MAX_BYTES // 1048576} MB")
        return None
    data = path.read_bytes()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        led.add("error", f"{path.name} 是旧版 Excel（.xls）或加密的工作簿，无法读取；请用 Excel/WPS 另存为 .xlsx（不加密）")
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except Exception:  # noqa: BLE001 - BadZipFile, OSError, …
        led.add("error", f"{path.name} 不是 Excel 工作簿（.xlsx）：文件内容不是 xlsx 格式，请用台账模板（fazhi ledger template）填写")
        return None
    if "xl/workbook.xml" not in names:
        other = "Word 文档" if "word/document.xml" in names else ("PowerPoint 文档" if "ppt/presentation.xml" in names else "其他 zip 文件")
        led.add("error", f"{path.name} 不是 Excel 工作簿：它是 {other}，不含工作表")
        return None
    try:
        import openpyxl

        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001
        led.add("error", f"{path.name} 已损坏或格式不受支持，无法读取（{type(e).__name__}）")
        return None


def _rows(ws):
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if i > MAX_ROWS + 1:
            break
        yield i, list(row)


def read_ledger(path, year: int | None = None, schema: Schema | None = None) -> Ledger:
    schema = schema or load_schema()
    path = Path(path)
    led = Ledger(path=str(path), schema=schema, year=year)
    wb = _open(path, led)
    if wb is None:
        led.readable = False
        return led
    try:
        _read_workbook(wb, led)
    finally:
        try:
            wb.close()
        except Exception:  # noqa: BLE001
            pass
    return led


def _read_workbook(wb, led: Ledger) -> None:
    schema = led.schema
    by_key = {_key(s.name): s for s in schema.sheets}
    seen: dict[str, object] = {}
    unknown = []
    basics_ws = None
    for ws in wb.worksheets:
        k = _key(ws.title)
        if k == _key(schema.instructions_sheet):
            continue
        if k == _key(schema.basics_sheet):
            if basics_ws is not None:
                led.add("error", f"工作表“{schema.basics_sheet}”出现了两次（“{basics_ws.title}”和“{ws.title}”），请合并为一张",
                        sheet=ws.title)
                continue
            basics_ws = ws
        elif k in by_key:
            name = by_key[k].name
            if name in seen:
                led.add("error", f"工作表“{name}”出现了两次（“{seen[name].title}”和“{ws.title}”），后一张未计入，请合并为一张",
                        sheet=ws.title)
                continue
            seen[name] = ws
        else:
            unknown.append(ws)
    if basics_ws is not None:
        _read_basics(basics_ws, led)
    else:
        led.add("warning", f"缺少工作表“{schema.basics_sheet}”：单位名称、年度等基本情况按未填写处理")
    y = led.basics.get("year")
    if led.year is None:
        if isinstance(y, int):
            led.year = y
    elif isinstance(y, int) and y != led.year:
        led.add("warning", f"“年度”填的是 {y}，与指定的年度 {led.year} 不同；按 {led.year} 年检查",
                sheet=schema.basics_sheet, column="年度")
    if led.year is not None and not (1990 <= led.year <= 2100):
        led.add("error", f"年度 {led.year} 不是有效的年份", sheet=schema.basics_sheet)
        led.year = None
    missing = [s for s in schema.sheets if s.name not in seen]
    # a sheet under another name with the header of a known one: renamed (the known
    # sheet is missing) or split in two (the known sheet is there: 信访接待(下半年))
    for ws in unknown:
        header = _header(ws)
        keys = {_key(h) for h in header if not _blank(h)}
        best = None
        for s in schema.sheets:
            cols = {_key(c.name) for c in s.columns}
            hit = len(cols & keys)
            if hit >= max(2, len(cols) // 2) and (best is None or hit > best[0]):
                best = (hit, s)
        if best and best[1] in missing:
            s = best[1]
            led.add("error", f"不是台账的表名；它的表头与“{s.name}”一致，疑似由“{s.name}”改名而来。"
                             f"请改回“{s.name}”，否则其中的记录不会计入", sheet=ws.title)
            missing.remove(s)
        elif best:
            s = best[1]
            n = _filled_rows(ws)
            led.add("error", f"不是台账的表名；它的表头与“{s.name}”相同，疑似把“{s.name}”的记录分在了两张表中。"
                             f"本表的 {n} 条记录未计入统计：请把它们移到“{s.name}”表中（一类记录只用一张表）",
                    sheet=ws.title)
        elif any(not _blank(v) for v in header):
            led.add("warning", f"未识别的工作表，其内容未计入。台账的工作表为：{'、'.join(x.name for x in schema.sheets)}",
                    sheet=ws.title)
    for s in missing:
        if s.optional:
            led.add("warning", f"缺少此工作表（{s.note or '用于报告的文字'}），按没有记录处理；"
                               "新版台账模板（fazhi ledger template）含此表", sheet=s.name)
        else:
            led.add("error", "缺少此工作表（可能被删除或改名）；没有此类记录时也请保留该表、只留表头", sheet=s.name)
    for s in schema.sheets:
        if s.name in seen:
            led.records[s.name] = _read_sheet(seen[s.name], s, led)
    ex = [i for i in led.issues if i.message == _EXAMPLE_MSG]
    if len(ex) > 3:  # the untouched template: one line, not seventeen
        first = led.issues.index(ex[0])
        led.issues = [i for i in led.issues if i.message != _EXAMPLE_MSG]
        where = "、".join(f"“{i.sheet}”第{i.row}行" for i in ex)
        led.issues.insert(first, Issue("warning", f"{len(ex)} 张表中的模板示例行未计入统计（{where}）；请删除或改为实际记录"))
    if not led.errors and not any(led.records.values()):
        led.add("warning", "台账中没有任何记录（各表只有表头或示例行）")


def _header(ws) -> list:
    for _, row in _rows(ws):
        return row
    return []


def _filled_rows(ws) -> int:
    return sum(1 for i, row in _rows(ws) if i > 1 and any(not _blank(v) for v in row))


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)} or {s}


def _renamed_from(col: str, unknown: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The unknown header that looks like ``col`` renamed: one contains the other
    (受众人数 / 受众人数（人次）), or they share most of their character pairs."""
    k = _key(col)
    best = None
    for j, h in unknown:
        hk = _key(h)
        if len(hk) >= 2 and (k in hk or hk in k):
            score = 1.0
        else:
            a, b = _bigrams(k), _bigrams(hk)
            score = 2 * len(a & b) / (len(a) + len(b))
        if score >= 0.6 and (best is None or score > best[0]):
            best = (score, j, h)
    return (best[1], best[2]) if best else None


def _feeds_text(schema: Schema, sheet: str, col: str) -> str:
    from ..facts import load_catalog

    cat = load_catalog()
    ids = schema.column_feeds(sheet, col)
    named = [f"{cat[i]['label']}（{i}）" for i in ids if i in cat]
    return "、".join(named) or "、".join(ids)


# ------------------------------------------------------------------ basics
def _read_basics(ws, led: Ledger) -> None:
    schema = led.schema
    name = ws.title
    items = {_key(b.name): b for b in schema.basics}
    found: set[str] = set()
    for i, row in _rows(ws):
        if i == 1:
            continue
        label = row[0] if row else None
        value = row[1] if len(row) > 1 else None
        if _blank(label):
            if not _blank(value):
                led.add("warning", f"数值“{_show(value)}”没有对应的项目名称，未计入", sheet=name, row=i, column="数值", letter="B")
            continue
        b = items.get(_key(label))
        if b is None:
            led.add("warning", f"未识别的项目“{_show(label)}”，未计入", sheet=name, row=i, column="项目", letter="A")
            continue
        found.add(b.key)
        if _blank(value):
            led.basics[b.key] = None
            continue
        where = dict(sheet=name, row=i, column=b.name, letter="B")
        if b.type in ("int", "number"):
            v, err = parse_number(value, b.type == "int")
            if err:
                led.add("error", err, **where)
                continue
        elif b.type == "enum":
            v = next((x for x in b.values if _key(x) == _key(value)), _text(value))
            if v not in b.values:
                led.add("error", f"“{v}”不是可选值（可选：{'、'.join(b.values)}）", **where)
                continue
        else:
            v = _text(value)
        led.basics[b.key] = v
    for r in schema.basics_rules:
        a, b = led.basics.get(r["le"]), led.basics.get(r["ge"])
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b:
            ba, bb = schema.basic(r["le"]), schema.basic(r["ge"])
            led.add("error", f"“{ba.name}”（{_show(a)}）大于“{bb.name}”（{_show(b)}）", sheet=name, column=ba.name)


# ------------------------------------------------------------------ record sheets
def _example_row(sheet: Sheet, year: int | None) -> dict | None:
    ex = {c.name: c.example for c in sheet.columns if c.example not in (None, "")}
    return ex or None


def _matches_example(values: dict, sheet: Sheet, raw: dict) -> bool:
    """Is this row the template's (unedited) example row?  Its dates may carry
    any year (the template is written for the year asked for)."""
    ex = _example_row(sheet, None)
    if not ex:
        return False
    for c in sheet.columns:
        e = c.example
        r = raw.get(c.name)
        if e in (None, ""):
            if not _blank(r):
                return False
            continue
        if _blank(r):
            return False
        if isinstance(e, str) and ("{year}" in e or "{next}" in e):
            pat = re.escape(e).replace(r"\{year\}", r"\d{4}").replace(r"\{next\}", r"\d{4}")
            got = values.get(c.name)
            s = got.isoformat() if isinstance(got, dt.date) else _text(r)
            if not re.fullmatch(pat, s):
                return False
            continue
        if _text(r) != _text(e):
            try:
                if float(_text(r)) == float(e):
                    continue
            except (TypeError, ValueError):
                pass
            return False
    return True


def _read_sheet(ws, sheet: Sheet, led: Ledger) -> list[Record]:
    name = ws.title
    rows = _rows(ws)
    first = next(rows, None)
    header = first[1] if first else []
    if not header or all(_blank(h) for h in header):
        led.add("error", "第1行表头为空：请从台账模板复制该表的表头", sheet=name, row=1)
        return []
    cols_by_key = {_key(c.name): c for c in sheet.columns}
    pos: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for j, h in enumerate(header):
        if _blank(h):
            continue
        c = cols_by_key.get(_key(h))
        if c is None:
            led.add("warning", f"未识别的列“{_show(h)}”，该列内容未计入", sheet=name, row=1, letter=_letter(j))
            unknown.append((j, str(h)))
            continue
        if c.name in pos:
            led.add("error", f"列“{c.name}”出现了两次（{_letter(pos[c.name])}列和{_letter(j)}列）", sheet=name, row=1,
                    letter=_letter(j))
            continue
        pos[c.name] = j
    for c in sheet.columns:
        if c.name not in pos:
            was = _renamed_from(c.name, unknown)
            hint = (f"；{_letter(was[0])}列“{_show(was[1])}”疑似由它改名而来，请改回“{c.name}”" if was else "")
            feeds = _feeds_text(led.schema, sheet.name, c.name)
            if c.required:
                led.add("error", f"缺少必填列“{c.name}”（列名可能被修改或删除）{hint}", sheet=name, row=1)
            elif feeds:
                led.add("error", f"缺少列“{c.name}”：它用于统计{feeds}，缺了它这些数字会少算{hint}",
                        sheet=name, row=1)
            else:
                led.add("warning", f"缺少列“{c.name}”，按空白处理{hint}", sheet=name, row=1)
    out: list[Record] = []
    year = led.year
    n = 0
    total_rx = re.compile(led.schema.total_row) if led.schema.total_row else None
    seen_rows: dict[tuple, int] = {}
    seen_ids: dict[tuple, int] = {}
    for i, row in rows:
        n += 1
        raw = {c: (row[j] if j < len(row) else None) for c, j in pos.items()}
        extra = [j for j, v in enumerate(row) if not _blank(v) and j not in pos.values()]
        if all(_blank(v) for v in raw.values()):
            if extra:
                led.add("warning", "本行只在未识别的列中有内容，未计入", sheet=name, row=i, letter=_letter(extra[0]))
            continue
        total = _total_cell(row, total_rx)
        if total is not None:
            j, word = total
            col = next((c for c, jj in pos.items() if jj == j), None)
            led.add("error", f"这是“{word}”行，不是一条记录：合计由 fazhi 按逐条记录计算，保留此行会重复计数，请删除",
                    sheet=name, row=i, column=col, letter=_letter(j))
            continue
        values: dict = {}
        bad = False
        for c in sheet.columns:
            j = pos.get(c.name)
            v = raw.get(c.name)
            where = dict(sheet=name, row=i, column=c.name, letter=_letter(j) if j is not None else None)
            if _blank(v):
                values[c.name] = None
                if c.required and j is not None:
                    led.add("error", "必填项为空", **where)
                    bad = True
                continue
            if c.type == "date":
                d, err = parse_date(v, led.schema.date_formats)
                if err:
                    led.add("error", err, **where)
                    bad = True
                values[c.name] = d
            elif c.type in ("int", "number"):
                num, err = parse_number(v, c.type == "int")
                if err:
                    led.add("error", err, **where)
                    bad = True
                values[c.name] = num
            elif c.type == "enum":
                s = _key(v)
                hit = next((x for x in c.values if _key(x) == s), None)
                if hit is None:
                    led.add("error", f"“{_show(v)}”不是可选值（可选：{'、'.join(c.values)}）", **where)
                    bad = True
                values[c.name] = hit
            else:
                values[c.name] = _text(v)
        if _matches_example(values, sheet, raw):
            led.add("warning", _EXAMPLE_MSG, sheet=name, row=i)
            continue
        # every cell of the row, those of unknown columns too: rows that differ anywhere are two records
        sig = tuple(_key(_text(v)) if not _blank(v) else "" for v in row)
        while sig and sig[-1] == "":
            sig = sig[:-1]
        if sig in seen_rows:
            led.add("error", f"与第{seen_rows[sig]}行内容完全相同，疑似重复登记（重复的行会被重复计数）；"
                             "如确为两条不同的记录，请在“备注”列注明区别", sheet=name, row=i)
            continue
        seen_rows[sig] = i
        dup = False
        for c in sheet.columns:
            if not c.unique or c.name not in pos or _blank(raw.get(c.name)):
                continue
            within = c.unique if isinstance(c.unique, str) else None
            k = (c.name, values.get(within) if within else None, _key(_text(raw[c.name])))
            if k in seen_ids:
                scope = f"（{within}为“{values.get(within)}”）" if within else ""
                led.add("error", f"{c.name}“{_show(raw[c.name])}”与第{seen_ids[k]}行重复{scope}：同一件事只登记一行，"
                                 "重复登记会被重复计数", sheet=name, row=i, column=c.name, letter=_letter(pos[c.name]))
                dup = True
            else:
                seen_ids[k] = i
        if dup:
            continue
        if year is not None and sheet.year_column:
            d = values.get(sheet.year_column)
            if isinstance(d, dt.date) and d.year != year:
                j = pos.get(sheet.year_column)
                led.add("error", f"日期 {d.isoformat()} 不在 {year} 年度内：本表只登记 {year} 年的记录",
                        sheet=name, row=i, column=sheet.year_column, letter=_letter(j) if j is not None else None)
                bad = True
        bad |= _row_rules(sheet, values, pos, led, name, i, year)
        out.append(Record(row=i, values=values))
    if n >= MAX_ROWS:
        led.add("error", f"记录超过 {MAX_ROWS} 行，超出部分未读取", sheet=name)
    return out


def _total_cell(row: list, rx: re.Pattern | None) -> tuple[int, str] | None:
    """(column index, word) when the row is a 合计/小计 row: its first filled
    cell starts with a total word, or a short cell is one."""
    if rx is None:
        return None
    first = True
    for j, v in enumerate(row):
        if _blank(v):
            continue
        if isinstance(v, str):
            k = _key(v)
            m = rx.match(k)
            if m and (first or len(k) <= 6):
                return j, (m.group(1) if m.groups() else m.group(0))
        first = False
    return None


def _row_rules(sheet: Sheet, values: dict, pos: dict, led: Ledger, name: str, i: int, year: int | None) -> bool:
    bad = False

    def at(col):
        j = pos.get(col)
        return dict(sheet=name, row=i, column=col, letter=_letter(j) if j is not None else None)

    for r in sheet.rules:
        if "after" in r:
            a, b = values.get(r["after"]), values.get(r["not_before"])
            if isinstance(a, dt.date) and isinstance(b, dt.date) and a < b:
                led.add("error", f"{r['after']}（{a.isoformat()}）早于{r['not_before']}（{b.isoformat()}）", **at(r["after"]))
                bad = True
        elif "if" in r:
            cond = all(values.get(k) == v for k, v in r["if"].items())
            if not cond:
                continue
            cond_text = "、".join(f"“{k}”为“{v}”" for k, v in r["if"].items())
            if "then" in r:
                for k, v in r["then"].items():
                    if values.get(k) is not None and values.get(k) != v:
                        led.add("error", f"{cond_text}时，“{k}”应为“{v}”（现为“{values.get(k)}”）", **at(k))
                        bad = True
            if "need" in r and values.get(r["need"]) is None and r["need"] in pos:
                led.add("error", f"{cond_text}时，“{r['need']}”不能为空", **at(r["need"]))
                bad = True
        elif "le" in r:
            a, b = values.get(r["le"]), values.get(r["ge"])
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b:
                led.add("error", f"{r['le']}（{_show(a)}）大于{r['ge']}（{_show(b)}）", **at(r["le"]))
                bad = True
        elif "warn_if_before_year" in r:
            d = values.get(r["warn_if_before_year"])
            if year is not None and isinstance(d, dt.date) and d < dt.date(year, 1, 1):
                led.add("warning", f"{r['warn_if_before_year']} {d.isoformat()} 早于 {year} 年：证件可能已过期，请核实",
                        **at(r["warn_if_before_year"]))
    return bad


def check_year_known(led: Ledger) -> None:
    if led.year is None and led.readable:
        led.add("warning", "未指定年度（--year 或“基本情况”表中的“年度”），未检查日期是否在年度内")


def sample_example(sheet: Sheet, year: int) -> list:
    """The example row of a sheet as cell values, for the template."""
    out = []
    for c in sheet.columns:
        v = example_value(c.example, year)
        if c.type == "date" and isinstance(v, str) and v:
            v = dt.date.fromisoformat(v)
        out.append(v if v != "" else None)
    return out
