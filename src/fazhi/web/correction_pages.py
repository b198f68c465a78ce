"""Corrections from the report page (``fazhi.corpus.corrections``).

    GET  /reports/{rid}/fix      the report's metadata, facts, parts and findings with
                                 their ids, the corrections made so far, and the forms
    POST /reports/{rid}/fix      (admin) one correction: target, field, value, key, reason

Every logged-in user sees what was corrected; only administrators correct.  Each
correction is also written to the audit log (``correction``).
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..corpus import corrections as cm
from ..corpus import db
from ..facts import load_catalog
from ..model import LEVEL_LABELS, PART_LABELS
from . import audit
from .auth import require_admin, require_user
from .pages import Rid, _engine, _who, error_page, flash, render

router = APIRouter(include_in_schema=False)


def _page_data(eng, rid: int) -> dict | None:
    with eng.connect() as c:
        rep = c.execute(select(db.reports).where(db.reports.c.id == rid)).mappings().first()
        if rep is None:
            return None
        rows = {name: [dict(r) for r in c.execute(select(t).where(t.c.report_id == rid).order_by(t.c.id)).mappings()]
                for name, t in (("parts", db.parts), ("facts", db.facts), ("findings", db.findings))}
        history = cm.history(c, rid)
    cat = load_catalog()
    facts = [dict(f, label=cat.get(f["indicator"], {}).get("label", f["indicator"])) for f in rows["facts"]
             if f["indicator"]]
    for h in history:
        h["old"] = json.loads(h["old_value"] or "null")
        h["new"] = json.loads(h["new_value"] or "null")
    meta = [(k, label, LEVEL_LABELS.get(rep[k], rep[k]) if k == "level" else rep[k]) for k, label in cm.META_FIELDS.items()]
    return {"row": dict(rep), "meta": meta, "parts": rows["parts"], "facts": facts, "findings": rows["findings"],
            "history": history, "part_labels": PART_LABELS, "level_labels": LEVEL_LABELS}


@router.get("/reports/{rid}/fix")
def fix_page(request: Request, rid: Rid, user=Depends(require_user)):
    data = _page_data(_engine(request), rid)
    if data is None:
        return error_page(request, 404, f"报告库中没有编号为 {rid} 的报告")
    return render(request, "fix.html", nav="reports", **data)


@router.post("/reports/{rid}/fix")
async def fix_post(request: Request, rid: Rid, user=Depends(require_admin)):
    form = await request.form()
    target = str(form.get("target") or "")
    field = str(form.get("field") or "")
    value = str(form.get("value") or "").strip()
    key = str(form.get("key") or "") or None
    reason = str(form.get("reason") or "").strip() or None
    if target == "finding":
        field = "status"
    if target == "fact" and field == "not_fact":
        value = True
    eng = _engine(request)

    def run():
        with eng.begin() as c:
            cm.record(c, rid, target, field, value, key=key, reason=reason, actor=user.username)
            audit.record(c, "correction", target=f"报告 {rid}", detail=f"{target}.{field} → {value}"
                         + (f"（{reason}）" if reason else ""), **_who(request, user))
            return cm.apply_version(c, rid)

    try:
        out = await run_in_threadpool(run)
    except cm.CorrectionError as e:
        data = _page_data(eng, rid)
        if data is None:
            return error_page(request, 404, str(e))
        return render(request, "fix.html", 400, nav="reports", error=str(e), **data)
    flash(request, "已更正" + (f"；{len(out.unapplied)} 项未能应用（原文中已找不到其依据）" if out.unapplied else ""))
    return RedirectResponse(f"/reports/{rid}/fix", status_code=303)
