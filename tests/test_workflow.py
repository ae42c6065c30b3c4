"""The status workflow of a month's report: every (status, action, role), the audit trail, the
optimistic version check and the start of a month (report window, catalogue snapshot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from reports.models import Indicator, KeyChangeRequest, Report, ReportEvent
from reports.periods import Period
from reports.workflow import (
    FIRST_REVIEWED,
    STALE_VERSION,
    TRANSITIONS,
    Action,
    PeriodError,
    TransitionError,
    approve_key_change,
    approve_local,
    approve_report,
    freeze_report,
    reopen_report,
    return_key_change,
    return_report,
    start_import,
    start_report,
    submit_import,
    submit_report,
    touch_for_edit,
    withdraw_report,
)
from tests.conftest import Personas

S = Report.Status
REASON = "营业收入与上月差异过大，请核实后重报。"
OLD_KEY_INFO = {"name": "宁波康尔企业"}
NEW_KEY_INFO = {"name": "宁波康尔科技有限公司"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
# On this day the current report month is 2026-10.
TODAY = dt.datetime(2026, 11, 10, 9, 30, tzinfo=SHANGHAI)

ROLES = ("owner", "other_enterprise", "ningbo_admin", "guangdong_admin", "senior_admin")
OUT_OF_SCOPE = {"other_enterprise", "guangdong_admin"}
USER_TYPE = {
    "owner": User.Type.ENTERPRISE,
    "ningbo_admin": User.Type.LOCAL_ADMIN,
    "senior_admin": User.Type.SENIOR_ADMIN,
}

Perform = Callable[[Report, KeyChangeRequest, User], Any]
PERFORM: dict[str, Perform] = {
    Action.SUBMIT: lambda r, c, u: submit_report(r, u, validation_ok=True),
    Action.WITHDRAW: lambda r, c, u: withdraw_report(r, u),
    Action.FREEZE: lambda r, c, u: freeze_report(r, u, OLD_KEY_INFO, NEW_KEY_INFO),
    Action.APPROVE_CHANGE: lambda r, c, u: approve_key_change(c, u),
    Action.RETURN_CHANGE: lambda r, c, u: return_key_change(c, u, REASON),
    Action.RETURN: lambda r, c, u: return_report(r, u, REASON),
    Action.APPROVE_LOCAL: lambda r, c, u: approve_local(r, u),
    Action.APPROVE: lambda r, c, u: approve_report(r, u),
    Action.REOPEN: lambda r, c, u: reopen_report(r, u, REASON),
    Action.IMPORT: lambda r, c, u: _import(r, u),
}


def _import(report: Report, admin: User) -> None:
    """An administrator's bulk import of the month (reports.services.import_for_enterprise)."""
    with transaction.atomic():
        locked, _created = start_import(report.enterprise, report.period, admin)
        submit_import(locked, admin, {})


def actor(personas: Personas, role: str) -> User:
    return {
        "owner": personas.ningbo_enterprise,
        "other_enterprise": personas.guangdong_enterprise,
        "ningbo_admin": personas.ningbo_admin,
        "guangdong_admin": personas.guangdong_admin,
        "senior_admin": personas.senior_admin,
    }[role]


def make_report(personas: Personas, status: str, **fields: Any) -> Report:
    fields.setdefault("period", "2026-10")
    return Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise, status=status, **fields
    )


def make_change(report: Report) -> KeyChangeRequest:
    return KeyChangeRequest.objects.create(
        report=report,
        old_values=OLD_KEY_INFO,
        new_values=NEW_KEY_INFO,
        requested_by=report.enterprise.user,
    )


def db_state(report: Report) -> tuple[Any, ...]:
    fresh = Report.objects.get(pk=report.pk)
    changes = list(
        KeyChangeRequest.objects.filter(report=report)
        .order_by("pk")
        .values_list("status", "reason", "decided_by", "decided_at")
    )
    return (
        fresh.status,
        fresh.version,
        fresh.submitted_at,
        fresh.first_reviewed_at,
        list(ReportEvent.objects.filter(report=report).values_list("pk", flat=True)),
        changes,
    )


def expected_outcome(status: str, action: str, role: str) -> str | int:
    """The new status, or the HTTP status of the refusal: scope first, then role, then status."""
    if role in OUT_OF_SCOPE:
        return 404
    rule = TRANSITIONS[action]
    if USER_TYPE[role] not in rule.roles:
        return 403
    if status not in rule.sources:
        return 409
    return rule.target


