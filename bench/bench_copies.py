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

``--incremental K`` measures the copy index instead (``copy_index``): the backfill of the db
(its speed is the figure for an existing corpus), then K new reports stored through
``store.insert`` (the time of writing their keys, and its share of the insert), then
``copies_of`` for each of them.

    python bench/bench_copies.py --db /tmp/c100k.db --incremental 20
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


def _new_texts(eng, n_new: int, seed: int = 11) -> list[str]:
    """``n_new`` new reports made like ``build``'s, whose copies come from stored paragraphs
    (sampled by id): whole paragraphs, half paragraphs followed by new text, kept texts."""
    import gen_corpus
    from sqlalchemy import func, select

    from fazhi.corpus import db as dbm

    import shutil
    import tempfile

    src = Path(tempfile.mkdtemp())
    for f in sorted((ROOT / "tests" / "data" / "dev").glob("*.txt")):
        shutil.copy(f, src / f.name)
    bases = gen_corpus.stems_of(src)
    shutil.rmtree(src)
    p, k = dbm.paragraphs.c, dbm.copy_keys.c
    with eng.connect() as c:
        top = c.execute(select(func.max(k.report_id))).scalar_one()
    rng = random.Random(f"{seed}:{top}")   # new names on every run (a rerun adds other units)

    def stored() -> str:   # a compared paragraph of a random stored report
        with eng.connect() as c:
            pid = c.execute(select(k.para_id).where(k.report_id >= rng.randint(1, top)).order_by(k.report_id)
                            .limit(1)).scalar()
            return c.execute(select(p.body).where(p.id == pid)).scalar()

    out = []
    for i in range(n_new):
        name, text, unit, stem = bases[i % len(bases)]
        text = gen_corpus.perturb(text, unit, stem, gen_corpus.made_up_name(900000 + top + i, seed), rng)
        lines = []
        for line in text.split("\n"):
            if len(line) < 40:
                lines.append(line)
                continue
            r = rng.random()
            if r < 0.62:
                body = stored()
                lines.append(body if r < 0.45 else body + _rewrite(line, rng, 0.5))
            else:
                lines.append(_rewrite(line, rng))
        out.append("\n".join(lines))
    return out


def incremental(db: Path, n_new: int, batch: int) -> None:
    """The copy index on a stored corpus, in one run: the backfill (``--build-index``), the cost
    of writing the keys when a report is stored, and ``copies_of`` for each new report."""
    import statistics

    from fazhi.corpus import copy_index as ci
    from fazhi.corpus import db as dbm
    from fazhi.corpus import store
    from fazhi.pipeline import analyze_text
    from sqlalchemy import func, select

    t0 = time.perf_counter()
    eng = dbm.connect(db)
    t_open = time.perf_counter() - t0
    with eng.connect() as c:
        n_rep = c.execute(select(func.count()).select_from(dbm.reports)).scalar_one()
        n_par = c.execute(select(func.count()).select_from(dbm.paragraphs)).scalar_one()
    print(f"corpus: {n_rep:,} reports, {n_par:,} paragraphs ({db}); open + migrate {t_open:.1f} s", flush=True)
    t0 = time.perf_counter()
    last = [t0]

    def prog(k):
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  backfill: {k:,} reports, {k / (last[0] - t0):.0f} reports/s", flush=True)
    done = ci.build_index(eng, batch=batch, progress=prog)
    t_build = time.perf_counter() - t0
    with eng.connect() as c:
        n_keys = c.execute(select(func.count()).select_from(dbm.copy_keys)).scalar_one()
    if done:
        print(f"backfill: {done:,} reports in {t_build:.1f} s ({done / t_build:.0f} reports/s, "
              f"{t_build / done * 1000:.2f} ms/report), {n_keys:,} key rows", flush=True)
    else:
        print(f"backfill: nothing to index ({n_keys:,} key rows)", flush=True)
    texts = _new_texts(eng, n_new)
    rows = [store.rows_of(analyze_text(t, f"new-{i:03d}.txt")) for i, t in enumerate(texts)]
    # insert: the whole store.insert, and the part of it that writes the keys (index_report, timed by a wrapper)
    hook = ci.index_report
    spent: list[float] = []

    def timed(conn, rid, *rest):
        t = time.perf_counter()
        try:
            return hook(conn, rid, *rest)
        finally:
            spent.append(time.perf_counter() - t)
    ci.index_report = timed
    ins, rids = [], []
    try:
        for rw in rows:
            t = time.perf_counter()
            with eng.begin() as conn:
                rid = store.insert(conn, rw)
            ins.append(time.perf_counter() - t)
            rids.append(rid)
    finally:
        ci.index_report = hook
    t = time.perf_counter()
    ci.ensure_index(eng)          # the first in a process: every report checked
    t_first = time.perf_counter() - t
    look, found = [], []
    for rid in rids:
        t = time.perf_counter()
        got = ci.copies_of(eng, rid, ensure=False)
        look.append(time.perf_counter() - t)
        if got is None:   # not counted (another version of a unit's year): nothing to report
            continue
        found.append((len(got[1].paragraphs), len(got[0]), look[-1]))
    t = time.perf_counter()
    ci.ensure_index(eng)
    t_ensure = time.perf_counter() - t
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms, max {max(xs) * 1000:.0f} ms"  # noqa: E731
    print(f"new reports: {len(rids)}; matched paragraphs per report: median "
          f"{statistics.median(f[0] for f in found):.0f}; candidates verified per report: median "
          f"{statistics.median(f[1] for f in found):.0f}")
    slow = max(found, key=lambda f: f[2])
    print(f"slowest lookup: {slow[2] * 1000:.0f} ms, {slow[1]} paragraphs verified, {slow[0]} matched")
    print(f"| step | time |\n|---|---|")
    print(f"| store.insert of a new report (transaction) | {ms(ins)} |")
    print(f"| ... of which writing its copy keys | {ms(spent)} (share of insert: "
          f"{sum(spent) / sum(ins):.2f}) |")
    print(f"| copies_of one new report | {ms(look)} |")
    print(f"| ensure_index, first call in a process (every report checked) | {t_first * 1000:.0f} ms |")
    print(f"| ensure_index, later calls (the change log: nothing changed) | {t_ensure * 1000:.0f} ms |")
    if done:
        print(f"| backfill | {t_build:.0f} s for {done:,} reports ({t_build / done * 1000:.2f} ms/report) |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", default="8c8b588")
    ap.add_argument("--db", default=None)
    ap.add_argument("--bases", default="*.txt", help="dev files the reports are made from (glob), e.g. 'seed-*.txt'")
    ap.add_argument("--one", choices=("before", "after"), help=argparse.SUPPRESS)
    ap.add_argument("--incremental", type=int, default=0, metavar="K",
                    help="instead: the copy index — backfill the db, store K new reports, copies_of each")
    ap.add_argument("--batch", type=int, default=1000, help="reports per backfill transaction (--incremental)")
    a = ap.parse_args()
    tag = "" if a.bases == "*.txt" else "-" + "".join(ch for ch in a.bases if ch.isalnum())
    db = Path(a.db or f"/tmp/fazhi-bench-copies-{a.n}{tag}.db")
    if a.one:
        print(json.dumps(run_one(db, a.one, a.before)))
        return
    if not db.exists():
        build(db, a.n, bases_glob=a.bases)
    if a.incremental:
        incremental(db, a.incremental, a.batch)
        return
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
