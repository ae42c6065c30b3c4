"""Login protection shared by the login page and the API token endpoint.

Accounts are locked by django-axes (5 failures → 15 minutes, counted per account). An address
that fails across many different accounts (password spraying) is throttled: it may try again
only every few seconds, so a whole office behind one government NAT is slowed, not locked out."""

from __future__ import annotations

import math
from datetime import timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from audit.context import client_ip as request_ip

LOCKED_MESSAGE = "登录失败次数过多，该账户已被锁定{minutes}分钟，请稍后再试。"
THROTTLED_MESSAGE = "该地址登录失败过于频繁，请{seconds}秒后再试。"


def lock_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=lock_minutes())


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Axes counts failures under the resolved user ID, so that tries by mobile, e-mail and
    user ID all land on one account."""
    from accounts.services import resolve_login_name

    raw = (credentials or {}).get("username")
    if not raw:
        return None
    user = resolve_login_name(raw)
    return user.username if user else raw.strip()


def client_ip(request: HttpRequest) -> str:
    # Behind the production proxy REMOTE_ADDR is set from X-Forwarded-For by the proxy config.
    return request_ip(request) or ""


def ip_throttle_seconds(ip: str) -> int:
    """Seconds this address must wait before its next login attempt (0: may try now)."""
    if not ip:
        return 0
    now = timezone.now()
    recent = AccessFailureLog.objects.filter(
        ip_address=ip, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    )
    accounts = recent.values("username").distinct().count()
    if accounts < settings.LOGIN_IP_DISTINCT_ACCOUNTS:
        return 0
    last = recent.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if last is None:
        return 0
    wait = timedelta(seconds=settings.LOGIN_IP_THROTTLE_SECONDS) - (now - last)
    return max(0, math.ceil(wait.total_seconds()))
