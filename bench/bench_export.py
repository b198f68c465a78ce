#!/usr/bin/env python3
"""Time and peak memory of ``fazhi corpus export 汇总.xlsx`` (and ``--pdf``) on a corpus.

The workbook is written twice: the first export after ``corpus add`` brings the stored copy
shares and follow-through up to date (``corpus/derived.py``; the whole corpus when nothing is
stored yet), the second finds them current.  Then the sheets alone are built once more.

    python bench/gen_corpus.py /tmp/gen5k --n 5000
    fazhi corpus add /tmp/gen5k --db /tmp/b5k.db --workers 1
    python bench/bench_export.py /tmp/b5k.db [--pdf]

Each step runs in a child process of its own that prints its own peak RSS
(``ru_maxrss``); LibreOffice's is the largest of this process's children after it ran.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str, *args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if res.returncode:
        sys.exit(f"failed:\n{res.stdout}\n{res.stderr}")
    return dt, res.stdout.strip()


PEAK = "print(f'peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB')"
BUILD = ("import resource, sys, time; from fazhi.corpus import db, export; "
         "eng = db.connect(sys.argv[1], write=False); t = time.perf_counter(); "
         "sheets = export.build_sheets(eng); "
         "print(f'{time.perf_counter() - t:.1f} s, {len(sheets)} sheets, {sum(len(s.rows) for s in sheets):,} rows, ', end=''); "
         + PEAK)
EXPORT = ("import resource, sys; from fazhi.corpus import db, export; "
          "eng = db.connect(sys.argv[1], write=False); export.write_xlsx(eng, sys.argv[2]); " + PEAK)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("--pdf", action="store_true", help="also print the workbook with LibreOffice")
    a = ap.parse_args()
    fazhi = str(Path(sys.executable).with_name("fazhi"))
    with tempfile.TemporaryDirectory(prefix="fazhi-bench-export-") as tmp:
        out = Path(tmp, "汇总.xlsx")
        for what in ("first", "repeated"):
            dt, msg = run(EXPORT, a.db, str(out))
            print(f"xlsx ({what}): {dt:.1f} s, {msg}, {out.stat().st_size / 1e6:.1f} MB")
        dt, msg = run(BUILD, a.db)
        print(f"sheets built (stored analyses current): {msg}")
        if a.pdf:
            t0 = time.perf_counter()
            from fazhi.corpus.export import write_pdf

            pdf = write_pdf(out, timeout=3600)
            dt = time.perf_counter() - t0
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            import pypdf

            pages = len(pypdf.PdfReader(pdf).pages)
            print(f"pdf: {dt:.1f} s, {pages} pages, {pdf.stat().st_size / 1e6:.1f} MB, "
                  f"peak RSS of the largest child {kids:.0f} MB")


if __name__ == "__main__":
    main()
