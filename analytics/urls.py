from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.analytics_page, name="page"),
    path("export.xlsx", views.analytics_xlsx, name="xlsx"),
    path("report/", views.report_preview, name="report"),
    path("report/docx/", views.report_docx, name="report_docx"),
]
