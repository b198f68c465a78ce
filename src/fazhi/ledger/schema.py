"""The ledger's record types, columns and measures, read from ``schema.yaml``.

``load_schema()`` validates the file once (a typo in the data fails loudly at
import of the first command, not in a user's December) and returns a
``Schema``: sheets with their columns, the 基本情况 items, and the measures that
turn rows into the catalog's indicators.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

TYPES = ("text", "date", "int", "number", "enum")
TYPE_LABELS = {"text": "文字", "date": "日期", "int": "整数", "number": "数字", "enum": "下拉选择"}


@dataclass
class Column:
    name: str
    type: str = "text"
    required: bool = False
    values: list[str] = field(default_factory=list)
    width: int | None = None
    note: str = ""
    example: object = None
    unique: bool | str = False     # True, or the column within whose values it is unique


@dataclass
class Sheet:
    name: str
    key: str
    topic: str
    columns: list[Column]
    year_column: str | None = None
    rules: list[dict] = field(default_factory=list)
    note: str = ""
    optional: bool = False

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Basic:
    key: str
    name: str
    type: str
    values: list[str] = field(default_factory=list)
    example: object = None
    note: str = ""
    map: dict = field(default_factory=dict)


@dataclass
class Measure:
    id: str
    indicator: bool
    kind: str          # count | sum | ratio | basic | ratio_basic
    spec: object
    unit: str
    scale: float = 1.0

    @property
    def sheet(self) -> str | None:
        return self.spec.get("sheet") if isinstance(self.spec, dict) else None


@dataclass
class Schema:
    sheets: list[Sheet]
    basics_sheet: str
    basics_headers: list[str]
    basics: list[Basic]
    basics_rules: list[dict]
    measures: list[Measure]
    instructions_sheet: str
    date_formats: list[str]
    total_row: str = ""

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)

    def measure(self, mid: str) -> Measure | None:
        return next((m for m in self.measures if m.id == mid), None)

    def basic(self, key: str) -> Basic | None:
        return next((b for b in self.basics if b.key == key), None)

    def feeds(self, sheet_name: str) -> list[str]:
        """Catalog indicators a record type feeds (directly or through a ratio)."""
        direct = {m.id for m in self.measures if m.sheet == sheet_name}
        out = []
        for m in self.measures:
            if not m.indicator:
                continue
            if m.id in direct or (m.kind == "ratio" and set(m.spec) & direct):
                out.append(m.id)
        return out

    def column_feeds(self, sheet_name: str, column: str) -> list[str]:
        """Measures (catalog indicators and auxiliary figures) that read a column
        (summed or filtered on), and the ratios made of them."""
        direct = []
        for m in self.measures:
            if m.kind in ("count", "sum") and m.spec["sheet"] == sheet_name:
                if column in (m.spec.get("where") or {}) or (m.kind == "sum" and m.spec["column"] == column):
                    direct.append(m.id)
        out = list(direct)
        for m in self.measures:
            if m.kind == "ratio" and set(m.spec) & set(out) and m.id not in out:
                out.append(m.id)
        return out

    def basic_feeds(self, key: str) -> list[str]:
        out = []
        for m in self.measures:
            if m.indicator and ((m.kind == "basic" and m.spec == key) or (m.kind == "ratio_basic" and key in m.spec)):
                out.append(m.id)
        return out


class SchemaError(Exception):
    pass


def _column(d: dict, where: str) -> Column:
    t = d.get("type", "text")
    if t not in TYPES:
        raise SchemaError(f"{where}: unknown column type {t!r}")
    if t == "enum" and not d.get("values"):
        raise SchemaError(f"{where}: enum column {d.get('name')!r} without values")
    u = d.get("unique", False)
    return Column(name=str(d["name"]), type=t, required=bool(d.get("required", False)),
                  values=[str(v) for v in d.get("values") or []], width=d.get("width"),
                  note=str(d.get("note") or ""), example=d.get("example"),
                  unique=u if isinstance(u, str) else bool(u))


def parse(data: dict) -> Schema:
    from ..facts import load_catalog

    catalog = load_catalog()
    sheets = []
    for s in data["sheets"]:
        cols = [_column(c, s["name"]) for c in s["columns"]]
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise SchemaError(f"{s['name']}: duplicate column names")
        sh = Sheet(name=str(s["name"]), key=s["key"], topic=s["topic"], columns=cols,
                   year_column=s.get("year_column"), rules=list(s.get("rules") or []), note=str(s.get("note") or ""),
                   optional=bool(s.get("optional", False)))
        if sh.year_column and (sh.column(sh.year_column) is None or sh.column(sh.year_column).type != "date"):
            raise SchemaError(f"{sh.name}: year_column {sh.year_column!r} is not a date column")
        for r in sh.rules:
            for col in _rule_columns(r):
                if sh.column(col) is None:
                    raise SchemaError(f"{sh.name}: rule {r} names unknown column {col!r}")
        for c in cols:
            if isinstance(c.unique, str) and sh.column(c.unique) is None:
                raise SchemaError(f"{sh.name}: column {c.name!r} unique within unknown column {c.unique!r}")
        sheets.append(sh)
    b = data["basics"]
    basics = [Basic(key=i["key"], name=str(i["name"]), type=i.get("type", "text"),
                    values=[str(v) for v in i.get("values") or []], example=i.get("example"),
                    note=str(i.get("note") or ""), map=dict(i.get("map") or {})) for i in b["items"]]
    sheet_names = {s.name for s in sheets}
    measures = []
    ids = set()
    for m in data["measures"]:
        kinds = [k for k in ("count", "sum", "ratio", "basic", "ratio_basic") if k in m]
        if len(kinds) != 1:
            raise SchemaError(f"measure {m.get('id')}: needs exactly one of count/sum/ratio/basic")
        kind = kinds[0]
        spec = m[kind]
        ms = Measure(id=m["id"], indicator=bool(m.get("indicator", False)), kind=kind, spec=spec,
                     unit=str(m.get("unit", "")), scale=float(m.get("scale", 1)))
        if ms.indicator and ms.id not in catalog:
            raise SchemaError(f"measure {ms.id}: not an indicator of the catalog")
        if kind in ("count", "sum"):
            if spec["sheet"] not in sheet_names:
                raise SchemaError(f"measure {ms.id}: unknown sheet {spec['sheet']!r}")
            sh = next(s for s in sheets if s.name == spec["sheet"])
            for col in list((spec.get("where") or {}).keys()) + ([spec["column"]] if kind == "sum" else []):
                c = sh.column(col)
                if c is None:
                    raise SchemaError(f"measure {ms.id}: unknown column {col!r}")
            for col, v in (spec.get("where") or {}).items():
                vals = v if isinstance(v, list) else [v]
                bad = [x for x in vals if str(x) not in sh.column(col).values]
                if bad:
                    raise SchemaError(f"measure {ms.id}: {bad} not values of {col!r}")
        elif kind == "ratio":
            for x in spec:
                if x not in ids:
                    raise SchemaError(f"measure {ms.id}: ratio of {x!r}, which is not defined before it")
        elif kind == "basic":
            if spec not in {i.key for i in basics}:
                raise SchemaError(f"measure {ms.id}: unknown basic {spec!r}")
        elif kind == "ratio_basic":
            for x in spec:
                if x not in {i.key for i in basics}:
                    raise SchemaError(f"measure {ms.id}: unknown basic {x!r}")
        ids.add(ms.id)
        measures.append(ms)
    return Schema(sheets=sheets, basics_sheet=str(b["sheet"]), basics_headers=[str(x) for x in b["headers"]],
                  basics=basics, basics_rules=list(b.get("rules") or []), measures=measures,
                  instructions_sheet=str(data.get("instructions_sheet", "填写说明")),
                  date_formats=list(data.get("date_formats") or ["%Y-%m-%d"]),
                  total_row=str(data.get("total_row") or ""))


def _rule_columns(r: dict) -> list[str]:
    out = []
    for k, v in r.items():
        if isinstance(v, dict):
            out.extend(v.keys())
        elif k in ("after", "not_before", "need", "le", "ge", "warn_if_before_year"):
            out.append(v)
    return out


@lru_cache(maxsize=1)
def load_schema() -> Schema:
    with resources.files(__package__).joinpath("schema.yaml").open("r", encoding="utf-8") as f:
        return parse(yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def example_value(value, year: int):
    """An example cell value with {year}/{next} filled in."""
    if isinstance(value, str):
        return value.replace("{year}", str(year)).replace("{next}", str(year + 1))
    return value
