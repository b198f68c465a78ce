""".zip packages given to ``corpus add``: members are read into memory, never extracted.

A collecting office receives a season's reports as one .zip.  ``members(path)``
opens it and yields each member's bytes under the name ``包.zip/成员.docx``:

- nothing is written to disk, so a member named ``../../etc/passwd`` or ``/x`` is
  only a name (shown with ``..`` and leading ``/`` removed);
- limits of ``fazhi.settings``: ``MAX_ZIP_MEMBERS`` files, ``MAX_ZIP_UNCOMPRESSED``
  bytes in all (counted on the bytes really read, not the header), each member at
  most ``MAX_BYTES``;
- a zip inside the zip is not opened (one level only): it is recorded as a failure;
- names without the zip's UTF-8 flag (Windows' zip tools write GBK) are decoded as
  GB18030 where that works, as ``fazhi.ingest.display_name`` does for file names;
- an encrypted or damaged member costs only itself; a package that cannot be
  opened, or is over the limits, costs only itself (``PackageError``).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .. import settings as _settings
from ..ingest import display_name

CHUNK = 1 << 20


class PackageError(Exception):
    """The whole package is refused (Chinese message)."""


@dataclass
class Member:
    name: str                  # 包.zip/成员.docx, as shown and stored
    data: bytes | None         # None when ``error``
    error: str | None = None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's path as a person should see it: GB18030 names decoded, no ``..``."""
    raw = info.filename
    if not info.flag_bits & 0x800:          # not flagged UTF-8: zipfile decoded it as cp437
        try:
            raw = display_name(info.filename.encode("cp437"))
        except UnicodeEncodeError:
            raw = display_name(info.filename)
    else:
        raw = display_name(raw)
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts)


def _human(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} 字节"


def members(path: str | Path, shown: str | None = None, *, max_bytes: int | None = None) -> Iterator[Member]:
    from .batch import is_junk

    shown = shown or display_name(path)
    max_members = _settings.get("MAX_ZIP_MEMBERS")
    max_total = _settings.get("MAX_ZIP_UNCOMPRESSED")
    max_bytes = int(max_bytes or _settings.get("MAX_BYTES"))
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise PackageError("压缩包已损坏或不是 zip 文件，无法打开") from None
    except OSError as e:
        raise PackageError(f"无法读取压缩包：{e.strerror or e}") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise PackageError(f"压缩包中的文件过多（{len(infos)} 个，上限 {max_members} 个），未展开")
        declared = sum(i.file_size for i in infos)
        if declared > max_total:
            raise PackageError(f"压缩包解压后过大（{_human(declared)}，上限 {_human(max_total)}），未展开")
        total = 0
        for info in infos:
            name = member_name(info)
            if not name or is_junk(name):
                continue
            full = f"{shown}/{name}"
            if name.lower().endswith(".zip"):
                yield Member(full, None, "压缩包中的压缩包不予展开（只展开一层），请先解压再入库")
                continue
            if info.flag_bits & 0x1:
                yield Member(full, None, "压缩包中的此文件已加密，无法读取")
                continue
            if info.file_size > max_bytes:
                yield Member(full, None, f"文件过大（{_human(info.file_size)}，上限 {_human(max_bytes)}），未分析")
                continue
            buf = bytearray()
            err = None
            try:
                with zf.open(info) as fh:
                    while True:
                        chunk = fh.read(CHUNK)
                        if not chunk:
                            break
                        buf += chunk
                        if len(buf) > max_bytes:
                            err = f"文件过大（超过 {_human(max_bytes)}），未分析"
                            break
                        if total + len(buf) > max_total:
                            raise PackageError(f"压缩包解压后过大（超过 {_human(max_total)}），其余文件未分析")
            except PackageError:
                raise
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as e:
                err = ("压缩包中的此文件已加密，无法读取" if "encrypt" in str(e).lower()
                       else "压缩包中的此文件已损坏，无法解压")
            except Exception:   # zlib.error, lzma errors…: a damaged member
                err = "压缩包中的此文件已损坏，无法解压"
            total += len(buf)
            yield Member(full, None if err else bytes(buf), err)
