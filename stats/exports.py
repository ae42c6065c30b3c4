"""The administrators' Excel exports: the worklist of 报表审核 and the reports of a month with all
their indicators, one row per enterprise. Reports are read through lazy querysets in chunks of
CHUNK and written row by row (transfer.xlsx), so 100,000 reports never sit in memory at once, and
the number of queries does not grow with the number of rows. Scope is that of the querysets
passed in (reports.selectors.reports_visible_to underneath)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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
# What the rows read of a report and its enterprise (not the basic information, not passwords).
ENTERPRISE_FIELDS = (
    *("enterprise__name", "enterprise__code", "enterprise__region"),
    "enterprise__user__username",
)
WORKLIST_FIELDS = (
    *("period", "status", "submitted_at", "review_level", "first_reviewed_at"),
    *ENTERPRISE_FIELDS,
)
REPORT_FIELDS = ("period", "status", "method", "submitted_at", "catalogue", *ENTERPRISE_FIELDS)
# The month export's status filter: one status, or 已填报 (待审核 + 审核通过 + 审核退回).
REPORTED = "reported"
UNKNOWN_STATUS = "未知的报表状态。"

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
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
        account.username if account is not None else None,
        enterprise.code,
        full_name(enterprise.region_id),
    ]


# --- The worklist ------------------------------------------------------------------------------


def worklist_export_rows(user: User, f: WorklistFilter) -> Iterator[list[Any]]:
    """Every report of the worklist filter (all pages, the cursor ignored), in id order."""
    full_name = region_names()
    deadline = deadline_moment(f.period)
    qs = worklist_queryset(user, f).select_related("enterprise__user").only(*WORKLIST_FIELDS)
    for report in qs.iterator(chunk_size=CHUNK):
        submitted = report.submitted_at
        late = None if submitted is None else ("是" if submitted >= deadline else "否")
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
    empty or "all" for every status, "reported" for 已填报; anything else is 404."""
    if status in (None, "", "all"):
        return scoped
    if status == REPORTED:
        return scoped.filter(status__in=Report.REPORTED)
    if status in Report.Status.values:
        return scoped.filter(status=status)
    raise Http404(UNKNOWN_STATUS)


def _figures(report_ids: list[int]) -> dict[int, dict[str, tuple[float | None, ...]]]:
    """The indicator values of one chunk of reports, in one query. Floats, as the cells store
    them anyway (a Decimal takes four times the memory)."""
    rows = (
        IndicatorValue.objects.filter(report_id__in=report_ids)
        .values_list("report_id", "code", *COLUMNS)
        .iterator(chunk_size=CHUNK)
    )
    out: dict[int, dict[str, tuple[float | None, ...]]] = {}
    for report_id, code, *figures in rows:
        out.setdefault(report_id, {})[code] = tuple(
            float(v) if v is not None else None for v in figures
        )
    return out


def month_report_rows(
    reports: QuerySet[Report], columns: list[FigureColumn]
) -> Iterator[list[Any]]:
    """One row per report, by region and enterprise: its enterprise, status, method and
    submission time, then its figure for each column. An indicator the report's own catalogue
    snapshot lacks stays empty."""
    position = {column: n for n, column in enumerate(COLUMNS)}
    for batch in chunks(_report_heads(reports), CHUNK):
        figures = _figures([pk for pk, _, _ in batch])
        for pk, head, own in batch:
            values = figures.get(pk, {})
            yield [
                *head,
                *(
                    values[c.code][position[c.column]]
                    if c.code in own and c.code in values
                    else None
                    for c in columns
                ),
            ]


def _report_heads(reports: QuerySet[Report]) -> Iterator[tuple[int, list[Any], frozenset[str]]]:
    """Each report's id, first cells and catalogue codes: a chunk keeps these, not the reports
    with their catalogue snapshots (most share one set of codes, kept once)."""
    full_name = region_names()
    shared: dict[frozenset[str], frozenset[str]] = {}
    qs = (
        reports.select_related("enterprise__user")
        .only(*REPORT_FIELDS)
        .order_by("enterprise__region_id", "enterprise_id")
    )
    for report in qs.iterator(chunk_size=CHUNK):
        codes = frozenset(report.catalogue or {})
        head = [
            *enterprise_cells(report, full_name),
            report.period,
            report.get_status_display(),
            report.get_method_display(),
            local(report.submitted_at),
        ]
        yield report.pk, head, shared.setdefault(codes, codes)
