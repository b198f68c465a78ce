"""Genre check: is this text a 法治政府建设年度报告?

A collecting office also receives, by mistake, a 政府信息公开工作年度报告, a
工作要点, an 实施方案, a 工作计划, a 通知 or a news story.  Those are stored but
kept out of the statistics until a person accepts them (``fazhi corpus accept``).

``classify(title, text)`` -> ``Genre(ok, kind, label, why)``.  The title decides
first (``data/genre.yaml``: a title naming the genre passes whatever the body
says; a title naming another genre does not); without a title, the body decides
on strong cues only — at least ``min_body`` of another genre's distinctive
phrases, and more of them than of the genre's own cues.  A text with neither
passes: the check never rejects a report it cannot tell apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .data import load_yaml

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Genre:
    ok: bool
    kind: str | None = None      # id of the other genre (None: the genre)
    label: str | None = None     # its Chinese name
    why: str = ""                # a Chinese explanation


@lru_cache(maxsize=1)
def _vocab():
    d = load_yaml("genre.yaml")
    others = [{**o, "title_re": re.compile(o["title"])} for o in d["others"]]
    return re.compile(d["genre_title"]), others, tuple(d["genre_body"])


def _title_of(title: str | None, text: str) -> str:
    """The title: the one meta found, else a short first line that reads like one."""
    if title and title.strip():
        return _SPACE.sub("", title)
    for line in text.splitlines()[:5]:
        s = _SPACE.sub("", line.strip("#*　 \t"))
        if not s:
            continue
        if len(s) <= 50 and not re.search(r"[。；;，,：:]$", s) and "。" not in s:
            return s
        break
    return ""


def classify(title: str | None, text: str) -> Genre:
    genre_title, others, own_cues = _vocab()
    t = _title_of(title, text or "")
    if t and genre_title.search(t):
        return Genre(True)
    if t:
        for o in others:
            if o["title_re"].search(t):
                return Genre(False, o["id"], o["label"], f"标题“{t[:60]}”是{o['label']}")
    body = text or ""
    own = sum(1 for c in own_cues if c in body)
    for o in others:
        hits = [c for c in o["body"] if c in body]
        if len(hits) >= o["min_body"] and len(hits) > own:
            return Genre(False, o["id"], o["label"], f"正文有{o['label']}的特征用语：" + "、".join(hits[:4]))
    return Genre(True)


def of_report(report) -> Genre:
    return classify(report.meta.title, report.text)
