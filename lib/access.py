"""Page access by user type: anyone not logged in goes to the login page; a logged-in user of
another type gets 404, as if the page did not exist."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


def role_required(*user_types: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user_types and request.user.user_type not in user_types:  # type: ignore[union-attr]
                record_denied(request)
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


login_required = role_required()


def record_denied(request: HttpRequest) -> None:
    """A logged-in user refused a page or an API operation is a security event (one INSERT):
    who, from where, "METHOD path". Shared by role_required and the API's refusals (api.urls).
    Imported here, not at the top: lib is below audit, whose views use this module."""
    from audit.context import client_ip
    from audit.models import SecurityEvent
    from audit.recorder import record_security

    record_security(
        SecurityEvent.Kind.DENIED,
        SecurityEvent.Outcome.FAILURE,
        actor=request.user,
        ip=client_ip(request),
        detail=f"{request.method} {request.path}",
    )


def posted(request: HttpRequest) -> Any:
    """The POST data for a form, or None on GET. (`request.POST or None` would leave an empty
    POST unbound and silently ignore it.)"""
    return request.POST if request.method == "POST" else None
