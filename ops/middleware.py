"""Request ids, and the health endpoint answered ahead of everything else.

RequestIdMiddleware comes first in settings.MIDDLEWARE, so that every log line of the request, from
any layer below it, carries the id (ops.logs), and the response carries it back in X-Request-ID.
The id is the proxy's X-Request-ID when that is well-formed (the proxy's and our log lines then
join up), else a new uuid4. A client can choose the id of its own requests that way; it is only a
label for finding log lines, never trusted for anything else."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from ops import logs
from ops.views import healthz

HEADER = "X-Request-ID"
# Enough for a uuid, a trace id or the proxies' own formats; nothing that could break a log line.
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
HEALTH_PATH = "/healthz"


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    return offered if WELL_FORMED.fullmatch(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        logs.bind(request_id, request)
        if request.path_info == HEALTH_PATH:
            # The load balancer's probe runs none of the layers below: no session or user lookup
            # (the idle-session middleware would load both for a request carrying a cookie), no
            # CSRF, and no ALLOWED_HOSTS check, since a balancer probes each server by its address.
            response = healthz(request)
        else:
            response = self.get_response(request)
        response[HEADER] = request_id
        # The id stays bound until the response is closed, not only until this returns: Django
        # logs a 4xx/5xx response returned by a view (log_response) after the middleware, and a
        # streamed export is written after it too. request_finished then unbinds it.
        return response


@receiver(request_finished, dispatch_uid="ops.request-id-unbind")
def unbind_request_id(**kwargs: object) -> None:
    """The next request of this thread, and anything logged between two requests, starts
    without the last one's id and user."""
    logs.unbind()
