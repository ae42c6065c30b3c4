"""上报导入 pages: the enterprise's data template and import (/transfer/import/), and the
administrators' bulk import (/transfer/bulk/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.administrators import may_manage_administrators
from accounts.models import User
from jobs.models import Job
from jobs.runner import enqueue
from lib.access import role_required
from reports.models import Report
from reports.periods import Period
from reports.selectors import get_own_report
from reports.workflow import PeriodError, TransitionError, check_period_open, open_periods
from transfer.bulk import BULK_KIND, bulk_template
from transfer.imports import import_template
from transfer.reader import WorkbookRefused, size_limit, size_limit_message
from transfer.template import build_template
from transfer.xlsx import XLSX

enterprise_only = role_required(User.Type.ENTERPRISE)


def _open_period(text: str | None) -> Period:
    """A month that may be reported now (reports.workflow.check_period_open), else 404."""
    try:
        return check_period_open(text or "")
    except PeriodError:
        raise Http404("该报表月份不在可填报的范围内。") from None


def _months(user: Any) -> list[dict[str, Any]]:
    reports = {
        r.period: r
        for r in Report.objects.filter(enterprise_id=user.enterprise_id).only("period", "status")
    }
    months = []
    for period in open_periods():
        report = reports.get(str(period))
        status = report.get_status_display() if report else "未填报"
        editable = report is None or report.is_editable
        months.append({"period": str(period), "status": status, "editable": editable})
    return months


@enterprise_only
def template_download(request: HttpRequest) -> HttpResponse:
    """GET ?period=YYYY-MM: the month's data template, pre-filled."""
    user: Any = request.user
    period = _open_period(request.GET.get("period"))
    report = get_own_report(user, str(period))
    content = build_template(user.enterprise, period, report)
    response = HttpResponse(content, content_type=XLSX)
    name = f"数据模板-{user.enterprise.code}-{period}.xlsx"
    response["Content-Disposition"] = _attachment(name)
    return response


@enterprise_only
def report_download(request: HttpRequest) -> HttpResponse:
    """GET ?period=YYYY-MM: the enterprise's own filled month as a workbook (the template's
    layout, with what was saved); 404 for a month it has not started."""
    user: Any = request.user
    try:
        period = Period.parse(request.GET.get("period", ""))
    except ValueError:
        raise Http404("报表月份不正确。") from None
    report = get_own_report(user, str(period))
    if report is None:
        raise Http404("该月报表尚未填报。")
    response = HttpResponse(build_template(user.enterprise, period, report), content_type=XLSX)
    response["Content-Disposition"] = _attachment(f"月报-{user.enterprise.code}-{period}.xlsx")
    return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"template.xlsx\"; filename*=UTF-8''{quote(name)}"


@enterprise_only
def import_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    months = _months(user)
    choosable = [m["period"] for m in months if m["editable"]]
    context: dict[str, Any] = {
        "months": months,
        "chosen": request.POST.get("period") or (choosable[0] if choosable else ""),
        "filler": request.POST.get("filler", user.enterprise.contact_person),
        "dry_run": request.POST.get("dry_run") == "1",
        "max_size": size_limit(),
    }
    if request.method != "POST":
        return render(request, "transfer/import.html", context)

    form_errors = {}
    period = None
    try:
        period = _open_period(request.POST.get("period"))
    except Http404:
        form_errors["period"] = "请选择报表月份。"
    filler = request.POST.get("filler", "").strip().replace("\x00", "")
    if not filler:
        form_errors["filler"] = "请填写填报人。"
    elif len(filler) > 30:
        form_errors["filler"] = "填报人不能超过30个字。"
    upload = request.FILES.get("file")
    if upload is None:
        form_errors["file"] = "请选择要导入的数据模板文件。"
    elif upload.size > _max_bytes():
        context.update(form_errors={"file": size_limit_message()})
        return render(request, "transfer/import.html", context, status=413)
    if form_errors:
        context["form_errors"] = form_errors
        return render(request, "transfer/import.html", context, status=400)
    assert period is not None and upload is not None
    try:
        outcome = import_template(
            user,
            period,
            upload,
            filename=upload.name or "",
            filler=filler,
            size=upload.size,
            dry_run=context["dry_run"],
        )
    except WorkbookRefused as exc:
        context["form_errors"] = {"file": exc.message}
        return render(request, "transfer/import.html", context, status=exc.status)
    except (TransitionError, PeriodError) as exc:
        context["form_errors"] = {"file": getattr(exc, "message", str(exc))}
        return render(request, "transfer/import.html", context, status=409)
    context["outcome"] = outcome
    context["rows"] = list(zip(outcome.errors, outcome.labels, strict=False))
    if outcome.errors:
        return render(request, "transfer/import.html", context, status=400)
    if outcome.saved:
        note = (
            f"{period} 月数据已导入（指标 {outcome.indicators} 个，产品 {outcome.products} 种）。"
        )
        note += "请逐步核对，完成原因说明和问卷后上报。"
        if outcome.ignored_sheets:
            note += f"已忽略模板以外的工作表：{'、'.join(outcome.ignored_sheets)}。"
        messages.success(request, note)
        return redirect("reports:basic", str(period))
    return render(request, "transfer/import.html", context)


def _max_bytes() -> int:
    from django.conf import settings

    return int(settings.IMPORT_MAX_BYTES)


# --- Administrators' bulk import ---------------------------------------------------------------

admins_only = role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)


def _bulk_admin(user: Any) -> None:
    """National administrators and those of a province import for many enterprises; 404 else."""
    if not may_manage_administrators(user):
        raise Http404


@admins_only
def bulk_template_download(request: HttpRequest) -> FileResponse:
    _bulk_admin(request.user)
    period = _open_period(request.GET.get("period"))
    out = bulk_template(request.user, period)  # type: ignore[arg-type]
    return FileResponse(
        out, as_attachment=True, filename=f"批量导入模板-{period}.xlsx", content_type=XLSX
    )


@admins_only
def bulk_import_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _bulk_admin(user)
    months = [str(p) for p in open_periods()]
    context: dict[str, Any] = {
        "months": months,
        "chosen": request.POST.get("period") or months[0],
        "dry_run": request.POST.get("dry_run") == "1",
        "max_size": size_limit(),
        "jobs": Job.objects.filter(owner=user, kind=BULK_KIND)[:10],
    }
    if request.method != "POST":
        return render(request, "transfer/bulk.html", context)
    errors: dict[str, str] = {}
    try:
        period = _open_period(request.POST.get("period"))
    except Http404:
        errors["period"] = "请选择报表月份。"
    upload = request.FILES.get("file")
    status = 400
    if upload is None:
        errors["file"] = "请选择要导入的批量导入模板文件。"
    elif upload.size > _max_bytes():
        errors["file"] = size_limit_message()
        status = 413
    if errors:
        context["form_errors"] = errors
        return render(request, "transfer/bulk.html", context, status=status)
    assert upload is not None
    label = "批量导入校验" if context["dry_run"] else "批量导入"
    job = Job(
        kind=BULK_KIND,
        title=f"{period} 月报{label}（{upload.name}）"[:200],
        owner=user,
        params={"period": str(period), "dry_run": context["dry_run"]},
        input_name=(upload.name or "")[:200],
    )
    job.input_file.save(f"bulk-{user.pk}.xlsx", upload, save=False)
    job.save()
    enqueue(job)
    return redirect("jobs:detail", job.pk)
