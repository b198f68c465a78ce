"""Copying (MinHash LSH over the corpus's paragraphs) and follow-through (plans of year N
against the report of year N+1)."""
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.corpus import db as dbm
from fazhi.corpus import follow as fl
from fazhi.corpus import similarity as sim
from fazhi.corpus.store import add_report
from fazhi.pipeline import analyze_text

DEV = Path(__file__).parent / "data" / "dev"
SEEDS = ("seed-000", "seed-002", "seed-004")

# new paragraphs (written for this test) that replace some of a copied report's paragraphs
REWRITES_A = {
    "  (三)坚持精准施策": "  (三)聚焦民生实事，办好群众身边事。街道把群众反映强烈的停车难、加装电梯等问题列入年度清单，"
                      "逐项明确责任科室和完成时限，组织律师为加装电梯的业主提供协议审查服务，全年协调解决停车位调整问题十余宗，"
                      "推动三个小区完成电梯加装，群众获得感明显增强。",
    "  (五)深化社会治理": "  (五)推进智慧平安建设，提升基层治理效能。街道升级视频监控联网平台，在主要路口和学校周边新增高清探头，"
                      "与派出所、交警中队共享数据，建立重点路段巡查和夜间值守制度，全年辖区刑事警情同比下降，"
                      "道路交通事故数量明显减少，群众安全感稳步提升。",
    "  (二)普法成效不够突出": "  (二)基层法律服务资源分布不均。部分村居距离公共法律服务站较远，老年群众不会使用线上平台，"
                          "律师驻点时间集中在工作日，周末和夜间的咨询需求难以及时满足。",
    "  (二)全面从严治党": "  (二)抓好队伍建设，锻造过硬作风。坚持每月召开一次作风建设专题会，对窗口单位开展明察暗访，"
                      "对群众投诉的办事拖延问题逐件督办，通报典型案例，推动干部职工转变作风、提高效率，"
                      "营造风清气正、干事创业的良好氛围。",
}
REWRITES_B = {
    "(三)建立健全决策机制": "(三)规范公共资源交易，守住廉洁底线。街道对工程建设、物资采购等事项实行集中采购和公开比选，"
                        "全年组织比选项目二十余个，邀请纪检干部全程监督，采购文件和结果在公示栏及网站同步公开，"
                        "未发生投诉和质疑事件。",
    "(四)扎实开展普法宣传": "(四)推进矛盾纠纷源头治理，守护社区和谐稳定。街道在五个社区设立“调解小院”，由退休干部和"
                          "社区民警轮流坐班，建立矛盾纠纷月排查、季分析制度，全年排查化解邻里、物业纠纷一百余件，"
                          "未发生因矛盾激化引发的群体性事件。",
}


def _replace_paragraphs(text: str, rewrites: dict) -> str:
    lines = text.split("\n")
    done = set()
    for i, ln in enumerate(lines):
        for start, new in rewrites.items():
            if ln.startswith(start) and start not in done:
                lines[i] = new
                done.add(start)
    assert done == set(rewrites), set(rewrites) - done
    return "\n".join(lines)


def _next_year(text: str) -> str:
    return text.replace("2023", "2024").replace("2022", "2023")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("copies") / "c.db"
    eng = dbm.connect(path)
    ids = {}
    for name in SEEDS:
        ids[name] = add_report(eng, analyze_text((DEV / f"{name}.txt").read_text(encoding="utf-8"), f"{name}.txt"))
    s0 = (DEV / "seed-000.txt").read_text(encoding="utf-8")
    a = _replace_paragraphs(_next_year(s0).replace("荔湖", "石滩"), REWRITES_A)     # another unit copies
    ra = analyze_text(a, "copy-a.txt")
    assert ra.meta.unit.startswith("石滩") and ra.meta.year == 2023
    ids["a"] = add_report(eng, ra)
    s4 = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    b = _replace_paragraphs(_next_year(s4), REWRITES_B)                          # the same unit, next year
    rb = analyze_text(b, "copy-b.txt")
    assert rb.meta.year == 2023
    ids["b"] = add_report(eng, rb)
    index, res = sim.analyse(eng)
    return path, eng, ids, index, res


