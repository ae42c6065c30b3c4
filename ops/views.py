"""GET /healthz: the load balancer's probe (ops.health says what is checked)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ops.health import OK, run_checks


@never_cache  # a proxy must not answer a probe from its cache
@require_safe  # GET and HEAD: nothing to protect from CSRF, no session, no user
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    healthy = all(result == OK for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": results},
        status=200 if healthy else 503,
    )
