"""等级保护: a session ends after SESSION_IDLE_SECONDS seconds without a request, whatever the
session store does with its own expiry (with REDIS_URL the sessions are cached in Redis, whose
keys expire by Redis's clock, and cached_db reads them without looking at the expiry date); an
administrator's session that did not come through the second-factor rule of the login is ended;
an administrator whose password has expired may do nothing but change it."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts import second_factor
from accounts.models import INITIAL_PASSWORD, User

LAST_SEEN = "_last_seen"
API_PREFIX = "/api/"


class IdleSessionMiddleware:
    """Ends the login of a session idle for longer than SESSION_IDLE_SECONDS; every request of a
    logged-in user pushes the end forward. The mark is rewritten (and the session saved) only when
    it is SESSION_MARK_SECONDS old, so that reading a page does not write the session: the end
    may come up to that much earlier than the idle period after the last request, never later."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            if isinstance(last, int) and now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)  # the view then answers as to anyone not logged in
            elif not isinstance(last, int) or now - last >= settings.SESSION_MARK_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="accounts.idle-session-mark")
def mark_at_login(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    """The login writes the session anyway: the mark goes with it, so that the first page after
    it writes nothing."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


class SecondFactorMiddleware:
    """Ends an administrator's session whose login did not go through the second-factor rule
    (accounts.second_factor.session_meets_rule): one made by another path (the Django admin's
    own login form, a session from before the rule) or a national administrator's without a
    code. The user logs in again through the login page, which asks for the code. No query: the
    rule reads the user row already loaded and the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not second_factor.session_meets_rule(request, user)
        ):
            logout(request)
            if request.path_info.startswith(API_PREFIX):
                return JsonResponse({"detail": SECOND_FACTOR_LOGIN_AGAIN}, status=401)
            messages.warning(request, SECOND_FACTOR_LOGIN_AGAIN)
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(reverse("accounts:login"))
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


SECOND_FACTOR_LOGIN_AGAIN = "请重新登录：管理员登录需要经过动态口令验证。"


INITIAL_PASSWORD_MESSAGE = "您的密码由管理员设置，首次登录请先修改密码。"
INITIAL_PASSWORD_API_MESSAGE = "您的密码由管理员设置，请先登录网页修改密码后再使用接口。"


def password_change_message(user: User) -> str:
    if user.password_change_reason == INITIAL_PASSWORD:
        return INITIAL_PASSWORD_MESSAGE
    return f"您的密码已超过{settings.ADMIN_PASSWORD_MAX_AGE_DAYS}天未修改，请先修改密码。"


def password_change_api_message(user: User) -> str:
    # The API has no password change of its own: the user is told where to do it.
    if user.password_change_reason == INITIAL_PASSWORD:
        return INITIAL_PASSWORD_API_MESSAGE
    days = settings.ADMIN_PASSWORD_MAX_AGE_DAYS
    return f"您的密码已超过{days}天未修改，请先登录网页修改密码后再使用接口。"


class PasswordExpiryMiddleware:
    """Sends a user who must change the password (User.password_change_reason: one set by an
    administrator, or an administrator's that has expired) to the password change page, whatever
    page was asked for, until the password is changed. Placed after the
    idle-session check (an ended session is simply logged out), the messages middleware (the
    redirect carries the reason) and htmx's. No query of its own: the user row is loaded already.

    API calls with a session get a 403 in the API's shape instead of a redirect; calls with a
    token are refused by api.auth.BearerToken (request.user is not set yet here)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.allowed = {reverse("accounts:password_change"), reverse("accounts:logout"), "/healthz"}
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.must_change_password
            and request.path not in self.allowed
            and not request.path.startswith(self.static_prefix)
        ):
            return self.refuse(request)
        return self.get_response(request)

    def refuse(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            user = request.user
            return JsonResponse({"detail": password_change_api_message(user)}, status=403)
        messages.warning(request, password_change_message(request.user))
        url = reverse("accounts:password_change")
        # An htmx request would swap the password page into a fragment: the browser goes there.
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(url)
        return redirect(url)
