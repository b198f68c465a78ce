"""Incremental copy detection (``copy_index``): the keys written when a report is stored, the
backfill, and ``copies_of`` — one report's copies from an indexed lookup — equal to what the
whole-corpus ``similarity.analyse`` reports for that report, on a corpus with planted copies."""
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from fazhi.cli import main
from fazhi.corpus import copy_index as ci
from fazhi.corpus import db as dbm
from fazhi.corpus import similarity as sim
from fazhi.corpus import submissions
from fazhi.corpus.store import add_report, delete_report
from fazhi.pipeline import analyze_text

DEV = Path(__file__).parent / "data" / "dev"

# a text printed by many units (通用表述), written for this test
COMMON = ("坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想，全面贯彻落实党中央、"
          "国务院关于法治政府建设的决策部署，严格对照法治政府建设实施纲要，统筹推进依法行政各项工作，"
          "为经济社会高质量发展提供坚实法治保障。")
# the new half of a half-copied paragraph
NEW_HALF = ("街道今年还组织开展了行政执法案卷交叉评查活动，抽取执法案卷三十余宗，逐卷对照评查标准打分，"
            "对发现的文书不规范、证据链不完整等问题建立清单，限期整改并组织回头看，执法规范化水平有了明显提升。")


def _read(name: str) -> str:
    return (DEV / name).read_text(encoding="utf-8")


def _with_line(text: str, line: str) -> str:
    """``line`` inserted after the first long line of ``text``."""
    lines = text.split("\n")
    k = next(i for i, ln in enumerate(lines) if len(ln) >= 40)
    return "\n".join(lines[:k + 1] + [line] + lines[k + 1:])


def _next_year(text: str, n: int = 1) -> str:
    for _ in range(n):
        text = text.replace("2024", "2025").replace("2023", "2024").replace("2022", "2023")
    return text


def _long_line(text: str, k: int = 0) -> str:
    return [ln for ln in text.split("\n") if len(ln) >= 80][k]


def _planted(eng) -> dict:
    ids = {}
    excerpts = sorted(DEV.glob("excerpt-*.txt"))[:14]
    for i, f in enumerate(excerpts):           # COMMON in ten units (a big bucket once MAX_BUCKET is small)
        t = f.read_text(encoding="utf-8")
        ids[f.stem] = add_report(eng, analyze_text(_with_line(t, COMMON) if i < 10 else t, f.name))
    s0, s2, s4 = _read("seed-000.txt"), _read("seed-002.txt"), _read("seed-004.txt")
    ids["s0"] = add_report(eng, analyze_text(s0, "seed-000.txt"))
    ids["s2"] = add_report(eng, analyze_text(s2, "seed-002.txt"))
    # own earlier years, three of them, each with COMMON (own-unit neighbours inside a big bucket)
    for n in range(3):
        ids[f"s4+{n}"] = add_report(eng, analyze_text(_with_line(_next_year(s4, n), COMMON), f"seed-004-{n}.txt"))
    # another unit copies whole paragraphs of seed-000 a year later
    ids["copy"] = add_report(eng, analyze_text(_next_year(s0).replace("荔湖", "石滩"), "copy.txt"))
    # a same-year pair without dates: seed-002 reprinted by another town the same year
    ids["mutual"] = add_report(eng, analyze_text(s2.replace("阴平", "阳平"), "mutual.txt"))
    # half a paragraph: two paragraphs of seed-000 each followed by as much new text
    half = _with_line(_with_line(_read("excerpt-030.txt"), _long_line(s0, 1) + NEW_HALF), _long_line(s0, 2) + NEW_HALF)
    ids["half"] = add_report(eng, analyze_text(half, "half.txt"))
    return ids


@pytest.fixture
def planted(db_url):
    eng = dbm.connect(db_url)
    return eng, _planted(eng)


def _canon(rc: sim.ReportCopies) -> dict:
    return {"chars": rc.chars, "other": rc.other_chars, "own": rc.own_chars, "mutual": rc.mutual_chars,
            "common": rc.common_chars, "copied": rc.copied_chars, "sources": rc.sources,
            "source_kinds": rc.source_kinds,
            "paragraphs": [(c.kind, c.para_id, c.para_no, c.chars, c.source_report, c.source_para_id,
                            c.source_para_no, round(c.jaccard, 12), round(c.containment, 12), round(c.cover, 12))
                           for c in rc.paragraphs]}


