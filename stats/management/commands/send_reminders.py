"""python manage.py send_reminders [--period YYYY-MM] [--today YYYY-MM-DD]"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.periods import Period, current_report_month, local_today
from stats.reminders import remind


class Command(BaseCommand):
    help = (
        "向尚未上报月报（未开始或仍在编辑）的企业发送填报提醒：自报表月份次月的 REMINDER_DAY 日"
        "（默认 15 日）起，每天每家企业至多一次；优先短信（已绑定手机），"
        "否则电子邮件（已绑定邮箱），"
        "两者都未绑定的企业跳过并计数。同一天重复运行不会重复发送。"
        "建议每天定时运行一次，例如 cron："
        "`0 9 * * * cd /srv/sme && .venv/bin/python manage.py send_reminders`；"
        "配置 REDIS_URL 后由 Celery beat 每天 REMINDER_HOUR 时（北京时间）自动执行"
        "（任务 stats.tasks.send_daily_reminders）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period", help="报表月份 YYYY-MM；默认为当前报表月份（上一个自然月）。"
        )
        parser.add_argument(
            "--today", help="按哪一天发送（YYYY-MM-DD），默认今天；用于补发或测试。"
        )

    def handle(self, *args: object, **options: object) -> None:
        today = local_today()
        if options.get("today"):
            try:
                today = dt.date.fromisoformat(str(options["today"]))
            except ValueError:
                raise CommandError("--today 格式应为 YYYY-MM-DD。") from None
        if options.get("period"):
            try:
                period = Period.parse(str(options["period"]))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        else:
            period = current_report_month(today)
        result = remind(period, today)
        if not result.due:
            self.stdout.write(
                f"{period} 月报的提醒自 {result.reminder_date:%Y-%m-%d} 起发送，今天未发送。"
            )
            return
        self.stdout.write(
            f"{period} 月报填报提醒：已发送 {result.sent}，今天已提醒过 {result.already}，"
            f"未绑定手机和邮箱而跳过 {result.skipped}，发送失败 {result.failed}。"
        )
