"""运行监测分析 for administrators: the picture of a month within their region (main indicators,
the 24-month trend, one indicator by region, industry, size, holding or registration type, region
× industry, the questionnaires), every table beside its chart and exportable to Excel; and the
analysis report (运行监测分析报告), previewed as HTML and written as .docx by a background job.

Scope is analytics.figures.scope_for (the rule of 填报情况): a region outside the administrator's
own is 404, enterprises get 404 from role_required.

The pages read their figures from the read replica when there is one (sme.routers.replica_reads;
a moment's lag is acceptable for analysis); the decorator sits inside role_required so that the
session and the user are still read from the primary, where a fresh login already is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from accounts.models import User
from analytics import charts, figures, tables
from analytics.figures import IndicatorInfo, Scope
from jobs.models import Job
from jobs.runner import enqueue
from lib.access import role_required
from reports.periods import Period, current_report_month
from sme.routers import replica_reads
from stats.completion import parent_code
from transfer.xlsx import XLSX, row_cells

ADMINS = (User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
DEFAULT_INDICATOR = "revenue"


@dataclass
class Choice:
    """What the page shows: read from the query string, every bad value replaced by a default
    with a message rather than an error page."""

    period: Period
    indicator: IndicatorInfo
    grouping: str
    scope: Scope
    infos: list[IndicatorInfo]
    months: list[str]
    errors: list[str]

    def query(self, **changes: object) -> str:
        params = {
            "period": str(self.period),
            "region": self.scope.code,
            "indicator": self.indicator.code,
            "group_by": self.grouping,
            "pending": "1" if self.scope.include_pending else "",
        }
        params.update({k: str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in params.items() if v})


def _choice(user: User, params: Mapping[str, str]) -> Choice:
    errors = []
    include_pending = params.get("pending") in ("1", "on", "true")
    scope = figures.scope_for(user, params.get("region", "").strip() or None, include_pending)
    months = figures.months_with_data(scope)
    text = params.get("period", "").strip()
    period = Period.parse(months[0]) if months else current_report_month()
    if text:
        try:
            period = Period.parse(text)
        except ValueError:
            errors.append("报表月份格式应为 YYYY-MM，已显示有数据的最近月份。")
    infos = figures.indicators_of(period)
    by_code = {info.code: info for info in infos}
    code = params.get("indicator", DEFAULT_INDICATOR)
    if code not in by_code:
        if "indicator" in params:
            errors.append("该月份没有所选指标，已显示营业收入。")
        code = DEFAULT_INDICATOR if DEFAULT_INDICATOR in by_code else infos[0].code
    asked = params.get("group_by", "")
    grouping = figures.ALIASES.get(asked, asked)
    if grouping not in figures.GROUPINGS:
        if asked:
            errors.append("未知的分组方式，已按地区分组。")
        grouping = "region"
    if grouping == "region" and scope.region is not None and not scope.children:
        grouping = "section"  # a county has no child regions
    return Choice(period, by_code[code], grouping, scope, infos, months, errors)


def _tables(choice: Choice, wanted: tuple[str, ...] = ()) -> dict[str, object]:
    """The page's tables (all of them, or those `wanted` for an export), with the figures the
    charts are drawn from ("table", "points")."""
    scope, period, info = choice.scope, choice.period, choice.indicator
    found: dict[str, object] = {}

    def want(name: str) -> bool:
        return not wanted or name in wanted

    if want("overview"):
        infos = {i.code: i for i in choice.infos}
        rows = figures.overview(scope, period)
        found["overview"] = tables.overview_table(rows, infos, scope.name)
    if want("trend"):
        found["points"] = points = figures.trend(scope, period, info)
        found["trend"] = tables.trend_table(points, info)
    if want("group"):
        found["table"] = table = figures.aggregate(scope, period, info, choice.grouping)

        def drill(row: figures.Row) -> str:
            return "?" + choice.query(region=row.code)

        found["group"] = tables.group_table(table, drill if choice.grouping == "region" else None)
    if want("cross"):
        found["cross"] = (
            tables.cross_table(figures.cross(scope, period, info)) if scope.children else None
        )
    if want("questions"):
        found["questions"] = tables.question_table(figures.questionnaires(scope, period))
    return found


def _charts(choice: Choice, found: dict[str, object]) -> dict[str, charts.Chart]:
    info = choice.indicator
    table: figures.Table = found["table"]  # type: ignore[assignment]
    points: list[figures.TrendPoint] = found["points"]  # type: ignore[assignment]
    label = "同比变化（百分点）" if info.averaged else "同比增长（%）"
    trend = charts.line_chart(
        f"{choice.scope.name}{info.name}{label}：近{len(points)}个月",
        [str(p.period) for p in points],
        [(info.name, [p.measure.growth for p in points])],
        unit="百分点" if info.averaged else "%",
    )
    rows = [r for r in table.rows if r.now.reports]
    bars = charts.bar_chart(
        f"{info.name}{label}：按{table.grouping_label}",
        [r.label for r in rows],
        [r.now.growth for r in rows],
        unit="百分点" if info.averaged else "%",
    )
    return {"trend": trend, "bars": bars}


@role_required(*ADMINS)
@replica_reads()
def analytics_page(request: HttpRequest) -> HttpResponse:
    choice = _choice(request.user, request.GET)  # type: ignore[arg-type]
    found = _tables(choice)
    context = {
        "choice": choice,
        "groupings": figures.GROUPINGS,
        "group_label": figures.GROUPINGS[choice.grouping],
        # matplotlib escapes every text it writes into the SVG (tests/test_charts.py).
        "charts": {name: mark_safe(chart.svg()) for name, chart in _charts(choice, found).items()},
        "parent": _parent_query(request.user, choice),  # type: ignore[arg-type]
        **found,
    }
    template = "analytics/_body.html" if request.htmx else "analytics/page.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _parent_query(user: User, choice: Choice) -> str | None:
    """The link back up one region, where the administrator's scope reaches that far."""
    up = parent_code(user, choice.scope.region)
    return None if up is None else "?" + choice.query(region=up)


