"""Shared scans of the engine held to the definitions they replace.

Each speed change of issue 14 that replaces a scan (a Python loop, a count) by
another one keeps the old definition here and compares both on the dev texts and
on thousands of random strings of a relevant alphabet.
"""
from __future__ import annotations

import random
from pathlib import Path

DEV = Path(__file__).parent / "data" / "dev"

# whitespace of every kind str.split knows (\x1c-\x1f, \x85, \u2028, \u3000 ...) and not
_BLANKS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "\u200b"]


def test_nonblank_is_length_positive():
    """``content._bare`` asks "is anything written in [a, b)" with one search of
    ``\\S``; it was ``length(sh, a, b) > 0`` (characters less the blanks of ``str.split``)."""
    from fazhi.rules.content import _NONBLANK, length

    rng = random.Random(3)
    alphabet = _BLANKS + list("字a1。")
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        a = rng.randint(0, len(text) + 2)
        b = rng.randint(0, len(text) + 2)
        assert (_NONBLANK.search(text, a, b) is not None) == (length(text, a, b) > 0), (text, a, b)


def test_bare_headings_unchanged_on_dev_texts():
    """The bare headings ``mask`` blanks, by the new test and by the old count, on
    every dev text and on each with the bodies under its headings emptied."""
    from fazhi.pipeline import analyze_text
    from fazhi.rules import content as C
    from fazhi.textnorm import shadow

    def old_bare(node, sh, limit, out):
        end = min(node.end, limit)
        title_end = node.start + len(node.title)
        own, pos, kids_bare = 0, title_end, True
        for c in node.children:
            own += C.length(sh, pos, min(c.start, end))
            kids_bare &= old_bare(c, sh, end, out)
            pos = max(pos, min(c.end, end))
        own += C.length(sh, pos, end)
        if own == 0 and kids_bare:
            out.append((node.start, title_end))
            return True
        return False

    def walk(nodes):
        for n in nodes:
            yield n
            yield from walk(n.children)

    seen_bare = 0
    for f in sorted(DEV.glob("*.txt")):
        rep = analyze_text(f.read_text(encoding="utf-8"), f.name)
        sh = shadow(rep.text)
        # the same outline over a text whose bodies are blanked: every heading bare
        heads = {(n.start, n.start + len(n.title)) for n in walk(rep.outline)}
        blank = "".join(c if c == "\n" or any(a <= i < b for a, b in heads) else " " for i, c in enumerate(sh))
        for text in (sh, blank):
            for n in rep.outline:
                new, old = [], []
                assert C._bare(n, text, len(text), new) == old_bare(n, text, len(text), old)
                assert new == old
                seen_bare += len(new)
    assert seen_bare > 0


def test_plan_or_from_is_either_search():
    """``facts._classify`` asks "a plan word or 由…的 before the number" with one test
    of the two catalog patterns joined; it was the two searches."""
    from fazhi import facts as F

    R = F._rules()
    rng = random.Random(5)
    pieces = ["力争", "拟定", "草拟", "拟", "将于", "将开展", "确保", "达到", "由", "2021年", "的", "，",
              "。", "计划于", "不少于", "受理", "案件", "\n", "a", "字"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        want = bool(R.plan.search(text) or R.from_re.search(text))
        assert bool(R.plan_from_test(text)) == want, text
    # patterns that cannot be joined fall back to the two tests
    import re

    t = F._either(re.compile("(a)\\1"), re.compile("b"))
    assert t("aa") and t("b") and not t("ac")


def test_dropped_is_drop_match():
    """``clean._dropped`` (a search for the words the drop-line patterns need, then
    the union's match) is ``bool(drop.match(sh))`` on every dev line and on random
    lines of navigation and footer words."""
    from fazhi import clean as C
    from fazhi.textnorm import shadow

    drop = C._patterns()[0]
    assert C._drop_needs() is not None  # the prefilter is in use
    lines = [shadow(x.strip()) for f in sorted(DEV.glob("*.txt"))
             for x in f.read_text(encoding="utf-8").split("\n")]
    rng = random.Random(9)
    pieces = ["首页", ">", ">>", "»", "当前位置", "：", "版权所有", "ICP备", "第", "3", "页", "共", "/",
              "-", "—", " ", "微信", "微博", "QQ", "打印", "关闭", "【", "】", "http://", "www.", "x", "字",
              "EN", "English", "主办", "单位", "上一篇", "相关", "文章", "扫一扫在手机", "打开", "当前页"]
    lines += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 7))) for _ in range(20000)]
    for s in lines:
        assert C._dropped(s) == bool(drop.match(s)), s


