"""Planted defects in the dev reports are all found; the whole reports, unmutated,
carry no error-level finding (bench/mutate.py prints the same counts)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mutate():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "bench" / "mutate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_planted_defect_is_found():
    res = _mutate().run(ROOT / "tests" / "data" / "dev")
    for kind in ("drop_part", "rate", "count_over", "title_year", "late", "over_total"):
        assert res["planted"][kind] >= 1, kind
    assert res["missed"] == []
    assert sum(res["found"].values()) == sum(res["planted"].values())


def test_unmutated_whole_reports_have_no_errors():
    res = _mutate().run(ROOT / "tests" / "data" / "dev")
    assert {k: v for k, v in res["baseline_errors"].items() if k.startswith("seed")} == {}
