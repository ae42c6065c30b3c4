from django.urls import path

from ops import views

app_name = "ops"
# Mounted at /healthz by sme.urls; ops.middleware.RequestIdMiddleware answers that path before the
# other middleware, this route names it (reverse("ops:healthz")) and serves it if the middleware
# is ever moved.
urlpatterns = [path("", views.healthz, name="healthz")]
