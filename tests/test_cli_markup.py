"""User-controlled strings printed through rich are escaped: a path or a report
title holding ``[/y]`` or ``[bold]`` is printed as it is, never parsed as markup
(a closing tag with no opening one used to abort the run with a MarkupError)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DEV = Path(__file__).resolve().parent / "data" / "dev"


def run(*args, cwd=None):
    env = {**{k: v for k, v in os.environ.items() if k != "FAZHI_DB"}, "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-c", "from fazhi.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def clean(r):
    assert "Traceback" not in r.stderr and "MarkupError" not in r.stderr, r.stderr


def tree(tmp_path: Path) -> Path:
    d = tmp_path / "d[" / "y]"          # the path reads …/d[/y]/…
    d.mkdir(parents=True)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    (d / "r[bold]x.txt").write_text(text.replace("礼嘉街道办事处关于", "[/red]礼嘉街道办事处关于", 1), encoding="utf-8")
    (d / "bad[red].txt").write_bytes(b"")
    return d


def test_analyze_and_check_print_markup_like_paths_and_titles_as_text(tmp_path):
    d = tree(tmp_path)
    assert "[/y]" in str(d / "x")
    r = run("analyze", d, "--format", "table")
    clean(r)
    assert r.returncode == 1                                   # the empty file fails, the run completes
    assert f"{d}/bad[red].txt：文件为空" in r.stderr
    assert "r[bold]x.txt" in r.stdout and "[/y]" in r.stdout
    r = run("check", d)
    clean(r)
    assert r.returncode == 1 and "r[bold]x.txt" in r.stdout and "bad[red].txt" in r.stderr
    out = tmp_path / "out[" / "z]"
    r = run("analyze", d, "--out", out)
    clean(r)
    assert f"到 {out}" in r.stderr and (out / "r[bold]x.json").is_file()
    cards = tmp_path / "h[" / "b]"
    cards.mkdir(parents=True)
    r = run("check", d / "r[bold]x.txt", "--html", cards / "card.html")
    clean(r)
    assert f"{cards}/card.html" in r.stderr and (cards / "card.html").is_file()
    r = run("check", d / "r[bold]x.txt", "--html", tmp_path / "no[" / "such]" / "card.html")
    clean(r)  # a missing folder is created
    assert (tmp_path / "no[" / "such]" / "card.html").is_file() and "no[/such]" in r.stderr
    (tmp_path / "in[the]way").write_text("x")
    r = run("check", d / "r[bold]x.txt", "--html", tmp_path / "in[the]way" / "card.html")
    clean(r)  # a file where the folder should be: refused in Chinese
    assert r.returncode == 2 and "不是文件夹" in r.stderr and "in[the]way" in r.stderr


def test_corpus_and_user_commands_print_markup_like_strings_as_text(tmp_path):
    d = tree(tmp_path)
    (tmp_path / "c[").mkdir()
    db = tmp_path / "c[" / "x].db"                              # …/c[/x].db
    r = run("corpus", "info", "--db", tmp_path / "no[" / "such]" / "c.db")
    clean(r)
    assert r.returncode == 3 and "所在的文件夹不存在" in r.stderr and "no[/such]" in r.stderr
    r = run("corpus", "add", d, "--db", db, "--no-progress", "--workers", "1")
    clean(r)
    assert r.returncode == 1 and "新增 1 份" in r.stdout and "失败 1 份" in r.stdout   # 1: a file failed
    assert "bad[red].txt" in r.stderr   # named, as text
    r = run("corpus", "failures", "--db", db)
    clean(r)
    assert "bad[red].txt" in r.stdout
    r = run("corpus", "info", "--db", db)
    clean(r)
    assert "c[/x].db" in r.stdout
    r = run("search", "[/y]法治", "--db", db)
    clean(r)
    assert r.returncode == 0
    r = run("user", "passwd", "[/y]nobody", "--password", "whatever-1", "--db", db)
    clean(r)
    assert r.returncode == 2 and "没有用户 [/y]nobody" in r.stderr
    r = run("user", "add", "[/y]", "--password", "whatever-1", "--db", db)
    clean(r)
    assert r.returncode == 2 and "用户名应为" in r.stderr
    shutil.rmtree(d)                                           # a path that no longer exists
    r = run("corpus", "add", d, "--db", db, "--no-progress")
    clean(r)
    assert r.returncode == 2 and "[/y]" in r.stderr
