from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from api.urls import api

admin.site.site_header = "全国中小企业生产经营运行监测平台 管理后台"
admin.site.site_title = "监测平台管理后台"


def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The Django admin has no login form of its own: the platform's login page, with its
    lock-out, throttle and second factor, then back to the admin page asked for."""
    return redirect_to_login(request.GET.get("next") or "/django-admin/")


admin.site.login = admin_login  # type: ignore[method-assign]

urlpatterns = [
    path("", include("portal.urls")),
    path("accounts/", include("accounts.urls")),
    path("directory/", include("directory.urls")),
    path("notices/", include("notices.urls")),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("stats/", include("stats.urls")),
    path("analytics/", include("analytics.urls")),
    path("review/", include("review.urls")),
    path("transfer/", include("transfer.urls")),
    path("jobs/", include("jobs.urls")),
    path("api/v1/", api.urls),
    path("loadtest/", include("loadtest.urls")),
    path("django-admin/", admin.site.urls),
    path("healthz", include("ops.urls")),
]
