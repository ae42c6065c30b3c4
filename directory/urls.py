from django.urls import path

from directory import views

app_name = "directory"
urlpatterns = [
    path("options/<slug:kind>/", views.cascade_options, name="cascade_options"),
]
