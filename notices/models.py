from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from directory.models import Region


class Notice(models.Model):
    """A notice (通知公告) or a piece of platform news (平台动态), addressed to an audience within a
    region (null region = the whole country)."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "通知公告"
        NEWS = "news", "平台动态"

    class Audience(models.TextChoices):
        ALL = "all", "全部用户"
        ENTERPRISES = "enterprises", "企业用户"
        ADMINS = "admins", "管理员"

    title = models.CharField("标题", max_length=120)
    body = models.TextField("正文", max_length=20000)
    kind = models.CharField("类别", max_length=6, choices=Kind.choices, default=Kind.NOTICE)
    audience = models.CharField(
        "阅读对象", max_length=12, choices=Audience.choices, default=Audience.ALL
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="发布范围",
        help_text="为空表示全国。",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="发布人"
    )
    published_at = models.DateTimeField("发布时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["kind", "-published_at"], name="notice_kind_published")]
        verbose_name = "通知"
        verbose_name_plural = "通知公告与平台动态"

    def __str__(self) -> str:
        return self.title

    @property
    def scope_label(self) -> str:
        return self.region.full_name if self.region else "全国"
