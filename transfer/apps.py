from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "transfer"
    verbose_name = "导入导出"

    def ready(self) -> None:
        from jobs.runner import register
        from transfer.bulk import BULK_KIND, handle_bulk_job

        register(BULK_KIND)(handle_bulk_job)
