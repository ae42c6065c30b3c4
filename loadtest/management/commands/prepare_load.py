"""manage.py prepare_load: readies a dataset made by generate_dataset for bin/load-test.

The deadline day is simulated on the month the dataset ends with: a pool of its enterprises gets
login accounts, the figures the generator wrote for them that month are kept in a file (the
"clerk's papers" the load client types in: figures consistent with the enterprise's own history),
and their reports of that month are removed, so that each clerk starts the month from nothing.
Run again, it puts the same pool back to that state (the reports of the last run removed), so runs
are repeatable. Only for a benchmark database: it refuses a database with real users' reports in
the month (a report submitted by a non-pool account)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from accounts.models import User
from analytics.models import Cell
from directory.models import Enterprise, Region
from loadtest.models import Ping
from reports.models import (
    Explanation,
    IndicatorValue,
    KeyChangeRequest,
    ProductLine,
    Report,
    ReportEvent,
)
from reports.periods import current_report_month

PREFIX = "load"
ADMIN = "load_admin"
COLUMNS = ("current", "ytd", "last_year_current", "last_year_ytd")


def plain(value: Any) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class Command(BaseCommand):
    help = (
        "为压力测试（bin/load-test）准备数据：从合成数据集中选取一批企业（默认 3000 家）建立企业"
        "账户，保存其当月报表数据供测试客户端填写，并删除这些企业当月的报表；另建国家管理员 "
        "load_admin 和相关省份的地方管理员。再次运行时恢复到同一初始状态。只用于压力测试专用库。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pool", type=int, default=3000, help="企业账户数（默认 3000）")
        parser.add_argument("--password", default="Load@2026", help="所有测试账户的密码")
        parser.add_argument("--out", default="var/load/pool.json", help="测试客户端读取的数据文件")

    def handle(self, *args: Any, **options: Any) -> None:
        period = str(current_report_month())
        out = Path(options["out"])
        password = make_password(options["password"])  # one hash for every account: fast
        pool_users = User.objects.filter(username__startswith=PREFIX, enterprise__isnull=False)
        database = str(connection.settings_dict["NAME"])
        if pool_users.exists():
            if not out.exists():
                raise CommandError(f"库中已有测试账户，但没有它们的数据文件 {out}。")
            pool = json.loads(out.read_text())
            if pool.get("database") != database:
                raise CommandError(
                    f"数据文件 {out} 属于数据库 {pool.get('database')}，不是 {database}。"
                )
            if pool["period"] != period:
                raise CommandError(f"数据文件是 {pool['period']} 的，当前填报月份是 {period}。")
            ids = [e["enterprise_id"] for e in pool["enterprises"]]
        else:
            pool = self._choose(period, options["pool"])
            pool["database"] = database
            ids = [e["enterprise_id"] for e in pool["enterprises"]]
        foreign = ReportEvent.objects.filter(
            report__enterprise_id__in=ids, report__period=period
        ).exclude(actor__username__startswith=PREFIX)
        if pool_users.exists() and foreign.exists():
            raise CommandError("池中企业当月有非测试账户提交的报表：这不是压力测试专用库。")
        with transaction.atomic():
            removed = self._remove_month(ids, period)
            Ping.objects.all().delete()
            self._accounts(pool, password)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(pool, ensure_ascii=False))
        if Cell.objects.filter(period=period).exists():
            self.stdout.write(
                "注意：分析汇总表含本月数据，删除报表后与原始数据不一致；"
                "需要时运行 manage.py rebuild_analytics。"
            )
        self.stdout.write(
            f"填报月份 {period}：企业账户 {len(ids)} 个（{PREFIX}000001 起，密码 "
            f"{options['password']}），删除当月报表 {removed} 份；数据文件 {out}"
        )

    def _choose(self, period: str, size: int) -> dict[str, Any]:
        """The first `size` enterprises (by id) with a report of the month and no account."""
        reports = list(
            Report.objects.filter(period=period, enterprise__user__isnull=True)
            .order_by("enterprise_id")
            .values("pk", "enterprise_id", "enterprise__region_id")[:size]
        )
        if len(reports) < size:
            raise CommandError(
                f"{period} 只有 {len(reports)} 家企业有报表且无账户，不足 {size} 家："
                "先运行 generate_dataset。"
            )
        values: dict[int, dict[str, str]] = {r["pk"]: {} for r in reports}
        for row in IndicatorValue.objects.filter(report_id__in=values).values():
            for column in COLUMNS:
                if row[column] is not None:
                    values[row["report_id"]][f"{row['code']}.{column}"] = plain(row[column])
        products: dict[int, list[dict[str, str]]] = {r["pk"]: [] for r in reports}
        for line in ProductLine.objects.filter(report_id__in=values).order_by("position"):
            products[line.report_id].append(
                {
                    "name": line.name,
                    "production.current": plain(line.production_current or 0),
                    "production.ytd": plain(line.production_ytd or 0),
                    "sales.current": plain(line.sales_current or 0),
                    "sales.ytd": plain(line.sales_ytd or 0),
                }
            )
        return {
            "period": period,
            "enterprises": [
                {
                    "username": f"{PREFIX}{n:06d}",
                    "enterprise_id": r["enterprise_id"],
                    "province": r["enterprise__region_id"][:2] + "0000",
                    "indicators": values[r["pk"]],
                    "products": products[r["pk"]],
                }
                for n, r in enumerate(reports, start=1)
            ],
        }

    def _remove_month(self, ids: list[int], period: str) -> int:
        """The pool's reports of the month and all that hangs on them (events are append-only
        for the application; a benchmark reset removes them with their report)."""
        reports = Report.objects.filter(enterprise_id__in=ids, period=period)
        ReportEvent.objects.filter(report__in=reports)._raw_delete(ReportEvent.objects.db)
        KeyChangeRequest.objects.filter(report__in=reports).delete()
        Explanation.objects.filter(report__in=reports).delete()
        count = reports.count()
        reports.delete()
        return count

    def _accounts(self, pool: dict[str, Any], password: str) -> None:
        existing = set(
            User.objects.filter(username__startswith=PREFIX).values_list("username", flat=True)
        )
        User.objects.bulk_create(
            [
                User(
                    username=e["username"],
                    user_type=User.Type.ENTERPRISE,
                    enterprise_id=e["enterprise_id"],
                    password=password,
                )
                for e in pool["enterprises"]
                if e["username"] not in existing
            ]
        )
        if ADMIN not in existing:
            User.objects.create(username=ADMIN, user_type=User.Type.SENIOR_ADMIN, password=password)
        # A national administrator logs in with a code (accounts.second_factor): the load's has
        # an authenticator whose key the locust users are given, as the person's app has it.
        national = User.objects.get(username=ADMIN)
        device = second_factor.device_of(national) or TOTPDevice.objects.create(
            user=national, name=second_factor.DEVICE_NAME, confirmed=True
        )
        pool["authenticators"] = {ADMIN: base64.b32encode(device.bin_key).decode()}
        provinces = sorted({e["province"] for e in pool["enterprises"]})
        for code in provinces[:3]:
            name = f"{PREFIX}_{code}"
            if name not in existing and Region.objects.filter(code=code).exists():
                User.objects.create(
                    username=name,
                    user_type=User.Type.LOCAL_ADMIN,
                    region_id=code,
                    password=password,
                )
        pool["admins"] = [ADMIN, *(f"{PREFIX}_{c}" for c in provinces[:3])]
        pool["enterprise_count"] = Enterprise.objects.count()
        # Every account gets the password hashed as configured now: an older hash would be
        # rewritten at the first login, which would end the other sessions of that account
        # (the ceiling's users share the administrators' accounts) and cost the benchmark an
        # extra hash per login.
        User.objects.filter(username__startswith=PREFIX).update(password=password)