EXPORTS = ("overview", "trend", "group", "cross", "questions")


@role_required(*ADMINS)
@replica_reads()
def analytics_xlsx(request: HttpRequest) -> HttpResponse:
    """The page's tables as an Excel workbook: one table (?table=) or all of them, as shown."""
    choice = _choice(request.user, request.GET)  # type: ignore[arg-type]
    asked = request.GET.get("table", "")
    names = [asked] if asked in EXPORTS else list(EXPORTS)
    found = _tables(choice, tuple(names))
    wb = Workbook()
    wb.remove(wb.active)
    for name in names:
        table = found[name]
        if table is None:
            continue
        write_sheet(wb, table, choice)  # type: ignore[arg-type]
    if not wb.worksheets:
        wb.create_sheet("说明").append(["本地区没有下级地区，无地区 × 行业表。"])
    out = BytesIO()
    wb.save(out)
    scope = choice.scope.name
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    filename = f"运行监测分析-{scope}-{choice.period}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


SHEET_NAMES = {
    "overview": "主要指标",
    "trend": "趋势",
    "cross": "地区×行业",
    "questions": "问卷调查",
}


def write_sheet(wb: Workbook, table: tables.DisplayTable, choice: Choice) -> None:
    name = SHEET_NAMES.get(table.key, "分组")
    ws = wb.create_sheet(name)
    ws.append(row_cells(ws, [table.caption], bold=True))
    ws.append(row_cells(ws, [f"报表月份：{choice.period}　统计范围：{choice.scope.name}"]))
    ws.append(row_cells(ws, [f"统计口径：{choice.scope.counted_label}"]))
    if table.note:
        ws.append(row_cells(ws, [table.note]))
    ws.append(row_cells(ws, table.headers, bold=True))
    for cells in table.rows:
        values: list[object] = []
        for cell in cells:
            values.append(cell.text if cell.value is None else cell.value)
        ws.append(row_cells(ws, values))
        for column, cell in enumerate(cells, start=1):
            if cell.numeric and cell.value is not None:
                target = ws.cell(row=ws.max_row, column=column)
                target.number_format = "#,##0" if cell.places == 0 else "#,##0.0"
    ws.column_dimensions["A"].width = 28


@role_required(*ADMINS)
@replica_reads()
def report_preview(request: HttpRequest) -> HttpResponse:
    from analytics.document import compose

    choice = _choice(request.user, request.GET)  # type: ignore[arg-type]
    document = compose(choice.scope, choice.period, request.user)  # type: ignore[arg-type]
    return render(request, "analytics/report.html", {"choice": choice, "document": document})


@role_required(*ADMINS)
@require_POST
def report_docx(request: HttpRequest) -> HttpResponse:
    """Start writing the .docx as a job (a province of 100,000 enterprises takes a while); the
    job page shows the progress and offers the file."""
    # The same reading and scope rule as the page: a region outside the scope is 404.
    choice = _choice(request.user, request.POST)  # type: ignore[arg-type]
    job = Job.objects.create(
        kind="analysis_report",
        title=f"运行监测分析报告 {choice.scope.name} {choice.period}",
        owner=request.user,
        params={
            "period": str(choice.period),
            "region": choice.scope.code,
            "include_pending": choice.scope.include_pending,
        },
    )
    enqueue(job)
    return redirect("jobs:detail", job.pk)
