"""The analysis sandbox (``fazhi.sandbox``) and the commands that use it.

Deadline, memory cap, a worker that dies or hangs where no alarm reaches, at most
N analyses at once, the caps on one report's size, CLI start-up without
SQLAlchemy, and file names that are not UTF-8 in ``analyze DIR --out`` and
``corpus add``.  Slow or crashing "files" are simulated by the sandbox's test
hook (a sleep, ``os._exit``, an allocation loop, SIGALRM blocked) inside the
guarded analysis, exactly where a real file's work runs.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from fazhi import sandbox
from fazhi.cli import main
from fazhi.pipeline import analyze_path
from fazhi.sandbox import CRASH_MSG, Job, Sandbox

DEV = Path(__file__).parent / "data" / "dev"
SEED = DEV / "seed-004.txt"
CJK = re.compile(r"[\u4e00-\u9fff]")
SMALL = "某某县2022年法治政府建设年度报告\n一、主要举措和成效\n调解纠纷12件。\n".encode("utf-8")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(2) as s:
        yield s


def test_result_is_the_in_process_report(sb):
    res = sb.run(Job(name=str(SEED), path=str(SEED)))
    assert res.ok and res.error is None and res.pid not in (0, os.getpid())
    assert res.value.to_dict() == analyze_path(SEED).to_dict()
    assert 0 < res.rss_kb < 1024 * 1024  # the worker's peak RSS, measured by the worker
    d = sb.run(Job(name="x.txt", data=SMALL, want="dict")).value
    assert d["schema"] == "fazhi.report/1" and d["facts"][0]["value"] == 12


def test_deadline(sb):
    res = sb.run(Job(name="a-slow.txt", data=SMALL, time_limit=1, hook={"slow": ["slow", 30]}))
    assert (res.kind, res.error) == ("timeout", "处理超时（超过 1 秒），已跳过")
    assert sb.run(Job(name="b.txt", data=SMALL)).ok  # the worker answered and goes on


def test_worker_stuck_where_the_alarm_cannot_reach_is_killed(sb, monkeypatch):
    monkeypatch.setattr(sandbox, "GRACE", 1.0)
    res = sb.run(Job(name="a-stuck.txt", data=SMALL, time_limit=1, hook={"stuck": "stuck"}))
    assert (res.kind, res.error) == ("timeout", "处理超时（超过 1 秒），已跳过")
    assert sb.run(Job(name="b.txt", data=SMALL)).ok  # a fresh worker took its place


def test_worker_that_dies_costs_only_its_file(sb):
    res = sb.run(Job(name="a-crash.txt", data=SMALL, hook={"crash": "crash"}))
    assert (res.kind, res.error) == ("crash", CRASH_MSG)
    assert sb.run(Job(name="b.txt", data=SMALL)).ok


def test_memory_cap(monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_MEMORY", str(700 * 1024 * 1024))
    with Sandbox(1) as s:
        res = s.run(Job(name="a-hog.txt", data=SMALL, hook={"hog": "hog"}))
        assert res.kind == "memory" and "内存不足" in res.error, res
        assert s.run(Job(name="b.txt", data=SMALL)).ok


def test_scan_pages_extend_the_deadline(sb, monkeypatch):
    monkeypatch.setenv("FAZHI_OCR_PAGE_SECONDS", "3")
    # 5 pages to OCR: 1 s + 5 x 3 s; the work takes 2 s, over the 1 s a text file gets
    res = sb.run(Job(name="scan-pages.pdf", data=SMALL, fmt="txt", time_limit=1,
                     hook={"pages": ["pages", 5, 2.0]}))
    assert res.ok, res


def test_at_most_n_analyses_at_once():
    with Sandbox(2) as s:
        out: list = []

        def one(k):
            out.append(s.run(Job(name=f"x{k}-slow.txt", data=SMALL, hook={"slow": ["slow", 0.3]})))

        threads = [threading.Thread(target=one, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(out) == 6 and all(r.ok for r in out)
    assert len({r.pid for r in out}) <= 2  # one file at a time per worker, two workers


def test_fork_server_workers_live_on():
    """The web app's sandbox starts workers from a fork server (safe from a threaded
    server); a worker outlives a job of several seconds and serves the next one."""
    with Sandbox(1, start_method="forkserver") as s:
        first = s.run(Job(name="a-slow.txt", data=SMALL, hook={"slow": ["slow", 2.5]}))
        second = s.run(Job(name="b.txt", data=SMALL))
    assert first.ok and second.ok and first.pid == second.pid, (first, second)


def test_imap_ordered_and_failures_in_place(sb):
    jobs = [Job(name=str(p), path=str(p)) for p in sorted(DEV.glob("*.txt"))[:5]]
    jobs.insert(2, Job(name="missing.txt", path="/nonexistent/missing.txt"))
    res = list(sb.imap(jobs, ordered=True))
    assert [r.name for r in res] == [j.name for j in jobs]
    assert [r.kind for r in res] == ["ok", "ok", "error", "ok", "ok", "ok"]
    assert res[2].error == "文件不存在"


def _files(tmp_path, *names) -> list[Job]:
    out = []
    for n in names:
        (tmp_path / n).write_bytes(SMALL)
        out.append(Job(name=n, path=str(tmp_path / n), time_limit=2, hook={"crash": "crash", "slow": ["slow", 1.2],
                                                                            "stuck": "stuck"}))
    return out


def test_imap_ahead_gives_the_same_results():
    jobs = lambda: [Job(name=str(p), path=str(p), want="dict") for p in sorted(DEV.glob("*.txt"))[:8]]  # noqa: E731
    with Sandbox(2) as s:
        a = [(r.name, r.kind, r.value) for r in s.imap(jobs(), ordered=True)]
        b = [(r.name, r.kind, r.value) for r in s.imap(jobs(), ordered=True, ahead=1)]
    assert a == b and len(a) == 8 and all(k == "ok" for _, k, _ in a)


def test_imap_ahead_a_crash_costs_only_its_file_and_the_file_behind_it_moves_on(tmp_path):
    """One worker holding two files: it dies on the first; the second, never started, goes
    to the replacement worker."""
    with Sandbox(1) as s:
        res = list(s.imap(_files(tmp_path, "a.txt", "b-crash.txt", "c.txt", "d.txt"), ordered=True, ahead=1))
    assert [(r.name, r.kind) for r in res] == [("a.txt", "ok"), ("b-crash.txt", "crash"), ("c.txt", "ok"),
                                               ("d.txt", "ok")]
    assert res[2].pid == res[3].pid != res[0].pid   # c and d: the replacement


def test_imap_ahead_each_file_has_its_own_deadline(tmp_path, monkeypatch):
    """The parent's clock for a file sent ahead starts when the worker answers the file
    before it: two files of 1.2 s each under a limit of 2 s (+0.3 s grace) both pass."""
    monkeypatch.setattr(sandbox, "GRACE", 0.3)
    with Sandbox(1) as s:
        res = list(s.imap(_files(tmp_path, "a-slow.txt", "b-slow.txt", "c.txt"), ordered=True, ahead=1))
    assert [r.kind for r in res] == ["ok", "ok", "ok"], res


def test_imap_ahead_a_stuck_worker_is_killed_and_the_file_behind_it_moves_on(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "GRACE", 0.3)
    with Sandbox(1) as s:
        res = list(s.imap(_files(tmp_path, "a-stuck.txt", "b.txt"), ordered=True, ahead=1))
    assert [(r.name, r.kind) for r in res] == [("a-stuck.txt", "timeout"), ("b.txt", "ok")]


def test_a_replacement_worker_is_forked_under_the_callers_lock(tmp_path):
    """``fork_lock``: ``corpus add``'s writer thread holds it while it writes; the sandbox
    forks only with it held."""
    class Counted:
        def __init__(self):
            self.lock, self.n = threading.Lock(), 0

        def __enter__(self):
            self.lock.acquire()
            self.n += 1

        def __exit__(self, *exc):
            self.lock.release()

    lock = Counted()
    with Sandbox(1, fork_lock=lock) as s:
        res = list(s.imap(_files(tmp_path, "a-crash.txt", "b.txt"), ordered=True))
    assert [r.kind for r in res] == ["crash", "ok"] and lock.n == 2   # the first worker and its replacement


def _report_with(n_facts: int) -> bytes:
    items = "、".join(f"事项{k}共{k + 1}件" for k in range(n_facts))
    return f"某某县2022年法治政府建设年度报告\n一、主要举措和成效\n{items}。\n".encode("utf-8")


def test_caps_on_facts_and_findings(sb, monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_FACTS", "5")
    monkeypatch.setenv("FAZHI_MAX_FINDINGS", "3")
    with Sandbox(1) as s:  # workers read the caps from their environment
        report = s.run(Job(name="x.txt", data=_report_with(40))).value
    assert len(report.facts) == 5
    assert len(report.findings) == 3
    first, last = report.findings[0], report.findings[-1]
    assert (first.rule, first.severity) == ("ingest.note", "warning")
    # 40 in the text; the reader stops at 4 x the cap, so the count is a floor
    assert first.message == "数据过多（至少 20 个数量），超过上限 5 个，只保留了前 5 个"
    assert last.rule == "ingest.note" and last.message.startswith("问题过多") and "只列出了前 2 条" in last.message


def test_text_cap_says_so(monkeypatch):
    monkeypatch.setenv("FAZHI_MAX_PARAGRAPHS", "10")
    with Sandbox(1) as s:
        report = s.run(Job(name=str(SEED), path=str(SEED))).value
    assert sum(1 for ln in report.text.split("\n") if ln.strip()) <= 10
    assert any(f.rule == "ingest.note" and "报告过长" in f.message and "仅分析了前" in f.message
               for f in report.findings)


def test_library_api_stays_in_process(monkeypatch):
    """fazhi.pipeline analyses in the calling process (no worker is started)."""
    started = []
    monkeypatch.setattr(sandbox, "_Worker", lambda *a, **k: started.append(a))
    assert analyze_path(SEED).facts and not started


# ------------------------------------------------------------------ the commands


def test_cli_analyze_does_not_import_sqlalchemy(tmp_path):
    f = tmp_path / "one.txt"
    f.write_bytes(SMALL)
    code = ("import sys\nfrom fazhi.cli import main\ntry:\n    main(['analyze', sys.argv[1]])\n"
            "except SystemExit as e:\n    code = e.code\n"
            "print('EXIT', code, 'sqlalchemy' in sys.modules, 'fastapi' in sys.modules, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, timeout=120)
    assert "EXIT 0 False False" in p.stderr, p.stderr
    assert json.loads(p.stdout)["facts"][0]["value"] == 12


def test_cli_lazy_groups_keep_their_commands():
    r = CliRunner().invoke(main, ["--help"])
    for name in ("analyze", "check", "eval", "search", "corpus", "serve", "user", "ledger", "draft"):
        assert re.search(rf"^\s+{name}\s", r.output, re.M), name
    r = CliRunner().invoke(main, ["corpus", "--help"])
    for name in ("add", "failures", "info", "table", "export", "stats", "copies", "follow"):
        assert re.search(rf"^\s+{name}\s", r.output, re.M), name
    assert CliRunner().invoke(main, ["corpus", "add", "--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["user", "add", "--help"]).exit_code == 0


GBK_NAME = "法治政府报告".encode("gbk") + b".txt"   # what unzipping a Windows zip leaves on Linux


def _gbk_dir(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    with open(os.path.join(os.fsencode(d), GBK_NAME), "wb") as fh:
        fh.write(SEED.read_bytes())
    (d / "a[").mkdir()  # ".../a[/y]b.txt": rich markup in a path (a closing tag never opened)
    (d / "a[" / "y]b.txt").write_bytes(b"\x00\x01\x02" * 2000)  # binary content
    (d / "ok.txt").write_bytes(SMALL)
    return d


def test_analyze_dir_out_with_non_utf8_names(tmp_path):
    d = _gbk_dir(tmp_path)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(d), "--out", str(out)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code == 1  # the binary file failed, alone
    assert "a[/y]b.txt" in r.output and "二进制" in r.output and "Traceback" not in r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ok.json", "法治政府报告.json"]
    rep = json.loads((out / "法治政府报告.json").read_text(encoding="utf-8"))
    assert rep["source"]["path"].endswith("in/法治政府报告.txt") and rep["parts"]


def test_corpus_add_with_non_utf8_names(tmp_path):
    d = _gbk_dir(tmp_path)
    db = str(tmp_path / "c.db")
    for k in range(2):  # the rerun used to die on the same name every time
        r = CliRunner().invoke(main, ["corpus", "add", str(d), "--db", db, "--workers", "2"])
        # 1: the binary file failed (on the rerun it is only skipped, as failed before)
        assert r.exit_code == (1 if k == 0 else 0) and not isinstance(r.exception, Exception), (r.output, r.exception)
    assert "新增 0 份，跳过 2 份" in r.output and "以前失败的文件 1 个" in r.output
    con = sqlite3.connect(db)
    paths = sorted(p for (p,) in con.execute("SELECT path FROM reports"))
    fails = dict(con.execute("SELECT path, error FROM failures"))
    con.close()
    assert paths[1].endswith("法治政府报告.txt") and len(paths) == 2
    assert [p[-10:] for p in fails] == ["a[/y]b.txt"] and CJK.search(next(iter(fails.values())))
    r = CliRunner().invoke(main, ["corpus", "failures", "--db", db])
    assert r.exit_code == 0 and "a[/y]b.txt" in r.output


def test_corpus_add_memory_hog_fails_alone(tmp_path, monkeypatch):
    from fazhi.corpus import batch

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_bytes(SMALL)
    (d / "b-hog.txt").write_bytes(SMALL + b"\n")
    monkeypatch.setattr(batch, "TEST_HOOK", {"hog": "hog"})
    monkeypatch.setenv("FAZHI_MAX_MEMORY", str(700 * 1024 * 1024))
    st = batch.add([d], str(tmp_path / "c.db"), workers=1, progress=False)
    assert (st.added, st.failed) == (1, 1)
    con = sqlite3.connect(tmp_path / "c.db")
    (err,), = con.execute("SELECT error FROM failures").fetchall()
    con.close()
    assert "内存不足" in err
