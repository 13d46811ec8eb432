"""Word lists for the demo district: people's names, places, schools, hospitals.

Everything here is plain data plus a few helpers that draw from it with a
caller's ``random.Random``, so the generator stays deterministic.
"""

from __future__ import annotations

import random
from datetime import date

DISTRICT_CODE = "341702"
DISTRICT_NAME = "贵池区"
CITY_NAME = "池州市"
PROVINCE_NAME = "安徽省"

# Surnames common in southern Anhui, with rough weights (more common first).
SURNAMES = (
    "王李张刘陈杨黄吴周徐汪孙胡朱何高程章方姚叶"
    "江檀桂柯查鲍储许韩余丁郑梁谢宋唐冯邓曹彭曾"
    "肖田董袁潘蒋蔡杜苏魏吕任沈卢姜崔钟谭陆范金"
    "石廖贾夏付白邹孟熊秦邱尹薛段雷侯龙史陶贺顾"
    "毛郝龚邵万钱严武戴孔汤凤操舒项殷"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 12.0 - index * 0.12) for index in range(len(SURNAMES)))

# Given names by generation and sex: older people carry the names of their time.
_GIVEN = {
    ("old", "男"): (
        "建国 建华 国庆 国华 德胜 德明 福生 长生 金宝 保国 志强 志明 春生 冬生 "
        "来福 根生 文华 永红 卫东 援朝 光明 跃进 树林 有财 明山 正武 家旺 玉堂"
    ),
    ("old", "女"): (
        "秀英 桂兰 玉兰 桂英 秀兰 凤英 翠兰 春花 菊花 月娥 桂芳 淑珍 兰英 素珍 "
        "美英 金凤 秀珍 凤兰 玉梅 彩霞 冬梅 腊梅 红梅 爱华 巧云 小兰 友娣 引弟"
    ),
    ("mid", "男"): (
        "伟 强 军 勇 杰 涛 斌 超 刚 平 辉 波 峰 磊 明 华 飞 鹏 林 亮 海 东 "
        "建军 海涛 立新 文斌 志刚 建平 红兵 晓东 国平 永强 卫国 小军 春雷 向阳"
    ),
    ("mid", "女"): (
        "芳 娟 敏 静 丽 艳 霞 玲 萍 红 梅 琴 云 燕 洁 英 "
        "丽娟 海燕 晓燕 红霞 春燕 小红 秀云 美玲 丽萍 雪梅 慧敏 玉洁 文静 凤霞"
    ),
    ("young", "男"): (
        "浩 宇 轩 睿 博 豪 晨 阳 俊 鑫 "
        "子豪 浩然 宇轩 俊杰 梓轩 浩宇 子墨 一鸣 宇航 晨阳 博文 思远 嘉豪 子轩 "
        "明哲 天佑 铭泽 家乐 俊熙 皓轩 梓豪 睿泽 宇辰 锦程"
    ),
    ("young", "女"): (
        "欣 怡 婷 悦 琳 颖 涵 萱 雪 佳 "
        "子涵 梓涵 欣怡 诗涵 雨桐 可馨 梦琪 思雨 紫涵 雨萱 佳怡 一诺 梓萱 语嫣 "
        "若汐 欣妍 佳琪 静怡 雨欣 思彤 可欣 晓彤 梦瑶 心怡"
    ),
}
GIVEN_NAMES = {key: tuple(text.split()) for key, text in _GIVEN.items()}

# Characters outside GBK (CJK Extension A): a GB18030 feed must carry them intact.
RARE_GIVEN_NAMES = ("䶮", "㛃", "晓䶮", "玉㛃", "㙟生", "秀㛃")

TOWNSHIP_NAMES = [
    "殷汇镇",
    "牛头山镇",
    "梅街镇",
    "梅村镇",
    "乌沙镇",
    "牌楼镇",
    "唐田镇",
    "棠溪镇",
    "涓桥镇",
    "墩上镇",
    "马衙镇",
    "里山镇",
    "刘街乡",
    "秋浦乡",
    "清溪乡",
    "杏花村镇",
    "齐山镇",
    "江口镇",
    "茅坦乡",
    "桃坡乡",
    "高坦镇",
    "观前镇",
    "灌口乡",
    "木闸乡",
    "元四乡",
    "双河乡",
    "晏塘乡",
    "涓水乡",
    "梅龙镇",
    "池口镇",
]
_PLACE_FIRST = "桃杨龙荷新光白石高双柏枫竹梅松青红大小东西南北上下长丰金银凤马黄仙瑶湖"
_PLACE_SECOND = "园桥泉花华明沙门坦河林山冲岭塘湾畈村口坝垅庄埠圩坑岗滩洲溪店铺亭"

