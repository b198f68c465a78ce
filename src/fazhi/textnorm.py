"""Length-preserving normalisation for matching.

``shadow(text)`` returns a string of exactly the same length as ``text`` in
which traditional characters are simplified (OpenCC ``t2s``), full-width ASCII
is folded to half-width and the ideographic space becomes a plain space.  All
matching (headings, units, indicators, dates) runs on the shadow, and every
offset found there is valid in the original text, which keeps the characters the
author wrote.

Developer note on the cost of scans (issue 14, measured on the seed reports,
3.9 K characters, CPython 3.11): a regex search led by a character class
(``[0-9一二…]``, an alternation of words, whose first characters the engine
collects into a class) costs ~7 ns per character of CJK text, ~25-30 µs over a
seed, whatever it finds; led by one literal character ~1 ns per character; a
``str.find`` 0.3-1 ns; ``str.isprintable`` or ``in`` far less.  Each hit of a
scan's leading class costs ~0.3 µs more (the pattern tried there).  So a pass
over the whole text is cheap only when it is led by a literal or done by a
``str`` method: the hot whole-text scans are split per leading character
(``dates._by_century``, ``clean._strip_pinyin``, ``regions._suffix_ends``) or
asked once for several consumers (``hints_and_wide``, ``Cleaned.no_wide`` /
``no_traditional``, ``positions``, ``quantities.find``).  What is left per seed
(valgrind, ~12.5 M instructions against 1.6 M for the benchmark's baseline) is
spread: the class scans that cannot be split (the quantity candidates, led by
every digit and numeral; the traditional/full-width test of the raw text; the
province short names; vocabulary alternations such as the classified markers),
and Python work per quantity (facts' context and indicator tests ~15 µs, the
numeric checks ~7 µs) and per line (clean, outline, meta's field rows).
"""
from __future__ import annotations

import re
from functools import lru_cache

# full-width ASCII block -> ASCII, ideographic space -> space, a few look-alikes
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20,
               0x200B: None})
_WIDTH.pop(0x200B)  # zero-width space is removed by clean, not here (length!)
# keep 。 ， etc. as they are only through the width table; CJK punctuation stays

# the same mapping as a regex + function: only the (few) full-width characters
# cost a call, where str.translate would look up every character of the text
_FOLD_RE = re.compile("[\uff01-\uff5e\u3000\u00a0\u2002\u2003\u2009]")


# an O between digits; the pattern starts with its character class (the lookbehinds
# come after it) so that the regex engine skips to the candidates, not trying a
# lookbehind at every position of the text
_OCR_O = "OoＯо"  # O-like letters (Latin, full-width, Cyrillic)
_O1, _O2, _O3, _O4 = _OCR_O
_OCR_DIGIT = re.compile(rf"[{_OCR_O}](?:(?<=\d.)(?=[\d\-/.年月日])|(?<=[\-/.年].)(?=\d))")


def _fold(m: re.Match) -> str:
    return chr(_WIDTH[ord(m.group())])


# A cheap test for "may contain traditional characters": any char in this set.
# (Common traditional-only characters in these reports; OpenCC does the real work.)
_TRAD_HINT = re.compile(
    "[設這個們會來時為說國過對學長問開與關當點發經還後現從實體務員動種應頭將間處麼區縣鄉鎮"
    "報紀黨黃陝廣東遼寧龍貴書參總計劃辦規範執監調護訴訟類據專題議論認識讓請語證讀變顯義"
    "屬層嚴廳幹聯網導術條紮權責衛級濟環]"
)


# either a traditional hint or a character to fold (the two sets are disjoint)
assert _TRAD_HINT.pattern[0] == _FOLD_RE.pattern[0] == "[" and _TRAD_HINT.pattern[-1] == _FOLD_RE.pattern[-1] == "]"
_TRAD_OR_WIDE = re.compile(f"[{_TRAD_HINT.pattern[1:-1]}{_FOLD_RE.pattern[1:-1]}]")


@lru_cache(maxsize=1)
def _converter():
    import opencc  # imported lazily: only texts with traditional characters need it

    return opencc.OpenCC("t2s")


TRAD_WINDOW = 20000  # has_traditional reads the text's first this many characters


def traditional_hints(text: str) -> int:
    """How many of ``_TRAD_HINT``'s characters the first ``TRAD_WINDOW`` characters
    hold, counted up to 3 (all ``has_traditional`` needs to know: a traditional
    text holds thousands, and a list of them all costs)."""
    search, end = _TRAD_HINT.search, min(len(text), TRAD_WINDOW)
    n = pos = 0
    while n < 3 and (m := search(text, pos, end)) is not None:
        n += 1
        pos = m.end()
    return n


