"""Review by the administrators (API.md "Administrators"): the worklist, one report with its
audit trail, approval at the caller's level, return, re-opening, batch approval and the
key-information change requests. The same selectors and services as the review pages
(review.selectors, review.services, reports.workflow), so the same scope, rules and audit trail.

Enterprise users get 403 everywhere here; a report or change request outside the caller's region
is 404, exactly as one that does not exist. A step the report's status or review level does not
allow is 409 `{"detail"}`; one the caller's role may not take is 403."""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from accounts.models import User
from api.auth import ApiAuth, api_auth
from api.gates import (
    CHANGE_NOT_FOUND,
    administrators,
    change_in_scope,
    gate,
    path_change,
    path_report,
    report_in_scope,
    step,
)
from api.review_schemas import (
    BatchIn,
    BatchOut,
    ChangeOut,
    ChangePageOut,
    ChangeQuery,
    ReasonIn,
    ReturnIn,
    ReviewReportOut,
    ReviewStateOut,
    WorklistOut,
    WorklistQuery,
)
from api.routers.reports import _indicators, _issues, _product, _questionnaires
from api.schemas import DetailOut, ErrorsOut
from directory.models import Enterprise, Region
from reports.models import Answer, KeyChangeRequest, Report, ReportEvent
from reports.periods import Period, current_report_month
from reports.selectors import NOT_FOUND
from reports.services import stored_values, validate_report
from reports.workflow import (
    Action,
    TransitionError,
    approve_key_change,
    reopen_report,
    return_key_change,
)
from review.selectors import (
    PAGE_SIZE,
    WorklistFilter,
    deadline_moment,
    get_key_change_for_user,
    key_changes_visible_to,
    status_counts,
    worklist,
)
from review.services import COMMON_RETURN_REASONS, approve, batch_approve, send_back

ADMINISTRATORS_ONLY = "只有管理员可以审核报表。"
MAX_ID = 2**63 - 1

COMMON = {401: DetailOut, 403: DetailOut, 404: DetailOut}
STEP_RESPONSES = {200: ReviewStateOut, 400: ErrorsOut, 409: DetailOut, **COMMON}

PERIOD_TEXT = re.compile(r"\d{4}-\d{2}")
REGION_CODE = re.compile(r"\d{6}")
INDUSTRY_CODE = re.compile(r"[A-Z]|\d{2,4}")
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


# Administrators only (403 to enterprises), and the report or change request of the path within
# their region (404): both before the body is read (api.gates). A step only some administrators
# take names its own gate below (`_step`), with the workflow's role of that step.
REVIEWERS = (administrators(ADMINISTRATORS_ONLY), report_in_scope, change_in_scope)
router = Router(tags=["审核"], auth=api_auth(gate(*REVIEWERS)))


def _step(action: str) -> ApiAuth:
    """The auth of an operation that takes `action`: the router's checks, then the step's role."""
    return api_auth(gate(*REVIEWERS, step(action)))


# --- Helpers -------------------------------------------------------------------------------------


def _administrator(request: HttpRequest) -> User:
    """The caller, an administrator (the router's gate made sure)."""
    return request.user  # type: ignore[return-value]


def _report(request: HttpRequest, pk: str) -> Report:
    """The report of the path, within the caller's region (found by the gate: else 404)."""
    return path_report(request, _administrator(request), pk)


def _change(request: HttpRequest, pk: str) -> KeyChangeRequest:
    return path_change(request, _administrator(request), pk)


class BadQuery(Exception):
    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.error = {"field": field, "code": code, "message": message}


def _bad(exc: BadQuery) -> Status:
    return Status(400, {"errors": [exc.error]})


def _refused(exc: TransitionError, field: str | None = None) -> Status:
    """A refused step: 400 in the errors format, 403 and 409 as {"detail"}."""
    if exc.status == 400:
        return Status(
            400, {"errors": [{"field": field, "code": "refused", "message": exc.message}]}
        )
    raise HttpError(exc.status, exc.message)


def _level_label(report: Report) -> str:
    return report.review_stage_label


