#!/usr/bin/env python3
"""Fuzz the readers: mutated bytes of every supported format through the whole
analysis (``fazhi.pipeline.analyze_bytes``), counting the outcomes.

Seeds are built here from the dev reports: txt in UTF-8 and GBK, markdown,
a portal-style HTML page, a .docx (python-docx: headings, bold, a table), a
text PDF (reportlab, CID font) and, with ``--ocr``, PNG/JPEG scans.  Each case
is a seed mutated by one to four operators, some blind (bit flips, byte runs,
truncation, splices, "interesting" values), some structure-aware (the docx's
XML parts mutated and re-zipped, the PDF's numbers and keywords changed, HTML
tags inserted/unbalanced/nested, text re-encoded).  Every case runs in a worker
process under a per-case time budget.

Outcomes:  ok (a report), IngestError (a clean Chinese message: counted, and
any message without Chinese characters is listed), UNHANDLED (any other
exception: must be 0), TIMEOUT (over the budget: must be 0).  Failing inputs are
saved to --save for replay (``--replay FILE``).

    python bench/fuzz_ingest.py [--cases 12000] [--budget 20] [--workers 2] [--seed 1]
    python bench/fuzz_ingest.py --ocr --cases 300        # scans routed through OCR too
"""
from __future__ import annotations

import argparse
import io
import os
import random
import re
import signal
import sys
import time
import traceback
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, TimeoutError as FutureTimeout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "dev"
HAN = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------ seeds


def _report_lines() -> list[str]:
    text = (DEV / "seed-004.txt").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[:40]


