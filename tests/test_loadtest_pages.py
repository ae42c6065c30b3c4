"""manage.py bench_pages: every page of loadtest.pages measured for its role on a dataset made
as for the load test, with the query counts the query-budget test would count, and a page over
its budget flagged (and the command failing). Times are never asserted (docs/benchmarks.md)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from analytics.dataset import generate
from directory.models import Enterprise, Region
from loadtest import pages
from loadtest.management.commands.bench_pages import measure
from reports.models import Report
from reports.receipt import has_receipt
from tests.conftest import force_login

NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PERIOD = "2026-10"
# Times depend on the machine: only the query budgets decide the exit status here.
NO_TIME_LIMIT = ["--enterprise-ms", "1e9", "--admin-ms", "1e9"]


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def sessions_in_the_database(settings) -> None:  # type: ignore[no-untyped-def]
    """As in the query-budget test: the same count whatever REDIS_URL says."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture
def dataset(reference_data: None, tmp_path: Path) -> None:
    generate(40, 13, PERIOD, 5, out=lambda _: None, now=NOW)
    call_command("prepare_load", pool=6, out=str(tmp_path / "pool.json"), stdout=StringIO())


def bench(*args: str) -> str:
    out = StringIO()
    call_command("bench_pages", "--repeat", "1", *args, stdout=out)
    return out.getvalue()


def first_visit_queries(username: str, url: str) -> int:
    """What the query-budget test counts: one request of a freshly logged-in client."""
    client = Client()
    force_login(client, User.objects.get(username=username))
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def reported_month(username: str) -> str:
    user = User.objects.get(username=username)
    earlier = Report.objects.filter(enterprise=user.enterprise, period__lt=PERIOD)
    return max(r.period for r in earlier if has_receipt(r))


def region_filter(urls: list[str]) -> str:
    prefix = "/review/?status=pending&region="
    return next(u for u in urls if u.startswith(prefix)).removeprefix(prefix)


def test_every_page_is_measured_for_its_role_with_the_budget_tests_count(dataset: None) -> None:
    result = json.loads(bench("--json", *NO_TIME_LIMIT))  # returns: exit status 0
    assert result["period"] == PERIOD and result["over_budget"] == 0
    assert result["reference"][0]["label"] == "裸 SQL：SELECT 1"
    by_role: dict[str, list[dict[str, Any]]] = {}
    for m in result["pages"]:
        by_role.setdefault(m["role"], []).append(m)

    clerk = by_role["企业"]
    assert [m["label"] for m in clerk] == pages.enterprise_pages(
        PERIOD, reported_month("load000001")
    )
    local_admin = User.objects.get(username=result["accounts"]["地方管理员"].split("（")[0])
    local = [m["label"] for m in by_role["地方管理员"]]
    region = Region.objects.get(code=region_filter(local))
    # The region filter is one of the worklist's choices, one level below the administrator's.
    assert region.parent_id == local_admin.region_id
    assert local == pages.admin_pages(PERIOD, region.code)
    national = [m["label"] for m in by_role["国家管理员"]]
    province = Region.objects.get(code=region_filter(national))
    assert province.level == Region.Level.PROVINCE
    report_id = int(national[-3].split("/")[-2])
    assert Report.objects.get(pk=report_id).status == Report.Status.PENDING
    assert national == [*pages.admin_pages(PERIOD, province.code), *pages.senior_pages(report_id)]
    assert Enterprise.objects.within(region).exists()

    home = clerk[0]
    assert home["label"] == "/" and home["status"] == 200
    assert home["first_queries"] == home["queries"][0] == first_visit_queries("load000001", "/")
    review = next(m for m in by_role["国家管理员"] if m["label"].startswith("/review/reports/"))
    assert review["most_queries"] == first_visit_queries("load_admin", review["label"])
    for m in result["pages"]:
        assert m["status"] in (200, 302) and not m["error"], m
        assert m["most_queries"] <= m["query_budget"], m
    assert clerk[6]["label"] == "/reports/" and clerk[6]["location"] == pages.step_urls(PERIOD)[0]


def test_a_page_over_its_budget_is_flagged_and_the_command_fails(dataset: None) -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="个页面超出预算或出错"):
        call_command(
            "bench_pages", "--repeat", "1", "--enterprise-budget", "1", *NO_TIME_LIMIT, stdout=out
        )
    rows = [line for line in out.getvalue().splitlines() if line.startswith("| ")]
    assert rows[0] == "| 页面 | 角色 | 查询数 | 中位 ms | 最大 ms | 预算 |"
    # The reference first (the line after the header is the separator, "|---|…").
    assert rows[1].startswith("| 裸 SQL：SELECT 1 | 参照 |")
    assert rows[2].startswith("| `/bench-pages/not-found/`")
    clerk = [r for r in rows if "| 企业 |" in r]
    admins = [r for r in rows if "管理员 |" in r]
    assert len(clerk) == len(pages.enterprise_pages(PERIOD, "2026-09"))
    assert len(admins) == 2 * len(pages.admin_pages(PERIOD, "")) + len(pages.senior_pages(0))
    assert all("**✗ 查询超出**" in r for r in clerk)
    assert all(r.endswith("ms ✓ |") for r in admins)
    assert "超出预算或出错：16 个。" in out.getvalue()


def test_a_page_that_raises_is_a_500_in_the_results_not_a_crash(db: None) -> None:
    def broken() -> tuple[int, str]:
        raise ZeroDivisionError("division by zero")

    result = measure("/broken/", "企业", broken, repeat=2, budget=(15, 100))
    assert result.status == 500 and result.error == "ZeroDivisionError: division by zero"
    assert result.failed and result.over and len(result.times_ms) == 2


def test_debug_on_is_refused(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    with pytest.raises(CommandError, match="DEBUG"):
        bench()
