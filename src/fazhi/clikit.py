"""What every command module shares: the stderr console, rich helpers imported on
first use, the lazily loaded group, the ``--db`` option and the output paths.

The arrows point one way: ``fazhi.cli`` and the features' command modules
(``corpus/commands*.py``, ``web/commands.py``, ``ledger/commands.py``) import this
module; it imports none of them, and no feature imports ``fazhi.cli``."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click


# rich is imported on first use: it is a third of the start-up of ``fazhi analyze one.txt``,
# whose JSON output never needs it
def Console(**kw):  # noqa: N802 - stands in for rich's class
    from rich.console import Console as _Console

    return _Console(**kw)


def Table(*a, **kw):  # noqa: N802
    from rich.table import Table as _Table

    return _Table(*a, **kw)


def escape(s: str) -> str:
    """rich markup escaped (``[`` in report text is not a style)."""
    from rich.markup import escape as _escape

    return _escape(s)


class LazyConsole:
    """The stderr console, made when something is first printed."""

    def __init__(self, **kw):
        self._kw, self._console = kw, None

    def __getattr__(self, name):
        if self._console is None:
            self._console = Console(**self._kw)
        return getattr(self._console, name)


err = LazyConsole(stderr=True, soft_wrap=True, highlight=False)

class LazyGroup(click.Group):
    """A group whose commands are imported on first use.

    ``lazy``: command name -> ``"module:attribute"``, the click command the module
    defines; ``lazy_modules``: a callable giving modules that register any number of
    commands on the group themselves (imported when a name is not found or the
    commands are listed)."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, lazy_modules=None, **kw):
        super().__init__(*args, **kw)
        self.lazy = dict(lazy or {})
        self.lazy_modules = lazy_modules
        self._loaded = False

    def _load_all(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for name in self.lazy:
            self._load(name)
        for mod in self.lazy_modules() if self.lazy_modules else ():
            importlib.import_module(mod)

    def _load(self, name: str):
        if name not in self.commands:
            mod, _, attr = self.lazy[name].partition(":")
            self.add_command(getattr(importlib.import_module(mod), attr), name)
        return self.commands[name]

    def list_commands(self, ctx):
        self._load_all()
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None and name in self.lazy:
            cmd = self._load(name)
        if cmd is None and self.lazy_modules is not None and not self._loaded:
            self._load_all()
            cmd = super().get_command(ctx, name)
        return cmd


def output_dir(path: str | Path) -> Path:
    """A folder to write results into: created when missing; a path that cannot
    be one ends the command with a Chinese message, never a traceback."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        err.print(f"[red]错误：[/red]{escape(str(p))} 已存在且不是文件夹，无法写入结果")
        sys.exit(2)
    except OSError as e:
        from .corpus.faults import os_reason

        err.print(f"[red]错误：[/red]无法创建文件夹 {escape(str(p))}：{escape(os_reason(e))}")
        sys.exit(2)
    return p


def output_file(path: str | Path) -> Path:
    """A file to write: its folder is created when missing (or the command ends
    with a Chinese message)."""
    p = Path(path)
    if p.is_dir():
        err.print(f"[red]错误：[/red]{escape(str(p))} 是文件夹，请给出文件名")
        sys.exit(2)
    output_dir(p.parent if str(p.parent) else ".")
    return p


DB_OPTION = click.option("--db", "db", default=None, envvar="FAZHI_DB", show_default=False,
                         help="数据库：SQLite 文件路径（默认 ./fazhi.db）或 postgresql://… 地址")


