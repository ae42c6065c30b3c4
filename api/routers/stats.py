"""填报情况 and the aggregates for administrators (API.md "Administrators"): the same tables as the
/stats/completion/ and /analytics/ pages (stats.completion, analytics.figures), within the
caller's region. Enterprises get 403, a region outside the caller's scope (or unknown) 404, a
malformed month, region code, grouping or indicator 400 in the errors format."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from analytics import figures
from api.auth import api_auth
from api.gates import administrators, gate
from api.schemas import DetailOut, ErrorsOut, RegionOut
from reports.periods import Period, current_report_month
from sme.routers import replica_reads
from stats.completion import NOT_IN_SCOPE, REGION_CODE, CompletionRow, completion

router = Router(tags=["统计"])

ADMINS_ONLY = "只有管理员可以查看填报情况。"
ADMINS_ONLY_FIGURES = "只有管理员可以查看汇总分析。"
PERIOD = re.compile(r"^\d{4}-\d{2}$")
PERIOD_FORMAT = "报表月份格式应为 YYYY-MM。"


class CompletionFilter(Schema):
    period: str | None = None
    region: str | None = None


class EnterpriseRef(Schema):
    id: int
    name: str
    code: str
    username: str | None
    status: str | None
    status_label: str


class CompletionRowOut(Schema):
    region: RegionOut | None = None
    enterprise: EnterpriseRef | None = None
    enterprises: int
    reported: int
    pending: int
    approved: int
    returned: int
    not_reported: int
    on_time: int
    reporting_rate: float | None
    timeliness_rate: float | None


class CompletionOut(Schema):
    period: str
    region: RegionOut | None
    by_enterprise: bool
    rows: list[CompletionRowOut]
    total: CompletionRowOut


def _error(field: str, message: str) -> Status:
    return Status(400, {"errors": [{"field": field, "code": "invalid", "message": message}]})


def _month(text: str | None) -> Period | None:
    """The month of a query parameter (None when absent); ValueError when malformed."""
    if not text:
        return None
    if not PERIOD.match(text):
        raise ValueError(text)
    return Period.parse(text)


def _rate(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _row(row: CompletionRow, label_region: bool) -> dict:
    out: dict = {
        **row.counts(),
        "reporting_rate": _rate(row.reporting_rate),
        "timeliness_rate": _rate(row.timeliness_rate),
    }
    if row.enterprise is not None:
        user = getattr(row.enterprise, "user", None)
        out["enterprise"] = {
            "id": row.enterprise.pk,
            "name": row.enterprise.name,
            "code": row.enterprise.code,
            "username": user.username if user is not None else None,
            "status": row.status,
            "status_label": row.status_label,
        }
    elif label_region and row.region is not None:
        out["region"] = {"code": row.region.code, "name": row.label}
    return out


@router.get(
    "/stats/completion",
    auth=api_auth(gate(administrators(ADMINS_ONLY))),
    response={200: CompletionOut, 400: ErrorsOut, 401: DetailOut, 403: DetailOut, 404: DetailOut},
    summary="填报情况：下级地区（县级为各企业）的企业数、已填报、待审核、审核通过、审核退回、未填报、按时",
)
def completion_stats(request: HttpRequest, filters: Query[CompletionFilter]):
    # Figures that may trail the latest submissions by a moment: from the read replica when
    # there is one (the caller was authenticated on the primary, before this).
    with replica_reads():
        user = request.user  # an administrator: the operation's gate made sure, before the query
        try:
            period = _month(filters.period) or current_report_month()
        except ValueError:
            return _error("period", PERIOD_FORMAT)
        if filters.region and not REGION_CODE.match(filters.region):
            return _error("region", "地区代码应为 6 位数字。")
        try:
            table = completion(user, period, filters.region)  # type: ignore[arg-type]
        except Http404:
            raise HttpError(404, NOT_IN_SCOPE) from None
        region = table.region
        return {
            "period": str(period),
            "region": {"code": region.code, "name": region.name} if region else None,
            "by_enterprise": table.by_enterprise,
            "rows": [_row(row, True) for row in table.rows],
            "total": _row(table.total, False),
        }


# --- Aggregates --------------------------------------------------------------------------------


class AggregateFilter(Schema):
    period: str | None = None
    group_by: str = "region"
    indicator: str = "revenue"
    region: str | None = None
    include_pending: bool = False


class IndicatorOut(Schema):
    code: str
    name: str
    unit: str
    kind: str


class MeasureOut(Schema):
    enterprises: int
    reporting: int
    current_ytd: float | None
    comparable_enterprises: int
    comparable_current_ytd: float
    comparable_last_year_ytd: float
    growth: float | None
    previous_growth: float | None
    growth_change: float | None
    growing_enterprises: int
    share_growing: float | None
    share_growing_change: float | None
    loss_making: int
    losses: float
    current_month_growth: float | None


class AggregateRowOut(MeasureOut):
    key: str
    label: str
    region: RegionOut | None = None


class AggregatesOut(Schema):
    period: str
    region: RegionOut | None
    indicator: IndicatorOut
    group_by: str
    include_pending: bool
    counted: str
    rows: list[AggregateRowOut]
    total: MeasureOut


def _figure(value: object, places: int = 3) -> float | None:
    # JSON numbers with at most 3 decimal places (API.md); nothing is rounded before this.
    return None if value is None else round(float(value), places)  # type: ignore[arg-type]


def _measure(row: figures.Row) -> dict:
    now = row.now
    return {
        "enterprises": now.reports,
        "reporting": now.n,
        "current_ytd": _figure(now.level),
        "comparable_enterprises": now.n_cmp,
        "comparable_current_ytd": _figure(now.comparable_level),
        "comparable_last_year_ytd": _figure(now.comparable_base),
        "growth": _figure(now.growth),
        "previous_growth": _figure(row.before.growth),
        "growth_change": _figure(row.growth_change),
        "growing_enterprises": now.n_up,
        "share_growing": _figure(now.share_up),
        "share_growing_change": _figure(row.share_up_change),
        "loss_making": now.n_neg,
        "losses": _figure(now.losses),
        "current_month_growth": _figure(now.current_growth),
    }


@router.get(
    "/stats/aggregates",
    auth=api_auth(gate(administrators(ADMINS_ONLY_FIGURES))),
    response={200: AggregatesOut, 400: ErrorsOut, 401: DetailOut, 403: DetailOut, 404: DetailOut},
    summary="汇总分析：按地区、行业、规模、控股类型或登记注册类型分组的本年/上年1-本月合计、"
    "可比口径增速、增速变化、增长面、亏损企业",
)
def aggregate_stats(request: HttpRequest, filters: Query[AggregateFilter]):
    # From the read replica when there is one, as the analytics page.
    with replica_reads():
        user = request.user  # an administrator: the operation's gate made sure, before the query
        try:
            period = _month(filters.period)
        except ValueError:
            return _error("period", PERIOD_FORMAT)
        grouping = figures.ALIASES.get(filters.group_by, filters.group_by)
        if grouping not in figures.GROUPINGS:
            names = "、".join(["industry", *figures.GROUPINGS])
            return _error("group_by", f"分组方式应为 {names} 之一。")
        if filters.region and not REGION_CODE.match(filters.region):
            return _error("region", "地区代码应为 6 位数字。")
        try:
            scope = figures.scope_for(user, filters.region, filters.include_pending)  # type: ignore[arg-type]
        except Http404:
            raise HttpError(404, NOT_IN_SCOPE) from None
        if period is None:  # as the page: the latest month with figures in the scope
            months = figures.months_with_data(scope)
            period = Period.parse(months[0]) if months else current_report_month()
        codes = {info.code: info for info in figures.indicators_of(period)}
        if filters.indicator not in codes:
            return _error("indicator", f"{period} 的指标目录中没有该指标。")
        table = figures.aggregate(scope, period, codes[filters.indicator], grouping)
        rows = []
        for row in table.rows:
            region = {"code": row.code, "name": row.label} if row.code else None
            rows.append({"key": row.key, "label": row.label, "region": region, **_measure(row)})
        return {
            "period": str(period),
            "region": {"code": scope.code, "name": scope.name} if scope.region else None,
            "indicator": vars(table.indicator),
            "group_by": filters.group_by,
            "include_pending": scope.include_pending,
            "counted": scope.counted_label,
            "rows": rows,
            "total": _measure(table.total),
        }
