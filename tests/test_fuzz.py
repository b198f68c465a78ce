"""A short, deterministic fuzzing run inside the test suite (``make fuzz`` runs 24,000 cases).

The same harness as ``bench/fuzz_ingest.py``: mutated txt/md/html/docx/pdf inputs
(fixed random seed, so the same inputs every run) through the sandbox.  No
traceback, no run over its deadline, no worker death, no memory cap reached, every
refusal in Chinese, and the workers' peak resident memory under 1 GB.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import fuzz_ingest  # noqa: E402

CASES = int(os.environ.get("FAZHI_FUZZ_CASES", 400))


def test_short_fuzz_run():
    cases = fuzz_ingest.make_cases(CASES, 20241201, fuzz_ingest.build_seeds(False))
    assert len({c[1] for c in cases}) >= 10  # every seed kind is in the run
    r = fuzz_ingest.run(cases, budget=30, workers=2, ocr_on=False)
    c = r["counts"]
    assert sum(c.values()) == CASES
    assert c["unhandled"] == 0, r["failures"][:3]
    assert c["timeout"] == c["crash"] == c["memory"] == 0, r["failures"][:3]
    assert not r["not_chinese"], r["not_chinese"][:3]
    assert c["ok"] > CASES // 10 and c["ingest"] > CASES // 10  # both outcomes exercised
    assert 0 < r["peak_rss_mb"] < 1024


def test_fuzz_cases_are_deterministic():
    seeds = fuzz_ingest.build_seeds(False)
    assert seeds == fuzz_ingest.build_seeds(False)  # the seed files themselves (no dates, no random IDs)
    a = fuzz_ingest.make_cases(60, 5, seeds)
    assert a == fuzz_ingest.make_cases(60, 5, seeds)
    assert any(d != seeds[k][1] for _, k, _, d in a[len(seeds):])  # mutated
