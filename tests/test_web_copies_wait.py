"""The report and unit pages never wait long for a copy comparison (``queries.copies_for``):
past ``copy_wait`` they show the last result, marked as from an earlier state of the corpus,
or say the comparison is running; the result is looked up once in the background and shown
on the next view."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fazhi.corpus import copy_index
from fazhi.corpus import db as dbm
from fazhi.corpus.store import add_report
from fazhi.pipeline import analyze_text
from fazhi.web import queries

from test_web_helpers import TestClient, login, make_app, next_year_of

DEV = Path(__file__).parent / "data" / "dev"


@pytest.fixture
def gate(monkeypatch):
    """copies_of held until ``gate.set()``; counts its calls."""
    ev = threading.Event()
    calls = []
    real = copy_index.copies_of

    def slow(engine, rid, **kw):
        calls.append(rid)
        assert ev.wait(60)
        return real(engine, rid, **kw)

    monkeypatch.setattr(copy_index, "copies_of", slow)
    ev.calls = calls
    yield ev
    ev.set()


def _wait_jobs():
    for _ in range(600):
        with queries._copy_lock:
            jobs = list(queries._copy_jobs.values())
        if not jobs:
            return
        for f in jobs:
            f.result(timeout=60)


def test_pending_then_ok_then_stale_after_a_write(db_url, gate):
    eng = dbm.connect(db_url)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    a = add_report(eng, analyze_text(text, "a.txt"))
    b = add_report(eng, analyze_text(next_year_of(text), "b.txt"))
    got, state = queries.copies_for(eng, [a, b], wait=0.05)
    assert state == "pending" and got == {}
    again, state = queries.copies_for(eng, [a, b], wait=0.05)     # asked again: no second lookup
    assert state == "pending" and sorted(gate.calls) == sorted(set(gate.calls))
    gate.set()
    _wait_jobs()
    got, state = queries.copies_for(eng, [a, b], wait=0.05)
    assert state == "ok" and set(got) == {a, b}
    first = got[b][1]
    assert first.own_share > 0                                     # b reuses a, its unit's last year
    n_calls = len(gate.calls)
    # a write: the results are of an earlier corpus; while the new lookup is held they are shown as such
    gate.clear()
    add_report(eng, analyze_text((DEV / "seed-002.txt").read_text(encoding="utf-8"), "c.txt"))
    got, state = queries.copies_for(eng, [a, b], wait=0.05)
    assert state == "stale" and got[b][1].own_share == first.own_share
    gate.set()
    _wait_jobs()
    got, state = queries.copies_for(eng, [a, b], wait=0.05)
    assert state == "ok" and len(gate.calls) == n_calls + 2
    # the background result equals a direct lookup
    assert got[b][1].own_share == copy_index.copies_of(eng, b)[1].own_share


def test_pages_say_the_comparison_is_running(tmp_path, gate):
    app = make_app(str(tmp_path / "c.db"), tmp_path, copy_wait=0.05)
    c = TestClient(app)
    c.csrf = login(c)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    eng = app.state.engine
    first = analyze_text(text, "a.txt")
    a = add_report(eng, first)
    add_report(eng, analyze_text(next_year_of(text), "b.txt"))
    unit = first.meta.unit
    page = c.get(f"/reports/{a}")
    assert page.status_code == 200 and 'id="copies-pending"' in page.text and "抄自他单位" not in page.text
    page = c.get("/unit", params={"name": unit})
    assert 'id="copies-pending"' in page.text and "未发现与其他报告" not in page.text
    assert c.get("/api/unit", params={"name": unit}).json()["copies_state"] == "pending"
    gate.set()
    _wait_jobs()
    page = c.get(f"/reports/{a}")
    assert 'id="copies-pending"' not in page.text and "抄自他单位" in page.text
    page = c.get("/unit", params={"name": unit})
    assert 'id="copies-pending"' not in page.text and "沿用本单位往年表述" in page.text
    assert c.get("/api/unit", params={"name": unit}).json()["copies_state"] == "ok"
