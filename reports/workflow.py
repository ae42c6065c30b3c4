"""The status workflow of a month's report (PRODUCT.md "Status of a month's report"): one service
function per transition, as pretix does it. Each one opens a transaction, locks the report row
through the scope selector (a report outside the actor's scope is 404), checks the actor's role
(403) and the current status (409), saves with `update_fields` and writes the ReportEvent audit
entry. Side effects (mail, reminders) belong after commit, through `transaction.on_commit`; there
are none yet.

Who may do what from which status is the table TRANSITIONS below, and nowhere else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from audit.context import current_ip
from directory.models import Enterprise
from lib.memo import remember
from reports.catalogue import catalogue_for, snapshot
from reports.content import Change
from reports.models import KeyChangeRequest, Report, ReportEvent
from reports.periods import Period, current_report_month
from reports.selectors import (
    NOT_FOUND,
    counts_generation_key,
    enterprise_in_scope,
    reports_visible_to,
)
from reports.signals import status_changed

Status = Report.Status
Role = User.Type


class TransitionError(Exception):
    """A step that is not allowed: by the report's status (409), by the actor's role (403), or
    by what the request carries (400: a missing reason, a failed validation). The message is
    meant for the user, in Chinese."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class PeriodError(ValueError):
    """A month that may not be reported: not yet over, or older than the 补报 window."""


class Action(models.TextChoices):
    """What a ReportEvent records; the labels complete "不能…" and "只有…可以…"."""

    CREATE = "create", "创建报表"
    SUBMIT = "submit", "上报"
    WITHDRAW = "withdraw", "撤销"
    FREEZE = "freeze", "变更关键信息"
    APPROVE_CHANGE = "approve_change", "解除冻结"
    RETURN_CHANGE = "return_change", "退回关键信息变更"
    RETURN = "return", "审核退回"
    APPROVE_LOCAL = "approve_local", "地方审核通过"
    APPROVE = "approve", "审核通过"
    REOPEN = "reopen", "重新打开"
    IMPORT = "import", "代为导入上报"
    # Not a transition: a save that changed a month submitted before (the audit of its data).
    EDIT = "edit", "修改数据"


# The events that submit a month and keep its content (the resubmission diff, the audit of edits).
SUBMISSIONS = (Action.SUBMIT, Action.IMPORT)


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    needs_reason: bool = False


# The whole status matrix. Enterprise users act on their own reports only and administrators
# inside their region only: that is the scope selector's rule, applied when the row is locked.
TRANSITIONS: dict[str, Transition] = {
    Action.SUBMIT: Transition(Report.EDITABLE, Status.PENDING, (Role.ENTERPRISE,)),
    Action.WITHDRAW: Transition((Status.PENDING,), Status.DRAFT, (Role.ENTERPRISE,)),
    Action.FREEZE: Transition(Report.EDITABLE, Status.FROZEN, (Role.ENTERPRISE,)),
    Action.APPROVE_CHANGE: Transition((Status.FROZEN,), Status.UNFROZEN, (Role.SENIOR_ADMIN,)),
    Action.RETURN_CHANGE: Transition(
        (Status.FROZEN,), Status.RETURNED, (Role.SENIOR_ADMIN,), needs_reason=True
    ),
    Action.RETURN: Transition(
        (Status.PENDING,),
        Status.RETURNED,
        (Role.LOCAL_ADMIN, Role.SENIOR_ADMIN),
        needs_reason=True,
    ),
    # Local approval passes the report on to national review: still 待审核, next level national.
    Action.APPROVE_LOCAL: Transition((Status.PENDING,), Status.PENDING, (Role.LOCAL_ADMIN,)),
    Action.APPROVE: Transition((Status.PENDING,), Status.APPROVED, (Role.SENIOR_ADMIN,)),
    Action.REOPEN: Transition(
        (Status.APPROVED,), Status.RETURNED, (Role.SENIOR_ADMIN,), needs_reason=True
    ),
    # An administrator's bulk import (data collected offline) submits the month in its own name.
    Action.IMPORT: Transition(
        Report.EDITABLE, Status.PENDING, (Role.LOCAL_ADMIN, Role.SENIOR_ADMIN)
    ),
}

