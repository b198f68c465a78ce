"""Batch intake (`fazhi corpus add`): idempotence, bad files, kill -9 and resume,
Ctrl-C/SIGTERM, the per-file time limit, a crashing worker, and the Dask engine."""
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fazhi.cli import main
from fazhi.corpus import batch

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
N_DEV = len(list(DEV.glob("*.txt")))
_SCRIPT = Path(sys.executable).with_name("fazhi")   # the console script of this virtualenv
FAZHI = [str(_SCRIPT)] if _SCRIPT.exists() else [shutil.which("fazhi") or "fazhi"]
CJK = re.compile(r"[\u4e00-\u9fff]")
TABLES = ("reports", "parts", "facts", "findings", "paragraphs", "failures")


def _counts(path) -> dict:
    con = sqlite3.connect(path)
    try:
        out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        out["fts"] = con.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0]
        return out
    finally:
        con.close()


def _rows(path) -> set:
    con = sqlite3.connect(path)
    try:
        return set(con.execute("SELECT sha256, unit, year, n_facts, n_errors, score_total FROM reports"))
    finally:
        con.close()


def _gen(out: Path, n: int) -> list[Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gen_corpus
    finally:
        sys.path.pop(0)
    gen_corpus.generate(out, n, seed=7, quiet=True)
    return sorted(out.rglob("*.txt"))


def _sha(p: Path) -> str:
    import hashlib

    return hashlib.sha256(p.read_bytes()).hexdigest()


def _some(tmp_path: Path, k: int = 3) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for f in sorted(DEV.glob("*.txt"))[:k]:
        shutil.copy(f, d / f.name)
    return d


def test_add_dev_then_readd_adds_nothing(tmp_path):
    path = tmp_path / "c.db"
    st = batch.add([DEV], str(path), workers=2, progress=False, commit_every=5)
    assert (st.added, st.skipped, st.failed) == (N_DEV, 0, 0)
    first = _counts(path)
    assert first["reports"] == N_DEV and first["paragraphs"] == first["fts"] > 0 and first["facts"] > 0
    st2 = batch.add([DEV], str(path), workers=2, progress=False)
    assert (st2.added, st2.skipped, st2.failed) == (0, N_DEV, 0)
    assert _counts(path) == first
    # the same bytes under another name are the same report
    (tmp_path / "copy").mkdir()
    shutil.copy(DEV / "seed-000.txt", tmp_path / "copy" / "again.txt")
    st3 = batch.add([tmp_path / "copy"], str(path), workers=1, progress=False)
    assert (st3.added, st3.skipped) == (0, 1)


def test_bad_files_cost_only_themselves(tmp_path):
    d = _some(tmp_path)
    rnd = random.Random(3)
    (d / "junk.txt").write_bytes(bytes(rnd.randrange(256) for _ in range(4000)))
    (d / "cut.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                                b"2 0 obj\n<< /Type /Pages /Kids [3 0 R")
    (d / "empty.md").write_bytes(b"")
    path = tmp_path / "c.db"
    st = batch.add([d], str(path), workers=2, progress=False)
    assert (st.added, st.failed) == (3, 3)
    con = sqlite3.connect(path)
    fails = dict(con.execute("SELECT path, error FROM failures"))
    con.close()
    assert {Path(p).name for p in fails} == {"junk.txt", "cut.pdf", "empty.md"}
    assert all(CJK.search(e) for e in fails.values()), fails
    assert any("二进制" in e for p, e in fails.items() if p.endswith("junk.txt"))
    # re-running skips the failures too (counted apart: they are not in the corpus)
    st2 = batch.add([d], str(path), workers=2, progress=False)
    assert (st2.added, st2.skipped, st2.failed, st2.known_failed) == (0, 3, 0, 3)
    # --retry-failed analyses them again: they fail again, still recorded once each
    st3 = batch.add([d], str(path), workers=2, progress=False, retry_failed=True)
    assert (st3.added, st3.skipped, st3.failed, st3.known_failed) == (0, 3, 3, 0)
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM failures").fetchone()[0] == 3
    con.close()


def test_a_row_the_database_refuses_costs_only_its_file(tmp_path):
    """The writer stores a group with one statement per table; when the database refuses
    one report's row, the buffer is replayed one report per transaction: the others are
    stored, that one is recorded as a failure, nothing is half-written."""
    d = _some(tmp_path, 6)
    victim = sorted(d.iterdir())[2].name
    path = tmp_path / "c.db"
    from fazhi.corpus import db as dbm

    eng = dbm.connect(str(path))
    with eng.begin() as c:
        c.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON paragraphs WHEN NEW.report_id IN "
                          f"(SELECT id FROM reports WHERE path LIKE '%{victim}') "
                          "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    eng.dispose()
    st = batch.add([d], str(path), workers=2, progress=False)
    assert (st.added, st.failed) == (5, 1), st
    con = sqlite3.connect(path)
    fails = dict(con.execute("SELECT path, error FROM failures"))
    stored = {Path(p).name for (p,) in con.execute("SELECT path FROM reports")}
    orphans = con.execute("SELECT count(*) FROM paragraphs WHERE report_id NOT IN (SELECT id FROM reports)").fetchone()
    con.close()
    assert [Path(p).name for p in fails] == [victim] and "数据库错误" in next(iter(fails.values()))
    assert victim not in stored and len(stored) == 5
    assert orphans == (0,)
    assert _counts(path)["fts"] == _counts(path)["paragraphs"]


def test_cli_add_failures_info(tmp_path):
    d = _some(tmp_path, 4)
    (d / "junk.txt").write_bytes(bytes(range(256)) * 20)
    path = str(tmp_path / "c.db")
    r = CliRunner().invoke(main, ["corpus", "add", str(d), "--db", path, "--workers", "2"])
    assert r.exit_code == 1, r.output   # a file failed
    assert "新增 4 份，跳过 0 份（已在库中），失败 1 份（原因见 `fazhi corpus failures`）" in r.output
    assert "junk.txt" in r.output   # named in the summary
    r = CliRunner().invoke(main, ["corpus", "add", str(d), "--db", path])
    assert "新增 0 份，跳过 4 份" in r.output and "以前失败的文件 1 个未重新分析" in r.output
    assert r.exit_code == 0, r.output   # nothing failed in this run
    r = CliRunner().invoke(main, ["corpus", "failures", "--db", path])
    assert "junk.txt" in r.output and "二进制" in r.output
    r = CliRunner().invoke(main, ["corpus", "info", "--db", path])
    assert r.exit_code == 0 and "4 份" in r.output and "1 个文件" in r.output
    # nothing could be opened -> non-zero
    r = CliRunner().invoke(main, ["corpus", "add", str(tmp_path / "nope.txt"), "--db", path])
    assert r.exit_code == 2


def test_time_limit_and_crashing_worker(tmp_path, monkeypatch):
    d = _some(tmp_path)
    base = (DEV / "seed-002.txt").read_text(encoding="utf-8")
    (d / "x-slow.txt").write_text(base + "\n（慢）", encoding="utf-8")
    (d / "x-crash.txt").write_text(base + "\n（崩溃）", encoding="utf-8")
    monkeypatch.setattr(batch, "TEST_HOOK", {"slow": ("slow", 30.0), "crash": "crash"})
    path = tmp_path / "c.db"
    t = time.monotonic()
    st = batch.add([d], str(path), workers=2, progress=False, time_limit=1)
    assert time.monotonic() - t < 20
    assert (st.added, st.failed) == (3, 2)
    con = sqlite3.connect(path)
    fails = {Path(p).name: e for p, e in con.execute("SELECT path, error FROM failures")}
    con.close()
    assert fails["x-slow.txt"] == "处理超时（超过 1 秒），已跳过"
    assert "进程异常退出" in fails["x-crash.txt"]
    assert _counts(path)["reports"] == 3


def _wait_rows(path: Path, proc, minimum: int = 1, timeout: float = 90) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, "the batch finished before it could be interrupted"
        if path.exists():
            try:
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
                n = con.execute("SELECT count(*) FROM reports").fetchone()[0]
                con.close()
                if n >= minimum:
                    return n
            except sqlite3.Error:
                pass
        time.sleep(0.02)
    raise AssertionError("no rows committed in time")


@pytest.fixture(scope="module")
def corpus300(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    files = _gen(out, 300)
    return out, {_sha(f) for f in files}


def _check_complete(path: Path, shas: set) -> None:
    c = _counts(path)
    assert c["reports"] == len(shas) and c["failures"] == 0
    assert c["paragraphs"] == c["fts"]
    con = sqlite3.connect(path)
    stored = [r[0] for r in con.execute("SELECT sha256 FROM reports")]
    orphans = con.execute("SELECT count(*) FROM reports r WHERE NOT EXISTS "
                          "(SELECT 1 FROM paragraphs p WHERE p.report_id = r.id)").fetchone()[0]
    con.close()
    assert len(stored) == len(set(stored)) and set(stored) == shas
    assert orphans == 0


def test_kill_9_then_resume(tmp_path, corpus300):
    src, shas = corpus300
    path = tmp_path / "c.db"
    cmd = FAZHI + ["corpus", "add", str(src), "--db", str(path), "--workers", "2", "--commit-every", "20",
                   "--no-progress"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_rows(path, p)
    finally:
        p.kill()
        p.wait()
    assert p.returncode == -signal.SIGKILL
    before = _counts(path)["reports"]
    assert 0 < before < len(shas)
    st = batch.add([src], str(path), workers=2, progress=False)
    assert st.skipped == before and st.added == len(shas) - before
    _check_complete(path, shas)


def test_sigterm_commits_and_exits_130(tmp_path, corpus300):
    gen, shas = corpus300
    src = tmp_path / "src"
    shutil.copytree(gen, src)
    # one file that takes 30 s keeps the batch running until the signal arrives,
    # however fast the machine is
    slow = src / "00-slow.txt"
    slow.write_text((DEV / "seed-000.txt").read_text(encoding="utf-8") + "\n慢", encoding="utf-8")
    shas = shas | {_sha(slow)}
    path = tmp_path / "c.db"
    cmd = FAZHI + ["corpus", "add", str(src), "--db", str(path), "--workers", "2", "--commit-every", "50",
                   "--no-progress"]
    env = {**os.environ, "FAZHI_TEST_HOOK": json.dumps({"slow": ["slow", 30.0]})}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_rows(path, p)
        p.send_signal(signal.SIGTERM)
        out, errout = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, errout
    m = re.search(r"已中断：已保存 (\d+) 份，重新运行同一命令即可继续", errout)
    assert m, errout
    saved = int(m.group(1))
    assert saved == _counts(path)["reports"] and saved < len(shas)
    st = batch.add([src], str(path), workers=2, progress=False)
    assert st.added == len(shas) - saved
    _check_complete(path, shas)


def test_dask_engine_same_rows_as_local(tmp_path, monkeypatch):
    """The Dask engine (a LocalCluster of 2 worker processes) stores the same rows; its
    time limit works in Dask's worker threads too (no SIGALRM there)."""
    pytest.importorskip("dask.distributed")
    d = tmp_path / "in"
    shutil.copytree(DEV, d, ignore=shutil.ignore_patterns("gold"))
    (d / "x-slow.txt").write_text((DEV / "seed-004.txt").read_text(encoding="utf-8") + "\n慢", encoding="utf-8")
    monkeypatch.setattr(batch, "TEST_HOOK", {"slow": ("slow", 30.0)})
    local, dask_db = tmp_path / "local.db", tmp_path / "dask.db"
    # 8 s: the slow file (30 s) must hit it, a report analysed on a loaded machine must not
    batch.add([d], str(local), workers=2, progress=False, time_limit=8)
    st = batch.add([d], str(dask_db), workers=2, engine="dask", progress=False, time_limit=8)
    assert (st.added, st.failed) == (N_DEV, 1)
    assert _rows(dask_db) == _rows(local) and len(_rows(local)) == N_DEV
    assert _counts(local) == _counts(dask_db)
    con = sqlite3.connect(dask_db)
    assert list(con.execute("SELECT error FROM failures")) == [("处理超时（超过 8 秒），已跳过",)]
    con.close()
    st = batch.add([d], str(dask_db), workers=2, engine="dask", progress=False)
    assert (st.added, st.skipped, st.known_failed) == (0, N_DEV, 1)