def _assert_equal_to_analyse(eng) -> dict:
    index, res = sim.analyse(eng)
    assert res
    for rid, rc in res.items():
        got = ci.copies_of(eng, rid)
        assert got is not None
        local, mine = got
        assert _canon(mine) == _canon(rc), rid
        assert sim.summary(local, mine) == sim.summary(index, rc)
    # several at once (what a refresh recomputes): the same results, every counted one, however grouped
    ids = sorted(res)
    for group in (ids, ids[::2], ids[1::3] + [10 ** 9]):
        local, many = ci.copies_of_many(eng, group)
        assert sorted(many) == sorted(x for x in group if x in res)
        for rid, rc in many.items():
            assert _canon(rc) == _canon(res[rid]), rid
            assert sim.summary(local, rc) == sim.summary(index, res[rid])
    assert ci.copies_of_many(eng, [10 ** 9]) is None
    return res


def _kinds(res) -> set:
    return {c.kind for rc in res.values() for c in rc.paragraphs}


def test_copies_of_equals_analyse_on_planted_copies(planted):
    eng, ids = planted
    res = _assert_equal_to_analyse(eng)
    # the planted cases are there (else the equality would prove little)
    assert _kinds(res) == set(sim.KINDS)
    assert res[ids["copy"]].other_chars > 0 and ids["s0"] in res[ids["copy"]].sources
    assert res[ids["s4+2"]].own_chars > 0 and res[ids["s4+2"]].common_chars > 0
    assert res[ids["mutual"]].mutual_chars > 0 and res[ids["s2"]].mutual_chars > 0
    half = res[ids["half"]]
    assert any(c.cover < 1 and c.containment >= sim.CONTAINMENT for c in half.paragraphs)


def test_copies_of_equals_analyse_with_big_buckets(planted, monkeypatch):
    """MAX_BUCKET and REPS small, so that COMMON's buckets take the big-bucket path (the earliest
    members and the unit's neighbouring years only) in both."""
    eng, ids = planted
    monkeypatch.setattr(sim, "MAX_BUCKET", 6)
    monkeypatch.setattr(sim, "REPS", 3)
    res = _assert_equal_to_analyse(eng)
    assert res[ids["s4+2"]].own_chars > 0           # own years found inside the big bucket
    assert any(c.kind == "common" for rc in res.values() for c in rc.paragraphs)


def test_keys_are_written_on_insert_and_the_backfill_writes_the_same(planted, tmp_path):
    eng, ids = planted
    k, cr = dbm.copy_keys.c, dbm.copy_reports.c
    stored = select(cr.report_id, cr.unit, cr.sigs, cr.grams).order_by(cr.report_id)
    with eng.connect() as c:
        before = sorted(c.execute(select(k.key, k.kind, k.report_id, k.para_id)).all())
        rows_before = c.execute(stored).all()      # written from the worker's row_keys on insert
        n_rep = c.execute(select(func.count()).select_from(dbm.copy_reports)).scalar_one()
        n_all = c.execute(select(func.count()).select_from(dbm.reports)).scalar_one()
    assert before and n_rep == n_all
    assert {kd for _, kd, _, _ in before} == {ci.BAND, ci.SENT}
    # a stored corpus without keys (an older database): the backfill, interrupted and resumed
    with eng.begin() as c:
        c.execute(delete(dbm.copy_keys))
        c.execute(delete(dbm.copy_reports))
    with eng.begin() as c:
        ci.index_reports(c, sorted(ids.values())[:3])
    assert ci.build_index(eng, batch=4) == n_all - 3
    with eng.connect() as c:
        after = sorted(c.execute(select(k.key, k.kind, k.report_id, k.para_id)).all())
        rows_after = c.execute(stored).all()       # made from the stored text by the backfill
    assert after == before
    assert rows_after == rows_before and all(g for *_, g in rows_after)
    assert ci.build_index(eng) == 0


def test_lookup_builds_a_missing_index_itself(planted):
    eng, ids = planted
    with eng.begin() as c:
        c.execute(delete(dbm.copy_keys))
        c.execute(delete(dbm.copy_reports))
    _, rc = ci.copies_of(eng, ids["copy"])
    assert rc.other_chars > 0
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(dbm.copy_reports)).scalar_one() == len(ids)


