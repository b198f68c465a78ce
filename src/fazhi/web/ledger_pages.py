"""The 起草 page: the writing unit's year in the browser.

    GET  /draft                          the page
    GET  /draft/template?year=&example=  the ledger template (or the filled example)
    POST /draft/ledger                   upload a ledger (and last year's report): the
                                         ledger check in place, the figures, draft links
    GET  /draft/{key}/draft.docx|pdf     the draft of that ledger (unit, level, year as asked)
    POST /draft/check                    upload the edited draft: its findings in place
    GET  /draft/checked/{key}/批注版.docx the same document with the findings as comments

Any logged-in user may draft (nothing is written to the corpus).  An uploaded
ledger, report or draft is kept under ``<data_dir>/drafting/`` by the sha256 of
its bytes (the only name it ever gets); the links carry that key, so a draft can
be downloaded again without uploading the ledger again.  Messages are Chinese;
a bad file gives its Chinese reason on the page, never a traceback.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ..model import LEVEL_LABELS, LEVELS
from .auth import require_user
from .pages import render
from .responses import content_disposition
from .uploads import too_large_message

router = APIRouter(include_in_schema=False)

_KEY = re.compile(r"^[0-9a-f]{64}$")
_PREVIOUS_TYPES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DraftPageError(Exception):
    """A Chinese message for the page."""


# ------------------------------------------------------------------ files kept by their sha256
def _dir(request: Request, kind: str) -> Path:
    d = Path(request.app.state.settings.data_dir) / "drafting" / kind
    d.mkdir(parents=True, exist_ok=True)
    return d


def _keep(request: Request, kind: str, data: bytes, suffix: str) -> str:
    key = hashlib.sha256(data).hexdigest()
    p = _dir(request, kind) / (key + suffix)
    if not p.exists():
        tmp = p.with_suffix(p.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(p)
    return key


def _kept(request: Request, kind: str, key: str) -> Path:
    if not _KEY.match(key or ""):
        raise HTTPException(404, "链接无效")
    hits = sorted(_dir(request, kind).glob(key + "*"))
    hits = [h for h in hits if not h.name.endswith(".part")]
    if not hits:
        raise HTTPException(404, "文件已不在服务器上，请重新上传")
    return hits[0]


async def _upload(request: Request, form, field: str, allowed: tuple[str, ...], what: str) -> tuple[bytes, str] | None:
    s = request.app.state.settings
    f = form.get(field)
    if f is None or not hasattr(f, "read") or not (f.filename or ""):
        return None
    name = Path(f.filename).name
    data = await f.read(s.max_bytes + 1)
    if len(data) > s.max_bytes:
        raise DraftPageError(too_large_message(s.max_bytes))
    if not data:
        raise DraftPageError(f"{what}“{name}”是空文件")
    if Path(name).suffix.lower() not in allowed:
        raise DraftPageError(f"{what}应为 {'、'.join(allowed)} 文件，“{name}”不是")
    return data, name


def _int(v, lo: int, hi: int, label: str) -> int | None:
    v = str(v or "").strip()
    if not v:
        return None
    if not v.isdigit() or not lo <= int(v) <= hi:
        raise DraftPageError(f"{label}“{v}”无效：应为 {lo}–{hi} 之间的整数")
    return int(v)


def _page(request: Request, status: int = 200, **ctx):
    from datetime import date

    ctx.setdefault("year", date.today().year - 1)
    return render(request, "draft.html", status=status, nav="draft", levels=[(k, LEVEL_LABELS[k]) for k in LEVELS],
                  **ctx)


# ------------------------------------------------------------------ the page and the template
@router.get("/draft")
def draft_page(request: Request, user=Depends(require_user)):
    return _page(request)


@router.get("/draft/template")
def draft_template(request: Request, year: str | None = None, example: str | None = None,
                   user=Depends(require_user)):
    from ..ledger.example import write_example
    from ..ledger.template import write_template

    try:
        y = _int(year, 1990, 2100, "年度")
    except DraftPageError as e:
        return _page(request, 400, error=str(e))
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-tpl-"))
    out = tmp / "ledger.xlsx"
    try:
        if example:
            write_example(out, y or 2024)
            name = f"法治政府建设工作台账（示例）{y or 2024}.xlsx"
        else:
            write_template(out, y)
            name = f"法治政府建设工作台账{y or ''}.xlsx"
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(out, media_type=XLSX_TYPE, headers={"Content-Disposition": content_disposition(name)},
                        background=BackgroundTask(shutil.rmtree, tmp, True))


# ------------------------------------------------------------------ the ledger
def _ledger_view(path: Path, year: int | None) -> dict:
    """The ledger check and the figures, as the page shows them."""
    from ..facts import load_catalog
    from ..ledger.reader import check_year_known, read_ledger
    from ..ledger.stats import compute

    led = read_ledger(path, year)
    check_year_known(led)
    order = {"error": 0, "warning": 1}
    issues = [{"severity": i.severity, "where": i.where() or "—", "message": i.message}
              for i in sorted(led.issues, key=lambda i: order[i.severity])]
    figures = []
    if not led.errors:
        cat = load_catalog()
        values = compute(led)
        for m in led.schema.measures:
            v = values.get(m.id)
            if v is None or not v.indicator:
                continue
            figures.append({"label": cat[m.id]["label"], "id": m.id, "value": f"{v.text()}{v.unit}", "zero": v.zero,
                            "source": v.source})
    b = led.basics
    level = None
    lb = led.schema.basic("level")
    if lb is not None and b.get("level") in lb.map:
        level = lb.map[b["level"]]
    return {"errors": len(led.errors), "warnings": len(led.warnings), "issues": issues, "figures": figures,
            "records": sum(len(r) for r in led.records.values()), "sheets": len(led.records),
            "year": led.year, "unit": b.get("unit"), "level": level, "readable": led.readable}


@router.post("/draft/ledger")
async def draft_ledger(request: Request, user=Depends(require_user)):
    form = await request.form()
    try:
        got = await _upload(request, form, "ledger", (".xlsx",), "台账")
        if got is None:
            raise DraftPageError("请选择台账文件（.xlsx）")
        data, name = got
        year = _int(form.get("year"), 1990, 2100, "年度")
        prev = await _upload(request, form, "previous", _PREVIOUS_TYPES, "上一年度报告")
    except DraftPageError as e:
        return _page(request, 400, error=str(e))
    key = _keep(request, "ledger", data, ".xlsx")
    prev_key = _keep(request, "previous", prev[0], Path(prev[1]).suffix.lower()) if prev else None
    view = await run_in_threadpool(_ledger_view, _kept(request, "ledger", key), year)
    unit = str(form.get("unit") or "").strip()[:60] or view["unit"] or ""
    level = str(form.get("level") or "") or view["level"] or ""
    return _page(request, 200 if view["readable"] else 400, ledger=view, ledger_name=name, key=key, prev_key=prev_key,
                 prev_name=prev[1] if prev else None, unit=unit, level=level if level in LEVELS else "",
                 year=year or view["year"])


def _compose(request: Request, key: str, unit: str, level: str, year: int | None, prev: str | None):
    from ..draft.compose import compose, level_for
    from ..ledger.reader import check_year_known, read_ledger

    led = read_ledger(_kept(request, "ledger", key), year)
    check_year_known(led)
    if led.errors:
        raise DraftPageError(f"台账有 {len(led.errors)} 处错误，未生成初稿：请先按检查结果修改台账后重新上传")
    year = year or led.year
    unit = unit or led.basics.get("unit")
    if not year:
        raise DraftPageError("不知道报告年度：请填写“年度”，或在台账“基本情况”表中填写")
    if not unit:
        raise DraftPageError("不知道报告单位：请填写“单位”，或在台账“基本情况”表中填写“单位名称”")
    if level not in LEVELS:
        level = level_for(led, unit)
    previous = None
    if prev:
        from ..draft.previous import load_previous

        previous = load_previous(_kept(request, "previous", prev), year)
    return compose(led, unit, year, level, previous)


@router.get("/draft/{key}/draft.{fmt}")
async def draft_download(request: Request, key: str, fmt: str, unit: str = "", level: str = "", year: str = "",
                         prev: str = "", user=Depends(require_user)):
    from ..draft.compose import DraftError
    from ..draft.word import write_docx

    if fmt not in ("docx", "pdf"):
        raise HTTPException(404, "只提供 Word（.docx）和 PDF 初稿")
    try:
        y = _int(year, 1990, 2100, "年度")
        d = await run_in_threadpool(_compose, request, key, unit.strip()[:60], level, y, prev or None)
    except (DraftPageError, DraftError) as e:
        return _page(request, 400, error=str(e))
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-draft-"))
    try:
        docx_path = await run_in_threadpool(write_docx, d, tmp / "draft.docx")
        out = docx_path
        if fmt == "pdf":
            from ..draft.pdf import to_pdf

            out = await run_in_threadpool(to_pdf, docx_path, tmp / "draft.pdf")
    except DraftError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return _page(request, 500, error=str(e))
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    name = f"{d.title}（初稿）.{fmt}"
    return FileResponse(out, media_type=DOCX_TYPE if fmt == "docx" else "application/pdf",
                        headers={"Content-Disposition": content_disposition(name)},
                        background=BackgroundTask(shutil.rmtree, tmp, True))


# ------------------------------------------------------------------ the edited draft
def _analyse(path: Path):
    from ..ingest import IngestError
    from ..pipeline import analyze_path

    try:
        return analyze_path(path)
    except IngestError as e:
        raise DraftPageError(f"无法读取：{e}") from None


def _check_view(report) -> dict:
    from ..model import PART_LABELS
    from ..scores import SCORE_LABELS

    order = {"error": 0, "warning": 1, "info": 2}
    findings = []
    for f in sorted(report.findings, key=lambda f: order.get(f.severity, 3)):
        quote = ""
        if isinstance(f.start, int) and isinstance(f.end, int):
            quote = " ".join(report.text[f.start:min(f.end, f.start + 60)].split())
        findings.append({"severity": f.severity, "rule": f.rule, "message": f.message, "quote": quote})
    return {"title": report.meta.title, "scores": [(SCORE_LABELS[k], v) for k, v in report.scores.items()],
            "findings": findings, "errors": sum(1 for f in report.findings if f.severity == "error"),
            "parts": [PART_LABELS[p.part] for p in report.parts]}


@router.post("/draft/check")
async def draft_check(request: Request, user=Depends(require_user)):
    form = await request.form()
    try:
        got = await _upload(request, form, "document", (".docx",), "修改稿")
        if got is None:
            raise DraftPageError("请选择修改后的初稿（Word .docx）")
        data, name = got
        key = _keep(request, "checked", data, ".docx")
        report = await run_in_threadpool(_analyse, _kept(request, "checked", key))
    except DraftPageError as e:
        return _page(request, 400, error=str(e))
    return _page(request, checked=_check_view(report), checked_key=key, checked_name=name)


@router.get("/draft/checked/{key}/{name}")
async def draft_annotated(request: Request, key: str, name: str, user=Depends(require_user)):
    from ..draft.annotate import annotate
    from ..draft.compose import DraftError

    src = _kept(request, "checked", key)
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-ann-"))
    try:
        report = await run_in_threadpool(_analyse, src)
        out = tmp / "annotated.docx"
        await run_in_threadpool(annotate, src, report, out)
    except (DraftPageError, DraftError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return _page(request, 400, error=str(e))
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    title = report.meta.title or "报告"
    return FileResponse(out, media_type=DOCX_TYPE,
                        headers={"Content-Disposition": content_disposition(f"{title}（批注版）.docx")},
                        background=BackgroundTask(shutil.rmtree, tmp, True))
