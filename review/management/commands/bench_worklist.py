"""Benchmark of the reviewers' worklist on a large month, beside a bare SQL query for the same
page. It adds BENCH enterprises and reports to the database it runs on: use a scratch database."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from directory.models import Enterprise, Region
from reports.models import Report
from reports.periods import Period
from review.selectors import WorklistFilter, status_counts, worklist

PERIOD = Period(2026, 10)
STATUSES = [Report.Status.PENDING] * 6 + [Report.Status.APPROVED] * 3 + [Report.Status.RETURNED]


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def uncached_counts(admin: User) -> dict[str, int]:
    cache.clear()
    return status_counts(admin, PERIOD)


class Command(BaseCommand):
    help = (
        "测量审核工作列表（首页、深处的一页、各状态计数）在大量企业时的耗时，"
        "并在同一次运行中测量取同一页的裸 SQL 作为参照。"
        "会向所连数据库写入 BENCH 测试企业和报表：请使用专用的测试数据库。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enterprises", type=int, default=100_000)
        parser.add_argument("--rounds", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        self._populate(options["enterprises"])
        admin, _ = User.objects.get_or_create(
            username="bench_zhejiang",
            defaults={"user_type": User.Type.LOCAL_ADMIN, "region_id": "330000"},
        )
        rounds = options["rounds"]
        first_page, cursor = worklist(admin, WorklistFilter(PERIOD))
        deep_cursor = cursor
        for _ in range(20):  # walk 20 pages in, to time a page deep in the list
            _, deep_cursor = worklist(admin, WorklistFilter(PERIOD, after=deep_cursor))
        table = Report._meta.db_table
        enterprise_table = Enterprise._meta.db_table

        def bare() -> list:
            with connection.cursor() as c:
                c.execute(
                    f"SELECT r.id FROM {table} r "
                    f"JOIN {enterprise_table} e ON e.id = r.enterprise_id "
                    "WHERE r.period = %s AND r.status = %s AND e.region_id LIKE %s "
                    "ORDER BY r.id LIMIT 51",
                    [str(PERIOD), Report.Status.PENDING, "33%"],
                )
                return c.fetchall()

        rows = [
            ("裸 SQL：同一页的 id（参照）", median_ms(bare, rounds)),
            (
                "工作列表第一页（50 行）",
                median_ms(lambda: worklist(admin, WorklistFilter(PERIOD)), rounds),
            ),
            (
                "工作列表第 21 页（keyset）",
                median_ms(
                    lambda: worklist(admin, WorklistFilter(PERIOD, after=deep_cursor)), rounds
                ),
            ),
            ("各状态计数：首次（分组查询）", median_ms(lambda: uncached_counts(admin), rounds)),
            (
                "各状态计数：一分钟内再次（缓存）",
                median_ms(lambda: status_counts(admin, PERIOD), rounds),
            ),
        ]
        month = Report.objects.filter(period=str(PERIOD))
        total = month.count()
        in_zhejiang = month.filter(enterprise__region__code__startswith="33").count()
        self.stdout.write(
            f"数据库 {connection.vendor}；{PERIOD} 报表 {total} 份，浙江省内 {in_zhejiang} 份；"
            f"每项 {rounds} 次取中位数；第一页 {len(first_page)} 行"
        )
        self.stdout.write("| 操作 | 耗时 (ms) |\n|---|---|")
        for label, ms in rows:
            self.stdout.write(f"| {label} | {ms:.2f} |")

    def _populate(self, wanted: int) -> None:
        have = Enterprise.objects.filter(name__startswith="BENCH").count()
        if have >= wanted:
            return
        counties = list(
            Region.objects.filter(level=3, code__regex=r"^(33|44|32|37)").values_list(
                "pk", flat=True
            )
        )
        now = timezone.now()
        with transaction.atomic():
            for start in range(have, wanted, 5000):
                batch = [
                    Enterprise(
                        name=f"BENCH{n:07d}",
                        code_type="uscc",
                        code=f"BENCH{n:013d}",
                        region_id=counties[n % len(counties)],
                        contact_person="测试",
                        contact_phone="0574-86601234",
                    )
                    for n in range(start, min(start + 5000, wanted))
                ]
                made = Enterprise.objects.bulk_create(batch)
                Report.objects.bulk_create(
                    Report(
                        enterprise=e,
                        period=str(PERIOD),
                        status=STATUSES[i % len(STATUSES)],
                        submitted_at=now,
                    )
                    for i, e in enumerate(made)
                )
