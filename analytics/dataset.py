"""A synthetic national dataset for the analytics benchmark (`manage.py generate_dataset`).

Why synthetic, and why shaped like this: the analytics pages sum millions of indicator values, and
both their speed and their figures can only be judged on data that looks like the real thing:
enterprises spread over the provinces by economic weight, mostly small and micro manufacturers,
seasonal months (the Spring Festival dip, the year-end high) whose 1-本月 columns add up, 上年
columns that are the enterprise's own figures of a year before (so growth rates are real), loss
makers, newcomers without a comparable base, enterprises that stop reporting, change industry or
move county, questionnaire answers that drift, and a last month still being reviewed.

How: enterprises are simulated in chunks of CHUNK (memory stays bounded), each chunk's monthly
series with numpy from the January of the year before the window to its end, in whole units, so
that every 1-本月 value is exactly the sum of the rounded months and every 上年 value is the
enterprise's own value twelve months earlier. Rows go in with COPY on PostgreSQL and with
executemany on other databases: the same rows either way, with the ids of enterprises and reports
taken from the table's own sequence (PostgreSQL) or above its largest id (SQLite, one writer), and
the real created_at of the rows (bulk_create would stamp auto_now_add fields with the run's time).
On PostgreSQL two chunks are written at once on two connections (the database, not Python, is
the bottleneck), and each chunk's transaction uses lz4 for the JSON and skips the foreign-key
triggers where the role may (see CopySink.prepare). Everything is drawn from the seed: the same
seed and arguments give the same dataset, whatever the database and the order of the chunks."""

from __future__ import annotations

import datetime as dt
import json
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from stdnum.cn import uscc

from directory.codes import org_code_check_char
from directory.models import Enterprise, Industry, Region, RegistrationType
from reports.catalogue import catalogue_for, snapshot
from reports.models import Answer, Indicator, IndicatorValue, Question, Questionnaire, Report
from reports.periods import Period, current_report_month
from review.selectors import deadline_moment

CHUNK = 5_000  # enterprises simulated and written per transaction
QUESTIONNAIRE_TITLE = "企业经营状况调查"
MAX_QUESTIONNAIRE_MONTHS = 48  # Questionnaire.periods holds 400 characters

# Province (GB/T 2260 prefix), weight in the national sample, area code, postal-code prefix.
PROVINCE_TABLE = """
11  1.5  010 10   12  1.5  022 30   13  4.0 0311 05
14  1.0 0351 03   15  0.7 0471 01   21  2.0  024 11
22  0.7 0431 13   23  0.8 0451 15   31  2.5  021 20
32 12.0  025 21   33 12.0 0571 31   34  4.5 0551 23
35  5.0 0591 35   36  3.0 0791 33   37  9.0 0531 25
41  5.0 0371 45   42  4.0  027 43   43  4.0 0731 41
44 14.0  020 51   45  1.5 0771 53   46  0.3 0898 57
50  2.0  023 40   51  4.0  028 61   52  1.0 0851 55
53  1.2 0871 65   54 0.08 0891 85   61  1.5  029 71
62  0.5 0931 73   63 0.15 0971 81   64 0.25 0951 75
65  0.6 0991 83
"""


def _provinces() -> dict[str, tuple[float, str, str]]:
    words = PROVINCE_TABLE.split()
    return {
        words[i]: (float(words[i + 1]), words[i + 2], words[i + 3]) for i in range(0, len(words), 4)
    }


PROVINCES = _provinces()
EXPORT_HEAVY = {"31", "32", "33", "35", "44"}

# 门类 shares of the monitored enterprises; 制造业 by 大类 below. J (finance), S and T are not
# monitored as SMEs.
SECTIONS = {"C": 70, "F": 6, "E": 4, "I": 4, "L": 3, "G": 3, "M": 2.5, "A": 1.5, "D": 1.5}
SECTIONS |= {"H": 1.5, "B": 1, "O": 1, "R": 0.5, "K": 0.5, "N": 0.3, "P": 0.3, "Q": 0.3}
MANUFACTURING = {"34": 9, "33": 8, "38": 7, "29": 7, "30": 7, "26": 6, "35": 6, "39": 6}
MANUFACTURING |= {"13": 5, "17": 5, "18": 4, "36": 4, "14": 3, "15": 1.5, "22": 2, "23": 2}
MANUFACTURING |= {"24": 2, "20": 2, "21": 2, "19": 2, "27": 2, "40": 2, "32": 2, "31": 1}
MANUFACTURING |= {"28": 1, "37": 1, "41": 1, "43": 1, "42": 0.5, "25": 0.5, "16": 0.2}
INDUSTRIAL = {"B", "C", "D"}

# Size: share, median monthly revenue (千元), median employees: 大型 2%, 中型 15%, 小型 45%,
# 微型 38%.
SIZES = (("1", 0.02, 60_000, 1_500), ("2", 0.15, 8_000, 450))
SIZES += (("3", 0.45, 800, 90), ("4", 0.38, 110, 15))

# 登记注册类型 leaf codes; leaves not named weigh 0.5.
REGISTRATIONS = {"173": 45, "159": 15, "171": 6, "160": 5, "174": 4, "172": 2, "110": 1.5}
REGISTRATIONS |= {"151": 1.5, "120": 1.5, "130": 1, "190": 1, "210": 2, "230": 2.5}
REGISTRATIONS |= {"310": 3, "330": 3.5}
# 控股类型 by registration type; mixed ownership types draw from the last row.
HOLDING_OF = {"110": "1", "151": "1", "141": "1", "143": "1", "120": "2", "142": "2"}
MIXED_HOLDING = (("3", 0.75), ("1", 0.15), ("2", 0.03), ("4", 0.03), ("5", 0.04))

# Spring Festival dip in February, quarter-end pushes, the year-end high.
SEASON = np.array([0.93, 0.74, 1.02, 0.99, 1.01, 1.05, 0.98, 0.99, 1.04, 0.98, 1.04, 1.17])
CAPACITY_SEASON = np.array([-3, -12, 0, 1, 1, 2, 0, 0, 2, 0, 2, 4])

# Report statuses: 0 = no report row.
NONE, DRAFT, PENDING, RETURNED, APPROVED, FROZEN = range(6)
STATUS_VALUES = np.array(["", "draft", "pending", "returned", "approved", "frozen"], dtype=object)
LAST_MONTH = {APPROVED: 0.60, PENDING: 0.20, RETURNED: 0.05, DRAFT: 0.05, FROZEN: 0.01}
LAST_MONTH[NONE] = 1 - sum(LAST_MONTH.values())
SECOND_LAST = {APPROVED: 0.85, PENDING: 0.07, RETURNED: 0.03, DRAFT: 0.02, NONE: 0.03}
EARLIER = {APPROVED: 0.984, RETURNED: 0.008, DRAFT: 0.004, NONE: 0.004}
METHODS = np.array(["online", "import", "api"], dtype=object)

QUESTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("流动资金状况", "single", (("ample", "充裕"), ("normal", "正常"), ("tight", "紧张"))),
    ("订单情况较上月", "single", (("up", "增加"), ("flat", "持平"), ("down", "减少"))),
    ("下月生产经营预期", "single", (("better", "向好"), ("same", "持平"), ("worse", "下降"))),
    (
        "当前面临的主要困难（可多选）",
        "multiple",
        (
            ("labour_cost", "用工成本上升"),
            ("raw_material", "原材料价格上涨"),
            ("financing", "融资难"),
            ("orders", "订单不足"),
            ("receivables", "应收账款回款慢"),
        ),
    ),
)
DIFFICULTY_BASE = np.array([0.45, 0.40, 0.22, 0.30, 0.30])

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "杜叶程魏苏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
    "建国志鹏辉斌浩宇晨欣怡佳俊峰雪梅琳丹海燕文博凯"
)
BRANDS = (
    "恒达 华盛 永兴 鑫源 宏泰 金利 天成 中联 新宇 瑞丰 嘉诚 东方 康泰 远大 正通 汇丰 腾飞 兴隆 "
    "长城 创新 百川 博远 德胜 福瑞 冠华 海通 佳美 锦程 凯达 力拓 明辉 宁远 鹏程 荣昌 盛世 泰和 "
    "万通 祥云 亚太 振华 卓越 安信 北辰 昌盛 大成 丰源 广源 和信 华联 金鼎"
).split()
TRADE_WORDS = {"13": "食品", "14": "食品", "15": "饮品", "17": "纺织", "18": "服饰", "19": "皮革"}
TRADE_WORDS |= {"20": "木业", "21": "家具", "22": "纸业", "23": "印务", "24": "文体用品"}
TRADE_WORDS |= {"26": "化工", "27": "药业", "29": "塑胶", "30": "建材", "31": "钢铁", "33": "五金"}
TRADE_WORDS |= {"32": "金属材料", "34": "机械", "35": "装备", "36": "汽车部件", "38": "电器"}
TRADE_WORDS |= {"39": "电子", "40": "仪器", "A": "农业", "B": "矿业", "D": "能源", "E": "建设"}
TRADE_WORDS |= {"F": "商贸", "G": "物流", "H": "餐饮", "I": "信息技术", "K": "置业", "L": "商务"}
TRADE_WORDS |= {"M": "技术", "N": "环境", "O": "服务", "P": "教育", "Q": "健康", "R": "文化"}
STREETS = "人民 解放 建设 工业 振兴 科技 创业 发展 富民 开元 新华 迎宾 东风 长江 滨江 环城".split()
MOBILE_PREFIXES = "130 131 132 133 135 136 137 138 139 150 151 155 158 159 180 186 187 188".split()


class DatasetError(Exception):
    """Why the dataset cannot be generated here, for the operator (in Chinese)."""


# --- Reference data and the months ----------------------------------------------------------------


@dataclass
class Reference:
    provinces: list[str]
    province_p: np.ndarray
    counties: dict[str, list[str]]
    county_p: dict[str, np.ndarray]
    county_names: dict[str, str]
    leaves: list[str]
    leaf_p: np.ndarray
    leaf_division: dict[str, str]
    leaf_section: dict[str, str]
    leaf_names: dict[str, str]
    division_leaves: dict[str, list[str]]
    registrations: list[str]
    registration_p: np.ndarray


def _normalised(weights: Sequence[float]) -> np.ndarray:
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


def load_reference(seed: int) -> Reference:
    """Counties by province, industry 小类 and registration-type leaves with their weights, read
    in code order so that the draws do not depend on how the database returns rows."""
    counties: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for code, name in (
        Region.objects.filter(level=Region.Level.COUNTY)
        .order_by("code")
        .values_list("code", "name")
    ):
        if code[:2] in PROVINCES:
            counties.setdefault(code[:2], []).append(code)
            names[code] = name
    leaves = list(
        Industry.objects.filter(level=Industry.Level.CLASS, is_active=True)
        .order_by("code")
        .values_list("code", "name", "parent__parent_id", "parent__parent__parent_id")
    )
    parents = set(RegistrationType.objects.exclude(parent=None).values_list("parent_id", flat=True))
    registrations = sorted(
        set(RegistrationType.objects.values_list("code", flat=True)) - parents - {None}
    )
    if not counties or not leaves or not registrations:
        raise DatasetError(
            "数据库中没有行政区划、行业分类或登记注册类型：请先运行 manage.py load_reference_data。"
        )
    rng = np.random.default_rng([seed, 1])
    provinces = sorted(counties)
    # Industrial clusters: some counties weigh much more than others.
    county_p = {p: _normalised(rng.lognormal(0, 0.9, len(counties[p]))) for p in provinces}
    by_division: dict[str, list[str]] = {}
    for code, _, division, _ in leaves:
        by_division.setdefault(division, []).append(code)
    sections = {division: section for _, _, division, section in leaves}
    section_weight = {s: sum(1 for d in by_division if sections[d] == s) for s in SECTIONS}
    leaf_weights = []
    for _, _, division, section in leaves:
        if section == "C":
            share = MANUFACTURING.get(division, 0.5) / sum(
                MANUFACTURING.get(d, 0.5) for d in by_division if sections[d] == "C"
            )
        else:
            share = 1 / max(section_weight.get(section, 1), 1)
        leaf_weights.append(SECTIONS.get(section, 0) * share / len(by_division[division]))
    return Reference(
        provinces=provinces,
        province_p=_normalised([PROVINCES[p][0] for p in provinces]),
        counties=counties,
        county_p=county_p,
        county_names=names,
        leaves=[code for code, *_ in leaves],
        leaf_p=_normalised(leaf_weights),
        leaf_division={code: division for code, _, division, _ in leaves},
        leaf_section={code: section for code, _, _, section in leaves},
        leaf_names={code: name for code, name, _, _ in leaves},
        division_leaves=by_division,
        registrations=registrations,
        registration_p=_normalised([REGISTRATIONS.get(c, 0.5) for c in registrations]),
    )


@dataclass
class Window:
    """The simulated months: from the January of the year before the window (the 上年 base of
    every window month, with whole years for the 1-本月 sums) to the last window month."""

    periods: list[Period]  # simulated months, oldest first
    pre: int  # index of the first window month
    month_of_year: np.ndarray
    year_start: np.ndarray  # index of the January of each month's year
    national: np.ndarray  # the national business cycle, 1.0 at the end
    opens: np.ndarray  # epoch seconds: reporting opens (the 1st of the next month, local)
    deadlines: np.ndarray  # epoch seconds: the end of the deadline day
    starts: np.ndarray  # epoch seconds: the month's own first day
    seed: int = 0
    catalogues: list[list[Indicator]] = field(default_factory=list)  # per window month
    catalogue_json: list[str] = field(default_factory=list)

    @property
    def months(self) -> list[Period]:
        return self.periods[self.pre :]


def _epoch(day: dt.date) -> float:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day)).timestamp()


def make_window(end: Period, months: int, seed: int) -> Window:
    first = end
    for _ in range(months - 1):
        first = first.previous()
    start = Period(first.year - 1, first.month)
    while start.month != 1:
        start = start.previous()
    periods = [start]
    while periods[-1] != end:
        periods.append(periods[-1].next())
    moy = np.array([p.month for p in periods])
    index = np.arange(len(periods))
    steps = np.random.default_rng([seed, 2]).normal(0, 0.007, len(periods))
    cycle = np.cumsum(steps)
    window = Window(
        periods=periods,
        pre=len(periods) - months,
        month_of_year=moy,
        year_start=index - (moy - 1),
        national=np.exp(cycle - cycle[-1]),
        opens=np.array([_epoch(dt.date(p.next().year, p.next().month, 1)) for p in periods]),
        deadlines=np.array([deadline_moment(p).timestamp() for p in periods]),
        starts=np.array([_epoch(dt.date(p.year, p.month, 1)) for p in periods]),
        seed=seed,
    )
    for period in window.months:
        indicators = catalogue_for(period)
        if not indicators:
            raise DatasetError(f"{period} 没有生效的指标目录。")
        window.catalogues.append(indicators)
        window.catalogue_json.append(json.dumps(snapshot(indicators), ensure_ascii=False))
    return window


