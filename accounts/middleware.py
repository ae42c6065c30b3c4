"""等级保护: a session ends after SESSION_COOKIE_AGE seconds without a request, whatever the
session store does with its own expiry (with REDIS_URL the sessions are cached in Redis, whose
keys expire by Redis's clock, and cached_db reads them without looking at the expiry date)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN = "_last_seen"


class IdleSessionMiddleware:
    """Ends the login of a session idle for longer than SESSION_COOKIE_AGE; every request of a
    logged-in user pushes the end forward (the session is saved on every request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_SEEN)
            if isinstance(last, int) and now - last > settings.SESSION_COOKIE_AGE:
                logout(request)  # the view then answers as to anyone not logged in
            else:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
