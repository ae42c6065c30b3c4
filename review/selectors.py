"""What an administrator reviews: the worklist with its filters and keyset paging, the counts per
status, and the key-information change requests in scope. Scope comes from
reports.selectors.reports_visible_to, the one rule for pages and API alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from directory.models import Industry, Region
from reports.content import Change, changes
from reports.models import Explanation, KeyChangeRequest, Report
from reports.periods import Period
from reports.selectors import counts_generation_key, get_report_for_user, reports_visible_to
from reports.workflow import SUBMISSIONS

PAGE_SIZE = 50
REVIEW_STATUSES = (
    Report.Status.PENDING,
    Report.Status.RETURNED,
    Report.Status.APPROVED,
    Report.Status.FROZEN,
    Report.Status.UNFROZEN,
    Report.Status.DRAFT,
)


@dataclass
class WorklistFilter:
    period: Period
    status: str | None = Report.Status.PENDING
    region: str | None = None
    industry: str | None = None
    late: bool | None = None
    explained: bool | None = None
    level: str | None = None
    after: int | None = None  # keyset cursor: the last id of the previous page


def deadline_moment(period: Period) -> dt.datetime:
    """The end of the deadline day, Asia/Shanghai: submitted after it counts as late."""
    day = period.deadline + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day))


def industry_filter(code: str) -> Q:
    """Enterprises whose 小类 lies under `code` (a section letter, or a 2-4 digit code)."""
    if code.isdigit():
        return Q(enterprise__industry__code__startswith=code)
    divisions = Industry.objects.filter(parent_id=code).values_list("code", flat=True)
    q = Q(pk__in=[])
    for division in divisions:
        q |= Q(enterprise__industry__code__startswith=division)
    return q


def scoped(user: User, period: Period) -> QuerySet[Report]:
    return reports_visible_to(user).filter(period=str(period))


def worklist(user: User, f: WorklistFilter) -> tuple[list[Report], int | None]:
    """One page of the worklist (newest id last) and the cursor of the next page, or None."""
    qs = worklist_queryset(user, f)
    if f.after:
        qs = qs.filter(pk__gt=f.after)
    rows = list(qs[: PAGE_SIZE + 1])
    next_cursor = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_cursor


def worklist_queryset(user: User, f: WorklistFilter) -> QuerySet[Report]:
    """Every report of the filter in id order, each annotated with `explained`; the cursor
    (`f.after`) is the caller's: the page takes one slice, the export all of them."""
    qs = scoped(user, f.period).select_related("enterprise__region")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.region:
        qs = qs.filter(enterprise__region__code__startswith=_region_prefix(f.region))
    if f.industry:
        qs = qs.filter(industry_filter(f.industry))
    if f.late is not None:
        after_deadline = Q(submitted_at__gte=deadline_moment(f.period))
        qs = (
            qs.filter(after_deadline)
            if f.late
            else qs.filter(submitted_at__isnull=False).exclude(after_deadline)
        )
    if f.explained is not None:
        has = Exists(Explanation.objects.filter(report=OuterRef("pk")))
        qs = qs.filter(has) if f.explained else qs.exclude(has)
    if f.level:
        qs = qs.filter(review_level=f.level)
    return qs.annotate(
        explained=Exists(Explanation.objects.filter(report=OuterRef("pk")))
    ).order_by("pk")


def _region_prefix(code: str) -> str:
    region = Region.objects.filter(pk=code).first()
    if region is None:
        raise Http404("地区不存在。")
    return region.prefix


COUNTS_SECONDS = 60


def status_counts(user: User, period: Period) -> dict[str, int]:
    """Reports per status for the month in the user's scope: one grouped query, kept for a
    minute per scope and month so that paging and filtering do not count the whole month on
    every click. Any status change of the month (reports.workflow) starts a new generation, so
    the counts a reviewer sees after acting are fresh."""
    region = user.home_region
    generation = cache.get_or_set(counts_generation_key(str(period)), 0)
    key = f"review:counts:{region.prefix if region else 'all'}:{period}:{generation}"
    counts = cache.get(key)
    if counts is None:
        rows = scoped(user, period).values("status").annotate(n=Count("pk"))
        counts = {status: 0 for status in Report.Status.values}
        counts.update({row["status"]: row["n"] for row in rows})
        cache.set(key, counts, COUNTS_SECONDS)
    return counts


def get_report_for_review(user: User, pk: Any) -> Report:
    if not user.is_administrator:
        raise Http404
    return get_report_for_user(user, pk)


def key_changes_visible_to(user: User) -> QuerySet[KeyChangeRequest]:
    """National administrators decide every request; local administrators read those of their
    region (read-only); enterprises none here."""
    if not user.is_administrator:
        return KeyChangeRequest.objects.none()
    return KeyChangeRequest.objects.filter(
        report__in=reports_visible_to(user).values("pk")
    ).select_related("report__enterprise__region", "requested_by", "decided_by")


def get_key_change_for_user(user: User, pk: Any) -> KeyChangeRequest:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(key_changes_visible_to(user), pk=pk)


def resubmission_changes(report: Report) -> list[Change]:
    """What the latest submission changed against the one before it (the version a reviewer
    returned), from the contents the submit events keep. Empty for a first submission."""
    contents = [
        (details or {}).get("content")
        for details in report.events.filter(action__in=SUBMISSIONS)
        .order_by("-at", "-id")
        .values_list("details", flat=True)[:2]
    ]
    if len(contents) < 2 or not all(contents):
        return []
    after, before = contents
    return changes(before, after, report)
