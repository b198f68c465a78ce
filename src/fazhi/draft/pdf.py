"""Convert a draft .docx to PDF with LibreOffice headless (Debian:
libreoffice-writer-nogui), with the font substitutes of ``fonts.conf`` so that
a machine without the GB/T 9704 fonts still prints 宋/黑/楷 in their styles.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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


def to_pdf(docx_path, pdf_path) -> Path:
    """Write ``pdf_path`` from ``docx_path``; ``DraftError`` (Chinese) on failure."""
    exe = soffice()
    if exe is None:
        raise DraftError("未找到 LibreOffice（soffice），无法生成 PDF；请安装 libreoffice-writer-nogui，或输出 .docx")
    src = Path(docx_path).resolve()
    dst = Path(pdf_path)
    with tempfile.TemporaryDirectory(prefix="fazhi-pdf-") as tmp:
        env = dict(os.environ)
        conf = resources.files(__package__).joinpath("fonts.conf")
        with resources.as_file(conf) as conf_path:
            env["FONTCONFIG_FILE"] = str(conf_path)
            env.setdefault("HOME", tmp)
            cmd = [exe, f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", tmp, str(src)]
            try:
                res = subprocess.run(cmd, env=env, capture_output=True, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DraftError(f"LibreOffice 转换 PDF 超时（{TIMEOUT} 秒）") from None
        out = Path(tmp, src.stem + ".pdf")
        if res.returncode != 0 or not out.exists():
            msg = (res.stderr or res.stdout or b"").decode("utf-8", "replace").strip().splitlines()
            raise DraftError("LibreOffice 转换 PDF 失败" + (f"：{msg[-1]}" if msg else ""))
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, dst)
    return dst