# --- The enterprises of a chunk -------------------------------------------------------------------


@dataclass
class Firms:
    """The enterprises of one chunk: facts, behaviour parameters, and how they change."""

    ids: np.ndarray
    first: int  # the number of the chunk's first enterprise in the run
    province: list[str]
    county: list[str]  # where the enterprise was first
    county_after: list[str]  # after a move (same as county when it never moved)
    move_w: np.ndarray  # window month of the move (months if never)
    industry: list[str]
    industry_after: list[str]
    change_w: np.ndarray
    size: list[str]
    registration: list[str]
    holding: list[str]
    born: np.ndarray  # simulated month index of the first month (very negative: long before)
    died: np.ndarray  # first month without reports (very large: never)
    text: list[dict[str, Any]]  # name, code, people, phones, address
    p: dict[str, np.ndarray]  # per-enterprise parameters of the figures

    def __len__(self) -> int:
        return len(self.ids)


LONG_AGO = -1_000_000
NEVER = 1_000_000


def _pick(rng: np.random.Generator, items: Sequence[str], n: int) -> list[str]:
    return [items[i] for i in rng.integers(len(items), size=n).tolist()]


def _ids_changing(rng: np.random.Generator, eligible: np.ndarray, share: float) -> np.ndarray:
    """A fixed share of the eligible enterprises (at least one): exact counts, so that even a
    small dataset shows every kind of change."""
    candidates = np.flatnonzero(eligible)
    if not len(candidates):
        return candidates
    count = min(len(candidates), max(1, round(share * len(candidates))))
    return np.sort(rng.choice(candidates, size=count, replace=False))


def make_firms(
    ref: Reference,
    win: Window,
    rng: np.random.Generator,
    ids: list[int],
    first_number: int,
    code_base: int,
) -> Firms:
    n, months = len(ids), len(win.months)
    province = [ref.provinces[i] for i in rng.choice(len(ref.provinces), n, p=ref.province_p)]
    county = [""] * n
    for p in sorted(set(province)):
        members = [i for i, q in enumerate(province) if q == p]
        draws = rng.choice(len(ref.counties[p]), len(members), p=ref.county_p[p])
        for i, d in zip(members, draws.tolist(), strict=True):
            county[i] = ref.counties[p][d]
    industry = [ref.leaves[i] for i in rng.choice(len(ref.leaves), n, p=ref.leaf_p)]
    size_index = rng.choice(len(SIZES), n, p=[s[1] for s in SIZES])
    registration = [
        ref.registrations[i] for i in rng.choice(len(ref.registrations), n, p=ref.registration_p)
    ]
    mixed = rng.choice(len(MIXED_HOLDING), n, p=[w for _, w in MIXED_HOLDING])
    holding = []
    for reg, m in zip(registration, mixed.tolist(), strict=True):
        if reg in HOLDING_OF:
            holding.append(HOLDING_OF[reg])
        elif reg.startswith("2"):
            holding.append("4")
        elif reg.startswith("3"):
            holding.append("5")
        elif reg.startswith("17") or reg in ("130", "149", "190"):
            holding.append("3")
        else:
            holding.append(MIXED_HOLDING[m][0])

    # Appear and disappear: most report throughout, some started in the year before the window
    # (no comparable base at first), some register during it, some stop reporting.
    u = rng.random(n)
    born = np.full(n, LONG_AGO, dtype=np.int64)
    recent = (u >= 0.80) & (u < 0.88)
    born[recent] = win.pre - rng.integers(1, 12, recent.sum())
    if months > 1:
        new = u >= 0.88
        born[new] = win.pre + rng.integers(1, months, new.sum())
    died = np.full(n, NEVER, dtype=np.int64)
    if months > 1:
        leaving = rng.random(n) < 0.06
        died[leaving] = win.pre + rng.integers(1, months, leaving.sum())
        died[died <= born] = NEVER
    first_w = np.maximum(born - win.pre, 0)
    last_w = np.minimum(died - win.pre, months) - 1
    long_enough = last_w - first_w >= 1

    change_w = np.full(n, months, dtype=np.int64)
    industry_after = list(industry)
    for i in _ids_changing(rng, long_enough, 0.02).tolist():
        change_w[i] = rng.integers(first_w[i] + 1, last_w[i] + 1)
        siblings = [
            c for c in ref.division_leaves[ref.leaf_division[industry[i]]] if c != industry[i]
        ]
        if not siblings or rng.random() < 0.2:
            siblings = [c for c in ref.leaves if c != industry[i]]
        industry_after[i] = siblings[rng.integers(len(siblings))]
    move_w = np.full(n, months, dtype=np.int64)
    county_after = list(county)
    for i in _ids_changing(rng, long_enough, 0.005).tolist():
        others = [c for c in ref.counties[province[i]] if c != county[i]]
        if others:
            move_w[i] = rng.integers(first_w[i] + 1, last_w[i] + 1)
            county_after[i] = others[rng.integers(len(others))]

    size = [SIZES[i][0] for i in size_index.tolist()]
    section = np.array([ref.leaf_section[c] for c in industry])
    industrial = np.isin(section, list(INDUSTRIAL))
    exporter = rng.random(n) < np.where(np.isin(province, list(EXPORT_HEAVY)), 0.4, 0.2)
    rnd = rng.random(n) < np.where(industrial, 0.3, 0.1)
    borrower = rng.random(n) < 0.45
    pair_trend = np.array(
        [_trend(win, p, ref.leaf_division[c]) for p, c in zip(province, industry, strict=True)]
    )
    params = {
        "level": np.array([SIZES[i][2] for i in size_index]) * rng.lognormal(0, 0.45, n),
        "employees": np.array([SIZES[i][3] for i in size_index]) * rng.lognormal(0, 0.4, n),
        "growth": pair_trend + rng.normal(0, 0.08, n),
        "industrial": industrial,
        "output_ratio": rng.uniform(0.9, 1.1, n),
        "exporter": exporter,
        "export_share": np.where(exporter, rng.uniform(0.1, 0.7, n), 0.0),
        "intensity": rng.lognormal(np.log(40), 0.7, n),
        "cost_ratio": rng.uniform(0.74, 0.9, n),
        # ~16% lose money over the year: the margin's mean is one standard deviation above 0.
        "margin": rng.normal(0.05, 0.05, n),
        "tax_rate": rng.uniform(0.015, 0.05, n),
        "borrower": borrower,
        "loan_ratio": np.where(borrower, rng.uniform(0.05, 0.5, n), 0.0),
        "rnd": rnd,
        "rnd_rate": np.where(rnd, rng.uniform(0.01, 0.05, n), 0.0),
        "new_share": np.where(rnd & industrial, rng.uniform(0.05, 0.4, n), 0.0),
        "receivables": rng.uniform(0.08, 0.3, n),
        "finished": rng.uniform(0.03, 0.12, n),
        "assets": rng.uniform(0.7, 1.6, n),
        "debt": rng.uniform(0.25, 0.75, n),
        "capacity": rng.normal(76, 9, n),
        "late": np.where(rng.random(n) < 0.06, 0.35, 0.03),
        "fills": rng.random((n, 8)),  # whether optional indicators are filled (see _figures)
    }
    text = _texts(ref, rng, province, county, industry, registration, first_number, code_base)
    return Firms(
        ids=np.array(ids, dtype=np.int64),
        first=first_number,
        province=province,
        county=county,
        county_after=county_after,
        move_w=move_w,
        industry=industry,
        industry_after=industry_after,
        change_w=change_w,
        size=size,
        registration=registration,
        holding=holding,
        born=born,
        died=died,
        text=text,
        p=params,
    )


