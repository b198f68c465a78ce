"""The command-line modules' arrows point one way: ``fazhi.cli`` registers the
features' commands by name (``cli.LAZY_COMMANDS``); no module of the package
imports ``fazhi.cli`` back, and every registered name resolves to a click command."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click

from fazhi import cli

SRC = Path(cli.__file__).resolve().parent


def _imports_cli(path: Path) -> bool:
    pkg = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name == "fazhi.cli" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([base] if base else []))
            if base == "fazhi.cli" or (base == "fazhi" and any(a.name == "cli" for a in node.names)):
                return True
    return False


def test_no_module_imports_the_cli():
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if p.name != "cli.py" and _imports_cli(p)]
    assert offenders == []


def test_the_check_sees_an_import_of_the_cli(tmp_path):
    bad = SRC / "corpus" / "commands_batch.py"
    assert not _imports_cli(bad)
    text = bad.read_text(encoding="utf-8").replace("from ..clikit import", "from ..cli import", 1)
    probe = SRC / "corpus" / "_probe_imports_cli.py"
    try:
        probe.write_text(text, encoding="utf-8")
        assert _imports_cli(probe)
    finally:
        probe.unlink()


def test_every_lazy_command_resolves_to_a_click_command():
    for name, target in cli.LAZY_COMMANDS.items():
        mod, _, attr = target.partition(":")
        cmd = getattr(importlib.import_module(mod), attr)
        assert isinstance(cmd, click.Command), name
        assert cli.main.get_command(click.Context(cli.main), name) is cmd
