"""Submissions, not files (corpus/submissions.py, corpus/packages.py, genre.py).

A season's folder built here from dev reports — the same report as .txt, .docx,
.pdf and .html, a correction sent later, a withdrawn report, a file that fails on a
busy machine and is retried, a 政府信息公开工作年度报告, a .doc, a .zip with a
GBK-named member, a ``../`` member, a nested zip and a spreadsheet — where every
count (stats, rankings, lists, exports, search, copies, follow-through) is exactly
the planted truth, on SQLite and on PostgreSQL."""
from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fazhi import genre
from fazhi.cli import main
from fazhi.corpus import batch, compare, db, export, follow, similarity, stats, store, submissions
from fazhi.corpus.packages import PackageError, members
from fazhi.pipeline import analyze_path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
sys.path.insert(0, str(ROOT / "tests"))
import metamorphic as mm  # noqa: E402

BASE = ["seed-000", "seed-002", "seed-004", "excerpt-002", "excerpt-004", "excerpt-007", "excerpt-009",
        "excerpt-012", "excerpt-a05", "excerpt-a06"]

INFO_DISCLOSURE = """荔湖街道2022年政府信息公开工作年度报告
本报告根据《中华人民共和国政府信息公开条例》和国务院办公厅政府信息与政务公开办公室有关要求编制。
一、总体情况
2022年，荔湖街道认真贯彻落实政府信息公开条例，主动公开各类信息320条。
二、主动公开政府信息情况
本年制发规范性文件0件，现行有效件数3件。
三、收到和处理政府信息公开申请情况
本年新收政府信息公开申请数量5件，均按期答复。
四、政府信息公开行政复议、行政诉讼情况
本年度未发生政府信息公开行政复议、行政诉讼。
五、存在的主要问题及改进情况
信息公开的及时性有待提高。
六、其他需要报告的事项
本年度无收取信息处理费情况。
"""


def _text(name: str) -> str:
    return (DEV / f"{name}.txt").read_text(encoding="utf-8")


def _lines(name: str) -> list[str]:
    return mm.document_lines(_text(name))


def _corrected(name: str) -> tuple[str, str, float]:
    """The report with one stated figure corrected: (text, indicator, new value)."""
    r = analyze_path(DEV / f"{name}.txt")
    f = next(x for x in r.facts if x.indicator and re.search(r"\d", r.text[x.start:x.end]))
    span = r.text[f.start:f.end]
    m = re.search(r"\d+", span)
    new = str(int(m.group()) + 7)
    fixed = span[:m.start()] + new + span[m.end():]
    return r.text[:f.start] + fixed + r.text[f.end:], f.indicator, f.value


