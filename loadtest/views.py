"""POST /loadtest/ping/: the benchmark's ceiling. It exists only where LOAD_TEST_ENDPOINTS is on
(bin/load-test turns it on for its own server); everywhere else it is an unknown address, to every
method (the setting is checked before the method, so a GET does not reveal it with a 405)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed

from loadtest.models import Ping


def ping(request: HttpRequest) -> HttpResponse:
    if not settings.LOAD_TEST_ENDPOINTS or not request.user.is_authenticated:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    Ping.objects.create(user=request.user)
    return HttpResponse(status=204)