def _state(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "status": report.status,
        "status_label": Report.Status(report.status).label,
        "level": report.review_level,
        "level_label": _level_label(report),
    }


def _usernames(enterprise_ids: list[int]) -> dict[int, str]:
    rows = User.objects.filter(enterprise_id__in=enterprise_ids)
    return dict(rows.values_list("enterprise_id", "username"))


def _enterprise(enterprise: Enterprise, usernames: dict[int, str]) -> dict[str, Any]:
    return {
        "username": usernames.get(enterprise.pk),
        "name": enterprise.name,
        "region": enterprise.region_id,
        "region_name": enterprise.region.name,
    }


def _late(report: Report) -> bool:
    if report.submitted_at is None:
        return False
    return report.submitted_at >= deadline_moment(Period.parse(report.period))


def _cursor(text: str | None, field: str) -> int | None:
    if text is None or text == "":
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID:
        raise BadQuery(field, "invalid", "分页游标应为上一页返回的 next。")
    return int(text)


def _boolean(text: str | None, field: str) -> bool | None:
    if text is None or text == "":
        return None
    value = BOOLEANS.get(text.strip().lower())
    if value is None:
        raise BadQuery(field, "invalid", "应为 true 或 false。")
    return value


def _period(text: str | None) -> Period:
    if text is None or text == "":
        return current_report_month()
    try:
        if not text.isascii() or not PERIOD_TEXT.fullmatch(text):
            raise ValueError
        return Period.parse(text)
    except ValueError:
        raise BadQuery(
            "period", "invalid", "报表月份格式应为 YYYY-MM，且须为存在的月份。"
        ) from None


def _worklist_filter(q: WorklistQuery) -> WorklistFilter:
    f = WorklistFilter(period=_period(q.period))
    if q.status is not None and q.status != "":
        if q.status == "all":
            f.status = None
        elif q.status in Report.Status.values:
            f.status = q.status
        else:
            raise BadQuery("status", "invalid", "报表状态代码不正确。")
    if q.region:
        if not q.region.isascii() or not REGION_CODE.fullmatch(q.region):
            raise BadQuery("region", "invalid", "地区代码应为 6 位数字。")
        if not Region.objects.filter(pk=q.region).exists():
            raise BadQuery("region", "unknown", "地区不存在。")
        f.region = q.region
    if q.industry:
        if not q.industry.isascii() or not INDUSTRY_CODE.fullmatch(q.industry):
            raise BadQuery("industry", "invalid", "行业代码应为门类字母或 2-4 位数字。")
        f.industry = q.industry
    f.late = _boolean(q.late, "late")
    f.explained = _boolean(q.explained, "explained")
    if q.level:
        if q.level not in Report.ReviewLevel.values:
            raise BadQuery("level", "invalid", "审核层级应为 local 或 national。")
        f.level = q.level
    after = _cursor(q.after, "after")
    page = _cursor(q.page, "page")
    if after is not None and page is not None and after != page:
        raise BadQuery("page", "conflict", "after 与 page 不能同时给出不同的值。")
    f.after = after if after is not None else page
    return f


# --- The worklist --------------------------------------------------------------------------------


@router.get(
    "/review/reports",
    response={200: WorklistOut, 400: ErrorsOut, **COMMON},
    summary="审核工作台：本辖区某月的报表，按 id 分页",
    description=(
        "筛选：`period`（默认当前报表月份）、`status`（默认 pending；all 为全部状态）、`region`、"
        "`industry`、`late`、`explained`、`level`。分页用游标：把返回的 `next` 作为 `?after=` "
        "传回（`?page=` 是它的别名，值同样是 `next`，不是页码）。`counts` 为该月各状态的报表数。"
    ),
)
def list_reports(request: HttpRequest, filters: Query[WorklistQuery]):
    user = _administrator(request)
    try:
        f = _worklist_filter(filters)
    except BadQuery as exc:
        return _bad(exc)
    rows, next_cursor = worklist(user, f)
    usernames = _usernames([r.enterprise_id for r in rows])
    deadline = deadline_moment(f.period)
    items = [
        {
            "id": r.pk,
            "period": r.period,
            "status": r.status,
            "status_label": Report.Status(r.status).label,
            "level": r.review_level,
            "level_label": _level_label(r),
            "enterprise": _enterprise(r.enterprise, usernames),
            "submitted_at": r.submitted_at,
            "late": r.submitted_at is not None and r.submitted_at >= deadline,
            "has_explanations": bool(getattr(r, "explained", False)),
        }
        for r in rows
    ]
    return {"items": items, "next": next_cursor, "counts": status_counts(user, f.period)}


