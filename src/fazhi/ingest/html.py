"""HTML pages: body text via trafilatura, page metadata rows via lxml.

- Decoding honours a BOM, ``<meta charset>`` / ``http-equiv`` and an XML
  declaration (Chinese government sites often declare GB2312 and send GBK, which
  is why GB* is decoded as GB18030); without a usable declaration the bytes go
  to charset-normalizer.
- The main text is trafilatura's content tree (``bare_extraction(...).body``)
  rendered here into one line per paragraph: ``<h1>``-``<h6>`` -> ``#`` marks,
  a paragraph bold as a whole -> ``**…**``, nothing else marked (trafilatura's
  own markdown output escapes ``*``/``_`` and marks partial bold, which the
  contract forbids).  Without a trafilatura result the ``<body>`` minus
  script/style/nav/header/footer is rendered the same way.
- ``fields``: the page's own metadata rows (索引号, 发布机构, 成文日期, …), found
  in label/value cells and in ``label：value`` / ``[ label ] value`` text.
- Elements nested deeper than ``MAX_HTML_DEPTH`` (``FAZHI_MAX_HTML_DEPTH``,
  default 200) -> ``IngestError``: measured on the parsed tree in one pass.
  libxml2 itself stops at depth 256 and silently drops the rest of the page, so
  a limit above 255 still refuses such a page rather than analyse a fragment.
- Before any parser sees the page, ``<script>``, ``<style>``, ``<template>``,
  ``<noscript>`` blocks and comments are cut out and long ``data:`` URIs (inline
  images) are shortened, in one linear scan: libxml2 drops a text node over 10 MB
  and everything after it, so an 11 MB script in ``<head>`` used to leave no text
  and an inline image half of it.  The page is then parsed once with
  ``huge_tree`` (safe behind the file-size cap, ``MAX_BYTES``) and that tree is
  what trafilatura reads too.
"""
from __future__ import annotations

import copy
import re

from .. import settings
from . import IngestError, RawDoc, quiet
from .txt import decode_text

_LIBXML2_DEPTH = 256  # libxml2's HTML parser nests no deeper than this

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

# labels recorded into ``fields`` (longer first so 发布日期 wins over a shorter overlap)
FIELD_LABELS = (
    "发布时间", "发布日期", "成文日期", "索引号", "发文字号", "发布机构", "发文机关",
    "生成日期", "主题分类", "文号", "来源",
    # traditional-character pages
    "發布時間", "發佈時間", "發布日期", "發佈日期", "索引號", "發文字號", "發布機構",
    "發文機關", "主題分類", "文號", "來源",
)
# labels that only end the value of a previous label on the same line
STOP_LABELS = (
    "体裁分类", "信息来源", "字号", "字体", "浏览次数", "浏览量", "点击数", "点击量", "点击率",
    "访问次数", "访问量", "阅读次数", "阅读量", "作者", "责任编辑", "编辑", "有效性", "时效",
    "公开方式", "公开范围", "公开时限", "是否有效", "分享到", "打印", "关闭",
    "发文单位", "发文日期", "效力状态", "公开日期", "公开时间", "公开形式", "信息名称", "名称",
    "内容概述", "关键词", "关键字", "生效日期", "失效日期", "组配分类", "服务对象分类", "信息分类",
    "公文种类", "录入日期", "更新时间", "所属机构", "责任部门", "文件编号", "信息类别",
    "體裁分類", "字號", "瀏覽次數", "點擊數", "作者",
)


def _spaced(label: str) -> str:
    # a label may be printed with spaces between its characters: 来  源 / 文　　号
    return r"[ \t\u3000\xa0]*".join(map(re.escape, label))


def _alt(labels) -> str:
    return "|".join(_spaced(lb) for lb in sorted(set(labels), key=len, reverse=True))


