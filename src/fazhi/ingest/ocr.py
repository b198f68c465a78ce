"""OCR for scanned reports: PDFs without a text layer, and images.

Optional: ``pip install fazhi[ocr]`` brings rapidocr (its PP-OCR detection and
recognition models are ONNX files inside the wheel, so nothing is downloaded at
run time), onnxruntime, pypdfium2 (renders PDF pages) and Pillow.  Without them
``available()`` is False and the callers keep their clear "扫描件" message.

Pages -> text
- A PDF page is rendered at ``RENDER_DPI`` (pixels capped by ``settings.MAX_IMAGE_PIXELS``);
  an image is used as it is (every frame of a multi-page TIFF is a page).
- rapidocr gives one box per text line segment: a quadrilateral, the text and a
  score.  The direction classifier is off (it turns good upright lines upside
  down); instead a page whose boxes are mostly tall, or where over 30 % of the
  lines score under 0.5 or hold far fewer characters than their length allows,
  is tried turned by 90/270 or 180 degrees and the best reading is kept.  Lines scoring under 0.5 are then dropped.
- Spaces the recogniser drops ("2022-11-2112:21", "索取号AC6040203") are put
  back where the per-character boxes show a gap (see ``_line_text``).

Lines -> paragraphs (``assemble``, pure geometry, tested without the models)
- Slant: a page scanned askew is turned level by the median angle of its lines.
- Stamp: boxes tilted against the page (the arc of a round seal) and red boxes
  that overlap other text or sit as short fragments right of the middle are dropped.
- Boxes on one baseline form a row; a wide gap inside a row becomes a space,
  a very wide one a tab (table cells, "发布时间：… 来源：…").
- Columns: a vertical gutter that text-like boxes keep clear on many rows splits
  the page; a box crossing it (a title) starts a new band; bands are read top to
  bottom, columns left to right.
- Header/footer: page numbers ("— 3 —", "-3-", "第3页", "3/10") among the two
  top or bottom rows, and a top/bottom row repeated on most pages, are dropped.
- A row starts a new paragraph when it is indented (first-line indent), when the
  row before ends short of the right margin, after a wider vertical gap, at a
  heading number (一、 （一） 1. …), or when either row stands alone: centred
  (a title), taller than the body, a table row (cells apart), or starting
  right of the middle (the signing unit and date under the text), so a
  signature block never merges into the body.  A paragraph carries on across a page or column break when
  the row before reaches the margin and the next one is not indented.

Everything this module returns is a ``RawDoc`` of format "pdf" (the report
contract has no image format) with the note ``OCR_NOTE``.
"""
from __future__ import annotations

import contextvars
import io
import math
import os
import re
import statistics
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .. import settings
from . import IngestError, RawDoc, quiet
from .layout import PAGE_NO, Line, reflow_rows

OCR_NOTE = "本文由 OCR 识别，可能有识别错误"
INSTALL_HINT = "pip install fazhi[ocr]"
IMAGE_NEEDS_OCR = f"图片文件需要安装 OCR 组件：{INSTALL_HINT}"

# limits: settings.MAX_OCR_PAGES, settings.MAX_IMAGE_PIXELS
RENDER_DPI = 200.0
MAX_SIDE = 1800  # OCR input: longer side in pixels (larger images are scaled down: an A4 page at ~155 dpi;
                 # the detector's memory grows with the area: 2400 px took a worker to 1.15 GB, 1800 px to ~0.75 GB)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

ProgressFn = Callable[[int, int], None]  # (pages done, pages in all); (0, n) comes first
_progress: contextvars.ContextVar[ProgressFn | None] = contextvars.ContextVar("fazhi_ocr_progress", default=None)


@contextmanager
def reporting(callback: ProgressFn | None):
    """Report OCR progress per page to ``callback(done, total)`` for everything
    analysed inside the ``with`` block (the CLI's progress bar)::

        with ocr.reporting(lambda done, total: bar.update(done, total)):
            analyze_path(path)
    """
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


def available() -> bool:
    """True when the OCR extra is installed (``import rapidocr`` etc. succeed)."""
    try:
        import onnxruntime  # noqa: F401
        import PIL  # noqa: F401
        import pypdfium2  # noqa: F401
        import rapidocr  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, or a broken install
        return False
    return True