def test_withdrawn_deleted_and_renamed_reports(planted):
    eng, ids = planted
    # withdrawn: keys stay, the lookup no longer counts it (nor does analyse)
    with eng.begin() as c:
        submissions.withdraw(c, ids["s0"], "test")
    _, rc = ci.copies_of(eng, ids["copy"])
    assert ids["s0"] not in rc.sources
    assert ci.copies_of(eng, ids["s0"]) is None
    _assert_equal_to_analyse(eng)
    # deleted: its keys go with it
    delete_report(eng, ids["mutual"])
    with eng.connect() as c:
        assert not c.execute(select(dbm.copy_keys.c.key).where(dbm.copy_keys.c.report_id == ids["mutual"])).first()
        assert not c.execute(select(dbm.copy_reports).where(dbm.copy_reports.c.report_id == ids["mutual"])).first()
    # a unit renamed after it was indexed (its name is masked): indexed again on the next lookup
    with eng.begin() as c:
        c.execute(update(dbm.reports).where(dbm.reports.c.id == ids["copy"]).values(unit="石滩镇人民政府"))
    with eng.connect() as c:
        assert ci._stale(c) == [ids["copy"]]
    _assert_equal_to_analyse(eng)
    with eng.connect() as c:
        assert ci._stale(c) == []


def test_a_new_report_is_matched_against_the_stored_ones(planted):
    eng, ids = planted
    new = add_report(eng, analyze_text(_next_year(_read("seed-000.txt"), 2).replace("荔湖", "新塘"), "new.txt"))
    _, rc = ci.copies_of(eng, new)
    assert rc.other_chars > 0 and set(rc.sources) <= set(ids.values())
    _assert_equal_to_analyse(eng)


def test_cli_detail_uses_the_index(planted, db_url):
    eng, ids = planted
    url = db_url
    r = CliRunner().invoke(main, ["corpus", "copies", "--detail", str(ids["copy"]), "--db", url])
    assert r.exit_code == 0, r.output
    assert "抄自他单位" in r.output and "荔湖街道" in r.output
    r = CliRunner().invoke(main, ["corpus", "copies", "--detail", "999999", "--db", url])
    assert r.exit_code == 2
    r = CliRunner().invoke(main, ["corpus", "copies", "--build-index", "--db", url])
    assert r.exit_code == 0 and "0" in r.output


def test_migration_tables_match_db_py(db_url):
    from schema_drift import drift

    assert drift(db_url, {"copy_keys", "copy_reports", "ix_copy_keys_key", "ix_copy_keys_report_id"}) == []


def test_upgrading_a_stored_corpus_then_the_backfill(db_url):
    """A corpus stored at revision 0010 (no copy tables): the upgrade adds them empty and keeps
    every report; the backfill then indexes what an insert would have."""
    from alembic import command

    eng = dbm.connect(db_url)
    ids = [add_report(eng, analyze_text(_read(f"{n}.txt"), f"{n}.txt")) for n in ("seed-000", "seed-004")]
    ids.append(add_report(eng, analyze_text(_next_year(_read("seed-004.txt")), "next.txt")))
    k = dbm.copy_keys.c
    with eng.connect() as c:
        want = sorted(c.execute(select(k.key, k.kind, k.report_id, k.para_id)).all())
    cfg = dbm._alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(dbm.reports)).scalar_one() == 3
        assert c.execute(select(func.count()).select_from(dbm.copy_keys)).scalar_one() == 0
    assert ci.build_index(eng) == 3
    with eng.connect() as c:
        assert sorted(c.execute(select(k.key, k.kind, k.report_id, k.para_id)).all()) == want
    _, rc = ci.copies_of(eng, ids[2])
    assert rc.own_chars > 0 and ids[1] in rc.sources


