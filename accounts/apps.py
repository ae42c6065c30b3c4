from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与登录"

    def ready(self) -> None:
        from accounts import middleware  # noqa: F401  (connects the login's idle-session mark)