ROLE_MESSAGES: dict[tuple[str, str], str] = {
    (Action.APPROVE, Role.LOCAL_ADMIN): "地方管理员审核通过后，报表转由国家高级管理员审核。",
}
REASON_MESSAGES: dict[str, str] = {
    Action.RETURN: "请填写退回原因。",
    Action.RETURN_CHANGE: "请填写退回原因。",
    Action.REOPEN: "请填写重新打开的原因。",
}
STALE_VERSION = "报表已在其他页面或程序中被修改，请刷新后重试。"
FIRST_REVIEWED = "审核员已开始审核，不能撤销。"
VALIDATION_FAILED = "报表还有未通过的校验：请修改错误，并为提示填写原因说明后再上报。"
KEY_INFO_UNCHANGED = "关键信息没有变化，无需申请变更。"
CHANGE_DECIDED = "该关键信息变更申请已处理，不能重复处理。"

# What a transition changes on the report; copied back onto the caller's instance.
STATE_FIELDS = (
    "status",
    "version",
    "submitted_at",
    "review_level",
    "first_reviewed_at",
    "updated_at",
)
ALREADY_LOCALLY_APPROVED = "该报表已通过地方审核，正在等待国家审核。"
AWAITING_LOCAL = "该报表正在等待地方审核，地方管理员审核通过后再由国家高级管理员审核。"
NATIONAL_REVIEW_ONLY = "该报表上报时所在地区没有地方管理员，由国家高级管理员审核。"


def _national_level_message(report: Report) -> str:
    """Why a local administrator may no longer act: its approval, or none was ever due."""
    return ALREADY_LOCALLY_APPROVED if report.first_reviewed_at else NATIONAL_REVIEW_ONLY


# --- Report months -----------------------------------------------------------------------------


def backfill_months() -> int:
    return settings.REPORT_BACKFILL_MONTHS


def open_periods(today: dt.date | None = None) -> list[Period]:
    """The months an enterprise may report, newest first: the current report month and the
    补报 window of the `REPORT_BACKFILL_MONTHS` months before it."""
    months = [current_report_month(today)]
    for _ in range(backfill_months()):
        months.append(months[-1].previous())
    return months


def check_period_open(period: Period | str, today: dt.date | None = None) -> Period:
    if isinstance(period, str):
        try:
            period = Period.parse(period)
        except ValueError as exc:
            raise PeriodError(str(exc)) from None
    months = open_periods(today)
    if period > months[0]:
        raise PeriodError(f"{period} 尚未到填报时间，当前报表月份为 {months[0]}。")
    if period < months[-1]:
        raise PeriodError(
            f"{period} 已超过补报期限，只能补报最近 {backfill_months()} 个月（{months[-1]} 起）。"
        )
    return period


# --- Shared steps ------------------------------------------------------------------------------


def _lock(report_pk: int, actor: User) -> Report:
    """The report row, locked, if the actor may see it; else 404 (the scope selector's rule)."""
    try:
        # `of` keeps the lock on the report: the joined enterprise and region rows stay free.
        return reports_visible_to(actor).select_for_update(of=("self",)).get(pk=report_pk)
    except Report.DoesNotExist:
        raise Http404(NOT_FOUND) from None


def check_role(action: str, actor: User) -> None:
    roles = TRANSITIONS[action].roles
    if actor.user_type in roles:
        return
    message = ROLE_MESSAGES.get((action, actor.user_type))
    if message is None:
        names = "或".join(str(Role(role).label) for role in roles)
        message = f"只有{names}可以{Action(action).label}。"
    raise TransitionError(message, status=403)


def _check_status(action: str, report: Report) -> None:
    if report.status not in TRANSITIONS[action].sources:
        raise TransitionError(
            f"该月报表当前状态为「{report.get_status_display()}」，不能{Action(action).label}。"
        )


def _begin(report_pk: int, actor: User, action: str) -> Report:
    report = _lock(report_pk, actor)
    check_role(action, actor)
    return report