GROUP_NUMERALS = "零一二三四五六七八九"

SCHOOL_TEMPLATES = {
    "学前": ("{township}中心幼儿园", "{village}幼儿园"),
    "小学": ("{township}中心小学", "{village}小学", "贵池区实验小学"),
    "初中": ("{township}初级中学", "贵池区第二中学", "池州市第十一中学"),
    "高中": ("池州市第一中学", "池州市第八中学", "贵池区第三中学", "池州市第六中学"),
    "中职": ("池州市中等职业学校", "贵池区职业教育中心", "池州工业中等专业学校"),
    "高职": ("池州职业技术学院", "安徽职业技术学院", "铜陵职业技术学院"),
    "本科及以上": ("池州学院", "安徽大学", "安徽师范大学", "合肥工业大学", "安徽医科大学"),
}

HOSPITALS_OUTPATIENT = (
    "{township}卫生院",
    "{village}卫生室",
    "贵池区人民医院",
    "池州市中医医院",
)
HOSPITALS_INPATIENT = (
    "池州市人民医院",
    "贵池区人民医院",
    "池州市中医医院",
    "{township}卫生院",
    "安徽医科大学第一附属医院",
    "中国科学技术大学附属第一医院",
)
DIAGNOSES_OUTPATIENT = (
    "上呼吸道感染",
    "急性支气管炎",
    "胃炎",
    "腰椎间盘突出",
    "高血压",
    "龋齿",
    "皮炎",
    "结膜炎",
    "感冒",
    "",
)
DIAGNOSES_CHRONIC = (
    "高血压",
    "2型糖尿病",
    "慢性阻塞性肺疾病",
    "冠心病",
    "脑梗死后遗症",
    "类风湿性关节炎",
    "慢性肾脏病",
    "精神分裂症",
)
DIAGNOSES_INPATIENT = (
    "肺炎",
    "脑梗死",
    "冠状动脉粥样硬化性心脏病",
    "股骨颈骨折",
    "肺恶性肿瘤",
    "胃恶性肿瘤",
    "慢性肾衰竭",
    "急性阑尾炎",
    "胆囊结石",
    "白内障",
    "乳腺恶性肿瘤",
    "脑出血",
)

WORK_REGIONS_LOCAL = ("贵池区", "池州市", "池州经济技术开发区")
WORK_REGIONS_PROVINCE = ("合肥市", "芜湖市", "铜陵市", "安庆市", "马鞍山市")
WORK_REGIONS_OUTSIDE = ("上海市", "江苏省苏州市", "浙江省杭州市", "浙江省宁波市", "广东省东莞市")

# Other counties, for spouses married in and for outsiders in the department lists.
OTHER_AREA_CODES = ("341721", "341722", "341723", "340823", "340102", "340828", "341881")
OTHER_COUNTY_NAMES = ("东至县", "石台县", "青阳县", "枞阳县", "合肥市瑶海区", "铜陵市义安区")

INDUSTRIES = ("茶叶", "水产", "蔬菜", "养殖", "中药材", "苗木", "水稻", "油茶", "菌菇")
SHOP_KINDS = ("小卖部", "农资店", "副食店", "理发店", "早餐店", "五金店", "修车铺", "超市", "饭店")
COMPANY_WORDS = ("华宇", "鑫源", "秋浦", "九华", "杏村", "昭明", "平天", "升金", "长江", "皖南")
COMPANY_TRADES = ("建筑工程", "农业开发", "商贸", "物流", "电子科技", "食品", "建材", "旅游开发")


