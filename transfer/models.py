"""The record of every import attempt: who sent which file (by its SHA-256), from where, for which
month, and what came of it. Append-only, like the other audit tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from lib.models import AppendOnlyModel


class ImportLog(AppendOnlyModel):
    class Outcome(models.TextChoices):
        SAVED = "saved", "已导入"
        CHECKED = "checked", "校验通过（未导入）"
        REFUSED = "refused", "未通过"
        QUEUED = "queued", "后台处理"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    enterprise = models.ForeignKey(
        "directory.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="企业",
    )
    period = models.CharField("报表月份", max_length=7)
    filename = models.CharField("文件名", max_length=200, blank=True)
    filler = models.CharField("填报人", max_length=30, blank=True)
    sha256 = models.CharField("文件摘要", max_length=64)
    dry_run = models.BooleanField("只校验", default=False)
    outcome = models.CharField("结果", max_length=8, choices=Outcome.choices)
    error_count = models.PositiveIntegerField("错误数", default=0)
    first_error = models.CharField("首个错误", max_length=300, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"

    def __str__(self) -> str:
        return f"{self.user} {self.period} {self.get_outcome_display()}"