def hints_and_wide(text: str) -> tuple[int, bool]:
    """``(traditional_hints(text), has_wide(text))``, in one scan of the text for
    either kind of character where the text holds neither (most texts), else
    in at most one more (the search for the kind still wanted takes over)."""
    search, n, pos = _TRAD_OR_WIDE.search, 0, 0
    while (m := search(text, pos)) is not None:
        p = m.start()
        if _FOLD_RE.match(text, p):
            # no hint before p was passed over: the rest are counted from p on
            end = min(len(text), TRAD_WINDOW)
            while n < 3 and (h := _TRAD_HINT.search(text, p + 1, end)) is not None:
                n += 1
                p = h.start()
            return n, True
        if p < TRAD_WINDOW:
            n += 1
        if n >= 3 or p >= TRAD_WINDOW:
            return n, _FOLD_RE.search(text, p + 1) is not None
        pos = p + 1
    return n, False


def has_traditional(text: str, hints: int | None = None) -> bool:
    """``hints``: ``traditional_hints(text)`` when the caller has counted them."""
    n = traditional_hints(text) if hints is None else hints
    return n >= 3 or (n >= 1 and len(text) < 200)


def to_simplified(text: str) -> str:
    """Simplify ``text`` keeping its length (falls back to char-by-char)."""
    conv = _converter()
    out = conv.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c2 if len(c2 := conv.convert(c)) == 1 else c for c in text)


def has_wide(text: str) -> bool:
    """Does ``text`` hold a character ``shadow`` folds (full-width ASCII, the odd spaces)?"""
    return _FOLD_RE.search(text) is not None


def shadow(text: str, traditional: bool | None = None, wide: bool | None = None) -> str:
    """Return the matching form of ``text``; ``len(shadow(t)) == len(t)``.

    ``traditional`` forces (or skips) simplification; by default it is decided
    from the text itself.  Callers that shadow a document line by line decide
    once for the whole document and pass it.  ``wide=False``: the caller knows
    that ``has_wide(text)`` is false (no scan for what to fold).
    """
    s = _FOLD_RE.sub(_fold, text) if wide is not False and _FOLD_RE.search(text) else text
    # four `in` tests are faster than the pattern's search (most texts have no O)
    if (_O1 in s or _O2 in s or _O3 in s or _O4 in s) and _OCR_DIGIT.search(s):
        s = _OCR_DIGIT.sub("0", s)  # OCR reads 0 as O between digits: 2O23-03-01
    if traditional if traditional is not None else has_traditional(s):
        s = to_simplified(s)
    assert len(s) == len(text)
    return s


# ----------------------------------------------------------------- prefilter
def _needs(seq) -> frozenset[str] | None:
    """Strings one of which every match of the parsed sequence ``seq`` contains
    (None: no such set found).  Of the candidates of the sequence - a run of
    literal characters, a group's or a repeated item's needs, a small character
    class - the most selective is kept."""
    from re import _constants as c

    cands: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in seq:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            cands.append(frozenset(["".join(run)]))
            run = []
        r = None
        if op is c.SUBPATTERN:
            r = _needs(av[3])
        elif op is c.ATOMIC_GROUP:
            r = _needs(av)
        elif op is c.BRANCH:
            rs = [_needs(b) for b in av[1]]
            r = None if any(x is None for x in rs) else frozenset().union(*rs)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            r = _needs(av[2])
        elif op is c.IN and all(o is c.LITERAL for o, _ in av) and len(av) <= 8:
            r = frozenset(chr(v) for _, v in av)
        if r:
            cands.append(r)
    if run:
        cands.append(frozenset(["".join(run)]))
    if not cands:
        return None
    return max(cands, key=lambda s: (min(map(len, s)), -len(s)))


def literal_needs(rx: re.Pattern) -> tuple[str, ...] | None:
    """Strings one of which occurs in every text ``rx`` matches, or None when
    none are found (case-insensitive patterns: None).  ``may_match`` tests them
    with ``str.find`` - far faster than a search that fails at every position."""
    if rx.flags & re.IGNORECASE:
        return None
    from re import _parser

    try:
        got = _needs(_parser.parse(rx.pattern, rx.flags).data)
    except Exception:  # noqa: BLE001 - an unexpected parse tree: no prefilter
        return None
    return tuple(sorted(got)) if got and all(got) else None


_NEEDS: dict[re.Pattern, tuple] = {}  # pattern -> (its needs or None, a search for any of them or None)