def _expected_share(eng, rid: int, rewrites: dict, unit: str) -> float:
    """Characters of the paragraphs kept from the original (long enough to compare) over all."""
    from sqlalchemy import select

    p = dbm.paragraphs.c
    with eng.connect() as conn:
        bodies = [r[0] for r in conn.execute(select(p.body).where(p.report_id == rid))]
    new = {v.strip() for v in rewrites.values()}
    masks = sim.unit_masks(unit)
    kept = sum(len(b) for b in bodies
               if b.strip() not in new and len(sim.normalise(b, masks)) >= sim.MIN_CHARS)
    return kept / sum(len(b) for b in bodies)


def test_copy_from_another_unit(corpus):
    _path, eng, ids, index, res = corpus
    rc = res[ids["a"]]
    expected = _expected_share(eng, ids["a"], REWRITES_A, rc.unit)
    assert 0.6 < expected < 0.9            # ~20 % of the paragraphs were rewritten
    assert rc.other_share == pytest.approx(expected, abs=0.03)
    assert rc.own_share == 0
    assert rc.main_source == ids["seed-000"]
    assert index.reports[rc.main_source].unit.startswith("荔湖")
    assert all(c.kind == "other" and c.source_report == ids["seed-000"] for c in rc.paragraphs)


def test_reuse_of_own_previous_year(corpus):
    _path, eng, ids, index, res = corpus
    rc = res[ids["b"]]
    expected = _expected_share(eng, ids["b"], REWRITES_B, rc.unit)
    assert rc.own_share == pytest.approx(expected, abs=0.03)
    assert rc.own_share > 0.7
    assert rc.other_share == 0
    assert rc.main_source == ids["seed-004"]


def test_originals_are_not_copies(corpus):
    _path, _eng, ids, _index, res = corpus
    for name in SEEDS:   # the sources are earlier than their copies, and unrelated to each other
        rc = res[ids[name]]
        assert rc.other_share == 0 and rc.own_share == 0, name


def test_lsh_finds_what_all_pairs_finds(corpus):
    _path, eng, _ids, index, _res = corpus
    exact = {(p.i, p.j) for p in sim.exact_pairs(eng, index)}
    lsh = {(p.i, p.j) for p in sim.near_duplicates(eng, index)}
    assert len(exact) > 20
    assert lsh == exact


def test_minhash_estimates_jaccard():
    base = ("街道全年组织法治培训十二次，培训干部六百余人次，考试合格率百分之百，"
            "并将学法情况纳入年度考核，推动学法常态化制度化，领导干部带头讲法治课。")
    variants = [base, base.replace("十二", "二十"), base[:60] + "另外新增一段完全不同的文字内容用于降低相似度的测试。",
                "完全无关的一段文字，讲的是公共法律服务站的建设情况和群众满意度调查结果等内容。"]
    norm = [sim.normalise(v) for v in variants]
    sig = sim.signatures(norm)
    for k in range(1, len(variants)):
        est = (sig[0] == sig[k]).mean()
        assert abs(est - sim.jaccard(sim.shingles(norm[0], normalised=True),
                                     sim.shingles(norm[k], normalised=True))) < 0.15


def test_signatures_equal_the_per_text_definition():
    """The sliced, in-place MinHash equals the definition text by text — the minimum over the
    text's shingles of (h·a + b) >> 32 for each permutation — for short texts, texts longer
    than a slice, and texts that straddle two slices."""
    rng = np.random.default_rng(7)
    alphabet = list("法治政府建设年度报告依法行政执法监督复议诉讼普法宣传0")
    texts = ["".join(rng.choice(alphabet, size=int(n))) for n in
             [sim.SHINGLE, 40, 41, 300, sim._CHUNK - 1, sim._CHUNK + 7, 3 * sim._CHUNK + 5]
             + list(rng.integers(sim.SHINGLE, 900, size=60))]
    texts += texts[::5]            # repeated texts (hashed once)
    rng.shuffle(texts)
    got = sim.signatures(texts)
    assert got.shape == (len(texts), sim.NUM_PERM) and got.dtype == np.uint32
    for t, row in zip(texts, got):
        g = sim._gram_hashes(sim._codes(t), sim.SHINGLE).astype(np.uint64)
        with np.errstate(over="ignore"):
            want = ((g[:, None] * sim._A[None, :] + sim._B[None, :]) >> np.uint64(32)).min(axis=0)
        assert np.array_equal(row, want.astype(np.uint32))
    assert sim.signatures([]).shape == (0, sim.NUM_PERM)