def image_kind(data: bytes) -> str | None:
    """The image type of ``data`` from its magic bytes, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


# ------------------------------------------------------------------ geometry


@dataclass
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float = 1.0
    angle: float = 0.0  # degrees, of the box's top edge
    red: bool = False
    tx0: float | None = None  # x-extent of the characters themselves, when known
    tx1: float | None = None

    @property
    def h(self) -> float:
        return max(1.0, self.y1 - self.y0)

    @property
    def w(self) -> float:
        return max(1.0, self.x1 - self.x0)


@dataclass
class Page:
    width: float
    height: float
    boxes: list[Box] = field(default_factory=list)


_DASHES = "-—–－─━‐‑‒―~～_一"
_OCR_PAGE_NO = re.compile(rf"^[{_DASHES}\s·•.]*\d{{1,4}}[{_DASHES}\s·•.]*$")
_ASCII_END = re.compile(r"[A-Za-z0-9]$")
_ASCII_START = re.compile(r"^[A-Za-z0-9]")


def _is_page_no(text: str) -> bool:
    s = text.strip()
    return bool(s) and (bool(PAGE_NO.match(s)) or bool(_OCR_PAGE_NO.match(s)))


def _median(xs, default: float = 0.0) -> float:
    xs = list(xs)
    return statistics.median(xs) if xs else default


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return 0.0
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _drop_stamp(page: Page) -> list[Box]:
    """Boxes without the seal: tilted fragments, and red ones over other text or
    as short fragments right of the middle of the page."""
    boxes = [b for b in page.boxes if b.text.strip()]
    if not boxes:
        return []
    long = [b.angle for b in boxes if b.w >= 3 * b.h] or [b.angle for b in boxes]
    base = _median(long)
    keep = []
    for b in boxes:
        tilted = abs(b.angle - base) > 12 and len(b.text) <= 12
        if tilted:
            continue
        if b.red:
            over = any(o is not b and not o.red
                       and _overlap(b.x0, b.x1, o.x0, o.x1) > 0.3 * min(b.w, o.w)
                       and _overlap(b.y0, b.y1, o.y0, o.y1) > 0.3 * min(b.h, o.h) for o in boxes)
            # a short red fragment right of the middle: the seal (a red 红头 title is wide and centred)
            fragment = b.x0 > 0.45 * page.width and len(b.text) <= 12
            if over or fragment:
                continue
        keep.append(b)
    return keep


def _rows(boxes: list[Box]) -> list[list[Box]]:
    """Group boxes that share a baseline; rows top to bottom, boxes left to right."""
    rows: list[list[Box]] = []
    spans: list[tuple[float, float]] = []
    for b in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        placed = False
        for k in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            y0, y1 = spans[k]
            if _overlap(b.y0, b.y1, y0, y1) >= 0.5 * min(b.h, y1 - y0):
                rows[k].append(b)
                spans[k] = (min(y0, b.y0), max(y1, b.y1))
                placed = True
                break
        if not placed:
            rows.append([b])
            spans.append((b.y0, b.y1))
    for r in rows:
        r.sort(key=lambda b: b.x0)
    order = sorted(range(len(rows)), key=lambda k: spans[k][0])
    return [rows[k] for k in order]


def _join_row(boxes: list[Box]) -> str:
    out = ""
    prev = None
    for b in boxes:
        t = b.text.strip()
        if prev is not None:
            gap = (b.tx0 if b.tx0 is not None else b.x0) - (prev.tx1 if prev.tx1 is not None else prev.x1)
            h = max(prev.h, b.h)
            if gap > 3 * h:
                out += "\t"
            elif gap > 0.6 * h or (_ASCII_END.search(out) and _ASCII_START.search(t) and gap > 0.25 * h):
                out += " "
        out += t
        prev = b
    return out


def _gutters(boxes: list[Box], width: float) -> list[tuple[float, float]]:
    """Vertical gutters between text columns (x-ranges no text-like box crosses)."""
    if len(boxes) < 8:
        return []
    x0 = min(b.x0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    tw = x1 - x0
    if tw <= 0:
        return []
    h = _median(b.h for b in boxes)
    narrow = [b for b in boxes if b.w < 0.8 * tw]
    if len(narrow) < 8:
        return []
    # a gutter may be crossed by a few boxes (a title, a table row): those span the columns
    allowed = max(1, len(narrow) // 10)
    n = int(math.ceil(tw)) + 1
    cover = [0] * (n + 1)
    for b in narrow:  # difference array, then running sums
        cover[max(0, int(b.x0 - x0))] += 1
        cover[min(n, int(math.ceil(b.x1 - x0)))] -= 1
    run = 0
    for i in range(n):
        run += cover[i]
        cover[i] = run
    gaps = []
    i = 0
    while i < n:
        if cover[i] > allowed:
            i += 1
            continue
        j = i
        while j < n and cover[j] <= allowed:
            j += 1
        g0, g1 = x0 + i, x0 + j
        if j - i >= max(1.5 * h, 0.02 * width) and g0 > x0 + 0.2 * tw and g1 < x1 - 0.2 * tw:
            gaps.append((g0, g1))
        i = j
    good = []
    lo = x0
    for gi, (g0, g1) in enumerate(gaps):
        hi = gaps[gi + 1][0] if gi + 1 < len(gaps) else x1
        left = [b for b in narrow if b.x1 <= g0 and b.x0 >= lo - 1]
        right = [b for b in narrow if b.x0 >= g1 and b.x1 <= hi + 1]
        # text-like on both sides: many rows, and the boxes fill their column
        pairs = sum(1 for a in left if any(_overlap(a.y0, a.y1, c.y0, c.y1) > 0.5 * min(a.h, c.h) for c in right))
        lw = g0 - min((b.x0 for b in left), default=g0)
        rw = max((b.x1 for b in right), default=g1) - g1
        if (pairs >= 4 and lw >= 0.25 * tw and rw >= 0.25 * tw
                and _median(b.w for b in left) >= 0.5 * lw and _median(b.w for b in right) >= 0.5 * rw):
            good.append((g0, g1))
            lo = g1
    return good


def _deskew(page: Page) -> list[Box]:
    """The boxes of a page scanned at a slant, turned back to level about the
    page centre (else the left margin drifts down the page and every row looks
    indented or not by chance)."""
    boxes = page.boxes
    slant = [b.angle for b in boxes if b.w >= 3 * b.h and abs(b.angle) < 10]
    if len(slant) < 3:
        return boxes
    theta = _median(slant)
    if abs(theta) < 0.15:
        return boxes
    t = math.radians(-theta)
    cos_t, sin_t = math.cos(t), math.sin(t)
    cx, cy = page.width / 2, page.height / 2
    out = []
    for b in boxes:
        a = math.radians(b.angle)
        ca, sa = abs(math.cos(a)), abs(math.sin(a))
        bw, bh = b.x1 - b.x0, b.y1 - b.y0
        det = ca * ca - sa * sa  # the bounding rectangle of a tilted w x h box, solved for w, h
        w, h = ((bw * ca - bh * sa) / det, (bh * ca - bw * sa) / det) if det > 0.5 else (bw, bh)
        if w <= 0 or h <= 0:
            w, h = bw, bh
        mx, my = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
        nx = cx + (mx - cx) * cos_t - (my - cy) * sin_t
        ny = cy + (mx - cx) * sin_t + (my - cy) * cos_t
        dx = nx - mx
        out.append(Box(nx - w / 2, ny - h / 2, nx + w / 2, ny + h / 2, b.text, b.score, b.angle - theta, b.red,
                       None if b.tx0 is None else b.tx0 + dx, None if b.tx1 is None else b.tx1 + dx))
    return out


def _page_lines(page: Page, pno: int) -> list[Line]:
    """The rows of one page in reading order, as ``Line``s (no margins yet)."""
    page = Page(page.width, page.height, _deskew(page))
    boxes = _drop_stamp(page)
    if not boxes:
        return []
    gutters = _gutters(boxes, page.width)
    if not gutters:
        return [Line(min(b.x0 for b in r), min(b.y0 for b in r), max(b.x1 for b in r), max(b.y1 for b in r),
                     _join_row(r), pno, 0, 0) for r in _rows(boxes)]
    edges = [-math.inf] + [g for gg in gutters for g in gg] + [math.inf]
    cols = [(edges[2 * k], edges[2 * k + 1]) for k in range(len(gutters) + 1)]

    def col_of(b: Box) -> int:
        for k, (c0, c1) in enumerate(cols):
            if b.x0 >= c0 - 2 and b.x1 <= c1 + 2:
                return k
        return -1

    out: list[Line] = []
    band: dict[int, list[Box]] = {}
    block = 0

    def flush():
        nonlocal block
        for k in sorted(band):
            for r in _rows(band[k]):
                out.append(Line(min(b.x0 for b in r), min(b.y0 for b in r), max(b.x1 for b in r),
                                max(b.y1 for b in r), _join_row(r), pno, block, k))
            block += 1
        band.clear()

    for row in _rows(boxes):
        ks = [col_of(b) for b in row]
        if -1 in ks:
            flush()
            out.append(Line(min(b.x0 for b in row), min(b.y0 for b in row), max(b.x1 for b in row),
                            max(b.y1 for b in row), _join_row(row), pno, block, -1))
            block += 1
        else:
            for b, k in zip(row, ks):
                band.setdefault(k, []).append(b)
    flush()
    return out


def _strip_furniture(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    def key(s: str) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", s))

    def edge_lines(lines: list[Line], ph: float) -> list[Line]:
        by_y = sorted(lines, key=lambda ln: ln.y0)
        cand = by_y[:2] + by_y[-2:]
        return [ln for ln in cand if ln.y1 < 0.15 * ph or ln.y0 > 0.85 * ph]

    counts: dict[str, int] = {}
    for lines, ph in zip(pages, heights):
        for k in {key(ln.text) for ln in edge_lines(lines, ph) if len(lines) >= 3}:
            counts[k] = counts.get(k, 0) + 1
    n = len(pages)
    repeated = {k for k, c in counts.items()
                if n >= 2 and c >= max(2, math.ceil(0.6 * n)) and 0 < len(k) <= 40}
    out = []
    for lines, ph in zip(pages, heights):
        drop = set()
        for ln in edge_lines(lines, ph):
            if (_is_page_no(ln.text) and len(ln.text.strip()) <= 12) or key(ln.text) in repeated:
                drop.add(id(ln))
        out.append([ln for ln in lines if id(ln) not in drop])
    return out


def _set_margins(pages: list[list[Line]]) -> None:
    """Each line's column margins (left/right), and whether it stands alone."""
    doc_margins: dict[int, list[tuple[float, float]]] = {}
    page_margins: list[dict[int, tuple[float, float] | None]] = []
    for lines in pages:
        pm: dict[int, tuple[float, float] | None] = {}
        for col in {ln.col for ln in lines}:
            ls = [ln for ln in lines if ln.col == col]
            lo, hi = min(ln.x0 for ln in ls), max(ln.x1 for ln in ls)
            full = [ln for ln in ls if ln.x1 - ln.x0 >= 0.6 * (hi - lo)]
            if len(full) >= 4:
                pm[col] = (_pct([ln.x0 for ln in full], 0.1), _pct([ln.x1 for ln in full], 0.9))
                doc_margins.setdefault(col, []).append(pm[col])
            else:
                pm[col] = None
        page_margins.append(pm)
    for lines, pm in zip(pages, page_margins):
        for col in {ln.col for ln in lines}:
            ls = [ln for ln in lines if ln.col == col]
            m = pm.get(col)
            if col == -1:  # rows across the columns: measured against the whole text width
                m = (min(ln.x0 for ln in lines), max(ln.x1 for ln in lines))
            elif m is None:
                known = doc_margins.get(col)
                if known:
                    m = (_median(a for a, _ in known), _median(b for _, b in known))
                    m = (min(m[0], min(ln.x0 for ln in ls)), max(m[1], max(ln.x1 for ln in ls)))
                else:
                    m = (min(ln.x0 for ln in ls), max(ln.x1 for ln in ls))
            body_h = _median(ln.h for ln in ls)
            for ln in ls:
                ln.left, ln.right = m
                width = max(1.0, ln.right - ln.left)
                ind_l, ind_r = ln.x0 - ln.left, ln.right - ln.x1
                centred = ind_l > 2 * ln.h and ind_r > 2 * ln.h and abs(ind_l - ind_r) < 2.5 * ln.h
                rightish = ind_l > 0.4 * width
                tall = len(ls) >= 3 and ln.h > 1.3 * body_h
                cells = "\t" in ln.text  # a table row (or label/value row): a line of its own
                ln.standalone = centred or rightish or tall or cells


