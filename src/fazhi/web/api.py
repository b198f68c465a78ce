"""The JSON API under /api/ (documented at /openapi.json and /api/docs).

Authentication: the browser session (unsafe methods need the header
``X-CSRF-Token``) or an API token, ``Authorization: Bearer fz_…``.
Errors are ``{"detail": "中文说明"}`` with the HTTP status.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from ..corpus import compare, store, submissions
from . import audit, auth, queries
from .auth import require_admin, require_user
from .responses import csv_response, xlsx_response
from .uploads import UploadError, forget_file, received_date, safe_name, too_large_message, upload_request

router = APIRouter(prefix="/api", tags=["API"])

ERR = {401: {"description": "未登录或令牌无效"}, 403: {"description": "权限不足或 CSRF 校验失败"},
       503: {"description": "服务器正忙，或数据库只读、已损坏、无法连接（中文说明）"},
       507: {"description": "磁盘已满"}}
Rid = Annotated[int, Path(ge=1, le=queries.MAX_ID, description="报告编号")]
VIEWER_NO_TEXT = "只读账号不能导出报告全文和原文件（text 字段已略去）；需要时请联系管理员"


def _bad(e: Exception):
    raise HTTPException(400, str(e)) from None


class TokenRequest(BaseModel):
    username: str = Field(..., max_length=64, description="用户名")
    password: str = Field(..., max_length=256, description="密码")
    name: str = Field("", max_length=100, description="令牌用途（便于以后识别和作废）")


class TokenOut(BaseModel):
    token: str = Field(..., description="API 令牌：只显示这一次；请求头 Authorization: Bearer <令牌>")
    username: str
    role: str


class UploadOut(BaseModel):
    id: int = Field(..., description="报告编号")
    duplicate: bool = Field(..., description="true：同一文件（sha256 相同）已在库中，返回已有报告的编号")
    name: str = Field(..., description="文件名（仅显示用）")
    format: str = Field(..., description="按内容识别的格式：txt、md、html、docx、pdf")
    sha256: str
    url: str = Field(..., description="体检报告页面")
    title: str | None = None
    unit: str | None = None
    year: int | None = None
    score_total: float | None = None
    n_errors: int = 0
    n_warnings: int = 0
    counted: bool = Field(True, description="false：同一报告的其他格式、旧版本或非本类报告，不计入统计")
    note: str | None = Field(None, description="不计入统计的原因（中文）")


class ReportRow(BaseModel):
    id: int
    unit: str | None = None
    level: str | None = None
    level_label: str
    province: str | None = None
    city: str | None = None
    county: str | None = None
    year: int | None = None
    title: str | None = None
    published: str | None = None
    signed: str | None = None
    path: str
    format: str
    parts_missing: str
    n_facts: int
    n_errors: int
    n_warnings: int
    score_total: float | None = None
    added_at: str


class ReportList(BaseModel):
    total: int
    page: int
    per_page: int
    reports: list[ReportRow]


class SearchHit(BaseModel):
    report_id: int
    unit: str | None = None
    year: int | None = None
    title: str | None = None
    para_no: int
    snippet: str = Field(..., description="原文片段，检索词以【】标出")


# ------------------------------------------------------------------ auth
@router.post("/token", response_model=TokenOut,
             responses={401: {"description": "用户名或密码不正确"}, 429: {"description": "登录尝试过于频繁"},
                        503: {"description": "登录请求过多"}},
             summary="用用户名和密码换取 API 令牌")
async def api_token(request: Request, body: TokenRequest):
    try:
        user, _ = await auth.login_attempt(request, body.username, body.password, via="API 令牌")
    except auth.LoginRefused as e:
        raise HTTPException(e.status, e.message,
                            headers={"Retry-After": str(e.retry_after)} if e.retry_after else None) from None
    eng = request.app.state.engine
    token = await run_in_threadpool(auth.create_token, eng, user.id, body.name or "API")
    await run_in_threadpool(auth.audit_quietly, eng, "token.create", actor=user.username, actor_id=user.id,
                            address=auth.client_address(request), target=(body.name or "API")[:100],
                            detail="POST /api/token")
    return TokenOut(token=token, username=user.username, role=user.role)


@router.get("/me", summary="当前用户", responses=ERR)
def me(user=Depends(require_user)):
    return {"id": user.id, "username": user.username, "role": user.role, "role_label": user.role_label}


# ------------------------------------------------------------------ upload
async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes."""
    cl = request.headers.get("content-length")
    if cl and cl.isdigit() and int(cl) > limit:
        raise HTTPException(413, too_large_message(limit))
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise HTTPException(413, too_large_message(limit))
    return bytes(buf)


