from django.urls import path

from notices import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("manage/", views.notice_manage, name="manage"),
    path("manage/new/", views.notice_edit, name="create"),
    path("manage/<int:pk>/edit/", views.notice_edit, name="edit"),
    path("manage/<int:pk>/delete/", views.notice_delete, name="delete"),
]
