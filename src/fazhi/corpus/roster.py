"""The roster of units that must report (应报单位名单) and "who has not reported yet".

- ``name_key(name)``: the matching form of a unit's name — (division chain, own
  name); ``match_unit(unit, roster, ...)`` is *the* matching function: the one
  roster name a report's unit (or an unreadable file's name) belongs to, or
  ``None`` with the reason.  Tolerant of 街/街道/街道办事处, 人民政府/政府, a
  leading region chain (荔湖街道 = 广州市增城区荔湖街道办事处), traditional
  characters, full-width forms and spaces; never of a different unit (增城区司法局
  is not 增城区人民政府; 增城区 is not 增城区荔湖街道); two candidates left is no
  match.  Vocabulary in ``data/roster.yaml``.
- ``read_roster(path)``: an .xlsx or .csv roster, checked row by row (Chinese
  errors naming 工作表/行/列); ``write_template(path)``; ``import_roster(engine,
  year, units)`` replaces a year's roster in one transaction.
- ``assign(engine, report_id=…|failure_id=…, unit_name)``: a person's match,
  kept across re-runs and re-imports (stored by the unit's name and year).
- ``status(engine, year)``: per roster unit 已报 / 按期 / 逾期 / 无日期 / 读不了 / 未报
  and the totals, by level and by parent, plus the reports and files left
  unmatched.  A unit counts once however many of its reports are stored (the
  same report as .txt and .docx).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, false, func, insert, or_, select
from sqlalchemy.engine import Engine

from ..data import load_yaml
from ..model import LEVEL_LABELS, LEVELS
from . import db

SHEET = "应报单位名单"
MAX_ROWS = 20000          # rows of a roster file (a province's townships and departments fit)


class RosterError(Exception):
    """A Chinese message for the user (a file that cannot be read at all)."""


@lru_cache(maxsize=1)
def vocab() -> dict:
    v = dict(load_yaml("roster.yaml"))
    v["_strip"] = re.compile("[" + re.escape(v["strip_chars"]) + "]")
    v["_implicit"] = re.compile(v["implicit_region"])
    v["_loose"] = re.compile(v["loose_region"])
    v["_file_noise"] = re.compile(v["file_noise"])
    v["_joint"] = re.compile(v["joint_issuer"])
    v["_inner_gov"] = re.compile(v["inner_government"])
    v["_cut"] = re.compile(v["division_cut"])
    return v


# ------------------------------------------------------------------ names
@dataclass(frozen=True)
class Key:
    chain: tuple[str, ...]   # leading divisions, outermost first ("广州市", "增城区")
    own: str                 # the unit's own name, endings rewritten ("荔湖街")


def _simplify(s: str) -> str:
    """Simplified characters, half-width forms; the characters OpenCC would change although
    they are simplified already in a name (乾安县 is not 干安县) are kept."""
    from ..textnorm import shadow

    if not s:
        return s
    out = shadow(s, traditional=True)
    keep = vocab()["t2s_keep"]
    if any(c in keep for c in s):
        out = "".join(a if a in keep else b for a, b in zip(s, out))
    return out


@lru_cache(maxsize=65536)
def name_key(name: str) -> Key | None:
    """(division chain, own name) of a unit's name; None for an empty one."""
    from .. import regions
    from ..meta import _province_short

    v = vocab()
    s = v["_strip"].sub("", _simplify((name or "")[:200]))
    s = re.sub(r"\s+", "", s)
    m = v["_joint"].match(s)   # 中共某某区委某某区人民政府 -> the government
    if m:
        s = s[m.end():]
    s = v["_inner_gov"].sub("", s)   # 增城区人民政府荔湖街道办事处 -> 增城区荔湖街道办事处
    for old, new in v["endings"]:
        if s.endswith(old) and len(s) > len(old):
            s = s[: len(s) - len(old)] + new
            break
    if not s:
        return None
    if s in _province_short():
        s = _province_short()[s]
    chain: list[str] = []
    pos = 0
    for nm, st, en in regions.mentions(s):
        if st != pos:
            break
        chain.append(nm)
        pos = en
    rest = s[pos:]
    m = v["_loose"].match(rest) if len(rest) > 2 else None
    if m and not regions.lookup(rest):
        # unknown divisions before the own name (某某区某某街): cut at each level character
        for part in v["_cut"].finditer(m.group()):
            chain.append(part.group())
        rest = rest[m.end():]
    if not rest:   # the name is a division: its own name is the last one
        rest = chain.pop()
    mi = v["_implicit"].match(rest)
    if mi:
        rest = rest[mi.end():]
    return Key(tuple(chain), rest)


