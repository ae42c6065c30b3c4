"""二次认证: a time-based one-time password (TOTP, RFC 6238) as the second factor of a login
(等级保护 level 3: 两种或两种以上组合的鉴别技术 for administrators; issue 8).

Every rule of the second factor lives here, for the login page, the API token endpoint, the
management page and the middleware alike:

- administrators (local and national) may turn it on; national administrators must: their first
  login after the password asks them to bind an authenticator app before it lets them in;
- a login of a user with a bound authenticator is not a login until the code is given: the
  password step leaves only a *pending* login in the session (PENDING_SECONDS, at most MAX_TRIES
  wrong codes, then the password again); `django.contrib.auth.login` runs after the code;
- a code is good once (django-otp keeps the time step of the last code used; the device row is
  locked while a code is checked, so two requests cannot both spend it), within ±1 step of 30 s,
  and wrong codes slow the next try down (django-otp's throttle: 1, 2, 4 … seconds);
- every administrator's session records how its login met this rule (SESSION_KEY); a session
  without the record (made by any other path, or before the rule) is ended by
  accounts.middleware.SecondFactorMiddleware, without a query.

django-otp keeps the device (the key, the last step used, the throttle); segno draws the QR code
as inline SVG (no script, no image request: the CSP allows it)."""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass

import segno
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import AccountError
from audit.context import client_ip
from audit.models import SecurityEvent
from audit.recorder import record_security

REQUIRED_FOR = frozenset({User.Type.SENIOR_ADMIN})
OFFERED_TO = frozenset({User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN})

# How the login of this session met the rule: "totp" (a code was given) or "none" (the user had
# no second factor and needed none).
SESSION_KEY = "_second_factor"
PENDING_KEY = "_second_factor_pending"
PENDING_SECONDS = 300
MAX_TRIES = 5
DEVICE_NAME = "动态口令验证器"

WRONG_CODE = "动态口令不正确或已使用过，请输入验证器上当前显示的6位数字。"
THROTTLED = "动态口令错误次数过多，请{seconds}秒后再试。"
MALFORMED = "请输入验证器上显示的6位数字动态口令。"
REQUIRED_MESSAGE = "国家管理员必须使用动态口令登录，不能关闭。"
NOT_OFFERED = "只有管理员可以设置动态口令。"


def required(user: User) -> bool:
    return user.user_type in REQUIRED_FOR


def offered(user: User) -> bool:
    return user.user_type in OFFERED_TO


def device_of(user: User) -> TOTPDevice | None:
    """The user's bound (confirmed) authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def needs_code(user: User) -> bool:
    """Whether the login of `user` takes a second step: a code, or binding an authenticator."""
    return offered(user) and (required(user) or device_of(user) is not None)


def normalise(code: str) -> str | None:
    """The six digits of a code as typed (spaces allowed: apps show "123 456"), else None."""
    digits = "".join(str(code or "").split())
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def _check(device: TOTPDevice, code: str) -> AccountError | None:
    """Spend `code` on `device` (locked by the caller): None, or the error to raise once the
    caller's transaction has committed the failure (the throttle counts it)."""
    allowed, data = device.verify_is_allowed()
    if not allowed:
        until = (data or {}).get("locked_until")
        seconds = max(1, math.ceil(until.timestamp() - time.time())) if until else 1
        return AccountError(THROTTLED.format(seconds=seconds), code="throttled", field="code")
    digits = normalise(code)
    if digits is None:
        return AccountError(MALFORMED, code="malformed", field="code")
    if not device.verify_token(digits):  # a failure is saved on the device: the throttle
        return AccountError(WRONG_CODE, code="wrong_code", field="code")
    return None


def _locked_device(user: User, confirmed: bool) -> TOTPDevice | None:
    """The user's newest bound (or being bound) device, locked until the transaction ends: two
    requests with the same code are checked one after the other, so only one spends it."""
    devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=confirmed)
    return devices.order_by("-id").first()


def verify(user: User, code: str) -> TOTPDevice:
    """The user's bound device, having accepted `code`; AccountError if it did not."""
    with transaction.atomic():
        device = _locked_device(user, confirmed=True)
        if device is None:
            raise AccountError("尚未绑定动态口令验证器。", code="no_device", field="code")
        error = _check(device, code)
    if error is not None:
        raise error
    return device


CODE_NEEDED = "该账户登录需要动态口令：请在 otp_code 中提供身份验证器上当前显示的6位数字。"
BIND_ON_THE_WEB = "请先在网页上登录并绑定动态口令验证器，然后再使用接口。"


