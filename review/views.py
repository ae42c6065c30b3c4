"""报表审核 and 关键信息变更 for administrators: the worklist with its filters, counts and keyset
paging, the report page with 审核通过 / 审核退回 / 重新打开, batch approval, and the queue of
key-information change requests. Enterprises get 404; objects outside the administrator's region
are 404 through the review selectors. A refused step (TransitionError) is a message on the page,
never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from directory.models import Enterprise, Industry, Region
from lib.access import role_required
from lib.masking import sees_contacts
from reports.forms import AnswerSheet, IndicatorTable, basic_info_facts, product_rows_from_lines
from reports.models import IndicatorValue, KeyChangeRequest, Report
from reports.periods import Period, current_report_month
from reports.questionnaires import questionnaires_for
from reports.services import check_indicators, stored_values
from reports.workflow import (
    Action,
    TransitionError,
    approve_key_change,
    awaiting_local_review,
    return_key_change,
)
from reports.workflow import reopen_report as reopen_service
from review.selectors import (
    WorklistFilter,
    deadline_moment,
    get_key_change_for_user,
    get_report_for_review,
    key_changes_visible_to,
    resubmission_changes,
    status_counts,
)
from review.selectors import (
    worklist as worklist_rows,
)
from review.services import COMMON_RETURN_REASONS, approve, batch_approve, send_back
from stats.exports import WORKLIST_HEADER, worklist_export_rows
from transfer.xlsx import streamed_workbook

admin_only = role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)

YES_NO = (("yes", "是"), ("no", "否"))
PREVIOUS_MONTHS = 3
KEY_LABELS = {
    "enterprise_name": "企业名称",
    "code_type": "代码类型",
    "code": "机构代码",
    "industry": "所属行业",
}
ONLY_SENIOR_DECIDES = "只有国家高级管理员可以处理关键信息变更申请，地方管理员只能查看。"


# --- Worklist -----------------------------------------------------------------------------------


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _region_choices(user: User) -> list[Region]:
    """The regions one level below the administrator's own (provinces for the national one)."""
    if user.is_local_admin and user.region_id is not None:
        return list(Region.objects.filter(parent_id=user.region_id).order_by("code"))
    return list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))


def _worklist_filter(request: HttpRequest, user: User) -> tuple[WorklistFilter, dict[str, Any]]:
    """The filter from the query string; anything unknown falls back to its default."""
    get = request.GET
    try:
        period = Period.parse(get.get("period", ""))
    except ValueError:
        period = current_report_month()
    status: str | None = get.get("status", Report.Status.PENDING)
    if status == "all":
        status = None
    elif status not in Report.Status.values:
        status = Report.Status.PENDING
    regions = _region_choices(user)
    region = get.get("region") or None
    if region not in {r.code for r in regions}:
        region = None
    industries = list(Industry.objects.filter(level=Industry.Level.SECTION).order_by("code"))
    industry = get.get("industry") or None
    if industry not in {i.code for i in industries}:
        industry = None
    level = get.get("level") or None
    if level not in Report.ReviewLevel.values:
        level = None
    after = get.get("after", "")
    f = WorklistFilter(
        period=period,
        status=status,
        region=region,
        industry=industry,
        late=_yes_no(get.get("late")),
        explained=_yes_no(get.get("explained")),
        level=level,
        after=int(after) if after.isdigit() else None,
    )
    chosen = {
        "period": str(period),
        "status": status or "all",
        "region": region or "",
        "industry": industry or "",
        "late": get.get("late") if f.late is not None else "",
        "explained": get.get("explained") if f.explained is not None else "",
        "level": level or "",
    }
    return f, {"regions": regions, "industries": industries, "chosen": chosen}