def _gbk_zip(entries: list[tuple[str, bytes]], gbk: dict[str, str]) -> bytes:
    """A zip as Windows tools write it: the names in ``gbk`` (placeholder -> real name)
    stored as GBK bytes without the UTF-8 flag."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    raw = buf.getvalue()
    for placeholder, real in gbk.items():
        b = real.encode("gbk")
        assert len(b) == len(placeholder.encode("ascii"))
        raw = raw.replace(placeholder.encode("ascii"), b)
    return raw


def _season(tmp_path: Path) -> Path:
    d = tmp_path / "season"
    d.mkdir()
    for n in BASE:
        (d / f"{n}.txt").write_text(_text(n), encoding="utf-8")
    # the same report in other formats: no new report
    (d / "seed-000.docx").write_bytes(mm.to_docx(_lines("seed-000")))
    (d / "seed-000.pdf").write_bytes(mm.to_pdf(_lines("seed-000")))
    (d / "excerpt-002.html").write_bytes(mm.to_html(mm.body_lines(_text("excerpt-002"))))
    # another genre, of a unit and year already in the season: stored, not counted, not a revision
    (d / "信息公开年报.txt").write_text(INFO_DISCLOSURE, encoding="utf-8")
    (d / "旧格式.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    # a file that times out on a busy machine (the test hook makes it slow)
    (d / "x-slow.txt").write_text(_text("excerpt-a09"), encoding="utf-8")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.txt", _text("excerpt-a10"))
    pkg = _gbk_zip([("XXXXXXXXXXXX.docx", mm.to_docx(_lines("excerpt-a07"))),
                    ("../../evil.txt", _text("excerpt-a08").encode("utf-8")),
                    ("inner.zip", inner.getvalue()), ("表.xlsx", b"PK\x03\x04 not really"),
                    ("__MACOSX/._x.docx", b"junk")],
                   {"XXXXXXXXXXXX.docx": "滨海新区报告.docx"})
    (d / "包.zip").write_bytes(pkg)
    return d


def _count(eng) -> int:
    with eng.connect() as c:
        return c.execute(select(func.count()).select_from(db.reports).where(db.counted())).scalar_one()


def _row(eng, **where):
    r = db.reports.c
    q = select(db.reports)
    for k, v in where.items():
        q = q.where(getattr(r, k) == v)
    with eng.connect() as c:
        return [dict(m) for m in c.execute(q.order_by(r.id)).mappings()]


def _all_counts(eng, tmp_path: Path) -> dict:
    """Every place that counts or lists reports."""
    from fazhi.web import queries

    out = {"counted": _count(eng), "stats": stats.corpus_stats(eng)["reports"], "store": store.count(eng)[0]}
    with eng.connect() as c:
        out["report_rows"] = len(compare.report_rows(c))
    out["copies"] = len(similarity.report_infos(eng))
    rows, total = queries.list_reports(eng, queries.Filters.parse({}))
    out["web_list"] = total
    out["csv"] = export.export(eng, tmp_path / "x.csv")["reports"]
    out["parquet"] = export.export(eng, tmp_path / "x.parquet")["reports"]
    return out


def test_season_counts_are_the_planted_truth(db_url, tmp_path, monkeypatch):
    d = _season(tmp_path)
    monkeypatch.setattr(batch, "TEST_HOOK", {"slow": ("slow", 30.0)})
    r = CliRunner().invoke(main, ["corpus", "add", str(d), "--db", db_url, "--workers", "2", "--no-progress",
                                  "--time-limit", "10"])   # a normal file under heavy load stays far below
    out = r.output
    assert r.exit_code == 1, out   # files failed
    # 10 reports + 3 other formats + 1 other genre + 2 zip members stored
    assert "新增 16 份" in out and "失败 2 份" in out, out
    assert "其中同一报告的其他格式或重复文件 3 份" in out and "修订版 0 份" in out, out
    assert "非本类报告 1 份" in out and "信息公开年报.txt（政府信息公开工作年度报告）" in out, out
    assert "不支持的文件 2 个：" in out and "旧格式.doc" in out and "包.zip/表.xlsx" in out, out
    assert "展开压缩包 1 个" in out
    assert "x-slow.txt" in out and "处理超时" in out
    eng = db.connect(db_url)
    assert _all_counts(eng, tmp_path) == dict.fromkeys(
        ["counted", "stats", "store", "report_rows", "copies", "web_list", "csv", "parquet"], 12)
    # the zip: the GBK name decoded, the ../ member only a name, nothing written outside
    paths = {x["path"].removeprefix(f"{d}/") for x in _row(eng)}
    assert "包.zip/滨海新区报告.docx" in paths and "包.zip/evil.txt" in paths
    assert not (tmp_path / "evil.txt").exists() and not (d.parent.parent / "evil.txt").exists()
    r = CliRunner().invoke(main, ["corpus", "failures", "--db", db_url])
    assert r.exit_code == 0 and "入库失败：4 个文件" in r.output, r.output
    with eng.connect() as c:
        fails = {p.removeprefix(f"{d}/"): e for p, e in c.execute(select(db.failures.c.path, db.failures.c.error))}
    assert set(fails) == {"包.zip/inner.zip", "包.zip/表.xlsx", "旧格式.doc", "x-slow.txt"}, fails
    assert "只展开一层" in fails["包.zip/inner.zip"] and "另存为 .docx" in fails["旧格式.doc"]
    assert "处理超时" in fails["x-slow.txt"]
    # the three files of 荔湖街道 2022 are one version of one submission
    lihu = [x for x in _row(eng) if x["path"].startswith(f"{d}/seed-000")]
    assert len(lihu) == 3 and len({(x["submission_id"], x["version"]) for x in lihu}) == 1
    assert sum(x["is_current"] for x in lihu) == 1
    disclosure = _row(eng, path=f"{d}/信息公开年报.txt")[0]
    assert not disclosure["genre_ok"] and not disclosure["is_current"]
    # not a revision of the real report of 荔湖街道 2022: a submission of its own
    assert [x["id"] for x in _row(eng, submission_id=disclosure["submission_id"])] == [disclosure["id"]]
    assert disclosure["submission_id"] != lihu[0]["submission_id"]

    # --- a correction arrives; a report is withdrawn; the busy machine is quiet now
    text, ind, old_value = _corrected("seed-004")
    (d / "seed-004-更正.txt").write_text(text, encoding="utf-8")
    old = _row(eng, path=f"{d}/seed-004.txt")[0]
    withdrawn = _row(eng, path=f"{d}/excerpt-a05.txt")[0]
    r = CliRunner().invoke(main, ["corpus", "withdraw", str(withdrawn["id"]), "--db", db_url, "--reason", "报错单位"])
    assert r.exit_code == 0 and "已撤回" in r.output, r.output
    assert _count(eng) == 11
    monkeypatch.setattr(batch, "TEST_HOOK", None)
    st = batch.add([d], db_url, workers=2, progress=False, retry_failed=True)
    assert (st.added, st.revisions, st.withdrawn, st.failed, st.unsupported) == (2, 1, 1, 1, 2), st
    assert st.skipped == 15   # 16 stored before, one of them withdrawn
    assert _all_counts(eng, tmp_path) == dict.fromkeys(
        ["counted", "stats", "store", "report_rows", "copies", "web_list", "csv", "parquet"], 12)
    new = _row(eng, path=f"{d}/seed-004-更正.txt")[0]
    assert new["is_current"] and new["submission_id"] == old["submission_id"] and new["version"] == 2
    assert not _row(eng, id=old["id"])[0]["is_current"]   # kept as history
    # the ranking shows the corrected figure, once
    t = compare.unit_table(eng, ind)
    mine = [x for x in t["rows"] if x["report_id"] in (old["id"], new["id"])]
    assert [x["report_id"] for x in mine] == [new["id"]]
    # a re-run without --retry-failed: nothing new, the withdrawn one still skipped
    st = batch.add([d], db_url, workers=1, progress=False)
    assert (st.added, st.withdrawn, st.known_failed) == (0, 1, 1), st
    # restore, then accept the other genre
    with eng.begin() as c:
        submissions.restore(c, withdrawn["id"])
    assert _count(eng) == 13
    r = CliRunner().invoke(main, ["corpus", "accept", str(disclosure["id"]), "--db", db_url])
    assert r.exit_code == 0, r.output
    assert _count(eng) == 14
    r = CliRunner().invoke(main, ["corpus", "info", "--db", db_url])
    assert "14 份" in r.output and "旧版本 1 个" in r.output and "同一报告的其他格式 3 个" in r.output, r.output


def test_withdrawing_the_current_version_brings_back_the_previous(db_url, tmp_path):
    eng = db.connect(db_url)
    text, _ind, _v = _corrected("seed-002")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "v1.txt").write_text(_text("seed-002"), encoding="utf-8")
    (b / "v2.txt").write_text(text, encoding="utf-8")
    batch.add([a], db_url, workers=1, progress=False)
    st = batch.add([b], db_url, workers=1, progress=False)
    assert st.revisions == 1
    v1, v2 = _row(eng, path=f"{a}/v1.txt")[0], _row(eng, path=f"{b}/v2.txt")[0]
    assert (v1["is_current"], v2["is_current"]) == (False, True)
    with eng.begin() as c:
        submissions.withdraw(c, v2["id"], "误传")
    assert _row(eng, id=v1["id"])[0]["is_current"] and _count(eng) == 1
    # search finds the current version only
    assert {h.report_id for h in store.search(eng, "阴平镇")} == {v1["id"]}
    # the web API delete withdraws too (remembered): the other version goes the same way
    with eng.begin() as c:
        submissions.withdraw(c, v1["id"])
    assert _count(eng) == 0
    st = batch.add([a, b], db_url, workers=1, progress=False)
    assert (st.added, st.withdrawn) == (0, 2)


def test_follow_through_pairs_current_versions(tmp_path):
    """司法部 2018 and 2019: the plan of 2018 is followed in the corrected 2019 report."""
    url = str(tmp_path / "c.db")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for n in ("excerpt-007", "excerpt-009"):
        (a / f"{n}.txt").write_text(_text(n), encoding="utf-8")
    # rewritten: a third of the text is new (no figure to correct in this excerpt)
    old = _text("excerpt-009")
    text = old + "\n" + "".join(f"第{k}项补充：司法部持续完善行政执法监督机制，健全规范性文件备案审查制度，推动法治政府建设再上新台阶。\n"
                                 for k in range(len(old) // 150))
    assert submissions.jaccard(submissions.text_shingles(old), submissions.text_shingles(text)) < submissions.SAME_TEXT
    (b / "2019-更正.txt").write_text(text, encoding="utf-8")
    batch.add([a], url, workers=1, progress=False)
    assert batch.add([b], url, workers=1, progress=False).revisions == 1
    eng = db.connect(url)
    ids = {Path(x["path"]).name: x["id"] for x in _row(eng)}
    assert follow.year_pairs(eng) == [(ids["excerpt-007.txt"], ids["2019-更正.txt"])]


# ------------------------------------------------------------------ migration backfill
def test_rebuild_groups_an_existing_corpus(tmp_path):
    """Migration 0005 places the rows of a corpus stored before submissions existed."""
    url = str(tmp_path / "c.db")
    eng = db.connect(url)
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(_text("seed-000"), encoding="utf-8")
    (d / "a.docx").write_bytes(mm.to_docx(_lines("seed-000")))
    (d / "b.txt").write_text(_text("seed-002"), encoding="utf-8")
    (d / "c.txt").write_text(INFO_DISCLOSURE, encoding="utf-8")
    batch.add([d], url, workers=1, progress=False)
    before = {x["path"]: (x["is_current"], x["genre_ok"]) for x in _row(eng)}
    assert sorted(before.values()) == [(False, False), (False, True), (True, True), (True, True)]
    with eng.begin() as c:   # as a 0003 database looked after the columns were added
        c.execute(db.reports.update().values(submission_id=None, version=1, is_current=True, genre_ok=True,
                                             genre=None, unit_key=None))
    assert _count(eng) == 4
    with eng.begin() as c:
        assert submissions.rebuild(c) == 4
    assert {x["path"]: (x["is_current"], x["genre_ok"]) for x in _row(eng)} == before
    assert _count(eng) == 2


# ------------------------------------------------------------------ zip packages
def test_zip_limits_and_bad_zips(tmp_path, monkeypatch):
    p = tmp_path / "p.zip"
    with zipfile.ZipFile(p, "w") as z:
        for k in range(5):
            z.writestr(f"{k}.txt", "报告" * 100)
    assert len(list(members(p))) == 5
    monkeypatch.setenv("FAZHI_MAX_ZIP_MEMBERS", "4")
    with pytest.raises(PackageError, match="文件过多"):
        list(members(p))
    monkeypatch.delenv("FAZHI_MAX_ZIP_MEMBERS")
    monkeypatch.setenv("FAZHI_MAX_ZIP_UNCOMPRESSED", "2000")
    with pytest.raises(PackageError, match="解压后过大"):
        list(members(p))
    monkeypatch.delenv("FAZHI_MAX_ZIP_UNCOMPRESSED")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(PackageError, match="损坏"):
        list(members(bad))
    # a bad zip costs only itself
    d = tmp_path / "in"
    d.mkdir()
    (d / "bad.zip").write_bytes(bad.read_bytes())
    (d / "ok.txt").write_text(_text("seed-002"), encoding="utf-8")
    st = batch.add([d], str(tmp_path / "c.db"), workers=1, progress=False)
    assert (st.added, st.failed) == (1, 1)
    assert st.failed_names[0][0].endswith("/bad.zip") and "损坏" in st.failed_names[0][1]


def test_zip_member_header_that_lies_is_capped(tmp_path, monkeypatch):
    """The total is counted on the bytes really read, not the sizes the header declares."""
    p = tmp_path / "p.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", "法" * 200_000)
    monkeypatch.setenv("FAZHI_MAX_BYTES", "100000")
    got = list(members(p))
    assert got[0].data is None and "文件过大" in got[0].error


# ------------------------------------------------------------------ genre
@pytest.mark.parametrize("name", sorted(p.stem for p in DEV.glob("*.txt")))
def test_every_dev_report_is_of_the_genre(name):
    r = analyze_path(DEV / f"{name}.txt")
    g = genre.of_report(r)
    assert g.ok, (name, g)


@pytest.mark.parametrize("text,kind", [
    (INFO_DISCLOSURE, "info_disclosure"),
    # no title line: the body's statutory sections of the other genre decide
    (INFO_DISCLOSURE.split("\n", 1)[1], "info_disclosure"),
    ("某某区2024年法治政府建设工作要点\n一、深入学习贯彻习近平法治思想\n1.组织开展专题学习。\n", "key_points"),
    ("某某县法治政府建设实施方案（2021—2025年）\n为深入推进依法行政，制定本方案。\n", "plan"),
    ("关于印发《某某市2023年普法工作计划》的通知\n各乡镇：现将计划印发给你们。\n", "notice"),
    ("某某区召开2023年法治政府建设推进会\n本报讯（记者 张三 通讯员 李四）3月5日，区政府召开推进会。会议强调，要压实责任。"
     "会上，各部门作了交流发言。责任编辑：王五\n", "news"),
])
def test_other_genres_are_recognised(text, kind):
    from fazhi.pipeline import analyze_text

    r = analyze_text(text)
    g = genre.of_report(r)
    assert not g.ok and g.kind == kind, g


def test_a_report_titled_as_the_genre_passes_whatever_the_body_quotes():
    body = "某某镇2023年法治政府建设情况报告\n" + INFO_DISCLOSURE.split("\n", 1)[1]
    assert genre.classify(None, body).ok


def test_migration_0005_down_and_up_places_the_rows(db_url, tmp_path):
    """Alembic 0005 on a corpus without its columns (downgraded to 0003): upgrade places every row."""
    from alembic import command

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text(_text("seed-000"), encoding="utf-8")
    (d / "a.docx").write_bytes(mm.to_docx(_lines("seed-000")))
    (d / "b.txt").write_text(_text("seed-002"), encoding="utf-8")
    (d / "c.txt").write_text(INFO_DISCLOSURE, encoding="utf-8")
    batch.add([d], db_url, workers=1, progress=False)
    eng = db.connect(db_url)
    cfg = db._alembic_config()
    with eng.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0003")
    with eng.connect() as c:
        cols = {x[0] for x in c.exec_driver_sql("SELECT * FROM reports").cursor.description}
        assert "is_current" not in cols and "submission_id" not in cols
        assert c.exec_driver_sql("SELECT count(*) FROM reports").scalar_one() == 4
    with eng.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "head")
    assert _count(eng) == 2
    assert sum(1 for x in _row(eng) if not x["genre_ok"]) == 1


def test_a_pipe_in_the_folder_is_listed_not_read(tmp_path):
    import os

    d = tmp_path / "in"
    d.mkdir()
    (d / "ok.txt").write_text(_text("seed-002"), encoding="utf-8")
    os.mkfifo(d / "管道.pipe")
    os.mkfifo(d / "报告.txt")
    st = batch.add([d], str(tmp_path / "c.db"), workers=1, progress=False)
    assert (st.added, st.unreadable) == (1, 2)
    assert all("不是普通文件" in msg for _p, msg in st.errors)
