from fazhi.clean import clean


def lines(text):
    c = clean(text)
    return [c.line_text(ln) for ln in c.lines], c


def test_portal_chrome_removed_body_kept():
    raw = "\n".join([
        "您当前的位置：首页 > 政务公开 > 法治政府建设年度报告",
        "字号：【大 中 小】 打印 分享到：微信 微博",
        "某某区2023年度法治政府建设情况报告",
        "发布时间：2024-03-01 浏览次数：125",
        "一、主要举措和成效",
        "全年审查合同120份。",
        "扫一扫在手机打开当前页",
        "网站地图 | 联系我们",
        "版权所有：某某区人民政府 ",
        "京ICP备12345678号 京公网安备 11010502000001号",
    ])
    ls, _ = lines(raw)
    assert ls[0] == "某某区2023年度法治政府建设情况报告"
    assert "一、主要举措和成效" in ls and "全年审查合同120份。" in ls
    assert not any(("位置" in x or "扫一扫" in x or "ICP" in x or "版权" in x or "网站地图" in x) for x in ls)
    # the metadata row survives, its chrome fragment does not
    assert any(x.startswith("发布时间：2024-03-01") and "浏览" not in x for x in ls)


def test_mirror_spam_removed():
    ls, _ = lines("市政府、bei365官网_365bet体育在线平台_beat365最新版政府荣获全省示范。")
    assert ls == ["市政府、政府荣获全省示范。"]


def test_markdown_marks_become_hints():
    ls, c = lines("## 一、主要举措和成效\n**二、存在的不足和原因**\n正文有**加粗**的词。")
    assert ls == ["一、主要举措和成效", "二、存在的不足和原因", "正文有加粗的词。"]
    assert c.lines[0].hint == ("md", 2)
    assert c.lines[1].hint == ("bold", 0)
    assert c.lines[2].hint is None


def test_page_break_inside_word_rejoined():
    first = "2022年,本街道持续推进法治政府建设,不断完善制度体系,深入推进依法行政,全面推进法治政府建"
    ls, _ = lines(first + "\n\n设,取得明显成效,群众满意度进一步提高。\n二、存在的不足和原因")
    assert ls[0] == first + "设,取得明显成效,群众满意度进一步提高。"
    assert ls[1] == "二、存在的不足和原因"


def test_heading_after_open_line_not_joined():
    first = "区司法局被评为先进集体,法治建设经验做法先后15次被国家级重要媒体宣传报道并被相关部门推介推广"
    ls, _ = lines(first + "\n\n主要工作\n(一)党政主要负责人履行推进法治建设第一责任人职责")
    assert ls == [first, "主要工作", "(一)党政主要负责人履行推进法治建设第一责任人职责"]


def test_hard_wrap_spaces_and_pinyin_glosses():
    ls, _ = lines("推进法 治政府建设\n法治政府建設(shè)年度報告")
    assert ls == ["推进法治政府建设", "法治政府建設年度報告"]


def test_metadata_row_spaces_kept():
    ls, _ = lines("索取号 AC6040203-2022-021 文    号 沪市监法规20220029号\n日期:2023年05月11日   作者:某乡党政办公室")
    assert "文    号 沪市监" in ls[0]
    assert "作者" in ls[1] and "日   作者" in ls[1]


def test_offsets_line_up():
    _, c = lines("标题\n\n一、主要工作\n正文。")
    for ln in c.lines:
        assert c.text[ln.start:ln.end] == c.line_text(ln)
        assert "\n" not in c.text[ln.start:ln.end]
