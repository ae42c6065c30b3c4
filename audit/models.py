"""The append-only trail of administrative actions (accounts, notices, catalogue, rules):
who, when, from where, what before and after. Report status changes have their own trail
(reports.ReportEvent); both refuse to be changed through the application."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lib.models import AppendOnlyModel


class AuditEntry(AppendOnlyModel):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=40)
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.CharField("对象", max_length=64)
    summary = models.CharField("摘要", max_length=300)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]
        verbose_name = "审计记录"
        verbose_name_plural = "审计日志"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.summary}"
