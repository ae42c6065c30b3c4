"""The refusals an operation makes before its input is read: the role it is for (403) and the
object its path names (404 when unknown or outside the caller's scope), run by api.auth in
ninja's authentication step, ahead of the validation of the body.

The rules are not written here: the objects come from the shared scope getters
(review.selectors, through reports.selectors.reports_visible_to), the months from
reports.workflow.check_period_open and the steps' roles from the workflow's own check. What a gate
found is kept on the request, so the operation uses that object instead of fetching it again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest
from ninja.errors import HttpError

from accounts.models import User
from api.auth import Gate
from reports.models import KeyChangeRequest, Report
from reports.periods import Period
from reports.selectors import NOT_FOUND
from reports.workflow import PeriodError, TransitionError, check_period_open, check_role
from review.selectors import get_key_change_for_user, get_report_for_review

ENTERPRISES_ONLY = "只有企业用户可以填报月报。"
CHANGE_NOT_FOUND = "关键信息变更申请不存在或不在您的管理范围内。"


@dataclass
class PathObjects:
    """What the path of the current call names, as the gates found it."""

    month: Period | None = None
    report: Report | None = None
    change: KeyChangeRequest | None = None


def path_objects(request: HttpRequest) -> PathObjects:
    found = getattr(request, "api_path_objects", None)
    if found is None:
        found = PathObjects()
        request.api_path_objects = found  # type: ignore[attr-defined]
    return found


def _path_value(request: HttpRequest, name: str) -> str | None:
    # The URL's own parameters, as Django resolved them: ninja has not read them yet.
    match = request.resolver_match
    return None if match is None else match.kwargs.get(name)


def gate(*checks: Gate) -> Gate:
    """The checks in order: the first refusal is the answer."""

    def run(request: HttpRequest, user: User) -> None:
        for check in checks:
            check(request, user)

    return run


# --- Roles -------------------------------------------------------------------------------------


def enterprises(request: HttpRequest, user: User) -> None:
    if not user.is_enterprise or user.enterprise_id is None:
        raise HttpError(403, ENTERPRISES_ONLY)


def administrators(message: str) -> Gate:
    def check(request: HttpRequest, user: User) -> None:
        if not user.is_administrator:
            raise HttpError(403, message)

    return check


def step(action: str) -> Gate:
    """Only the roles that may take the workflow's step (reports.workflow.TRANSITIONS): 403 with
    the workflow's own message. The step checks it again when it runs, on the locked row."""

    def check(request: HttpRequest, user: User) -> None:
        try:
            check_role(action, user)  # the role of a step is written once: TRANSITIONS
        except TransitionError as exc:
            raise HttpError(exc.status, exc.message) from None

    return check


# --- Objects of the path -----------------------------------------------------------------------


def open_month(request: HttpRequest, user: User) -> None:
    """`{period}`: a month the enterprise may report now, in its one spelling YYYY-MM; else 404,
    as for a report that is not there."""
    text = _path_value(request, "period")
    if text is not None:
        path_objects(request).month = month_of(text)


def month_of(text: str) -> Period:
    try:
        period = check_period_open(text)
    except PeriodError:
        raise HttpError(404, NOT_FOUND) from None
    if str(period) != text:  # "2026-1", " 2026-10": only the canonical spelling names a month
        raise HttpError(404, NOT_FOUND)
    return period


def report_in_scope(request: HttpRequest, user: User) -> None:
    """`{report_id}`: a report within the administrator's region (review.selectors)."""
    pk = _path_value(request, "report_id")
    if pk is not None:
        path_objects(request).report = report_of(user, pk)


def report_of(user: User, pk: Any) -> Report:
    try:
        return get_report_for_review(user, pk)
    except Http404:
        raise HttpError(404, NOT_FOUND) from None


def change_in_scope(request: HttpRequest, user: User) -> None:
    """`{change_id}`: a key-information change request within the caller's region."""
    pk = _path_value(request, "change_id")
    if pk is not None:
        path_objects(request).change = change_of(user, pk)


def change_of(user: User, pk: Any) -> KeyChangeRequest:
    try:
        return get_key_change_for_user(user, pk)
    except (Http404, OverflowError):
        raise HttpError(404, CHANGE_NOT_FOUND) from None


# What the operations read: the gate's object, or the same lookup when no gate ran.
def path_month(request: HttpRequest, text: str) -> Period:
    return path_objects(request).month or month_of(text)


def path_report(request: HttpRequest, user: User, pk: Any) -> Report:
    return path_objects(request).report or report_of(user, pk)


def path_change(request: HttpRequest, user: User, pk: Any) -> KeyChangeRequest:
    return path_objects(request).change or change_of(user, pk)