# Before /review/reports/{report_id}: the first matching path decides (else 405).
@router.post(
    "/review/reports/batch-approve",
    response={200: BatchOut, 400: ErrorsOut, **COMMON},
    summary="批量审核通过：每张报表单独处理，不能通过的列在 refused 中",
)
def batch(request: HttpRequest, payload: BatchIn):
    user = _administrator(request)
    result = batch_approve(user, list(payload.ids))
    return {
        "approved": [r.pk for r in result.approved],
        "refused": [
            {"id": pk, "report": label, "message": message} for pk, label, message in result.refused
        ],
    }


# --- One report ----------------------------------------------------------------------------------


def _events(report: Report) -> list[dict[str, Any]]:
    events = ReportEvent.objects.filter(report=report).select_related("actor").order_by("at", "id")
    labels = dict(Action.choices)
    return [
        {
            "action": e.action,
            "action_label": labels.get(e.action, e.action),
            "from_status": e.from_status,
            "to_status": e.to_status,
            "actor": e.actor.username,
            "reason": e.reason,
            "details": e.details or {},
            "ip": e.ip,
            "at": e.at,
        }
        for e in events
    ]


@router.get(
    "/review/reports/{report_id}",
    response={200: ReviewReportOut, **COMMON},
    summary="一张报表：基本情况、指标（含增速）、产品、问卷答案、提示及原因说明、状态变更记录",
)
def get_report(request: HttpRequest, report_id: str):
    report = _report(request, report_id)
    values = stored_values(report)
    result = validate_report(report) if values else None
    answers = Answer.objects.filter(report=report).values_list("question_id", "value")
    return {
        **_state(report),
        "period": report.period,
        "method": report.method,
        "version": report.version,
        "submitted_at": report.submitted_at,
        "late": _late(report),
        "enterprise": _enterprise(report.enterprise, _usernames([report.enterprise_id])),
        "basic_info": report.basic_info or {},
        "indicators": _indicators(report.catalogue, values),
        "products": [_product(p) for p in report.products.all()],
        "questionnaires": _questionnaires(Period.parse(report.period), report),
        "answers": {str(q): v for q, v in answers},
        "explanations": dict(report.explanations.values_list("rule", "text")),
        **_issues(result),
        "events": _events(report),
        "common_return_reasons": list(COMMON_RETURN_REASONS),
    }


# --- Steps ---------------------------------------------------------------------------------------


@router.post(
    "/review/reports/{report_id}/approve",
    response=STEP_RESPONSES,
    summary="审核通过：地方管理员转国家审核，国家高级管理员审核通过",
)
def approve_one(request: HttpRequest, report_id: str):
    user = _administrator(request)
    report = _report(request, report_id)
    try:
        report = approve(report, user)
    except Http404:
        raise HttpError(404, NOT_FOUND) from None
    except TransitionError as exc:
        return _refused(exc)
    return _state(report)


@router.post(
    "/review/reports/{report_id}/return",
    response=STEP_RESPONSES,
    summary="审核退回：须有原因（自填或常用原因），可标出需核实的单元格",
)
def return_one(request: HttpRequest, report_id: str, payload: ReturnIn):
    user = _administrator(request)
    report = _report(request, report_id)
    unknown = [c for c in payload.common if c not in COMMON_RETURN_REASONS]
    if unknown:
        error = {"field": "common", "code": "invalid_choice", "message": "常用退回原因不存在。"}
        return Status(400, {"errors": [error]})
    try:
        report = send_back(report, user, payload.common, payload.reason, payload.cells or None)
    except Http404:
        raise HttpError(404, NOT_FOUND) from None
    except TransitionError as exc:
        return _refused(exc, "reason")
    return _state(report)


