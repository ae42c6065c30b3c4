"""填报提醒 (stats.reminders, manage.py send_reminders): from REMINDER_DAY of the following month,
once a day, to enterprises that have not reported; skipped (and counted) without a contact."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import OutboxMessage, User
from reports.models import Report
from reports.periods import Period
from stats.models import ReminderLog
from stats.reminders import remind, send_reminders
from tests.conftest import Personas
from tests.test_completion import make_enterprise

PERIOD = Period(2026, 10)
DAY = dt.date(2026, 11, 15)


@pytest.fixture
def enterprises(personas: Personas) -> dict[str, User]:
    nb = personas.ningbo_enterprise
    nb.mobile = "13800000001"
    nb.save()
    gd = personas.guangdong_enterprise
    gd.email = "gd@example.com"
    gd.save()
    reporter = User.objects.create_user(
        "reporter1",
        "x",
        user_type=User.Type.ENTERPRISE,
        enterprise=make_enterprise("330211"),
        mobile="13800000002",
    )
    Report.objects.create(
        enterprise=reporter.enterprise, period=str(PERIOD), status=Report.Status.PENDING
    )
    drafter = User.objects.create_user(
        "drafter1",
        "x",
        user_type=User.Type.ENTERPRISE,
        enterprise=make_enterprise("330211"),
        mobile="13800000003",
    )
    Report.objects.create(
        enterprise=drafter.enterprise, period=str(PERIOD), status=Report.Status.DRAFT
    )
    silent = User.objects.create_user(
        "silent01", "x", user_type=User.Type.ENTERPRISE, enterprise=make_enterprise("330102")
    )
    return {"nb": nb, "gd": gd, "reporter": reporter, "drafter": drafter, "silent": silent}


@pytest.mark.parametrize(
    ("status", "reminded"),
    [
        (Report.Status.DRAFT, True),
        (Report.Status.UNFROZEN, True),  # the change was approved: the month must go on
        (Report.Status.FROZEN, False),  # waiting for the national decision: nothing to do
        (Report.Status.PENDING, False),
        (Report.Status.RETURNED, False),
        (Report.Status.APPROVED, False),
    ],
)
def test_who_is_reminded_matches_not_reported_in_completion(
    personas: Personas, status: str, reminded: bool
) -> None:
    from stats.reminders import not_reported

    enterprise = personas.ningbo_enterprise.enterprise
    Report.objects.create(enterprise=enterprise, period=str(PERIOD), status=status)
    assert (enterprise in not_reported(PERIOD)) is reminded
    assert (status in Report.REPORTED) is (not reminded and status != Report.Status.FROZEN)


def test_sent_once_a_day_not_to_reporters(enterprises: dict[str, User], settings) -> None:  # type: ignore[no-untyped-def]
    settings.VERIFICATION_SENDERS = {
        "mobile": "accounts.senders.OutboxSender",
        "email": "accounts.senders.OutboxSender",
    }
    result = remind(PERIOD, DAY)
    assert (result.sent, result.skipped, result.already, result.failed) == (3, 1, 0, 0)
    recipients = {(m.channel, m.recipient) for m in OutboxMessage.objects.all()}
    assert recipients == {
        ("mobile", "13800000001"),
        ("email", "gd@example.com"),
        ("mobile", "13800000003"),
    }
    assert "2026-10" in OutboxMessage.objects.first().body
    # Again the same day: nothing more.
    again = remind(PERIOD, DAY)
    assert (again.sent, again.already, again.skipped) == (0, 3, 1)
    assert OutboxMessage.objects.count() == 3
    # The next day: again, but not to one who has reported meanwhile.
    Report.objects.filter(enterprise=enterprises["drafter"].enterprise).update(
        status=Report.Status.PENDING
    )
    assert send_reminders(PERIOD, DAY + dt.timedelta(days=1)) == 2
    assert ReminderLog.objects.count() == 5


def test_nothing_before_the_reminder_day(enterprises: dict[str, User], settings) -> None:  # type: ignore[no-untyped-def]
    settings.REMINDER_DAY = 18
    result = remind(PERIOD, dt.date(2026, 11, 17))
    assert not result.due and result.sent == 0
    assert OutboxMessage.objects.count() == 0
    assert send_reminders(PERIOD, dt.date(2026, 11, 18)) == 3


def test_command_defaults_to_current_month_and_is_idempotent(
    enterprises: dict[str, User],
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC), tick=False):
        out = StringIO()
        call_command("send_reminders", stdout=out)
        assert "已发送 3" in out.getvalue() and "跳过 1" in out.getvalue()
        out = StringIO()
        call_command("send_reminders", stdout=out)
        assert "已发送 0" in out.getvalue() and "今天已提醒过 3" in out.getvalue()
    assert OutboxMessage.objects.count() == 3
    out = StringIO()
    call_command("send_reminders", "--period", "2026-10", "--today", "2026-11-10", stdout=out)
    assert "今天未发送" in out.getvalue()


def test_the_scheduler_sends_the_days_reminders(enterprises: dict[str, User], settings) -> None:  # type: ignore[no-untyped-def]
    """celery beat runs stats.tasks.send_daily_reminders every day at REMINDER_HOUR (Beijing
    time); the task reminds for the current report month, once a day."""
    from celery.schedules import crontab

    from sme.celery import app
    from stats.tasks import send_daily_reminders

    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour=settings.REMINDER_HOUR, minute=0)
    assert app.conf.timezone == "Asia/Shanghai"

    with time_machine.travel(dt.datetime(2026, 11, 14, 1, 0, tzinfo=dt.UTC), tick=False):
        assert send_daily_reminders.apply().get() == {
            "sent": 0,
            "already": 0,
            "skipped": 0,
            "failed": 0,
        }  # before the reminder day
    with time_machine.travel(dt.datetime(2026, 11, 15, 1, 0, tzinfo=dt.UTC), tick=False):
        assert send_daily_reminders.apply().get()["sent"] == 3
        assert send_daily_reminders.apply().get() == {
            "sent": 0,
            "already": 3,
            "skipped": 1,
            "failed": 0,
        }
    assert set(ReminderLog.objects.values_list("period", flat=True)) == {"2026-10"}
