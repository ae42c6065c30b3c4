"""Security events of the login and the password (等级保护 安全审计), recorded from the signals of
Django and django-axes so that every path — login page, API token, Django admin — is covered
without each view remembering to do it."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts import second_factor
from accounts.models import User
from audit.context import client_ip
from audit.models import SecurityEvent
from audit.recorder import record_security

Kind, Outcome = SecurityEvent.Kind, SecurityEvent.Outcome


def _account(name: str) -> User | None:
    """The account a login name tried, if one has it (None for a name nobody has)."""
    return User.objects.filter(username=name).first() if name else None


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None and hasattr(request, "META") else None


@receiver(user_logged_in, dispatch_uid="accounts.security-event.login")
def record_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    # A login finishing its second step still has the pending mark (accounts.second_factor).
    session = getattr(request, "session", None)
    with_code = session is not None and second_factor.PENDING_KEY in session
    detail = "网页登录（密码+动态口令）" if with_code else "网页登录"
    record_security(Kind.LOGIN_OK, Outcome.SUCCESS, actor=user, ip=_ip(request), detail=detail)


@receiver(user_login_failed, dispatch_uid="accounts.security-event.failure")
def record_login_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already starred the password in `credentials`; only the name is read here.
    # login_with_identifier resolves a mobile or e-mail to the user ID before authenticating.
    name = str(credentials.get("username") or "")
    actor = _account(name)
    locked = getattr(request, "axes_locked_out", False)
    record_security(
        Kind.LOGIN_FAILED,
        Outcome.FAILURE,
        actor=actor,
        username=name,
        ip=_ip(request),
        detail="账户已锁定" if locked else ("用户名不存在" if actor is None else "密码错误"),
    )


@receiver(user_locked_out, dispatch_uid="accounts.security-event.locked")
def record_lock_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    # Axes sends this signal again for every try while the account is locked; only the try that
    # locks it has counted its failures (axes_failures_since_start stays None otherwise).
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    name = username or ""
    actor = _account(name)
    record_security(
        Kind.LOCKED_OUT,
        Outcome.FAILURE,
        actor=actor,
        username=name,
        ip=_ip(request),
        detail=f"连续登录失败{request.axes_failures_since_start}次",  # type: ignore[union-attr]
    )


@receiver(post_save, sender=User, dispatch_uid="accounts.security-event.password")
def record_password_change(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    # set_password() keeps the raw password in `_password` until the save that follows it; a
    # hash upgrade at login clears it first, so only a real change is recorded. The password
    # itself is never read here. Outside a request (a command) the address is unknown.
    if created or getattr(instance, "_password", None) is None:
        return
    record_security(Kind.PASSWORD_CHANGE, Outcome.SUCCESS, actor=instance, detail="密码已修改")
