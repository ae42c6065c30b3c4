from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.login_second_factor_view, name="login_second_factor"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register_view, name="register"),
    path("profile/", views.profile_view, name="profile"),
    path("profile/bind/send/", views.bind_view, {"step": "send"}, name="bind_send"),
    path("profile/bind/confirm/", views.bind_view, {"step": "confirm"}, name="bind_confirm"),
    path("password/", views.password_change_view, name="password_change"),
    path("second-factor/", views.second_factor_view, name="second_factor"),
    path("tokens/", views.tokens_view, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("tokens/revoke-all/", views.tokens_revoke_all_view, name="tokens_revoke_all"),
    path("outbox/", views.outbox_view, name="outbox"),
    path("administrators/", views.administrators_view, name="administrators"),
    path("administrators/new/", views.administrator_create_view, name="administrator_create"),
    path(
        "administrators/<int:pk>/toggle/",
        views.administrator_toggle_view,
        name="administrator_toggle",
    ),
    path(
        "administrators/<int:pk>/reset-second-factor/",
        views.administrator_reset_second_factor_view,
        name="administrator_reset_second_factor",
    ),
]
