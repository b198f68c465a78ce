"""Responses shared by the pages and the API: downloads (xlsx / csv exports with a
Content-Disposition that survives Chinese file names)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ..corpus import compare, export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    keep = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in stem).strip("_")
    ascii_name = (keep or "fazhi") + ("." + "".join(ch for ch in ext if ch.isascii() and ch.isalnum()) if ext else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download(write, name: str, media_type: str) -> FileResponse:
    tmp = Path(tempfile.mkdtemp(prefix="fazhi-export-"))
    out = tmp / ("export" + Path(name).suffix)
    try:
        write(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(out, media_type=media_type, headers={"Content-Disposition": content_disposition(name)},
                        background=BackgroundTask(shutil.rmtree, tmp, True))


def export_name(year: int | None, level: str | None, ext: str) -> str:
    label = "".join(x for x in (f"{year}年度" if year else "", compare.level_label(level) if level else ""))
    return f"法治政府建设年度报告汇总{('-' + label) if label else ''}.{ext}"


def xlsx_response(engine, year: int | None, level: str | None) -> FileResponse:
    name = export_name(year, level, "xlsx")
    return _download(lambda out: export.write_xlsx(engine, out, year=year, level=level, title=name[:-5]),
                     name, XLSX)


def csv_response(engine, year: int | None, level: str | None) -> FileResponse:
    return _download(lambda out: export.write_csv(engine, out, year=year, level=level),
                     "法治政府建设年度报告一览.csv", "text/csv; charset=utf-8")
