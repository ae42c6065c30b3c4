"""Which reports a user may see: the one place that decides, for pages, the API and the workflow
services. An enterprise sees its own reports, a local administrator those of the enterprises in
its region (and below it), a national senior administrator all of them. Everything else is 404,
so that nobody learns whether another enterprise's report exists."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from directory.models import Enterprise
from reports.catalogue import report_type_labels
from reports.models import Report, ReportEvent
from reports.periods import Period

NOT_FOUND = "报表不存在或不在您的管理范围内。"


def counts_generation_key(period: str) -> str:
    """The cache key whose value changes with every status change of the month's reports."""
    return f"reports:generation:{period}"


def reports_visible_to(user: User) -> QuerySet[Report]:
    # The enterprise and its region come along: every list shows them, and one query stays one.
    qs = Report.objects.select_related("enterprise__region")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.is_senior_admin:
        return qs
    if user.is_local_admin and user.region_id is not None:
        return qs.filter(enterprise__in=Enterprise.objects.within(user.region))
    if user.is_enterprise and user.enterprise_id is not None:
        return qs.filter(enterprise_id=user.enterprise_id)
    return qs.none()


def enterprises_visible_to(user: User) -> QuerySet[Enterprise]:
    """The enterprises whose reports `user` may see and act on: the same rule as the reports."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Enterprise.objects.none()
    if user.is_senior_admin:
        return Enterprise.objects.all()
    if user.is_local_admin and user.region_id is not None:
        return Enterprise.objects.within(user.region)
    if user.is_enterprise and user.enterprise_id is not None:
        return Enterprise.objects.filter(pk=user.enterprise_id)
    return Enterprise.objects.none()


def enterprise_in_scope(user: User, enterprise: Enterprise) -> bool:
    """The rule of enterprises_visible_to for one enterprise already in hand (no query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_senior_admin:
        return True
    if user.is_local_admin and user.region is not None:
        return str(enterprise.region_id).startswith(user.region.prefix)
    return bool(user.is_enterprise and user.enterprise_id == enterprise.pk)


def get_report_for_user(user: User, pk: int | str) -> Report:
    try:
        return reports_visible_to(user).get(pk=pk)
    except (Report.DoesNotExist, ValueError, TypeError):
        # A malformed id is as unknown as a foreign one.
        raise Http404(NOT_FOUND) from None


def get_own_report(user: User, period: str) -> Report | None:
    """The enterprise's report of a month, or None while the month has not been started."""
    if not getattr(user, "is_enterprise", False):
        raise Http404(NOT_FOUND)
    return reports_visible_to(user).filter(period=period).first()


@dataclass
class MonthSummary:
    period: Period
    report: Report | None
    type_label: str
    return_reason: str | None


def month_summaries(user: User, periods: list[Period]) -> list[MonthSummary]:
    """The enterprise's report of each month with its return reason and 报表类型, in at most
    3 queries whatever the number of months."""
    reports = reports_visible_to(user).filter(period__in=[str(p) for p in periods])
    by_period = {r.period: r for r in reports}
    reasons = return_reasons(list(by_period.values()))
    counts = {p: len(r.catalogue) for p, r in by_period.items() if r.catalogue}
    labels = report_type_labels(periods, counts)
    out = []
    for period in periods:
        report = by_period.get(str(period))
        reason = reasons.get(report.pk) if report else None
        out.append(MonthSummary(period, report, labels[str(period)], reason))
    return out


def return_reasons(reports: list[Report]) -> dict[int, ReportEvent]:
    """The latest return (审核退回) of each report that is returned now; no query if none is."""
    ids = [r.pk for r in reports if r.status == Report.Status.RETURNED]
    if not ids:
        return {}
    events = ReportEvent.objects.filter(report_id__in=ids, to_status=Report.Status.RETURNED)
    return {e.report_id: e for e in events.order_by("at", "id")}