def check_api_login(request: HttpRequest, user: User, code: str | None) -> None:
    """The second factor of an API token request (the password was right): nothing to do, or
    AccountError with code "bind_first" (a national administrator with nothing bound: binding
    takes the QR code of the web page), "code_needed", "throttled", "malformed" or "wrong_code".
    A code that fails is a failed login, as on the page."""
    if not needs_code(user):
        return
    if device_of(user) is None:
        raise AccountError(BIND_ON_THE_WEB, code="bind_first")
    if not code:
        raise AccountError(CODE_NEEDED, code="code_needed", field="otp_code")
    try:
        verify(user, code)
    except AccountError as exc:
        record_security(
            SecurityEvent.Kind.LOGIN_FAILED,
            SecurityEvent.Outcome.FAILURE,
            actor=user,
            ip=client_ip(request),
            detail=f"API动态口令错误：{exc.message}",
        )
        raise


# Binding an authenticator ----------------------------------------------------------------------


def enrolment(user: User) -> TOTPDevice:
    """The unconfirmed device the user is binding: the one begun earlier (so that a reload shows
    the same QR code), else a new one with a fresh random key."""
    if not offered(user):
        raise AccountError(NOT_OFFERED)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm_enrolment(user: User, code: str, request: HttpRequest | None = None) -> TOTPDevice:
    """Bind the device being enrolled once it has produced a right code. It replaces any device
    bound before (a new phone), and is a security event."""
    with transaction.atomic():
        device = _locked_device(user, confirmed=False)
        if device is None:
            raise AccountError("绑定已过期，请重新扫描二维码。", code="no_enrolment", field="code")
        error = _check(device, code)
        if error is not None:
            device = None
        else:
            replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            detail = "更换动态口令验证器" if replaced else "启用动态口令"
            _record(SecurityEvent.Kind.SECOND_FACTOR, user, request, detail)
    if error is not None:
        raise error
    return device


def disable(user: User, code: str, request: HttpRequest | None = None) -> None:
    """Turn the second factor off, proven by a code; never for those who must have it."""
    if required(user):
        raise AccountError(REQUIRED_MESSAGE, code="required")
    verify(user, code)  # its own transaction: a wrong code's failure stays counted
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        _record(SecurityEvent.Kind.SECOND_FACTOR, user, request, "关闭动态口令")


def reset(user: User, by: User | None = None, request: HttpRequest | None = None) -> bool:
    """Unbind a lost authenticator (another national administrator, or `manage.py
    reset_second_factor`). The user binds a new one at the next login if they must. False if
    there was nothing to unbind."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    if removed:
        who = f"由{by.username}重置" if by is not None else "由系统管理员重置"
        _record(SecurityEvent.Kind.SECOND_FACTOR, by or user, request, f"{user.username}：{who}")
    return bool(removed)


def with_bound_flag(users: QuerySet[User]) -> QuerySet[User]:
    """`users` each with `has_second_factor` (one subquery, for a list of accounts)."""
    bound = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return users.annotate(has_second_factor=Exists(bound))


def _record(kind: str, actor: User, request: HttpRequest | None, detail: str) -> None:
    ip = client_ip(request) if request is not None else None
    record_security(kind, SecurityEvent.Outcome.SUCCESS, actor=actor, ip=ip, detail=detail)


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, for the authenticator app to scan."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# The session ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    user: User
    next_url: str


def begin_login(request: HttpRequest, user: User, next_url: str) -> None:
    """The password was right; the login waits for the code. Nothing of the user is in the
    session's auth keys yet: request.user stays anonymous until finish_login."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "next": next_url,
        "since": int(time.time()),
        "tries": 0,
    }


def pending_login(request: HttpRequest) -> Pending | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or int(time.time()) - int(data.get("since", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=data.get("user"), is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return Pending(user, str(data.get("next") or ""))


def count_failure(request: HttpRequest, user: User, reason: str) -> bool:
    """A wrong code in a pending login: a security event; True once MAX_TRIES are used up (the
    pending login is then dropped and the password must be given again)."""
    record_security(
        SecurityEvent.Kind.LOGIN_FAILED,
        SecurityEvent.Outcome.FAILURE,
        actor=user,
        ip=client_ip(request),
        detail=f"动态口令错误：{reason}",
    )
    data = request.session.get(PENDING_KEY) or {}
    data["tries"] = int(data.get("tries", 0)) + 1
    if data["tries"] >= MAX_TRIES:
        request.session.pop(PENDING_KEY, None)
        return True
    request.session[PENDING_KEY] = data
    return False


def mark_session(request: HttpRequest, device: TOTPDevice | None) -> None:
    """After django.contrib.auth.login: how this login met the rule (see SESSION_KEY)."""
    request.session.pop(PENDING_KEY, None)
    request.session[SESSION_KEY] = "totp" if device is not None else "none"


def forced_login_marks(user: User) -> dict[str, str]:
    """The session marks of a login that met the rule, for a session made without the login page
    by code that stands for one (the test client's force_login, manage.py bench_pages)."""
    return {SESSION_KEY: "totp" if required(user) else "none"}


def session_meets_rule(request: HttpRequest, user: User) -> bool:
    """No query: an administrator's session is good if its login went through the rule, and with
    a code where the user must give one."""
    if not offered(user):
        return True
    mark = request.session.get(SESSION_KEY)
    return mark == "totp" or (mark == "none" and not required(user))
