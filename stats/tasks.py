"""Scheduled work of the stats app (sme.settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery import shared_task

from reports.periods import current_report_month, local_today
from stats.reminders import remind

logger = logging.getLogger("sme.reminders")


@shared_task(name="stats.tasks.send_daily_reminders")
def send_daily_reminders() -> dict[str, int]:
    """The day's 填报提醒 for the current report month (nothing before REMINDER_DAY)."""
    today = local_today()
    result = remind(current_report_month(today), today)
    counts = {
        "sent": result.sent,
        "already": result.already,
        "skipped": result.skipped,
        "failed": result.failed,
    }
    logger.info("reminders for %s on %s: %s", result.period, today, counts)
    return counts
