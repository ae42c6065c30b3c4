from django.urls import path

from stats import views

app_name = "stats"

urlpatterns = [
    path("completion/", views.completion_page, name="completion"),
    path("completion/enterprises/", views.completion_enterprises, name="completion_enterprises"),
    path("completion.xlsx", views.completion_xlsx, name="completion_xlsx"),
    path("reports.xlsx", views.reports_xlsx, name="reports_xlsx"),
]
