"""The figures of the analytics pages, the API (GET /api/v1/stats/aggregates) and the analysis
report, read from the aggregate (analytics.models) within the administrator's region.

Definitions (one place):
- Which reports count: 审核通过 only by default; `include_pending` adds 待审核 ones.
- 企业数: counted reports of the group. 本年1-本月 (期末值 for stock indicators): the sum over the
  reports that carry it. 增速 (同比增长 %) is computed over the same enterprises (可比口径): the
  reports that carry both 本年 and 上年 1-本月, (Σ本年 − Σ上年) / |Σ上年| × 100; a zero base has
  no growth (None, shown "—"). 增速变化: this month's growth minus last month's, in percentage
  points, each over its own comparable enterprises. 增长面: share of comparable enterprises whose
  figure grew. 亏损企业 / 亏损额: reports with a negative figure and their sum (利润总额).
- A percentage indicator (生产能力利用率) is averaged, not summed; its "growth" is the change of
  the average in percentage points.
- The month's own facts group the figures: the county, industry, size, holding and registration
  type reported in step 1 that month (analytics.cube).
Nothing is rounded here: Decimal all the way, rounding at display (analytics.formatting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404

from accounts.models import User
from analytics.models import MEASURES, REPORTS, Bucket, Cell, Dim, OptionCell
from directory.models import EnterpriseSize, HoldingType, Industry, Region, RegistrationType
from reports.models import Indicator, Question, Questionnaire
from reports.periods import Period
from stats.completion import locate

THOUSAND = Decimal(1000)
HUNDRED = Decimal(100)
UNKNOWN = "未填报"

GROUPINGS = {
    "region": "地区",
    "section": "行业门类",
    "division": "行业大类",
    "size": "企业规模",
    "holding": "控股类型",
    "registration": "登记注册类型",
}
# The API's group_by=industry is the 门类 table.
ALIASES = {"industry": "section"}
DIMENSION = {
    "region": Dim.ALL,
    "section": Dim.INDUSTRY,
    "division": Dim.INDUSTRY,
    "size": Dim.SIZE,
    "holding": Dim.HOLDING,
    "registration": Dim.REGISTRATION,
}
UNKNOWN_GROUPING = "未知的分组方式。"
UNKNOWN_INDICATOR = "该月份没有这个指标。"


def growth(value: Decimal | int, base: Decimal | int) -> Decimal | None:
    """(value − base) / |base| × 100; None for a zero base (no meaningful growth)."""
    if base == 0:
        return None
    return (Decimal(value) - Decimal(base)) * HUNDRED / abs(Decimal(base))


def share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return Decimal(part) * HUNDRED / Decimal(whole)


def difference(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    if now is None or before is None:
        return None
    return now - before


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    name: str
    unit: str
    kind: str

    @property
    def averaged(self) -> bool:
        return self.kind == Indicator.Kind.PERCENT

    @property
    def has_current(self) -> bool:
        return self.kind == Indicator.Kind.FLOW

    @property
    def may_lose(self) -> bool:
        return self.code == "total_profit"


@dataclass
class Measure:
    """The additive sums of one group (amounts in thousandths of the unit), and the figures
    derived from them."""

    averaged: bool = False
    reports: int = 0
    n: int = 0
    total: int = 0
    n_cmp: int = 0
    cmp: int = 0
    base: int = 0
    n_up: int = 0
    n_neg: int = 0
    neg_total: int = 0
    n_cur: int = 0
    cur: int = 0
    cur_base: int = 0

    def add(self, sums: dict[str, Any]) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + int(sums.get(name) or 0))

    @property
    def level(self) -> Decimal | None:
        """Σ本年1-本月 in the reported unit, or the average for a percentage indicator."""
        if self.averaged:
            return Decimal(self.total) / THOUSAND / self.n if self.n else None
        return Decimal(self.total) / THOUSAND if self.n else None

    @property
    def comparable_level(self) -> Decimal:
        return Decimal(self.cmp) / THOUSAND

    @property
    def comparable_base(self) -> Decimal:
        return Decimal(self.base) / THOUSAND

    @property
    def growth(self) -> Decimal | None:
        """同比增长 % over the comparable enterprises (for an average: the change in points)."""
        if self.averaged:
            if not self.n_cmp:
                return None
            return (Decimal(self.cmp) - Decimal(self.base)) / THOUSAND / self.n_cmp
        return growth(self.cmp, self.base) if self.n_cmp else None

    @property
    def current_growth(self) -> Decimal | None:
        """本月同比增长 % (flow indicators)."""
        return growth(self.cur, self.cur_base) if self.n_cur else None

    @property
    def share_up(self) -> Decimal | None:
        return share(self.n_up, self.n_cmp)

    @property
    def losses(self) -> Decimal:
        return Decimal(self.neg_total) / THOUSAND

    @property
    def loss_share(self) -> Decimal | None:
        return share(self.n_neg, self.n)


@dataclass
class Row:
    key: str
    label: str
    now: Measure
    before: Measure  # the previous month, same group
    code: str = ""  # a region's code for drill-down

    @property
    def growth_change(self) -> Decimal | None:
        return difference(self.now.growth, self.before.growth)

    @property
    def share_up_change(self) -> Decimal | None:
        return difference(self.now.share_up, self.before.share_up)


@dataclass
class Scope:
    region: Region | None
    children: list[Region]
    include_pending: bool

    @property
    def name(self) -> str:
        return self.region.name if self.region else "全国"

    @property
    def code(self) -> str:
        return self.region.code if self.region else ""

    @property
    def buckets(self) -> tuple[str, ...]:
        if self.include_pending:
            return (Bucket.APPROVED, Bucket.PENDING)
        return (Bucket.APPROVED,)

    @property
    def counted_label(self) -> str:
        return "审核通过和待审核的报表" if self.include_pending else "审核通过的报表"

    @property
    def child_width(self) -> int:
        if self.region is None:
            return 2
        return {Region.Level.PROVINCE: 4, Region.Level.CITY: 6}.get(self.region.level, 6)

    def cells(self, model: type[Cell] | type[OptionCell] = Cell) -> QuerySet[Any]:
        qs = model.objects.filter(bucket__in=self.buckets)
        if self.region is not None:
            prefix = self.region.prefix
            # A range, not LIKE: PostgreSQL's btree serves it whatever the collation.
            qs = qs.filter(county__gte=prefix, county__lte=prefix + "9" * (6 - len(prefix)))
        return qs


def scope_for(user: User, region_code: str | None, include_pending: bool = False) -> Scope:
    """The region asked for (default: the administrator's own; None: the whole country) and its
    children; unknown, malformed or outside the caller's region → Http404. The same rule as
    填报情况 (stats.completion.locate)."""
    region, children = locate(user, region_code)
    return Scope(region, children, include_pending)


def indicators_of(period: Period) -> list[IndicatorInfo]:
    return [
        IndicatorInfo(i.code, i.name, i.unit, i.kind)
        for i in Indicator.objects.effective_in(str(period), period.is_quarter_end)
    ]


def indicator_info(period: Period, code: str) -> IndicatorInfo:
    for info in indicators_of(period):
        if info.code == code:
            return info
    raise Http404(UNKNOWN_INDICATOR)


# --- Labels of group keys ----------------------------------------------------------------------


def _section_of_division() -> dict[str, Industry]:
    """大类 (two digits) → its 门类."""
    divisions = Industry.objects.filter(level=Industry.Level.DIVISION).select_related("parent")
    return {d.code: d.parent for d in divisions if d.parent is not None}


def _registration_level2() -> dict[str, RegistrationType]:
    """Every registration code → its second-level type (or itself above that level)."""
    types = {t.code: t for t in RegistrationType.objects.all()}
    result = {}
    for code, item in types.items():
        node = item
        while node.level > 2 and node.parent_id in types:
            node = types[node.parent_id]
        result[code] = node
    return result


@dataclass
class Grouping:
    """How the keys of one dimension fold into the rows of a table, with their labels."""

    name: str
    fold: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key → (row, label, code)
    order: list[str] = field(default_factory=list)
    other: tuple[str, str] = ("", UNKNOWN)

    def row_of(self, key: str) -> tuple[str, str, str]:
        found = self.fold.get(key)
        if found is not None:
            return found
        return (self.other[0], self.other[1], "")


def grouping(name: str, scope: Scope) -> Grouping:
    g = Grouping(name)
    if name == "region":
        width = scope.child_width
        for child in scope.children:
            g.fold[child.code[:width]] = (child.code[:width], child.name, child.code)
            g.order.append(child.code[:width])
        g.other = ("~", f"{scope.name}本级")
    elif name == "section":
        for division, section in _section_of_division().items():
            g.fold[division] = (section.code, f"{section.code} {section.name}", "")
        g.order = sorted({row for row, _, _ in g.fold.values()})
    elif name == "division":
        for d in Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code"):
            g.fold[d.code] = (d.code, f"{d.code} {d.name}", "")
            g.order.append(d.code)
    elif name == "size":
        for value, label in EnterpriseSize.choices:
            g.fold[value] = (value, str(label), "")
            g.order.append(value)
    elif name == "holding":
        for value, label in HoldingType.choices:
            g.fold[value] = (value, str(label), "")
            g.order.append(value)
    elif name == "registration":
        for code, node in _registration_level2().items():
            g.fold[code] = (node.code, node.name, "")
        g.order = sorted({row for row, _, _ in g.fold.values()})
    else:
        raise Http404(UNKNOWN_GROUPING)
    return g


# --- Tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    period: Period
    indicator: IndicatorInfo
    grouping: str
    scope: Scope
    rows: list[Row]
    total: Row

    @property
    def grouping_label(self) -> str:
        return GROUPINGS[self.grouping]


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in MEASURES}


def _key_expression(name: str, scope: Scope) -> Any:
    return Substr("county", 1, scope.child_width) if name == "region" else F("value")


def aggregate(
    scope: Scope, period: Period, indicator: IndicatorInfo, grouping_name: str = "region"
) -> Table:
    """One indicator of one month by child region, industry, size, holding or registration type,
    with last month's figures for the changes. Two queries besides the labels."""
    name = ALIASES.get(grouping_name, grouping_name)
    g = grouping(name, scope)
    months = (str(period), str(period.previous()))
    rows = (
        scope.cells()
        .filter(period__in=months, indicator__in=(indicator.code, REPORTS), dim=DIMENSION[name])
        .annotate(key=_key_expression(name, scope))
        .values("period", "indicator", "key")
        .annotate(**_sums())
        .order_by()
    )
    table_rows: dict[str, Row] = {}
    total = Row("", "合计", Measure(indicator.averaged), Measure(indicator.averaged))

    def row_for(key: str) -> Row:
        row_key, label, code = g.row_of(key)
        if row_key not in table_rows:
            table_rows[row_key] = Row(
                row_key, label, Measure(indicator.averaged), Measure(indicator.averaged), code
            )
        return table_rows[row_key]

    for item in rows:
        row = row_for(item["key"])
        now = item["period"] == months[0]
        for target in (row, total):
            measure = target.now if now else target.before
            if item["indicator"] == REPORTS:
                measure.reports += int(item["n"] or 0)
            else:
                measure.add(item)
    position = {key: i for i, key in enumerate(g.order)}
    ordered = sorted(
        (r for r in table_rows.values() if r.now.reports or r.before.reports),
        key=lambda r: (position.get(r.key, len(position)), r.key),
    )
    # Every child region has a row, reported or not; other groupings list what has reports.
    if name == "region":
        present = {r.key for r in ordered}
        for key in g.order:
            if key not in present:
                row_key, label, code = g.row_of(key)
                ordered.append(
                    Row(
                        row_key,
                        label,
                        Measure(indicator.averaged),
                        Measure(indicator.averaged),
                        code,
                    )
                )
        ordered.sort(key=lambda r: (position.get(r.key, len(position)), r.key))
    return Table(period, indicator, name, scope, ordered, total)


@dataclass
class CrossTable:
    """Child regions × 门类: the growth (and level) of one indicator in each cell."""

    period: Period
    indicator: IndicatorInfo
    scope: Scope
    columns: list[tuple[str, str]]  # (门类 code, label)
    rows: list[tuple[Row, dict[str, Measure]]]
    column_totals: dict[str, Measure]
    total: Row


def cross(scope: Scope, period: Period, indicator: IndicatorInfo) -> CrossTable:
    regions = grouping("region", scope)
    sections = grouping("section", scope)
    items = (
        scope.cells()
        .filter(period=str(period), indicator__in=(indicator.code, REPORTS), dim=Dim.INDUSTRY)
        .annotate(key=Substr("county", 1, scope.child_width))
        .values("indicator", "key", "value")
        .annotate(**_sums())
        .order_by()
    )
    grid: dict[str, dict[str, Measure]] = {}
    labels: dict[str, tuple[str, str]] = {}
    column_totals: dict[str, Measure] = {}
    row_totals: dict[str, Measure] = {}
    total = Measure(indicator.averaged)
    used: dict[str, str] = {}
    for item in items:
        row_key, row_label, code = regions.row_of(item["key"])
        col_key, col_label, _ = sections.row_of(item["value"])
        labels[row_key] = (row_label, code)
        used[col_key] = col_label
        targets = (
            grid.setdefault(row_key, {}).setdefault(col_key, Measure(indicator.averaged)),
            column_totals.setdefault(col_key, Measure(indicator.averaged)),
            row_totals.setdefault(row_key, Measure(indicator.averaged)),
            total,
        )
        for measure in targets:
            if item["indicator"] == REPORTS:
                measure.reports += int(item["n"] or 0)
            else:
                measure.add(item)
    order = {key: i for i, key in enumerate(regions.order)}
    columns = sorted(used.items())
    rows = []
    for row_key in sorted(grid, key=lambda k: (order.get(k, len(order)), k)):
        label, code = labels[row_key]
        empty = Measure(indicator.averaged)
        rows.append((Row(row_key, label, row_totals[row_key], empty, code), grid[row_key]))
    return CrossTable(
        period,
        indicator,
        scope,
        columns,
        rows,
        column_totals,
        Row("", "合计", total, Measure(indicator.averaged)),
    )


def overview(scope: Scope, period: Period) -> list[Row]:
    """Every indicator of the month for the whole scope, with last month's figures: one query."""
    infos = indicators_of(period)
    months = (str(period), str(period.previous()))
    rows = {
        info.code: Row(info.code, info.name, Measure(info.averaged), Measure(info.averaged))
        for info in infos
    }
    counts = {month: 0 for month in months}
    items = (
        scope.cells()
        .filter(period__in=months, indicator__in=[*rows, REPORTS], dim=Dim.ALL)
        .values("period", "indicator")
        .annotate(**_sums())
        .order_by()
    )
    for item in items:
        if item["indicator"] == REPORTS:
            counts[item["period"]] += int(item["n"] or 0)
            continue
        row = rows[item["indicator"]]
        (row.now if item["period"] == months[0] else row.before).add(item)
    for row in rows.values():
        row.now.reports, row.before.reports = counts[months[0]], counts[months[1]]
    return list(rows.values())


# --- Trend -------------------------------------------------------------------------------------


@dataclass
class TrendPoint:
    period: Period
    measure: Measure


def months_back(end: Period, count: int) -> list[Period]:
    months = [end]
    while len(months) < count:
        months.append(months[-1].previous())
    return list(reversed(months))


def trend(
    scope: Scope, end: Period, indicator: IndicatorInfo, months: int = 24
) -> list[TrendPoint]:
    """The scope's figures of one indicator for each of the `months` months up to `end`, in one
    query."""
    periods = months_back(end, months)
    points = {str(p): TrendPoint(p, Measure(indicator.averaged)) for p in periods}
    rows = (
        scope.cells()
        .filter(period__in=list(points), indicator__in=(indicator.code, REPORTS), dim=Dim.ALL)
        .values("period", "indicator")
        .annotate(**_sums())
        .order_by()
    )
    for item in rows:
        measure = points[item["period"]].measure
        if item["indicator"] == REPORTS:
            measure.reports += int(item["n"] or 0)
        else:
            measure.add(item)
    return list(points.values())


# --- Questionnaires ----------------------------------------------------------------------------


@dataclass
class OptionShare:
    value: str
    label: str
    n: int
    share: Decimal | None
    before: Decimal | None  # last month's share, where the question was asked then

    @property
    def change(self) -> Decimal | None:
        return difference(self.share, self.before)


@dataclass
class QuestionFigures:
    question: Question
    respondents: int
    respondents_before: int
    options: list[OptionShare]


def questionnaires(scope: Scope, period: Period) -> list[QuestionFigures]:
    """For each choice question asked in the month: how many counted reports answered it and
    the share choosing each option (of a multiple choice: the shares add up to more than 100),
    with last month's share where the question was asked then too."""
    month, before = str(period), str(period.previous())
    # A questionnaire switched off later still has its answers of the months it was asked in.
    asked = [q for q in Questionnaire.objects.all() if q.applies_to(month)]
    questions = list(
        Question.objects.filter(
            questionnaire__in=asked, type__in=(Question.Type.SINGLE, Question.Type.MULTIPLE)
        ).order_by("questionnaire_id", "position", "id")
    )
    counts: dict[tuple[str, int, str], int] = {}
    rows = (
        scope.cells(OptionCell)
        .filter(period__in=(month, before), question__in=questions)
        .values("period", "question_id", "option")
        .annotate(n=Sum("n"))
        .order_by()
    )
    for item in rows:
        counts[(item["period"], item["question_id"], item["option"])] = int(item["n"] or 0)
    result = []
    for question in questions:
        respondents = counts.get((month, question.pk, ""), 0)
        earlier = counts.get((before, question.pk, ""), 0)
        options = []
        for option in question.options or []:
            value = str(option.get("value", ""))
            n = counts.get((month, question.pk, value), 0)
            options.append(
                OptionShare(
                    value,
                    str(option.get("label", value)),
                    n,
                    share(n, respondents),
                    share(counts.get((before, question.pk, value), 0), earlier),
                )
            )
        result.append(QuestionFigures(question, respondents, earlier, options))
    return result


def months_with_data(scope: Scope) -> list[str]:
    """Months that have counted reports in the scope, newest first (the page's month list)."""
    return list(
        scope.cells()
        .filter(indicator=REPORTS, dim=Dim.ALL, n__gt=0)
        .values_list("period", flat=True)
        .distinct()
        .order_by("-period")
    )