def test_the_transition_table_is_the_documented_status_matrix() -> None:
    editable = {S.DRAFT, S.RETURNED, S.UNFROZEN}
    enterprise, local, senior = (
        User.Type.ENTERPRISE,
        User.Type.LOCAL_ADMIN,
        User.Type.SENIOR_ADMIN,
    )
    documented = {
        "submit": (editable, S.PENDING, {enterprise}, False),
        "withdraw": ({S.PENDING}, S.DRAFT, {enterprise}, False),
        "freeze": (editable, S.FROZEN, {enterprise}, False),
        "approve_change": ({S.FROZEN}, S.UNFROZEN, {senior}, False),
        "return_change": ({S.FROZEN}, S.RETURNED, {senior}, True),
        "return": ({S.PENDING}, S.RETURNED, {local, senior}, True),
        "approve_local": ({S.PENDING}, S.PENDING, {local}, False),
        "approve": ({S.PENDING}, S.APPROVED, {senior}, False),
        "reopen": ({S.APPROVED}, S.RETURNED, {senior}, True),
        "import": (editable, S.PENDING, {local, senior}, False),
    }
    actual = {
        str(action): (set(t.sources), t.target, set(t.roles), t.needs_reason)
        for action, t in TRANSITIONS.items()
    }
    assert actual == documented
    assert set(PERFORM) == set(TRANSITIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("status", S.values)
def test_every_status_action_and_role(
    personas: Personas, status: str, action: str, role: str
) -> None:
    # National approval takes reports that passed (or skip) local review.
    level = Report.ReviewLevel.NATIONAL if action == "approve" else Report.ReviewLevel.LOCAL
    report = make_report(personas, status, review_level=level)
    change = make_change(report)
    user = actor(personas, role)
    before = db_state(report)
    outcome = expected_outcome(status, action, role)

    if isinstance(outcome, int):
        error = Http404 if outcome == 404 else TransitionError
        with pytest.raises(error) as caught:
            PERFORM[action](report, change, user)
        if outcome != 404:
            assert caught.value.status == outcome
            assert caught.value.message
        assert db_state(report) == before
        return

    PERFORM[action](report, change, user)
    report.refresh_from_db()
    assert report.status == outcome
    new_events = list(ReportEvent.objects.filter(report=report).exclude(pk__in=before[4]))
    assert len(new_events) == 1
    event = new_events[0]
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        action,
        status,
        outcome,
        user,
    )
    assert event.reason == (REASON if TRANSITIONS[action].needs_reason else "")
    assert event.at is not None


def test_submit_sets_the_submission_time_and_updates_the_callers_report(
    personas: Personas,
) -> None:
    report = make_report(personas, S.DRAFT)
    with time_machine.travel(TODAY, tick=False):
        submit_report(report, personas.ningbo_enterprise, validation_ok=True)
    assert report.status == S.PENDING  # the caller's instance, without a refresh
    report.refresh_from_db()
    assert report.submitted_at == TODAY


def test_it_refuses_submit_when_validation_failed(personas: Personas) -> None:
    report = make_report(personas, S.DRAFT)
    with pytest.raises(TransitionError) as caught:
        submit_report(report, personas.ningbo_enterprise, validation_ok=False)
    assert caught.value.status == 400
    assert "校验" in caught.value.message
    report.refresh_from_db()
    assert report.status == S.DRAFT
    assert not report.events.exists()


def test_withdraw_is_refused_once_a_reviewer_has_acted(personas: Personas) -> None:
    report = make_report(personas, S.PENDING, first_reviewed_at=timezone.now())
    with pytest.raises(TransitionError) as caught:
        withdraw_report(report, personas.ningbo_enterprise)
    assert (caught.value.status, caught.value.message) == (409, FIRST_REVIEWED)
    report.refresh_from_db()
    assert report.status == S.PENDING
    assert not report.events.exists()