def _old_wrap_width(lines):
    """``clean._wrap_width`` before it returned early (the definition it keeps)."""
    from collections import Counter

    from fazhi.clean import _SENT_END, _width

    body = [s for s, h in lines if s and not h]
    if len(body) < 8:
        return None
    open_ = Counter(w for w in (_width(s) for s in body if len(s) >= 12 and s[-1] not in _SENT_END) if w >= 24)
    if not open_:
        return None
    best, support = None, 0
    for w in open_:
        n = sum(open_.get(w - k, 0) for k in range(4))
        if n > support or (n == support and best is not None and w > best):
            best, support = w, n
    longer = sum(1 for s in body if len(s) > best + 2 or len(s) * 2 > best + 2 and _width(s) > best + 2)
    if support < max(6, 0.3 * len(body)) or longer > 0.1 * len(body):
        return None
    return max(range(best - 3, best + 1), key=lambda w: (open_.get(w, 0), w))


def test_wrap_width_unchanged():
    """The wrap width of every dev text (as read, and hard-wrapped at several
    widths) and of random line sets, by ``_wrap_width`` and by the old definition."""
    from fazhi import clean as C

    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    found = 0
    for text in texts:
        for width in (None, 17, 20, 33):
            t = text if width is None else "\n".join(
                ln[i:i + width] for ln in text.split("\n") for i in range(0, max(len(ln), 1), width))
            lines = [x for x in (C._line_start(r, False) for r in t.split("\n")) if x is not None]
            lines = [(s, h) for s, h, _ in lines]
            got = C._wrap_width(lines)
            assert got == _old_wrap_width(lines)
            found += got is not None
    assert found > 0
    rng = random.Random(13)
    for _ in range(3000):
        w = rng.randint(10, 40)
        lines = []
        for _ in range(rng.randint(0, 30)):
            n = rng.choice([w, w - 1, w - 2, w + 3, rng.randint(1, 60)])
            s = "".join(rng.choice("字字字a1，") for _ in range(n)) + rng.choice(["", "。", "字", "；"])
            lines.append((s, rng.choice([None, None, None, ("md", 1)])))
        assert C._wrap_width(lines) == _old_wrap_width(lines)


def test_pre_bare_test_is_a_superset():
    """``quantities._find`` runs the 近千人 pattern only where its test (led by 百千万)
    finds a word of PRE_APPROX right before 百/千/万: every text the pattern matches
    in passes the test (dev texts, random strings)."""
    from fazhi import quantities as Q
    from fazhi.textnorm import shadow

    pre_bare = Q._regexes()[2]
    test = Q._pre_bare_test()
    texts = [shadow(f.read_text(encoding="utf-8")) for f in sorted(DEV.glob("*.txt"))]
    rng = random.Random(17)
    pieces = list(Q.PRE_APPROX) + ["百", "千", "万", "亿", "人", "件", "余", "3", "大", "将", "过", "字", "，"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(30000)]
    hits = 0
    for t in texts:
        if pre_bare.search(t):
            hits += 1
            assert test(t), t
    assert hits > 100


def _old_classify(q, ctx, R):
    """``facts._classify`` before the untriggered fast path (the definition it keeps)."""
    from fazhi.facts import _unit_trigger, base_unit

    if q.kind == "other":
        return None
    if R.plan_test(ctx.L) or R.from_test(ctx.L):
        return None
    if q.kind == "rate" and (R.rate_not_test(ctx.L) or R.rate_not_test(ctx.R[:4])):
        return None
    best = best_key = None
    bu = base_unit(q.unit)
    union = _unit_trigger(R, bu)
    triggered = union is None or union(ctx.C) is not None
    for ind in R.by_unit.get(bu, ()):
        if best_key is not None and ind.priority < best_key[0]:
            break
        if ind.trigger is not None and (not triggered or not ind.test(ctx.C)):
            continue
        if any(ctx.has(sc, rx) for sc, rx in ind.nots):
            continue
        for rule, rule_not in ind.rules:
            if rule_not and any(ctx.has(sc, rx) for sc, rx in rule_not):
                continue
            d0, ok = None, True
            for k, (sc, rx) in enumerate(rule):
                d = ctx.dist(sc, rx)
                if d is None:
                    ok = False
                    break
                if k == 0:
                    d0 = d
            if ok:
                key = (ind.priority, -(d0 or 0))
                if best_key is None or key > best_key:
                    best, best_key = ind.id, key
                break
    return best


