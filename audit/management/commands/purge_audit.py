"""Delete audit records older than AUDIT_RETENTION_DAYS: the administrative trail (AuditEntry)
and the security events. Report events (reports.ReportEvent) are part of the reports' own history
and are not touched. 等级保护 level 3 asks that audit records be kept at least six months, so a
retention under 180 days is refused rather than applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.utils import timezone

from audit.models import AuditEntry, SecurityEvent

MINIMUM_DAYS = 180
BATCH = 5000


def purge(model: type[models.Model], cutoff: Any) -> int:
    """Delete the model's rows older than `cutoff`, in batches (short locks on a large table).
    The trail refuses deletes through its own manager (AppendOnlyQuerySet); a plain QuerySet is
    the one deliberate way around it, used by this command only."""
    rows = models.QuerySet(model=model)
    deleted = 0
    while True:
        ids = list(rows.filter(at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted
        with transaction.atomic():
            count, _ = rows.filter(pk__in=ids).delete()
        deleted += count


class Command(BaseCommand):
    help = "删除超过保存期限（AUDIT_RETENTION_DAYS，不少于180天）的审计记录与安全事件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="保存天数（默认取 AUDIT_RETENTION_DAYS）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.AUDIT_RETENTION_DAYS
        if days < MINIMUM_DAYS:
            raise CommandError(
                f"审计记录保存期限为{days}天，不足{MINIMUM_DAYS}天（等级保护要求至少保存6个月），"
                "未删除任何记录。"
            )
        cutoff = timezone.now() - timedelta(days=days)
        entries = purge(AuditEntry, cutoff)
        events = purge(SecurityEvent, cutoff)
        self.stdout.write(
            f"已删除{cutoff:%Y-%m-%d}之前的审计记录{entries}条、安全事件{events}条"
            f"（保存期限{days}天）。"
        )