_trend_cache: dict[tuple[int, str, str], float] = {}


def _trend(win: Window, province: str, division: str) -> float:
    """The annual growth of a province × industry (大类): a national mean, a province effect, an
    industry effect and their interaction, fixed by the seed whatever the chunk."""
    seed = win.seed
    key = (seed, province, division)
    if key not in _trend_cache:
        p = np.random.default_rng([seed, 3, int(province)]).normal(0, 0.03)
        d = np.random.default_rng([seed, 4, zlib.crc32(division.encode())]).normal(0, 0.04)
        pd = np.random.default_rng([seed, 5, int(province), zlib.crc32(division.encode())])
        _trend_cache[key] = 0.05 + p + d + pd.normal(0, 0.02)
    return _trend_cache[key]


def _short_county(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "区县市旗" else name


def _texts(
    ref: Reference,
    rng: np.random.Generator,
    province: list[str],
    county: list[str],
    industry: list[str],
    registration: list[str],
    first_number: int,
    code_base: int,
) -> list[dict[str, Any]]:
    n = len(province)
    surnames, given1, given2 = (_pick(rng, s, n) for s in (SURNAMES, GIVEN, GIVEN))
    surnames2, given3 = _pick(rng, SURNAMES, n), _pick(rng, GIVEN, n)
    brands, streets = _pick(rng, BRANDS, n), _pick(rng, STREETS, n)
    house = rng.integers(1, 999, n).tolist()
    mobile = (rng.random(n) < 0.7).tolist()
    prefixes = _pick(rng, MOBILE_PREFIXES, n)
    digits = rng.integers(0, 10**8, n).tolist()
    postal = rng.integers(0, 10**4, n).tolist()
    listed = (rng.random(n) < 0.02).tolist()
    texts = []
    for i in range(n):
        body = f"{(code_base + first_number + i) % 10**8:08d}"
        org = body + org_code_check_char(body)
        first17 = f"91{county[i]}{org}"
        leaf = industry[i]
        word = TRADE_WORDS.get(
            ref.leaf_division[leaf], TRADE_WORDS.get(ref.leaf_section[leaf], "实业")
        )
        reg = registration[i]
        suffix = "股份有限公司" if reg in ("160", "174", "240", "340") else "有限公司"
        suffix = {"171": "厂", "110": "厂", "120": "厂", "172": "合伙企业"}.get(reg, suffix)
        _, area, post = PROVINCES[province[i]]
        place = _short_county(ref.county_names[county[i]])
        phone = (
            f"{prefixes[i]}{digits[i]:08d}"
            if mobile[i]
            else f"{area}-{digits[i] % 10**7 + 2 * 10**7:08d}"
        )
        texts.append(
            {
                "enterprise_name": f"{place}{brands[i]}{word}{suffix}",
                "code": first17 + uscc.calc_check_digit(first17),
                "legal_representative": surnames[i] + given1[i] + given2[i],
                "contact_person": surnames2[i] + given3[i],
                "contact_phone": phone,
                "mobile": phone if mobile[i] else "",
                "phone": "" if mobile[i] else phone,
                "street": f"{streets[i]}路{house[i]}号",
                "postal_code": f"{post}{postal[i]:04d}",
                "listed": listed[i],
                "stock_code": f"60{postal[i]:04d}" if listed[i] else "",
            }
        )
    return texts


def basic_info(ref: Reference, f: Firms, i: int, w: int) -> dict[str, Any]:
    """Step 1 of enterprise `i` as month `w` had it: the keys of reports.forms.enterprise_info and
    the rest of 企业基本情况表."""
    text = f.text[i]
    industry = f.industry_after[i] if w >= f.change_w[i] else f.industry[i]
    county = f.county_after[i] if w >= f.move_w[i] else f.county[i]
    return {
        "enterprise_name": text["enterprise_name"],
        "code_type": Enterprise.CodeType.USCC.value,
        "code": text["code"],
        "legal_representative": text["legal_representative"],
        "industry": industry,
        "region": county,
        "registration_type": f.registration[i],
        "holding_type": f.holding[i],
        "size": f.size[i],
        "listed": text["listed"],
        "stock_code": text["stock_code"],
        "address": ref.county_names[county] + text["street"],
        "postal_code": text["postal_code"],
        "website": "",
        "contact_person": text["contact_person"],
        "phone": text["phone"],
        "fax": "",
        "mobile": text["mobile"],
        "email": "",
        "main_business": ref.leaf_names[industry],
    }


# --- The monthly figures --------------------------------------------------------------------------


@dataclass
class Figure:
    month: np.ndarray  # (enterprises, months) int64: the month's flow, or the period-end level
    ytd: np.ndarray  # 1-本月: the year's months summed (flows), or the level again
    filled: np.ndarray  # (enterprises,) bool: whether the enterprise fills the indicator in


def _whole(x: np.ndarray) -> np.ndarray:
    return np.rint(x).astype(np.int64)


def _year_to_date(month: np.ndarray, win: Window) -> np.ndarray:
    total = np.cumsum(month, axis=1)
    before = np.concatenate([np.zeros((len(month), 1), dtype=np.int64), total], axis=1)
    return total - before[:, win.year_start]


def figures(f: Firms, win: Window, rng: np.random.Generator) -> dict[str, Figure]:
    """Every simulated month of every indicator of the default catalogue, in whole units."""
    n, t = len(f), np.arange(len(win.periods))
    p = f.p
    exists = (t >= f.born[:, None]) & (t < f.died[:, None])
    age = np.maximum(t - f.born[:, None], 0)
    ramp = 1 - 0.45 * np.exp(-np.minimum(age, 1000) / 4)  # newcomers grow into their size
    years = (t - t[-1]) / 12
    scale = p["level"][:, None] * np.exp(np.log1p(p["growth"])[:, None] * years) * win.national
    moy = win.month_of_year - 1

    def noise(sigma: float) -> np.ndarray:
        return rng.lognormal(0, sigma, (n, len(t)))

    industrial = p["industrial"][:, None]
    revenue = scale * SEASON[moy] * ramp * noise(0.07) * exists
    output = revenue * p["output_ratio"][:, None] * noise(0.03) * industrial
    annual = scale * 12 * exists
    loan = (
        annual * p["loan_ratio"][:, None] * np.exp(np.cumsum(rng.normal(0, 0.03, (n, len(t))), 1))
    )
    margin = p["margin"][:, None] + rng.normal(0, 0.025, (n, len(t))) - 0.02 * (moy == 1)
    walk = np.cumsum(rng.normal(0, 0.008, (n, len(t))), 1)
    staff = p["employees"][:, None] * np.exp(walk - walk[:, -1:]) * (1 - 0.04 * (moy == 1))
    assets = annual * p["assets"][:, None] * noise(0.02)
    capacity = p["capacity"][:, None] + CAPACITY_SEASON[moy] + rng.normal(0, 3, (n, len(t)))
    fills = p["fills"]
    everyone = np.ones(n, dtype=bool)
    flows = {
        "gross_output": (output, everyone),
        "export_delivery": (
            output * p["export_share"][:, None] * noise(0.12),
            p["exporter"] | (fills[:, 0] < 0.5),
        ),
        "electricity": (
            np.where(industrial, output * p["intensity"][:, None], revenue * 5) * noise(0.05),
            everyone,
        ),
        "revenue": (revenue, everyone),
        "operating_cost": (revenue * p["cost_ratio"][:, None] * noise(0.02), everyone),
        # Interest paid on the loans, less interest earned on deposits: negative for some.
        "financial_expense": (loan * 0.0035 * noise(0.1) - revenue * 0.0015, fills[:, 1] < 0.95),
        "total_profit": (revenue * margin, everyone),
        "taxes_payable": (revenue * p["tax_rate"][:, None] * noise(0.25), fills[:, 2] < 0.95),
        "rnd_expense": (
            revenue * p["rnd_rate"][:, None] * noise(0.2),
            p["rnd"] | (fills[:, 3] < 0.6),
        ),
        "new_product_output": (
            output * p["new_share"][:, None] * noise(0.1),
            p["rnd"] | (fills[:, 4] < 0.5),
        ),
    }
    levels = {
        "capacity_utilization": (np.clip(capacity, 40, 100), p["industrial"] & (fills[:, 5] < 0.9)),
        "loan_balance": (loan, p["borrower"] | (fills[:, 6] < 0.7)),
        "receivables": (
            annual * p["receivables"][:, None] * noise(0.05) * (1 - 0.12 * (moy == 11)),
            fills[:, 7] < 0.92,
        ),
        "finished_goods": (annual * p["finished"][:, None] * noise(0.08) * industrial, everyone),
        "employees": (np.maximum(staff * (0.6 + 0.4 * ramp), 1) * exists, everyone),
        "total_assets": (assets, everyone),
        "total_liabilities": (assets * p["debt"][:, None] * noise(0.03), everyone),
    }
    result = {}
    for code, (values, filled) in flows.items():
        month = _whole(values)
        result[code] = Figure(month, _year_to_date(month, win), filled)
    for code, (values, filled) in levels.items():
        level = _whole(values)
        result[code] = Figure(level, level, filled)
    return result


def generic_figure(
    code: str, kind: str, f: Firms, win: Window, known: dict[str, Figure], seed: int
) -> Figure:
    """An indicator added to the catalogue later: a share of revenue (flows) or of the annual
    scale (levels), or a percentage, so that a changed catalogue still gets plausible rows."""
    rng = np.random.default_rng([seed, 6, zlib.crc32(code.encode()), f.first])
    n = len(f)
    share = rng.uniform(0.05, 0.5, n)[:, None]
    if kind == Indicator.Kind.PERCENT:
        level = _whole(np.clip(rng.normal(70, 12, (n, len(win.periods))), 0, 100))
        return Figure(level, level, np.ones(n, dtype=bool))
    if kind == Indicator.Kind.STOCK:
        level = _whole(known["receivables"].month * share * 3)
        return Figure(level, level, np.ones(n, dtype=bool))
    month = _whole(known["revenue"].month * share)
    return Figure(month, _year_to_date(month, win), np.ones(n, dtype=bool))


# --- Statuses, times and answers ------------------------------------------------------------------


def _quota(n: int, shares: dict[int, float], rng: np.random.Generator) -> np.ndarray:
    """`n` statuses in the given shares exactly (largest remainder), shuffled."""
    exact = {s: share * n for s, share in shares.items()}
    counts = {s: int(v) for s, v in exact.items()}
    for s in sorted(exact, key=lambda s: (counts[s] - exact[s], s))[: n - sum(counts.values())]:
        counts[s] += 1
    statuses = np.concatenate([np.full(c, s, dtype=np.int8) for s, c in sorted(counts.items())])
    return rng.permutation(statuses)


def statuses(f: Firms, win: Window, rng: np.random.Generator) -> np.ndarray:
    """(enterprises, window months) status codes, NONE where there is no report row."""
    months = len(win.months)
    t = win.pre + np.arange(months)
    exists = (t >= f.born[:, None]) & (t < f.died[:, None])
    result = np.zeros((len(f), months), dtype=np.int8)
    earlier = np.array(sorted(EARLIER))
    cumulative = np.cumsum([EARLIER[s] for s in earlier])
    for w in range(months):
        members = np.flatnonzero(exists[:, w])
        if w == months - 1:
            result[members, w] = _quota(len(members), LAST_MONTH, rng)
        elif w == months - 2:
            result[members, w] = _quota(len(members), SECOND_LAST, rng)
        else:
            draws = np.searchsorted(cumulative, rng.random(len(members)) * cumulative[-1])
            result[members, w] = earlier[np.minimum(draws, len(earlier) - 1)]
    return result


@dataclass
class Times:
    submitted: np.ndarray  # epoch seconds; NaN where not submitted
    reviewed: np.ndarray
    created: np.ndarray
    updated: np.ndarray


def times(
    status: np.ndarray,
    late_p: np.ndarray,
    t: int,
    win: Window,
    now: float,
    rng: np.random.Generator,
) -> Times:
    """When the reports of one month were opened, submitted and first reviewed: mostly in the
    days before the deadline, some after it, none after `now`."""
    n = len(status)
    opens, deadline = win.opens[t], win.deadlines[t]
    day, hour = 86_400, 3_600
    span = (deadline - opens) / day
    on_time = opens + np.floor(rng.beta(2.2, 1.3, n) * span) * day
    late = deadline + np.floor(rng.uniform(0, 12, n)) * day
    moment = (
        np.where(rng.random(n) < late_p, late, on_time) + 8 * hour + rng.uniform(0, 14, n) * hour
    )
    ceiling = now - rng.uniform(60, hour, n)
    submitted_any = np.maximum(np.minimum(moment, ceiling), opens)
    was_submitted = np.isin(status, (PENDING, RETURNED, APPROVED))
    submitted = np.where(was_submitted, submitted_any, np.nan)
    reviewed_any = np.minimum(submitted_any + rng.uniform(2 * hour, 5 * day, n), ceiling)
    reviewed_any = np.maximum(reviewed_any, submitted_any)
    first_reviewed = np.isin(status, (RETURNED, APPROVED)) | (
        (status == PENDING) & (rng.random(n) < 0.25)
    )
    reviewed = np.where(first_reviewed, reviewed_any, np.nan)
    opened = np.minimum(opens + rng.uniform(0, 20, n) * day, ceiling)
    created = np.where(
        was_submitted, np.maximum(submitted_any - rng.uniform(600, 3 * day, n), opens), opened
    )
    updated = np.fmax(np.fmax(created, submitted), reviewed)
    return Times(submitted, reviewed, created, updated)


def review_levels(status: np.ndarray, reviewed: np.ndarray, rng: np.random.Generator) -> list[str]:
    """national for approved months and for pending ones a local office passed on; local for a
    share of the rest, as where a local administrator reviews first."""
    national = (status == APPROVED) | ~np.isnan(reviewed) | (rng.random(len(status)) < 0.5)
    return np.where(national, "national", "local").tolist()


def answers(
    f: Firms,
    e: np.ndarray,
    t: int,
    win: Window,
    revenue: Figure,
    drift: dict[str, np.ndarray],
    w: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(reports, 4) answer indexes: three single choices and a bitmask of difficulties. The
    answers follow the enterprise's own figures (a tight cash position for loss makers, orders
    up when revenue grew on the month) and a national mood that drifts month to month."""
    n = len(e)
    margin = f.p["margin"][e]
    liquidity = -(margin - 0.05) * 15 + (f.p["receivables"][e] - 0.19) * 5 + drift["liquidity"][w]
    liquidity += rng.normal(0, 1, n)
    cash = np.where(liquidity > 0.8, 2, np.where(liquidity < -1.1, 0, 1))
    month = revenue.month
    change = np.log((month[e, t] + 1) / (month[e, t - 1] + 1))
    orders_z = change * 2.5 + drift["orders"][w] + rng.normal(0, 0.8, n)
    orders = np.where(orders_z > 0.5, 0, np.where(orders_z < -0.5, 2, 1))
    this = win.month_of_year[t] - 1
    ahead = np.log(SEASON[(this + 1) % 12] / SEASON[this]) * 3 + f.p["growth"][e] * 3
    ahead = ahead + drift["outlook"][w] + rng.normal(0, 0.8, n)
    outlook = np.where(ahead > 0.5, 0, np.where(ahead < -0.5, 2, 1))
    chance = np.tile(drift["difficulties"][w], (n, 1))
    chance[:, 2] += 0.2 * (cash == 2)
    chance[:, 3] += 0.25 * (orders == 2)
    chance[:, 4] += 0.1 * (cash == 2)
    chosen = rng.random((n, 5)) < chance
    none = ~chosen.any(axis=1)
    chosen[none, np.argmax(chance[none], axis=1)] = True
    mask = (chosen * (1 << np.arange(5))).sum(axis=1)
    return np.stack([cash, orders, outlook, mask], axis=1)


def answer_drift(months: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 7])
    walk = lambda scale: np.cumsum(rng.normal(0, scale, months))  # noqa: E731
    return {
        "liquidity": walk(0.12),
        "orders": walk(0.12),
        "outlook": walk(0.12),
        "difficulties": np.clip(
            DIFFICULTY_BASE + np.cumsum(rng.normal(0, 0.03, (months, 5)), axis=0), 0.03, 0.85
        ),
    }


# --- Writing rows ---------------------------------------------------------------------------------


class Sink:
    """Rows in column lists: executemany in batches (SQLite, any database)."""

    null: Any = None
    label = "executemany"

    def prepare(self) -> None:
        """Settings for the bulk load, at the start of each chunk's transaction."""

    def reserve_ids(self, table: str, count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
            top = cursor.fetchone()[0]
        return list(range(top + 1, top + 1 + count))

    def ints(self, values: np.ndarray, present: np.ndarray | None = None) -> list[Any]:
        items = values.tolist()
        if present is not None:
            for i in np.flatnonzero(~present).tolist():
                items[i] = self.null
        return items

    def texts(self, values: list[str]) -> list[Any]:
        return values

    def moments(self, seconds: np.ndarray) -> list[Any]:
        """Epoch seconds (NaN = NULL) as Django's SQLite backend stores them: UTC, no zone."""
        present = ~np.isnan(seconds)
        stamps = np.datetime_as_string(np.where(present, seconds, 0).astype("datetime64[s]"))
        items = [s.replace("T", " ") for s in stamps.tolist()]
        for i in np.flatnonzero(~present).tolist():
            items[i] = self.null
        return items

    def write(self, table: str, names: Sequence[str], columns: Sequence[list[Any]]) -> None:
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in names)}) "
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )
        rows = list(zip(*columns, strict=True))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 20_000):
                cursor.executemany(sql, rows[start : start + 20_000])


