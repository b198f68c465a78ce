"""Who copied from whom: planted pairs with exact expectations.

Built in the test from sentences of the dev files (each used once), so that the
only near-duplicate paragraphs are the planted ones:

* original and copy of two units, the original dated earlier — once stored
  first, once stored after its copy (the order of ids must not matter);
* two units, different years, no dates: the later year copied;
* two units, the same year, no dates: 相互雷同（先后待核） on both;
* a unit's own last-year paragraph (沿用本单位往年表述), also printed by
  another unit in the later year;
* half a paragraph: a short paragraph copied into a longer one (Jaccard below
  the threshold, containment above);
* a quotation printed by 6 units: 通用表述, not copying.
"""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.corpus import db as dbm
from fazhi.corpus import similarity as sim
from fazhi.corpus.store import add_report
from fazhi.pipeline import analyze_text

DEV = Path(__file__).parent / "data" / "dev"

COMMON = ("《法治政府建设实施纲要（2021—2025年）》明确提出，到2025年，政府行为全面纳入法治轨道，"
          "职责明确、依法行政的政府治理体系日益健全，行政执法体制机制基本完善，行政执法质量和效能大幅提升。")


def _sentence_pool() -> list[str]:
    """Sentences of the dev files, 45–140 characters, none near another (containment < 0.3)."""
    out, sets = [], []
    for f in sorted(DEV.glob("*.txt")):
        for line in f.read_text(encoding="utf-8").split("\n"):
            for s in re.split(r"(?<=。)", line.strip()):
                s = s.strip()
                if not 45 <= len(s) <= 140 or not s.endswith("。") or "\u3000" in s:
                    continue
                sh = sim.shingles(s)
                if len(sh) < 30 or any(len(sh & t) / min(len(sh), len(t)) >= 0.3 for t in sets):
                    continue
                out.append(s)
                sets.append(sh)
    return out


# name: (unit as written, year, date line or None, planted paragraph keys)
REPORTS = [
    ("A", "东城区司法局", 2022, "2023年2月10日", ["dated", "common"]),
    ("B", "西城区司法局", 2022, "2023年3月20日", ["dated", "common"]),
    ("C", "南城区司法局", 2022, "2023年4月1日", ["dated2", "common"]),   # the copy, stored first
    ("D", "北城区司法局", 2022, "2023年1月15日", ["dated2", "common"]),
    ("E", "青山镇人民政府", 2021, None, ["years", "common"]),
    ("F", "白水镇人民政府", 2022, None, ["years", "common"]),
    ("G", "石桥乡人民政府", 2022, None, ["mutual"]),
    ("H", "石门乡人民政府", 2022, None, ["mutual"]),
    ("I1", "阴平镇人民政府", 2021, None, ["own"]),
    ("I2", "阴平镇", 2022, None, ["own"]),
    ("J", "某某街道办事处", 2022, None, ["own"]),
    ("K", "红旗街道办事处", 2022, "2023年1月5日", ["half"]),
    ("L", "胜利街道办事处", 2022, "2023年2月5日", ["half+"]),
]


def _build(url):
    pool = _sentence_pool()
    assert len(pool) >= 80, len(pool)
    it = iter(pool)
    take = lambda k: "".join(next(it) for _ in range(k))  # noqa: E731
    paras = {"dated": take(2), "dated2": take(2), "years": take(2), "mutual": take(2), "own": take(2),
             "half": take(1), "common": COMMON}
    paras["half+"] = paras["half"] + take(2)       # the short paragraph inside a longer one
    eng = dbm.connect(url)
    ids = {}
    for name, unit, year, date, keys in REPORTS:
        lines = [f"{unit}{year}年法治政府建设情况报告", take(2)]
        for k in keys:
            lines += [paras[k], take(2)]
        lines += [unit] + ([date] if date else [])
        r = analyze_text("\n".join(lines) + "\n", f"{name}.txt")
        assert r.meta.year == year and r.meta.unit and unit.startswith(r.meta.unit), (name, r.meta)
        assert (r.meta.signed is not None) == (date is not None), name
        ids[name] = add_report(eng, r)
    index, res = sim.analyse(eng)
    return eng, ids, paras, index, res


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("direction") / "d.db"
    return (path, *_build(str(path)))


def _chars(rc):
    return {"other": rc.other_chars, "own": rc.own_chars, "mutual": rc.mutual_chars, "common": rc.common_chars}


