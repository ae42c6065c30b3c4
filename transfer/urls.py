from django.urls import path

from transfer import views

app_name = "transfer"
urlpatterns = [
    path("import/", views.import_view, name="import"),
    path("template/", views.template_download, name="template"),
    path("report/", views.report_download, name="report"),
    path("bulk/", views.bulk_import_view, name="bulk"),
    path("bulk/template/", views.bulk_template_download, name="bulk_template"),
]