class CopySink(Sink):
    """Rows as COPY text on PostgreSQL: every value already a string, NULL as \\N."""

    null = "\\N"
    label = "COPY"

    def prepare(self) -> None:
        """For this transaction only, where the role may: lz4 for the reports' JSON (several
        times faster than pglz), and no foreign-key triggers (session_replication_role), which
        would otherwise check tens of millions of rows at commit one by one, although every id
        written was taken from its table's sequence in this same transaction."""
        for setting in (
            "SET LOCAL default_toast_compression = 'lz4'",
            "SET LOCAL session_replication_role = replica",
        ):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(setting)
            except DatabaseError:
                pass  # not allowed, or PostgreSQL built without lz4: the defaults are correct

    def reserve_ids(self, table: str, count: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def ints(self, values: np.ndarray, present: np.ndarray | None = None) -> list[Any]:
        items = list(map(str, values.tolist()))
        if present is not None:
            for i in np.flatnonzero(~present).tolist():
                items[i] = self.null
        return items

    def texts(self, values: list[str]) -> list[Any]:
        return [_copy_text(v) for v in values]

    def moments(self, seconds: np.ndarray) -> list[Any]:
        present = ~np.isnan(seconds)
        stamps = np.datetime_as_string(np.where(present, seconds, 0).astype("datetime64[s]"))
        items = np.char.add(stamps, "+00").tolist()
        for i in np.flatnonzero(~present).tolist():
            items[i] = self.null
        return items

    def write(self, table: str, names: Sequence[str], columns: Sequence[list[Any]]) -> None:
        quote = connection.ops.quote_name
        sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in names)}) FROM STDIN"
        lines = list(map("\t".join, zip(*columns, strict=True)))
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for start in range(0, len(lines), 50_000):
                copy.write("\n".join(lines[start : start + 50_000]) + "\n")


