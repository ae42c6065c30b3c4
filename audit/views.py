from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import User
from audit.models import AuditEntry
from lib.access import role_required
from reports.models import ReportEvent
from reports.workflow import Action


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@role_required(User.Type.SENIOR_ADMIN)
def search(request: HttpRequest) -> HttpResponse:
    """The whole trail for national administrators: administrative actions or report status
    changes, filtered by who, what and when."""
    kind = "reports" if request.GET.get("kind") == "reports" else "admin"
    text = request.GET.get("q", "").strip()[:100].replace("\x00", "")
    start, end = _date(request.GET.get("from")), _date(request.GET.get("to"))
    if kind == "admin":
        qs = AuditEntry.objects.select_related("actor")
        if text:
            qs = qs.filter(
                Q(summary__icontains=text)
                | Q(actor__username=text)
                | Q(object_type__icontains=text)
            )
    else:
        qs = ReportEvent.objects.select_related("actor", "report__enterprise")
        if text:
            qs = qs.filter(
                Q(report__enterprise__name__icontains=text)
                | Q(actor__username=text)
                | Q(reason__icontains=text)
                | Q(report__period=text)
            )
        qs = qs.order_by("-at", "-id")
    if start:
        qs = qs.filter(at__date__gte=start)
    if end:
        qs = qs.filter(at__date__lte=end)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    if kind == "reports":
        labels = dict(Action.choices)
        for event in page:
            event.action_label = labels.get(event.action, event.action)
    filters = urlencode(
        {"kind": kind, "q": text, "from": start or "", "to": end or ""}  # the pager keeps them
    )
    context = {"page": page, "kind": kind, "q": text, "from": start, "to": end, "filters": filters}
    return render(request, "audit/search.html", context)