def test_a_resubmission_may_be_withdrawn_until_its_own_first_review(personas: Personas) -> None:
    report = make_report(personas, S.DRAFT)
    submit_report(report, personas.ningbo_enterprise, validation_ok=True)
    return_report(report, personas.ningbo_admin, REASON)
    assert report.first_reviewed_at is not None
    submit_report(report, personas.ningbo_enterprise, validation_ok=True)
    withdraw_report(report, personas.ningbo_enterprise)
    report.refresh_from_db()
    assert (report.status, report.submitted_at, report.first_reviewed_at) == (S.DRAFT, None, None)
    trail = list(report.events.values_list("action", "from_status", "to_status", "actor"))
    assert trail == [
        ("submit", S.DRAFT, S.PENDING, personas.ningbo_enterprise.pk),
        ("return", S.PENDING, S.RETURNED, personas.ningbo_admin.pk),
        ("submit", S.RETURNED, S.PENDING, personas.ningbo_enterprise.pk),
        ("withdraw", S.PENDING, S.DRAFT, personas.ningbo_enterprise.pk),
    ]


def test_review_keeps_the_time_of_the_first_review(personas: Personas) -> None:
    first = dt.datetime(2026, 11, 12, 10, 0, tzinfo=SHANGHAI)
    report = make_report(
        personas, S.PENDING, first_reviewed_at=first, review_level=Report.ReviewLevel.NATIONAL
    )
    with time_machine.travel(TODAY + dt.timedelta(days=5), tick=False):
        approve_report(report, personas.senior_admin)
    report.refresh_from_db()
    assert report.first_reviewed_at == first


@pytest.mark.parametrize("reason", ["", "   ", None])
@pytest.mark.parametrize(
    ("status", "action"),
    [(S.PENDING, "return"), (S.FROZEN, "return_change"), (S.APPROVED, "reopen")],
)
def test_returns_and_reopen_require_a_reason(
    personas: Personas, status: str, action: str, reason: str | None
) -> None:
    report = make_report(personas, status)
    change = make_change(report)
    before = db_state(report)
    call = {
        "return": lambda: return_report(report, personas.senior_admin, reason),
        "return_change": lambda: return_key_change(change, personas.senior_admin, reason),
        "reopen": lambda: reopen_report(report, personas.senior_admin, reason),
    }[action]
    with pytest.raises(TransitionError) as caught:
        call()
    assert caught.value.status == 400
    assert "原因" in caught.value.message
    assert db_state(report) == before


def test_the_reason_is_kept_with_the_returned_key_change(personas: Personas) -> None:
    report = make_report(personas, S.FROZEN)
    change = make_change(report)
    with time_machine.travel(TODAY, tick=False):
        decided = return_key_change(change, personas.senior_admin, f"  {REASON}  ")
    assert decided.pk == change.pk
    change.refresh_from_db()
    assert (change.status, change.reason, change.decided_by, change.decided_at) == (
        KeyChangeRequest.Status.RETURNED,
        REASON,
        personas.senior_admin,
        TODAY,
    )
    assert report.events.get().reason == REASON


def test_an_approved_key_change_unfreezes_the_month(personas: Personas) -> None:
    report = make_report(personas, S.DRAFT)
    change = freeze_report(report, personas.ningbo_enterprise, OLD_KEY_INFO, NEW_KEY_INFO)
    assert (change.status, change.requested_by) == (
        KeyChangeRequest.Status.PENDING,
        personas.ningbo_enterprise,
    )
    assert (change.old_values, change.new_values) == (OLD_KEY_INFO, NEW_KEY_INFO)
    approve_key_change(change, personas.senior_admin)
    change.refresh_from_db()
    report.refresh_from_db()
    assert (change.status, change.decided_by) == (
        KeyChangeRequest.Status.APPROVED,
        personas.senior_admin,
    )
    assert report.status == S.UNFROZEN
    assert list(report.events.values_list("action", flat=True)) == ["freeze", "approve_change"]


def test_a_decided_key_change_cannot_be_decided_again(personas: Personas) -> None:
    report = make_report(personas, S.FROZEN)
    change = make_change(report)
    approve_key_change(change, personas.senior_admin)
    before = db_state(report)
    with pytest.raises(TransitionError) as caught:
        return_key_change(change, personas.senior_admin, REASON)
    assert caught.value.status == 409
    assert "已处理" in caught.value.message
    assert db_state(report) == before


def test_freeze_without_a_change_of_key_information_is_refused(personas: Personas) -> None:
    report = make_report(personas, S.DRAFT)
    with pytest.raises(TransitionError) as caught:
        freeze_report(report, personas.ningbo_enterprise, OLD_KEY_INFO, dict(OLD_KEY_INFO))
    assert caught.value.status == 400
    report.refresh_from_db()
    assert report.status == S.DRAFT
    assert not KeyChangeRequest.objects.exists()


