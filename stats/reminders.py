"""填报提醒: from day settings.REMINDER_DAY of the month after a report month, every enterprise that
has not reported that month (未填报 as 填报情况 counts it: no report, or one in 编辑 or
解除冻结; not 冻结, which waits for the national decision) is reminded once a day through
the verification senders (accounts.senders.get_sender): by SMS to its user's bound mobile,
else by e-mail to the bound address. An enterprise whose user has bound neither (or that has
no active user) is skipped and counted. ReminderLog keeps one row per enterprise, month and
day: a run repeated the same day, even concurrently, sends nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from accounts.senders import SendError, get_sender
from directory.models import Enterprise
from reports.models import Report
from reports.periods import Period
from stats.models import ReminderLog

logger = logging.getLogger("sme.reminders")

SUBJECT = "月报填报提醒"


@dataclass
class ReminderResult:
    period: Period
    reminder_date: dt.date
    due: bool = True  # False before the reminder day: nothing is sent
    sent: int = 0
    already: int = 0  # reminded earlier the same day
    skipped: int = 0  # no active user with a bound mobile or e-mail
    failed: int = 0  # the sender raised SendError (tried again on the next run)


def reminder_date(period: Period) -> dt.date:
    following = period.next()
    return dt.date(following.year, following.month, settings.REMINDER_DAY)


def not_reported(period: Period):  # type: ignore[no-untyped-def]
    """The enterprises 填报情况 counts as 未填报 for the month, less those whose month is 冻结: they
    wait for the national decision on their key information and cannot report meanwhile."""
    done_or_waiting = Report.objects.filter(
        enterprise=OuterRef("pk"),
        period=str(period),
        status__in=(*Report.REPORTED, Report.Status.FROZEN),
    )
    return Enterprise.objects.exclude(Exists(done_or_waiting)).select_related("user").order_by("pk")


def message(enterprise: Enterprise, period: Period) -> str:
    deadline = period.deadline
    return (
        f"【全国中小企业生产经营运行监测平台】{enterprise.name}：您单位 {period} 月报尚未上报，"
        f"截止日期为 {deadline.year}年{deadline.month}月{deadline.day}日，请及时登录平台填报。"
    )


def remind(period: Period, today: dt.date) -> ReminderResult:
    result = ReminderResult(period, reminder_date(period))
    if today < result.reminder_date:
        result.due = False
        return result
    done_today = set(
        ReminderLog.objects.filter(period=str(period), sent_on=today).values_list(
            "enterprise_id", flat=True
        )
    )
    for enterprise in not_reported(period):
        if enterprise.pk in done_today:
            result.already += 1
            continue
        user = getattr(enterprise, "user", None)
        if user is None or not user.is_active:
            result.skipped += 1
            continue
        if user.mobile:
            channel, recipient = "mobile", user.mobile
        elif user.email:
            channel, recipient = "email", user.email
        else:
            result.skipped += 1
            continue
        try:
            with transaction.atomic():
                # The log row first: a concurrent run that got there before us stops here.
                ReminderLog.objects.create(
                    enterprise=enterprise,
                    period=str(period),
                    sent_on=today,
                    channel=channel,
                    recipient=recipient,
                )
                get_sender(channel).send(channel, recipient, SUBJECT, message(enterprise, period))
        except IntegrityError:
            result.already += 1
        except SendError as exc:
            logger.warning("reminder to enterprise %s failed: %s", enterprise.pk, exc)
            result.failed += 1
        else:
            result.sent += 1
    return result


def send_reminders(period: Period, today: dt.date) -> int:
    """Send the day's reminders for `period`; the number sent."""
    return remind(period, today).sent
