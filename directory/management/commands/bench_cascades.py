"""Benchmark of the cascading-select endpoints against a bare SQL query for the same rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client

from directory.models import Industry, Region

CASES = [
    ("region", "province", "440000", Region._meta.db_table, False),
    ("region", "city", "330200", Region._meta.db_table, False),
    ("industry", "industry_1", "C", Industry._meta.db_table, True),
    ("industry", "industry_3", "131", Industry._meta.db_table, True),
]


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class Command(BaseCommand):
    help = (
        "测量级联下拉（地区、行业）选项接口的响应时间，并在同一次运行中测量取同样数据的裸 SQL 查询"
        "作为参照。只读，不改变数据。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rounds", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        rounds = options["rounds"]
        client = Client(HTTP_HOST="127.0.0.1")
        self.stdout.write(
            f"数据库 {connection.vendor}；地区 {Region.objects.count()} 条，"
            f"行业 {Industry.objects.count()} 条；每项 {rounds} 次取中位数"
        )
        self.stdout.write("| 请求 | 接口 (ms) | 裸 SQL (ms) | 选项数 |")
        self.stdout.write("|---|---|---|---|")
        # Reference for the request overhead: the same endpoint with a parent it does not query.
        floor = median_ms(
            lambda: client.get("/directory/options/region/", {"province": "-"}), rounds
        )
        self.stdout.write(f"| 参照：同一接口，不查询数据库 | {floor:.2f} | — | 0 |")
        for kind, param, code, table, active in CASES:
            url = f"/directory/options/{kind}/"
            if client.get(url, {param: code}).status_code != 200:
                raise CommandError(f"{url}?{param}={code} 没有返回 200")
            query = {param: code}
            endpoint = median_ms(lambda q=query, u=url: client.get(u, q), rounds)
            sql = f"SELECT code, name FROM {table} WHERE parent_id = %s"
            sql += " AND is_active" if active else ""

            def bare(sql: str = sql, code: str = code) -> list:
                with connection.cursor() as cursor:
                    cursor.execute(sql, [code])
                    return cursor.fetchall()

            bare_ms = median_ms(bare, rounds)
            self.stdout.write(
                f"| {kind} {param}={code} | {endpoint:.2f} | {bare_ms:.3f} | {len(bare())} |"
            )