def test_classify_unchanged():
    """``facts._classify`` gives what the old loop gave for every quantity of the
    dev texts, in wide and narrow contexts, with the catalog as it is and with
    every third indicator's trigger taken away (the path for indicators without one)."""
    import copy

    from fazhi import facts as F
    from fazhi.quantities import find
    from fazhi.textnorm import shadow

    R0 = F._rules()
    R1 = copy.copy(R0)
    R1.by_unit, R1.unit_trigger, R1.untriggered = {}, {}, {}
    for u, lst in R0.by_unit.items():
        R1.by_unit[u] = [copy.copy(i) for i in lst]
        for k, i in enumerate(R1.by_unit[u]):
            if k % 3 == 1:
                i.trigger = i.test = None
    compared = found = 0
    for f in sorted(DEV.glob("*.txt")):
        norm = shadow(f.read_text(encoding="utf-8"))
        for q in find(norm):
            for left, right in ((12, 6), (40, 18), (3, 0)):
                ctx = F._Ctx(norm[max(0, q.start - left):q.start], norm[q.end:q.end + right],
                             (norm, max(0, q.start - 200), q.end + 200))
                for R in (R0, R1):
                    got = F._classify(q, ctx, R)
                    assert got == _old_classify(q, ctx, R), (f.name, q, R is R1)
                    compared += 1
                    found += got is not None
    assert compared > 1000 and found > 100


def test_no_traditional_holds_for_the_clean_text():
    """``clean`` says ``no_traditional`` only when the clean text holds none of the
    characters ``has_traditional`` counts, so that the pipeline's shadow need not
    count them again: dev texts, and random raw texts of markdown, chrome, spaces,
    invisible characters and a few traditional characters."""
    from fazhi.clean import clean
    from fazhi.textnorm import _TRAD_HINT, has_traditional, shadow, traditional_hints

    rng = random.Random(19)
    pieces = ["字", "法治", "。", "\n", "\n\n", "  ", "\u3000", "**", "# ", "> ", "\u200b", "打印", "【关闭】",
              "首页 > 政务", "（Fǎzhì）", "2022 年", "__", "x_y_z", "設", "這", "們", "國", "，", "1"]
    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    said = 0
    for raw in texts:
        c = clean(raw)
        if c.no_traditional:
            said += 1
            assert traditional_hints(c.text) == 0 and not _TRAD_HINT.search(c.text), raw
            assert not has_traditional(shadow(c.text, False))
            assert shadow(c.text, False) == shadow(c.text)
    assert said > 100


def test_invisible_per_printable_line():
    """``clean`` removes the invisible characters only from lines ``str.isprintable``
    fails: every character ``_INVISIBLE`` matches is unprintable, and the lines are
    those of the old whole-text pass (dev texts, random strings)."""
    from fazhi.clean import _INVISIBLE

    invisible = [chr(i) for i in range(0x10000) if _INVISIBLE.match(chr(i))]
    assert len(invisible) > 20 and not any(c.isprintable() for c in invisible)

    def new(raw):
        return [x if x.isprintable() else _INVISIBLE.sub("", x) for x in raw.split("\n")]

    rng = random.Random(23)
    alphabet = ["字", "a", " ", "\n", "\t", "\u3000", "\xa0"] + invisible[:8] + ["\u200b", "\ufeff", "\xad"]
    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(20000)]
    for raw in texts:
        assert new(raw) == _INVISIBLE.sub("", raw).split("\n"), repr(raw)


def test_traditional_hints_capped():
    """``has_traditional`` counts the hint characters only up to three (searches
    that stop there); it was ``len(findall(text[:20000]))`` against the same bounds."""
    from fazhi.textnorm import _TRAD_HINT, TRAD_WINDOW, has_traditional, traditional_hints

    def old(text):
        n = len(_TRAD_HINT.findall(text[:20000]))
        return n >= 3 or (n >= 1 and len(text) < 200)

    assert TRAD_WINDOW == 20000
    rng = random.Random(29)
    alphabet = ["字", "法", "設", "這", "們", "a", "\n"]
    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.choice([3, 50, 199, 200, 260])))
              for _ in range(5000)]
    texts += ["字" * 19998 + "設這們", "字" * 19999 + "設這們", "設" + "字" * 300, "設這" + "字" * 300]
    for t in texts:
        assert has_traditional(t) == old(t)
        assert traditional_hints(t) == min(3, len(_TRAD_HINT.findall(t[:20000])))


