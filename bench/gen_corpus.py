#!/usr/bin/env python3
"""Make N synthetic reports from the dev reports — for SPEED tests only, never accuracy.

Each output is one dev report (taken in turn) with its unit's name replaced by a
made-up one (某某街道 / 某某县 … built from a pool of characters), every year
shifted by the same random offset, and the other Arabic numbers perturbed.  The
files are written as OUT_DIR/000/000000-seed-000.txt, 1,000 per subdirectory.
Deterministic: file i depends only on (seed, i), so the first 10,000 files of a
100,000 corpus equal a 10,000 corpus made with the same seed.

    python bench/gen_corpus.py OUT_DIR --n 100000 [--seed 1] [--src tests/data/dev]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARD = 1000
MARKER = ".gen_corpus.json"

# characters for made-up place names (no real unit is meant)
NAME_CHARS = ("安平和兴福宁康泰华云清明新丰永长青金石林山水河湖松柏桂兰枫竹溪泉峰岭"
              "阳春秋洪润昌盛隆祥瑞嘉富宝乐东西南北中上下")
UNIT_SUFFIX = re.compile(r"^(.+?)(?:维吾尔自治区|壮族自治区|回族自治区|自治区|街道办事处|街道|镇|乡|县|区|市|省)")
YEAR = re.compile(r"(?<!\d)(19[9]\d|20[0-3]\d)(?!\d)")
NUMBER = re.compile(r"(?<![\d.])(\d+)(\.\d+)?(?![\d.])(\s*%|\s*％)?")


def stems_of(src_dir: Path) -> list[tuple[str, str, str, str | None]]:
    """(name, text, unit, unit stem to replace or None) of every dev report."""
    from fazhi.pipeline import analyze_bytes

    out = []
    for f in sorted(src_dir.glob("*.txt")):
        data = f.read_bytes()
        unit = analyze_bytes(data, f.name).meta.unit or ""
        m = UNIT_SUFFIX.match(unit)
        stem = m.group(1) if m and len(m.group(1)) >= 2 else None
        out.append((f.stem, data.decode("utf-8"), unit, stem))
    return out


def made_up_name(j: int, seed: int) -> str:
    """A three-character name, distinct for every j < len(NAME_CHARS)**3 (a bijection)."""
    k = len(NAME_CHARS)
    x = (j * 7919 + seed * 104729) % (k ** 3)   # 7919 is prime and does not divide k**3
    return NAME_CHARS[x // (k * k)] + NAME_CHARS[x // k % k] + NAME_CHARS[x % k]


def perturb(text: str, unit: str, stem: str | None, name: str, rng: random.Random) -> str:
    if stem:
        text = text.replace(stem, name)
    elif unit:   # a unit without a place stem (司法部): replace the whole name
        text = text.replace(unit, name + unit[-1])
    shift = rng.randint(-4, 2)
    text = YEAR.sub(lambda m: str(int(m.group(1)) + shift), text)

    def num(m: re.Match) -> str:
        whole, frac, pct = m.group(1), m.group(2) or "", m.group(3) or ""
        if len(whole) == 4 and 1990 <= int(whole) <= 2040 and not frac and not pct:
            return m.group(0)                       # a (shifted) year
        if pct:
            v = float(whole + frac)
            v = min(100.0, max(0.0, v + rng.uniform(-8, 4)))
            return (f"{v:.{len(frac) - 1}f}" if frac else str(round(v))) + pct
        v = int(whole)
        if v <= 31 or len(whole) > 7:               # days, months, small counts, long identifiers
            return m.group(0)
        return str(max(1, round(v * rng.uniform(0.6, 1.4)))) + frac
    return NUMBER.sub(num, text)


def generate(out_dir: Path, n: int, *, seed: int = 1, src: Path | None = None, quiet: bool = False) -> int:
    src = src or ROOT / "tests" / "data" / "dev"
    bases = stems_of(src)
    if not bases:
        raise SystemExit(f"no .txt reports in {src}")
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i in range(n):
        name, text, unit, stem = bases[i % len(bases)]
        rng = random.Random(f"{seed}:{i}")
        made_up = made_up_name(i // len(bases), seed)
        shard = out_dir / f"{i // SHARD:03d}"
        if i % SHARD == 0:
            shard.mkdir(exist_ok=True)
            if not quiet and i:
                print(f"\r{i:,} / {n:,}", end="", file=sys.stderr, flush=True)
        (shard / f"{i:06d}-{name}.txt").write_text(perturb(text, unit, stem, made_up, rng),
                                                             encoding="utf-8")
    (out_dir / MARKER).write_text(json.dumps({"n": n, "seed": seed, "src": str(src)}), encoding="utf-8")
    if not quiet:
        print(f"\r{n:,} reports in {out_dir} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return n


def existing(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--src", default=str(ROOT / "tests" / "data" / "dev"))
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    generate(Path(a.out_dir), a.n, seed=a.seed, src=Path(a.src), quiet=a.quiet)


if __name__ == "__main__":
    main()
