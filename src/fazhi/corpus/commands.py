"""The ``fazhi corpus`` group.  Its subcommands live beside their code
(``corpus/commands_*.py``) and register themselves on it when imported; ``fazhi.cli``
loads this group by name (``cli.LAZY_COMMANDS``)."""
from __future__ import annotations

import click

from ..clikit import LazyGroup


def _corpus_modules() -> list[str]:
    """Corpus subcommands live beside their code (fazhi/corpus/commands_*.py)."""
    import pkgutil

    from .. import corpus as pkg

    return [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("commands_")]


@click.group(cls=LazyGroup, lazy_modules=_corpus_modules)
def corpus():
    """报告库：批量入库、对比、导出、统计、查抄袭、查承诺落实。"""
