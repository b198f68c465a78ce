from hypothesis import given, strategies as st

from fazhi.textnorm import has_traditional, shadow


def test_shadow_simplifies_and_folds_width_keeping_length():
    t = "司法部２０１９年法治政府建設年度報告（全文）"
    s = shadow(t)
    assert len(s) == len(t)
    assert s == "司法部2019年法治政府建设年度报告(全文)"


def test_simplified_legal_text_is_not_taken_for_traditional():
    assert not has_traditional("法律顾问审查合同，依法行政，律师参与法律援助，律师事务所。" * 5)
    assert has_traditional("加強黨對法治政府建設的領導")


@given(st.text())
def test_shadow_never_changes_length(t):
    assert len(shadow(t)) == len(t)


def test_literal_needs_never_rules_out_a_match():
    """``may_match`` is a prefilter: wherever a pattern matches, it says it may."""
    import random
    import re

    from fazhi.textnorm import literal_needs, may_match

    atoms = ["a", "b", "密", "ab", "[ab]", "[a-c]", r"\s", ".", "(a|b)", "(?:ab|c)", "(?=a)", "(?<=b)", "^", "$"]
    quants = ["", "", "*", "+", "?", "{2}", "{0,2}", "++"]
    rnd = random.Random(7)
    for _ in range(3000):
        pat = "".join(rnd.choice(atoms) + rnd.choice(quants) for _ in range(rnd.randint(1, 4)))
        if rnd.random() < 0.3:
            pat += "|" + "".join(rnd.choice(atoms) for _ in range(rnd.randint(1, 3)))
        try:
            rx = re.compile(pat, re.M)
        except re.error:
            continue
        for _ in range(20):
            text = "".join(rnd.choice("ab密c \n") for _ in range(rnd.randint(0, 8)))
            if rx.search(text):
                assert may_match(rx, text), (pat, text, literal_needs(rx))
    assert literal_needs(re.compile("内部资料|不得外传")) == ("不得外传", "内部资料")
    assert literal_needs(re.compile("x|y*")) is None


def test_tester_agrees_with_search():
    """``tester(rx)`` is a search whose result is truthy exactly when ``rx.search``'s
    is, for any text, pos and endpos (random patterns, then the catalog's)."""
    import random
    import re

    from fazhi import facts
    from fazhi.textnorm import tester

    atoms = ["a", "b", "密", "ab", "[ab]", "[a-c]", r"\s", r"\d", ".", "(a|b)", "(?:ab|c)", "(?=a)", "(?<=b)",
             "(?<!a)", "^", "$", r"\b", "(?i:a)", "[^a]"]
    quants = ["", "", "*", "+", "?", "{2}", "{0,2}", "++"]
    rnd = random.Random(11)
    pats = []
    for _ in range(3000):
        pat = "".join(rnd.choice(atoms) + rnd.choice(quants) for _ in range(rnd.randint(1, 4)))
        if rnd.random() < 0.4:
            pat += "|" + "".join(rnd.choice(atoms) for _ in range(rnd.randint(1, 3)))
        try:
            pats.append(re.compile(pat, rnd.choice([0, re.M])))
        except re.error:
            continue
    R = facts._rules()
    words = set()
    for rx in [R.plan, R.from_re, R.rate_not] + [i.trigger for lst in R.by_unit.values() for i in lst if i.trigger]:
        pats.append(rx)
        words.update(re.findall(r"[\u4e00-\u9fff]+", rx.pattern))
    pieces = sorted(words) + list("ab密c \n1,，的由")
    for rx in pats:
        test = tester(rx)
        for _ in range(30):
            text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
            a = rnd.randint(0, len(text))
            b = rnd.randint(a, len(text))
            assert bool(test(text)) == bool(rx.search(text)), (rx.pattern, text)
            assert bool(test(text, a, b)) == bool(rx.search(text, a, b)), (rx.pattern, text, a, b)


def test_hard_stops_is_soft_break_written_out():
    """``hard_stops`` (the loop the facts and the numeric rules run) drops exactly the
    stops that ``soft_break`` calls hard wraps, with and without extra characters before."""
    import random

    from fazhi.textnorm import hard_stops, soft_break

    rng = random.Random(7)
    alphabet = ["\n", "字", "3", "%", "。", "a", " ", "；"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        stops = [i for i, c in enumerate(text) if c in "\n。；"]
        for before in ("", "%"):
            want = [i for i in stops if text[i] != "\n" or not soft_break(text, i, before)]
            assert hard_stops(text, list(stops), before) == want, (text, before)
    assert soft_break("增长12%\n以上", 5, "%") and not soft_break("增长12%\n以上", 5)


def test_hard_stops_wide_alphabet():
    """The hard-wrap scan behind ``hard_stops`` (a line break between two characters
    outside ``_NOT_WORD``) finds every break ``soft_break`` calls a wrap: held to the
    old loop on random strings of CJK, ASCII, full-width and astral digits, circled
    numbers, punctuation and the ``before`` characters."""
    import random

    from fazhi.textnorm import hard_stops, soft_break

    def old(text, stops, before):  # the loop hard_stops was
        last = len(text) - 1
        kept = []
        for i in stops:
            if text[i] == "\n" and 0 < i < last:
                a = text[i - 1]
                if "\u4e00" <= a <= "\u9fff" or a.isdigit() or a in before:
                    b = text[i + 1]
                    if "\u4e00" <= b <= "\u9fff" or b.isdigit():
                        continue
            kept.append(i)
        return kept

    rng = random.Random(11)
    alphabet = list("\n\n\n字一3９①²%。，：）】a ;！") + ["\U0001d7cf", "\u3000", "\r", "㊀", "٣"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        stops = [i for i, c in enumerate(text) if c in "\n\r。；;！"]
        for before in ("", "%", "，"):
            assert hard_stops(text, list(stops), before) == old(text, stops, before), (text, before)
            assert hard_stops(text, list(stops), before) == [
                i for i in stops if text[i] != "\n" or not soft_break(text, i, before)]