@router.post(
    "/review/reports/{report_id}/reopen",
    auth=_step(Action.REOPEN),
    response=STEP_RESPONSES,
    summary="重新打开已审核通过的报表（仅国家高级管理员，须有原因）→ 审核退回",
)
def reopen_one(request: HttpRequest, report_id: str, payload: ReasonIn):
    user = _administrator(request)
    report = _report(request, report_id)
    try:
        report = reopen_report(report, user, payload.reason)
    except Http404:
        raise HttpError(404, NOT_FOUND) from None
    except TransitionError as exc:
        return _refused(exc, "reason")
    return _state(report)


# --- Key-information changes ---------------------------------------------------------------------


def _change_out(change: KeyChangeRequest, usernames: dict[int, str]) -> dict[str, Any]:
    report = change.report
    return {
        "id": change.pk,
        "report": report.pk,
        "period": report.period,
        "report_status": report.status,
        "enterprise": _enterprise(report.enterprise, usernames),
        "status": change.status,
        "status_label": KeyChangeRequest.Status(change.status).label,
        "old_values": change.old_values or {},
        "new_values": change.new_values or {},
        "reason": change.reason,
        "requested_by": change.requested_by.username,
        "requested_at": change.requested_at,
        "decided_by": change.decided_by.username if change.decided_by else None,
        "decided_at": change.decided_at,
    }


@router.get(
    "/review/changes",
    response={200: ChangePageOut, 400: ErrorsOut, **COMMON},
    summary="关键信息变更申请：国家高级管理员审核；地方管理员只读本辖区的申请",
    description="`status` 默认 pending（all 为全部），最新在前；把 `next` 作为 `?after=` 翻页。",
)
def list_changes(request: HttpRequest, filters: Query[ChangeQuery]):
    user = _administrator(request)
    qs = key_changes_visible_to(user)
    status = filters.status or KeyChangeRequest.Status.PENDING
    if status != "all":
        if status not in KeyChangeRequest.Status.values:
            error = {"field": "status", "code": "invalid", "message": "申请状态代码不正确。"}
            return Status(400, {"errors": [error]})
        qs = qs.filter(status=status)
    try:
        after = _cursor(filters.after, "after")
    except BadQuery as exc:
        return _bad(exc)
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
    next_cursor = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    usernames = _usernames([c.report.enterprise_id for c in rows])
    return {"items": [_change_out(c, usernames) for c in rows], "next": next_cursor}


def _decided(change: KeyChangeRequest, user: User) -> dict[str, Any]:
    fresh = get_key_change_for_user(user, change.pk)
    return _change_out(fresh, _usernames([fresh.report.enterprise_id]))


@router.post(
    "/review/changes/{change_id}/approve",
    auth=_step(Action.APPROVE_CHANGE),
    response={200: ChangeOut, 409: DetailOut, **COMMON},
    summary="同意关键信息变更：报表解除冻结，企业名称、代码或行业随之更新（仅国家高级管理员）",
)
def approve_change(request: HttpRequest, change_id: str):
    user = _administrator(request)
    change = _change(request, change_id)
    try:
        approve_key_change(change, user)
    except Http404:
        raise HttpError(404, CHANGE_NOT_FOUND) from None
    except TransitionError as exc:
        return _refused(exc)
    return _decided(change, user)


@router.post(
    "/review/changes/{change_id}/return",
    auth=_step(Action.RETURN_CHANGE),
    response={200: ChangeOut, 400: ErrorsOut, 409: DetailOut, **COMMON},
    summary="退回关键信息变更（须有原因）：报表审核退回，企业重报基本情况（仅国家高级管理员）",
)
def return_change(request: HttpRequest, change_id: str, payload: ReasonIn):
    user = _administrator(request)
    change = _change(request, change_id)
    try:
        return_key_change(change, user, payload.reason)
    except Http404:
        raise HttpError(404, CHANGE_NOT_FOUND) from None
    except TransitionError as exc:
        return _refused(exc, "reason")
    return _decided(change, user)
