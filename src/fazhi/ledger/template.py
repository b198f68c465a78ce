"""Write the ledger workbook: the empty template (with one grey example row per
sheet) or a filled example ledger.

Each record type is a sheet with Chinese headers (required ones in red, a
comment on each header), drop-down lists for the enumerated columns, date
columns formatted and validated, number columns validated, frozen header; a
填写说明 sheet explains every column and names the catalog indicators each
sheet feeds; a 基本情况 sheet holds the unit's figures that are not rows.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .schema import TYPE_LABELS, Schema, Sheet, example_value, load_schema

ROWS = 2000  # validations and formats reach this row

_HEAD_FILL = "DDEBF7"
_BASIC_FILL = "FFF2CC"


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="A6A6A6")
    return {
        "head": Font(name="宋体", bold=True, size=11),
        "head_req": Font(name="宋体", bold=True, size=11, color="C00000"),
        "fill": PatternFill("solid", fgColor=_HEAD_FILL),
        "basic_fill": PatternFill("solid", fgColor=_BASIC_FILL),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "wrap": Alignment(vertical="top", wrap_text=True),
        "example": Font(name="宋体", italic=True, color="808080"),
        "body": Font(name="宋体", size=11),
        "title": Font(name="黑体", size=16, bold=True),
        "h2": Font(name="黑体", size=12, bold=True),
    }


def _width(col) -> int:
    if col.width:
        return int(col.width)
    if col.type == "date":
        return 13
    if col.type == "enum":
        return max(10, max(len(v) for v in col.values) * 2 + 4, len(col.name) * 2 + 2)
    return max(12, len(col.name) * 2 + 4)


def _validation(col, year: int | None, is_year_col: bool):
    from openpyxl.worksheet.datavalidation import DataValidation

    if col.type == "enum":
        dv = DataValidation(type="list", formula1='"' + ",".join(col.values) + '"', allow_blank=True)
        dv.error = f"请从下拉列表中选择：{'、'.join(col.values)}"
    elif col.type == "date":
        if year is not None and is_year_col:
            dv = DataValidation(type="date", operator="between", allow_blank=True,
                                formula1=f"DATE({year},1,1)", formula2=f"DATE({year},12,31)")
            dv.error = f"请填写 {year} 年内的日期，如 {year}-03-15"
        else:
            dv = DataValidation(type="date", operator="greaterThanOrEqual", allow_blank=True, formula1="DATE(1990,1,1)")
            dv.error = "请填写日期，如 2024-03-15"
    elif col.type == "int":
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        dv.error = "请填写 0 或正整数（不带单位）"
    elif col.type == "number":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        dv.error = "请填写数字（不带单位）"
    else:
        return None
    dv.errorTitle = "填写有误"
    dv.showErrorMessage = True
    return dv


def _record_sheet(wb, sheet: Sheet, year: int | None, rows: list[list] | None, st: dict, schema: Schema):
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet.name)
    feeds = schema.feeds(sheet.name)
    for j, col in enumerate(sheet.columns, start=1):
        c = ws.cell(row=1, column=j, value=col.name)
        c.font = st["head_req"] if col.required else st["head"]
        c.fill = st["fill"]
        c.border = st["border"]
        c.alignment = st["center"]
        note = [("必填。" if col.required else "选填。") + TYPE_LABELS[col.type] + "。"]
        if col.values:
            note.append("可选：" + "、".join(col.values) + "。")
        if col.note:
            note.append(col.note)
        if sheet.year_column == col.name:
            note.append("决定记录属于哪一年度。")
        cm = Comment("".join(note), "fazhi")
        cm.width, cm.height = 220, 110
        c.comment = cm
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = _width(col)
        dv = _validation(col, year, sheet.year_column == col.name)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{ROWS}")
        fmt = {"date": "yyyy-mm-dd", "number": "0.00"}.get(col.type)
        if col.type == "text" and "号" in col.name:
            fmt = "@"  # numbers such as 执法证号 stay text
        if fmt:
            ws.column_dimensions[letter].number_format = fmt
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "A2"
    if rows is None:
        from .reader import sample_example

        ex = sample_example(sheet, year or dt.date.today().year - 1)
        if any(v not in (None, "") for v in ex):
            for j, v in enumerate(ex, start=1):
                cell = ws.cell(row=2, column=j, value=v)
                cell.font = st["example"]
    else:
        for i, row in enumerate(rows, start=2):
            for j, v in enumerate(row, start=1):
                cell = ws.cell(row=i, column=j, value=v)
                cell.font = st["body"]
    ws.sheet_properties.tabColor = "5B9BD5" if feeds else "A5A5A5"
    _print_setup(ws, landscape=True, title_rows="1:1")
    return ws


def _basics_sheet(wb, schema: Schema, values: dict | None, st: dict):
    from openpyxl.worksheet.datavalidation import DataValidation

    ws = wb.create_sheet(schema.basics_sheet)
    for j, h in enumerate(schema.basics_headers, start=1):
        c = ws.cell(row=1, column=j, value=h)
        c.font, c.fill, c.border, c.alignment = st["head"], st["fill"], st["border"], st["center"]
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 60
    for i, b in enumerate(schema.basics, start=2):
        ws.cell(row=i, column=1, value=b.name).font = st["head"]
        v = (values or {}).get(b.key)
        cell = ws.cell(row=i, column=2, value=v)
        cell.fill = st["basic_fill"]
        cell.border = st["border"]
        feeds = schema.basic_feeds(b.key)
        note = b.note + (f"（对应指标：{'、'.join(feeds)}）" if feeds else "")
        ws.cell(row=i, column=3, value=note).alignment = st["wrap"]
        if b.type == "enum":
            dv = DataValidation(type="list", formula1='"' + ",".join(b.values) + '"', allow_blank=True)
        elif b.type == "int":
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        else:
            dv = None
        if dv is not None:
            dv.errorTitle, dv.error, dv.showErrorMessage = "填写有误", "请按说明填写", True
            ws.add_data_validation(dv)
            dv.add(f"B{i}")
    ws.freeze_panes = "A2"
    _print_setup(ws, landscape=False, title_rows="1:1")
    return ws


def _print_setup(ws, landscape: bool, title_rows: str | None = None) -> None:
    """Print on A4, all columns on one page width (as many pages down as the rows
    need), the header row repeated on every page, page numbers in the footer."""
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&A　第 &P 页，共 &N 页"


def _instructions(wb, schema: Schema, year: int | None, st: dict):
    from ..facts import load_catalog

    cat = load_catalog()
    ws = wb.active
    ws.title = schema.instructions_sheet
    widths = {"A": 16, "B": 20, "C": 8, "D": 10, "E": 34, "F": 56}
    for k, w in widths.items():
        ws.column_dimensions[k].width = w
    y = str(year) if year else "本"
    lines = [
        (f"法治政府建设工作台账（{y}年度）填写说明", st["title"]),
        ("1. 每张工作表登记一类记录，一行一条（一件、一场、一人）。第1行是表头，请勿修改表名和列名；红色列名为必填。", None),
        ("2. 每张表第2行为灰色示例行：填写时请直接覆盖或删除。未修改的示例行不计入统计，检查时会提示。", None),
        ("3. 日期填写为 2024-03-15 的形式；数字列只填阿拉伯数字，不带单位；有下拉箭头的列请从列表中选择。", None),
        ("4. 带“年度日期”的表只登记本年度的记录（以该日期为准）。没有某类记录时保留该表、只留表头。", None),
        ("5. 填好后运行  fazhi ledger check 台账.xlsx --year 年度  检查；fazhi ledger stats 查看统计出的指标；"
         "fazhi draft 生成年度报告初稿。", None),
        ("6. “基本情况”表填写单位名称、年度和不按行登记的数字（如辖区村（社区）数）。", None),
        ("7. 每件事只登记一行：不要添加“合计”“小计”行，不要重复登记同一案号、工单编号；同一类记录只用一张表"
         "（不要分成上下半年两张表）；不要修改列名——否则合计会多算或少算，检查时会逐条指出。", None),
        ("8. 没有某类事项（如全年无行政诉讼）时保留该表、只留表头：初稿会写明“全年未发生行政诉讼案件”。", None),
    ]
    r = 1
    for text, font in lines:
        c = ws.cell(row=r, column=1, value=text)
        if font:
            c.font = font
        r += 1
    r += 1
    heads = ["工作表", "列名", "必填", "类型", "可选值 / 年度日期", "说明"]
    for j, h in enumerate(heads, start=1):
        c = ws.cell(row=r, column=j, value=h)
        c.font, c.fill, c.border, c.alignment = st["head"], st["fill"], st["border"], st["center"]
    r += 1
    for sheet in schema.sheets:
        feeds = schema.feeds(sheet.name)
        label = "、".join(f"{cat[i]['label']}（{i}）" for i in feeds) or f"不直接对应指标（{sheet.note or '用于报告的文字'}）"
        c = ws.cell(row=r, column=1, value=sheet.name)
        c.font = st["h2"]
        ws.cell(row=r, column=2, value="对应指标：" + label).alignment = st["wrap"]
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=6)
        ws.row_dimensions[r].height = 15 * max(1, len(label) // 60 + 1)
        r += 1
        for col in sheet.columns:
            extra = "、".join(col.values) if col.values else ""
            if sheet.year_column == col.name:
                extra = (extra + "；" if extra else "") + "年度日期：决定记录属于哪一年"
            row = ["", col.name, "是" if col.required else "", TYPE_LABELS[col.type], extra, col.note]
            for j, v in enumerate(row, start=1):
                cell = ws.cell(row=r, column=j, value=v)
                cell.alignment = st["wrap"]
                cell.border = st["border"]
                if j == 2 and col.required:
                    cell.font = st["head_req"]
            r += 1
    ws.freeze_panes = None
    _print_setup(ws, landscape=False)
    return ws


def write_template(path, year: int | None = None, data: dict | None = None, schema: Schema | None = None) -> Path:
    """Write the workbook.  ``data``: None for the empty template (example rows),
    else {"basics": {key: value}, "rows": {sheet name: [[cell, …], …]}}."""
    import openpyxl

    schema = schema or load_schema()
    st = _styles()
    wb = openpyxl.Workbook()
    _instructions(wb, schema, year, st)
    basics = dict((data or {}).get("basics") or {})
    if data is None and year is not None:
        basics.setdefault("year", year)
    _basics_sheet(wb, schema, basics, st)
    for sheet in schema.sheets:
        rows = None if data is None else (data.get("rows") or {}).get(sheet.name, [])
        _record_sheet(wb, sheet, year, rows, st, schema)
    wb.active = 0
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb.save(p)
    return p


def example_cells(sheet: Sheet, year: int) -> list:
    return [example_value(c.example, year) for c in sheet.columns]