def test_local_approval_passes_the_report_to_national_review(personas: Personas) -> None:
    report = make_report(personas, S.PENDING)
    approve_local(report, personas.ningbo_admin)
    report.refresh_from_db()
    assert (report.status, report.review_level) == (S.PENDING, "national")
    assert report.review_stage_label == "地方已审核, 待国家审核"
    with pytest.raises(TransitionError) as twice:
        approve_local(report, personas.zhejiang_admin)
    assert twice.value.status == 409 and "等待国家审核" in twice.value.message
    with pytest.raises(TransitionError):
        withdraw_report(report, personas.ningbo_enterprise)
    approve_report(report, personas.senior_admin)
    report.refresh_from_db()
    assert report.status == S.APPROVED
    actions = list(report.events.values_list("action", flat=True))
    assert actions == ["approve_local", "approve"]


def test_a_local_administrator_cannot_give_the_national_approval(personas: Personas) -> None:
    report = make_report(personas, S.PENDING)
    with pytest.raises(TransitionError) as caught:
        approve_report(report, personas.ningbo_admin)
    assert caught.value.status == 403
    assert "国家高级管理员" in caught.value.message


def test_a_region_without_local_administrators_goes_straight_to_national_review(
    personas: Personas,
) -> None:
    ningbo = make_report(personas, S.DRAFT)
    submit_report(ningbo, personas.ningbo_enterprise, validation_ok=True)
    assert ningbo.review_level == "local"
    User.objects.filter(user_type=User.Type.LOCAL_ADMIN).update(is_active=False)
    ningbo = make_report(personas, S.DRAFT, period="2026-09")
    submit_report(ningbo, personas.ningbo_enterprise, validation_ok=True)
    assert ningbo.review_level == "national"
    assert ningbo.review_stage_label == "待国家审核"


def test_a_status_refusal_names_the_current_status(personas: Personas) -> None:
    report = make_report(personas, S.APPROVED)
    with pytest.raises(TransitionError) as caught:
        submit_report(report, personas.ningbo_enterprise, validation_ok=True)
    assert caught.value.message == "该月报表当前状态为「审核通过」，不能上报。"


# --- The optimistic version check -------------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.RETURNED, S.UNFROZEN])
def test_a_save_bumps_the_version(personas: Personas, status: str) -> None:
    report = make_report(personas, status)
    touched = touch_for_edit(report, personas.ningbo_enterprise, expected_version=1)
    assert touched.version == report.version == 2
    touch_for_edit(report, personas.ningbo_enterprise, expected_version=None)
    report.refresh_from_db()
    assert report.version == 3
    assert not report.events.exists()  # plain saves are not status changes


def test_a_save_based_on_an_older_version_is_refused(personas: Personas) -> None:
    report = make_report(personas, S.DRAFT, version=5)
    with pytest.raises(TransitionError) as caught:
        touch_for_edit(report, personas.ningbo_enterprise, expected_version=4)
    assert (caught.value.status, caught.value.message) == (409, STALE_VERSION)
    report.refresh_from_db()
    assert report.version == 5


@pytest.mark.parametrize("status", [S.PENDING, S.APPROVED, S.FROZEN])
def test_a_save_is_refused_while_the_status_does_not_allow_editing(
    personas: Personas, status: str
) -> None:
    report = make_report(personas, status)
    with pytest.raises(TransitionError) as caught:
        touch_for_edit(report, personas.ningbo_enterprise, expected_version=1)
    label = Report.Status(status).label
    assert (caught.value.status, caught.value.message) == (
        409,
        f"该月报表当前状态为「{label}」，不能修改。",
    )
    report.refresh_from_db()
    assert report.version == 1


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        ("other_enterprise", 404),
        ("guangdong_admin", 404),
        ("ningbo_admin", 403),
        ("senior_admin", 403),
    ],
)
def test_only_the_owner_saves(personas: Personas, role: str, refusal: int) -> None:
    report = make_report(personas, S.DRAFT)
    with pytest.raises(Http404 if refusal == 404 else TransitionError) as caught:
        touch_for_edit(report, actor(personas, role), expected_version=1)
    if refusal == 403:
        assert caught.value.status == 403
    report.refresh_from_db()
    assert report.version == 1


# --- The audit trail -----------------------------------------------------------------------------


