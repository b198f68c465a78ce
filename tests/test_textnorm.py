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
