"""The append-only base of the audit tables (AuditEntry, ReportEvent, ImportLog): written once,
never changed or deleted through the application — not by an instance, not by a queryset."""

from __future__ import annotations

from django.db import models

UNCHANGEABLE = "审计记录不可修改。"
UNDELETABLE = "审计记录不可删除。"


class AppendOnlyQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def update(self, **kwargs: object) -> int:
        raise PermissionError(UNCHANGEABLE)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(UNDELETABLE)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise PermissionError(UNCHANGEABLE)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError(UNDELETABLE)