def may_match(rx: re.Pattern, text: str, start: int = 0, end: int | None = None) -> bool:
    """False when ``rx`` cannot match in ``text[start:end]`` (none of its needed
    strings occurs there); True when it may."""
    try:
        needs, alt = _NEEDS[rx]
    except KeyError:
        needs = literal_needs(rx)
        # three words or more: one scan for their alternation (led by their first
        # characters) is faster than a ``str.find`` per word
        alt = (re.compile("|".join(re.escape(w) for w in sorted(needs, key=len, reverse=True))).search
               if needs is not None and len(needs) >= 3 else None)
        _NEEDS[rx] = needs, alt
    if needs is None:
        return True
    e = len(text) if end is None else end
    if alt is not None:
        return alt(text, start, e) is not None
    return any(text.find(w, start, e) >= 0 for w in needs)


# ------------------------------------------------------------ punctuation
# the sentence-ending characters the facts and the numeric rules split on
# (the shadow folds ！？； to !?; — both forms are looked for)
SENTENCE_STOPS = "。；;!！?？\n\r"

_positions_of: tuple[str | None, str, list[int]] = (None, "", [])  # the last text scanned

def soft_break(text: str, i: int, before: str = "") -> bool:
    """A single line break at ``i`` between two word characters (CJK or digits; before it
    also one of ``before``) is a hard wrap (PDF text), not a paragraph end."""
    if i <= 0 or i + 1 >= len(text):
        return False
    a, b = text[i - 1], text[i + 1]
    return ("\u4e00" <= a <= "\u9fff" or a.isdigit() or a in before) and ("\u4e00" <= b <= "\u9fff" or b.isdigit())


def hard_stops(text: str, stops: list[int], before: str = "") -> list[int]:
    """``stops`` (offsets in ``text``) less the line breaks among them that are hard wraps
    (``soft_break``).  The wraps are found by one scan of the text for a line break
    between two characters that may be word characters (``_wrap_candidates``), each
    candidate then told by ``soft_break`` itself: most texts have none, and the stops
    need no pass in Python."""
    if "\n" not in text:
        return stops
    soft = [i for i in _wrap_candidates(text, before) if soft_break(text, i, before)]
    if not soft:
        return stops
    drop = set(soft)
    return [i for i in stops if i not in drop]


# characters that are neither CJK nor digits: a line break after or before one of
# them is no hard wrap (the ends of most lines: 。, ：, a closing bracket)
_NOT_WORD = "\t\n\r 。，,、；;：:？?！!)）】]」』”’\"'…—《》<>%"


@lru_cache(maxsize=4)
def _wrap_re(before: str) -> re.Pattern:
    """A line break between two characters none of ``_NOT_WORD`` (but those of
    ``before`` allowed before it): a superset of the breaks ``soft_break`` calls
    hard wraps, found without a class of every CJK character and digit."""
    left = re.escape("".join(c for c in _NOT_WORD if c not in before))
    return re.compile(f"\n(?<=[^{left}]\n)(?=[^{re.escape(_NOT_WORD)}])")


# the last (text, before) scanned for hard wraps and the candidates found
_wraps_of: tuple[str | None, str, list[int]] = (None, "", [])


def _wrap_candidates(text: str, before: str = "") -> list[int]:
    """Offsets of the line breaks of ``text`` that may be hard wraps (a superset of
    those ``soft_break`` calls so); the last answer is kept (the facts and the
    numeric rules ask for the same text)."""
    global _wraps_of
    t, b, got = _wraps_of
    if t is not text or b != before:
        got = [m.start() for m in _wrap_re(before).finditer(text)]
        _wraps_of = (text, before, got)
    return got


def positions(text: str, chars: str = SENTENCE_STOPS) -> list[int]:
    """The sorted offsets in ``text`` of the characters ``chars`` (a fresh list).

    ``str.find`` per character: it skips through CJK text many times faster
    than a regex character class.  The facts and the numeric rules ask for the
    same text's stops: the last answer is kept (the text itself is held, so
    ``is`` cannot mistake another; one tuple read and written whole)."""
    global _positions_of
    t, c, got = _positions_of
    if t is not text or c != chars:
        got = []
        find = text.find
        for ch in chars:
            i = find(ch)
            while i >= 0:
                got.append(i)
                i = find(ch, i + 1)
        got.sort()
        _positions_of = (text, chars, got)
    return list(got)


