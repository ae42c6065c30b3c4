"""The ceiling of the deadline-day benchmark (bin/load-test): one row per request of the minimal
authenticated endpoint, so that the same server's rate for 'log-in check + CSRF + one INSERT' is
measured beside the real submission journeys."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Ping(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "压力测试基准请求"
        verbose_name_plural = "压力测试基准请求"

    def __str__(self) -> str:
        return f"{self.user_id} {self.at:%H:%M:%S.%f}"