def test_last_stop_by_giving_back():
    """The last clause stop of a span, matched as ``(?s:.*)[stops]`` (``facts._LAST_EVENT``,
    ``numeric._LAST_STOP``), is the one the old search of a stop followed by none found."""
    import re

    from fazhi import facts as F
    from fazhi.rules import numeric as N

    cases = [(F._LAST_EVENT, F._EVENTS), (N._LAST_STOP, "".join(sorted(N._CLAUSE_STOPS)))]
    rng = random.Random(31)
    for new, chars in cases:
        old = re.compile(f"[{re.escape(chars)}](?=[^{re.escape(chars)}]*\\Z)")
        alphabet = list(chars) + ["字", "3", "a", " ", "\u3000"] * 3
        for _ in range(20000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
            a = rng.randint(0, len(text))
            b = rng.randint(a, len(text))
            m_old, m_new = old.search(text, a, b), new.match(text, a, b)
            assert (m_old is None) == (m_new is None), (text, a, b)
            if m_old is not None:
                assert m_new.end() == m_old.start() + 1, (text, a, b)


def test_strip_pinyin_is_the_sub():
    """``clean._strip_pinyin`` (one pattern per opening parenthesis, matches merged) is
    ``_PINYIN.sub("", s)`` on dev lines and random strings of parentheses, CJK,
    pinyin with tone marks and digits."""
    from fazhi.clean import _PINYIN, _strip_pinyin

    rng = random.Random(37)
    alphabet = list("()（）字法 ā1a2zü3)") + ["Fǎ", "zhì", "（fa3）", "(zhi4)", "\t"]
    texts = [x for f in sorted(DEV.glob("*.txt")) for x in f.read_text(encoding="utf-8").split("\n")]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(30000)]
    changed = 0
    for s in texts:
        want = _PINYIN.sub("", s)
        assert _strip_pinyin(s) == want, s
        changed += want != s
    assert changed > 500


def test_dates_by_century():
    """The numeric dates and years found by one pattern per century (``dates._by_century``)
    are ``DATE_RE``'s and ``YEAR_RE``'s matches (spans and groups), on the dev texts and
    on random strings of digits, separators and date pieces."""
    from fazhi import dates
    from fazhi.textnorm import shadow

    keys = ("y", "sep", "m", "d", "m2", "d2", "cy", "cm", "cd")
    rng = random.Random(41)
    alphabet = list("01292-/. 年月日号:字") + ["2019", "1999", "2020年", "2023-3-1", "2022年3月1日", "2021.12.31",
                                             "二〇二三年三月十五日", "12:30", "1920", "20"]
    texts = [shadow(f.read_text(encoding="utf-8")) for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(30000)]
    found = 0
    for s in texts:
        got = [(m.span(), [m.groupdict().get(k) for k in keys]) for m in dates._date_matches(s)]
        assert got == [(m.span(), [m.group(k) for k in keys]) for m in dates.DATE_RE.finditer(s)], s
        assert [m.span() for m in dates._year_matches(s)] == [m.span() for m in dates.YEAR_RE.finditer(s)], s
        found += len(got)
    assert found > 1000


