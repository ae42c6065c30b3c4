"""填报情况 pages for administrators: the table per child region (or per enterprise of a county),
the enterprises behind each number, the same table as an Excel file, and the reports of the
month with all their indicators as an Excel file (stats.exports)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from openpyxl import Workbook

from accounts.models import User
from lib.access import role_required
from reports.models import Report
from reports.periods import Period, current_report_month
from stats.completion import (
    COLUMNS,
    CompletionTable,
    completion,
    enterprises_behind,
    parent_code,
    resolve_region,
    scoped_reports,
)
from stats.exports import REPORT_HEADER, figure_columns, month_report_rows, month_reports
from transfer.xlsx import XLSX, row_cells, streamed_workbook

ADMINS = (User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
PAGE_SIZE = 50


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The month asked for, or the current report month with an error when malformed."""
    text = request.GET.get("period", "").strip()
    if not text:
        return current_report_month(), ""
    try:
        return Period.parse(text), ""
    except ValueError:
        return current_report_month(), "报表月份格式应为 YYYY-MM，已显示当前报表月份。"


def _region_code(request: HttpRequest) -> str | None:
    return request.GET.get("region", "").strip() or None


def _query(**params: object) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@role_required(*ADMINS)
def completion_page(request: HttpRequest) -> HttpResponse:
    period, error = _period(request)
    table = completion(request.user, period, _region_code(request))  # type: ignore[arg-type]
    region_code = table.region.code if table.region else ""
    rows = []
    for row in [*table.rows, table.total]:
        is_total = row is table.total
        link_region = region_code if is_total else (row.region.code if row.region else "")
        drill = None
        if not table.by_enterprise or is_total:
            drill = {
                name: "?" + _query(period=period, region=link_region, status=name)
                for name in COLUMNS
            }
        child = None
        if not is_total and row.region is not None and row.region != table.region:
            child = "?" + _query(period=period, region=row.region.code)
        rows.append({"row": row, "drill": drill, "child": child, "total": is_total})
    up = parent_code(request.user, table.region)  # type: ignore[arg-type]
    parent = None if up is None else "?" + _query(period=period, region=up)
    return render(
        request,
        "stats/completion.html",
        {
            "table": table,
            "rows": rows,
            "columns": COLUMNS,
            "period": period,
            "error": error,
            "parent": parent,
            "query": _query(period=period, region=region_code),
            "previous": _query(period=period.previous(), region=region_code),
            "next": _query(period=period.next(), region=region_code),
        },
    )


@role_required(*ADMINS)
def completion_enterprises(request: HttpRequest) -> HttpResponse:
    period, error = _period(request)
    status = request.GET.get("status", "enterprises")
    region, qs = enterprises_behind(request.user, period, _region_code(request), status)  # type: ignore[arg-type]
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for enterprise in page.object_list:
        status_ = enterprise.report_status
        enterprise.status_label = Report.Status(status_).label if status_ else "未开始"
    base = _query(period=period, region=region.code if region else "", status=status)
    return render(
        request,
        "stats/enterprises.html",
        {
            "page": page,
            "period": period,
            "region_name": region.full_name if region else "全国",
            "status_label": COLUMNS[status],
            "error": error,
            "base": base,
            "back": "?" + _query(period=period, region=region.code if region else ""),
        },
    )


@role_required(*ADMINS)
def completion_xlsx(request: HttpRequest) -> HttpResponse:
    period, _ = _period(request)
    table = completion(request.user, period, _region_code(request))  # type: ignore[arg-type]
    response = HttpResponse(workbook_bytes(table), content_type=XLSX)
    name = f"completion-{period}-{table.region.code if table.region else '000000'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


HEADERS = [*COLUMNS.values(), "填报率(%)", "及时率(%)"]


def workbook_bytes(table: CompletionTable) -> bytes:
    """The table as .xlsx, every text safe (an enterprise named "=cmd" stays text). Built in
    memory: the table is no larger than what completion() has already loaded."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("填报情况")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 12
    ws.append(row_cells(ws, [f"{table.period} 月报填报情况（{table.region_name}）"], bold=True))
    first = "企业" if table.by_enterprise else "地区"
    second_header = "报表状态" if table.by_enterprise else "地区代码"
    ws.append(row_cells(ws, [first, second_header, *HEADERS], bold=True))
    for row in [*table.rows, table.total]:
        if row is table.total:
            second = ""
        elif table.by_enterprise:
            second = row.status_label
        else:
            second = row.region.code if row.region else ""
        rates = [
            float(rate) if rate is not None else None
            for rate in (row.reporting_rate, row.timeliness_rate)
        ]
        ws.append(row_cells(ws, [row.label, second, *row.counts().values(), *rates]))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


@role_required(*ADMINS)
def reports_xlsx(request: HttpRequest) -> HttpResponse:
    """The reports of a month in the administrator's scope (optionally one region and one
    status), one row per enterprise with every indicator of the month's catalogue."""
    text = request.GET.get("period", "").strip()
    try:
        period = Period.parse(text) if text else current_report_month()
    except ValueError:
        raise Http404("报表月份格式应为 YYYY-MM。") from None
    user: User = request.user  # type: ignore[assignment]
    region = resolve_region(user, _region_code(request))
    reports = month_reports(scoped_reports(user, period, region), request.GET.get("status"))
    columns = figure_columns(period)
    return streamed_workbook(
        f"reports-{period}-{region.code if region else '000000'}.xlsx",
        f"{period} 月报",
        [*REPORT_HEADER, *(c.header for c in columns)],
        month_report_rows(reports, columns),
    )