_FIELD_ALT = _alt(FIELD_LABELS)
_ANY_ALT = _alt(FIELD_LABELS + STOP_LABELS)
_SP = r"[ \t\u3000\xa0]*"
# a label in running text: "[ 索引号 ]" or "索引号：" (not preceded by a Chinese character,
# so 资金来源： in a body sentence is not a 来源 label)
_LABEL_IN_TEXT = re.compile(
    rf"(?<![{CJK}])(?:[\[【]{_SP}(?P<b>{_ANY_ALT}){_SP}[\]】]{_SP}[:：]?|(?P<c>{_ANY_ALT}){_SP}(?:[:：]|(?=[【\[])))"
)
# what may precede the first label of a metadata row: nothing, a date/time, separators,
# other "标签：" labels (文章来源： / 日期： / 作者：) -- not the words of a sentence
_ROW_PREFIX = re.compile(
    r"^(?:[\s\d:：/.\-年月日时分秒|丨｜·•\u3000\xa0]|[\u4e00-\u9fff]{1,6}[ \t\u3000]*[:：])*$")
# an element / a line whose whole text is just a label
_LABEL_ONLY = re.compile(rf"^{_SP}[\[【]?{_SP}(?P<l>{_FIELD_ALT}){_SP}[\]】]?{_SP}[:：]?{_SP}$")
_ANY_ONLY = re.compile(rf"^{_SP}[\[【]?{_SP}(?:{_ANY_ALT}){_SP}[\]】]?{_SP}[:：]?{_SP}$")
_FIELD_KEY = {re.sub(r"\s", "", lb): lb for lb in FIELD_LABELS}

_WS = re.compile(r"[ \t\r\n\f\v\u3000\xa0\u2002\u2003\u2009\u200b]+")
_EDGE_WS = " \t\r\n\f\v\u3000\xa0\u2002\u2003\u2009\u200b\ufeff"

# portal chrome lines (only short lines are tested)
_CHROME = re.compile(
    r"您(?:当前|现在)?(?:的)?(?:所在)?位置|当前位置[:：]|^\s*位置[:：]|首页\s*[>＞»/]|^首页(?:\s|[|｜]|$)"
    r"|(?:字号|字体)\s*[:：]?\s*[【\[（(]?\s*[大中小]\s*[中小]|分享到|扫一扫|打印本页|关闭窗口|【\s*打印\s*】|【\s*关闭\s*】"
    r"|版权所有|ICP\s*备|公网安备|网站标识码|主办单位[:：]|承办单位[:：]|技术支持[:：]|网站地图|联系我们|相关(?:文章|链接|阅读|新闻)\s*$"
)
_META_ROW = re.compile(rf"^{_SP}(?:[\[【]{_SP}(?:{_ANY_ALT}){_SP}[\]】]|(?:{_ANY_ALT}){_SP}[:：])")

_BLOCK_HTML = {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "main", "aside",
    "blockquote", "pre", "center", "table", "tbody", "thead", "tfoot", "caption", "form",
    "fieldset", "address", "figure", "figcaption", "body", "html", "details", "summary", "hr",
}
_BLOCK_TRAF = {"p", "item", "list", "quote", "code", "div", "note", "ab", "main", "body", "doc",
               "table", "cell", "graphic"}
_DROP_FALLBACK = ("script", "style", "noscript", "template", "nav", "footer", "header", "iframe",
                  "object", "embed", "svg", "select", "button", "input", "textarea", "head")


def _quiet():
    return quiet("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer")


# ---------------------------------------------------------------- decoding

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)


# ---------------------------------------------------------------- raw clean-up

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_BLOCK_START = re.compile(r"<(script|style|template|noscript)(?=[\s/>])|<!--")
# an inline image or font: the payload is no text; 64+ characters so "data:" in prose stays
_DATA_URI = re.compile(r"(?i)data:[^\s\"'<>),]{64,}")


