from django.urls import path

from loadtest import views

app_name = "loadtest"
urlpatterns = [path("ping/", views.ping, name="ping")]
