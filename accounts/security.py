"""Login protection shared by the login page and the API token endpoint.

Accounts are locked by django-axes (5 failures → 15 minutes, counted per account). An address
that fails across many different accounts (password spraying) is throttled: it may try again
only every few seconds, so a whole office behind one government NAT is slowed, not locked out."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from audit.context import client_ip as request_ip
from audit.models import SecurityEvent
from audit.recorder import record_security

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


def ip_throttle(ip: str) -> tuple[int, datetime | None]:
    """Seconds this address must wait before its next login attempt (0: may try now), and the
    time of the failure that started the pause (None when it may try)."""
    if not ip:
        return 0, None
    now = timezone.now()
    recent = AccessFailureLog.objects.filter(
        ip_address=ip, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    )
    accounts = recent.values("username").distinct().count()
    if accounts < settings.LOGIN_IP_DISTINCT_ACCOUNTS:
        return 0, None
    last = recent.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if last is None:
        return 0, None
    wait = timedelta(seconds=settings.LOGIN_IP_THROTTLE_SECONDS) - (now - last)
    seconds = max(0, math.ceil(wait.total_seconds()))
    return seconds, last if seconds else None


def throttle_login(request: HttpRequest, identifier: str) -> int:
    """The wait of the request's address before a login try (0: go on), for the login page and
    the API token alike. A refusal is a security event (THROTTLED) with the address and the name
    tried, recorded once per pause: a refused try checks no password and writes no failure, so
    an address hammering during its pause would otherwise add a row per request, far cheaper
    than the logins that earned the pause. Once per pause, the events grow no faster than the
    failures (each of which cost a password hash); the check is one indexed query."""
    ip = client_ip(request)
    wait, last = ip_throttle(ip)
    if wait:
        recorded = SecurityEvent.objects.filter(
            kind=SecurityEvent.Kind.THROTTLED, ip=ip, at__gte=last
        ).exists()
        if not recorded:
            record_security(
                SecurityEvent.Kind.THROTTLED,
                SecurityEvent.Outcome.FAILURE,
                username=identifier.strip(),
                ip=ip,
                detail=f"该地址登录失败涉及多个账户，暂停{wait}秒",
            )
    return wait
