#!/usr/bin/env python3
"""Benchmark ``corpus copies`` (similarity.analyse) before and after a change, in one run.

Builds (once, cached under /tmp) a SQLite corpus of N synthetic reports made from
the dev reports — for speed only, never accuracy.  Report i is dev report
``i mod 33`` with a made-up unit name, shifted years and perturbed numbers
(bench/gen_corpus.py); each of its paragraphs is then, at random:

- kept as it is (45 %): the same text in ~N/33 reports of different units, the
  bulk of big LSH buckets and of the common texts;
- copied from an earlier synthetic report's rewritten paragraph (10 %);
- half copied: an earlier rewritten paragraph followed by new text (7 %);
- rewritten (38 %): 30 % of its Chinese characters replaced at random, so it
  matches nothing.

``--bases 'seed-*.txt'`` makes them from the three whole seed reports only
(~40 compared paragraphs each instead of ~4 for the excerpts).

Then ``analyse`` runs in a fresh process per variant — ``before`` is
similarity.py at ``--before`` (git), ``after`` the working tree — alternating
before/after ``--rounds`` times; elapsed time and peak RSS
(``getrusage(RUSAGE_SELF)``) of each process, the best of the rounds, and the
ratio after/before.

    python bench/bench_copies.py [--n 5000] [--rounds 2] [--before 8c8b588]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

POOL = "法治政府建设推进依法行政执法监督复议应诉普法宣传矛盾纠纷调解服务保障制度机制改革公开审查决策"


def _rewrite(line: str, rng: random.Random, frac: float = 0.3) -> str:
    return "".join(rng.choice(POOL) if "\u4e00" <= ch <= "\u9fff" and rng.random() < frac else ch for ch in line)


def build(path: Path, n: int, seed: int = 7, bases_glob: str = "*.txt") -> None:
    import gen_corpus
    from fazhi.corpus import db as dbm
    from fazhi.corpus.store import insert, rows_of
    from fazhi.pipeline import analyze_text

    import shutil
    import tempfile

    src = Path(tempfile.mkdtemp())
    for f in sorted((ROOT / "tests" / "data" / "dev").glob(bases_glob)):
        shutil.copy(f, src / f.name)
    bases = gen_corpus.stems_of(src)
    shutil.rmtree(src)
    tmp = path.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    eng = dbm.connect(tmp)
    fresh: list[str] = []
    t0 = time.perf_counter()
    rows = []
    for i in range(n):
        name, text, unit, stem = bases[i % len(bases)]
        rng = random.Random(f"{seed}:{i}")
        text = gen_corpus.perturb(text, unit, stem, gen_corpus.made_up_name(i // len(bases), seed), rng)
        out = []
        for line in text.split("\n"):
            if len(line) < 40:
                out.append(line)
                continue
            r = rng.random()
            if r < 0.45:
                out.append(line)
            elif r < 0.55 and fresh:
                out.append(rng.choice(fresh))
            elif r < 0.62 and fresh:
                out.append(rng.choice(fresh) + _rewrite(line, rng, 0.5))
            else:
                new = _rewrite(line, rng)
                fresh.append(new)
                out.append(new)
        if len(fresh) > 20000:
            fresh = fresh[-20000:]
        rows.append(rows_of(analyze_text("\n".join(out), f"{i:06d}-{name}.txt")))
        if len(rows) == 200 or i == n - 1:
            with eng.begin() as conn:
                for rw in rows:
                    insert(conn, rw)
            rows = []
            print(f"\r{i + 1:,} / {n:,} reports ({time.perf_counter() - t0:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    eng.dispose()
    tmp.rename(path)


def _module(variant: str, before: str):
    if variant == "after":
        from fazhi.corpus import similarity
        return similarity
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{before}:src/fazhi/corpus/similarity.py"],
                         check=True, capture_output=True, text=True).stdout
    f = Path("/tmp") / f"fazhi_similarity_{before}.py"
    f.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fazhi.corpus._similarity_before", f)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def run_one(db: Path, variant: str, before: str) -> dict:
    from fazhi.corpus import db as dbm

    sim = _module(variant, before)
    eng = dbm.connect(db, write=False)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    index, res = sim.analyse(eng)
    dt = time.perf_counter() - t0
    flagged = sum(1 for rc in res.values() if rc.share >= 0.3)
    other = sum(1 for rc in res.values() if rc.other_share > 0)
    return {"variant": variant, "seconds": round(dt, 2), "peak_rss_mb": round(resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "rss_before_mb": round(rss0, 1), "reports": len(res),
        "paragraphs": len(index), "flagged_30pct": flagged, "with_other": other,
        "common": sum(1 for rc in res.values() if getattr(rc, "common_chars", 0) > 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", default="8c8b588")
    ap.add_argument("--db", default=None)
    ap.add_argument("--bases", default="*.txt", help="dev files the reports are made from (glob), e.g. 'seed-*.txt'")
    ap.add_argument("--one", choices=("before", "after"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    tag = "" if a.bases == "*.txt" else "-" + "".join(ch for ch in a.bases if ch.isalnum())
    db = Path(a.db or f"/tmp/fazhi-bench-copies-{a.n}{tag}.db")
    if a.one:
        print(json.dumps(run_one(db, a.one, a.before)))
        return
    if not db.exists():
        build(db, a.n, bases_glob=a.bases)
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(a.rounds):
        for v in ("before", "after"):
            out = subprocess.run([sys.executable, __file__, "--one", v, "--db", str(db), "--before", a.before],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            runs[v].append(r)
            print(json.dumps(r, ensure_ascii=False), file=sys.stderr)
    best = {v: min(rs, key=lambda r: r["seconds"]) for v, rs in runs.items()}
    b, f = best["before"], best["after"]
    print(f"corpus: {b['reports']:,} reports, {b['paragraphs']:,} compared paragraphs ({db})")
    print("| variant | time (best of %d) | peak RSS | RSS before analyse | reports ≥ 30 %% | with 抄自他单位 | with 通用表述 |"
          % a.rounds)
    print("|---|---|---|---|---|---|---|")
    for v in ("before", "after"):
        r = best[v]
        print(f"| {v} | {r['seconds']:.1f} s | {r['peak_rss_mb']:.0f} MB | {r['rss_before_mb']:.0f} MB | "
              f"{r['flagged_30pct']:,} | {r['with_other']:,} | {r['common']:,} |")
    print(f"ratio after/before: time {f['seconds'] / b['seconds']:.2f}×, peak RSS {f['peak_rss_mb'] / b['peak_rss_mb']:.2f}×")


if __name__ == "__main__":
    main()