def assemble(pages: list[Page]) -> list[str]:
    """OCR boxes of the pages of one document -> paragraphs in reading order."""
    lines = [_page_lines(p, i) for i, p in enumerate(pages)]
    lines = _strip_furniture(lines, [p.height for p in pages])
    _set_margins(lines)
    return reflow_rows([ln for page in lines for ln in page])


# ------------------------------------------------------------------ the engine

_ENGINE = None


def _threads() -> int:
    """onnxruntime threads: ``FAZHI_OCR_THREADS``, else 1 inside a worker process
    of a pool (the pool is the parallelism; two 2-thread workers on 2 cores ran
    ~1.5x slower than two 1-thread ones), else -1 (onnxruntime's default: all cores)."""
    try:
        n = int(os.environ.get("FAZHI_OCR_THREADS", "0"))
    except ValueError:
        n = 0
    if n > 0:
        return n
    import multiprocessing

    return 1 if multiprocessing.parent_process() is not None else -1


def _engine():
    global _ENGINE
    if _ENGINE is None:
        with quiet("RapidOCR", "rapidocr"):
            from rapidocr import RapidOCR

            _ENGINE = RapidOCR(params={
                "Global.log_level": "error",
                "Global.text_score": 0.0,  # all lines: the share of poor ones tells an upside-down page
                "Global.use_cls": False,
                "Global.return_word_box": True,
                "Global.max_side_len": MAX_SIDE,
                "EngineConfig.onnxruntime.intra_op_num_threads": _threads(),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
    return _ENGINE


def _is_mark(c: str) -> bool:
    return unicodedata.category(c)[0] in "PS"


def _line_text(txt: str, words, h: float) -> tuple[str, float | None, float | None]:
    """The line's text with the spaces the per-character boxes show put back,
    and the x-extent of its characters (det boxes are padded, and overlap).

    A gap over 0.2 of the line height between Latin letters/digits is a space
    ("2022-11-21 12:21"); between other characters that are not punctuation it
    takes 0.45 ("索取号 AC6040203", "产生日期 2022-01-24"): measured on the dev
    reports, gaps inside words stay under 0.35 and punctuation boxes are narrow."""
    try:
        items = [(str(w[0]), [float(p[0]) for p in w[2]]) for w in words]
    except Exception:  # noqa: BLE001
        return txt, None, None
    if not items or "".join(t for t, _ in items).replace(" ", "") != txt.replace(" ", ""):
        return txt, None, None
    out = ""
    prev_x1 = None
    for t, xs in items:
        x0, x1 = min(xs), max(xs)
        if prev_x1 is not None and out and t and not out.endswith(" "):
            gap = x0 - prev_x1
            a, b = out[-1], t[0]
            if _ASCII_END.search(a) and _ASCII_START.search(b):
                space = gap > 0.2 * h
            else:
                space = gap > 0.45 * h and not _is_mark(a) and not _is_mark(b)
            if space:
                out += " "
        out += t
        prev_x1 = x1
    return out, min(items[0][1]), max(items[-1][1])


def _red_mask(rgb):
    import numpy as np

    a = np.asarray(rgb, dtype=np.int16)
    if a.ndim != 3 or a.shape[2] < 3:
        return None
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    ink = (r + g + b) < 600
    red = (r > 120) & (r - g > 60) & (r - b > 60)
    black = (r < 110) & (g < 110) & (b < 110)
    return ink, red, black


def _boxes(out, masks) -> list[Box]:
    boxes: list[Box] = []
    if out is None or getattr(out, "boxes", None) is None or getattr(out, "txts", None) is None:
        return boxes
    words = getattr(out, "word_results", None) or [None] * len(out.txts)
    for quad, txt, score, wr in zip(out.boxes, out.txts, out.scores, words):
        pts = [(float(p[0]), float(p[1])) for p in quad]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        (ax, ay), (bx, by) = pts[0], pts[1]
        angle = math.degrees(math.atan2(by - ay, bx - ax))
        h = math.dist(pts[0], pts[3]) if len(pts) >= 4 else y1 - y0
        text, tx0, tx1 = _line_text(str(txt), wr, h) if wr else (str(txt), None, None)
        red = False
        if masks is not None:
            ink, redm, black = masks
            sl = (slice(max(0, int(y0)), max(0, int(y1)) + 1), slice(max(0, int(x0)), max(0, int(x1)) + 1))
            n_ink = int(ink[sl].sum())
            # red ink, and not black text with a seal over it
            red = (n_ink >= 10 and int((redm[sl] & ink[sl]).sum()) > 0.5 * n_ink
                   and int(black[sl].sum()) < 0.15 * n_ink)
        boxes.append(Box(x0, y0, x1, y1, text, float(score), angle, red,
                         tx0 if tx0 is not None else x0, tx1 if tx1 is not None else x1))
    return boxes


TEXT_SCORE = 0.5  # lines recognised with less confidence are dropped (rapidocr's default)


def _quality(boxes: list[Box]) -> float:
    return sum(len(b.text) * b.score for b in boxes if b.score >= TEXT_SCORE)


def ocr_image(img) -> Page:
    """OCR one page image (a PIL image) into a ``Page`` of boxes."""
    from PIL import Image

    img = img.convert("RGB")
    if max(img.size) > MAX_SIDE:
        f = MAX_SIDE / max(img.size)
        img = img.resize((max(1, int(img.width * f)), max(1, int(img.height * f))), Image.LANCZOS)

    def run(im):
        with quiet("RapidOCR", "rapidocr"):
            out = _engine()(im)
        return _boxes(out, _red_mask(im))

    boxes = run(img)
    best, best_img = boxes, img
    tall = len(boxes) >= 3 and sum(1 for b in boxes if b.h > 1.5 * b.w) > 0.5 * len(boxes)
    # upside down, the recogniser reads few characters into a long box, or scores low
    bad = [b for b in boxes if b.score < TEXT_SCORE or len(b.text) < 0.4 * b.w / b.h]
    poor = len(boxes) >= 3 and len(bad) > 0.3 * len(boxes)
    if tall or poor:  # a page scanned sideways or upside down
        for rot in ((90, 270) if tall else (180,)):
            im = img.rotate(rot, expand=True)
            bx = run(im)
            if _quality(bx) > 1.2 * _quality(best):
                best, best_img = bx, im
    best = [b for b in best if b.score >= TEXT_SCORE]
    return Page(float(best_img.width), float(best_img.height), best)


# ------------------------------------------------------------------ readers


def _need_extra(what: str) -> IngestError:
    return IngestError(f"{what}需要安装 OCR 组件：{INSTALL_HINT}")


def _tick(progress: ProgressFn | None, done: int, total: int) -> None:
    cb = progress or _progress.get()
    if cb is not None:
        try:
            cb(done, total)
        except Exception:  # noqa: BLE001 - a progress display must not sink the file
            pass


def _render_pdf_pages(data: bytes, indices: list[int] | None) -> Iterator[tuple[int, int, object]]:
    """(index, count, PIL image) for the chosen pages (all when None)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise IngestError("PDF 已加密，需要密码才能打开，无法读取") from None
        raise IngestError("PDF 文件已损坏或不完整，无法读取") from None
    except Exception:  # noqa: BLE001
        raise IngestError("PDF 文件已损坏或不完整，无法读取") from None
    try:
        n = len(pdf)
        todo = list(range(n)) if indices is None else [i for i in indices if 0 <= i < n]
        if len(todo) > settings.MAX_OCR_PAGES:
            raise IngestError(
                f"扫描件页数过多（需 OCR 识别 {len(todo)} 页），超过上限 {settings.MAX_OCR_PAGES} 页，未分析")
        for i in todo:
            try:
                page = pdf[i]
                w, h = page.get_size()
                scale = RENDER_DPI / 72.0
                if w * h * scale * scale > settings.MAX_IMAGE_PIXELS:
                    scale = math.sqrt(settings.MAX_IMAGE_PIXELS / max(1.0, w * h))
                img = page.render(scale=scale).to_pil()
                page.close()
            except IngestError:
                raise
            except Exception:  # noqa: BLE001 - one broken page must not sink the file
                img = None
            yield i, len(todo), img
    finally:
        pdf.close()


def _blank(img) -> bool:
    """A rendered page with no ink at all (a blank page): nothing to recognise."""
    try:
        lo, _ = img.convert("L").getextrema()
    except Exception:  # noqa: BLE001
        return False
    return lo >= 235


def ocr_pdf_pages(data: bytes, indices: list[int] | None = None, *,
                  progress: ProgressFn | None = None) -> tuple[dict[int, list[str]], list[int]]:
    """OCR the pages ``indices`` (0-based; all when None) of a PDF.
    Returns ({page index: paragraphs}, [1-based numbers of pages that failed])."""
    if not available():
        raise _need_extra("扫描件（PDF 没有文本层）")
    pages: dict[int, Page] = {}
    failed: list[int] = []
    done = 0
    for i, total, img in _render_pdf_pages(data, indices):
        if done == 0:
            _tick(progress, 0, total)  # the page count, before the first page's OCR
        if img is None:
            failed.append(i + 1)
        elif not _blank(img):
            pages[i] = ocr_image(img)
        done += 1
        _tick(progress, done, total)
    out: dict[int, list[str]] = {}
    for i, p in pages.items():
        out[i] = assemble([p])
    return out, failed


def read_pdf(data: bytes, *, progress: ProgressFn | None = None, notes: list[str] | None = None) -> RawDoc:
    """A PDF without a usable text layer, read by OCR."""
    if not available():
        raise _need_extra("扫描件（PDF 没有文本层）")
    imgs: list[Page] = []
    failed: list[int] = []
    done = 0
    for i, total, img in _render_pdf_pages(data, None):
        if done == 0:
            _tick(progress, 0, total)  # the page count, before the first page's OCR
        if img is None:
            failed.append(i + 1)
        elif _blank(img):
            imgs.append(Page(float(img.width), float(img.height), []))
        else:
            imgs.append(ocr_image(img))
        done += 1
        _tick(progress, done, total)
    if not imgs:
        raise IngestError("PDF 文件已损坏或不完整，无法读取")
    paras = assemble(imgs)
    if not paras:
        raise IngestError("扫描件中未识别出文字（OCR 没有结果，可能是空白页或图像过于模糊）")
    out_notes = [OCR_NOTE] + list(notes or ())
    if failed:
        out_notes.append(f"第{'、'.join(map(str, failed))}页无法渲染，已跳过")
    return RawDoc(text="\n".join(paras), format="pdf", encoding=None, notes=out_notes)


def read_image(data: bytes, *, progress: ProgressFn | None = None) -> RawDoc:
    """An image file (PNG, JPEG, TIFF; every TIFF frame a page), read by OCR."""
    kind = image_kind(data)
    if not available():
        raise IngestError(IMAGE_NEEDS_OCR)
    from PIL import Image, ImageOps, ImageSequence

    try:
        with quiet("PIL"):
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # over twice Pillow's own limit
        raise IngestError(f"图片尺寸过大，超过上限 {settings.MAX_IMAGE_PIXELS / 1e6:.0f} 百万像素，未分析") from None
    except Exception:  # noqa: BLE001 - UnidentifiedImageError, OSError, …
        raise IngestError("图片文件已损坏或格式无法识别，无法读取") from None
    try:
        n = getattr(im, "n_frames", 1) or 1
    except Exception:  # noqa: BLE001
        n = 1
    if n > settings.MAX_OCR_PAGES:
        raise IngestError(f"图片页数过多（{n} 页），超过 OCR 上限 {settings.MAX_OCR_PAGES} 页，未分析")
    pages: list[Page] = []
    failed: list[int] = []
    _tick(progress, 0, n)
    with quiet("PIL"):
        for k, frame in enumerate(ImageSequence.Iterator(im)):
            if k >= n:
                break
            if frame.width * frame.height > settings.MAX_IMAGE_PIXELS:
                raise IngestError(
                    f"图片尺寸过大（{frame.width}×{frame.height} 像素），超过上限 "
                    f"{settings.MAX_IMAGE_PIXELS / 1e6:.0f} 百万像素，未分析")
            try:
                fr = ImageOps.exif_transpose(frame) if k == 0 else frame
                fr.load()
                pages.append(ocr_image(fr))
            except (IngestError, MemoryError):
                raise
            except Image.DecompressionBombError:
                raise IngestError(f"图片尺寸过大，超过上限 {settings.MAX_IMAGE_PIXELS / 1e6:.0f} 百万像素，未分析") from None
            except Exception:  # noqa: BLE001 - a truncated or broken frame
                failed.append(k + 1)
            _tick(progress, k + 1, n)
    if not pages:
        raise IngestError("图片文件已损坏或格式无法识别，无法读取")
    paras = assemble(pages)
    if not paras:
        raise IngestError("图片中未识别出文字（OCR 没有结果，可能是空白或图像过于模糊）")
    notes = [OCR_NOTE, f"原文件为图片（{kind or '图像'}），按扫描件识别"]
    if failed:
        notes.append(f"第{'、'.join(map(str, failed))}页图像损坏，已跳过")
    return RawDoc(text="\n".join(paras), format="pdf", encoding=None, notes=notes)