def _copy_text(value: str) -> str:
    """A string in COPY's text format: backslash, tab and line breaks escaped (JSON keeps its
    own escapes as backslashes, so they are doubled)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        value = value.replace("\n", "\\n").replace("\r", "\\r")
    return value


def sink_for_connection() -> Sink:
    return CopySink() if connection.vendor == "postgresql" else Sink()


# --- One chunk: its rows, month by month ----------------------------------------------------------


def _answer_json() -> tuple[list[list[str]], list[str]]:
    """The stored JSON of each single-choice option, and of each set of difficulties by bitmask
    (sorted values, as reports.questionnaires.clean_answers stores them)."""
    singles = [[json.dumps(v) for v, _ in options] for _, kind, options in QUESTIONS[:3]]
    values = [v for v, _ in QUESTIONS[3][2]]
    multiple = [
        json.dumps(sorted(v for bit, v in enumerate(values) if mask & (1 << bit)))
        for mask in range(1 << len(values))
    ]
    return singles, multiple


SINGLE_JSON, MULTIPLE_JSON = _answer_json()
REPORT_COLUMNS = ("id", "enterprise_id", "period", "status", "method", "version", "basic_info")
REPORT_COLUMNS += ("catalogue", "submitted_at", "review_level", "first_reviewed_at")
REPORT_COLUMNS += ("created_at", "updated_at")
VALUE_COLUMNS = ("report_id", "code", "current", "ytd", "last_year_current", "last_year_ytd")
ENTERPRISE_COLUMNS = ("id", "name", "code_type", "code", "region_id", "industry_id")
ENTERPRISE_COLUMNS += ("registration_type_id", "holding_type", "size", "contact_person")
ENTERPRISE_COLUMNS += ("contact_phone", "created_at")


@dataclass
class Chunk:
    """One chunk being written: its enterprises, their figures and where the rows go."""

    plan: Plan
    firms: Firms
    known: dict[str, Figure]
    rng: np.random.Generator
    infos: dict[tuple[int, bool, bool], str] = field(default_factory=dict)
    extra: dict[str, Figure] = field(default_factory=dict)

    @property
    def win(self) -> Window:
        return self.plan.win

    @property
    def sink(self) -> Sink:
        return self.plan.sink

    def figure(self, indicator: Indicator) -> Figure:
        if indicator.code in self.known:
            return self.known[indicator.code]
        if indicator.code not in self.extra:
            self.extra[indicator.code] = generic_figure(
                indicator.code, indicator.kind, self.firms, self.win, self.known, self.plan.seed
            )
        return self.extra[indicator.code]

    def info_json(self, i: int, w: int) -> str:
        f = self.firms
        key = (i, bool(w >= f.change_w[i]), bool(w >= f.move_w[i]))
        if key not in self.infos:
            self.infos[key] = json.dumps(basic_info(self.plan.ref, f, i, w), ensure_ascii=False)
        return self.infos[key]


def _chunk(plan: Plan, number: int, first: int, size: int, counts: Counts) -> None:
    """Enterprises `first`… of the run, with their reports, values and answers month by month.
    The chunk's draws come from its own generator: the result does not depend on the order in
    which chunks are written."""
    rng = np.random.default_rng([plan.seed, 100, number])
    sink, win = plan.sink, plan.win
    ids = sink.reserve_ids(Enterprise._meta.db_table, size)
    firms = make_firms(plan.ref, win, rng, ids, first, plan.code_base)
    if Enterprise.objects.filter(code__in=[t["code"] for t in firms.text]).exists():
        raise DatasetError("生成的企业代码与库中已有企业重复：请换一个 --seed。")
    _write_enterprises(firms, win, sink, rng)
    counts.enterprises += size
    chunk = Chunk(plan, firms, figures(firms, win, rng), rng)
    status = statuses(firms, win, rng)
    report_ids = np.array(
        sink.reserve_ids(Report._meta.db_table, int((status != NONE).sum())), dtype=np.int64
    )
    taken = 0
    for w, period in enumerate(win.months):
        e = np.flatnonzero(status[:, w])
        if not len(e):
            continue
        rids = report_ids[taken : taken + len(e)]
        taken += len(e)
        counts.reports += _write_reports(chunk, w, e, rids, status[e, w])
        counts.indicator_values += _write_values(chunk, w, e, rids)
        month_questions = plan.questions.get(str(period))
        if month_questions:
            counts.answers += _write_answers(chunk, w, e, rids, status[e, w], month_questions)


def _write_enterprises(f: Firms, win: Window, sink: Sink, rng: np.random.Generator) -> None:
    day = 86_400
    n = len(f)
    long_ago = win.starts[0] - rng.uniform(30, 1_500, n) * day
    since = win.starts[np.clip(f.born, 0, len(win.periods) - 1)] + rng.uniform(0, 25, n) * day
    created = np.where(f.born == LONG_AGO, long_ago, since)
    sink.write(
        Enterprise._meta.db_table,
        ENTERPRISE_COLUMNS,
        [
            sink.ints(f.ids),
            sink.texts([t["enterprise_name"] for t in f.text]),
            sink.texts([Enterprise.CodeType.USCC.value] * n),
            sink.texts([t["code"] for t in f.text]),
            sink.texts(f.county_after),
            sink.texts(f.industry_after),
            sink.texts(f.registration),
            sink.texts(f.holding),
            sink.texts(f.size),
            sink.texts([t["contact_person"] for t in f.text]),
            sink.texts([t["contact_phone"] for t in f.text]),
            sink.moments(created),
        ],
    )


def _write_reports(c: Chunk, w: int, e: np.ndarray, rids: np.ndarray, st: np.ndarray) -> int:
    sink, rng, t = c.sink, c.rng, c.win.pre + w
    n = len(e)
    moments = times(st, c.firms.p["late"][e], t, c.win, c.plan.now, rng)
    levels = review_levels(st, moments.reviewed, rng)
    methods = METHODS[rng.choice(len(METHODS), n, p=[0.85, 0.1, 0.05])].tolist()
    version = np.select([st == DRAFT, st == FROZEN, st == PENDING], [1, 2, 2], 3)
    version += (st == PENDING) & ~np.isnan(moments.reviewed)
    sink.write(
        Report._meta.db_table,
        REPORT_COLUMNS,
        [
            sink.ints(rids),
            sink.ints(c.firms.ids[e]),
            sink.texts([str(c.win.months[w])] * n),
            sink.texts(STATUS_VALUES[st].tolist()),
            sink.texts(methods),
            sink.ints(version),
            sink.texts([c.info_json(i, w) for i in e.tolist()]),
            sink.texts([c.win.catalogue_json[w]] * n),
            sink.moments(moments.submitted),
            sink.texts(levels),
            sink.moments(moments.reviewed),
            sink.moments(moments.created),
            sink.moments(moments.updated),
        ],
    )
    return n


def _write_values(c: Chunk, w: int, e: np.ndarray, rids: np.ndarray) -> int:
    """One row per indicator of the month's catalogue and report, report by report."""
    t = c.win.pre + w
    catalogue = c.win.catalogues[w]
    shape = (len(e), len(catalogue))
    current, ytd, last_current, last_ytd = (np.zeros(shape, dtype=np.int64) for _ in range(4))
    has_current, has_ytd, has_last_current, has_last_ytd = (
        np.zeros(shape, dtype=bool) for _ in range(4)
    )
    # 上年本月 and period-end levels need the month a year before; 上年1-本月 its whole base.
    existed = c.firms.born[e] <= t - 12
    whole_base = c.firms.born[e] <= c.win.year_start[t - 12]
    for k, indicator in enumerate(catalogue):
        fig = c.figure(indicator)
        filled = fig.filled[e]
        ytd[:, k], last_ytd[:, k] = fig.ytd[e, t], fig.ytd[e, t - 12]
        summed = indicator.kind in (Indicator.Kind.FLOW, Indicator.Kind.YTD)
        has_ytd[:, k], has_last_ytd[:, k] = filled, filled & (whole_base if summed else existed)
        if indicator.kind == Indicator.Kind.FLOW:
            current[:, k], last_current[:, k] = fig.month[e, t], fig.month[e, t - 12]
            has_current[:, k], has_last_current[:, k] = filled, filled & existed
    sink = c.sink
    sink.write(
        IndicatorValue._meta.db_table,
        VALUE_COLUMNS,
        [
            sink.ints(np.repeat(rids, len(catalogue))),
            sink.texts([i.code for i in catalogue] * len(e)),
            sink.ints(current.ravel(), has_current.ravel()),
            sink.ints(ytd.ravel(), has_ytd.ravel()),
            sink.ints(last_current.ravel(), has_last_current.ravel()),
            sink.ints(last_ytd.ravel(), has_last_ytd.ravel()),
        ],
    )
    return current.size


