"""等级保护: a session ends after SESSION_IDLE_SECONDS seconds without a request, whatever the
session store does with its own expiry (with REDIS_URL the sessions are cached in Redis, whose
keys expire by Redis's clock, and cached_db reads them without looking at the expiry date)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

LAST_SEEN = "_last_seen"


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