def test_shingle_array_is_the_shingle_set():
    rng = np.random.default_rng(11)
    alphabet = list("法治政府建设依法行政0")
    for n in [0, 1, 2, sim.SHINGLE - 1, sim.SHINGLE, sim.SHINGLE + 1] + list(rng.integers(0, 400, size=200)):
        t = "".join(rng.choice(alphabet, size=int(n)))
        got = sim._shingle_array(t)
        assert got.dtype == np.uint32
        assert got.tolist() == sorted(sim.shingles(t, normalised=True)), t


def test_banding_parameters():
    assert sim.BANDS * sim.ROWS <= sim.NUM_PERM
    p = lambda j: 1 - (1 - j ** sim.ROWS) ** sim.BANDS  # noqa: E731
    assert p(sim.THRESHOLD) > 0.98 and p(0.1) < 1e-3


def test_copies_cli(corpus):
    path, _eng, ids, _index, _res = corpus
    r = CliRunner().invoke(main, ["corpus", "copies", "--db", str(path)])
    assert r.exit_code == 0, r.output
    for head in ("单位", "年度", "抄自", "他单位", "沿用", "往年", "雷同", "待核", "通用", "表述", "主要来源"):
        assert head in r.output
    assert "石滩" in r.output and "礼嘉" in r.output and "阴平" not in r.output
    r = CliRunner().invoke(main, ["corpus", "copies", "--db", str(path), "--detail", str(ids["a"])])
    assert r.exit_code == 0, r.output
    assert "逐段对照" in r.output and "他单位" in r.output and "荔湖" in r.output
    r = CliRunner().invoke(main, ["corpus", "copies", "--db", str(path), "--unit", "阴平镇", "--min-share", "0"])
    assert r.exit_code == 0 and "没有报告" in r.output


# ------------------------------------------------------------------ follow-through
YEAR_N = """青山镇2021年法治政府建设情况报告
2021年，青山镇在区委、区政府的坚强领导下，深入推进法治政府建设，现将有关情况报告如下：
一、主要举措和成效
（一）加强组织领导。镇党委、政府召开专题会议研究法治政府建设工作4次，制定年度工作要点，明确责任分工。
（二）推进政务公开。全年主动公开政府信息320条，办理依申请公开5件，均在法定期限内答复。
（三）化解矛盾纠纷。镇村两级调解组织排查矛盾纠纷150件，调解成功145件。
二、存在的不足和原因
（一）行政执法人员专业素质不高。部分执法人员对新修订的法律法规掌握不够，执法文书制作不够规范。
（二）普法宣传针对性不强。普法活动形式较为单一，对外出务工人员覆盖不足。
三、党政主要负责人履行推进法治建设第一责任人职责情况
镇党委书记、镇长认真履行推进法治建设第一责任人职责，带头学法用法，全年主持召开党委会专题学法2次，对重大事项坚持集体讨论决定。
四、2022年工作安排
（一）推进“法律明白人”培养工程。在每个村培养3名以上“法律明白人”，全镇达到60人。
（二）建设村级公共法律服务工作室。年内在全部12个村建成公共法律服务工作室，实现全覆盖。
（三）开展行政执法案卷评查。每半年组织一次行政执法案卷评查，评查结果纳入年度考核。
（四）完善应急管理预案体系。修订镇级突发事件总体应急预案，指导各村制定防汛、森林防火专项预案。
"""

