"""The log of 填报提醒 sent: one row per enterprise, report month and day, so that a reminder run
repeated the same day sends nothing twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from directory.models import Enterprise


class ReminderLog(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="+", verbose_name="企业"
    )
    period = models.CharField("报表月份", max_length=7)
    sent_on = models.DateField("发送日期")
    channel = models.CharField("方式", max_length=6)
    recipient = models.CharField("收件人", max_length=254)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        ordering = ["-sent_on", "enterprise_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period", "sent_on"], name="reminder_once_a_day"
            )
        ]
        verbose_name = "填报提醒记录"
        verbose_name_plural = "填报提醒记录"

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} {self.sent_on}"