@router.post("/reports", response_model=UploadOut, status_code=201,
             responses={**ERR, 200: {"description": "文件已在库中（duplicate: true）", "model": UploadOut},
                        400: {"description": "文件类型不支持、内容与类型不符或无法分析（中文说明）"},
                        413: {"description": "文件超过大小上限"}},
             summary="上传并分析一份报告（管理员）",
             description=("请求体就是文件本身（Content-Type: application/octet-stream），文件名放在查询参数 "
                          "`filename`；也接受 multipart/form-data 的 `file` 字段。类型按内容识别（PDF、docx、网页、"
                          "文本），与文件名无关。同一文件（sha256 相同）只入库一次。"))
async def upload(request: Request, filename: str = Query("", max_length=1000, description="原文件名（仅显示用）"),
                 received_on: str = Query("", max_length=20, description="收到日期（年-月-日，可选）：报送单位的报告何日收到"),
                 user=Depends(require_admin)):
    s = request.app.state.settings
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form: FormData = await request.form(max_files=1)
        f = form.get("file")
        if not isinstance(f, UploadFile):
            raise HTTPException(400, "multipart 请求缺少 file 字段")
        data = await f.read(s.max_bytes + 1)
        if len(data) > s.max_bytes:
            raise HTTPException(413, too_large_message(s.max_bytes))
        filename = f.filename or filename
    else:
        data = await _read_limited(request, s.max_bytes)
    if not filename:
        filename = request.headers.get("x-filename", "")
        if filename:
            from urllib.parse import unquote

            filename = unquote(filename)
    try:
        out = await upload_request(request, user, data, filename, received_on=received_date(received_on))
    except UploadError as e:
        raise HTTPException(e.status, e.message) from None
    got = await run_in_threadpool(queries.load_report, request.app.state.engine, out.report_id)
    row = got[0] if got else {}
    body = UploadOut(id=out.report_id, duplicate=out.duplicate, name=safe_name(filename), format=out.format,
                     sha256=out.sha256, url=f"/reports/{out.report_id}", title=row.get("title"),
                     unit=row.get("unit"), year=row.get("year"), score_total=row.get("score_total"),
                     n_errors=row.get("n_errors") or 0, n_warnings=row.get("n_warnings") or 0,
                     counted=bool(row.get("is_current", True)), note=submissions.status_note(row) if row else None)
    return JSONResponse(body.model_dump(), status_code=200 if out.duplicate else 201)


# ------------------------------------------------------------------ read
@router.get("/reports", response_model=ReportList, responses={**ERR, 400: {"description": "筛选条件有误"}},
            summary="报告列表（可筛选、分页）")
def list_reports(request: Request,
                 level: str | None = Query(None, description="层级：province/city/county/township/department/other/none"),
                 province: str | None = Query(None, description="省份（none：未识别）"),
                 year: str | None = Query(None, description="年度（整数）"),
                 score_min: str | None = Query(None, description="最低总分（0–100）"),
                 score_max: str | None = Query(None, description="最高总分（0–100）"),
                 missing: str | None = Query(None, description="缺少的法定部分：achievements/shortcomings/leader_duty/next_year"),
                 errors: str | None = Query(None, description="yes：有错误级问题；no：没有"),
                 unit: str | None = Query(None, max_length=100, description="单位或标题包含"),
                 sort: str | None = Query(None, description="排序：added/score_desc/score_asc/year/unit/errors"),
                 page: str | None = Query(None, description="页码（从 1 起）"),
                 per_page: str | None = Query(None, description="每页条数（1–500，默认 50）"),
                 user=Depends(require_user)):
    try:
        f = queries.Filters.parse({k: v for k, v in request.query_params.items()})
    except (queries.QueryError, compare.CompareError) as e:
        _bad(e)
    f.q = None
    rows, total = queries.list_reports(request.app.state.engine, f)
    for r in rows:
        for k in ("region", "missing_labels"):
            r.pop(k, None)
    return {"total": total, "page": f.page, "per_page": f.per_page, "reports": rows}


@router.get("/reports/{rid}", responses={**ERR, 404: {"description": "没有这份报告"}},
            summary="一份报告的完整分析结果（fazhi.report/1 结构；只读账号不含全文 text）")
