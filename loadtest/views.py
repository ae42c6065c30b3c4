"""POST /loadtest/ping/: the benchmark's ceiling. It exists only where LOAD_TEST_ENDPOINTS is on
(bin/load-test turns it on for its own server); everywhere else it is an unknown address."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from loadtest.models import Ping


@require_POST
def ping(request: HttpRequest) -> HttpResponse:
    if not settings.LOAD_TEST_ENDPOINTS or not request.user.is_authenticated:
        raise Http404
    Ping.objects.create(user=request.user)
    return HttpResponse(status=204)