def _docx(lines: list[str]) -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = lines[0][:60]
    d.add_heading(lines[0][:60], level=1)
    for i, ln in enumerate(lines[1:25]):
        if re.match(r"^[一二三四五六七八九十]+、", ln):
            d.add_heading(ln[:60], level=2)
        else:
            p = d.add_paragraph()
            r = p.add_run(ln)
            r.bold = i % 7 == 0
    t = d.add_table(rows=3, cols=3)
    for i, row in enumerate(t.rows):
        for j, cell in enumerate(row.cells):
            cell.text = f"调解纠纷{i * 3 + j}件"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pdf(lines: list[str]) -> bytes:
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.platypus import Paragraph, SimpleDocTemplate
    except ImportError:  # a minimal hand-made PDF (Latin text) when reportlab is missing
        body = b"BT /F1 12 Tf 72 720 Td (2022 report 222) Tj ET"
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>",
                b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
        out = b"%PDF-1.4\n"
        offs = []
        for i, o in enumerate(objs, 1):
            offs.append(len(out))
            out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        out += b"".join(b"%010d 00000 n \n" % o for o in offs)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
        return out
    import html

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    st = ParagraphStyle("b", fontName="STSong-Light", fontSize=12, leading=20, wordWrap="CJK", firstLineIndent=24)
    buf = io.BytesIO()

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 10)
        canvas.drawCentredString(A4[0] / 2, 30, f"— {doc.page} —")

    SimpleDocTemplate(buf, pagesize=A4).build([Paragraph(html.escape(ln), st) for ln in lines[:14]],
                                              onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _html(lines: list[str]) -> bytes:
    import html

    body = "".join(f"<h2>{html.escape(ln)}</h2>" if re.match(r"^[一二三四五六七八九十]+、", ln)
                   else f"<p>{html.escape(ln)}</p>" for ln in lines[1:30])
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(lines[0])}_某某区人民政府门户网站</title>
<script>var x = "<p>not text</p>";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="nav"><a href="/">首页</a> &gt; 政务公开</div>
<table class="meta"><tr><td>索引号：</td><td>11500000MB1234567X/2023-00012</td><td>发布机构：</td><td>某某区司法局</td></tr>
<tr><td>成文日期：</td><td>2023-01-05</td><td>发布时间：</td><td>2023-01-06 10:00</td></tr></table>
<h1>{html.escape(lines[0])}</h1><div class="content">{body}</div>
<div class="footer">版权所有：某某区人民政府 ICP备12345678号</div></body></html>"""
    return page.encode("utf-8")


def _image(lines: list[str], fmt: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = None
    for f in ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"):
        if os.path.exists(f):
            font = ImageFont.truetype(f, 28)
            break
    img = Image.new("RGB", (900, 200), "white")
    dr = ImageDraw.Draw(img)
    for i, ln in enumerate(lines[1:4]):
        dr.text((30, 20 + 55 * i), ln[:28], fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def build_seeds(with_images: bool) -> dict[str, tuple[str, bytes]]:
    lines = _report_lines()
    text = "\n".join(lines)
    seeds = {
        "txt-utf8": ("seed.txt", text.encode("utf-8")),
        "txt-gbk": ("seed.txt", text.encode("gb18030", "replace")),
        "md": ("seed.md", ("# " + lines[0] + "\n\n" + "\n\n".join(
            ("## " + ln) if re.match(r"^[一二三四五六七八九十]+、", ln) else ln for ln in lines[1:])).encode("utf-8")),
        "html": ("seed.html", _html(lines)),
        "docx": ("seed.docx", _docx(lines)),
        "pdf": ("seed.pdf", _pdf(lines)),
    }
    if with_images:
        seeds["png"] = ("seed.png", _image(lines, "PNG"))
        seeds["jpg"] = ("seed.jpg", _image(lines, "JPEG"))
    return seeds


# ------------------------------------------------------------------ mutators

INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"<", b">", b"&", b"\"", b"'", b"\r", b"\n", b"%%EOF", b"obj",
               b"endobj", b"stream", b"endstream", b"R", b"/Length 99999999", b"-1", b"4294967296", b"999999999",
               b"<<", b">>", b"[", b"]", b"\xef\xbb\xbf", b"\xfe\xff", b"\xe4\xb8", b"\xa1\xa1", b"<div>", b"</div>",
               b"<table>", b"<br>", b"<!--", b"-->", b"<![CDATA[", b"&#x0;", b"&#99999999;", "（一）".encode(),
               "一、".encode(), "万元".encode(), "百分之".encode(), "二〇二三年".encode()]


def m_bitflip(rnd, d, _):
    if not d:
        return d
    b = bytearray(d)
    for _ in range(rnd.randint(1, 16)):
        i = rnd.randrange(len(b))
        b[i] ^= 1 << rnd.randrange(8)
    return bytes(b)


def m_bytes(rnd, d, _):
    b = bytearray(d)
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(len(b) + 1)
        b[i:i + rnd.randint(0, 8)] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
    return bytes(b)


def m_interesting(rnd, d, _):
    b = bytearray(d)
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(b) + 1)
        v = rnd.choice(INTERESTING)
        if rnd.random() < 0.5:
            b[i:i] = v * rnd.choice((1, 1, 2, 50))
        else:
            b[i:i + len(v)] = v
    return bytes(b)


def m_truncate(rnd, d, _):
    return d[: rnd.randrange(len(d) + 1)] if d else d


def m_delete(rnd, d, _):
    if len(d) < 2:
        return d
    i = rnd.randrange(len(d))
    return d[:i] + d[i + rnd.randint(1, min(4096, len(d) - i)):]


def m_duplicate(rnd, d, _):
    if not d:
        return d
    i = rnd.randrange(len(d))
    chunk = d[i:i + rnd.randint(1, 2048)]
    j = rnd.randrange(len(d) + 1)
    return d[:j] + chunk * rnd.choice((1, 2, 10)) + d[j:]


def m_splice(rnd, d, others):
    o = rnd.choice(others)
    if not o or not d:
        return d
    i, j = rnd.randrange(len(d) + 1), rnd.randrange(len(o))
    return d[:i] + o[j:j + rnd.randint(1, 4096)] + d[i:]


def m_numbers(rnd, d, _):
    """Change ASCII numbers (PDF offsets, lengths, counts, object numbers)."""
    nums = list(re.finditer(rb"\d+", d[:200000]))
    if not nums:
        return d
    b = d
    for m in sorted(rnd.sample(nums, min(len(nums), rnd.randint(1, 6))), key=lambda m: -m.start()):
        new = rnd.choice([b"0", b"1", b"-1", b"99999999", b"4294967297", str(int(m.group()) + rnd.randint(-3, 3)).encode()])
        b = b[:m.start()] + new + b[m.end():]
    return b


def m_pdf_keywords(rnd, d, _):
    kws = [b"/Type", b"/Pages", b"/Kids", b"/Count", b"/Contents", b"/Length", b"/Filter", b"/FlateDecode",
           b"/Root", b"/Encrypt", b"/Parent", b"/Font", b"/ToUnicode", b"/Resources", b"/MediaBox", b"xref",
           b"trailer", b"startxref", b"/Prev", b"/ObjStm", b"/XRef", b"/Annots", b"/Outlines"]
    b = d
    for _ in range(rnd.randint(1, 4)):
        k = rnd.choice(kws)
        i = b.find(k, rnd.randrange(max(1, len(b))))
        if i < 0:
            i = b.find(k)
        if i < 0:
            continue
        b = b[:i] + rnd.choice(kws + [b"", b"/Foo", b"null", b"[", b"<<"]) + b[i + len(k):]
    return b


def m_html_tags(rnd, d, _):
    tags = [b"<div>", b"</div>", b"<p>", b"</p>", b"<table><tr><td>", b"</td></tr></table>", b"<b>", b"</b>",
            b"<h1>", b"</h1>", b"<script>", b"</script>", b"<!--", b"<br/>", b"<li>", b"<font>", b"<span>",
            b"<meta charset='big5'>", b"<meta charset='utf-16'>", b"<?xml version='1.0' encoding='gbk'?>",
            b"<title>", b"</title>", b"<td>\xe7\xb4\xa2\xe5\xbc\x95\xe5\x8f\xb7\xef\xbc\x9a</td>"]
    b = bytearray(d)
    for _ in range(rnd.randint(1, 10)):
        i = rnd.randrange(len(b) + 1)
        b[i:i] = rnd.choice(tags) * rnd.choice((1, 1, 3, 300))
    return bytes(b)


def m_reencode(rnd, d, _):
    try:
        s = d.decode("utf-8")
    except UnicodeDecodeError:
        return d
    codec = rnd.choice(["gb18030", "big5", "utf-16", "utf-16-le", "utf-32", "shift_jis", "latin-1", "utf-8-sig"])
    return s.encode(codec, "replace")


def m_zip_parts(rnd, d, _):
    """Unzip, mutate an XML part (or drop/add/bomb one), zip again: the XML parsers get the bytes."""
    try:
        zin = zipfile.ZipFile(io.BytesIO(d))
        items = [(i.filename, zin.read(i)) for i in zin.infolist()]
    except Exception:  # noqa: BLE001 - already broken: a blind mutation instead
        return m_bytes(rnd, d, _)
    op = rnd.random()
    if op < 0.1 and items:
        items.pop(rnd.randrange(len(items)))
    elif op < 0.15:
        items.append(("word/media/big.bin", b"\0" * rnd.choice((10, 1 << 20))))
    else:
        k = rnd.randrange(len(items))
        name, data = items[k]
        if name == "word/document.xml" or rnd.random() < 0.3:
            pass
        else:
            k = next((i for i, (n, _) in enumerate(items) if n == "word/document.xml"), k)
            name, data = items[k]
        sub = rnd.choice([m_bytes, m_interesting, m_truncate, m_delete, m_duplicate, m_html_tags])
        r = rnd.random()
        if r < 0.45:  # well-formed: balanced fragments at tag boundaries, odd attribute values
            frags = ["<w:p><w:r><w:t>一、测</w:t></w:r></w:p>".encode(),
                     b"<w:p><w:pPr><w:pStyle w:val=\"Heading9\"/><w:outlineLvl w:val=\"-5\"/></w:pPr></w:p>",
                     b"<w:r><w:rPr><w:b w:val=\"maybe\"/></w:rPr><w:t xml:space=\"preserve\"> </w:t></w:r>",
                     b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
                     b"<w:tbl></w:tbl>", b"<w:tr><w:tc/></w:tr>", b"<w:sdt><w:sdtContent><w:r><w:t>x</w:t></w:r></w:sdtContent></w:sdt>",
                     b"<w:p>" * 60 + b"</w:p>" * 60, b"<w:hyperlink r:id=\"rId999\"><w:r><w:t>y</w:t></w:r></w:hyperlink>",
                     b"<w:br/>", b"<w:tab/>", b"<w:sectPr/>", b"<foo:bar xmlns:foo=\"urn:x\"/>"]
            cuts = [m.end() for m in re.finditer(rb">", data)] or [len(data)]
            for _ in range(rnd.randint(1, 5)):
                i = rnd.choice(cuts)
                data = data[:i] + rnd.choice(frags) + data[i:]
                cuts = [c for c in cuts if c <= i] or cuts
            if rnd.random() < 0.3:
                data = re.sub(rb'w:val="[^"]*"', lambda m: rnd.choice([m.group(), b'w:val=""', b'w:val="999999"',
                                                                        b'w:val="Heading1"', b'w:val="\xe6\xa0\x87\xe9\xa2\x98 1"']), data)
        elif r < 0.6:  # XML-aware: deep nesting, entities, broken namespaces
            extra = rnd.choice([b"<w:p><w:r><w:t>" * 300, b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
                                b"&a;" * 100, b"xmlns:w=\"urn:x\"", b"<w:tbl><w:tr><w:tc>" * 50,
                                b"<w:pStyle w:val=\"Heading1\"/>", b"<w:b/>" * 20, b"<w:outlineLvl w:val=\"9\"/>"])
            i = rnd.randrange(len(data) + 1)
            data = data[:i] + extra + data[i:]
        else:
            data = sub(rnd, data, _)
        items[k] = (name, data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            z.writestr(name, data)
    return buf.getvalue()


BLIND = [m_bitflip, m_bytes, m_interesting, m_truncate, m_delete, m_duplicate, m_splice]
AWARE = {
    "txt-utf8": [m_reencode, m_interesting],
    "txt-gbk": [m_interesting],
    "md": [m_reencode, m_interesting],
    "html": [m_html_tags, m_html_tags, m_reencode],
    "docx": [m_zip_parts, m_zip_parts, m_zip_parts],
    "pdf": [m_numbers, m_pdf_keywords, m_numbers],
    "png": [], "jpg": [],
}


def mutate(rnd: random.Random, kind: str, data: bytes, others: list[bytes]) -> bytes:
    ops = BLIND + AWARE.get(kind, []) * 2
    for _ in range(rnd.choice((1, 1, 1, 2, 2, 3, 4))):
        data = rnd.choice(ops)(rnd, data, others)
    return data


# ------------------------------------------------------------------ running


class _Budget(BaseException):
    pass


def _alarm(signum, frame):
    raise _Budget()


_WORKER_OCR = False


def _init(ocr_on: bool) -> None:
    global _WORKER_OCR
    _WORKER_OCR = ocr_on
    signal.signal(signal.SIGALRM, _alarm)
    import fazhi.pipeline  # noqa: F401 - warm imports once per worker
    from fazhi.ingest import ocr

    if not ocr_on:
        ocr.available = lambda: False  # scans get the 扫描件 message, not minutes of OCR


def run_case(name: str, data: bytes, budget: float) -> tuple[str, str]:
    from fazhi.ingest import IngestError
    from fazhi.pipeline import analyze_bytes

    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        analyze_bytes(data, name)
        return "ok", ""
    except IngestError as e:
        return "ingest", str(e)
    except _Budget:
        return "timeout", f"over {budget:g} s"
    except RecursionError:
        return "unhandled", "RecursionError\n" + traceback.format_exc(limit=-8)
    except MemoryError:
        return "unhandled", "MemoryError"
    except Exception as e:  # noqa: BLE001
        return "unhandled", f"{type(e).__name__}: {e}\n" + traceback.format_exc(limit=-8)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_chunk(cases: list[tuple[int, str, str, bytes]], budget: float) -> list[tuple[int, str, str, str, float]]:
    out = []
    for idx, kind, name, data in cases:
        t = time.perf_counter()
        res, detail = run_case(name, data, budget)
        out.append((idx, kind, res, detail, time.perf_counter() - t))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=12000, help="number of mutated inputs (default 12000)")
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per case before it counts as a hang")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ocr", action="store_true", help="route scans through OCR and add PNG/JPEG seeds")
    ap.add_argument("--save", default="fuzz-failures", help="directory for inputs that failed")
    ap.add_argument("--replay", help="run one saved input in this process and show the traceback")
    args = ap.parse_args(argv)

    if args.replay:
        from fazhi.pipeline import analyze_bytes

        p = Path(args.replay)
        analyze_bytes(p.read_bytes(), p.name.split("__", 1)[-1])
        print("ok")
        return 0

    seeds = build_seeds(args.ocr)
    if args.ocr:
        from fazhi.ingest import ocr

        if not ocr.available():
            sys.exit("--ocr: OCR 组件未安装（pip install fazhi[ocr]）")
    rnd = random.Random(args.seed)
    kinds = list(seeds)
    blobs = [d for _, d in seeds.values()]
    # the seeds themselves first: they must analyse
    cases = [(i, k, seeds[k][0], seeds[k][1]) for i, k in enumerate(kinds)]
    while len(cases) < args.cases:
        k = kinds[len(cases) % len(kinds)]
        name, data = seeds[k]
        cases.append((len(cases), k, name, mutate(rnd, k, data, blobs)))
    print(f"{len(cases)} cases from {len(kinds)} seeds ({', '.join(f'{k} {len(seeds[k][1]):,} B' for k in kinds)}); "
          f"budget {args.budget:g} s a case; OCR {'on' if args.ocr else 'off'}", flush=True)

    counts: Counter = Counter()
    by_kind: dict[str, Counter] = {k: Counter() for k in kinds}
    messages: Counter = Counter()
    not_chinese: list[str] = []
    failures: list[tuple[int, str, str, str]] = []
    slowest: list[tuple[float, int, str]] = []
    save = Path(args.save)
    chunk = 25
    chunks = [cases[i:i + chunk] for i in range(0, len(cases), chunk)]
    t0 = time.perf_counter()
    done = 0

    def record(results):
        nonlocal done
        for idx, kind, res, detail, sec in results:
            done += 1
            counts[res] += 1
            by_kind[kind][res] += 1
            slowest.append((sec, idx, kind))
            if res == "ingest":
                messages[re.sub(r"\d+(\.\d+)?", "N", detail)[:60]] += 1
                if not HAN.search(detail):
                    not_chinese.append(detail)
            elif res in ("unhandled", "timeout"):
                failures.append((idx, kind, res, detail))
                save.mkdir(parents=True, exist_ok=True)
                c = cases[idx]
                (save / f"{idx:06d}__{c[2]}").write_bytes(c[3])

    pending = list(chunks)
    while pending:
        ex = ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.ocr,))
        futs = {ex.submit(run_chunk, c, args.budget): c for c in pending}
        pending = []
        broken = False
        for f, c in futs.items():
            try:
                record(f.result(timeout=None if broken else args.budget * (len(c) + 4)))
            except FutureTimeout:  # stuck in C code beyond the alarm: the chunk's worker is killed
                broken = True
                for idx, kind, name, data in c:
                    record([(idx, kind, "timeout", "worker stuck (alarm could not interrupt)", args.budget)])
            except Exception as e:  # noqa: BLE001 - a worker died (segfault, os._exit)
                for idx, kind, name, data in c:
                    record([(idx, kind, "unhandled", f"worker died: {type(e).__name__}", 0.0)])
            if done and done % 1000 < chunk:
                el = time.perf_counter() - t0
                print(f"  {done:>6} cases  {el:6.0f} s  ok {counts['ok']}  IngestError {counts['ingest']}  "
                      f"UNHANDLED {counts['unhandled']}  TIMEOUT {counts['timeout']}", flush=True)
            if broken:
                break
        if broken:
            for p in ex._processes.values():  # noqa: SLF001 - kill the stuck workers
                p.kill()
            pending = [c for f, c in futs.items() if not f.done()]
        ex.shutdown(wait=False, cancel_futures=True)

    el = time.perf_counter() - t0
    print()
    print(f"cases: {done}   time: {el:.0f} s ({done / el:.0f} cases/s)")
    print(f"ok: {counts['ok']}   IngestError (clean Chinese message): {counts['ingest']}   "
          f"UNHANDLED: {counts['unhandled']}   TIMEOUT: {counts['timeout']}")
    print("by format: " + "; ".join(f"{k} {sum(c.values())} (ok {c['ok']}, IngestError {c['ingest']}, "
                                    f"unhandled {c['unhandled']}, timeout {c['timeout']})" for k, c in by_kind.items()))
    print("most frequent messages:")
    for m, n in messages.most_common(12):
        print(f"  {n:>6}  {m}")
    slowest.sort(reverse=True)
    print("slowest cases: " + ", ".join(f"#{i} {k} {s:.1f}s" for s, i, k in slowest[:5]))
    if not_chinese:
        print(f"IngestError messages without Chinese: {len(not_chinese)}: {not_chinese[:5]}")
    for idx, kind, res, detail in failures[:20]:
        print(f"--- case {idx} ({kind}) {res}: saved to {save}/{idx:06d}__{cases[idx][2]}\n{detail}")
    return 1 if counts["unhandled"] or counts["timeout"] or not_chinese else 0


if __name__ == "__main__":
    sys.exit(main())