def test_big_bucket_of_one_report_is_the_big_bucket_rule_restricted_to_it():
    """``_big_bucket_of`` makes the pairs that hold one of the report's rows (and a few of its
    unit's that do not, dropped by the caller); those that hold one must be exactly those of ``similarity._big_bucket`` (the whole-corpus rule) that do: random buckets
    with repeated years, unknown years (-1), units with several years and several rows per year,
    the report's rows among the earliest members or not."""
    import numpy as np

    rng = np.random.default_rng(3)
    for trial in range(400):
        n_space = int(rng.integers(sim.REPS + 2, 400))
        year = rng.integers(-1, 6, size=n_space).astype(np.int64)
        unit = rng.integers(0, int(rng.integers(2, 40)), size=n_space).astype(np.int64)
        rows = np.sort(rng.choice(n_space, size=int(rng.integers(sim.REPS + 1, n_space)), replace=False))
        k = int(rng.integers(1, 4))
        if trial % 3 == 0:       # among the earliest members
            cand = rows[np.lexsort((rows, year[rows]))][:sim.REPS]
        else:
            cand = rows
        mine = np.unique(rng.choice(cand, size=k))
        want = sim._big_bucket(rows, year, unit, sim.REPS)
        want = want[np.isin(want[:, 0], mine) | np.isin(want[:, 1], mine)]
        got = ci._big_bucket_of(rows, mine, year, unit)   # own-unit pairs without mine: the caller drops them
        got = got[np.isin(got[:, 0], mine) | np.isin(got[:, 1], mine)]

        def norm(p):
            p = np.sort(p[p[:, 0] != p[:, 1]], axis=1)
            return set(map(tuple, p.tolist()))
        assert norm(got) == norm(want), trial


def _norms_of(eng, rid: int) -> dict[int, str]:
    """paragraph id -> normalised text of ``rid``'s compared paragraphs, made here from the stored
    text and unit name."""
    p, r = dbm.paragraphs.c, dbm.reports.c
    with eng.connect() as c:
        unit = c.execute(select(r.unit).where(r.id == rid)).scalar()
        rows = c.execute(select(p.id, p.body).where(p.report_id == rid)).all()
    masks = sim.unit_masks(unit)
    out = {pid: sim.split_normalised(body, masks)[0] for pid, body in rows}
    return {pid: s for pid, s in out.items() if len(s) >= sim.MIN_CHARS}


def _blob(eng, rid: int, col: str = "sigs") -> bytes | None:
    c = dbm.copy_reports.c
    with eng.connect() as conn:
        return conn.execute(select(c[col]).where(c.report_id == rid)).scalar()


def test_the_stored_signatures_are_those_of_the_compared_paragraphs(planted):
    eng, ids = planted
    for rid in ids.values():
        norms = _norms_of(eng, rid)
        got = ci.stored_sigs(eng, [rid])
        assert sorted(got) == sorted(norms), rid
        want = sim.signatures([norms[pid] for pid in sorted(norms)])
        for pid, sig in zip(sorted(norms), want):
            assert (got[pid] == sig).all()


def test_the_lookup_reads_the_stored_signatures(planted):
    """The half-copied paragraphs' pairs are not identical texts, so the signature pre-filter
    decides them with the partner's stored signature: another signature stored for seed-000
    drops them (the lookup read it), and the re-indexed one gives analyse's result again."""
    eng, ids = planted
    want = ci.copies_of(eng, ids["half"])[1]
    assert ids["s0"] in want.sources
    recs = np.frombuffer(_blob(eng, ids["s0"]), dtype=ci.SIGS).copy()
    recs["sig"] = 0
    with eng.begin() as c:
        c.execute(update(dbm.copy_reports).where(dbm.copy_reports.c.report_id == ids["s0"])
                  .values(sigs=recs.tobytes()))
    assert ids["s0"] not in ci.copies_of(eng, ids["half"], ensure=False)[1].sources
    with eng.begin() as c:
        ci.index_reports(c, [ids["s0"]])
    assert _canon(ci.copies_of(eng, ids["half"])[1]) == _canon(want)


@pytest.mark.parametrize("cols", [("sigs",), ("grams",), ("sigs", "grams")])
def test_reports_indexed_without_signatures_or_shingles(planted, cols):
    """A corpus indexed before migration 0013 or 0014 (no signatures or no shingles stored):
    the lookup makes them from the text and gives the same results; those reports count as
    stale, and the backfill stores what an insert would have."""
    eng, ids = planted
    want = {rid: (_blob(eng, rid), _blob(eng, rid, "grams")) for rid in ids.values()}
    counted = [rid for rid in ids.values() if ci.copies_of(eng, rid) is not None]
    before = {rid: _canon(ci.copies_of(eng, rid)[1]) for rid in counted}
    assert len(counted) > 10 and any(rc["other"] or rc["own"] or rc["mutual"] for rc in before.values())
    with eng.begin() as c:
        c.execute(update(dbm.copy_reports).values({col: None for col in cols}))
    if "sigs" in cols:
        assert ci.stored_sigs(eng, sorted(ids.values())) == {}
    if "grams" in cols:
        with eng.connect() as c:
            assert ci.stored_grams(c, sorted(ids.values())) == {}
    assert {rid: _canon(ci.copies_of(eng, rid, ensure=False)[1]) for rid in counted} == before
    with eng.connect() as c:
        assert ci._stale(c) == sorted(ids.values())
    assert ci.build_index(eng, batch=5) == len(ids)
    assert {rid: (_blob(eng, rid), _blob(eng, rid, "grams")) for rid in ids.values()} == want