def _reason(action: str, reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(REASON_MESSAGES[action], status=400)
    return reason


def _move(
    report: Report,
    action: str,
    actor: User,
    reason: str = "",
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> ReportEvent:
    """Put the locked report into the action's target status and write the audit entry."""
    from_status = report.status
    report.status = TRANSITIONS[action].target
    for name, value in fields.items():
        setattr(report, name, value)
    report.save(update_fields=["status", *fields, "updated_at"])
    _new_generation(report.period)
    status_changed.send(sender=Report, report=report, from_status=from_status)
    return _event(report, action, actor, from_status, reason=reason, details=details)


def _event(
    report: Report,
    action: str,
    actor: User,
    from_status: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> ReportEvent:
    return ReportEvent.objects.create(
        report=report,
        action=action,
        from_status=from_status,
        to_status=report.status,
        actor=actor,
        reason=reason,
        details=details or {},
        ip=current_ip(),
    )


def record_edit(report: Report, actor: User, changes: list[Change]) -> ReportEvent | None:
    """Keep what a save changed in a month that was submitted before; nothing if nothing did."""
    if not changes:
        return None
    return _event(
        report,
        Action.EDIT,
        actor,
        report.status,
        details={"changes": [change.as_dict() for change in changes]},
    )


def _new_generation(period: str) -> None:
    """Cached counts of the month (review.selectors.status_counts) are stale from now on."""
    key = counts_generation_key(period)
    cache.add(key, 0)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr: a fresh key is a new generation too
        cache.set(key, 1)


def _sync(stale: Report, fresh: Report) -> Report:
    """Copy the new state onto the caller's instance, so that it does not show the old status."""
    if stale is not fresh:
        for name in STATE_FIELDS:
            setattr(stale, name, getattr(fresh, name))
    return fresh


# --- Transitions -------------------------------------------------------------------------------


def start_report(
    enterprise_user: User, period: Period | str, method: str = Report.Method.ONLINE
) -> Report:
    """The enterprise's report of the month, created in 编辑 with a snapshot of the month's
    catalogue if it does not exist yet. Idempotent, and safe against a concurrent start (the
    unique constraint decides, get_or_create re-reads the winner's row)."""
    if not enterprise_user.is_enterprise or enterprise_user.enterprise_id is None:
        raise TransitionError("只有企业用户可以填报月报。", status=403)
    period = check_period_open(period)
    method = Report.Method(method)
    with transaction.atomic():
        report, created = Report.objects.get_or_create(
            enterprise_id=enterprise_user.enterprise_id,
            period=str(period),
            defaults={"method": method, "catalogue": lambda: snapshot(catalogue_for(period))},
        )
        if created:
            _event(report, Action.CREATE, enterprise_user, from_status="")
    return report


def check_editable(report: Report) -> None:
    if not report.is_editable:
        raise TransitionError(f"该月报表当前状态为「{report.get_status_display()}」，不能修改。")


def lock_for_edit(report: Report, actor: User, expected_version: int | None = None) -> Report:
    """Lock the report for a change of its content, or refuse: not the actor's report (404),
    not an enterprise user (403), a status that may not be edited or a version read before the
    last change (409). Call it inside the transaction that changes the content."""
    locked = _lock(report.pk, actor)
    if not actor.is_enterprise:
        raise TransitionError("只有企业用户可以修改报表。", status=403)
    check_editable(locked)
    if expected_version is not None and expected_version != locked.version:
        raise TransitionError(STALE_VERSION)
    return locked


def touch_for_edit(report: Report, actor: User, expected_version: int | None = None) -> Report:
    """lock_for_edit, then bump the version: every save of the report's content goes through
    here, so that a page or program holding an older version is refused. (What a save changes
    in a month submitted before is recorded by reports.services, around its writes.)"""
    with transaction.atomic():
        locked = lock_for_edit(report, actor, expected_version)
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
    return _sync(report, locked)


def submit_report(
    report: Report,
    actor: User,
    *,
    validation_ok: bool,
    content: dict[str, Any] | None = None,
) -> Report:
    """编辑 / 审核退回 / 解除冻结 → 待审核. The caller runs the validation engine (hard rules and
    unexplained soft rules) and passes its verdict, and the content submitted, which the audit
    entry keeps so that reviewers see what changed since a return."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.SUBMIT)
        _check_status(Action.SUBMIT, locked)
        if not validation_ok:
            raise TransitionError(VALIDATION_FAILED, status=400)
        # A new submission may be withdrawn again until its own first review.
        _move(
            locked,
            Action.SUBMIT,
            actor,
            details={"content": content} if content is not None else None,
            submitted_at=timezone.now(),
            first_reviewed_at=None,
            review_level=first_review_level(locked.enterprise_id),
        )
    return _sync(report, locked)


def start_import(
    enterprise: Enterprise,
    period: Period | str,
    actor: User,
    catalogue: dict[str, Any] | None = None,
) -> tuple[Report, bool]:
    """An administrator's bulk import: the enterprise's report of the month, created (in the
    administrator's name) if there is none, else locked and checked like any submission. Call
    inside the transaction that writes and submits it. A month created here is new to this
    transaction: nobody else can hold it, and a concurrent creation fails on the unique key."""
    period = check_period_open(period)
    if not enterprise_in_scope(actor, enterprise):  # scope first, then role, as _begin does
        raise Http404(NOT_FOUND)
    check_role(Action.IMPORT, actor)
    existing = (
        Report.objects.filter(enterprise_id=enterprise.pk, period=str(period))
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        locked = _lock(existing, actor)
        _check_status(Action.IMPORT, locked)
        return locked, False
    report = Report.objects.create(
        enterprise=enterprise,
        period=str(period),
        method=Report.Method.IMPORT,
        catalogue=catalogue or snapshot(catalogue_for(period)),
    )
    _event(report, Action.CREATE, actor, from_status="")
    return report, True


def submit_import(report: Report, actor: User, content: dict[str, Any]) -> Report:
    """The imported month goes to review like the enterprise's own submission (待审核, first level
    by its region), with 上报导入 as its method and the administrator as the submitter. The
    basic information written by the import is saved with the status."""
    _move(
        report,
        Action.IMPORT,
        actor,
        details={"content": content},
        basic_info=report.basic_info,
        method=Report.Method.IMPORT,
        version=report.version + 1,
        submitted_at=timezone.now(),
        first_reviewed_at=None,
        review_level=review_level_in(report.enterprise.region),  # locked with its region
    )
    return report


def withdraw_report(report: Report, actor: User) -> Report:
    """待审核 → 编辑 (撤销), only until a reviewer has acted on this submission."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.WITHDRAW)
        _check_status(Action.WITHDRAW, locked)
        if locked.first_reviewed_at is not None:
            raise TransitionError(FIRST_REVIEWED)
        # Withdrawn means not submitted: the submission time stays in the audit trail only.
        _move(locked, Action.WITHDRAW, actor, submitted_at=None)
    return _sync(report, locked)


def freeze_report(
    report: Report, actor: User, old_values: dict[str, Any], new_values: dict[str, Any]
) -> KeyChangeRequest:
    """A confirmed change of 企业名称, organisation code or 所属行业: the month becomes 冻结 and
    a change request goes to the national senior administrators."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.FREEZE)
        _check_status(Action.FREEZE, locked)
        if old_values == new_values:
            raise TransitionError(KEY_INFO_UNCHANGED, status=400)
        _move(locked, Action.FREEZE, actor)
        change = KeyChangeRequest.objects.create(
            report=locked, old_values=old_values, new_values=new_values, requested_by=actor
        )
    _sync(report, locked)
    return change


def _begin_change(
    change: KeyChangeRequest, actor: User, action: str
) -> tuple[Report, KeyChangeRequest]:
    # Report first, then the request: the same order as freeze_report, so no deadlock.
    locked = _begin(change.report_id, actor, action)
    locked_change = KeyChangeRequest.objects.select_for_update().get(pk=change.pk)
    if locked_change.status != KeyChangeRequest.Status.PENDING:
        raise TransitionError(CHANGE_DECIDED)
    _check_status(action, locked)
    return locked, locked_change


def _decide(change: KeyChangeRequest, actor: User, status: str, reason: str = "") -> None:
    change.status = status
    change.reason = reason
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "reason", "decided_by", "decided_at"])


def approve_key_change(change: KeyChangeRequest, actor: User) -> KeyChangeRequest:
    """The national review accepts the key-information change: 冻结 → 解除冻结."""
    with transaction.atomic():
        locked, locked_change = _begin_change(change, actor, Action.APPROVE_CHANGE)
        _move(locked, Action.APPROVE_CHANGE, actor)
        _decide(locked_change, actor, KeyChangeRequest.Status.APPROVED)
        _apply_key_change(locked.enterprise_id, locked_change.new_values)
    return locked_change


KEY_FIELDS = {"enterprise_name": "name", "code_type": "code_type", "code": "code"}


def _apply_key_change(enterprise_id: int, new_values: dict[str, Any]) -> None:
    """The approved name, code and industry become the enterprise's own from now on."""
    fields = {KEY_FIELDS[k]: v for k, v in new_values.items() if k in KEY_FIELDS}
    if "industry" in new_values:
        fields["industry_id"] = new_values["industry"]
    if fields:
        Enterprise.objects.filter(pk=enterprise_id).update(**fields)


def return_key_change(
    change: KeyChangeRequest, actor: User, reason: str | None
) -> KeyChangeRequest:
    """The national review refuses the change: 冻结 → 审核退回, and the enterprise re-reports
    its basic information (重报) with the reason in front of it."""
    with transaction.atomic():
        locked, locked_change = _begin_change(change, actor, Action.RETURN_CHANGE)
        reason = _reason(Action.RETURN_CHANGE, reason)
        _move(locked, Action.RETURN_CHANGE, actor, reason=reason)
        _decide(locked_change, actor, KeyChangeRequest.Status.RETURNED, reason)
    return locked_change


def return_report(
    report: Report, actor: User, reason: str | None, cells: list[str] | None = None
) -> Report:
    """A local (in its region, while the report is at local review) or national reviewer returns
    a submission: 待审核 → 审核退回, with the reason and the cells concerned."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.RETURN)
        _check_status(Action.RETURN, locked)
        if actor.is_local_admin and locked.review_level != Report.ReviewLevel.LOCAL:
            raise TransitionError(_national_level_message(locked))
        reason = _reason(Action.RETURN, reason)
        _move(
            locked,
            Action.RETURN,
            actor,
            reason=reason,
            details={"cells": list(cells)} if cells else None,
            first_reviewed_at=locked.first_reviewed_at or timezone.now(),
        )
    return _sync(report, locked)


def first_review_level(enterprise_id: int) -> str:
    """Local review where an active local administrator manages the enterprise's region (or a
    region above it); otherwise the report goes straight to national review."""
    region = Enterprise.objects.select_related("region").get(pk=enterprise_id).region
    return review_level_in(region)


def review_level_in(region: Any) -> str:
    def level() -> str:
        has_local = User.objects.filter(
            user_type=User.Type.LOCAL_ADMIN, is_active=True, region_id__in=region.ancestor_codes()
        ).exists()
        return Report.ReviewLevel.LOCAL if has_local else Report.ReviewLevel.NATIONAL

    return remember(("review-level", region.code), level)


def awaiting_local_review(report: Report) -> bool:
    """A pending report its local administrators have still to decide (and still can). The
    enterprise's region comes from the report when it was loaded with it (the review page's)."""
    if report.status != Report.Status.PENDING or report.review_level != Report.ReviewLevel.LOCAL:
        return False
    if Report.enterprise.is_cached(report) and Enterprise.region.is_cached(report.enterprise):
        return review_level_in(report.enterprise.region) == Report.ReviewLevel.LOCAL
    return first_review_level(report.enterprise_id) == Report.ReviewLevel.LOCAL


def approve_local(report: Report, actor: User) -> Report:
    """A local administrator's approval: the report stays 待审核 and goes on to national review;
    from now on the enterprise can no longer withdraw it."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.APPROVE_LOCAL)
        _check_status(Action.APPROVE_LOCAL, locked)
        if locked.review_level != Report.ReviewLevel.LOCAL:
            raise TransitionError(_national_level_message(locked))
        _move(
            locked,
            Action.APPROVE_LOCAL,
            actor,
            review_level=Report.ReviewLevel.NATIONAL,
            first_reviewed_at=locked.first_reviewed_at or timezone.now(),
        )
    return _sync(report, locked)


def approve_report(report: Report, actor: User) -> Report:
    """A national senior administrator accepts the report into the national data: 待审核 →
    审核通过. A report still at local review waits for its local administrators; only where the
    region no longer has an active one (disabled since the submission) may the national level
    decide alone, so that no report is stuck."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.APPROVE)
        _check_status(Action.APPROVE, locked)
        if awaiting_local_review(locked):
            raise TransitionError(AWAITING_LOCAL)
        _move(
            locked,
            Action.APPROVE,
            actor,
            first_reviewed_at=locked.first_reviewed_at or timezone.now(),
        )
    return _sync(report, locked)


def reopen_report(report: Report, actor: User, reason: str | None) -> Report:
    """Only a national senior administrator re-opens an approved month, with a reason: 审核通过
    → 审核退回, so that the enterprise can correct and submit it again."""
    with transaction.atomic():
        locked = _begin(report.pk, actor, Action.REOPEN)
        _check_status(Action.REOPEN, locked)
        reason = _reason(Action.REOPEN, reason)
        _move(locked, Action.REOPEN, actor, reason=reason)
    return _sync(report, locked)
