"""A filled example ledger for a 街道 (deterministic, made up): the file in
``examples/ledger-example.xlsx`` and the fixture of the tests.

    fazhi ledger template --example examples/ledger-example.xlsx --year 2024
"""
from __future__ import annotations

import datetime as dt
import random

from .schema import Schema, load_schema

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾"
COMMUNITIES = ["白马社区", "鸳鸯社区", "礼嘉社区", "金山社区", "龙塘社区", "嘉景社区", "平场村", "龙兴村"]


def _day(rng: random.Random, year: int, lo: int = 1, hi: int = 358) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(lo - 1, hi - 1))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "某"


def example_data(year: int = 2024, unit: str = "礼嘉街道", seed: int = 2024) -> dict:
    rng = random.Random(seed)
    Y = year
    rows: dict[str, list[list]] = {}

    # 合同审查: 合同名称 相对方 金额 送审 完成 结论 审查人 备注
    kinds = ["物业服务委托合同", "安置房维修工程施工合同", "社区养老服务委托运营合同", "垃圾分类收运服务合同",
             "城市管理辅助服务采购合同", "法律顾问服务合同", "绿化养护服务合同", "办公场地租赁合同", "消防设施维保合同"]
    r = []
    for i in range(38):
        d = _day(rng, Y, 1, 350)
        r.append([f"{rng.choice(COMMUNITIES)}{rng.choice(kinds)}", f"重庆某{rng.choice(['物业', '建设', '服务', '科技'])}有限公司",
                  round(rng.uniform(2, 260), 2), d, d + dt.timedelta(days=rng.randint(1, 6)),
                  rng.choices(["同意签订", "修改后签订", "不同意签订"], [12, 25, 1])[0], "法律顾问" + _name(rng), None])
    rows["合同审查"] = r

    # 矛盾纠纷调解: 受理 类型 简况 当事人数 组织 调解员 结果 结案 金额 备注
    types = ["婚姻家庭", "邻里纠纷", "合同纠纷", "损害赔偿", "劳动争议", "物业纠纷", "土地山林", "其他"]
    brief = {"婚姻家庭": "赡养老人费用分担", "邻里纠纷": "楼上漏水损坏邻居房屋", "合同纠纷": "装修款结算争议",
             "损害赔偿": "宠物咬伤赔偿", "劳动争议": "追讨拖欠工资", "物业纠纷": "物业费收取争议",
             "土地山林": "承包地边界争议", "其他": "停车位使用争议"}
    results = ["成功"] * 59 + ["失败"] * 3 + ["终止"] * 2
    rng.shuffle(results)
    r = []
    for res in results:
        t = rng.choice(types)
        d = _day(rng, Y, 1, 340)
        amount = round(rng.uniform(0.2, 9.5), 2) if res == "成功" and t in ("合同纠纷", "损害赔偿", "劳动争议", "物业纠纷") else None
        r.append([d, t, brief[t], rng.choice([2, 2, 2, 3, 4]), rng.choice(COMMUNITIES) + "人民调解委员会", _name(rng),
                  res, d + dt.timedelta(days=rng.randint(1, 20)), amount, None])
    rows["矛盾纠纷调解"] = r

    # 行政复议: 案号 收到 申请人 事项 结果 结案 备注
    rows["行政复议"] = [
        [f"渝两江复〔{Y}〕{k}号", _day(rng, Y, 20 + k * 60, 40 + k * 60), _name(rng), matter, res, end, None]
        for k, (matter, res, end) in enumerate([
            ("不服违法建筑限期拆除决定", "维持", dt.date(Y, 4, 18)),
            ("不服政府信息公开答复", "调解和解结案", dt.date(Y, 7, 2)),
            ("不服责令改正通知书", "审理中", None),
        ], start=1)]

    # 行政应诉: 案号 收到 原告 案由 开庭 开庭日期 负责人出庭 出庭负责人 结果 备注
    lit = [("房屋征收补偿", "是", "是", "胜诉"), ("政府信息公开", "是", "是", "胜诉"), ("违法建筑强制拆除", "是", "是", "原告撤诉"),
           ("行政不作为", "是", "否", "胜诉"), ("房屋征收补偿", "是", "是", "审理中"), ("行政协议", "否", "否", "审理中")]
    r = []
    for k, (cause, heard, head, res) in enumerate(lit, start=1):
        d = _day(rng, Y, k * 50 - 40, k * 50)
        r.append([f"（{Y}）渝0192行初{30 + k * 7}号", d, _name(rng), cause, heard,
                  d + dt.timedelta(days=rng.randint(30, 60)) if heard == "是" else None, head,
                  rng.choice(["主任 ", "副主任 "]) + _name(rng) if head == "是" else None, res, None])
    rows["行政应诉"] = r

    # 普法宣传: 日期 名称 形式 地点 受众 资料 备注
    acts = [("民法典宣传月集中宣传", "集中宣传", 5, 20), ("“3·15”消费者权益保护法治宣传", "集中宣传", 3, 15),
            ("防范电信网络诈骗法治讲座", "法治讲座", None, None), ("“法律进社区”以案释法", "以案释法", None, None),
            ("“八五”普法法治文艺演出", "法治文艺", 9, 28), ("反家庭暴力法宣传", "集中宣传", None, None),
            ("安全生产法宣传咨询", "集中宣传", 6, 16), ("“宪法宣传周”线上答题", "线上宣传", 12, 2),
            ("“12·4”国家宪法日集中宣传", "集中宣传", 12, 4), ("青少年法治教育讲座", "法治讲座", None, None)]
    r = []
    for i in range(28):
        name, form, mo, da = acts[i % len(acts)]
        d = dt.date(Y, mo, da) if mo else _day(rng, Y, 10, 350)
        r.append([d, name, form, rng.choice(COMMUNITIES + ["礼嘉商圈", "辖区学校"]),
                  rng.choice([60, 80, 120, 150, 200, 300, 450]), rng.choice([0, 100, 200, 300, 500]), None])
    rows["普法宣传"] = r

    # 学法培训: 日期 名称 形式 人数 主讲人 备注
    study = [("党工委理论学习中心组专题学法", "中心组学法"), ("办事处主任办公会会前学法", "会前学法"),
             ("行政执法人员专题法治培训", "专题法治培训"), ("组织干部旁听行政案件庭审", "旁听庭审"), ("习近平法治思想专题讲座", "法治讲座")]
    rows["学法培训"] = [[_day(rng, Y, i * 25 + 5, i * 25 + 20), *study[i % len(study)], rng.choice([18, 25, 40, 60]),
                        rng.choice(["区司法局 ", "律师事务所 ", "区法院 "]) + _name(rng), None] for i in range(14)]

    # 学法考试: 日期 名称 参考 通过 备注
    rows["学法考试"] = [[dt.date(Y, 6, 20), "行政执法人员法律知识考试", 22, 22, None],
                      [dt.date(Y, 11, 15), "年度国家工作人员学法考试", 98, 96, None]]

    # 法律咨询: 日期 咨询人 方式 类别 人次 解答人 备注
    cats = ["婚姻家庭", "劳动争议", "合同", "物业", "土地房产", "其他"]
    r = []
    for i in range(60):
        r.append([_day(rng, Y), _name(rng), rng.choice(["现场", "现场", "电话", "网络"]), rng.choice(cats),
                  rng.choice([1, 1, 1, 2]), rng.choice(["社区法律顾问", "司法所工作人员"]), None])
    r.append([dt.date(Y, 12, 4), "（宪法日集中咨询）", "现场", "其他", 46, "社区法律顾问", "集中咨询活动"])
    rows["法律咨询"] = r

    # 法律援助: 编号 受理 受援人 类型 案由 承办人 状态 备注
    aid = [("民事", "追索劳动报酬"), ("民事", "交通事故赔偿"), ("刑事", "刑事辩护"), ("民事", "赡养纠纷"), ("行政", "工伤认定")]
    rows["法律援助"] = [[f"法援〔{Y}〕{i + 1:02d}号", _day(rng, Y, 5, 340), _name(rng), *aid[i % len(aid)],
                       "某律师事务所 " + _name(rng) + "律师", "已结案" if i < 7 else "办理中", None] for i in range(9)]

    # 12345热线工单: 编号 受理 类型 内容 办结 按期 满意度 备注
    topics = ["小区噪音扰民", "道路破损", "占道经营", "垃圾清运不及时", "物业服务", "违章搭建", "路灯不亮", "宠物扰民"]
    late = set(rng.sample(range(180), 4))
    unhappy = set(rng.sample(range(180), 5))
    unrated = set(rng.sample(range(180), 12))
    r = []
    for i in range(180):
        d = _day(rng, Y, 1, 355)
        sat = "未评价" if i in unrated else ("不满意" if i in unhappy else rng.choice(["满意", "满意", "满意", "基本满意"]))
        r.append([f"{d:%Y%m%d}{i + 1:06d}", d, rng.choice(["咨询", "求助", "投诉", "投诉", "建议"]), rng.choice(topics),
                  d + dt.timedelta(days=rng.randint(1, 9 if i in late else 5)), "否" if i in late else "是", sat, None])
    rows["12345热线工单"] = r

    # 信访接待: 日期 方式 人次 事项 结果 备注
    rows["信访接待"] = [[_day(rng, Y), rng.choice(["来访", "来访", "来信", "网上信访"]), rng.choice([1, 1, 2, 3, 5]),
                        rng.choice(["拆迁安置房办证", "征地补偿", "物业纠纷", "工程欠款"]), "已办结", None] for _ in range(25)]

    # 行政执法人员: 姓名 证号 单位 类别 有效期 状态 备注
    r = []
    for i in range(22):
        status = "调离" if i == 20 else ("退休" if i == 21 else "在岗")
        r.append([_name(rng)[0] + rng.choice("明华军伟芳静强磊洋勇艳杰涛"), f"5001920{10000 + i * 37}",
                  rng.choice(["综合行政执法大队", "城市管理办公室", "平安办"]), "综合行政执法", dt.date(Y + 2, 6, 30), status, None])
    rows["行政执法人员"] = r

    # 规范性文件: 名称 文号 事项 日期 结论 备注
    rows["规范性文件"] = [
        ["礼嘉街道城市管理规定", f"礼嘉街办发〔{Y}〕5号", "合法性审核", dt.date(Y, 3, 8), "修改后通过", None],
        ["礼嘉街道老旧小区改造资金管理办法", f"礼嘉街办发〔{Y}〕12号", "合法性审核", dt.date(Y, 6, 3), "通过", None],
        ["礼嘉街道社区工作者管理办法", f"礼嘉街办发〔{Y}〕21号", "合法性审核", dt.date(Y, 9, 19), "通过", None],
        ["礼嘉街道临时救助实施细则（2016年）", "礼嘉街办发〔2016〕9号", "清理废止", dt.date(Y, 11, 6), "已废止", None],
    ]

    # 重大行政决策: 事项 承办 公众参与 专家论证 风险评估 合法性审查 集体讨论 日期 备注
    rows["重大行政决策"] = [
        ["老旧小区改造实施方案", "城市管理办公室", "是", "是", "是", "是", "是", dt.date(Y, 4, 16), None],
        ["辖区停车设施建设规划", "经济发展办公室", "是", "是", "是", "是", "是", dt.date(Y, 8, 22), None],
        ["农村人居环境整治三年行动方案", "农业服务中心", "是", "否", "是", "是", "是", dt.date(Y, 10, 10), None],
    ]

    # 法律顾问: 姓名 类别 单位 服务对象 意见数 备注
    r = [[_name(rng), "常年法律顾问", "某律师事务所", "街道办事处", 52, None],
         [_name(rng), "公职律师", "礼嘉街道司法所", "街道办事处", 14, None]]
    for c in COMMUNITIES[:5]:
        r.append([_name(rng), "村（社区）法律顾问", rng.choice(["某律师事务所", "某某律师事务所"]), c, rng.choice([6, 8, 9, 12]), None])
    rows["法律顾问"] = r

    # 建议提案办理: 类型 编号 标题 交办 答复 办复 备注
    props = [("人大代表建议", "关于增设社区停车位的建议"), ("人大代表建议", "关于加快老旧小区加装电梯的建议"),
             ("人大代表建议", "关于完善社区养老服务设施的建议"), ("人大代表建议", "关于整治占道经营的建议"),
             ("政协提案", "关于加强社区法律服务的提案"), ("政协提案", "关于推进垃圾分类的提案")]
    rows["建议提案办理"] = [[t, f"第{100 + i * 13:04d}号", title, dt.date(Y, 3, 1 + i), dt.date(Y, 5, 10 + i), "是", None]
                       for i, (t, title) in enumerate(props)]

    # 整改事项: 来源 描述 措施 科室 时限 状态 完成日期 备注
    rows["整改事项"] = [
        ["法治督察", "行政执法案卷制作不够规范", "组织案卷评查并开展专题培训", "综合行政执法大队", dt.date(Y, 6, 30), "已完成", dt.date(Y, 6, 12), None],
        ["法治督察", "重大行政决策目录未按时向社会公开", "建立目录公开制度并按期公开", "党政办公室", dt.date(Y, 5, 31), "已完成", dt.date(Y, 4, 20), None],
        ["上年度报告", "基层干部法治素质有待提升", "开展分层分类学法培训", "司法所", dt.date(Y, 12, 31), "已完成", dt.date(Y, 11, 30), None],
        ["上年度报告", "普法宣传针对性不强", "按群体制定普法清单", "司法所", dt.date(Y, 12, 31), "已完成", dt.date(Y, 12, 10), None],
        ["自查自纠", "行政执法全过程记录设备使用率不高", "配备执法记录仪并纳入考核", "综合行政执法大队", dt.date(Y + 1, 3, 31), "推进中", None, None],
        ["执法监督", "部分社区法律顾问服务台账不完整", "统一台账格式并按季度检查", "司法所", dt.date(Y + 1, 2, 28), "推进中", None, None],
    ]

    # 领导履职: 日期 履职事项 履职人 履职内容 备注
    sec, head = "党工委书记 " + _name(rng), "办事处主任 " + _name(rng)
    rows["领导履职"] = [
        [dt.date(Y, 2, 18), "专题会议", sec, "主持召开党工委会议，专题研究年度法治政府建设工作要点", None],
        [dt.date(Y, 2, 26), "印发文件", "党工委", f"印发《{unit}{Y}年法治政府建设工作要点》，明确年度任务和责任科室", None],
        [dt.date(Y, 1, 16), "述法", sec, "在区委全面依法治区委员会会议上述法，报告上年度履行推进法治建设第一责任人职责情况", None],
        [dt.date(Y, 3, 20), "讲法治课", sec, "为街道领导班子和机关干部讲授《习近平法治思想的核心要义》专题法治课", None],
        [dt.date(Y, 4, 9), "批示", sec, "对老旧小区改造项目的合法性审查作出批示，要求未经审查的事项不得提交会议讨论", None],
        [dt.date(Y, 5, 14), "专题会议", head, "主持召开主任办公会议，专题研究行政执法“三项制度”落实和执法案卷评查问题整改", None],
        [dt.date(Y, 6, 25), "带头学法", sec, "带领班子成员旁听房屋征收补偿行政案件庭审，庭后开展以案释法", None],
        [dt.date(Y, 8, 20), "专题会议", sec, "主持召开党工委会议，听取法治政府建设工作情况汇报，部署下半年重点任务", None],
        [dt.date(Y, 9, 12), "督导检查", head, "带队检查行政执法案卷和执法全过程记录情况，现场督促整改", None],
        [dt.date(Y, 10, 15), "出庭应诉", head, "出庭应诉一起房屋征收补偿行政案件，并当庭发言", None],
        [dt.date(Y, 11, 21), "专题会议", sec, "主持召开党工委会议，专题研究法治督察反馈问题的整改", None],
        [dt.date(Y, 12, 3), "讲法治课", head, "在“12·4”国家宪法日前为社区干部讲授《宪法与基层依法治理》专题法治课", None],
    ]

    # 典型案例 (the column before 备注): one or two rows per sheet carry a short case
    for name in ("合同审查", "矛盾纠纷调解", "行政复议", "行政应诉", "普法宣传", "法律援助", "12345热线工单", "重大行政决策"):
        for r in rows[name]:
            r.insert(len(r) - 1, None)
    cases = {
        "合同审查": (lambda r: "养老" in r[0], "审查社区养老服务委托运营合同时，法律顾问发现违约责任条款约定不明，提出的修改意见被采纳，"
                                           "从源头上防范了合同风险。"),
        "重大行政决策": (lambda r: r[0] == "老旧小区改造实施方案", "制定老旧小区改造实施方案前，通过入户走访、居民座谈会听取意见，组织专家论证和风险评估，"
                                                       "经合法性审查后提交党工委会议集体讨论决定，方案实施以来未引发信访。"),
        "矛盾纠纷调解": (lambda r: r[1] == "邻里纠纷" and r[6] == "成功", "两户居民因楼上漏水损坏楼下房屋发生争执，调解员多次上门查看、释法说理，"
                                                              "双方最终达成由楼上住户承担维修费用的协议并当场履行。"),
        "行政复议": (lambda r: r[4] == "维持", "申请人不服违法建筑限期拆除决定申请行政复议，街道按时提交答复和完整的调查笔录、现场照片，"
                                          "复议机关维持了原决定。"),
        "行政应诉": (lambda r: r[8] == "原告撤诉", "一起违法建筑强制拆除案件中，街道负责人出庭应诉，庭后主动与原告沟通、解释政策，"
                                              "原告撤回起诉，案结事了。"),
        "普法宣传": (lambda r: r[1] == "民法典宣传月集中宣传", "民法典宣传月期间，组织社区法律顾问走进小区，用身边的邻里纠纷讲解相邻关系、"
                                                       "物业服务等条文，现场解答居民提问。"),
        "法律援助": (lambda r: r[4] == "追索劳动报酬", "辖区务工人员被拖欠劳动报酬，司法所引导其申请法律援助，承办律师通过调解帮助其追回全部报酬。"),
        "12345热线工单": (lambda r: r[3] == "小区噪音扰民", "针对群众反映的小区噪音扰民问题，街道会同社区、物业和城管开展夜间联合巡查，"
                                                   "约谈涉事商户并督促整改，回访时投诉人表示满意。"),
    }
    for name, (pick, text) in cases.items():
        row = next(r for r in rows[name] if pick(r))
        row[-2] = text

    basics = {"unit": unit, "level": "乡镇（街道）", "year": Y, "villages": 8, "villages_with_advisor": 8,
              "delegated_items": 320, "service_items": 156, "e_license_uses": 8600, "legal_literates": 36}
    return {"basics": basics, "rows": rows}


def write_example(path, year: int = 2024, unit: str = "礼嘉街道", schema: Schema | None = None):
    from .template import write_template

    schema = schema or load_schema()
    return write_template(path, year, data=example_data(year, unit), schema=schema)
