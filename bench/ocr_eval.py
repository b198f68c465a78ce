#!/usr/bin/env python3
"""OCR accuracy on the dev reports rendered to image-only PDFs.

Each dev report (tests/data/dev/seed-*.txt and excerpt-*.txt) is

    LibreOffice headless (.txt -> PDF) -> pdftoppm (PDF -> PNG pages at --dpi)
    -> Pillow (PNG pages -> a PDF holding only the images, no text layer)

and that scan goes through ``fazhi.pipeline.analyze_bytes`` like any uploaded
file, i.e. through OCR (needs ``pip install fazhi[ocr]``).  Printed per file and
in all:

- character accuracy of the OCR'd text against the source text:
  1 - Levenshtein(source, OCR) / len(source), both NFKC-normalised with all
  whitespace removed (goal >= 99 %);
- facts F1 against the gold annotations (tests/data/dev/gold, scored by
  ``fazhi.evaluate`` like ``fazhi eval``) for the OCR'd version next to the
  text version (goal: within 0.02);
- paragraphs: how many source lines come out as one OCR paragraph (the
  layout rebuilt: reading order, wrapped lines joined, headings apart);
- seconds of OCR per page.

Debian packages: libreoffice-writer-nogui, poppler-utils, fonts-noto-cjk (or
fonts-wqy-zenhei).

    python bench/ocr_eval.py [--dpi 200] [--poor] [--only seed-000] [--keep DIR]
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    return "".join(c for c in s if not c.isspace())


def levenshtein(a: str, b: str) -> int:
    try:
        from rapidfuzz.distance import Levenshtein

        return Levenshtein.distance(a, b)
    except ImportError:  # a plain DP row by row (slow for long texts, but exact)
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]


def char_accuracy(source: str, ocr: str) -> tuple[float, int, int]:
    a, b = norm(source), norm(ocr)
    d = levenshtein(a, b)
    return max(0.0, 1 - d / max(1, len(a))), d, len(a)


def paragraph_recall(source: str, ocr: str) -> tuple[int, int]:
    """How many of the source's non-empty lines come out as one OCR paragraph
    (normalised as for the character accuracy, a line may differ by OCR errors
    of at most 2 % of its characters)."""
    from difflib import SequenceMatcher

    src = [norm(x) for x in source.splitlines() if norm(x)]
    out = [norm(x) for x in ocr.splitlines() if norm(x)]
    exact = set(out)
    hit = 0
    for ln in src:
        if ln in exact:
            hit += 1
            continue
        for o in out:
            if abs(len(o) - len(ln)) <= 0.02 * len(ln) + 1 and levenshtein(ln, o) <= 0.02 * len(ln):
                hit += 1
                break
    return hit, len(src)


def degrade(img, rnd):
    """A poorer scan: grey, slightly rotated, blurred, speckled, JPEG quality 60."""
    import numpy as np
    from PIL import Image, ImageFilter

    g = img.convert("L").rotate(rnd.uniform(-1.0, 1.0), resample=Image.BICUBIC, fillcolor=255)
    g = g.filter(ImageFilter.GaussianBlur(0.7))
    a = np.asarray(g, dtype=np.int16)
    a = a + np.random.default_rng(rnd.randrange(1 << 30)).normal(0, 12, a.shape).astype(np.int16)
    g = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    g.save(buf, "JPEG", quality=60)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def render(txts: list[Path], work: Path, dpi: int, poor: bool = False) -> dict[str, tuple[Path, int]]:
    """Text files -> image-only PDFs; {stem: (pdf, pages)}."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        sys.exit("需要 Debian 软件包 libreoffice-writer-nogui 和 poppler-utils "
                 "(apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk)")
    from PIL import Image

    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    for t in txts:
        shutil.copy(t, src / t.name)
    profile = work / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless",
         "--infilter=Text (encoded):UTF8,LF,,zh-CN", "--convert-to", "pdf",
         "--outdir", str(work / "pdf")] + [str(src / t.name) for t in txts],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    out = {}
    for t in txts:
        pdf = work / "pdf" / (t.stem + ".pdf")
        pages = work / "png" / t.stem
        pages.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(pages / "p")],
                       check=True, timeout=300)
        imgs = [Image.open(p).convert("RGB") for p in sorted(pages.glob("p-*.png"))]
        if poor:
            import random

            rnd = random.Random(t.stem)
            imgs = [degrade(im, rnd) for im in imgs]
        scan = work / "scan" / (t.stem + ".pdf")
        scan.parent.mkdir(exist_ok=True)
        imgs[0].save(scan, save_all=True, append_images=imgs[1:], resolution=float(dpi))
        out[t.stem] = (scan, len(imgs))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpi", type=int, default=200, help="pdftoppm resolution of the scan (default 200)")
    ap.add_argument("--poor", action="store_true",
                    help="degrade the scans: grey, rotated up to 1 degree, blurred, noisy, JPEG quality 60")
    ap.add_argument("--only", action="append", help="only files whose name contains this (repeatable)")
    ap.add_argument("--keep", help="keep the rendered files in this directory")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)

    import hashlib

    from fazhi.evaluate import Scores, score_one
    from fazhi.ingest import ocr, read_bytes
    from fazhi.model import Source
    from fazhi.pipeline import analyze_bytes, analyze_raw

    if not ocr.available():
        sys.exit("OCR 组件未安装：pip install fazhi[ocr]")
    txts = sorted(DEV.glob("seed-*.txt")) + sorted(DEV.glob("excerpt-*.txt"))
    if args.only:
        txts = [t for t in txts if any(o in t.name for o in args.only)]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fazhi-ocr-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    scans = render(txts, work, args.dpi, args.poor)
    print(f"rendered {len(scans)} reports, {sum(n for _, n in scans.values())} pages "
          f"at {args.dpi} dpi{' (degraded)' if args.poor else ''} in {time.perf_counter() - t0:.1f} s", flush=True)

    text_scores, ocr_scores = Scores(), Scores()
    total_d = total_n = 0
    total_ph = total_pn = 0
    total_pages = 0
    total_sec = 0.0
    rows = []
    print(f"{'file':<14} {'pages':>5} {'s/page':>6} {'char acc':>9} {'paras':>7} {'facts F1 text':>13} "
          f"{'facts F1 OCR':>12}  note")
    for t in txts:
        scan, pages = scans[t.stem]
        gold_path = DEV / "gold" / (t.stem + ".json")
        gold = json.loads(gold_path.read_text(encoding="utf-8")) if gold_path.exists() else None
        text_rep = analyze_bytes(t.read_bytes(), t.name)
        t1 = time.perf_counter()
        data = scan.read_bytes()
        raw = read_bytes(data, "pdf")  # what the OCR read, before cleaning
        sec = time.perf_counter() - t1
        raw_ocr = raw.text
        ocr_rep = analyze_raw(raw, Source(path=t.stem + ".pdf", format="pdf",
                                          sha256=hashlib.sha256(data).hexdigest()))
        acc, d, n = char_accuracy(t.read_text(encoding="utf-8"), raw_ocr)
        ph, pn = paragraph_recall(t.read_text(encoding="utf-8"), raw_ocr)
        total_ph, total_pn = total_ph + ph, total_pn + pn
        total_d, total_n = total_d + d, total_n + n
        total_pages += pages
        total_sec += sec
        f_text = f_ocr = None
        if gold is not None:
            score_one(text_scores, t.stem, gold, text_rep.to_dict())
            score_one(ocr_scores, t.stem, gold, ocr_rep.to_dict())
            f_text = text_scores.per_file[t.stem]["facts"][2]
            f_ocr = ocr_scores.per_file[t.stem]["facts"][2]
        note = "OCR note" if any(f.rule == "ingest.note" and ocr.OCR_NOTE in f.message for f in ocr_rep.findings) else "NO OCR NOTE"
        print(f"{t.stem:<14} {pages:>5} {sec / pages:>6.1f} {acc:>9.2%} {f'{ph}/{pn}':>7} "
              f"{'' if f_text is None else f'{f_text:.3f}':>13} {'' if f_ocr is None else f'{f_ocr:.3f}':>12}  {note}",
              flush=True)
        rows.append({"file": t.stem, "pages": pages, "seconds": round(sec, 2), "char_accuracy": round(acc, 5),
                     "edits": d, "chars": n, "paragraphs": [ph, pn], "facts_f1_text": f_text, "facts_f1_ocr": f_ocr})
        (work / "ocr-text").mkdir(exist_ok=True)
        (work / "ocr-text" / (t.stem + ".txt")).write_text(raw_ocr, encoding="utf-8")

    acc = 1 - total_d / max(1, total_n)
    ft, fo = text_scores.facts_prf, ocr_scores.facts_prf
    print()
    print(f"character accuracy (all {total_n} characters): {acc:.2%}  ({total_d} edits)   goal >= 99 %")
    print(f"paragraphs: {total_ph} of {total_pn} source lines come out as one OCR paragraph "
          f"({total_ph / max(1, total_pn):.1%})")
    print(f"facts P/R/F1 text version: {ft[0]:.3f} / {ft[1]:.3f} / {ft[2]:.3f}")
    print(f"facts P/R/F1 OCR version:  {fo[0]:.3f} / {fo[1]:.3f} / {fo[2]:.3f}   "
          f"difference {ft[2] - fo[2]:+.3f}   goal: within 0.02")
    print(f"parts F1 text {text_scores.parts_prf[2]:.3f}, OCR {ocr_scores.parts_prf[2]:.3f}; "
          f"metadata accuracy text {text_scores.meta_acc:.3f}, OCR {ocr_scores.meta_acc:.3f}")
    print(f"OCR time: {total_sec:.0f} s for {total_pages} pages ({total_sec / max(1, total_pages):.1f} s a page)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "dpi": args.dpi, "char_accuracy": acc, "edits": total_d, "chars": total_n,
            "paragraphs": [total_ph, total_pn],
            "facts_text": ft, "facts_ocr": fo, "parts_f1_text": text_scores.parts_prf[2],
            "parts_f1_ocr": ocr_scores.parts_prf[2], "meta_acc_text": text_scores.meta_acc,
            "meta_acc_ocr": ocr_scores.meta_acc, "seconds": total_sec, "pages": total_pages, "files": rows,
        }, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