# ------------------------------------------------------------ fast tests
def _class_items(items) -> list[str] | None:
    """A parsed character class as class text, or None (negated, other categories)."""
    from re import _constants as c

    out = []
    for op, av in items:
        if op is c.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is c.RANGE:
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is c.CATEGORY and av in _categories():
            out.append(_categories()[av])
        else:
            return None
    return out


def _firsts(seq) -> tuple[list[str], bool] | None:
    """(class text of the characters a match of the parsed sequence ``seq`` can
    start with, whether it can match the empty string), or None when unknown.
    Zero-width items (look-arounds, anchors) are passed over: the set is then
    a superset, which is all a prefilter needs."""
    from re import _constants as c

    got: list[str] = []
    for op, av in seq:
        if op is c.LITERAL:
            return got + [re.escape(chr(av))], False
        if op is c.IN:
            cl = _class_items(av)
            return None if cl is None else (got + cl, False)
        if op in (c.ASSERT, c.ASSERT_NOT, c.AT):
            continue
        if op is c.SUBPATTERN:
            if av[1] or av[2]:  # (?i:...) and other local flags
                return None
            r = _firsts(av[3])
        elif op is c.ATOMIC_GROUP:
            r = _firsts(av)
        elif op is c.BRANCH:
            r = ([], False)
            for b in av[1]:
                x = _firsts(b)
                if x is None:
                    return None
                r = (r[0] + x[0], r[1] or x[1])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            r = _firsts(av[2])
            if r is not None:
                r = (r[0], r[1] or av[0] == 0)
        else:
            return None
        if r is None:
            return None
        got += r[0]
        if not r[1]:
            return got, False
    return got, True


@lru_cache(maxsize=1)
def _categories() -> dict:
    from re import _constants as c

    return {c.CATEGORY_DIGIT: digit_class(), c.CATEGORY_SPACE: r"\s", c.CATEGORY_WORD: r"\w"}


@lru_cache(maxsize=1)
def digit_class() -> str:
    """Class text (for inside ``[...]``) of a superset of what ``\\d`` matches: the
    BMP's decimal digits as ranges and every astral character.  The engine tests
    a class of ranges several times faster than the Unicode category ``\\d``: a
    scan led by it skips through a text faster."""
    import array

    bmp = array.array("I", range(0x10000)).tobytes().decode("utf-32-le", "surrogatepass")
    ranges = [f"{re.escape(m.group()[0])}-{re.escape(m.group()[-1])}" for m in re.finditer(r"\d+", bmp)]
    return "".join(ranges) + "\U00010000-\U0010ffff"


def _has_prefix(rx: re.Pattern) -> bool:
    """Does the engine skip to the candidates of ``rx`` by itself (a literal
    prefix or a leading character set)?  Then its search is as fast as a test."""
    from re import _compiler, _parser

    try:
        tree = _parser.parse(rx.pattern, rx.flags)
        return bool(_compiler._get_literal_prefix(tree, rx.flags)[0] or _compiler._get_charset_prefix(tree, rx.flags))
    except Exception:  # noqa: BLE001 - internals of another Python version: assume not
        return False


_TESTS: dict[re.Pattern, object] = {}


def tester(rx: re.Pattern):
    """A search function whose result is truthy exactly when ``rx.search``'s is
    (same arguments: text, pos, endpos); the match it returns is no match of
    ``rx``: use it as a test only.

    Python's regex engine skips through a text to the candidates only when a
    pattern starts with a literal or a character class; a pattern led by a
    look-behind, a group or an alternation of groups is tried at every position.
    The test pattern starts with the class of the characters a match of ``rx``
    can start with, then asserts ``rx`` at that character:
    ``[F](?<=(?=(?:rx))(?s:.))`` - the engine skips to the candidates, and tries
    ``rx`` once at each, as the plain search does at every position."""
    try:
        return _TESTS[rx]
    except KeyError:
        pass
    if len(_TESTS) >= 4096:  # patterns compiled again and again (users' rule files): stay bounded
        _TESTS.clear()
    fn = rx.search
    if isinstance(rx.pattern, str) and not rx.flags & (re.IGNORECASE | re.VERBOSE | re.LOCALE):
        from re import _parser

        try:
            r = _firsts(_parser.parse(rx.pattern, rx.flags).data)
        except Exception:  # noqa: BLE001 - an unexpected parse tree: the plain search
            r = None
        if r is not None and r[0] and not r[1] and not _has_prefix(rx):
            try:
                fn = re.compile(f"[{''.join(sorted(set(r[0])))}](?<=(?=(?:{rx.pattern}))(?s:.))", rx.flags).search
            except re.error:
                fn = rx.search
    _TESTS[rx] = fn
    return fn
