from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("export.xlsx", views.worklist_xlsx, name="worklist_xlsx"),
    path("batch-approve/", views.batch, name="batch_approve"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/approve/", views.approve_view, name="approve"),
    path("reports/<int:pk>/return/", views.return_view, name="return"),
    path("reports/<int:pk>/reopen/", views.reopen_view, name="reopen"),
    path("changes/", views.changes, name="changes"),
    path("changes/<int:pk>/", views.change_detail, name="change"),
    path("changes/<int:pk>/approve/", views.change_approve, name="change_approve"),
    path("changes/<int:pk>/return/", views.change_return, name="change_return"),
]
