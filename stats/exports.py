"""The administrators' Excel exports: the worklist of 报表审核 and the reports of a month with all
their indicators, one row per enterprise. Reports are read through lazy querysets in chunks of
CHUNK and written row by row (transfer.xlsx), so 100,000 reports never sit in memory at once, and
the number of queries does not grow with the number of rows. Scope is that of the querysets
passed in (reports.selectors.reports_visible_to underneath)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from directory.models import Region
from reports.catalogue import catalogue_for
from reports.content import COLUMN_LABELS
from reports.models import IndicatorValue, Report
from reports.periods import Period
from reports.validation import COLUMNS, specs
from review.selectors import WorklistFilter, deadline_moment, worklist_queryset

CHUNK = 2000
ENTERPRISE_HEADER = ["企业名称", "用户ID", "统一社会信用代码/组织机构代码", "所在地区"]
WORKLIST_HEADER = [
    *ENTERPRISE_HEADER,
    *("报表月份", "报表状态", "审核层级", "填报日期", "是否逾期", "有无原因说明"),
]
REPORT_HEADER = [*ENTERPRISE_HEADER, "报表月份", "报表状态", "填报方式", "填报日期"]
# The month export's status filter: one status, or 已填报 (待审核 + 审核通过 + 审核退回).
REPORTED = "reported"
UNKNOWN_STATUS = "未知的报表状态。"

T = TypeVar("T")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def region_names() -> Callable[[str], str]:
    """Full names such as "浙江省 宁波市 镇海区" from one query of the region table."""
    names = dict(Region.objects.values_list("code", "name"))

    def full_name(code: str) -> str:
        codes = dict.fromkeys([code[:2] + "0000", code[:4] + "00", code])
        return " ".join(names[c] for c in codes if c in names)

    return full_name


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """The time as read in Asia/Shanghai (a cell has no time zone)."""
    return timezone.localtime(moment) if moment is not None else None


def enterprise_cells(report: Report, full_name: Callable[[str], str]) -> list[Any]:
    enterprise = report.enterprise
    # select_related("enterprise__user") has cached the account, or None when there is none.
    account = getattr(enterprise, "user", None)
    return [
        enterprise.name,
        account.username if account is not None else "",
        enterprise.code,
        full_name(enterprise.region_id),
    ]


# --- The worklist ------------------------------------------------------------------------------


def worklist_export_rows(user: User, f: WorklistFilter) -> Iterator[list[Any]]:
    """Every report of the worklist filter (all pages, the cursor ignored), in id order."""
    full_name = region_names()
    deadline = deadline_moment(f.period)
    qs = (
        worklist_queryset(user, f)
        .select_related("enterprise__user")
        .defer("basic_info", "catalogue")
    )
    for report in qs.iterator(chunk_size=CHUNK):
        submitted = report.submitted_at
        late = "" if submitted is None else ("是" if submitted >= deadline else "否")
        yield [
            *enterprise_cells(report, full_name),
            report.period,
            report.get_status_display(),
            report.review_stage_label,
            local(submitted),
            late,
            "有" if report.explained else "无",  # type: ignore[attr-defined]
        ]


# --- The reports of a month ---------------------------------------------------------------------


@dataclass(frozen=True)
class FigureColumn:
    code: str
    column: str  # one of reports.validation.COLUMNS
    header: str


def figure_columns(period: Period) -> list[FigureColumn]:
    """The columns of each indicator of the month's catalogue, in catalogue order: four for
    本月及1-本月 indicators, 本年1-本月 and 上年1-本月 for the others (as the form has them)."""
    indicators = catalogue_for(period)
    out = []
    for indicator, spec in zip(indicators, specs(indicators), strict=True):
        unit = f" ({indicator.unit})" if indicator.unit else ""
        for column in spec.columns:
            header = f"{indicator.name} {COLUMN_LABELS[column]}{unit}"
            out.append(FigureColumn(indicator.code, column, header))
    return out


def month_reports(scoped: QuerySet[Report], status: str | None) -> QuerySet[Report]:
    """The reports of `scoped` (one month, in the caller's scope) with the status asked for:
    empty or "all" for every status, "reported" for 已填报; anything else unknown is 404."""
    if status in (None, "", "all"):
        return scoped
    if status == REPORTED:
        return scoped.filter(status__in=Report.REPORTED)
    if status in Report.Status.values:
        return scoped.filter(status=status)
    raise Http404(UNKNOWN_STATUS)


def _figures(report_ids: list[int]) -> dict[int, dict[str, tuple[Decimal | None, ...]]]:
    """The indicator values of one chunk of reports, in one query."""
    rows = IndicatorValue.objects.filter(report_id__in=report_ids).values_list(
        "report_id", "code", *COLUMNS
    )
    out: dict[int, dict[str, tuple[Decimal | None, ...]]] = {}
    for report_id, code, *figures in rows:
        out.setdefault(report_id, {})[code] = tuple(figures)
    return out


def month_report_rows(
    reports: QuerySet[Report], columns: list[FigureColumn]
) -> Iterator[list[Any]]:
    """One row per report, by region and enterprise: its enterprise, status, method and
    submission time, then its figure for each column. An indicator the report's own catalogue
    snapshot lacks stays empty."""
    full_name = region_names()
    position = {column: n for n, column in enumerate(COLUMNS)}
    qs = (
        reports.select_related("enterprise__user")
        .defer("basic_info")
        .order_by("enterprise__region_id", "enterprise_id")
    )
    for batch in chunks(qs.iterator(chunk_size=CHUNK)):
        figures = _figures([report.pk for report in batch])
        for report in batch:
            own = report.catalogue or {}
            values = figures.get(report.pk, {})
            cells = [
                values[c.code][position[c.column]] if c.code in own and c.code in values else None
                for c in columns
            ]
            yield [
                *enterprise_cells(report, full_name),
                report.period,
                report.get_status_display(),
                report.get_method_display(),
                local(report.submitted_at),
                *cells,
            ]
