"""The figures a ledger implies: the measures of ``schema.yaml`` over its rows.

``compute(ledger)`` returns a ``Value`` per measure that the ledger can give:

* counts and sums over the rows of a sheet (with a ``where`` filter);
* percentages of two measures (or two 基本情况 figures), rounded half-up to
  two decimals — the number the draft writes and the analyser reads back;
* 基本情况 figures.

A sheet that is missing gives no value (``absent``).  A sheet that is there
without rows, a count of zero, or a rate whose denominator is zero, is kept with
``zero=True``: the ledger says "none", which the draft words without a number
("全年未发生行政诉讼案件"), so zero values are not part of the indicator set that
``indicator_values`` returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .reader import Ledger
from .schema import Measure


@dataclass
class Value:
    id: str
    value: float          # in the catalog's unit (元 for amounts)
    shown: float          # in the ledger's / draft's unit (万元 for amounts)
    unit: str
    indicator: bool
    source: str           # how it was computed, in Chinese
    zero: bool = False

    def text(self) -> str:
        """The number as the draft writes it: integers plain, rates and money
        with up to two decimals."""
        return fmt_number(self.shown)

    def to_dict(self) -> dict:
        v = self.value
        return {"id": self.id, "value": int(v) if float(v).is_integer() else v, "shown": self.text(),
                "unit": self.unit, "indicator": self.indicator, "zero": self.zero, "source": self.source}


def round2(x: float) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fmt_number(x: float) -> str:
    x = round2(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _where_text(where: dict | None) -> str:
    if not where:
        return ""
    parts = []
    for k, v in where.items():
        vals = v if isinstance(v, list) else [v]
        parts.append(f"{k}={'/'.join(map(str, vals))}")
    return "，".join(parts)


def _match(values: dict, where: dict | None) -> bool:
    for k, v in (where or {}).items():
        vals = [str(x) for x in (v if isinstance(v, list) else [v])]
        if values.get(k) not in vals:
            return False
    return True


def compute(led: Ledger) -> dict[str, Value]:
    out: dict[str, Value] = {}
    schema = led.schema
    for m in schema.measures:
        v = _one(m, led, out)
        if v is not None:
            out[m.id] = v
    return out


def _one(m: Measure, led: Ledger, done: dict) -> Value | None:
    schema = led.schema
    if m.kind in ("count", "sum"):
        sheet = m.spec["sheet"]
        if sheet not in led.records:
            return None  # the sheet is missing: the ledger says nothing
        # a sheet that is there without rows says "none": a zero, said in words
        rows = [r for r in led.records[sheet] if _match(r.values, m.spec.get("where"))]
        if m.kind == "count":
            x = float(len(rows))
            w = _where_text(m.spec.get("where"))
            src = f"{sheet}：{w + '的' if w else ''}行数"
        else:
            col = m.spec["column"]
            nums = [r.values.get(col) for r in rows if isinstance(r.values.get(col), (int, float))]
            x = float(sum(nums))
            w = _where_text(m.spec.get("where"))
            src = f"{sheet}：{w + '的' if w else ''}{col}之和"
        x = round2(x)
        return Value(m.id, round2(x * m.scale), x, m.unit, m.indicator, src, zero=(x == 0))
    if m.kind == "ratio":
        a, b = (done.get(x) for x in m.spec)
        if a is None or b is None:
            return None
        if b.value == 0:
            return Value(m.id, 0.0, 0.0, m.unit, m.indicator, f"{b.id} 为 0，无法计算", zero=True)
        x = round2(a.value / b.value * 100)
        return Value(m.id, x, x, m.unit, m.indicator, f"{a.text()} ÷ {b.text()}（{a.source} ÷ {b.source}）",
                     zero=(x == 0))
    if m.kind == "basic":
        x = led.basics.get(m.spec)
        if not isinstance(x, (int, float)):
            return None
        b = schema.basic(m.spec)
        x = round2(float(x))
        return Value(m.id, round2(x * m.scale), x, m.unit, m.indicator, f"{schema.basics_sheet}：{b.name}",
                     zero=(x == 0))
    if m.kind == "ratio_basic":
        a, b = (led.basics.get(k) for k in m.spec)
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return None
        na, nb = (schema.basic(k).name for k in m.spec)
        if b == 0:
            return Value(m.id, 0.0, 0.0, m.unit, m.indicator, f"“{nb}”为 0，无法计算", zero=True)
        x = round2(a / b * 100)
        return Value(m.id, x, x, m.unit, m.indicator, f"{fmt_number(a)} ÷ {fmt_number(b)}（{na} ÷ {nb}）",
                     zero=(x == 0))
    return None


def indicator_values(values: dict[str, Value]) -> set[tuple[str, float]]:
    """The (indicator, value) set the draft must carry: catalog indicators with a
    non-zero value."""
    return {(v.id, round2(v.value)) for v in values.values() if v.indicator and not v.zero}