def _divisions(chain: tuple[str, ...]):
    """The divisions the chain's innermost name may be (consistent with the outer names), or None
    when a name is unknown to the division data."""
    from .. import regions

    if not chain:
        return []
    cands = regions.lookup(chain[-1])
    if not cands:
        return None
    outer = set(chain[:-1])
    known = {n for n in outer if regions.lookup(n)}
    if len(known) != len(outer):
        return None
    return [d for d in cands if outer <= {a.name for a in d.chain()}] or None


def compatible(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two division chains that do not contradict each other (one may be empty or shorter)."""
    if not a or not b:
        return True
    da, dbs = _divisions(a), _divisions(b)
    if da is None or dbs is None:   # unknown names: one chain's names within the other's
        return set(a) <= set(b) or set(b) <= set(a)
    return any(x in y.chain() or y in x.chain() for x in da for y in dbs)


def _context_chain(key: Key, *regions_: str | None) -> tuple[str, ...]:
    """The key's chain completed with region names known from elsewhere (the report's
    province/city/county, the roster's 地区), outermost first, without repeats."""
    extra: list[str] = []
    for r in regions_:
        if r:
            k = name_key(r)
            if k:
                extra += [*k.chain, k.own]
    out: list[str] = []
    for n in [*extra, *key.chain]:
        if n not in out and n != key.own:
            out.append(n)
    return tuple(out)


@dataclass
class Match:
    name: str | None                # the roster unit's name, or None
    reason: str = ""                # why not matched (Chinese), or how ("人工指定")
    candidates: list[str] = field(default_factory=list)


class RosterIndex:
    """The roster's names by own-name key, for matching many units at once."""

    def __init__(self, units):
        self.units = list(units)   # objects/dicts with name and region
        self.by_own: dict[str, list[tuple[Key, object]]] = {}
        for u in self.units:
            k = name_key(_get(u, "name"))
            if k:
                self.by_own.setdefault(k.own, []).append((k, u))

    def match(self, unit: str | None, *, region: tuple[str | None, ...] = ()) -> Match:
        return match_unit(unit, self, region=region)


def _get(u, k):
    return u[k] if isinstance(u, dict) else getattr(u, k)


def match_unit(unit: str | None, roster, *, region: tuple[str | None, ...] = ()) -> Match:
    """The roster unit that ``unit`` (a report's unit, or a name read from a file name)
    is, or ``Match(None, reason)``.

    Own names must be equal (after the endings are rewritten); division chains must
    not contradict.  Among several candidates an identical chain wins; then the
    context (``region``: the report's province/city/county; each roster unit's 地区)
    must single one out, else there is no match (a person assigns it)."""
    idx = roster if isinstance(roster, RosterIndex) else RosterIndex(roster)
    if not unit:
        return Match(None, "未识别出报告单位")
    k = name_key(unit)
    if k is None:
        return Match(None, "未识别出报告单位")
    cands = [(rk, u) for rk, u in idx.by_own.get(k.own, []) if compatible(rk.chain, k.chain)]
    if not cands:
        return Match(None, "名单中没有该单位")
    if len(cands) == 1:
        return Match(_get(cands[0][1], "name"), "自动匹配")
    same = [c for c in cands if c[0].chain == k.chain]
    if len(same) == 1:
        return Match(_get(same[0][1], "name"), "自动匹配")
    mine = _context_chain(k, *region)
    narrowed = [(rk, u) for rk, u in cands
                if compatible(_context_chain(rk, _get(u, "region") if _has(u, "region") else None), mine)]
    if len(narrowed) == 1:
        return Match(_get(narrowed[0][1], "name"), "自动匹配")
    return Match(None, "名单中有多个可能的单位", [_get(u, "name") for _, u in (narrowed or cands)])


def _has(u, k) -> bool:
    return (k in u) if isinstance(u, dict) else hasattr(u, k)


def name_from_file(path: str) -> str:
    """The unit's name as far as a file's name tells it (the year and genre words dropped)."""
    stem = Path(str(path).replace("\\", "/")).name
    return vocab()["_file_noise"].sub("", _simplify(stem)).strip()


def years_in(path: str) -> set[int]:
    return {int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", Path(str(path)).name)}


# ------------------------------------------------------------------ levels and dates
@lru_cache(maxsize=1)
def _levels() -> dict[str, str]:
    out = {k: k for k in LEVELS}
    out.update({lab: k for k, lab in LEVEL_LABELS.items() if k})
    out.update(vocab()["level_aliases"])
    return {re.sub(r"\s+", "", _simplify(a)).lower(): k for a, k in out.items()}


def parse_level(s) -> str | None:
    return _levels().get(re.sub(r"\s+", "", _simplify(str(s or ""))).lower())


def level_choices() -> str:
    return "、".join(LEVEL_LABELS[k] for k in LEVELS)


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def parse_date(v) -> str | None:
    """A cell's date as YYYY-MM-DD; raises ValueError when it is not one."""
    from datetime import datetime

    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    m = _DATE_RE.match(_simplify(str(v)))
    if not m:
        raise ValueError
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()


def default_deadline(year: int, level: str | None = None, params: dict | None = None) -> str:
    """The last day on time for a report on ``year``: the day before the
    ``timeliness.deadline`` rule's date (``params``: ``rules.deadline_params`` of the
    corpus's rule set; None: the national rules)."""
    from datetime import timedelta

    from ..rules import deadline_params

    p = params if params is not None else deadline_params(None)
    md = (p.get("by_level") or {}).get(level) or p["default"]
    mo, da = (int(x) for x in str(md).split("-"))
    return (date(year + 1, mo, da) - timedelta(days=1)).isoformat()


# ------------------------------------------------------------------ reading a roster
@dataclass
class RosterUnit:
    name: str
    level: str
    parent: str | None = None
    region: str | None = None
    deadline: str | None = None
    contact: str | None = None
    phone: str | None = None


@dataclass
class Problem:
    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = ""
        if self.sheet:
            where += f"工作表“{self.sheet}”"
        if self.row:
            where += f"第{self.row}行"
        if self.column:
            where += f"“{self.column}”列"
        return f"{where}：{self.message}" if where else self.message


def _cell(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _rows_of(path: Path, data: bytes | None) -> tuple[str | None, list[tuple[int, list]]]:
    """(sheet name or None for CSV, [(row number, cells)]) of the first sheet / the CSV."""
    suffix = path.suffix.lower()
    raw = data if data is not None else path.read_bytes()
    if not raw:
        raise RosterError(f"{path.name} 是空文件（0 字节）")
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise RosterError(f"{path.name} 是旧版 Excel（.xls）或加密的工作簿，无法读取；请用 Excel/WPS 另存为 .xlsx（不加密）")
    if suffix in (".xlsx", ".xlsm"):
        import zipfile

        import openpyxl

        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = set(zf.namelist())
        except Exception:   # noqa: BLE001 - BadZipFile, OSError, …
            raise RosterError(f"{path.name} 不是 Excel 工作簿（.xlsx）：请用名单模板填写后再导入") from None
        if "xl/workbook.xml" not in names:
            raise RosterError(f"{path.name} 不是 Excel 工作簿（不含工作表）：请用名单模板填写后再导入")
        try:
            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
            rows = []
            for i, r in enumerate(ws.iter_rows(values_only=True), 1):
                if i > MAX_ROWS + 1:
                    raise RosterError(f"{path.name} 超过 {MAX_ROWS} 行：请分年度、去掉空行后再导入")
                rows.append((i, list(r[:20])))
            wb.close()
        except RosterError:
            raise
        except Exception:   # noqa: BLE001 - any damaged workbook: one Chinese message
            raise RosterError(f"{path.name} 无法作为 Excel 工作簿打开（文件可能已损坏）") from None
        return ws.title, rows
    if suffix == ".csv":
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError(f"{path.name} 的编码无法识别：请另存为 UTF-8 编码的 CSV")
        rows = []
        try:
            for i, r in enumerate(csv.reader(io.StringIO(text)), 1):
                if i > MAX_ROWS + 1:
                    raise RosterError(f"{path.name} 超过 {MAX_ROWS} 行：请分年度、去掉空行后再导入")
                rows.append((i, r[:20]))
        except csv.Error:
            raise RosterError(f"{path.name} 不是有效的 CSV 文件") from None
        return None, rows
    raise RosterError(f"不支持的名单文件类型“{path.suffix or '无扩展名'}”：请用 .xlsx 或 .csv")


def read_roster(path, data: bytes | None = None) -> tuple[list[RosterUnit], list[Problem]]:
    """The units of a roster file and the problems found (empty name, unknown level, bad
    date, duplicate unit, missing column).  Any problem means: import nothing."""
    path = Path(path)
    try:
        sheet, rows = _rows_of(path, data)
    except OSError as e:
        raise RosterError(f"无法读取 {path.name}：{e.strerror or e}") from None
    cols = vocab()["columns"]
    problems: list[Problem] = []
    rows = [(i, r) for i, r in rows if any(_cell(c) for c in r)]
    if not rows:
        raise RosterError(f"{path.name} 是空的：请按名单模板填写（第1行为表头）")
    head_no, head = rows[0]
    where = {}
    heads = [re.sub(r"\s+", "", _simplify(_cell(c) or "")) for c in head]
    for c in cols:
        want = re.sub(r"\s+", "", c["header"])
        short = re.split(r"[（(]", want)[0]
        hit = next((j for j, h in enumerate(heads) if h == want or (h and re.split(r"[（(]", h)[0] == short)), None)
        if hit is None and c.get("required"):
            problems.append(Problem(sheet, head_no, c["header"], "表头中缺少此列，请从名单模板复制表头"))
        where[c["key"]] = hit
    if problems:
        return [], problems
    units: list[RosterUnit] = []
    seen: dict[str, tuple[int, str]] = {}
    by_own: dict[str, list] = {}
    for no, r in rows[1:]:
        def val(k):
            j = where.get(k)
            return r[j] if j is not None and j < len(r) else None

        name = _cell(val("name"))
        header = {c["key"]: c["header"] for c in cols}
        if name and _simplify(name).replace(":", "：").startswith(vocab()["example_prefix"]):
            continue   # the template's example row
        if not name:
            problems.append(Problem(sheet, no, header["name"], "单位名称为空"))
            continue
        name = re.sub(r"\s+", "", name)
        if len(name) > 100:
            problems.append(Problem(sheet, no, header["name"], "单位名称过长（超过100字），请检查是否填错了列"))
            continue
        lv_raw = _cell(val("level"))
        level = parse_level(lv_raw)
        if not lv_raw:
            problems.append(Problem(sheet, no, header["level"], f"层级为空：应为 {level_choices()} 之一"))
        elif level is None:
            problems.append(Problem(sheet, no, header["level"], f"层级“{lv_raw[:20]}”无法识别：应为 {level_choices()} 之一"))
        deadline = None
        try:
            deadline = parse_date(val("deadline"))
        except ValueError:
            problems.append(Problem(sheet, no, header["deadline"],
                                    f"日期“{str(val('deadline'))[:20]}”无法识别：请写成 2025-03-31 或 2025年3月31日，或留空"))
        k = name_key(name)
        if name in seen:
            problems.append(Problem(sheet, no, header["name"], f"“{name}”重复（第{seen[name][0]}行已有）：每个单位只列一行"))
            continue
        # the same unit written another way (荔湖街道 / 广州市增城区荔湖街道办事处): reports could
        # not be told apart
        other = next(((n0, nm0) for k0, n0, nm0 in by_own.get(k.own, []) if compatible(k0.chain, k.chain)), None) if k else None
        if other:
            problems.append(Problem(sheet, no, header["name"], f"“{name}”与第{other[0]}行“{other[1]}”是同一单位，"
                                    "或无法区分：每个单位只列一行；不同地区的同名单位请写出所属地区（如“某某县城关镇”）"))
            continue
        seen[name] = (no, name)
        if k:
            by_own.setdefault(k.own, []).append((k, no, name))
        if level is None:
            continue
        units.append(RosterUnit(name, level, _cell(val("parent")), _cell(val("region")), deadline,
                                _cell(val("contact")), _cell(val("phone"))))
    if not units and not problems:
        problems.append(Problem(sheet, None, None, "名单中没有任何单位（只有表头）"))
    return units, problems


def write_template(path) -> Path:
    """The roster template: header, one example row, a list for 层级, notes."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = vocab()["columns"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([c["header"] for c in cols])
    ws.append([c.get("example") or None for c in cols])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for j, c in enumerate(cols, 1):
        cell = ws.cell(1, j)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[cell.column_letter].width = 30 if c["key"] in ("name", "region", "deadline") else 16
    ws.freeze_panes = "A2"
    lv_col = ws.cell(1, [c["key"] for c in cols].index("level") + 1).column_letter
    dv = DataValidation(type="list", formula1='"' + ",".join(LEVEL_LABELS[k] for k in LEVELS) + '"',
                        allow_blank=False, showErrorMessage=True,
                        errorTitle="层级", error="请从下拉列表中选择层级：" + level_choices())
    dv.add(f"{lv_col}2:{lv_col}5000")
    ws.add_data_validation(dv)
    dl_col = ws.cell(1, [c["key"] for c in cols].index("deadline") + 1).column_letter
    dd = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                        showErrorMessage=True, errorTitle="报送截止日期", error="请填写日期，如 2025-03-31，或留空")
    dd.add(f"{dl_col}2:{dl_col}5000")
    ws.add_data_validation(dd)
    notes = wb.create_sheet("填写说明")
    last = default_deadline(2000)[5:]   # MM-DD of the national rules
    for line in [
        "应报单位名单：每个应报送法治政府建设年度报告的单位一行。第2行是示例（单位名称以“示例：”开头的行导入时忽略），可以删除。",
        "单位名称：与报告落款一致为好；“某某街道”“某某区某某街道办事处”“某某区人民政府”“某某区政府”均可识别。",
        f"层级：{level_choices()}（下拉选择）。",
        "上级单位、地区：用于按上级汇总和区分同名单位（如两个区都有的“城关镇”），可留空。",
        f"报送截止日期：留空时按报告库的规则（全国默认：报告年度次年的 {last[:2]}月{last[3:]}日（含）前公开，附加了本地规则文件时按其规定）"
        "（《法治政府建设与责任落实督察工作规定》第二十四条：每年4月1日之前）；填写则以该日期（含当日）为准。",
        "导入：fazhi roster import 名单.xlsx --year 2024（同一年度再次导入会整体替换该年度的名单）。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
    return path


# ------------------------------------------------------------------ storing
def import_roster(engine: Engine, year: int, units: list[RosterUnit]) -> int:
    """Replace ``year``'s roster with ``units`` in one transaction; returns the count."""
    from .store import now

    at = now()
    with engine.begin() as conn:
        conn.execute(delete(db.roster_units).where(db.roster_units.c.year == year))
        if units:
            conn.execute(insert(db.roster_units), [
                {"year": year, "position": i, "name": u.name, "level": u.level, "parent": u.parent,
                 "region": u.region, "deadline": u.deadline, "contact": u.contact, "phone": u.phone,
                 "imported_at": at} for i, u in enumerate(units)])
    return len(units)


def roster_of(engine: Engine, year: int) -> list[dict]:
    t = db.roster_units.c
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(db.roster_units).where(t.year == year).order_by(t.position)).mappings()]


def years(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(db.roster_units.c.year).distinct()).scalars())


