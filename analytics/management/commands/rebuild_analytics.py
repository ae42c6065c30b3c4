"""Recompute the analytics aggregate from the raw reports: after loading reports by other means
than the workflow (a bulk load, a restore), or to repair. `--check` only compares."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from analytics import cube
from reports.models import Report


class Command(BaseCommand):
    help = "重新计算分析汇总数据（--check 只核对不写入）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("periods", nargs="*", help="报表月份 YYYY-MM，默认全部月份")
        parser.add_argument("--check", action="store_true", help="只核对汇总数据是否与报表一致")

    def handle(self, *args: Any, **options: Any) -> None:
        periods = options["periods"] or sorted(
            set(Report.objects.values_list("period", flat=True).distinct().order_by())
        )
        if options["check"]:
            differing = cube.verify(periods)
            if differing:
                raise CommandError(f"以下月份的汇总数据与报表不一致：{'、'.join(differing)}")
            self.stdout.write(f"{len(periods)} 个月份的汇总数据与报表一致。")
            return
        start = time.perf_counter()
        written = cube.rebuild(periods)
        took = time.perf_counter() - start
        summary = f"已重新计算 {len(periods)} 个月份，写入 {written} 行"
        self.stdout.write(f"{summary}，用时 {took:.1f} 秒。")