@admin_only
def worklist(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    f, context = _worklist_filter(request, user)
    rows, next_cursor = worklist_rows(user, f)
    deadline = deadline_moment(f.period)
    for row in rows:
        row.is_late = row.submitted_at is not None and row.submitted_at >= deadline
        row.selectable = _can_decide(user, row)
    chosen = {k: v for k, v in context["chosen"].items() if v}
    counts = status_counts(user, f.period)
    context.update(
        rows=rows,
        filter=f,
        counts=[
            (value, label, counts.get(value, 0), urlencode({"period": f.period, "status": value}))
            for value, label in Report.Status.choices
        ],
        total=sum(counts.values()),
        all_query=urlencode({"period": f.period, "status": "all"}),
        next_query=urlencode({**chosen, "after": next_cursor}) if next_cursor else "",
        first_query=urlencode(chosen) if f.after else "",
        here=request.get_full_path(),
        statuses=Report.Status.choices,
        levels=Report.ReviewLevel.choices,
        yes_no=YES_NO,
    )
    return render(request, "review/worklist.html", context)


@admin_only
def worklist_xlsx(request: HttpRequest) -> HttpResponse:
    """The worklist of the page's filter as .xlsx: every page of it, written row by row."""
    user: Any = request.user
    f, _ = _worklist_filter(request, user)
    return streamed_workbook(
        f"worklist-{f.period}.xlsx", "报表审核", WORKLIST_HEADER, worklist_export_rows(user, f)
    )


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/review/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return default


@admin_only
@require_POST
def batch(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("ids")
    back = _back(request, reverse("review:worklist"))
    if not ids:
        messages.error(request, "请先勾选要审核通过的报表。")
        return redirect(back)
    result = batch_approve(request.user, ids)  # type: ignore[arg-type]
    if result.approved:
        messages.success(request, f"已审核通过 {len(result.approved)} 份报表。")
    if result.refused:
        listed = "；".join(f"{label}：{message}" for _, label, message in result.refused)
        messages.error(request, f"以下 {len(result.refused)} 份报表未审核通过：{listed}")
    return redirect(back)


# --- The report -----------------------------------------------------------------------------------


def _previous_months(report: Report, table: IndicatorTable) -> dict[str, Any]:
    """The enterprise's own 1-本月 figures of the months before, per indicator: one query."""
    periods: list[Period] = []
    month = Period.parse(report.period)
    for _ in range(PREVIOUS_MONTHS):
        month = month.previous()
        periods.append(month)
    values = IndicatorValue.objects.filter(
        report__enterprise_id=report.enterprise_id,
        report__period__in=[str(p) for p in periods],
    ).values_list("report__period", "code", "ytd")
    found: dict[tuple[str, str], Decimal | None] = {(p, c): v for p, c, v in values}
    rows = []
    for row in table.rows:
        this = next((c.value for c in row.cells if c.column == "ytd"), "")
        before = [found.get((str(p), row.code)) for p in periods]
        rows.append({"name": row.name, "unit": row.unit, "this": this, "before": before})
    return {"periods": periods, "rows": rows}


def _can_decide(user: User, report: Report) -> bool:
    if report.status != Report.Status.PENDING:
        return False
    if user.is_local_admin:
        return report.review_level == Report.ReviewLevel.LOCAL
    return user.is_senior_admin


def _report_context(report: Report, user: User, posted: Any = None) -> dict[str, Any]:
    values = stored_values(report)
    table = IndicatorTable(report.catalogue, stored=values)
    table.add_warnings(check_indicators(report, values).warnings)
    stored = dict(report.answers.values_list("question_id", "value"))
    events = list(report.events.select_related("actor"))
    labels = dict(Action.choices)
    for event in events:
        event.action_label = labels.get(event.action, event.action)
    changes = list(report.key_changes.all())
    return {
        "report": report,
        "info": report.basic_info or {},
        # In scope already (the view's queryset); sees_contacts keeps the rule in one place.
        "facts": basic_info_facts(report.basic_info or {}, masked=not sees_contacts(user, report)),
        "table": table,
        "rows": product_rows_from_lines(list(report.products.all())),
        "sheets": [AnswerSheet(q, stored=stored) for q in questionnaires_for(report.period)],
        "previous": _previous_months(report, table),
        "resubmitted": resubmission_changes(report),
        "events": events,
        "changes": changes,
        "can_decide": _can_decide(user, report),
        # National administrators may return a report at local review, not approve it yet.
        "can_approve": _can_decide(user, report)
        and not (user.is_senior_admin and awaiting_local_review(report)),
        "can_reopen": user.is_senior_admin and report.status == Report.Status.APPROVED,
        "common_reasons": COMMON_RETURN_REASONS,
        "posted_common": posted.getlist("common") if posted is not None else [],
        "posted_cells_codes": [
            c.removeprefix("indicators.") for c in (posted.getlist("cells") if posted else [])
        ],
        "posted_text": posted.get("text", "") if posted is not None else "",
        "posted_reopen": posted.get("reason", "") if posted is not None else "",
    }


def _render_report(
    request: HttpRequest, report: Report, status: int = 200, posted: Any = None
) -> HttpResponse:
    user: Any = request.user
    context = _report_context(report, user, posted)
    return render(request, "review/report.html", context, status=status)


@admin_only
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_review(request.user, pk)  # type: ignore[arg-type]
    return _render_report(request, report)


def _refused(request: HttpRequest, pk: int, exc: TransitionError) -> HttpResponse:
    """The refusal as a message on the report page, showing the report as it stands now."""
    messages.error(request, exc.message)
    report = get_report_for_review(request.user, pk)  # type: ignore[arg-type]
    return _render_report(request, report, status=exc.status, posted=request.POST)


@admin_only
@require_POST
def approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_review(request.user, pk)  # type: ignore[arg-type]
    try:
        report = approve(report, request.user)  # type: ignore[arg-type]
    except TransitionError as exc:
        return _refused(request, pk, exc)
    stage = report.review_stage_label or report.get_status_display()
    messages.success(request, f"{report.enterprise.name} {report.period} 审核通过，当前：{stage}。")
    return redirect("review:report", pk)


@admin_only
@require_POST
def return_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_review(request.user, pk)  # type: ignore[arg-type]
    known = {f"indicators.{code}" for code in report.catalogue or {}}
    cells = [c for c in request.POST.getlist("cells") if c in known]
    try:
        report = send_back(
            report,
            request.user,  # type: ignore[arg-type]
            request.POST.getlist("common"),
            request.POST.get("text", ""),
            cells,
        )
    except TransitionError as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"{report.enterprise.name} {report.period} 已审核退回。")
    return redirect("review:report", pk)


@admin_only
@require_POST
def reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_review(request.user, pk)  # type: ignore[arg-type]
    try:
        report = reopen_service(report, request.user, request.POST.get("reason"))  # type: ignore[arg-type]
    except TransitionError as exc:
        return _refused(request, pk, exc)
    messages.success(
        request, f"{report.enterprise.name} {report.period} 已重新打开，状态：审核退回。"
    )
    return redirect("review:report", pk)


# --- Key-information changes ----------------------------------------------------------------------


@admin_only
def changes(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    pending_first = Case(
        When(status=KeyChangeRequest.Status.PENDING, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    qs = key_changes_visible_to(user).order_by(pending_first, "-requested_at", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "review/changes.html",
        {"page": page, "changes": page.object_list, "can_decide": user.is_senior_admin},
    )


def _shown(name: str, value: Any, industries: dict[str, str]) -> str:
    if value in (None, ""):
        return "—"
    if name == "code_type":
        return str(dict(Enterprise.CodeType.choices).get(value, value))
    if name == "industry":
        return f"{value} {industries.get(str(value), '')}".strip()
    return str(value)


def _change_rows(change: KeyChangeRequest) -> list[dict[str, Any]]:
    old, new = change.old_values or {}, change.new_values or {}
    names = [*KEY_LABELS, *(k for k in {**old, **new} if k not in KEY_LABELS)]
    codes = [str(v) for v in (old.get("industry"), new.get("industry")) if v]
    industries = dict(Industry.objects.filter(code__in=codes).values_list("code", "name"))
    rows = []
    for name in names:
        if name not in old and name not in new:
            continue
        a, b = old.get(name), new.get(name)
        rows.append(
            {
                "label": KEY_LABELS.get(name, name),
                "old": _shown(name, a, industries),
                "new": _shown(name, b, industries),
                "changed": a != b,
            }
        )
    return rows


def _render_change(
    request: HttpRequest, change: KeyChangeRequest, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    context = {
        "change": change,
        "rows": _change_rows(change),
        "can_decide": user.is_senior_admin and change.status == KeyChangeRequest.Status.PENDING,
        "posted_reason": request.POST.get("reason", "") if request.method == "POST" else "",
    }
    return render(request, "review/change.html", context, status=status)


@admin_only
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_key_change_for_user(request.user, pk)  # type: ignore[arg-type]
    return _render_change(request, change)


def _decide(request: HttpRequest, pk: int, approving: bool) -> HttpResponse:
    user: Any = request.user
    change = get_key_change_for_user(user, pk)
    if not user.is_senior_admin:
        messages.error(request, ONLY_SENIOR_DECIDES)
        return _render_change(request, change, status=403)
    try:
        if approving:
            approve_key_change(change, user)
        else:
            return_key_change(change, user, request.POST.get("reason"))
    except TransitionError as exc:
        messages.error(request, exc.message)
        return _render_change(request, get_key_change_for_user(user, pk), status=exc.status)
    if approving:
        messages.success(request, "关键信息变更已审核通过，报表状态：解除冻结。")
    else:
        messages.success(request, "关键信息变更已退回，报表状态：审核退回。")
    return redirect("review:change", pk)


@admin_only
@require_POST
def change_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approving=True)


@admin_only
@require_POST
def change_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approving=False)
