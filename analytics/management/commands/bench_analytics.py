"""Benchmark of the analytics figures on a loaded database (`generate_dataset` first), each beside
a hand-written SQL GROUP BY over the raw reports computing the same figures in the same run:

- a month's region × industry table (national scope, children = provinces, columns = 门类) with
  growth, and the region table with last month's growth for the change;
- the 24-month trend of one indicator for the whole country;
- 填报情况 (completion) for the whole country;
- what an approval adds to its transaction (the aggregate's delta), beside the status UPDATE.

Prints the median of --rounds runs for ours and for the bare SQL, and ours / SQL (target < 3),
on whatever DATABASE_URL points at. Nothing is written."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import User
from analytics import cube, figures
from analytics.models import REPORTS, Bucket, Cell, Dim
from reports.models import Report
from reports.periods import Period
from stats.completion import completion

# The same figures from the raw tables: the month's facts from basic_info, comparable sums,
# growing enterprises.
FACT = "COALESCE({json}, '')"
RAW_CROSS = """
SELECT r.period,
       SUBSTR({county}, 1, 2) AS province,
       d.parent_id AS section,
       COUNT(*) AS reports,
       SUM(v.ytd) AS total,
       SUM(v.ytd) FILTER (WHERE v.last_year_ytd IS NOT NULL) AS cmp,
       SUM(v.last_year_ytd) FILTER (WHERE v.ytd IS NOT NULL) AS base,
       COUNT(*) FILTER (WHERE v.ytd > v.last_year_ytd) AS up
FROM reports_report r
JOIN reports_indicatorvalue v ON v.report_id = r.id AND v.code = %s
LEFT JOIN directory_industry d ON d.code = SUBSTR({industry}, 1, 2)
WHERE r.period IN (%s, %s) AND r.status = 'approved'
GROUP BY 1, 2, 3
"""
RAW_TREND = """
SELECT r.period,
       COUNT(*) AS reports,
       SUM(v.ytd) FILTER (WHERE v.last_year_ytd IS NOT NULL) AS cmp,
       SUM(v.last_year_ytd) FILTER (WHERE v.ytd IS NOT NULL) AS base,
       COUNT(*) FILTER (WHERE v.ytd > v.last_year_ytd) AS up
FROM reports_report r
JOIN reports_indicatorvalue v ON v.report_id = r.id AND v.code = %s
WHERE r.period >= %s AND r.period <= %s AND r.status = 'approved'
GROUP BY 1
"""
RAW_COMPLETION_ENTERPRISES = """
SELECT SUBSTR(e.region_id, 1, 2), COUNT(*) FROM directory_enterprise e GROUP BY 1
"""
RAW_COMPLETION_REPORTS = """
SELECT SUBSTR(e.region_id, 1, 2),
       COUNT(*) FILTER (WHERE r.status IN ('pending', 'approved', 'returned')),
       COUNT(*) FILTER (WHERE r.status = 'pending'),
       COUNT(*) FILTER (WHERE r.status = 'approved'),
       COUNT(*) FILTER (WHERE r.status = 'returned'),
       COUNT(*) FILTER (WHERE r.status IN ('pending', 'approved', 'returned')
                         AND r.submitted_at < %s)
FROM reports_report r JOIN directory_enterprise e ON e.id = r.enterprise_id
WHERE r.period = %s
GROUP BY 1
"""


def _sql(template: str) -> str:
    if connection.vendor == "postgresql":
        county = FACT.format(json="r.basic_info->>'region'")
        industry = FACT.format(json="r.basic_info->>'industry'")
    else:
        county = FACT.format(json="json_extract(r.basic_info, '$.region')")
        industry = FACT.format(json="json_extract(r.basic_info, '$.industry')")
    return template.replace("{county}", county).replace("{industry}", industry)


class Command(BaseCommand):
    help = "分析统计基准测试：与同一数据上的手写 SQL 分组查询对比（需先运行 generate_dataset）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", help="报表月份 YYYY-MM，默认为有数据的最近月份")
        parser.add_argument("--indicator", default="revenue")
        parser.add_argument("--rounds", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        admin = User(username="bench", user_type=User.Type.SENIOR_ADMIN, is_active=True)
        scope = figures.scope_for(admin, None)
        months = figures.months_with_data(scope)
        if not months:
            raise CommandError("数据库中没有审核通过的报表，请先运行 generate_dataset。")
        period = Period.parse(options["period"] or months[0])
        info = figures.indicator_info(period, options["indicator"])
        rounds = options["rounds"]
        trend_months = figures.months_back(period, 24)
        reports = Cell.objects.filter(
            period=str(period), indicator=REPORTS, dim=Dim.ALL
        ).values_list("n", flat=True)
        self.stdout.write(
            f"{connection.vendor}; 月份 {period}；审核通过报表 {sum(reports):,} 份；"
            f"指标 {info.name}；每项 {rounds} 轮取中位数"
        )

        def ours_cross() -> object:
            return (
                figures.cross(scope, period, info),
                figures.aggregate(scope, period, info, "region"),
            )

        def raw_cross() -> object:
            with connection.cursor() as cursor:
                cursor.execute(_sql(RAW_CROSS), [info.code, str(period), str(period.previous())])
                return cursor.fetchall()

        def ours_trend() -> object:
            return figures.trend(scope, period, info)

        def raw_trend() -> object:
            with connection.cursor() as cursor:
                cursor.execute(RAW_TREND, [info.code, str(trend_months[0]), str(trend_months[-1])])
                return cursor.fetchall()

        from review.selectors import deadline_moment

        def ours_completion() -> object:
            return completion(admin, period, None)

        def raw_completion() -> object:
            with connection.cursor() as cursor:
                cursor.execute(RAW_COMPLETION_ENTERPRISES)
                enterprises = cursor.fetchall()
                cursor.execute(RAW_COMPLETION_REPORTS, [deadline_moment(period), str(period)])
                return enterprises, cursor.fetchall()

        pending = Report.objects.filter(period=str(period), status=Report.Status.PENDING).first()

        def ours_approval() -> object:
            # What an approval adds to its transaction: the aggregate's delta (rolled back).
            with transaction.atomic():
                cube.move(pending, Bucket.PENDING, Bucket.APPROVED)  # type: ignore[arg-type]
                transaction.set_rollback(True)
            return None

        def raw_approval() -> object:
            with transaction.atomic():
                Report.objects.filter(pk=pending.pk).update(status=Report.Status.APPROVED)  # type: ignore[union-attr]
                transaction.set_rollback(True)
            return None

        target = "目标：比值 < 3，且 < 300 ms"
        cases = [
            ("地区 × 行业表（含地区表及上月增速）", ours_cross, raw_cross, target),
            ("近24个月走势", ours_trend, raw_trend, target),
            ("全国填报情况", ours_completion, raw_completion, target),
        ]
        if pending is not None:
            cases.append(("审核通过一份报表时汇总数据的更新（对照：更新报表状态一行）",
                          ours_approval, raw_approval, "目标：在审核的事务中即时完成"))  # fmt: skip
        for label, ours, raw, goal in cases:
            mine = self._median(ours, rounds)
            bare = self._median(raw, rounds)
            self.stdout.write(
                f"{label}: 本平台 {mine * 1000:.1f} ms，手写 SQL {bare * 1000:.1f} ms，"
                f"比值 {mine / bare:.2f}（{goal}）"
            )

    @staticmethod
    def _median(work: Callable[[], object], rounds: int) -> float:
        work()  # warm: connection, caches, the planner
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