# 同音字: characters of the names above, each with others of the same pinyin (the tone
# aside, as a caller's name is heard on the 12317 line or written down by a clerk): the
# homophones a lead's 当事人姓名 may come with (fpwarn_demo/leads.py).
_HOMOPHONES = (
    # surnames
    "张章 章张 李里 刘留 杨阳 黄皇 吴吾 周舟 胡湖 朱珠 何和 程成 方芳 姚尧 叶业 江姜 姜江 "
    "檀谭 谭檀 桂贵 柯科 彭鹏 曾增 唐堂 余于 陈晨 钱前 戴代 龚宫 舒书 石时 王汪 汪王 "
    # given names
    "建健 国帼 华骅 德得 胜盛 明铭 生升 长常 金津 宝保 保宝 志智 春椿 文雯 永勇 红宏 "
    "卫蔚 东冬 跃岳 林琳 财才 山珊 正政 武伍 家佳 旺望 玉钰 堂棠 秀绣 英瑛 兰岚 凤奉 "
    "翠萃 菊桔 月悦 芳方 淑舒 珍贞 素肃 梅玫 彩采 霞侠 冬东 腊蜡 爱艾 云芸 友有 娣弟 "
    "伟玮 军君 勇永 杰捷 涛韬 斌彬 刚钢 平萍 辉晖 峰锋 磊蕾 飞菲 鹏朋 亮谅 娟鹃 敏闽 "
    "静婧 丽莉 艳燕 玲灵 萍平 琴芹 燕艳 洁杰 浩昊 宇雨 轩宣 睿瑞 博柏 豪毫 晨辰 阳洋 "
    "俊骏 鑫欣 欣鑫 怡宜 婷亭 悦月 琳林 颖影 涵晗 萱宣 佳嘉 子紫 梓紫 思斯 雨宇 梦孟 "
    "诗施 晓筱 小晓 立力 新欣 兵冰 向项 铭明 泽择 航杭 锦瑾 熙曦 佑祐 哲喆 一依 墨默 "
    "琪琦 桐彤 彤桐 妍研 汐夕 瑶遥 心欣 援元 朝潮 来莱"
)
HOMOPHONES: dict[str, str] = {pair[0]: pair[1:] for pair in _HOMOPHONES.split()}


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, weights=_SURNAME_WEIGHTS, k=1)[0]


def given_name(rng: random.Random, sex: str, birth: date) -> str:
    generation = "old" if birth.year < 1965 else ("mid" if birth.year < 1995 else "young")
    return rng.choice(GIVEN_NAMES[(generation, sex)])


def person_name(rng: random.Random, sex: str, birth: date, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex, birth)


def group_name(number: int) -> str:
    """一组, 二组, …, 十组, 十一组, …, 二十三组 (村民小组)."""
    return chinese_number(number) + "组"


def chinese_number(number: int) -> str:
    if number < 10:
        return GROUP_NUMERALS[number]
    tens, ones = divmod(number, 10)
    head = "" if tens == 1 else GROUP_NUMERALS[tens]
    return head + "十" + (GROUP_NUMERALS[ones] if ones else "")


def township_names(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct township names: the real-sounding list first, then composed ones."""
    names = list(TOWNSHIP_NAMES)
    rng.shuffle(names)
    used = set(names)
    while len(names) < count:
        candidate = rng.choice(_PLACE_FIRST) + rng.choice(_PLACE_SECOND) + rng.choice("镇乡")
        if candidate not in used and candidate[:-1] + "镇" not in used:
            used.add(candidate)
            names.append(candidate)
    return names[:count]


def village_name(rng: random.Random, used: set[str]) -> str:
    """A village name (…村) not in ``used``; adds it there."""
    for _ in range(200):
        candidate = rng.choice(_PLACE_FIRST) + rng.choice(_PLACE_SECOND) + "村"
        if candidate not in used:
            used.add(candidate)
            return candidate
    # Very large districts run out of two-character names: add a third character.
    while True:
        candidate = (
            rng.choice(_PLACE_FIRST) + rng.choice(_PLACE_FIRST) + rng.choice(_PLACE_SECOND) + "村"
        )
        if candidate not in used:
            used.add(candidate)
            return candidate


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(("13", "15", "17", "18", "19", "13", "15", "18"))
    return prefix + str(rng.randint(0, 9)) + f"{rng.randrange(10**8):08d}"
