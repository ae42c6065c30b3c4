"""填报情况: per child region (or, in a county, per enterprise) how many enterprises there are and
how many have reported the month, by status, and on time.

Scope is that of reports.selectors.reports_visible_to: a local administrator sees its own region
and below, a national senior administrator the whole country. Everything is counted with grouped
queries keyed by a prefix of the region code (GB/T 2260), so a table costs at most 4 queries
whatever the number of regions and enterprises.

Definitions:
- 已填报 (reported) = 待审核 + 审核通过 + 审核退回 (reports submitted at least once and not reopened
  by a key-information change); 编辑, 冻结 and 解除冻结 count as 未填报.
- 未填报 = enterprises − 已填报.
- 按时 (on time) = reported and submitted before review.selectors.deadline_moment(period).
- 填报率 = 已填报 / enterprises, 及时率 = 按时 / enterprises, in % with one decimal; None when the
  region has no enterprise."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.http import Http404

from accounts.models import User
from directory.models import Enterprise, Region
from reports.models import Report
from reports.periods import Period
from reports.selectors import reports_visible_to
from review.selectors import deadline_moment

NOT_IN_SCOPE = "地区不存在或不在您的管理范围内。"
REGION_CODE = re.compile(r"^\d{6}$")

# The drill-down statuses: each column of the table, with its Chinese header.
COLUMNS = {
    "enterprises": "企业数",
    "reported": "已填报",
    "pending": "待审核",
    "approved": "审核通过",
    "returned": "审核退回",
    "not_reported": "未填报",
    "on_time": "按时填报",
}
COUNT_FIELDS = tuple(COLUMNS)


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class CompletionRow:
    region: Region | None = None
    enterprise: Enterprise | None = None
    label: str = ""
    enterprises: int = 0
    reported: int = 0
    pending: int = 0
    approved: int = 0
    returned: int = 0
    on_time: int = 0
    # Per-enterprise rows: the report's status (None while nothing is saved).
    status: str | None = None

    @property
    def not_reported(self) -> int:
        return self.enterprises - self.reported

    @property
    def reporting_rate(self) -> Decimal | None:
        return percent(self.reported, self.enterprises)

    @property
    def timeliness_rate(self) -> Decimal | None:
        return percent(self.on_time, self.enterprises)

    @property
    def status_label(self) -> str:
        return Report.Status(self.status).label if self.status else "未开始"

    def add(self, other: CompletionRow) -> None:
        for name in ("enterprises", "reported", "pending", "approved", "returned", "on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNT_FIELDS}


@dataclass
class CompletionTable:
    period: Period
    region: Region | None  # None: the whole country
    by_enterprise: bool  # rows are the enterprises of a county
    rows: list[CompletionRow] = field(default_factory=list)
    total: CompletionRow = field(default_factory=lambda: CompletionRow(label="合计"))

    @property
    def region_name(self) -> str:
        return self.region.name if self.region else "全国"


def resolve_region(user: User, region_code: str | None) -> Region | None:
    """The region asked for (default: the administrator's own; None = the whole country).
    Unknown, malformed or outside the caller's scope → Http404. Enterprises have no table."""
    return locate(user, region_code)[0]


def locate(user: User, region_code: str | None) -> tuple[Region | None, list[Region]]:
    """The region asked for and its children (for the whole country: the provinces), in one
    query besides the administrator's own region (which the report scope loads anyway)."""
    if not getattr(user, "is_administrator", False) or not user.is_active:
        raise Http404(NOT_IN_SCOPE)
    own = None if user.is_senior_admin else user.region
    if not user.is_senior_admin and own is None:
        raise Http404(NOT_IN_SCOPE)
    code = region_code or (own.code if own is not None else None)
    if code is None:
        return None, list(Region.objects.filter(level=Region.Level.PROVINCE))
    if not REGION_CODE.match(code):
        raise Http404(NOT_IN_SCOPE)
    found = list(Region.objects.filter(Q(pk=code) | Q(parent_id=code)))
    region = next((r for r in found if r.code == code), None)
    if region is None or (own is not None and not region.code.startswith(own.prefix)):
        raise Http404(NOT_IN_SCOPE)
    return region, [r for r in found if r.code != code]


def parent_code(user: User, region: Region | None) -> str | None:
    """Where "返回上级地区" leads from `region`: the parent's code ("" for the whole country), or
    None where the administrator's scope stops at this region (or it is the whole country)."""
    if region is None or (not user.is_senior_admin and user.region_id == region.code):
        return None
    return region.parent_id or ""


def scoped_reports(user: User, period: Period, region: Region | None) -> QuerySet[Report]:
    qs = reports_visible_to(user).filter(period=str(period))
    if region is not None:
        qs = qs.filter(enterprise__region__code__startswith=region.prefix)
    return qs


def _report_counts(period: Period) -> dict[str, Count]:
    return {
        "reported": Count("pk", filter=Q(status__in=Report.REPORTED)),
        "pending": Count("pk", filter=Q(status=Report.Status.PENDING)),
        "approved": Count("pk", filter=Q(status=Report.Status.APPROVED)),
        "returned": Count("pk", filter=Q(status=Report.Status.RETURNED)),
        "on_time": Count(
            "pk",
            filter=Q(status__in=Report.REPORTED, submitted_at__lt=deadline_moment(period)),
        ),
    }


def completion(user: User, period: Period, region_code: str | None = None) -> CompletionTable:
    region, children = locate(user, region_code)
    if region is not None and region.level == Region.Level.COUNTY:
        return _by_enterprise(user, period, region)
    return _by_region(user, period, region, children)


def _by_region(
    user: User, period: Period, region: Region | None, children: list[Region]
) -> CompletionTable:
    table = CompletionTable(period, region, by_enterprise=False)
    if region is None:
        width = 2
    else:
        width = {Region.Level.PROVINCE: 4, Region.Level.CITY: 6}[region.level]
    rows: dict[str, CompletionRow] = {
        child.code[:width]: CompletionRow(region=child, label=child.name) for child in children
    }
    # Enterprises registered at this region itself (not in any child) get a row of their own.
    own_row = CompletionRow(region=region, label=f"{table.region_name}本级")

    def row_for(key: str) -> CompletionRow:
        return rows.get(key, own_row)

    enterprises = (
        Enterprise.objects.within(region)
        .annotate(key=Substr("region_id", 1, width))
        .values("key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for item in enterprises:
        row_for(item["key"]).enterprises += item["n"]
    reports = (
        scoped_reports(user, period, region)
        .annotate(key=Substr("enterprise__region_id", 1, width))
        .values("key")
        .annotate(**_report_counts(period))
        .order_by()
    )
    for item in reports:
        row = row_for(item["key"])
        for name in ("reported", "pending", "approved", "returned", "on_time"):
            setattr(row, name, getattr(row, name) + item[name])
    table.rows = list(rows.values())
    if own_row.enterprises or own_row.reported:
        table.rows.append(own_row)
    for row in table.rows:
        table.total.add(row)
    return table


def _by_enterprise(user: User, period: Period, region: Region) -> CompletionTable:
    table = CompletionTable(period, region, by_enterprise=True)
    enterprises = list(Enterprise.objects.within(region).select_related("user").order_by("pk"))
    reports = {
        r["enterprise_id"]: r
        for r in scoped_reports(user, period, region).values(
            "enterprise_id", "status", "submitted_at"
        )
    }
    deadline = deadline_moment(period)
    for enterprise in enterprises:
        row = CompletionRow(enterprise=enterprise, label=enterprise.name, enterprises=1)
        report = reports.get(enterprise.pk)
        if report is not None:
            status = report["status"]
            row.status = status
            if status in Report.REPORTED:
                row.reported = 1
                row.pending = int(status == Report.Status.PENDING)
                row.approved = int(status == Report.Status.APPROVED)
                row.returned = int(status == Report.Status.RETURNED)
                submitted = report["submitted_at"]
                row.on_time = int(submitted is not None and submitted < deadline)
        table.rows.append(row)
        table.total.add(row)
    return table


def enterprises_behind(
    user: User, period: Period, region_code: str | None, status: str
) -> tuple[Region | None, QuerySet[Enterprise]]:
    """The enterprises behind one number of the table (a column of COLUMNS), same scope."""
    if status not in COLUMNS:
        raise Http404("未知的统计项。")
    region = resolve_region(user, region_code)
    reports = scoped_reports(user, period, region).filter(enterprise=OuterRef("pk"))
    qs = Enterprise.objects.within(region).select_related("region")
    conditions = {
        "enterprises": None,
        "reported": Q(status__in=Report.REPORTED),
        "pending": Q(status=Report.Status.PENDING),
        "approved": Q(status=Report.Status.APPROVED),
        "returned": Q(status=Report.Status.RETURNED),
        "not_reported": Q(status__in=Report.REPORTED),
        "on_time": Q(status__in=Report.REPORTED, submitted_at__lt=deadline_moment(period)),
    }
    condition = conditions[status]
    if condition is not None:
        matching = Exists(reports.filter(condition))
        qs = qs.exclude(matching) if status == "not_reported" else qs.filter(matching)
    own = reports_visible_to(user).filter(period=str(period), enterprise=OuterRef("pk"))
    qs = qs.annotate(
        report_status=Subquery(own.values("status")[:1]),
        report_submitted_at=Subquery(own.values("submitted_at")[:1]),
    )
    return region, qs.order_by("region_id", "pk")
