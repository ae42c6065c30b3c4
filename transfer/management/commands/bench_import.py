"""Benchmark of 上报导入: one enterprise's data template generated and imported, and a bulk workbook
of many enterprises imported, each beside the bare parse of the same file by openpyxl alone
(measured in the same run). It adds BENCH enterprises and their reports to the database it runs
on: use a scratch database (e.g. DATABASE_URL=sqlite:////tmp/bench.sqlite3 after migrate and
load_reference_data)."""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

from django.core.management.base import BaseCommand
from openpyxl import Workbook, load_workbook

from accounts.models import User
from directory.codes import org_code_check_char
from directory.models import Enterprise, Region
from reports.periods import current_report_month
from transfer.bulk import (
    BULK_FORMAT,
    DATA_SHEET,
    MARK_SHEET,
    columns_for,
)
from transfer.imports import import_template
from transfer.template import (
    BASIC_KEY_COLUMN,
    BASIC_SHEET,
    FIRST_ROW,
    INDICATOR_COLUMNS,
    INDICATOR_KEY_COLUMN,
    INDICATOR_SHEET,
    build_template,
    fingerprint,
)

FIGURES = {
    "gross_output": {"current": 1000, "ytd": 9000, "last_year_current": 900, "last_year_ytd": 8500},
    "export_delivery": {"current": 100, "ytd": 900, "last_year_current": 90, "last_year_ytd": 850},
    "electricity": {
        "current": 5000,
        "ytd": 48000,
        "last_year_current": 4800,
        "last_year_ytd": 46000,
    },
    "revenue": {"ytd": 9500, "last_year_ytd": 9000},
    "operating_cost": {"ytd": 8000, "last_year_ytd": 7600},
    "total_profit": {"ytd": -50, "last_year_ytd": 120},
    "employees": {"ytd": 80, "last_year_ytd": 78},
}
BASIC = {
    "basic.code_type": "组织机构代码",
    "basic.legal_representative": "李四",
    "basic.industry": "1311 稻谷加工",
    "basic.region": "330106 浙江省杭州市西湖区",
    "basic.registration_type": "173 私营有限责任公司",
    "basic.address": "杭州市西湖区文三路1号",
    "basic.postal_code": "310000",
    "basic.contact_person": "王五",
    "basic.phone": "0571-88888888",
    "basic.main_business": "粮食加工",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_s(fn: Callable[[], Any], rounds: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(rounds))


class Command(BaseCommand):
    help = (
        "测量上报导入：单个企业数据模板的生成与导入，以及多家企业批量导入（含峰值内存），"
        "并在同一次运行中测量 openpyxl 单纯解析同一文件的耗时作为参照。"
        "会向所连数据库写入 BENCH 测试企业和报表：请使用专用的测试数据库。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enterprises", type=int, default=10_000)
        parser.add_argument("--rounds", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        period = current_report_month()
        run = random.randrange(10**6)  # fresh enterprises each run: submitted months stay
        region = Region.objects.get(code="330106")
        enterprises = self._enterprises(options["enterprises"], run, region)
        clerk = User.objects.create_user(
            f"b{run:06d}e",
            None,
            user_type=User.Type.ENTERPRISE,
            enterprise=self._enterprises(1, run + 1, region, offset=9_000_000)[0],
        )
        admin, _ = User.objects.get_or_create(
            username="bench_admin", defaults={"user_type": User.Type.SENIOR_ADMIN}
        )
        rounds = options["rounds"]

        # One enterprise: generate, fill, import (a dry run: the month stays open for the rounds).
        content = build_template(clerk.enterprise, period, None)
        filled = self._fill_template(content)
        self.stdout.write(f"数据模板：{len(content) / 1024:.0f} KB，{period}")
        generate = median_s(lambda: build_template(clerk.enterprise, period, None), rounds)

        def one_import() -> None:
            outcome = import_template(clerk, period, BytesIO(filled), dry_run=True)
            assert not outcome.errors, outcome.errors[:3]

        imported = median_s(one_import, rounds)
        parse = median_s(lambda: load_workbook(BytesIO(filled)).close(), rounds)
        self.stdout.write(f"  openpyxl 单纯解析（参照）：{parse * 1000:8.1f} ms")
        self.stdout.write(f"  生成数据模板：          {generate * 1000:8.1f} ms")
        self.stdout.write(f"  导入（全部校验）：      {imported * 1000:8.1f} ms")
        self.stdout.write(f"  生成 + 导入：           {(generate + imported) * 1000:8.1f} ms")

        # Many enterprises in one workbook.
        with tempfile.TemporaryFile(suffix=".xlsx") as workbook:
            rows = self._bulk_workbook(workbook, enterprises, period)
            size = workbook.tell()
            self.stdout.write(f"批量导入：{rows} 家企业，文件 {size / 1024 / 1024:.1f} MB")
            workbook.seek(0)

            def bare_parse() -> int:
                wb = load_workbook(workbook, read_only=True)
                count = sum(1 for _ in wb[DATA_SHEET].iter_rows(values_only=True))
                wb.close()
                workbook.seek(0)
                return count

            parse_s, _ = timed(bare_parse)
            before = peak_rss_mb()
            from transfer.bulk import run_bulk_import

            bulk_s, result = timed(lambda: run_bulk_import(admin, period, workbook))
            self.stdout.write(f"  openpyxl 只读解析（参照）：{parse_s:8.1f} s")
            self.stdout.write(
                f"  批量导入：               {bulk_s:8.1f} s（{bulk_s / parse_s:.0f} 倍于解析，"
                f"每家 {bulk_s / rows * 1000:.1f} ms）"
            )
            self.stdout.write(
                f"  结果：新建 {result.created}，更新 {result.updated}，拒绝 {result.refused}"
            )
            self.stdout.write(f"  进程峰值内存：{peak_rss_mb():.0f} MB（导入前 {before:.0f} MB）")
            if result.problems:
                self.stdout.write(f"  首个问题：{result.problems[0]}")

    def _enterprises(
        self, count: int, run: int, region: Region, offset: int = 0
    ) -> list[Enterprise]:
        """`count` new enterprises with valid organisation codes not yet on file."""
        while True:
            start = random.randrange(10**8 - count)
            codes = [f"{start + n:08d}" for n in range(count)]
            codes = [body + org_code_check_char(body) for body in codes]
            if not Enterprise.objects.filter(code__in=codes[:1000]).exists():
                break
        return Enterprise.objects.bulk_create(
            (
                Enterprise(
                    name=f"BENCH{run}-{offset + n}",
                    code_type=Enterprise.CodeType.ORGANIZATION,
                    code=code,
                    region=region,
                    contact_person="王五",
                    contact_phone="0571-88888888",
                )
                for n, code in enumerate(codes)
            ),
            batch_size=2000,
        )

    def _fill_template(self, content: bytes) -> bytes:
        """What a clerk types: the basic facts and this month's figures, by the rows' keys."""
        wb = load_workbook(BytesIO(content))
        ws = wb[BASIC_SHEET]
        for row in range(FIRST_ROW, ws.max_row + 1):
            key = f"basic.{ws.cell(row=row, column=BASIC_KEY_COLUMN).value}"
            if key in BASIC:
                ws.cell(row=row, column=2, value=BASIC[key])
        ws = wb[INDICATOR_SHEET]
        for row in range(FIRST_ROW, ws.max_row + 1):
            code = ws.cell(row=row, column=INDICATOR_KEY_COLUMN).value
            for column, value in FIGURES.get(code, {}).items():
                ws.cell(row=row, column=INDICATOR_COLUMNS[column], value=value)
        out = BytesIO()
        wb.save(out)
        return out.getvalue()

    def _bulk_workbook(self, out: Any, enterprises: list[Enterprise], period: Any) -> int:
        """The workbook a county office sends back: written directly (write-only), as big as
        asked, with the header, key row and version mark of the platform's bulk template."""
        from reports.catalogue import catalogue_for, snapshot

        catalogue = snapshot(catalogue_for(period))
        columns = columns_for(catalogue)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(DATA_SHEET)
        ws.append([f"{period} 月报批量导入"])
        ws.append([c.header for c in columns])
        ws.append([c.key for c in columns])
        for enterprise in enterprises:
            row = []
            for c in columns:
                if c.key == "code":
                    row.append(enterprise.code)
                elif c.key == "enterprise_name":
                    row.append(enterprise.name)
                elif c.key in BASIC:
                    row.append(BASIC[c.key])
                elif c.key.startswith("ind."):
                    _, code, column = c.key.split(".")
                    row.append(FIGURES.get(code, {}).get(column))
                else:
                    row.append(None)
            ws.append(row)
        mark = wb.create_sheet(MARK_SHEET)
        for pair in (
            ("format", BULK_FORMAT),
            ("period", str(period)),
            ("catalogue", fingerprint(catalogue)),
        ):
            mark.append(pair)
        wb.save(out)
        return len(enterprises)
