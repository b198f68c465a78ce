"""Convert a draft .docx to PDF with LibreOffice headless (Debian:
libreoffice-writer-nogui), with the font substitutes of ``fonts.conf`` so that
a machine without the GB/T 9704 fonts still prints 宋/黑/楷 in their styles.

LibreOffice (7.4) reads ``w:overflowPunct`` the other way round from Word: the
draft says ``0`` (no punctuation past the right edge of the type area, as Word
and WPS read it), which LibreOffice takes for "hang punctuation" — a full stop
at the end of a line then sits 5.7 mm in the right margin of the PDF.  The
conversion therefore runs on a copy that says ``1`` to LibreOffice; the .docx
the clerk gets is left as it is.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from importlib import resources
from pathlib import Path

from .compose import DraftError

TIMEOUT = 180


def soffice() -> str | None:
    """Path of the LibreOffice binary, or None."""
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    return None


_NO_HANG_WORD = b'<w:overflowPunct w:val="0"/>'
_NO_HANG_LIBREOFFICE = b'<w:overflowPunct w:val="1"/>'


def for_libreoffice(data: bytes) -> bytes:
    """The .docx with ``w:overflowPunct`` as LibreOffice reads it (see above)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename in ("word/styles.xml", "word/document.xml"):
                blob = blob.replace(_NO_HANG_WORD, _NO_HANG_LIBREOFFICE)
            dst.writestr(info, blob)
    return out.getvalue()


def to_pdf(docx_path, pdf_path) -> Path:
    """Write ``pdf_path`` from ``docx_path``; ``DraftError`` (Chinese) on failure."""
    exe = soffice()
    if exe is None:
        raise DraftError("未找到 LibreOffice（soffice），无法生成 PDF；请安装 libreoffice-writer-nogui，或输出 .docx")
    dst = Path(pdf_path)
    with tempfile.TemporaryDirectory(prefix="fazhi-pdf-") as tmp:
        src = Path(tmp, Path(docx_path).stem + ".docx")
        try:
            src.write_bytes(for_libreoffice(Path(docx_path).read_bytes()))
        except (OSError, zipfile.BadZipFile) as e:
            raise DraftError(f"无法读取 {Path(docx_path).name}：{e}") from None
        env = dict(os.environ)
        conf = resources.files(__package__).joinpath("fonts.conf")
        with resources.as_file(conf) as conf_path:
            env["FONTCONFIG_FILE"] = str(conf_path)
            env.setdefault("HOME", tmp)
            outdir = Path(tmp, "out")
            cmd = [exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(outdir), str(src)]
            try:
                res = subprocess.run(cmd, env=env, capture_output=True, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DraftError(f"LibreOffice 转换 PDF 超时（{TIMEOUT} 秒）") from None
        out = outdir / (src.stem + ".pdf")
        if res.returncode != 0 or not out.exists():
            msg = (res.stderr or res.stdout or b"").decode("utf-8", "replace").strip().splitlines()
            raise DraftError("LibreOffice 转换 PDF 失败" + (f"：{msg[-1]}" if msg else ""))
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, dst)
    return dst
