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


class SecurityEvent(AppendOnlyModel):
    """Logins, lock-outs, throttled addresses, refused pages and API calls, password changes and
    API tokens (等级保护 安全审计). Kept apart from AuditEntry because it is written on every
    login: the administrative trail stays readable, and each can be searched and purged on its
    own."""

    class Kind(models.TextChoices):
        LOGIN_OK = "login_ok", "登录成功"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOCKED_OUT = "locked_out", "账户锁定"
        DENIED = "denied", "越权访问被拒绝"
        # An address refused a login try by the password-spraying throttle (accounts.security).
        THROTTLED = "throttled", "登录频率限制"
        PASSWORD_CHANGE = "password_change", "修改密码"
        TOKEN_CREATE = "token_create", "签发API令牌"
        TOKEN_REVOKE = "token_revoke", "吊销API令牌"
        SECOND_FACTOR = "second_factor", "动态口令设置"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "成功"
        FAILURE = "failure", "失败"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    kind = models.CharField("事件", max_length=20, choices=Kind.choices)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices)
    # None for a login tried with a name that matches no account; `username` keeps the name.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="用户",
    )
    username = models.CharField("用户ID（或尝试的登录名）", max_length=150)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    detail = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "at"], name="audit_security_kind")]
        verbose_name = "安全事件"
        verbose_name_plural = "安全事件"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_kind_display()}"