def test_planted_expectations(planted):
    _path, _eng, ids, paras, _index, res = planted
    n = {k: len(v) for k, v in paras.items()}
    cover = (lambda a, b: len(a & b) / len(a))(sim.shingles(paras["half+"]), sim.shingles(paras["half"]))
    assert sim.similarity(paras["half"], paras["half+"]) < sim.THRESHOLD      # Jaccard alone misses it
    assert cover < 0.8 and 1 - cover < 0.8
    c = n["common"]
    want = {   # name: (other, own, mutual, common), {source: kind}
        "A": ((0, 0, 0, c), {}),
        "B": ((n["dated"], 0, 0, c), {"A": "other"}),
        "C": ((n["dated2"], 0, 0, c), {"D": "other"}),
        "D": ((0, 0, 0, c), {}),
        "E": ((0, 0, 0, c), {}),
        "F": ((n["years"], 0, 0, c), {"E": "other"}),
        "G": ((0, 0, n["mutual"], 0), {"H": "mutual"}),
        "H": ((0, 0, n["mutual"], 0), {"G": "mutual"}),
        "I1": ((0, 0, 0, 0), {}),
        "I2": ((0, n["own"], 0, 0), {"I1": "own"}),
        "J": ((n["own"], 0, 0, 0), {"I1": "other"}),
        "K": ((0, 0, 0, 0), {}),
        "L": ((round(n["half+"] * cover), 0, 0, 0), {"K": "other"}),
    }
    by_id = {v: k for k, v in ids.items()}
    for name, ((o, w, m, cm), srcs) in want.items():
        rc = res[ids[name]]
        assert _chars(rc) == {"other": o, "own": w, "mutual": m, "common": cm}, name
        assert {by_id[s]: k for s, k in rc.source_kinds.items()} == srcs, name
        assert rc.copied_chars == o + w + m, name


def test_the_original_is_never_copied(planted):
    _path, _eng, ids, _paras, _index, res = planted
    for name in ("A", "D", "E", "I1", "K"):
        rc = res[ids[name]]
        assert not any(c.kind == "other" for c in rc.paragraphs), name
        assert rc.other_share == 0 and rc.mutual_share == 0, name


def test_half_paragraph_by_containment(planted):
    _path, _eng, ids, _paras, _index, res = planted
    (cp,) = res[ids["L"]].paragraphs
    assert cp.kind == "other" and cp.source_report == ids["K"]
    assert cp.jaccard < sim.THRESHOLD and cp.containment >= sim.CONTAINMENT
    assert 0.2 < cp.cover < 0.6
    # with containment switched off (1.0 needs every shingle) only Jaccard decides: missed
    _i, r2 = sim.analyse(planted[1], containment=1.01)
    assert r2[ids["L"]].other_chars == 0


def test_candidates_find_what_all_pairs_finds(planted):
    _path, eng, _ids, _paras, index, _res = planted
    exact = {(p.i, p.j) for p in sim.exact_pairs(eng, index)}
    found = {(p.i, p.j) for p in sim.near_duplicates(eng, index)}
    assert found == exact and len(exact) >= 20


def test_common_threshold_is_a_setting(planted):
    _path, eng, ids, paras, _index, _res = planted
    _i, r = sim.analyse(eng, common_units=7)     # 6 units print the quotation: no longer common
    c = len(paras["common"])
    assert r[ids["E"]].other_chars == 0          # E (2021) is the earliest of the six
    for name in ("A", "C", "D"):                # the others "copied" it from E (years settle it)
        assert r[ids[name]].common_chars == 0 and r[ids[name]].sources.get(ids["E"]) == c, name
    assert r[ids["F"]].sources == {ids["E"]: c + len(paras["years"])}
    assert r[ids["B"]].other_chars == len(paras["dated"]) + c


def test_summary_for_the_workbook(planted):
    _path, _eng, ids, paras, index, res = planted
    s = sim.summary(index, res[ids["B"]])
    assert s["other_share"] == pytest.approx(len(paras["dated"]) / res[ids["B"]].chars)
    assert s["common_share"] > 0 and s["mutual_share"] == 0 and s["own_share"] == 0
    assert s["sources"] == [{"report_id": ids["A"], "unit": "东城区司法局", "year": 2022, "kind": "other",
                             "label": "抄自他单位", "chars": len(paras["dated"]),
                             "share": len(paras["dated"]) / res[ids["B"]].chars}]
    assert s["paragraphs"] == {"common": 1, "own": 0, "other": 1, "mutual": 0}


def test_copies_cli_kinds(planted):
    path, _eng, ids, _paras, _index, _res = planted
    run = lambda *a: CliRunner().invoke(main, ["corpus", "copies", "--db", str(path), *a])  # noqa: E731
    r = run("--min-share", "0")
    assert r.exit_code == 0, r.output
    for head in ("抄自", "沿用", "雷同", "通用", "主要来源", "他单位：", "雷同待核：", "本单位往年："):
        assert head in r.output
    r = run("--detail", str(ids["G"]))
    assert r.exit_code == 0 and "相互雷同（先后待核）" in r.output and "石门乡" in r.output
    r = run("--detail", str(ids["I2"]))
    assert "沿用本单位往年表述" in r.output and "抄自他单位 0.0%" in r.output
    r = run("--detail", str(ids["A"]))
    assert "通用表述" in r.output and "抄自他单位 0.0%" in r.output
    assert run("--common-units", "1").exit_code == 2


def test_postgresql_gives_the_same_result(planted, pg_url):
    _path, _eng, ids, _paras, _index, res = planted
    _e, ids_pg, _p, _i, res_pg = _build(pg_url)
    for name in ids:
        a, b = res[ids[name]], res_pg[ids_pg[name]]
        assert _chars(a) == _chars(b), name
        assert sorted(a.source_kinds.values()) == sorted(b.source_kinds.values()), name
