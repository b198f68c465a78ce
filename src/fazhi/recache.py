"""Compiled regular expressions kept across processes, for start-up time.

``fazhi analyze one.txt`` compiles about 370 patterns (vocabularies, numeral
grammar, headings) before it reads a byte: ~85 ms of a 0.27 s run, all of it in
the pure-Python half of ``re`` (parsing the pattern and generating the matcher's
code).  The C half, ``_sre.compile(pattern, flags, code, …)``, takes microseconds.
``install()`` keeps that generated code in a file in the user's cache directory,
keyed by (pattern, flags), and builds later processes' patterns from it, much as
CPython keeps byte code in ``__pycache__`` — and, like a ``.pyc``, the file is
read with ``marshal`` from a directory only the user writes.

Safety of the shortcut:

- the key is the exact pattern and flags; the file is tagged with the Python
  version and ``_sre.MAGIC``/``CODESIZE``, and a file of another tag is ignored;
- ``_sre.compile`` validates the code it is given (an invalid program raises,
  and that entry is compiled the normal way and dropped);
- only CPython 3.11–3.13, whose ``re._compiler.compile`` this mirrors (a test
  compares every cached pattern with ``re``'s own compilation); elsewhere, or with
  ``FAZHI_RE_CACHE=0``, ``install()`` does nothing;
- bounded: at most ``MAX_ENTRIES`` patterns of at most ``MAX_PATTERN`` characters,
  only those whose compilation cost ``MIN_SECONDS`` (a pattern built from a
  report's words compiles fast and is not kept), a file of at most ``MAX_FILE``
  bytes; the file is replaced atomically at exit, and any error reading or writing
  it means only that patterns are compiled the normal way.

Only the programs' entry points call ``install()`` (``fazhi.cli``); importing
fazhi as a library leaves ``re`` alone.
"""
from __future__ import annotations

import atexit
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path

import _sre
from re import _compiler, _parser

MAX_ENTRIES = 4000
MAX_PATTERN = 200_000
MAX_FILE = 32 * 1024 * 1024
MIN_SECONDS = 0.00005

TAG = f"{sys.implementation.name}-{sys.version}-{_sre.MAGIC}-{_sre.CODESIZE}"
SUPPORTED = sys.implementation.name == "cpython" and (3, 11) <= sys.version_info[:2] <= (3, 13)

_entries: dict[tuple, tuple] = {}
_state = {"installed": False, "dirty": False, "path": None, "pid": None, "original": None}


def cache_path() -> Path:
    """``$FAZHI_CACHE_DIR``, else ``$XDG_CACHE_HOME/fazhi``, else ``~/.cache/fazhi``; one file per Python."""
    base = os.environ.get("FAZHI_CACHE_DIR")
    if base:
        root = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "fazhi" if xdg else Path.home() / ".cache" / "fazhi"
    ver = "".join(str(x) for x in sys.version_info[:2])
    return root / f"re-py{ver}.marshal"


def program(pattern, flags: int) -> tuple:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` after the pattern: (flags, code,
    groups, groupindex, indexgroup)."""
    p = _parser.parse(pattern, flags)
    code = _compiler._code(p, flags)
    groupindex = dict(p.state.groupdict)
    indexgroup = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    # the opcodes are int subclasses (named constants): plain ints for _sre and marshal
    return (int(flags | p.state.flags), [int(c) for c in code], int(p.state.groups - 1), groupindex,
            tuple(indexgroup))


def _compile(p, flags=0):
    if not isinstance(p, (str, bytes)) or flags & _compiler.SRE_FLAG_DEBUG:
        return _state["original"](p, flags)
    key = (p, flags)
    hit = _entries.get(key)
    if hit is not None:
        try:
            return _sre.compile(p, *hit)
        except Exception:  # noqa: BLE001 - a stale or damaged entry: compile it anew
            _entries.pop(key, None)
            _state["dirty"] = True
    t = time.perf_counter()
    prog = program(p, flags)
    pat = _sre.compile(p, *prog)
    if (time.perf_counter() - t >= MIN_SECONDS and len(p) <= MAX_PATTERN
            and len(_entries) < MAX_ENTRIES):
        _entries[key] = prog
        _state["dirty"] = True
    return pat


def _load(path: Path) -> None:
    try:
        if path.stat().st_size > MAX_FILE:
            return
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return
    if not (isinstance(data, tuple) and len(data) == 2 and data[0] == TAG and isinstance(data[1], list)):
        return
    for item in data[1][:MAX_ENTRIES]:
        if isinstance(item, tuple) and len(item) == 3 and isinstance(item[2], tuple) and len(item[2]) == 5:
            _entries[(item[0], item[1])] = item[2]


def save(child: bool = False) -> bool:
    """Write the cache if this process added to it; False when nothing was written.

    A forked process writes only when it asks to (``child=True``: a sandbox worker after a
    job, whose patterns the parent never compiled); at its exit it leaves the file alone."""
    path = _state["path"]
    if not _state["dirty"] or path is None or (_state["pid"] != os.getpid() and not child):
        return False
    try:
        blob = marshal.dumps((TAG, [(k[0], k[1], v) for k, v in _entries.items()]))
        if len(blob) > MAX_FILE:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".re-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, ValueError):
        return False
    _state["dirty"] = False
    return True


def install(path: Path | None = None) -> bool:
    """Route ``re``'s compilation through the cache for this process; True when it is on."""
    if _state["installed"]:
        return True
    if not SUPPORTED or os.environ.get("FAZHI_RE_CACHE", "1").strip() in ("0", "false", "no", "off"):
        return False
    _state.update(path=Path(path) if path else cache_path(), pid=os.getpid(), original=_compiler.compile)
    _load(_state["path"])
    _compiler.compile = _compile
    _state["installed"] = True
    atexit.register(save)
    return True


def uninstall() -> None:
    """Put ``re`` back as it was (tests)."""
    if _state["installed"]:
        _compiler.compile = _state["original"]
        _state["installed"] = False
        atexit.unregister(save)
    _entries.clear()
    _state["dirty"] = False