def _write_answers(
    c: Chunk,
    w: int,
    e: np.ndarray,
    rids: np.ndarray,
    st: np.ndarray,
    question_ids: list[int],
) -> int:
    """Answers of most submitted months (an API or import submission may skip step 4)."""
    answered = np.isin(st, (PENDING, RETURNED, APPROVED)) & (c.rng.random(len(e)) < 0.93)
    e, rids = e[answered], rids[answered]
    if not len(e):
        return 0
    chosen = answers(c.firms, e, c.win.pre + w, c.win, c.known["revenue"], c.plan.drift, w, c.rng)
    values = np.empty(chosen.shape, dtype=object)
    for q in range(3):
        values[:, q] = np.array(SINGLE_JSON[q], dtype=object)[chosen[:, q]]
    values[:, 3] = np.array(MULTIPLE_JSON, dtype=object)[chosen[:, 3]]
    sink = c.sink
    sink.write(
        Answer._meta.db_table,
        ("report_id", "question_id", "value"),
        [
            sink.ints(np.repeat(rids, 4)),
            sink.ints(np.tile(np.array(question_ids, dtype=np.int64), len(e))),
            sink.texts(values.ravel().tolist()),
        ],
    )
    return values.size


# --- The run --------------------------------------------------------------------------------------


def create_questionnaires(months: list[Period]) -> dict[str, list[int]]:
    """企业经营状况调查 for the generated months (several rows when they do not fit in one
    `periods` field); month → the ids of its questions, in QUESTIONS order."""
    by_month: dict[str, list[int]] = {}
    for start in range(0, len(months), MAX_QUESTIONNAIRE_MONTHS):
        group = [str(p) for p in months[start : start + MAX_QUESTIONNAIRE_MONTHS]]
        questionnaire = Questionnaire.objects.create(
            title=QUESTIONNAIRE_TITLE,
            description="了解企业资金、订单、预期和主要困难（合成数据集）。",
            periods=",".join(group),
        )
        ids = []
        for position, (text, kind, options) in enumerate(QUESTIONS, start=1):
            question = Question.objects.create(
                questionnaire=questionnaire,
                position=position,
                text=text,
                type=kind,
                required=True,
                options=[{"value": v, "label": label} for v, label in options],
            )
            ids.append(question.pk)
        by_month.update({month: ids for month in group})
    return by_month