def test_report_events_cannot_be_changed_or_deleted(personas: Personas) -> None:
    report = make_report(personas, S.PENDING)
    return_report(report, personas.ningbo_admin, REASON)
    event = report.events.get()
    event.reason = "改写的原因"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        ReportEvent.objects.filter(pk=event.pk).update(reason="改写的原因")
    with pytest.raises(PermissionError):
        ReportEvent.objects.filter(pk=event.pk).delete()
    assert ReportEvent.objects.get(pk=event.pk).reason == REASON


# --- Starting a month ----------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-10", "2026-01", "2025-10"])
def test_a_month_of_the_window_can_be_started(personas: Personas, period: str) -> None:
    with time_machine.travel(TODAY, tick=False):
        report = start_report(personas.ningbo_enterprise, Period.parse(period), "online")
    assert (report.period, report.status, report.method, report.version) == (
        period,
        S.DRAFT,
        Report.Method.ONLINE,
        1,
    )
    assert report.enterprise == personas.ningbo_enterprise.enterprise
    event = report.events.get()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "create",
        "",
        S.DRAFT,
        personas.ningbo_enterprise,
    )


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("2026-11", "尚未到填报时间"),  # the running calendar month
        ("2027-01", "尚未到填报时间"),
        ("2025-09", "补报期限"),  # 13 months before the current report month
        ("2019-05", "补报期限"),
    ],
)
def test_it_refuses_months_outside_the_window(personas: Personas, period: str, words: str) -> None:
    with time_machine.travel(TODAY, tick=False), pytest.raises(PeriodError) as caught:
        start_report(personas.ningbo_enterprise, Period.parse(period), "online")
    assert words in str(caught.value)
    assert not Report.objects.exists()


def test_the_backfill_window_follows_the_setting(personas: Personas, settings: Any) -> None:
    settings.REPORT_BACKFILL_MONTHS = 3
    with time_machine.travel(TODAY, tick=False):
        assert start_report(personas.ningbo_enterprise, Period(2026, 7), "import").period == (
            "2026-07"
        )
        with pytest.raises(PeriodError):
            start_report(personas.ningbo_enterprise, Period(2026, 6), "import")


def test_it_refuses_a_malformed_month(personas: Personas) -> None:
    with time_machine.travel(TODAY, tick=False), pytest.raises(PeriodError):
        start_report(personas.ningbo_enterprise, "2026-13", "online")


def test_starting_twice_returns_the_same_report(personas: Personas) -> None:
    with time_machine.travel(TODAY, tick=False):
        first = start_report(personas.ningbo_enterprise, Period(2026, 10), "online")
        touch_for_edit(first, personas.ningbo_enterprise, expected_version=1)
        again = start_report(personas.ningbo_enterprise, Period(2026, 10), "import")
    assert again.pk == first.pk
    assert (again.version, again.method) == (2, Report.Method.ONLINE)
    assert Report.objects.count() == 1
    assert ReportEvent.objects.count() == 1


@pytest.mark.parametrize("role", ["ningbo_admin", "senior_admin"])
def test_only_enterprises_start_a_month(personas: Personas, role: str) -> None:
    with time_machine.travel(TODAY, tick=False), pytest.raises(TransitionError) as caught:
        start_report(actor(personas, role), Period(2026, 10), "online")
    assert caught.value.status == 403
    assert not Report.objects.exists()


def test_a_started_month_keeps_its_catalogue(personas: Personas) -> None:
    Indicator.objects.create(
        code="robots",
        name="工业机器人保有量",
        unit="台",
        kind=Indicator.Kind.STOCK,
        required=True,
        decimals=0,
        position=999,
        effective_from="2026-01",
    )
    Indicator.objects.create(
        code="quarter_only",
        name="季末专项指标",
        unit="千元",
        kind=Indicator.Kind.STOCK,
        quarterly=True,
        effective_from="2026-01",
    )
    with time_machine.travel(TODAY, tick=False):
        report = start_report(personas.ningbo_enterprise, Period(2026, 10), "online")
        quarter = start_report(personas.ningbo_enterprise, Period(2026, 9), "online")
    Indicator.objects.filter(code="robots").update(name="机器人数量", unit="套", required=False)

    report.refresh_from_db()
    assert report.catalogue["robots"] == {
        "name": "工业机器人保有量",
        "unit": "台",
        "kind": "stock",
        "required": True,
        "may_be_negative": False,
        "decimals": 0,
        "position": 999,
    }
    assert "quarter_only" not in report.catalogue
    assert "quarter_only" in quarter.catalogue
