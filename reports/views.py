"""当期报送 (the four-step wizard of a month's report), 上报, 撤销, 历史报送, the read-only view
of a submitted month and its 回执: enterprise users only. Every month in a URL must lie in the
report window (current month and the 补报 months), else 404; only the 回执 of any submitted month
may be printed again later."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from lib.access import posted, role_required
from reports.catalogue import catalogue_for, snapshot
from reports.forms import (
    AnswerSheet,
    IndicatorTable,
    ProductRows,
    basic_info_facts,
    basic_info_form,
    expected_version,
    explanations_posted,
    new_product_row,
    product_rows_from_lines,
    with_posted_reasons,
)
from reports.models import Report
from reports.periods import Period, current_report_month
from reports.questionnaires import questionnaires_for
from reports.receipt import has_receipt, receipt_context
from reports.selectors import get_own_report, month_summaries, return_reasons
from reports.services import (
    FieldError,
    KeyChangeNeedsConfirmation,
    ReportInputError,
    carried_products,
    last_year_prefill,
    report_or_draft,
    save_answers,
    save_basic_info,
    save_explanations,
    save_indicators,
    save_products,
    stored_values,
    submit,
    unanswered_questionnaires,
    validate_report,
)
from reports.workflow import (
    PeriodError,
    TransitionError,
    check_period_open,
    open_periods,
    withdraw_report,
)

enterprise_only = role_required(User.Type.ENTERPRISE)

STEPS = (
    ("basic", "填写企业基本信息"),
    ("indicators", "填写企业主要经济指标月报"),
    ("products", "填写企业主要产品产销存月报"),
    ("questionnaires", "应用情况调查问卷"),
)
STEP_OF_FIELD = {
    "basic_info": "basic",
    "indicators": "indicators",
    "explanations": "indicators",
    "products": "products",
}


# --- Shared -------------------------------------------------------------------------------------


def _open(period: str) -> Period:
    try:
        return check_period_open(period)
    except PeriodError:
        raise Http404("该报表月份不在可填报的范围内。") from None


def _wizard(request: HttpRequest, period: Period, report: Report | None, step: str) -> dict:
    user: Any = request.user
    info = (report.basic_info if report else None) or {}
    status = report.status if report else Report.Status.DRAFT
    returned = return_reasons([report]).get(report.pk) if report else None
    return {
        "period": period,
        "report": report,
        "step": step,
        "steps": [(n, key, label) for n, (key, label) in enumerate(STEPS, start=1)],
        "step_number": [key for key, _ in STEPS].index(step) + 1,
        "company": info.get("enterprise_name") or user.enterprise.name,
        "code": info.get("code") or user.enterprise.code,
        "version": _version(request, report),
        "editable": report is None or report.is_editable,
        "status": status,
        "returned": returned,
    }


def _version(request: HttpRequest, report: Report | None) -> object:
    """The version the page's data is based on: after a refused post, still the posted one,
    so that a stale page stays stale until it is reloaded."""
    if request.method == "POST":
        return request.POST.get("version", "")
    return report.version if report else ""


def _after_save(request: HttpRequest, period: Period, step: str) -> HttpResponse:
    """保存 stays on the step; 下一步 (and 确定) go on to the next one."""
    if request.POST.get("action") == "save":
        messages.success(request, "已保存。")
        return redirect(f"reports:{step}", period)
    keys = [key for key, _ in STEPS]
    return redirect(f"reports:{keys[min(keys.index(step) + 1, len(keys) - 1)]}", period)


# --- Entry points ---------------------------------------------------------------------------------


@enterprise_only
def current(request: HttpRequest) -> HttpResponse:
    return redirect("reports:basic", current_report_month())


@enterprise_only
def wizard(request: HttpRequest, period: str) -> HttpResponse:
    return redirect("reports:basic", _open(period))


# --- Step 1 ---------------------------------------------------------------------------------------


@enterprise_only
def basic(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    user: Any = request.user
    report = get_own_report(user, str(p))
    form = basic_info_form(user.enterprise, str(p), report, posted(request))
    confirm = None
    if request.method == "POST":
        try:
            outcome = save_basic_info(
                user,
                p,
                form,
                confirm_key_change=request.POST.get("confirm_key_change") == "1",
                expected_version=expected_version(request.POST),
            )
        except ReportInputError:
            pass  # the bound form holds its errors
        except KeyChangeNeedsConfirmation as exc:
            confirm = str(exc)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            if outcome.frozen:
                messages.info(request, "关键信息变更已提交国家高级管理员审核，本月报表已冻结。")
                return redirect("reports:basic", p)
            return _after_save(request, p, "basic")
    context = _wizard(request, p, report, "basic")
    context.update(form=form, confirm=confirm)
    return render(request, "reports/basic.html", context)


# --- Step 2 ---------------------------------------------------------------------------------------


def _indicator_table(user: User, p: Period, report: Report | None, data: Any) -> IndicatorTable:
    catalogue = (report.catalogue if report else None) or snapshot(catalogue_for(p))
    stored = stored_values(report) if report and data is None else {}
    prefill = last_year_prefill(report or report_or_draft(user, p)) if data is None else {}
    return IndicatorTable(catalogue, data, stored, prefill)


def _post_indicators(
    request: HttpRequest, p: Period, table: IndicatorTable
) -> tuple[bool, Report | None]:
    """Save the figures and, on 【确定】, the reasons. (done, the report if saved): done when
    no hard error and no unexplained warning stands in the way of the next step."""
    user: Any = request.user
    action = request.POST.get("action")
    try:
        version = expected_version(request.POST)
        outcome = save_indicators(user, p, table.raw(), expected_version=version)
    except (ReportInputError, TransitionError) as exc:
        _show_error(table, exc)
        return False, None
    report, warnings = outcome.report, outcome.result.warnings
    if action == "confirm" and warnings:
        reasons = explanations_posted(request.POST, warnings)
        try:
            return True, save_explanations(user, p, reasons, expected_version=report.version)
        except (ReportInputError, TransitionError) as exc:
            _show_error(table, exc)
            warnings = with_posted_reasons(warnings, reasons)
    elif action == "save" or all(w.explanation.strip() for w in warnings):
        return True, report
    table.add_warnings(warnings)
    return False, report


def _show_error(table: IndicatorTable, exc: ReportInputError | TransitionError) -> None:
    if isinstance(exc, ReportInputError):
        table.add_errors(exc.errors)
    else:
        table.errors.append(exc.message)


@enterprise_only
def indicators(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    user: Any = request.user
    report = get_own_report(user, str(p))
    table = _indicator_table(user, p, report, posted(request))
    saved = None
    if request.method == "POST":
        done, saved = _post_indicators(request, p, table)
        if done:
            return _after_save(request, p, "indicators")
    elif report is not None and table.has_stored:
        # Coming back to step 2: the warnings of the saved figures, with the reasons given.
        table.add_warnings(validate_report(report).warnings)
    context = _wizard(request, p, saved or report, "indicators")
    context["table"] = table
    if saved is not None:  # saved with warnings to explain: the next post builds on this
        context["version"] = saved.version
    return render(request, "reports/indicators.html", context)


# --- Step 3 ---------------------------------------------------------------------------------------


@enterprise_only
def products(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    user: Any = request.user
    report = get_own_report(user, str(p))
    errors: list[str] = []
    if request.method == "POST":
        posted_rows = ProductRows(request.POST)
        try:
            save_products(
                user, p, posted_rows.raw(), expected_version=expected_version(request.POST)
            )
        except ReportInputError as exc:
            posted_rows.add_errors(exc.errors)
        except TransitionError as exc:
            posted_rows.errors.append(exc.message)
        else:
            return _after_save(request, p, "products")
        rows, errors = posted_rows.rows, posted_rows.errors
    else:
        lines = list(report.products.all()) if report else []
        rows = product_rows_from_lines(
            lines or carried_products(report or report_or_draft(user, p))
        )
    context = _wizard(request, p, report, "products")
    context.update(rows=rows, errors=errors)
    return render(request, "reports/products.html", context)


@enterprise_only
@require_GET
def product_row(request: HttpRequest, period: str) -> HttpResponse:
    """One empty product row for 【新增产品】 (htmx appends it to the table)."""
    _open(period)
    return render(request, "reports/_product_row.html", {"row": new_product_row()})


# --- Step 4 and submission ------------------------------------------------------------------------


def _questionnaire_context(request: HttpRequest, p: Period, report: Report | None) -> dict:
    context = _wizard(request, p, report, "questionnaires")
    all_of_month = questionnaires_for(str(p))
    missing = {q.pk for q in unanswered_questionnaires(report)} if report else None
    context["questionnaires"] = [
        (q, missing is not None and q.pk not in missing) for q in all_of_month
    ]
    return context


@enterprise_only
def questionnaires(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    report = get_own_report(request.user, str(p))  # type: ignore[arg-type]
    return render(
        request, "reports/questionnaires.html", _questionnaire_context(request, p, report)
    )


@enterprise_only
def questionnaire(request: HttpRequest, period: str, pk: int) -> HttpResponse:
    p = _open(period)
    user: Any = request.user
    report = get_own_report(user, str(p))
    chosen = next((q for q in questionnaires_for(str(p)) if q.pk == pk), None)
    if chosen is None:
        raise Http404("本月没有该问卷。")
    stored = dict(report.answers.values_list("question_id", "value")) if report else {}
    sheet = AnswerSheet(chosen, posted(request), stored)
    if request.method == "POST":
        try:
            save_answers(user, p, pk, sheet.raw(), expected_version=expected_version(request.POST))
        except ReportInputError as exc:
            sheet.add_errors(exc.errors)
        except TransitionError as exc:
            sheet.errors.append(exc.message)
        else:
            messages.success(request, f"问卷《{chosen.title}》已保存。")
            return redirect("reports:questionnaires", p)
    context = _wizard(request, p, report, "questionnaires")
    context["sheet"] = sheet
    return render(request, "reports/questionnaire.html", context)


def _problem_links(period: Period, errors: list[FieldError]) -> list[tuple[str, str, str]]:
    """(message, link, step label) for each thing that blocks 上报."""
    labels = dict(STEPS)
    out = []
    for error in errors:
        head, _, rest = error.field.partition(".")
        if head == "questionnaires" and rest.isdigit():
            url = reverse("reports:questionnaire", args=[period, int(rest)])
            out.append((error.message, url, labels["questionnaires"]))
            continue
        step = STEP_OF_FIELD.get(head.split("[")[0], "questionnaires")
        out.append((error.message, reverse(f"reports:{step}", args=[period]), labels[step]))
    return out


@enterprise_only
@require_POST
def submit_view(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    user: Any = request.user
    report = get_own_report(user, str(p))
    try:
        if report is None:
            raise ReportInputError(
                [FieldError("basic_info", "required", "请先填写企业基本情况表。")]
            )
        submit(user, report)
    except ReportInputError as exc:
        context = _questionnaire_context(request, p, report)
        context["problems"] = _problem_links(p, exc.errors)
        return render(request, "reports/questionnaires.html", context)
    except TransitionError as exc:
        messages.error(request, exc.message)
        return redirect("reports:questionnaires", p)
    messages.success(request, "上报成功，报表状态：待审核")
    return redirect("portal:home")


@enterprise_only
@require_POST
def withdraw(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    report = get_own_report(request.user, str(p))  # type: ignore[arg-type]
    if report is None:
        raise Http404("该月还没有报表。")
    try:
        withdraw_report(report, request.user)  # type: ignore[arg-type]
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{p} 报表已撤销上报，报表状态：编辑。")
    return redirect("reports:history")


# --- History and the read-only view ---------------------------------------------------------------


@enterprise_only
def history(request: HttpRequest) -> HttpResponse:
    months = month_summaries(request.user, open_periods())  # type: ignore[arg-type]
    return render(request, "reports/history.html", {"months": months, "Status": Report.Status})


@enterprise_only
def view(request: HttpRequest, period: str) -> HttpResponse:
    p = _open(period)
    report = get_own_report(request.user, str(p))  # type: ignore[arg-type]
    if report is None:
        raise Http404("该月还没有报表。")
    stored = dict(report.answers.values_list("question_id", "value"))
    context = _wizard(request, p, report, "basic")
    context.update(
        facts=basic_info_facts(report.basic_info or {}),
        table=IndicatorTable(report.catalogue, stored=stored_values(report)),
        rows=product_rows_from_lines(list(report.products.all())),
        sheets=[AnswerSheet(q, stored=stored) for q in questionnaires_for(str(p))],
    )
    return render(request, "reports/view.html", context)


@enterprise_only
def receipt(request: HttpRequest, period: str) -> HttpResponse:
    """回执 of a submitted month, for printing; 404 before the first submission. Any month,
    not only those of the report window: a receipt may be printed again years later."""
    try:
        p = Period.parse(period)
    except ValueError:
        raise Http404("报表月份不存在。") from None
    report = get_own_report(request.user, str(p))  # type: ignore[arg-type]
    if report is None or not has_receipt(report):
        raise Http404("该月报表尚未上报，没有回执。")
    return render(request, "reports/receipt.html", receipt_context(report))
