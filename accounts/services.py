"""Account operations shared by the pages and the API: login by any identifier, registration,
binding a mobile or e-mail with a verification code, password change and API tokens."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import ApiToken, User, VerificationCode
from accounts.security import THROTTLED_MESSAGE, locked_message, throttle_login
from accounts.senders import SendError, get_sender
from audit.models import SecurityEvent
from audit.recorder import record_security
from directory.models import Enterprise, Region
from lib.validators import MOBILE_RE

WRONG_CREDENTIALS = "用户名或密码错误。"


class AccountError(Exception):
    """A refusal to show the user as it is (Chinese); `field` names the input it concerns, so
    that pages put it next to that field and the API names it in its errors."""

    def __init__(self, message: str, code: str = "invalid", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def resolve_login_name(identifier: str) -> User | None:
    """The user whose user ID, bound mobile or bound e-mail is `identifier`."""
    identifier = identifier.strip()
    if not identifier or "\x00" in identifier:
        return None
    if MOBILE_RE.match(identifier):
        lookup = {"mobile": identifier}
    elif "@" in identifier:
        lookup = {"email": identifier.lower()}
    else:
        lookup = {"username": identifier}
    return User.objects.filter(**lookup).first()


@sensitive_variables("password")
def login_with_identifier(request: HttpRequest, identifier: str, password: str) -> User:
    """Check the credentials under the lock-out rules; raise AccountError if refused. The password
    is starred in Django's error reports (a traceback through here lists the frame's locals)."""
    wait = throttle_login(request, identifier)
    if wait:
        raise AccountError(THROTTLED_MESSAGE.format(seconds=wait), code="throttled")
    user = resolve_login_name(identifier)
    username = user.username if user else identifier.strip().replace("\x00", "")
    authenticated = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise AccountError(locked_message(), code="locked")
    if authenticated is None:
        raise AccountError(WRONG_CREDENTIALS, code="wrong_credentials")
    return authenticated  # type: ignore[return-value]


@dataclass
class Registration:
    username: str
    password: str
    enterprise_name: str
    code_type: str
    code: str
    region: Region
    contact_person: str
    contact_phone: str


def register_enterprise(data: Registration) -> User:
    """Create the enterprise and its user together; a code registered already is refused."""
    if Enterprise.objects.filter(code=data.code).exists():
        raise AccountError(
            "该机构代码已注册，请直接登录或联系管理员。", code="duplicate_code", field="code"
        )
    if User.objects.filter(username=data.username).exists():
        raise AccountError(
            "该用户ID已被使用，请换一个。", code="duplicate_username", field="username"
        )
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(
                name=data.enterprise_name,
                code_type=data.code_type,
                code=data.code,
                region=data.region,
                contact_person=data.contact_person,
                contact_phone=data.contact_phone,
            )
            return User.objects.create_user(
                data.username,
                data.password,
                user_type=User.Type.ENTERPRISE,
                enterprise=enterprise,
            )
    except IntegrityError:
        # Two registrations of the same code or user ID at once: the second one loses here.
        raise AccountError("该用户ID或机构代码已注册。", code="duplicate") from None


# Binding a mobile number or an e-mail address ------------------------------------------------

CHANNEL_LABEL = {"mobile": "手机号码", "email": "邮箱地址"}


def _normalize_target(channel: str, target: str) -> str:
    target = target.strip()
    return target.lower() if channel == VerificationCode.Channel.EMAIL else target


def _local_midnight(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def send_binding_code(user: User, channel: str, target: str) -> VerificationCode:
    """Issue a 6-digit code for binding `target`, within the rate limits."""
    target = _normalize_target(channel, target)
    label = CHANNEL_LABEL[channel]
    field = "mobile" if channel == VerificationCode.Channel.MOBILE else "email"
    if getattr(user, field) == target:
        raise AccountError(f"该{label}已绑定到您的账户。", code="already_bound")
    if User.objects.filter(**{field: target}).exclude(pk=user.pk).exists():
        raise AccountError(f"该{label}已被其他用户绑定。", code="taken")
    now = timezone.now()
    with transaction.atomic():
        # Serialise requests for the same target so that two clicks cannot both pass the limits.
        recent = list(
            VerificationCode.objects.select_for_update()
            .filter(target=target, created_at__gte=_local_midnight(now))
            .order_by("-created_at")
        )
        if recent:
            since_last = (now - recent[0].created_at).total_seconds()
            if since_last < settings.VERIFICATION_RESEND_SECONDS:
                wait = int(settings.VERIFICATION_RESEND_SECONDS - since_last) + 1
                raise AccountError(f"验证码已发送，请{wait}秒后再重新获取。", code="too_soon")
        if len(recent) >= settings.VERIFICATION_DAILY_LIMIT:
            raise AccountError(
                f"该{label}今日获取验证码次数已达上限，请明天再试。", code="daily_limit"
            )
        VerificationCode.objects.filter(
            user=user, channel=channel, used_at__isnull=True, voided_at__isnull=True
        ).update(voided_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        record = VerificationCode.objects.create(
            user=user,
            channel=channel,
            target=target,
            code_hash=VerificationCode.hash_code(code),
            created_at=now,
            expires_at=now + settings.VERIFICATION_CODE_TTL,
        )
        minutes = int(settings.VERIFICATION_CODE_TTL.total_seconds() // 60)
        body = (
            f"您正在全国中小企业生产经营运行监测平台绑定{label}，验证码 {code}，"
            f"{minutes}分钟内有效。如非本人操作，请忽略。"
        )
        try:
            get_sender(channel).send(channel, target, "监测平台验证码", body)
        except SendError as exc:
            raise AccountError(str(exc), code="send_failed") from exc
    return record


def confirm_binding(user: User, channel: str, target: str, code: str) -> User:
    """Check the code for `target` and bind it to the user."""
    target = _normalize_target(channel, target)
    field = "mobile" if channel == VerificationCode.Channel.MOBILE else "email"
    now = timezone.now()
    with transaction.atomic():
        record = (
            VerificationCode.objects.select_for_update()
            .filter(
                user=user,
                channel=channel,
                target=target,
                used_at__isnull=True,
                voided_at__isnull=True,
            )
            .order_by("-created_at")
            .first()
        )
        if record is None:
            raise AccountError("请先点击【绑定】获取验证码。", code="no_code")
        if record.expires_at <= now:
            raise AccountError("验证码已过期，请重新获取。", code="expired")
        if not hmac.compare_digest(record.code_hash, VerificationCode.hash_code(code.strip())):
            record.failed_tries += 1
            fields = ["failed_tries"]
            left = settings.VERIFICATION_MAX_TRIES - record.failed_tries
            if left <= 0:
                record.voided_at = now
                fields.append("voided_at")
            record.save(update_fields=fields)
            # Raised after the block, so that the counted try is committed, not rolled back.
            if left <= 0:
                error = AccountError("验证码错误次数过多，已失效，请重新获取。", code="voided")
            else:
                error = AccountError(f"验证码不正确，还可尝试{left}次。", code="wrong_code")
        else:
            error = None
            record.used_at = now
            record.save(update_fields=["used_at"])
            setattr(user, field, target)
            try:
                with transaction.atomic():
                    user.save(update_fields=[field])
            except IntegrityError:
                raise AccountError("该号码或邮箱已被其他用户绑定。", code="taken") from None
    if error is not None:
        raise error
    return user


# API tokens ----------------------------------------------------------------------------------


def issue_api_token(user: User) -> tuple[str, ApiToken]:
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + settings.API_TOKEN_TTL,
    )
    # The address comes from the request context (the API view does not hand it down).
    record_security(
        SecurityEvent.Kind.TOKEN_CREATE,
        SecurityEvent.Outcome.SUCCESS,
        actor=user,
        detail=f"令牌{token.pk}，有效至{timezone.localtime(token.expires_at):%Y-%m-%d %H:%M}",
    )
    return key, token


def user_for_api_token(key: str) -> User | None:
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__enterprise__region", "user__region")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_tokens(user: User) -> None:
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    if revoked:  # nothing to revoke is no event
        record_security(
            SecurityEvent.Kind.TOKEN_REVOKE,
            SecurityEvent.Outcome.SUCCESS,
            actor=user,
            detail=f"吊销{revoked}个令牌",
        )


def api_tokens_of(user: User) -> list[ApiToken]:
    """The user's own tokens, newest first, expired ones included (shown as 已过期 so that the
    owner sees what was issued and may still revoke it)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"))


def revoke_api_token(user: User, token_id: int) -> bool:
    """Revokes one token of `user`; False when `user` has no token of that id. The filter on the
    owner is what makes another user's token unreachable, so callers answer False with a 404."""
    revoked, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not revoked:
        return False
    record_security(
        SecurityEvent.Kind.TOKEN_REVOKE,
        SecurityEvent.Outcome.SUCCESS,
        actor=user,
        detail=f"吊销令牌{token_id}",
    )
    return True