@dataclass
class Counts:
    enterprises: int = 0
    reports: int = 0
    indicator_values: int = 0
    answers: int = 0

    def add(self, other: Counts) -> None:
        self.enterprises += other.enterprises
        self.reports += other.reports
        self.indicator_values += other.indicator_values
        self.answers += other.answers


@dataclass
class Plan:
    """What every chunk of one run shares."""

    ref: Reference
    win: Window
    sink: Sink
    seed: int
    now: float
    code_base: int  # organisation-code bodies are numbered from here
    questions: dict[str, list[int]]
    drift: dict[str, np.ndarray]


def generate(
    enterprises: int,
    months: int,
    end: str,
    seed: int,
    out: Callable[[str], Any] = print,
    *,
    append: bool = False,
    now: dt.datetime | None = None,
    rebuild_cube: bool = True,
    workers: int | None = None,
) -> dict[str, int]:
    """Generate the dataset into the default database; returns the counts of rows written.
    `now` (default: the current time) bounds every timestamp and the last allowed month.
    `workers` chunks are written at once, each on its own connection (default: 2 on PostgreSQL
    outside a transaction, where the database's work per chunk outweighs Python's; else 1)."""
    started = time.perf_counter()
    now = now or timezone.now()
    end_period = _checked_end(end, now)
    if enterprises < 1 or months < 1:
        raise DatasetError("企业数和月份数都应至少为 1。")
    if not append and Report.objects.exists():
        raise DatasetError(
            "数据库中已有报表数据：此命令用于空的测试数据库（先 migrate 和 load_reference_data）。"
            "确需在其上追加，请加 --append。"
        )
    win = make_window(end_period, months, seed)
    sink = sink_for_connection()
    if workers is None:
        workers = 2 if isinstance(sink, CopySink) and not connection.in_atomic_block else 1
    out(
        f"生成 {enterprises} 家企业 × {months} 个月（{win.months[0]} 至 {win.months[-1]}），"
        f"随机种子 {seed}，数据库 {connection.vendor}（{sink.label}，{workers} 个连接并行）"
    )
    with transaction.atomic():
        questions = create_questionnaires(win.months)
    plan = Plan(
        ref=load_reference(seed),
        win=win,
        sink=sink,
        seed=seed,
        now=now.timestamp(),
        code_base=int(np.random.default_rng([seed, 8]).integers(0, 10**8)),
        questions=questions,
        drift=answer_drift(months, seed),
    )
    jobs = [
        (number, first, min(CHUNK, enterprises - first))
        for number, first in enumerate(range(0, enterprises, CHUNK), start=1)
    ]
    counts = Counts()

    def progress(done: int, chunk: Counts) -> None:
        counts.add(chunk)
        out(
            f"  第 {done}/{len(jobs)} 批：企业 {counts.enterprises:,}，报表 {counts.reports:,}，"
            f"指标数据 {counts.indicator_values:,}，问卷答案 {counts.answers:,}，"
            f"已用 {time.perf_counter() - started:.0f} 秒"
        )

    if workers > 1:
        _run_parallel(plan, jobs, workers, progress)
    else:
        for done, job in enumerate(jobs, start=1):
            progress(done, _run_chunk(plan, *job))
    result = {
        "enterprises": counts.enterprises,
        "reports": counts.reports,
        "indicator_values": counts.indicator_values,
        "answers": counts.answers,
        "questionnaires": len({tuple(ids) for ids in questions.values()}),
        "seconds": round(time.perf_counter() - started),
    }
    _tidy(out)
    if rebuild_cube:
        result["cube_rows"], result["cube_seconds"] = _rebuild_cube(win, out)
    return result


LOADED_MODELS = (Enterprise, Report, IndicatorValue, Answer, Questionnaire, Question)


def _tidy(out: Callable[[str], Any]) -> None:
    """Statistics for the planner (this server may run without autovacuum: freshly loaded
    tables would be planned blind) and, outside a transaction on PostgreSQL, VACUUM: it sets
    the hint bits and the visibility map once, so that the first benchmark queries neither
    rewrite every page nor miss index-only scans."""
    started = time.perf_counter()
    tables = [connection.ops.quote_name(m._meta.db_table) for m in LOADED_MODELS]
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    what = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:  # one at a time: SQLite's ANALYZE takes a single name
            cursor.execute(f"{what} {table}")
    out(f"{what}：用时 {time.perf_counter() - started:.0f} 秒")


def _run_parallel(
    plan: Plan,
    jobs: list[tuple[int, int, int]],
    workers: int,
    progress: Callable[[int, Counts], None],
) -> None:
    """Chunks on `workers` threads: each waits on PostgreSQL (the GIL released) while another
    computes. Each chunk opens its own connection and closes it when done."""

    def run(job: tuple[int, int, int]) -> Counts:
        try:
            return _run_chunk(plan, *job)
        finally:
            connection.close()

    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                progress(done, future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_chunk(plan: Plan, number: int, first: int, size: int) -> Counts:
    counts = Counts()
    with transaction.atomic():
        plan.sink.prepare()
        _chunk(plan, number, first, size, counts)
    return counts


def _checked_end(end: str, now: dt.datetime) -> Period:
    try:
        period = Period.parse(end)
    except ValueError as exc:
        raise DatasetError(str(exc)) from exc
    latest = current_report_month(timezone.localdate(now))
    if period > latest:
        raise DatasetError(f"{period} 尚未结束：最后一个可生成的报表月份是 {latest}。")
    return period


def _rebuild_cube(win: Window, out: Callable[[str], Any]) -> tuple[int, int]:
    """analytics.cube.rebuild over the generated months, when that module offers it."""
    try:
        from analytics import cube
    except ImportError as exc:
        out(f"未重建分析汇总表：无法导入 analytics.cube（{exc}）。")
        return 0, 0
    rebuild = getattr(cube, "rebuild", None)
    if not callable(rebuild):
        out("未重建分析汇总表：analytics.cube 没有 rebuild(periods)。")
        return 0, 0
    started = time.perf_counter()
    rows = rebuild([str(p) for p in win.months])
    seconds = time.perf_counter() - started
    out(f"分析汇总表已重建：{rows:,} 行，用时 {seconds:.1f} 秒")
    return int(rows or 0), round(seconds)
