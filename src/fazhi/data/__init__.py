"""Data files shipped with the package (vocabularies, rule tables, catalog)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


# libyaml's loader when PyYAML was built with it (the same results, ~10x faster:
# start-up of every command loads these files)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(stream):
    """``yaml.safe_load`` through libyaml when available."""
    return yaml.load(stream, Loader=_LOADER)


@lru_cache(maxsize=None)
def load_yaml(name: str):
    """Load ``fazhi/data/<name>`` once per process."""
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as f:
        return safe_yaml(f)
