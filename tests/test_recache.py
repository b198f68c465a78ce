"""The cross-process cache of compiled patterns (``fazhi.recache``) gives the same patterns."""
from __future__ import annotations

import json
import marshal
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fazhi import recache

pytestmark = pytest.mark.skipif(not recache.SUPPORTED, reason="only CPython 3.11-3.13 is cached")

DEV = Path(__file__).parent / "data" / "dev"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """The cache installed on an empty file of its own; ``re`` restored afterwards."""
    was = recache._state["installed"]
    saved_entries = dict(recache._entries)
    saved_state = dict(recache._state)
    recache.uninstall()
    path = tmp_path / "re.marshal"
    assert recache.install(path)
    yield path
    recache.uninstall()
    if was:   # the test process had it on (fazhi.cli installs it): put it back as it was
        recache._entries.update(saved_entries)
        recache._compiler.compile = recache._compile
        recache._state.update(saved_state)


def _samples() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(DEV.glob("*.txt"))]
    rnd = random.Random(7)
    alphabet = "一二三四五六七八九十百千万亿零〇两年月日件人次%％（）()、，。；：第条款项是的和2019202012345.5 \n\t"
    noise = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80))) for _ in range(200)]
    return texts + noise


def _same(a: re.Pattern, b: re.Pattern, samples: list[str]) -> None:
    assert (a.pattern, a.flags, a.groups, a.groupindex) == (b.pattern, b.flags, b.groups, b.groupindex)
    for s in samples:
        if isinstance(a.pattern, bytes):
            s = s.encode("utf-8")
        got = [(m.span(), m.groups()) for m in a.finditer(s)]
        want = [(m.span(), m.groups()) for m in b.finditer(s)]
        assert got == want, a.pattern[:80]


def test_every_cached_pattern_equals_re_compiling_it(tmp_path):
    path = tmp_path / "re.marshal"
    code = ("import sys; from pathlib import Path; from fazhi import recache; assert recache.install(sys.argv[1]); "
            "from fazhi.pipeline import analyze_text; "
            "[analyze_text(p.read_text(encoding='utf-8')) for p in sorted(Path(sys.argv[2]).glob('*.txt'))]")
    res = subprocess.run([sys.executable, "-c", code, str(path), str(DEV)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    tag, entries = marshal.loads(path.read_bytes())
    assert tag == recache.TAG and len(entries) > 100      # the engine's patterns went through the cache
    original = recache._state["original"] or recache._compiler.compile
    samples = _samples()
    for pattern, flags, prog in entries:
        _same(recache._sre.compile(pattern, *prog), original(pattern, flags), samples)


def test_a_saved_cache_is_read_back_and_used(fresh):
    pat = r"(?P<n>[0-9０-９]+(?:\.[0-9]+)?)\s*(?:万|亿)?(件|人次|%)" + "|".join(f"词{i}" for i in range(300))
    first = re.compile(pat, re.I)
    assert (pat, re.I.value) in recache._entries
    assert recache.save() and fresh.stat().st_size > 0
    recache.uninstall()
    assert recache.install(fresh)
    assert (pat, re.I.value) in recache._entries
    calls = []
    real = recache.program
    recache.program = lambda *a: calls.append(a) or real(*a)
    try:
        again = recache._compiler.compile(pat, re.I.value)   # as re._compile does on a miss of its own cache
    finally:
        recache.program = real
    assert calls == []                                        # built from the file, not compiled again
    _same(again, first, _samples()[:60])


@pytest.mark.parametrize("blob", [b"", b"\x00garbage\xff" * 50, marshal.dumps(("another-python", [])),
                                  marshal.dumps((recache.TAG, [("a", 0, (0, [99999, 1], 0, {}, (None,)))]))])
def test_a_damaged_or_foreign_file_only_costs_compiling(tmp_path, blob):
    path = tmp_path / "re.marshal"
    path.write_bytes(blob)
    code = ("import re, sys; from fazhi import recache; assert recache.install(sys.argv[1]); "
            "p = re.compile('a'); assert p.match('a'); from fazhi.pipeline import analyze_text; "
            "r = analyze_text('某某县2022年法治政府建设年度报告\\n一、主要举措和成效\\n调解纠纷12件。'); "
            "print(len(r.facts))")
    res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "1"
    data = marshal.loads(path.read_bytes())          # rewritten whole, with the good entries
    assert data[0] == recache.TAG and all(e[2][1] != [99999, 1] for e in data[1])


def test_off_switch_and_cli_output_unchanged(tmp_path):
    env = dict(os.environ, FAZHI_CACHE_DIR=str(tmp_path))
    seed = str(DEV / "seed-004.txt")
    cmd = [sys.executable, "-m", "fazhi.cli", "analyze", seed]
    off = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, FAZHI_RE_CACHE="0"), timeout=120)
    assert off.returncode == 0 and not list(tmp_path.iterdir())      # off: nothing written
    cold = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert cold.returncode == 0 and (tmp_path / recache.cache_path().name).exists()
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert warm.returncode == 0
    assert json.loads(off.stdout) == json.loads(cold.stdout) == json.loads(warm.stdout)


def test_a_forked_child_does_not_write(fresh):
    re.compile("x{2,}" + "|".join(f"y{i}" for i in range(200)))
    pid = os.fork()
    if pid == 0:
        os._exit(0 if recache.save() is False else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert recache.save()       # the parent does
