from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "运行监测分析"

    def ready(self) -> None:
        from analytics import (
            cube,  # noqa: F401  (connects the status-change receiver)
            document,  # noqa: F401  (registers the analysis_report job)
        )