def assign(engine: Engine, unit_name: str, *, report_id: int | None = None, failure_id: int | None = None,
           year: int | None = None, actor: str | None = None) -> dict:
    """Store a person's match of a report (its year) or an unreadable file (``year`` given)
    to the roster unit ``unit_name``; replaces an earlier one.  Raises RosterError."""
    from .store import now

    r, f = db.reports.c, db.failures.c
    with engine.begin() as conn:
        if report_id is not None:
            row = conn.execute(select(r.id, r.year, r.unit, r.path).where(r.id == report_id)).first()
            if row is None:
                raise RosterError(f"没有编号为 {report_id} 的报告")
            if year is None:
                year = row.year
            if year is None:
                raise RosterError(f"报告 {report_id} 未识别出年度，请用 --year 指定它属于哪一年的名单")
            what = {"report_id": report_id}
        elif failure_id is not None:
            row = conn.execute(select(f.id, f.path).where(f.id == failure_id)).first()
            if row is None:
                raise RosterError(f"没有编号为 {failure_id} 的失败记录（见 fazhi corpus failures）")
            if year is None:
                ys = years_in(row.path)
                if len(ys) != 1:
                    raise RosterError("请用 --year 指定这个文件属于哪一年的名单")
                year = ys.pop()
            what = {"failure_id": failure_id}
        else:
            raise RosterError("请给出报告编号")
        names = {u.name: u for u in conn.execute(
            select(db.roster_units.c.name).where(db.roster_units.c.year == year))}
        if not names:
            raise RosterError(f"{year} 年度还没有导入应报单位名单（fazhi roster import 名单.xlsx --year {year}）")
        name = re.sub(r"\s+", "", unit_name or "")
        if name not in names:
            m = match_unit(name, [{"name": n, "region": None} for n in names])
            if m.name is None:
                raise RosterError(f"{year} 年度的名单中没有“{unit_name}”" + (
                    "；可能是：" + "、".join(m.candidates[:5]) if m.candidates else ""))
            name = m.name
        key_col = db.roster_assignments.c.report_id if report_id is not None else db.roster_assignments.c.failure_id
        conn.execute(delete(db.roster_assignments).where(key_col == (report_id if report_id is not None else failure_id)))
        conn.execute(insert(db.roster_assignments).values(**what, year=year, unit_name=name, actor=actor, at=now()))
    return {"year": year, "unit": name, **what}


