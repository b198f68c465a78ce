#!/usr/bin/env python3
"""Ingest speed as ratios measured in one run: the same report as .docx and as text,
PDF reflow against the number of lines, and peak memory of reading a large .docx.

- ``docx / text``: ``analyze_bytes`` of a report built as a Word document (heading
  styles, bold runs, a table per section) over ``analyze_bytes`` of the same text
  as .txt; ingest alone (``read_bytes``) too.  Small (the three seed reports) and
  large (the seeds repeated to ~400 K characters).
- ``reflow``: ``fazhi.ingest.layout.reflow`` (or the old ``ingest.pdf.reflow``) on
  1,000 and 8,000 visual lines of one long paragraph; linear means the time per
  line stays flat (ratio of the two per-line times ~1).
- ``pdf pages``: a text PDF of one continuous paragraph over N pages through
  ``read_bytes``: seconds per page at 20 and 160 pages.
- ``docx memory``: peak RSS (``ru_maxrss`` of a child process) reading the large
  .docx, against the same child reading the same text.

    python bench/bench_ingest.py [--quick]
"""
from __future__ import annotations

import argparse
import html
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
SEEDS = ["seed-000", "seed-002", "seed-004"]
HEAD1 = re.compile(r"^[一二三四五六七八九十]+、")
HEAD2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")


def _lines(name: str) -> list[str]:
    return [x.strip() for x in (DEV / f"{name}.txt").read_text(encoding="utf-8").splitlines() if x.strip()]


def docx_of(lines: list[str]) -> bytes:
    from docx import Document

    d = Document()
    for k, s in enumerate(lines):
        if HEAD1.match(s) and len(s) < 60:
            d.add_heading(s, level=1)
            t = d.add_table(rows=3, cols=2)
            for i, row in enumerate([["指标", "数量"], ["行政复议案件", f"{k + 3}件"], ["调解纠纷", f"{k + 7}件"]]):
                for j, v in enumerate(row):
                    t.cell(i, j).text = v
        elif HEAD2.match(s) and len(s) < 40:
            d.add_heading(s, level=2)
        else:
            p = d.add_paragraph()
            half = len(s) // 2
            p.add_run(s[:half]).bold = k % 5 == 0
            p.add_run(s[half:]).bold = k % 5 == 0
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_docx(repeat: int, big_chars: int) -> dict:
    from fazhi.ingest import read_bytes
    from fazhi.pipeline import analyze_bytes

    small = [(docx_of(_lines(n)), "\n".join(_lines(n)).encode("utf-8")) for n in SEEDS]
    lines = [ln for n in SEEDS for ln in _lines(n)]
    big_lines: list[str] = []
    while sum(map(len, big_lines)) < big_chars:
        big_lines += lines
    big = (docx_of(big_lines), "\n".join(big_lines).encode("utf-8"))
    out = {}
    for label, pairs, rep in (("small", small, repeat), ("large", [big], max(1, repeat // 3))):
        for what, fn in (("ingest", lambda d, f: read_bytes(d, f)),
                         ("analyze", lambda d, f: analyze_bytes(d, "x." + f))):
            td = sum(_best(lambda: fn(dx, "docx"), rep) for dx, _ in pairs)
            tt = sum(_best(lambda: fn(tx, "txt"), rep) for _, tx in pairs)
            out[f"{label} {what}"] = (td, tt, td / tt)
    out["_big"] = big
    return out


def bench_reflow() -> dict:
    try:
        from fazhi.ingest.layout import reflow
    except ImportError:
        from fazhi.ingest.pdf import reflow
    full = "一二三四五六七八九十" * 3
    res = {}
    for n in (1000, 8000):
        lines = [full[:28] for _ in range(n)]
        res[n] = _best(lambda: reflow(lines), 2)
    return res


def pdf_pages(n_pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    st = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK")
    text = "".join(ln.rstrip("。；") + "，" for ln in _lines("seed-002") if len(ln) > 20)
    para = (text * (n_pages * 1400 // len(text) + 1))[: n_pages * 1300]
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4).build([Paragraph(html.escape(para), st)])
    return buf.getvalue()


def bench_pdf(sizes=(20, 160)) -> dict:
    from fazhi.ingest import read_bytes

    res = {}
    for n in sizes:
        data = pdf_pages(n)
        import pypdf

        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        res[pages] = _best(lambda: read_bytes(data, "pdf"), 1)
    return res


_CHILD = """
import resource, sys
from fazhi.ingest import read_bytes
data = open(sys.argv[1], 'rb').read()
doc = read_bytes(data, sys.argv[2])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(doc.text))
"""


def peak_rss(data: bytes, fmt: str, tmp: Path) -> tuple[int, int]:
    p = tmp / f"big.{fmt}"
    p.write_bytes(data)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(p), fmt], capture_output=True, text=True, check=True)
    kb, n = out.stdout.split()
    return int(kb) // 1024, int(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller inputs")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    import tempfile

    rep = 3 if a.quick else 7
    print("fazhi ingest benchmark (one process; ratios within this run)")
    d = bench_docx(rep, 150_000 if a.quick else 400_000)
    big_docx, big_txt = d.pop("_big")
    for k, (td, tt, r) in d.items():
        print(f"  docx / text, {k:<14}: {td * 1000:9.1f} ms / {tt * 1000:8.1f} ms = {r:5.2f}x")
    rf = bench_reflow()
    per = {n: t / n * 1e6 for n, t in rf.items()}
    print(f"  reflow 1,000 lines: {rf[1000]:.3f} s; 8,000 lines: {rf[8000]:.3f} s "
          f"(per line {per[1000]:.1f} / {per[8000]:.1f} us: ratio {per[8000] / per[1000]:.2f})")
    pp = bench_pdf((10, 40) if a.quick else (20, 160))
    (n1, t1), (n2, t2) = sorted(pp.items())
    print(f"  pdf one paragraph: {n1} pages {t1:.2f} s, {n2} pages {t2:.2f} s "
          f"(per page {t1 / n1 * 1000:.0f} / {t2 / n2 * 1000:.0f} ms: ratio {(t2 / n2) / (t1 / n1):.2f})")
    with tempfile.TemporaryDirectory() as tmp:
        m_docx, n_docx = peak_rss(big_docx, "docx", Path(tmp))
        m_txt, n_txt = peak_rss(big_txt, "txt", Path(tmp))
    print(f"  peak RSS reading the large report: docx {m_docx} MB ({len(big_docx) // 1024} KB file, "
          f"{n_docx:,} chars), txt {m_txt} MB: ratio {m_docx / m_txt:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps({
            "docx_text": {k: v[2] for k, v in d.items()}, "reflow_s": rf, "pdf_s": pp,
            "rss_mb": {"docx": m_docx, "txt": m_txt}}, indent=1))


if __name__ == "__main__":
    main()