YEAR_N1 = """青山镇2022年法治政府建设情况报告
2022年，青山镇坚持以习近平法治思想为指导，扎实推进法治政府建设，现将有关情况报告如下：
一、主要举措和成效
（一）培育基层法治力量。全年培育“法律明白人”65名，覆盖全镇所有行政村，超额完成年度培养任务。
（二）完善公共法律服务网络。12个村的公共法律服务工作室全部建成并投入使用，群众在家门口就能得到法律咨询。
（三）优化营商环境。走访辖区企业40家次，帮助企业解决用地、用工等困难12个。
（四）做好信访工作。全年受理群众来信来访86件，按期办结率100%。
二、存在的不足和原因
（一）行政执法人员专业素质不高。部分执法人员对新修订的法律法规掌握不够，执法文书制作不够规范。
（二）基层法治宣传阵地利用率不高。部分村的法治文化广场日常使用较少。
三、党政主要负责人履行推进法治建设第一责任人职责情况
镇党委书记、镇长把法治建设纳入全镇发展总体规划，全年听取法治建设工作汇报3次，推动解决基层法治建设中的突出问题。
四、2023年工作安排
（一）推进乡村振兴法治保障。为村集体经济合同开展合法性审查。
"""


@pytest.fixture(scope="module")
def pair():
    return analyze_text(YEAR_N, "qs-2021.txt"), analyze_text(YEAR_N1, "qs-2022.txt")


def test_plan_items_are_the_sub_headings(pair):
    items = fl.plan_items(fl.Doc.from_report(pair[0]))
    assert [it.title for it in items] == ["推进“法律明白人”培养工程", "建设村级公共法律服务工作室",
                                         "开展行政执法案卷评查", "完善应急管理预案体系"]


def test_follow_statuses_and_repeats(pair):
    a, b = (fl.Doc.from_report(r) for r in pair)
    res = fl.follow(a, b)
    assert [p.status for p in res.plans] == [fl.DONE, fl.DONE, fl.VANISHED, fl.VANISHED]
    assert "法律明白人" in res.plans[0].evidence
    assert "工作室" in res.plans[1].evidence
    assert res.plans[2].evidence is None and res.plans[3].evidence is None
    assert res.done == 2
    assert len(res.repeats) >= 1
    assert all("普法宣传针对性" not in r.before for r in res.repeats)
    assert any("执法文书制作不够规范" in r.before and r.similarity == 1.0 for r in res.repeats)


def test_plan_items_without_sub_headings():
    text = YEAR_N.split("四、2022年工作安排")[0] + (
        "四、2022年工作安排\n一是推进“法律明白人”培养工程，全镇达到60人。二是建设村级公共法律服务工作室。"
        "三是开展行政执法案卷评查。\n")
    items = fl.plan_items(fl.Doc.from_report(analyze_text(text, "x.txt")))
    assert len(items) == 3 and items[0].text.startswith("一是")


def test_evidence_copied_from_last_year_does_not_count(pair):
    a = fl.Doc.from_report(pair[0])
    res = fl.follow(a, a)                        # "next year" is last year's report again
    assert res.done == 0 and res.reused > 0


def test_follow_cli(tmp_path, pair):
    path = tmp_path / "f.db"
    eng = dbm.connect(path)
    for r in pair:
        add_report(eng, r)
    r = CliRunner().invoke(main, ["corpus", "follow", "--db", str(path)])
    assert r.exit_code == 0, r.output
    for s in ("计划事项", "状态", "已落实 2 / 共 4", "未见下文", "问题重复出现", "执法文书制作不够规范"):
        assert s in r.output, s
    r = CliRunner().invoke(main, ["corpus", "follow", "--db", str(path), "--year", "2020"])
    assert r.exit_code == 0 and "没有同一单位相邻两个年度的报告" in r.output
    r = CliRunner().invoke(main, ["corpus", "copies", "--db", str(path), "--min-share", "0"])
    assert r.exit_code == 0


def test_big_bucket_pairs_with_earliest_and_own_years():
    # 200 reports print the same paragraph: the bucket is not expanded into all 19,900 pairs
    n = 200
    sig = np.tile(np.arange(sim.NUM_PERM, dtype=np.uint32), (n, 1))
    year = np.array([2015 + (k % 10) for k in range(n)], dtype=np.int64)
    unit = np.array([k % 7 for k in range(n)], dtype=np.int64)
    pairs = sim.lsh_pairs(sig, max_bucket=5, year=year, unit=unit)
    assert len(pairs) < n * (sim.REPS + 1)
    got = {tuple(p) for p in pairs.tolist()}
    earliest = set(np.lexsort((np.arange(n), year))[:sim.REPS].tolist())
    for k in range(n):
        assert any(tuple(sorted((k, e))) in got for e in earliest if e != k)
        prev = [m for m in range(n) if unit[m] == unit[k] and year[m] < year[k]]
        if prev:   # paired with its own unit's nearest earlier year
            m = max(prev, key=lambda m: year[m])
            assert any(tuple(sorted((k, q))) in got for q in prev if year[q] == year[m])


