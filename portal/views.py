from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lib.access import login_required
from notices.models import Notice
from notices.selectors import readable_notices
from reports.catalogue import report_type_label
from reports.periods import current_report_month
from reports.selectors import month_summaries

LATEST = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    current = current_report_month()
    notices = readable_notices(user)
    if user.is_enterprise:
        # The two latest months with the enterprise's report of each (a constant few queries).
        months = month_summaries(user, [current, current.previous()])
    else:
        months = [{"period": current, "type_label": report_type_label(current)}]
    context = {
        "months": months,
        "notices": notices.filter(kind=Notice.Kind.NOTICE)[:LATEST],
        "news": notices.filter(kind=Notice.Kind.NEWS)[:LATEST],
    }
    return render(request, "portal/home.html", context)


def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/faq.html")