def test_suffix_ends_and_mentions():
    """``regions._suffix_ends`` (a ``str.find`` loop per suffix character) gives the
    ends of ``_SUFFIX_RE``'s matches, and ``mentions`` over it what the scan gave,
    on dev texts and random strings of division names and suffixes."""
    from fazhi import regions as RG
    from fazhi.textnorm import shadow

    def old_mentions(text):  # mentions over _SUFFIX_RE, as it was
        idx, by_tail = RG.index(), RG._lengths_by_tail()
        found = []
        for m in RG._SUFFIX_RE.finditer(text):
            end = m.end()
            lens = by_tail.get(text[end - 2:end]) if end >= 2 else None
            if not lens:
                continue
            for n in lens:
                st = end - n
                if st < 0:
                    continue
                name = text[st:end]
                if name in idx:
                    if n == 2 and st > 0 and "\u4e00" <= text[st - 1] <= "\u9fff" and not (
                            found and found[-1][2] == st):
                        continue
                    found.append((name, st, end))
                    break
        found.sort(key=lambda t: (t[1], -(t[2] - t[1])))
        out, last_end = [], -1
        for t in found:
            if t[1] >= last_end:
                out.append(t)
                last_end = t[2]
        return out

    rng = random.Random(43)
    pieces = ["广东省", "广州市", "增城区", "和县", "安徽省", "市", "区", "县", "州", "盟", "旗", "省", "全市", "我区",
              "内蒙古自治区", "维吾尔自治区", "新疆", "字", "，", "\n", "朝阳区", "城市"]
    texts = [shadow(f.read_text(encoding="utf-8")) for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))) for _ in range(5000)]
    for t in texts:
        assert RG._suffix_ends(t) == [m.end() for m in RG._SUFFIX_RE.finditer(t)]
        assert RG.mentions(t) == old_mentions(t), t


def test_pre_bare_tests_per_character():
    """``quantities._pre_bare_test`` (a search per 百/千/万) is the class-led test it
    replaced."""
    import re

    from fazhi import quantities as Q

    lasts = "".join(sorted({a[-1] for a in Q.PRE_APPROX}))
    old = re.compile(f"[百千万](?<=[{lasts}].)")
    rng = random.Random(47)
    alphabet = list("百千万约超过近逾大将字3") + ["超过", "将近"]
    for _ in range(20000):
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        assert bool(Q._pre_bare_test()(t)) == bool(old.search(t)), t


def test_no_wide_holds_for_the_clean_text():
    """``clean`` says ``no_wide`` only when the clean text (and so each of its lines)
    holds no character ``shadow`` folds; the lines' shadows are the same with the
    scan skipped: dev texts, and random raw texts with and without full-width forms."""
    from fazhi import clean as C
    from fazhi.textnorm import has_wide, shadow

    rng = random.Random(53)
    pieces = ["字", "。", "\n", "  ", "**", "# ", "\u200b", "打印", "（Fǎzhì）", "2022 年", "a", "，",
              "ＡＢ", "１２", "\u3000", "\xa0", "：", "(", ")"]
    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    said = 0
    for raw in texts:
        c = C.clean(raw)
        if c.no_wide:
            said += 1
            assert not has_wide(c.text), raw
            assert shadow(c.text, None, False) == shadow(c.text)
        for line in raw.split("\n"):
            if not has_wide(line):
                assert C._line_start(line, False, False, False) == C._line_start(line, False), line
    assert said > 100


def test_hints_and_wide_in_one_scan():
    """``textnorm.hints_and_wide`` is ``(traditional_hints(t), has_wide(t))``: random
    strings of traditional hints, characters to fold and others, some longer than
    the window the hints are counted in."""
    from fazhi.textnorm import TRAD_WINDOW, has_wide, hints_and_wide, traditional_hints

    rng = random.Random(59)
    alphabet = ["字", "a", "設", "這", "們", "Ａ", "，", "\u3000", "\xa0", "。", "\n"]
    texts = [f.read_text(encoding="utf-8") for f in sorted(DEV.glob("*.txt"))]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20000)]
    for pre in ("", "設", "設這", "Ａ"):
        for post in ("", "設", "設這們", "Ａ", "設Ａ", "Ａ設這們"):
            texts.append(pre + "字" * (TRAD_WINDOW - len(pre) - 1) + post)
    for t in texts:
        assert hints_and_wide(t) == (traditional_hints(t), has_wide(t)), t[-8:]


def test_markdown_marks_needed():
    """``clean._line_start`` tries the markdown heading and bold-line patterns only on
    lines holding their marks: no line without ``#`` matches the one, none without
    ``**`` or ``__`` the other (random lines of marks, spaces and words)."""
    from fazhi.clean import _BOLD_LINE, _MD_HEADING

    rng = random.Random(61)
    alphabet = ["#", "*", "_", "**", "__", " ", "\u3000", "字", ":", "：", "a"]
    for _ in range(30000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        if _MD_HEADING.match(s):
            assert "#" in s
        if _BOLD_LINE.match(s):
            assert "**" in s or "__" in s
