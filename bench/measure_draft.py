"""Measure the draft of the shipped example ledger and redraw its page images.

    python bench/measure_draft.py            # figures only
    python bench/measure_draft.py --images   # also docs/draft-page1.png and docs/draft-pages.png

Figures: characters of the draft (all, and without its 【请补充】 placeholders),
of the 第一责任人 part, the placeholders left, the PDF's pages (LibreOffice) and
how far any glyph reaches into the right margin (pdftotext -bbox), the ledger
template's printed pages (LibreOffice Calc).
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fazhi.draft.compose import compose, to_markdown  # noqa: E402
from fazhi.draft.pdf import soffice, to_pdf  # noqa: E402
from fazhi.draft.word import write_docx  # noqa: E402
from fazhi.ledger.reader import read_ledger  # noqa: E402
from fazhi.ledger.template import write_template  # noqa: E402

PT_PER_MM = 72 / 25.4
RIGHT = 595.28 - 26 * PT_PER_MM
HOLE = re.compile(r"【请补充[^【】]*】")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", action="store_true", help="write docs/draft-page1.png and docs/draft-pages.png")
    args = ap.parse_args()
    led = read_ledger(ROOT / "examples" / "ledger-example.xlsx")
    d = compose(led, led.basics["unit"], led.year, "township")
    md = to_markdown(d)
    text = "".join(b.text for b in d.blocks)
    i = next(k for k, b in enumerate(d.blocks) if b.kind == "h1" and "第一责任人" in b.text)
    j = next(k for k, b in enumerate(d.blocks) if k > i and b.kind == "h1")
    leader = "".join(b.text for b in d.blocks[i + 1:j])
    print(f"ledger rows: {sum(len(r) for r in led.records.values())} over {len(led.records)} sheets")
    print(f"draft characters: {len(text)} (without placeholders {len(HOLE.sub('', text))}); markdown {len(md)}")
    print(f"第一责任人 part: {len(leader)} characters (without placeholders {len(HOLE.sub('', leader))})")
    print(f"placeholders: {len(HOLE.findall(text))}: " + "；".join(m[5:-1][:12] for m in HOLE.findall(text)))
    if soffice() is None or shutil.which("pdftotext") is None:
        print("(no LibreOffice / pdftotext: no PDF figures)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pdf = to_pdf(write_docx(d, tmp / "draft.docx"), tmp / "draft.pdf")
        html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
        pages = html.count("<page ")
        worst = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', html))
        print(f"PDF pages: {pages}; furthest glyph {max(0.0, (worst - RIGHT) / PT_PER_MM):.2f} mm into the right margin")
        tpl = write_template(tmp / "template.xlsx", led.year)
        subprocess.run([soffice(), f"-env:UserInstallation={(tmp / 'p').as_uri()}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp), str(tpl)], capture_output=True, timeout=300)
        if (tmp / "template.pdf").exists():
            from pypdf import PdfReader

            print(f"ledger template printed: {len(PdfReader(str(tmp / 'template.pdf')).pages)} A4 pages")
        else:
            print("(no LibreOffice Calc: template pages not measured)")
        if args.images:
            _images(pdf, tmp)


def _images(pdf: Path, tmp: Path) -> None:
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp / "p1")], check=True)
    first = sorted(tmp.glob("p1*.png"))[0]
    Image.open(first).convert("RGB").quantize(colors=64).save(ROOT / "docs" / "draft-page1.png", optimize=True)
    subprocess.run(["pdftoppm", "-png", "-r", "36", str(pdf), str(tmp / "pg")], check=True)
    shots = [Image.open(p).convert("RGB") for p in sorted(tmp.glob("pg*.png"))]
    w, h = shots[0].size
    cols = 4
    rows = -(-len(shots) // cols)
    sheet = Image.new("RGB", (cols * (w + 12) + 12, rows * (h + 12) + 12), (200, 200, 200))
    for k, im in enumerate(shots):
        sheet.paste(im, (12 + (k % cols) * (w + 12), 12 + (k // cols) * (h + 12)))
    sheet.quantize(colors=64).save(ROOT / "docs" / "draft-pages.png", optimize=True)
    print("wrote docs/draft-page1.png, docs/draft-pages.png")


if __name__ == "__main__":
    main()