def test_band_keys_equal_the_per_band_definition(monkeypatch):
    """Stored copy indexes hold these keys: the vectorised band_keys must give exactly the
    keys of the definition (band b: mix over its ROWS values, seeded with b x golden ratio)."""
    import numpy as np

    from fazhi.corpus import similarity as sim

    def reference(sig):
        keys = np.empty((sig.shape[0], sim.BANDS), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for b in range(sim.BANDS):
                h = np.full(sig.shape[0], np.uint64(b) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
                for r in range(sim.ROWS):
                    h = sim._mix(h ^ sig[:, b * sim.ROWS + r].astype(np.uint64))
                keys[:, b] = h
        return keys

    rng = np.random.default_rng(14)
    for n in (0, 1, 7, 300):
        sig = rng.integers(0, 2 ** 32, size=(n, sim.NUM_PERM), dtype=np.uint64).astype(np.uint32)
        got = sim.band_keys(sig)
        assert got.dtype == np.uint64 and got.shape == (n, sim.BANDS)
        assert (got == reference(sig)).all()
    texts = ["依法行政工作扎实推进，行政复议案件办理规范" * 3, "法治政府建设年度报告" * 4]
    assert (sim.band_keys(sim.signatures(texts)) == reference(sim.signatures(texts))).all()
    # the lsh run makes one band's column at a time: the same keys
    for b in (0, 7, sim.BANDS - 1):
        assert (sim._band_key(sig, b) == reference(sig)[:, b]).all()
    # hashed a block of rows at a time: blocks of 64 over 300 rows (the last one short) change nothing
    sig = rng.integers(0, 2 ** 32, size=(300, sim.NUM_PERM), dtype=np.uint64).astype(np.uint32)
    want = reference(sig)
    monkeypatch.setattr(sim, "_KEY_ROWS", 64)
    assert (sim.band_keys(sig) == want).all()


def test_lsh_pairs_equal_a_plain_union_over_the_bands(monkeypatch):
    """Skipping a bucket already seen in an earlier band and merging sorted codes give the pairs of
    every band's buckets expanded on their own (repeated texts, near texts, a big bucket)."""
    rng = np.random.default_rng(7)
    base = rng.integers(0, 1 << 32, size=(12, sim.NUM_PERM), dtype=np.uint64).astype(np.uint32)
    rows = []
    for k in range(90):
        s = base[k % 12].copy()
        if k % 5 == 0:            # a near text: some bands differ
            s[rng.integers(0, sim.NUM_PERM, size=40)] = rng.integers(0, 1 << 32, size=40, dtype=np.uint64)
        rows.append(s)
    sig = np.array(rows)
    year = np.array([2018 + k % 5 for k in range(len(sig))], dtype=np.int64)
    unit = np.array([k % 9 for k in range(len(sig))], dtype=np.int64)
    keys = sim.band_keys(sig)
    want = set()
    for b in range(sim.BANDS):
        groups: dict[int, list[int]] = {}
        for r, key in enumerate(keys[:, b].tolist()):
            groups.setdefault(key, []).append(r)
        for members in groups.values():
            m = np.array(members, dtype=np.int64)
            if len(m) < 2:
                continue
            p = (np.stack(np.triu_indices(len(m), 1), axis=1) if len(m) <= 8 else None)
            pairs = m[p] if p is not None else sim._big_bucket(m, year, unit, sim.REPS)
            want |= {tuple(sorted(x)) for x in pairs.tolist() if x[0] != x[1]}
    got = sim.lsh_pairs(sig, max_bucket=8, year=year, unit=unit)
    assert [tuple(x) for x in got.tolist()] == sorted(want)
    assert len(want) > 100
    # merged into the union every few codes (mid-band, as band 0 of a large corpus is): the same
    monkeypatch.setattr(sim, "_FLUSH", 5)
    assert sim.lsh_pairs(sig, max_bucket=8, year=year, unit=unit).tolist() == got.tolist()
