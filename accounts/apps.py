from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与登录"

    def ready(self) -> None:
        # Imported for their receivers: the login's idle-session mark, the security events.
        from accounts import middleware, signals  # noqa: F401
