"""python manage.py reap_jobs: what celery beat does every 5 minutes (jobs.tasks.reap_stale_jobs),
for operators: after a worker or the machine was restarted, or where no scheduler runs."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.runner import reap_stale


class Command(BaseCommand):
    help = (
        "清理中断的后台任务：“处理中”且超过 JOB_STALE_MINUTES 分钟（默认 10 分钟）没有进度的任务，"
        "其后台处理进程已停止，标记为失败并告知发起人已保存的部分保持有效、请重新提交；"
        "排队同样久仍未开始的任务，使用 Celery 时重新放入队列，否则标记为失败。"
        "配置 REDIS_URL 后由 Celery beat 每 5 分钟自动执行（任务 jobs.tasks.reap_stale_jobs）。"
    )

    def handle(self, *args: object, **options: object) -> None:
        count = reap_stale()
        minutes = int(settings.JOB_STALE_AFTER.total_seconds() // 60)
        if count:
            self.stdout.write(
                f"已处理 {count} 个超过 {minutes} 分钟没有进展的后台任务（明细见日志 sme.jobs）。"
            )
        else:
            self.stdout.write(f"没有超过 {minutes} 分钟没有进展的后台任务。")
