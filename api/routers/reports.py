"""The enterprise's own monthly reports (API.md "Enterprise users"): the same services as the
report pages (reports.services, reports.workflow), so the same rules, statuses and audit trail.

Every PUT takes an optional `?version=N`, the `version` of the report document last read: a save
based on an older version is refused with 409 (the report changed elsewhere meanwhile). Without it
the save is not checked against concurrent changes.

A month outside the open months (workflow.open_periods) or not written YYYY-MM is 404, as is any
report the caller may not see; administrators get 403, since only enterprises report."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Body, File, Form, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from accounts.models import User
from api.auth import api_auth
from api.gates import enterprises, gate, open_month, path_month
from api.report_schemas import (
    AnswersIn,
    BasicInfoIn,
    FiguresIn,
    HistoryItemOut,
    ImportOut,
    KeyChangeOut,
    PeriodOut,
    ProductIn,
    ReportOut,
    SaveOut,
    SubmitIn,
    ValidationOut,
)
from api.schemas import DetailOut, ErrorsOut
from reports.basic_info import BasicInfoForm
from reports.catalogue import indicator_counts
from reports.models import Answer, Indicator, ProductLine, Report, ReportEvent
from reports.periods import Period
from reports.questionnaires import questionnaires_for
from reports.selectors import get_own_report, reports_visible_to
from reports.services import (
    KeyChangeNeedsConfirmation,
    ReportInputError,
    carried_products,
    growth_of,
    issue_error,
    last_year_prefill,
    report_or_draft,
    save_answers,
    save_basic_info,
    save_indicators,
    save_products,
    stored_values,
    submit,
    unanswered_questionnaires,
    validate_report,
)
from reports.validation import COLUMNS, Issue, ValidationResult
from reports.workflow import (
    TransitionError,
    open_periods,
    start_report,
)
from reports.workflow import withdraw_report as withdraw_service
from transfer.imports import import_template
from transfer.reader import WorkbookRefused, size_limit_message
from transfer.template import build_template
from transfer.xlsx import XLSX

# Enterprises only (403 to administrators) and a `{period}` that is open (else 404): both before
# the body is read (api.gates), so a refused caller is never told what the body lacks.
router = Router(tags=["企业月报"], auth=api_auth(gate(enterprises, open_month)))

NOT_STARTED = "该月报表尚未开始填报，请先保存。"
NOT_STARTED_WITHDRAW = "该月报表尚未上报，不能撤销。"
API = Report.Method.API

COMMON = {401: DetailOut, 403: DetailOut, 404: DetailOut}
SAVE_RESPONSES = {200: SaveOut, 400: ErrorsOut, 409: DetailOut, **COMMON}


# --- Helpers -------------------------------------------------------------------------------------


def _enterprise_user(request: HttpRequest) -> User:
    """The caller, an enterprise user with an enterprise (the router's gate made sure)."""
    return request.user  # type: ignore[return-value]


def _open_period(request: HttpRequest, text: str) -> Period:
    """The month of the path, open to reporting (the router's gate checked it: else 404)."""
    return path_month(request, text)


def _raw_json(request: HttpRequest) -> Any:
    """The body again, with decimals kept exact (ninja has already checked it is JSON)."""
    return json.loads(request.body, parse_float=Decimal)


def _input_errors(exc: ReportInputError) -> Status:
    return Status(400, {"errors": [e.as_dict() for e in exc.errors]})


def _refused(exc: TransitionError) -> Status:
    """A refused step: 400 in the errors format, any other status as {"detail"}."""
    if exc.status == 400:
        return Status(400, {"errors": [{"field": None, "code": "refused", "message": exc.message}]})
    raise HttpError(exc.status, exc.message)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _warning(issue: Issue) -> dict[str, str]:
    return {
        "rule": issue.rule,
        "indicator": issue.indicator,
        "message": issue.message,
        "explanation": issue.explanation,
    }


def _error(issue: Issue) -> dict[str, Any]:
    return {**issue_error(issue).as_dict(), "rule": issue.rule, "indicator": issue.indicator}


def _issues(result: ValidationResult | None) -> dict[str, list[dict[str, Any]]]:
    if result is None:
        return {"errors": [], "warnings": []}
    return {
        "errors": [_error(i) for i in result.errors],
        "warnings": [_warning(i) for i in result.warnings],
    }


def _state(report: Report) -> dict[str, Any]:
    return {
        "period": report.period,
        "status": report.status,
        "status_label": Report.Status(report.status).label,
        "method": report.method,
        "version": report.version,
        "submitted_at": report.submitted_at,
    }


# --- Months --------------------------------------------------------------------------------------


@router.get(
    "/periods",
    response={200: list[PeriodOut], **COMMON},
    summary="可填报的月份：当前报表月份及补报期内的月份，最新在前",
)
def list_periods(request: HttpRequest):
    user = _enterprise_user(request)
    months = open_periods()
    saved = {
        period: (status, catalogue)
        for period, status, catalogue in reports_visible_to(user)
        .filter(period__in=[str(m) for m in months])
        .values_list("period", "status", "catalogue")
    }
    counts = indicator_counts(months, {m: len(c) for m, (_, c) in saved.items() if c})
    items = []
    for month in months:
        status, _ = saved.get(str(month), (None, None))
        count = counts[str(month)]
        items.append(
            {
                "period": str(month),
                "report_type": month.report_type,
                "report_type_label": month.report_type_name,
                "indicator_count": count,
                "deadline": month.deadline,
                "status": status,
                "status_label": Report.Status(status).label if status else None,
            }
        )
    return items


# --- The report document -------------------------------------------------------------------------


def _indicators(
    catalogue: dict[str, dict[str, Any]], values: dict[str, dict[str, Decimal | None]]
) -> dict[str, dict[str, Any]]:
    out = {}
    ordered = sorted(catalogue.items(), key=lambda item: (item[1].get("position", 0), item[0]))
    for code, definition in ordered:
        columns = {c: values.get(code, {}).get(c) for c in COLUMNS}
        out[code] = {
            "name": definition.get("name", code),
            "unit": definition.get("unit", ""),
            "kind": definition.get("kind", Indicator.Kind.YTD),
            "required": bool(definition.get("required", False)),
            **{c: _number(v) for c, v in columns.items()},
            "growth": _number(growth_of(columns)),
        }
    return out


def _figures(line: ProductLine, kind: str) -> dict[str, float | None]:
    return {c: _number(getattr(line, f"{kind}_{c}")) for c in COLUMNS}


def _product(line: ProductLine) -> dict[str, Any]:
    return {
        "name": line.name,
        "code": line.code,
        "unit": line.unit,
        "production": _figures(line, "production"),
        "sales": _figures(line, "sales"),
        "closing_stock": _number(line.closing_stock),
    }


def _questionnaires(period: Period, report: Report | None) -> list[dict[str, Any]]:
    questionnaires = questionnaires_for(str(period))
    if not questionnaires:
        return []
    answers: dict[int, Any] = {}
    unanswered: set[int] = {q.pk for q in questionnaires}
    if report is not None:
        answers = dict(Answer.objects.filter(report=report).values_list("question_id", "value"))
        unanswered = {q.pk for q in unanswered_questionnaires(report)}
    return [
        {
            "id": q.pk,
            "title": q.title,
            "description": q.description,
            "answered": q.pk not in unanswered,
            "questions": [
                {
                    "id": question.pk,
                    "text": question.text,
                    "type": question.type,
                    "required": question.required,
                    "options": [
                        {"value": str(o.get("value")), "label": str(o.get("label", ""))}
                        for o in question.options
                        if isinstance(o, dict)
                    ],
                }
                for question in q.questions.all()
            ],
            "answers": {
                str(question.pk): answers[question.pk]
                for question in q.questions.all()
                if question.pk in answers
            },
        }
        for q in questionnaires
    ]


@router.get(
    "/reports/{period}",
    response={200: ReportOut, **COMMON},
    summary="本企业某月的整张报表（尚未开始的月份：未保存的空表，上年数据已预填）",
)
def get_report(request: HttpRequest, period: str):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    report = report_or_draft(user, month)
    if report.pk is None:
        # Not started: nothing is created by reading; the form as it would start.
        draft = report
        products = carried_products(draft)
        return {
            "period": str(month),
            "status": None,
            "status_label": None,
            "method": None,
            "version": None,
            "submitted_at": None,
            "basic_info": {},
            "indicators": _indicators(draft.catalogue, last_year_prefill(draft)),
            "products": [_product(p) for p in products],
            "products_carried_over": bool(products),
            "questionnaires": _questionnaires(month, None),
            "explanations": {},
            **_issues(None),
        }
    values = stored_values(report)
    result = validate_report(report) if values else None
    lines = list(report.products.all())
    carried = not lines
    if carried:
        lines = carried_products(report)
    return {
        **_state(report),
        "basic_info": report.basic_info or {},
        "indicators": _indicators(report.catalogue, values or last_year_prefill(report)),
        "products": [_product(p) for p in lines],
        "products_carried_over": carried and bool(lines),
        "questionnaires": _questionnaires(month, report),
        "explanations": dict(report.explanations.values_list("rule", "text")),
        **_issues(result),
    }


# --- Saving the four steps -----------------------------------------------------------------------


@router.put(
    "/reports/{period}/basic-info",
    response={**SAVE_RESPONSES, 409: KeyChangeOut},
    summary="第一步：企业基本情况表",
    description=(
        "变更企业名称、机构代码或所属行业须带 `confirm_key_change: true`，否则 409 "
        "（`fields` 列出变更的关键信息）；确认后本月报表冻结，待国家高级管理员审核。"
        "状态不允许修改或 `?version=` 已过期时 409 只有 `detail`。"
    ),
)
def put_basic_info(
    request: HttpRequest, period: str, payload: BasicInfoIn, version: Query[int | None] = None
):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    form = BasicInfoForm.from_json(payload.dict(exclude={"confirm_key_change", "version"}))
    if version is None:
        version = payload.version
    try:
        outcome = save_basic_info(
            user,
            month,
            form,
            confirm_key_change=payload.confirm_key_change,
            expected_version=version,
            method=API,
        )
    except ReportInputError as exc:
        return _input_errors(exc)
    except KeyChangeNeedsConfirmation as exc:
        return Status(409, {"detail": str(exc), "fields": exc.fields})
    except TransitionError as exc:
        return _refused(exc)
    return _state(outcome.report)


@router.put(
    "/reports/{period}/indicators",
    response=SAVE_RESPONSES,
    summary="第二步：主要经济指标",
    description=(
        "`{code: {current, ytd, last_year_current, last_year_ytd}}`。仅有一个数的指标（期末值、"
        "百分比、仅1-本月）填在 `ytd` 与 `last_year_ytd`，`current` 留空。违反强制性规则时 400，"
        "什么也不保存；否则 200，并列出需填写原因说明的提示（warnings）。"
    ),
)
def put_indicators(
    request: HttpRequest,
    period: str,
    payload: Body[dict[str, FiguresIn]],
    version: Query[int | None] = None,
):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    try:
        outcome = save_indicators(
            user, month, _raw_json(request), expected_version=version, method=API
        )
    except ReportInputError as exc:
        return _input_errors(exc)
    except TransitionError as exc:
        return _refused(exc)
    return {**_state(outcome.report), **_issues(outcome.result)}


@router.put(
    "/reports/{period}/products",
    response=SAVE_RESPONSES,
    summary="第三步：主要产品产销存（整张列表）",
)
def put_products(
    request: HttpRequest,
    period: str,
    payload: Body[list[ProductIn]],
    version: Query[int | None] = None,
):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    try:
        outcome = save_products(
            user, month, _raw_json(request), expected_version=version, method=API
        )
    except ReportInputError as exc:
        return _input_errors(exc)
    except TransitionError as exc:
        return _refused(exc)
    return _state(outcome.report)


@router.put(
    "/reports/{period}/questionnaires/{questionnaire_id}",
    response=SAVE_RESPONSES,
    summary="第四步：一份问卷的答案",
)
def put_answers(
    request: HttpRequest,
    period: str,
    questionnaire_id: int,
    payload: AnswersIn,
    version: Query[int | None] = None,
):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    raw = _raw_json(request)["answers"]
    try:
        outcome = save_answers(
            user, month, questionnaire_id, raw, expected_version=version, method=API
        )
    except ReportInputError as exc:
        return _input_errors(exc)
    except TransitionError as exc:
        return _refused(exc)
    return _state(outcome.report)


# --- Validation, submission, withdrawal -------------------------------------------------------- -


# --- Validation, submission, withdrawal ----------------------------------------------------------
@router.get(
    "/reports/{period}/template.xlsx",
    response={200: None, **COMMON},
    summary="该月的数据模板（.xlsx），预填平台已有的数据",
    openapi_extra={
        "responses": {
            "200": {
                "description": "数据模板",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def template_xlsx(request: HttpRequest, period: str):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    content = build_template(user.enterprise, month, get_own_report(user, str(month)))  # type: ignore[arg-type]
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="template-{month}.xlsx"'
    return response


@router.post(
    "/reports/{period}/import",
    response={200: ImportOut, 400: ErrorsOut, 409: DetailOut, 413: DetailOut, **COMMON},
    summary="上报导入：用填写好的数据模板填写该月报表（multipart 字段 file）",
    description=(
        "与在线填写相同的校验；有错误时 400，每条错误的 field 为“工作表!单元格”（如 "
        "“主要经济指标!D7”），整个文件无法读取时 field 为 file，且不保存任何数据。"
        "`dry_run=true` 只校验不导入。文件超过大小限制时 413。"
    ),
)
def import_month(
    request: HttpRequest,
    period: str,
    file: File[UploadedFile],
    filler: Form[str] = "",
    dry_run: Query[bool] = False,
):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    if file.size is not None and file.size > settings.IMPORT_MAX_BYTES:
        raise HttpError(413, size_limit_message())
    try:
        outcome = import_template(
            user,
            month,
            file,
            filename=file.name or "",
            filler=filler.strip() or user.enterprise.contact_person,  # type: ignore[union-attr]
            size=file.size,
            dry_run=dry_run,
        )
    except WorkbookRefused as exc:
        if exc.status == 400:
            return Status(
                400, {"errors": [{"field": "file", "code": "file", "message": exc.message}]}
            )
        raise HttpError(exc.status, exc.message) from None
    except TransitionError as exc:
        return _refused(exc)
    if outcome.errors:
        return Status(
            400,
            {
                "errors": [
                    {"field": e.where, "code": "cell", "message": e.message} for e in outcome.errors
                ]
            },
        )
    return {
        "saved": outcome.saved,
        "dry_run": dry_run,
        "report": _state(outcome.report) if outcome.report is not None else None,
        "indicators": outcome.indicators,
        "products": outcome.products,
        "warnings": [_warning(w) for w in outcome.warnings],
        "ignored_sheets": outcome.ignored_sheets,
    }


@router.post(
    "/reports/{period}/validate",
    response={200: ValidationOut, 409: DetailOut, **COMMON},
    summary="校验已保存的指标：errors 为强制性规则，warnings 为需填写原因说明的提示",
)
def validate(request: HttpRequest, period: str):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    report = get_own_report(user, str(month))
    if report is None:
        raise HttpError(409, NOT_STARTED)
    return _issues(validate_report(report))


@router.post(
    "/reports/{period}/submit",
    response={200: SaveOut, 400: ErrorsOut, 409: DetailOut, **COMMON},
    summary="上报：200 后状态为待审核",
    description=(
        "`explanations` 为各非强制性规则的原因说明（套话或过短的说明被拒绝）。"
        "仍有错误、提示缺少原因说明或未完成必答问卷时 400；当前状态不能上报时 409。"
    ),
)
def submit_month(request: HttpRequest, period: str, payload: SubmitIn):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    report = get_own_report(user, str(month))
    if report is None:
        # Submitting a month never saved: the service says what is missing.
        report = start_report(user, month, API)
    try:
        report, result = submit(user, report, payload.explanations)
    except ReportInputError as exc:
        return _input_errors(exc)
    except TransitionError as exc:
        return _refused(exc)
    return {**_state(report), **_issues(result)}


@router.post(
    "/reports/{period}/withdraw",
    response={200: SaveOut, 409: DetailOut, **COMMON},
    summary="撤销上报：回到编辑状态（审核员已开始审核后不能撤销）",
)
def withdraw(request: HttpRequest, period: str):
    user = _enterprise_user(request)
    month = _open_period(request, period)
    report = get_own_report(user, str(month))
    if report is None:
        raise HttpError(409, NOT_STARTED_WITHDRAW)
    try:
        report = withdraw_service(report, user)
    except TransitionError as exc:
        return _refused(exc)
    return _state(report)


# --- History -------------------------------------------------------------------------------------


@router.get(
    "/reports",
    response={200: list[HistoryItemOut], **COMMON},
    summary="填报历史：本企业的每个月份，最新在前，含审核退回的原因",
)
def history(request: HttpRequest):
    user = _enterprise_user(request)
    rows = list(
        reports_visible_to(user)
        .order_by("-period")
        .values_list("pk", "period", "status", "method", "submitted_at")
    )
    reasons: dict[int, list[dict[str, Any]]] = {}
    returned = ReportEvent.objects.filter(
        report_id__in=[row[0] for row in rows], to_status=Report.Status.RETURNED
    ).order_by("at", "id")
    for report_id, at, reason in returned.values_list("report_id", "at", "reason"):
        reasons.setdefault(report_id, []).append({"at": at, "reason": reason})
    return [
        {
            "period": period,
            "status": status,
            "status_label": Report.Status(status).label,
            "method": method,
            "method_label": Report.Method(method).label,
            "submitted_at": submitted_at,
            "return_reasons": reasons.get(pk, []),
        }
        for pk, period, status, method, submitted_at in rows
    ]
