"""Where the current request comes from, for audit records written deep inside services that are
not handed the request (reports.workflow, reports.services). The middleware sets it for the
duration of one request; outside a request (commands, background jobs) it is None."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. REMOTE_ADDR only: a forwarded header is set by the
    client and cannot be trusted unless a proxy in front of us replaces it."""
    return request.META.get("REMOTE_ADDR") or None


def current_ip() -> str | None:
    return _client_ip.get()


class RequestOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)
