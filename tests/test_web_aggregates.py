"""The pages served from the aggregates (issue 14) show what a recompute shows, also
right after an upload or a delete through the web; the unit page leaves the
corpus-wide copy search to a link once the corpus changed."""
from __future__ import annotations

import json
from pathlib import Path

from test_web_helpers import TestClient, login, make_app, next_year_of

from fazhi.corpus import stats, store
from fazhi.web import queries

DEV = Path(__file__).resolve().parent / "data" / "dev"


def _upload(c, name, data):
    r = c.post("/api/reports", params={"filename": name}, content=data,
               headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": c.csrf})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _canon(x):
    return json.loads(json.dumps(x, ensure_ascii=False, default=str, sort_keys=True))


def test_dashboard_and_stats_api_equal_a_recompute_after_uploads_and_deletes(tmp_path):
    app = make_app(str(tmp_path / "corpus.db"), tmp_path)
    eng = app.state.engine
    c = TestClient(app)
    c.csrf = login(c)
    ids = [_upload(c, f.name, f.read_bytes()) for f in sorted(DEV.glob("seed-*.txt"))]
    assert c.get("/dashboard").status_code == 200
    got = c.get("/api/stats").json()
    assert got["corpus"]["reports"] == len(ids)
    assert _canon(got["corpus"]) == _canon(stats.corpus_stats(eng))
    assert _canon(got["dashboard"]) == _canon(queries.dashboard_fresh(eng))
    # one more upload: the next view counts it
    extra = sorted(DEV.glob("excerpt-*.txt"))[0]
    ids.append(_upload(c, extra.name, extra.read_bytes()))
    got = c.get("/api/stats").json()
    assert got["corpus"]["reports"] == store.count(eng)[0] == len(ids)
    assert _canon(got["dashboard"]) == _canon(queries.dashboard_fresh(eng))
    # a delete through the page
    r = c.post(f"/reports/{ids[0]}/delete", data={"csrf_token": c.csrf}, follow_redirects=False)
    assert r.status_code == 303
    got = c.get("/api/stats").json()
    assert got["corpus"]["reports"] == len(ids) - 1
    assert _canon(got["corpus"]) == _canon(stats.corpus_stats(eng))
    assert _canon(got["dashboard"]) == _canon(queries.dashboard_fresh(eng))
    page = c.get("/reports")
    assert page.status_code == 200 and f"{len(ids) - 1}" in page.text


def test_unit_page_shows_the_copies_after_a_change(tmp_path):
    app = make_app(str(tmp_path / "corpus.db"), tmp_path)
    c = TestClient(app)
    c.csrf = login(c)
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    _upload(c, "seed-004.txt", text.encode("utf-8"))
    _upload(c, "礼嘉街道-2023.txt", next_year_of(text).encode("utf-8"))
    # the copy index answers on the plain view (copy_index.copies_of): no link to ask for it
    page = c.get("/unit", params={"name": "礼嘉街道"})
    assert page.status_code == 200 and "沿用本单位往年表述" in page.text and "copies=1" not in page.text
    assert "承诺落实" in page.text and "已落实" in page.text