# ------------------------------------------------------------------ status
STATES = ("on_time", "late", "undated", "unreadable", "other_genre", "missing")
STATE_LABELS = {"on_time": "按期", "late": "逾期", "undated": "已报（无日期）", "unreadable": "读不了",
                "other_genre": "非本类报告", "missing": "未报"}
COUNTS = ("expected", "reported", "on_time", "late", "undated", "unreadable", "other_genre", "missing")
COUNT_LABELS = {"expected": "应报", "reported": "已报", "on_time": "按期", "late": "逾期",
                "undated": "无日期", "unreadable": "读不了", "other_genre": "非本类", "missing": "未报"}
DATE_KINDS = {"received_on": "收到", "published": "发布", "signed": "成文"}


def _totals(rows: list[dict]) -> dict:
    t = {k: 0 for k in COUNTS}
    for r in rows:
        t["expected"] += 1
        t[r["state"]] += 1
        t["reported"] += r["state"] in ("on_time", "late", "undated")
    n = t["expected"]
    t["published_rate"] = round(t["reported"] / n, 4) if n else None
    t["on_time_rate"] = round(t["on_time"] / n, 4) if n else None
    return t


def _decisive_date(rep, kinds) -> tuple[str, str] | None:
    """(date, kind) of a report: its receipt date, else its publication date, else its
    signing date (data/roster.yaml ``deadline.dates``)."""
    for k in kinds:
        if rep[k]:
            return rep[k], k
    return None