def test_the_stored_shingles_are_those_of_the_compared_paragraphs(planted):
    eng, ids = planted
    p = dbm.paragraphs.c
    for rid in ids.values():
        norms = _norms_of(eng, rid)
        heads, shingles = ci.read_grams(_blob(eng, rid, "grams"))
        assert heads["pid"].tolist() == sorted(norms), rid
        with eng.connect() as c:
            meta = {pid: (no, len(b)) for pid, no, b in c.execute(
                select(p.id, p.para_no, p.body).where(p.report_id == rid))}
        for h, sh in zip(heads, shingles):
            norm = norms[int(h["pid"])]
            assert int(h["fp"]) == ci.stable_hash(norm) and int(h["nlen"]) == len(norm)
            assert (int(h["no"]), int(h["chars"])) == meta[int(h["pid"])]
            assert int(h["n"]) == len(sh) and sh.tolist() == sorted(sim.shingles(norm, normalised=True))


def test_a_damaged_shingle_blob_is_refused():
    heads = np.zeros(2, dtype=ci.GRAMS)
    heads["n"] = [2, 1]
    blob = ci.grams_blob(heads, [np.array([1, 5], np.uint32), np.array([7], np.uint32)])
    h, sh = ci.read_grams(blob)
    assert [x.tolist() for x in sh] == [[1, 5], [7]] and h["n"].tolist() == [2, 1]
    assert ci.read_grams(ci.grams_blob(heads[:0], []))[1] == []
    for bad in (blob[:-4], blob[:20], b"\xff" * 8 + blob[8:], b""):
        with pytest.raises(ValueError):
            ci.read_grams(bad)


def test_a_lookup_past_a_damaged_shingle_blob_reads_the_text(planted):
    eng, ids = planted
    want = _canon(ci.copies_of(eng, ids["half"])[1])
    with eng.begin() as c:
        c.execute(update(dbm.copy_reports).where(dbm.copy_reports.c.report_id == ids["s0"])
                  .values(grams=_blob(eng, ids["s0"], "grams")[:-3]))
        assert ci.stored_grams(c, [ids["s0"]]) == {}
    assert _canon(ci.copies_of(eng, ids["half"], ensure=False)[1]) == want


def test_the_lookup_reads_the_stored_shingles(planted):
    """The half-copied paragraphs match seed-000's (and its copy's) by containment; with the
    other reports' stored shingles emptied the exact test finds nothing to share with them (the
    lookup read the stored shingles, not the text), and the re-indexed ones give the result again."""
    eng, ids = planted
    want = ci.copies_of(eng, ids["half"])[1]
    assert ids["s0"] in want.sources
    others = [rid for name, rid in ids.items() if name != "half"]
    with eng.begin() as c:
        for rid in others:
            heads, _ = ci.read_grams(_blob(eng, rid, "grams"))
            heads = heads.copy()
            heads["n"] = 0
            c.execute(update(dbm.copy_reports).where(dbm.copy_reports.c.report_id == rid)
                      .values(grams=ci.grams_blob(heads, [])))
    got = ci.copies_of(eng, ids["half"], ensure=False)[1]
    assert ids["s0"] not in got.sources and ids["copy"] not in got.sources
    with eng.begin() as c:
        ci.index_reports(c, others)
    assert _canon(ci.copies_of(eng, ids["half"])[1]) == _canon(want)


