from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from accounts import second_factor
from accounts.middleware import password_change_api_message
from accounts.services import AccountError, issue_api_token, login_with_identifier
from api.schemas import DetailOut, ErrorsOut, MeOut, RegionOut, TokenIn, TokenOut
from audit.models import SecurityEvent
from audit.recorder import record_security

router = Router(tags=["账户"])


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 400: ErrorsOut, 401: DetailOut, 403: DetailOut, 429: DetailOut},
    summary="以用户ID（或绑定的手机/邮箱）和密码（已启用动态口令的账户另加 otp_code）换取令牌",
)
def create_token(request: HttpRequest, payload: TokenIn):
    try:
        user = login_with_identifier(request, payload.username, payload.password)
    except AccountError as exc:
        status = 429 if exc.code in ("locked", "throttled") else 401
        return Status(status, {"detail": exc.message})
    try:
        second_factor.check_api_login(request, user, payload.otp_code)
    except AccountError as exc:
        status = {"bind_first": 403, "throttled": 429}.get(exc.code, 401)
        return Status(status, {"detail": exc.message})
    # An administrator whose password has expired may not use the API until it is changed on
    # the web (api.auth refuses their tokens with 403), so no token is issued to wait for it.
    if user.must_change_password:
        return Status(403, {"detail": password_change_api_message(user)})
    # An API login calls no login(), so Django's user_logged_in is not sent: recorded here.
    record_security(
        SecurityEvent.Kind.LOGIN_OK, SecurityEvent.Outcome.SUCCESS, actor=user, detail="API登录"
    )
    key, token = issue_api_token(user)
    return Status(200, {"token": key, "expires_at": token.expires_at})


@router.get("/me", response=MeOut, summary="当前用户")
def me(request: HttpRequest):
    user = request.user
    region = user.home_region
    return {
        "username": user.username,
        "nickname": user.nickname,
        "user_type": user.user_type,
        "user_type_label": user.get_user_type_display(),
        "region": RegionOut(code=region.code, name=region.full_name) if region else None,
        "mobile": user.mobile,
        "email": user.email,
    }