def status(engine: Engine, year: int) -> dict:
    """Who has reported on ``year``: a dict (JSON-ready).

    ``units``: one row per roster unit — name, level, parent, deadline (the roster's
    override, else the default of the corpus's rule set), state (on_time | late |
    undated | unreadable | other_genre | missing), the date that decided it and its
    kind (received_on / published / signed: the receipt date first — of the unit's
    first version when it sent revisions), ``received`` (that receipt date), the
    report ids (all of that unit's counted reports of the year) and failure ids.
    ``other_genre``: all the unit sent is a report of another kind (a 政府信息公开
    工作年度报告), not counted until a person accepts it.
    ``totals`` and ``by_level`` / ``by_parent``: counts of expected, reported,
    on_time, late, undated, unreadable, missing, and ``published_rate`` =
    reported / expected, ``on_time_rate`` = on_time / expected (as third-party
    evaluations publish them).  ``unmatched``: reports of the year and
    unreadable files that no roster unit could be given, with the reason."""
    r, f, a = db.reports.c, db.failures.c, db.roster_assignments.c
    roster = roster_of(engine, year)
    with engine.connect() as conn:
        manual = conn.execute(select(a.report_id, a.failure_id, a.unit_name, a.year)).all()
        # the year's reports, and those a person assigned to this year whatever year the engine read
        of_year = or_(r.year == year, r.id.in_(select(a.report_id).where(a.year == year)))
        cols = (r.id, r.path, r.unit, r.level, r.province, r.city, r.county, r.published, r.signed, r.title,
                r.submission_id, r.received_on)
        reps = conn.execute(select(*cols).where(of_year)
                            .where(db.counted())   # the current version of each report only
                            .order_by(r.id)).mappings().all()
        # texts of another genre nobody accepted: not counted, but the unit did send something
        others = conn.execute(select(*cols, r.genre).where(of_year, r.genre_ok == false(), r.accepted == false(),
                                                           r.withdrawn_at.is_(None))
                              .order_by(r.id)).mappings().all()
        # the receipt of a submission is that of its first received file (a revision sent
        # after the deadline does not make an on-time report late)
        mine = select(r.submission_id).where(of_year, db.counted())
        first = dict(conn.execute(select(r.submission_id, func.min(r.received_on))
                                  .where(r.submission_id.in_(mine), r.received_on.is_not(None),
                                         r.withdrawn_at.is_(None))
                                  .group_by(r.submission_id)).all())
        fails = conn.execute(select(f.id, f.path, f.error).order_by(f.id)).mappings().all()
    reps = [{**x, "received_on": first.get(x["submission_id"]) or x["received_on"]} for x in reps]
    by_report = {m.report_id: m.unit_name for m in manual if m.report_id is not None and m.year == year}
    by_failure = {m.failure_id: m.unit_name for m in manual if m.failure_id is not None and m.year == year}
    elsewhere = ({("r", m.report_id) for m in manual if m.report_id is not None and m.year != year}
                 | {("f", m.failure_id) for m in manual if m.failure_id is not None and m.year != year})
    idx = RosterIndex(roster)
    names = {u["name"] for u in roster}
    got: dict[str, list] = {n: [] for n in names}
    bad: dict[str, list] = {n: [] for n in names}
    unmatched: list[dict] = []

    def owner(rep) -> Match | None:
        """The roster unit a report row belongs to: a person's assignment, else the
        engine's reading matched; None when a person put it on another year's roster."""
        if ("r", rep["id"]) in elsewhere:
            return None
        if rep["id"] in by_report:
            n = by_report[rep["id"]]
            return Match(n, "人工指定") if n in names else Match(None, f"人工指定的“{n}”不在本年度名单中")
        return idx.match(rep["unit"], region=(rep["province"], rep["city"], rep["county"]))

    for rep in reps:
        m = owner(rep)
        if m is None:
            continue
        if m.name:
            got[m.name].append(rep)
        else:
            unmatched.append({"kind": "report", "id": rep["id"], "unit": rep["unit"], "title": rep["title"],
                              "path": rep["path"], "reason": m.reason, "candidates": m.candidates})
    wrong: dict[str, list] = {n: [] for n in names}
    for rep in others:
        m = owner(rep)
        if m is not None and m.name:
            wrong[m.name].append(rep)
    for fl in fails:
        if ("f", fl["id"]) in elsewhere:
            continue
        if fl["id"] in by_failure:
            if by_failure[fl["id"]] in names:
                bad[by_failure[fl["id"]]].append(fl)
            continue
        ys = years_in(fl["path"])
        if ys and year not in ys:
            continue   # another year's file
        m = idx.match(name_from_file(fl["path"]))
        if m.name:
            bad[m.name].append(fl)
        else:
            unmatched.append({"kind": "failure", "id": fl["id"], "unit": None, "title": None, "path": fl["path"],
                              "reason": "读不了，文件名中" + ("没有名单中的单位" if not m.candidates else "有多个可能的单位"),
                              "candidates": m.candidates, "error": fl["error"]})
    dates = vocab()["deadline"]["dates"]
    from ..rules import deadline_params
    from ..regions import province_of
    from .rulesets import attached, for_province

    sets = attached(engine)
    rules = for_province(sets, None)
    params = deadline_params(rules.ruleset if rules else None)
    rows = []
    for u in roster:
        mine_rules = for_province(sets, province_of(u["region"])) if sets else None
        u_params = params if mine_rules is rules else deadline_params(mine_rules.ruleset)
        deadline = u["deadline"] or default_deadline(year, u["level"], u_params)
        mine = got[u["name"]]
        dated = sorted(d for d in (_decisive_date(rep, dates) for rep in mine) if d)
        if mine and dated:
            when, kind = dated[0]
            state = "on_time" if when <= deadline else "late"
        elif mine:
            when = kind = None
            state = "undated"
        else:
            when = kind = None
            state = ("other_genre" if wrong[u["name"]] else "unreadable" if bad[u["name"]] else "missing")
        rows.append({"name": u["name"], "level": u["level"], "level_label": LEVEL_LABELS.get(u["level"], u["level"]),
                     "parent": u["parent"], "region": u["region"], "contact": u["contact"], "phone": u["phone"],
                     "deadline": deadline, "deadline_overridden": bool(u["deadline"]),
                     "state": state, "state_label": STATE_LABELS[state], "date": when, "date_kind": kind,
                     "date_kind_label": DATE_KINDS.get(kind), "received": min(
                         (x["received_on"] for x in mine if x["received_on"]), default=None),
                     "other_genre": [{"id": x["id"], "genre": x["genre"]} for x in wrong[u["name"]]],
                     "published": min((x["published"] for x in mine if x["published"]), default=None),
                     # dated before the reported year ended (still counted on time; the report's
                     # own timeliness.premature finding says more)
                     "premature": bool(when and kind != "received_on" and when < f"{year + 1}-01-01"),
                     "reports": [rep["id"] for rep in mine], "failures": [fl["id"] for fl in bad[u["name"]]]})
    by_level = {}
    for lv in LEVELS:
        sub = [x for x in rows if x["level"] == lv]
        if sub:
            by_level[lv] = {"label": LEVEL_LABELS[lv], **_totals(sub)}
    parents: dict[str, list] = {}
    for x in rows:
        parents.setdefault(x["parent"] or "", []).append(x)
    by_parent = {p: {"label": p or "（未填上级）", **_totals(sub)} for p, sub in parents.items()}
    return {"year": year, "default_deadline": default_deadline(year, None, params), "roster_size": len(roster),
            "rules": "、".join(a.label for a in sets) or None,
            "totals": _totals(rows), "by_level": by_level, "by_parent": by_parent, "units": rows,
            "unmatched": unmatched}