def test_the_bases_kept_between_lookups_follow_every_write(planted):
    """A process keeps the bucket members' unit, year and dates between lookups (``_report_meta``);
    a raw-SQL year change and a withdrawal after a warm lookup are seen by the next one."""
    eng, ids = planted
    _, rc = ci.copies_of(eng, ids["copy"])
    assert ids["s0"] in rc.sources
    assert ci._meta[str(eng.url)][2][ids["s0"]] is not None        # kept
    with eng.begin() as c:
        c.execute(update(dbm.reports).where(dbm.reports.c.id == ids["s0"]).values(year=2030))
    _assert_equal_to_analyse(eng)
    assert ci._meta[str(eng.url)][2][ids["s0"]][1] == 2030           # read again
    with eng.begin() as c:
        submissions.withdraw(c, ids["copy"], "test")
    assert ci.copies_of(eng, ids["copy"]) is None
    _assert_equal_to_analyse(eng)


def test_attribute_sorts_in_chunks_of_whole_rows_with_the_same_winners(planted, monkeypatch):
    """``attribute`` picks each row's kind and source per chunk of edges (``EDGE_CHUNK``); chunks
    of 3 edges (most rows cut across a chunk's natural end) give one sort's results."""
    eng, ids = planted
    index = sim.build_index(eng)
    pairs = sim.verified_pairs(eng, index)
    want = sim.attribute(index, pairs)
    assert sum(len(rc.paragraphs) for rc in want.values()) > 20
    assert {"common", "own", "other"} <= _kinds(want)    # the kinds, common units counted per chunk too
    monkeypatch.setattr(sim, "EDGE_CHUNK", 3)
    got = sim.attribute(index, pairs)
    assert {r: _canon(rc) for r, rc in got.items()} == {r: _canon(rc) for r, rc in want.items()}


def test_candidates_and_verification_in_small_chunks_give_the_same_pairs(planted, monkeypatch):
    """``candidate_pairs`` decodes and tests its codes ``CODE_CHUNK`` at a time and
    ``verify_candidates`` pre-filters and splits identical texts per block: chunks of 3 codes and
    blocks of 5 candidates give the same candidates and the same verified pairs, in the same order
    (identical texts first), as one chunk; and the candidates are exactly the comparable pairs."""
    eng, ids = planted
    index = sim.build_index(eng)
    cand = sim.candidate_pairs(index)
    pairs = sim.verify_candidates(eng, index, cand)
    assert len(pairs.i) > 20 and (pairs.jaccard == 1).any() and (pairs.jaccard < 1).any()
    year, unit = sim._row_year_unit(index)
    allp = np.unique(np.concatenate((sim.lsh_pairs(index.sig, year=year, unit=unit),
                                     sim.sentence_pairs(index.sent_fp, index.sent_row))), axis=0)
    assert cand.tolist() == sim._comparable(index, allp).tolist()
    monkeypatch.setattr(sim, "CODE_CHUNK", 3)
    small = sim.candidate_pairs(index)
    assert small.tolist() == cand.tolist()
    got = sim.verify_candidates(eng, index, small, block=5)
    for a, b in zip(got, pairs):
        assert a.tolist() == b.tolist()
    # the pre-filter while decoding (what analyse does, before it drops the signatures): the
    # candidates that pass it, and the same pairs verified without the signatures
    pre = sim.candidate_pairs(index, prefilter=(sim.THRESHOLD, sim.CONTAINMENT))
    rows, nsh = np.arange(len(index)), sim._shingle_counts(index)
    keep = sim._prefilter(cand, index.sig, rows, nsh, sim.THRESHOLD, sim.CONTAINMENT)
    assert pre.tolist() == cand[keep].tolist()
    with monkeypatch.context() as mp:     # every pair a candidate: most fail the pre-filter
        n = len(index)
        iu, ju = np.triu_indices(n, 1)
        mp.setattr(sim, "_lsh_codes", lambda *a, **k: iu.astype(np.int64) * n + ju)
        every = sim.candidate_pairs(index)
        some = sim.candidate_pairs(index, prefilter=(sim.THRESHOLD, sim.CONTAINMENT))
    assert 0 < len(some) and len(some) * 5 < len(every)
    assert some.tolist() == every[sim._prefilter(every, index.sig, rows, nsh, sim.THRESHOLD,
                                                 sim.CONTAINMENT)].tolist()
    index.sig = None
    got = sim.verify_candidates(eng, index, pre, block=5, prefiltered=True)
    for a, b in zip(got, pairs):
        assert a.tolist() == b.tolist()