def get_report(request: Request, rid: Rid, user=Depends(require_user)):
    got = queries.load_report(request.app.state.engine, rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row, report = got
    d = report.to_dict()
    d.pop("outline", None)
    out = {"id": rid, "added_at": row["added_at"], "level_label": row["level_label"], "url": f"/reports/{rid}", **d}
    if not user.is_admin:   # reading a report is the card page; the text itself is an export
        out.pop("text", None)
        out["note"] = VIEWER_NO_TEXT
    return out


@router.delete("/reports/{rid}", status_code=204, responses={**ERR, 404: {"description": "没有这份报告"}},
               summary="删除（撤回）一份报告（管理员）：不再计入统计，重新入库同一文件时跳过")
def delete_report(request: Request, rid: Rid, user=Depends(require_admin)):
    eng = request.app.state.engine
    got = queries.load_report(eng, rid)
    if got is None:
        raise HTTPException(404, f"报告库中没有编号为 {rid} 的报告")
    row = got[0]
    with eng.begin() as conn:
        # withdrawn, not erased: remembered by sha256 (`fazhi corpus restore-withdrawn` undoes it)
        submissions.withdraw(conn, rid, f"网页删除（{user.username}）")
        audit.record(conn, "report.delete", actor=user.username, actor_id=user.id,
                     address=auth.client_address(request), target=f"报告 {rid}：{row['unit'] or row['path']}"[:500],
                     detail=f"{row['path']}（API）")
    s = request.app.state.settings
    forget_file(s.data_dir, row["sha256"], row["format"])
    return Response(status_code=204)


@router.get("/search", response_model=list[SearchHit], responses=ERR, summary="全文检索（中文分词）")
def search(request: Request, q: str = Query(..., min_length=1, max_length=200, description="检索词"),
           limit: int = Query(20, ge=1, le=200), user=Depends(require_user)):
    hits = store.search(request.app.state.engine, q, limit)
    return [SearchHit(report_id=h.report_id, unit=h.unit, year=h.year, title=h.title, para_no=h.para_no,
                      snippet=h.snippet) for h in hits]


def _year_level(year, level):
    try:
        return queries.parse_year(year), queries.parse_level(level)
    except (queries.QueryError, compare.CompareError) as e:
        _bad(e)


@router.get("/stats", responses={**ERR, 400: {"description": "筛选条件有误"}},
            summary="统计：发布时效、法定部分齐全率、评分分布、看板图表数据")
def stats(request: Request, year: str | None = Query(None, description="年度"),
          level: str | None = Query(None, description="层级"), user=Depends(require_user)):
    eng = request.app.state.engine
    y, lv = _year_level(year, level)
    return {"corpus": queries.corpus_stats(eng, year=y, level=lv), "dashboard": queries.dashboard(eng, year=y, level=lv)}


@router.get("/indicators", responses=ERR, summary="报告库中出现过的指标（按报告数排序）")
def indicators(request: Request, user=Depends(require_user)):
    return queries.indicators_in_corpus(request.app.state.engine)


@router.get("/stats/indicator", responses={**ERR, 400: {"description": "未知指标或筛选条件有误"}},
            summary="某项指标的单位排名（看板柱状图数据）")
def indicator(request: Request, indicator: str = Query(..., max_length=100, description="指标编号，如 mediation.cases"),
              year: str | None = Query(None, description="年度"), level: str | None = Query(None, description="层级"),
              top: int = Query(30, ge=1, le=500), user=Depends(require_user)):
    y, lv = _year_level(year, level)
    try:
        return queries.indicator_chart(request.app.state.engine, indicator, year=y, level=lv, top=top)
    except compare.CompareError as e:
        _bad(e)


@router.get("/unit", responses={**ERR, 404: {"description": "没有这个单位"}},
            summary="单位：历年报告、指标趋势、抄袭段落、承诺落实")
def unit(request: Request, name: str = Query(..., min_length=1, max_length=100), user=Depends(require_user)):
    page = queries.unit_page(request.app.state.engine, name.strip(),
                             copy_wait=request.app.state.settings.copy_wait)
    if page is None:
        raise HTTPException(404, f"报告库中没有单位“{name}”的报告")
    return {"name": page.name, "units": page.units, "years": page.years,
            "reports": [{k: v for k, v in r.items() if k != "missing_labels"} for r in page.reports],
            "trends": page.trends, "copies": page.copies, "copies_state": page.copies_state,
            "follow": page.follow}


@router.get("/export", responses={**ERR, 200: {"description": "xlsx 工作簿或 csv 文件",
                                                "content": {"application/vnd.openxmlformats-officedocument."
                                                            "spreadsheetml.sheet": {}}}},
            summary="导出报告库（管理员）：Excel 工作簿（默认）或 CSV")
def export_corpus(request: Request, year: str | None = Query(None, description="年度"),
                  level: str | None = Query(None, description="层级"),
                  format: str = Query("xlsx", pattern="^(xlsx|csv)$"), user=Depends(require_admin)):
    eng = request.app.state.engine
    y, lv = _year_level(year, level)
    resp = xlsx_response(eng, y, lv) if format == "xlsx" else csv_response(eng, y, lv)
    auth.audit_quietly(eng, "export", actor=user.username, actor_id=user.id, address=auth.client_address(request),
                        target="Excel 汇总工作簿" if format == "xlsx" else "CSV 报告一览",
                        detail=f"年度 {y or '全部'}，层级 {compare.level_label(lv) if lv else '全部'}（API）")
    return resp
