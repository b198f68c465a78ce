"""Data files shipped with the package (vocabularies, rule tables, catalog)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=None)
def load_yaml(name: str):
    """Load ``fazhi/data/<name>`` once per process."""
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as f:
        return yaml.safe_load(f)