def strip_raw(text: str) -> str:
    """``text`` without script/style/template/noscript blocks and comments (an unclosed
    one runs to the end, as in a browser) and with long ``data:`` URIs cut to
    ``data:,``.  One pass: every search starts where the previous one ended."""
    low = text.translate(_ASCII_LOWER)  # same length: ASCII letters only
    out: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _BLOCK_START.search(low, pos)
        if m is None:
            break
        out.append(text[pos:m.start()])
        name = m.group(1)
        if name is None:  # a comment
            j = low.find("-->", m.end())
            pos = n if j < 0 else j + 3
            continue
        j = low.find("</" + name, m.end())
        if j < 0:
            pos = n
            break
        k = low.find(">", j)
        pos = n if k < 0 else k + 1
        out.append(" ")
    out.append(text[pos:])
    return _DATA_URI.sub("data:,", "".join(out))


def _declared_charset(data: bytes) -> str | None:
    head = data[:8192]
    m = _XML_DECL.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "ignore") if m else None


# ---------------------------------------------------------------- rendering


class _Enough(Exception):
    """The page has given more lines than the text caps keep: stop rendering."""


class _Lines:
    """Collects runs of (text, bold) into lines: one line per paragraph (stops a
    little past ``MAX_PARAGRAPHS`` lines or ``MAX_CHARS`` characters: the caps cut there)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.cur: list[tuple[str, bool]] = []
        self.chars = 0
        self.max_lines = settings.get("MAX_PARAGRAPHS") + 1
        self.max_chars = settings.get("MAX_CHARS") + 1

    def _append(self, text: str) -> None:
        self.out.append(text)
        self.chars += len(text) + 1
        if len(self.out) > self.max_lines or self.chars > self.max_chars:
            raise _Enough()

    def add(self, text: str | None, bold: bool) -> None:
        if text:
            self.cur.append((text, bold))

    def flush(self) -> None:
        runs, self.cur = self.cur, []
        text = _WS.sub(" ", "".join(t for t, _ in runs)).strip(_EDGE_WS)
        if not text:
            return
        visible = [b for t, b in runs if t.strip(_EDGE_WS)]
        if visible and all(visible):
            text = f"**{text}**"
        self._append(text)

    def line(self, text: str) -> None:
        """Add a finished line (heading, table row: tabs between cells are kept)."""
        self.flush()
        text = text.strip(_EDGE_WS)
        if text:
            self._append(text)


def _tag(el) -> str:
    t = el.tag
    return t.lower() if isinstance(t, str) else ""


def _flat(el) -> str:
    return _WS.sub(" ", "".join(el.itertext())).strip(_EDGE_WS)


def _is_bold_html(el, tag: str) -> bool:
    if tag in ("strong", "b"):
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "font-weight:bold" in style or "font-weight:700" in style or "font-weight:800" in style


def _render(root, traf: bool, cut: list | None = None) -> list[str]:
    """Render a trafilatura body (``traf``) or an lxml HTML element into lines.
    Rendering stops at the text caps; then the lines are trimmed to them and
    ``cut`` (if given) gets an entry."""
    L = _Lines()
    blocks = _BLOCK_TRAF if traf else _BLOCK_HTML

    def heading_level(el, tag):
        if traf:
            if tag != "head":
                return 0
            m = re.fullmatch(r"h([1-6])", el.get("rend") or "")
            return int(m.group(1)) if m else 2
        m = re.fullmatch(r"h([1-6])", tag)
        return int(m.group(1)) if m else 0

    def visit(el, bold: bool, depth: int = 0) -> None:
        if depth > 200:  # pathological nesting: keep the text, stop descending
            L.add(_flat(el), bold)
            return
        tag = _tag(el)
        if not tag or (not traf and tag in ("script", "style", "noscript", "template")):
            return
        level = heading_level(el, tag)
        if level:
            L.line("#" * level + " " + _flat(el) if _flat(el) else "")
            return
        if tag in ("lb", "br"):
            L.flush()
            return
        if tag in ("row", "tr"):
            L.flush()
            cells = [c for c in el if _tag(c) in ("cell", "td", "th")]
            texts = [_flat(c) for c in cells]
            if sum(1 for t in texts if t) <= 1:
                # a layout row (one cell carries everything): its paragraphs are lines
                for c in cells:
                    visit(c, bold, depth + 1)
                    L.flush()
            else:
                L.line("\t".join(texts).rstrip("\t"))
            return
        if traf and tag == "graphic":
            return
        b = bold
        if traf:
            if tag == "hi" and "#b" in (el.get("rend") or ""):
                b = True
        elif _is_bold_html(el, tag):
            b = True
        is_block = tag in blocks
        if is_block:
            L.flush()
        L.add(el.text, b)
        for child in el:
            visit(child, b, depth + 1)
            L.add(child.tail, b)
        if is_block:
            L.flush()

    try:
        visit(root, False)
        L.flush()
    except _Enough:
        out = L.out[:L.max_lines - 1]
        total = 0
        for k, ln in enumerate(out):
            total += len(ln) + 1
            if total > L.max_chars - 1:
                out = out[:max(1, k)]
                break
        if cut is not None:
            cut.append(True)
        return out
    return L.out


# ---------------------------------------------------------------- fields & title


def _fields(doc, lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}

    def put(label: str, value: str) -> None:
        key = _FIELD_KEY.get(re.sub(r"[\s\u3000\xa0]", "", label))
        value = _WS.sub(" ", value).strip(_EDGE_WS + "|丨｜")
        if key and value and len(value) <= 100 and key not in fields and not _ANY_ONLY.match(value):
            fields[key] = value

    # 1. a cell/span/… that holds only a label, its value in the tail or the next element
    #    (the first 20,000 candidates: metadata rows sit near the top of a page)
    if doc is not None:
        tags = ("td", "th", "span", "li", "label", "dt", "b", "strong", "em", "font", "p", "div", "i", "h4", "h5", "h6")
        for k, el in enumerate(doc.iter(*tags)):
            if k >= 20_000:
                break
            if len(el) > 3:
                continue
            own = _flat(el)
            if not own or len(own) > 14:
                continue
            m = _LABEL_ONLY.match(own)
            if not m:
                continue
            value = _WS.sub(" ", el.tail or "").strip(_EDGE_WS)
            if not value:
                nxt = el.getnext()
                if nxt is not None and not _ANY_ONLY.match(_flat(nxt) or "x"):
                    value = _flat(nxt)
            if value:
                # the value may run on into the next label: "发布机构：XX 成文日期：…"
                cut = _LABEL_IN_TEXT.search(value)
                if cut:
                    value = value[: cut.start()]
                put(m.group("l"), value)

    # 2. label：value / [ label ] value in the visible text, several per line
    for i, line in enumerate(lines):
        if len(line) > 300:
            continue
        only = _LABEL_ONLY.match(line)
        if only and i + 1 < len(lines):
            # a flattened label cell: the value is the next line
            nxt = lines[i + 1]
            if len(nxt) <= 60 and not _LABEL_IN_TEXT.search(nxt) and not _ANY_ONLY.match(nxt):
                put(only.group("l"), nxt)
            continue
        ms = list(_LABEL_IN_TEXT.finditer(line))
        if not ms or ms[0].start() > 60 or not _ROW_PREFIX.match(line[: ms[0].start()]):
            continue  # a label inside a sentence ("增长20%（来源：统计局）") is not a metadata row
        for j, m in enumerate(ms):
            end = ms[j + 1].start() if j + 1 < len(ms) else len(line)
            value = line[m.end():end]
            value = re.split(r"\t|[ \u3000\xa0]{2,}|[|丨｜\[【]", value.strip(_EDGE_WS), maxsplit=1)[0]
            put(m.group("b") or m.group("c"), value)
    return fields


_TITLE_SPLIT = re.compile(r"\s*(?:_+|\||｜| [-–—]+ | ?—— ?(?=[^—]*(?:网|政府|门户)))\s*")
_SITE_NAME = re.compile(
    r"(?:网|网站|门户|人民政府|政府|管委会|管理委员会|委员会|办公室|办公厅|首页|信息公开|政务公开|政府信息公开目录)$")


def _title_parts(raw: str) -> list[str]:
    return [p.strip(_EDGE_WS) for p in _TITLE_SPLIT.split(raw) if p and p.strip(_EDGE_WS)]


def _best_part(parts: list[str]) -> str:
    """The article part of a "<article>_<site>" title: not a site name, the longest."""
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    cands = [p for p in parts if not _SITE_NAME.search(p)] or parts
    return max(cands, key=len)


def _title(doc, meta_title: str | None) -> tuple[str | None, bool]:
    """Return (title, from_h1)."""
    page_title = ""
    if doc is not None:
        t = doc.find(".//title")
        if t is not None:
            page_title = _flat(t)
    parts = _title_parts(page_title)
    clean_title = _best_part(parts)
    site_parts = {p for p in parts if p != clean_title}
    if doc is not None:
        for h in doc.iter("h1"):
            text = _flat(h)
            if len(text) < 4 or len(text) > 200 or text in site_parts:
                continue
            if _SITE_NAME.search(text) and len(text) <= 16 and text not in clean_title:
                continue  # the portal's logo
            return text, True
    if meta_title:
        mt_best = _best_part(_title_parts(meta_title))
        if mt_best and mt_best not in site_parts and not (len(parts) > 1 and _SITE_NAME.search(mt_best)):
            return mt_best, False
    return (clean_title or None), False


# ---------------------------------------------------------------- main


def _parse(text: str):
    import lxml.html

    # huge_tree: text nodes over 10 MB are kept (the file-size cap bounds the page);
    # the other options are trafilatura's own parser's
    parser = lxml.html.HTMLParser(huge_tree=True, collect_ids=False, default_doctype=False,
                                  remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except Exception:  # noqa: BLE001 - lxml ParserError, ValueError on odd input, RecursionError
        return None


def _depth(doc) -> tuple[int, int]:
    """Deepest element nesting of a parsed tree (the root is depth 1), and the number of elements."""
    from lxml import etree

    depth = deepest = count = 0
    for event, _ in etree.iterwalk(doc, events=("start", "end")):
        if event == "start":
            depth += 1
            count += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest, count


def _check_depth(doc) -> int:
    """Refuse a page nested too deep; returns the number of elements."""
    limit = settings.get("MAX_HTML_DEPTH")
    try:
        d, count = _depth(doc)
    except Exception:  # noqa: BLE001 - a tree lxml cannot walk is judged by the readers below
        return 0
    if d > limit or d >= _LIBXML2_DEPTH:
        raise IngestError(
            f"网页标签嵌套层数过深（{d}{' 层以上' if d >= _LIBXML2_DEPTH else ' 层'}），超过上限 "
            f"{min(limit, _LIBXML2_DEPTH - 1)} 层，可能是恶意构造或已损坏的网页，未分析")
    return count


# above this many block elements trafilatura runs without its backup extractors:
# jusText's paragraph revision is quadratic in the paragraphs (28,000 took 87 s);
# a report page has a few hundred
FAST_BLOCKS = 2000
_BLOCKS = ("p", "div", "li", "td", "br", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article")


def _trafilatura(text, fast: bool = False):
    """trafilatura on the page (a string, or our parsed tree, which it does not modify)."""
    try:
        import trafilatura
    except Exception:  # noqa: BLE001 - a broken install (e.g. missing lxml_html_clean) -> fallback
        return None, None
    try:
        with _quiet():
            d = trafilatura.bare_extraction(
                text, output_format="python", with_metadata=True, include_formatting=True,
                include_tables=True, include_comments=False, include_images=False,
                include_links=False, favor_recall=True, deduplicate=False, fast=fast,
                # metadata is wanted for the title only; htmldate's extensive search
                # runs dateparser, which takes seconds on some pages
                date_extraction_params={"original_date": True, "extensive_search": False},
            )
    except Exception:  # noqa: BLE001
        return None, None
    if d is None:
        return None, None
    body = getattr(d, "body", None)
    title = getattr(d, "title", None)
    return body, title


def _fallback_lines(doc, cut: list | None = None) -> list[str]:
    body = doc.find(".//body")
    root = copy.deepcopy(body if body is not None else doc)
    for el in list(root.iter(*_DROP_FALLBACK)):
        parent = el.getparent()
        if parent is not None:
            el.drop_tree()
    return _render(root, traf=False, cut=cut)


def _is_chrome(line: str) -> bool:
    bare = line.strip("*# ")
    if len(bare) > 80:
        return False
    return bool(_CHROME.search(bare) or _META_ROW.match(bare))


def read(data: bytes) -> RawDoc:
    got = decode_text(data, _declared_charset(data))
    text, enc, lossy = got.text, got.encoding, got.lossy
    text = strip_raw(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    notes: list[str] = list(got.notes)
    if lossy and not got.notes:
        notes.append(f"网页中有少量字节无法按 {enc} 编码解码，已替换为“\ufffd”")

    doc = _parse(text)
    huge = False
    if doc is not None:
        count = _check_depth(doc)
        for el in list(doc.iter("script", "style", "noscript", "template")):
            try:
                el.drop_tree()
            except Exception:  # noqa: BLE001 - the root itself
                pass
        limit = settings.get("MAX_HTML_ELEMENTS")
        if count > limit:
            # no report page has this many elements: skip the (slow) main-text
            # detection and read the whole page, once
            huge = True
            notes.append(f"网页元素过多（{count:,} 个，上限 {limit:,} 个），未做正文识别，已提取整个页面的文字")

    fast = doc is not None and sum(1 for _ in doc.iter(*_BLOCKS)) > FAST_BLOCKS
    body, meta_title = (None, None) if huge else _trafilatura(copy.deepcopy(doc) if doc is not None else text, fast)
    lines: list[str] = []
    if body is not None and len(body) <= 1 and "\n" in "".join(body.itertext()).strip():
        # trafilatura's last-resort baseline: the whole page flattened into one
        # block (small pages); our own rendering of <body> keeps the structure
        body = None
    cut: list = []
    if body is not None:
        try:
            lines = _render(body, traf=True, cut=cut)
        except Exception:  # noqa: BLE001
            lines = []
    if not lines and doc is not None:
        try:
            lines = _fallback_lines(doc, cut)
            if lines and not huge:
                notes.append("未能识别网页正文区域，已提取整个页面的文字（可能含导航等无关内容）")
        except Exception:  # noqa: BLE001
            lines = []
    if not lines and doc is None:
        raise IngestError("网页无法解析（HTML 结构损坏或不是网页文件）")

    page_lines: list[str] = []
    if doc is not None and not huge:
        try:
            page_lines = _render(doc, traf=False)
        except Exception:  # noqa: BLE001
            page_lines = []
    try:
        fields = _fields(doc, page_lines or lines)
    except Exception:  # noqa: BLE001 - metadata is a bonus, never a failure
        fields = {}
    try:
        title, from_h1 = _title(doc, meta_title)
    except Exception:  # noqa: BLE001
        title, from_h1 = None, False

    if cut:
        notes.append(f"网页内容过长（超过上限 {settings.get('MAX_CHARS'):,} 字或 {settings.get('MAX_PARAGRAPHS'):,} 段），"
                     "仅分析了前面部分的内容，其后内容未读取")
    lines = [ln for ln in lines if not _is_chrome(ln)]
    if title and from_h1:
        head = [ln.lstrip("#").strip().strip("*") for ln in lines[:5]]
        if title not in head:
            lines.insert(0, f"# {title}")
    return RawDoc(text="\n".join(lines), format="html", encoding=enc, fields=fields, title=title, notes=notes)
