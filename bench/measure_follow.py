"""Measure the follow-through matcher and choose its threshold.

There is no gold for follow-through, so the labelled set is built by hand:

- **plan items**: the next-year items that ``fazhi.corpus.follow.plan_items``
  finds in the dev reports (seed-000, seed-002, seed-004: 10 items; the 15
  page excerpts are cut before their next-year part);
- **positives**: for each item, three achievement sentences of the kind the
  next year's report would contain, written by hand below (past tense, numbers
  added, words changed and reordered — some close to the plan's wording, some
  far from it): 30 pairs;
- **negatives**: every achievement sentence of the dev reports (the evidence
  parts: achievements, leader duty, other) that is about another topic — a
  sentence containing one of the item's topic words is left out, since it might
  well report that plan done.  ``--hard`` also prints the figures when those
  same-topic sentences are counted as negatives (a pessimistic bound: some of
  them do report the plan done).

Two views, per threshold:

- **pairs**: every (item, sentence) pair, scored, P/R/F1;
- **items**: what ``fazhi corpus follow`` decides — each positive hidden among
  the item's negatives (correct when the best sentence is that positive and
  scores ≥ threshold), and each item once with no positive at all (a
  false 已落实 when anything scores ≥ threshold).

Run: ``.venv/bin/python bench/measure_follow.py [--hard]``.  The chosen method
and threshold are the constants ``METHOD`` / ``THRESHOLD`` in follow.py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fazhi.corpus import follow as fl  # noqa: E402
from fazhi.pipeline import analyze_path  # noqa: E402

DEV = ROOT / "tests" / "data" / "dev"

# (report, start of the item's title) -> (topic words, hand-written achievement sentences of year N+1)
LABELLED: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("seed-000", "加强法治培训"): (
        ["学法", "培训", "法治素养", "法律职业资格", "普法", "网络大学堂", "考试", "学习"],
        ["2023年，街道依托“广州普法”公众号和“网络大学堂”组织工作人员在线学法，参学率达100%。",
         "鼓励干部报考法律职业资格考试，全年新增3名工作人员取得法律职业资格证书。",
         "建立健全学法监督管理机制，将工作人员学法情况纳入年度考核，推动法治学习常态化、制度化。"]),
    ("seed-000", "扩充普法队伍"): (
        ["普法", "法律明白人", "法治文化", "法治乡村", "示范户", "宣传", "法治长廊", "阵地"],
        ["完成罗岗村法治长廊建设，罗岗村法治乡村工作室的功能进一步完善。",
         "全年培育村（社区）“法律明白人”56名、农村“学法用法示范户”20户，普法队伍不断壮大。",
         "联合村（社区）法律顾问、法官、检察官开展送法下乡活动45场，群众满意度明显提升。"]),
    ("seed-000", "壮大执法力量"): (
        ["执法", "下放"],
        ["组织在编在职人员参加行政执法资格考试，新增12人取得行政执法证，持证执法人员增加到35人。",
         "区级职能局派驻5名有经验的执法骨干到街道开展业务指导，下放的职权做到了接得住、用得好。",
         "经与区级职能部门沟通协调，较大影响案件的界定标准得到细化，全年组织执法业务培训6期。"]),
    ("seed-002", "进一步增强机关工作人员依法行政能力"): (
        ["依法行政", "法制办", "法律顾问", "规章制度", "法制", "参谋"],
        ["镇法制办充分发挥依法行政监督和参谋助手作用，全年对各部门单位开展依法行政指导检查8次。",
         "各部门单位严格执行依法行政各项规章制度，机关干部依法办事的自觉性明显增强。",
         "全年印发依法行政工作要点，对12个站所的规章制度执行情况开展了专项督查。"]),
    ("seed-002", "进一步提高重大行政决策质量和水平"): (
        ["决策", "合法性审查", "合法性审核", "集体讨论"],
        ["研究制定了《阴平镇重大行政决策工作指引》，对决策各环节的操作方法逐一细化。",
         "全年4项重大行政决策事项严格履行法定程序，全部经过合法性审查和集体讨论决定。",
         "重大行政决策质量稳步提高，没有发生因决策不当引发的行政复议和行政诉讼。"]),
    ("seed-002", "进一步推进行政执法规范化建设"): (
        ["执法", "执法人员", "执法队伍"],
        ["组织全体行政执法人员集中学习行政执法流程，举办执法业务培训3期、培训120人次。",
         "行政执法规范化建设取得新进展，一支政治可靠、业务精湛、作风过硬的执法队伍初步建成。",
         "执法人员处理涉法事务的能力明显增强，全年办理行政处罚案件46件，无一件被复议纠错。"]),
    ("seed-004", "持续加强干部学法用法工作"): (
        ["学法", "培训", "考试", "旁听庭审", "法治理论", "两委", "学习"],
        ["组织新提任领导干部参加法治理论考试，街道干部线上法治理论考试实现全覆盖。",
         "开展社区“两委”干部法治培训4场，各社区坚持会前学法，全年开展学法活动24次。",
         "将法治教育纳入干部教育培训计划，领导干部带头旁听庭审2次。"]),
    ("seed-004", "持续提升基层治理法治水平"): (
        ["法律服务", "智慧", "法律顾问", "调解", "枫桥", "纠纷", "矛盾", "柜员机"],
        ["“智慧村（居）法律顾问”平台注册人数由1万人增加到1.3万人，公共法律服务智能柜员机投入使用。",
         "坚持和发展新时代“枫桥经验”，健全调解组织网络，全年调解纠纷260件，调解成功率98%。",
         "在调解中引入心理疏导和干预，调解、信访、仲裁、行政复议、诉讼衔接的多元化解机制运行顺畅。"]),
    ("seed-004", "持续服务企业优化营商环境"): (
        ["营商", "企业", "项目", "纾困"],
        ["对标新区优化营商环境攻坚提升行动，走访服务企业120家次，帮助解决用工、施工保障等问题35个。",
         "以保姆式服务保障重大产业项目落地，协调解决项目推进中的难题18个。",
         "法治营商环境持续优化，为辖区企业开展“法治体检”30家次。"]),
    ("seed-004", "持续加大普法宣传教育力度"): (
        ["普法", "宣传", "法治文化", "法律进社区", "法律顾问", "新媒体", "阵地"],
        ["创新普法形式，运用微信视频号等新媒体推出普法短视频25个，为不同群体制作菜单式普法产品。",
         "深入开展“法律进社区”活动60场，社区法律顾问解答居民涉法咨询300余人次。",
         "新建法治文化广场1个，开展群众性法治文化活动12场。"]),
}

METHODS = ("overlap", "cosine", "maxpiece", "title", "token_set")
GRID = [round(x, 3) for x in np.arange(0.05, 0.951, 0.025)]


def load():
    docs = {f.stem: fl.Doc.from_report(analyze_path(f)) for f in sorted(DEV.glob("*.txt"))}
    pool = []  # (report, sentence) of every evidence part
    for name, d in docs.items():
        pool += [(name, p.text) for p in fl.evidence(d)]
    items = []
    for name, d in docs.items():
        for it in fl.plan_items(d):
            key = next((k for k in LABELLED if k[0] == name and it.title.startswith(k[1])), None)
            if key is None:
                raise SystemExit(f"no hand-written positives for {name}: {it.title}")
            items.append((name, it, *LABELLED[key]))
    if len(items) != len(LABELLED):
        raise SystemExit(f"{len(items)} plan items found, {len(LABELLED)} labelled")
    return docs, pool, items


def scored(docs, pool, items, method, hard=False):
    """Per item: (positive scores, negative scores)."""
    out = []
    for name, it, topic, pos in items:
        neg = [s for _n, s in pool if hard or not any(t in s for t in topic)]
        sents = pos + neg
        m = fl.Matcher([p.text for p in fl.sentences(docs[name].text)] + sents)
        sc = fl.item_scores(m, [it], sents, method)[0]
        out.append((sc[:len(pos)], sc[len(pos):]))
    return out


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pairs_at(res, t):
    tp = sum(int((ps >= t).sum()) for ps, _ in res)
    fn = sum(int((ps < t).sum()) for ps, _ in res)
    fp = sum(int((ns >= t).sum()) for _, ns in res)
    return tp, fp, fn


def items_at(res, t):
    """(right 已落实, wrong-evidence 已落实, missed, false 已落实 when absent) over the trials."""
    right = wrong = missed = false_abs = 0
    for ps, ns in res:
        nmax = ns.max() if len(ns) else 0.0
        for s in ps:
            if s >= t and s > nmax:
                right += 1
            elif max(s, nmax) >= t:
                wrong += 1
            else:
                missed += 1
        false_abs += nmax >= t
    return right, wrong, missed, false_abs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hard", action="store_true", help="also count same-topic sentences as negatives")
    args = ap.parse_args()
    docs, pool, items = load()
    n_pos = sum(len(x[3]) for x in items)
    n_neg = sum(sum(1 for _n, s in pool if not any(t in s for t in x[2])) for x in items)
    print(f"plan items {len(items)}, positive pairs {n_pos}, negative pairs {n_neg} "
          f"(evidence sentences in the dev reports: {len(pool)})\n")
    best = {}
    for method in METHODS:
        res = scored(docs, pool, items, method)
        f1s = [(prf(*pairs_at(res, t))[2], -t, t) for t in GRID]
        f, _, t = max(f1s)
        best[method] = (f, t, res)
        p, r, _ = prf(*pairs_at(res, t))
        print(f"{method:10s} best pair F1 {f:.3f} at threshold {t:.3f} (P {p:.3f} R {r:.3f})")
    method = max(best, key=lambda k: best[k][0])
    f, t_best, res = best[method]
    print(f"\nchosen: {method}, threshold {t_best:.3f}\n")
    print(f"{'thr':>6} | {'pairs P':>7} {'R':>5} {'F1':>5} (tp/fp/fn) | items: right wrong missed  false-when-absent  P     R     F1")
    for t in GRID:
        if t > 0.7:
            break
        tp, fp, fn = pairs_at(res, t)
        p, r, f1 = prf(tp, fp, fn)
        right, wrong, missed, fa = items_at(res, t)
        ip, ir, if1 = prf(right, wrong + fa, missed)
        mark = " <" if t == t_best else ""
        print(f"{t:6.3f} | {p:7.3f} {r:5.3f} {f1:5.3f} ({tp}/{fp}/{fn}) | "
              f"{right:>5}/{n_pos} {wrong:>5} {missed:>6}  {fa:>8}/{len(items)}  {ip:.3f} {ir:.3f} {if1:.3f}{mark}")
    if args.hard:
        hres = scored(docs, pool, items, method, hard=True)
        n_hneg = sum(len(ns) for _, ns in hres)
        print(f"\nwith same-topic sentences counted as negatives ({n_hneg} negative pairs):")
        for t in GRID:
            if t > 0.7:
                break
            tp, fp, fn = pairs_at(hres, t)
            p, r, f1 = prf(tp, fp, fn)
            right, wrong, missed, fa = items_at(hres, t)
            print(f"{t:6.3f} | P {p:.3f} R {r:.3f} F1 {f1:.3f} ({tp}/{fp}/{fn}) | items right {right}/{n_pos}, "
                  f"false when absent {fa}/{len(items)}" + (" <" if t == t_best else ""))


if __name__ == "__main__":
    main()
