"""Query budgets of the pages (issue 7): every enterprise page within 15 SQL queries, every
administrator page within 20, measured on data with many rows (so that a query per row, an N+1,
would blow the budget whatever the budget's slack). A page that exceeds its budget fails here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from analytics import cube
from directory.models import Enterprise, Region
from jobs.models import Job
from loadtest import pages
from loadtest.pages import ADMIN_BUDGET, ENTERPRISE_BUDGET
from notices.models import Notice
from reports.models import (
    IndicatorValue,
    KeyChangeRequest,
    ProductLine,
    Report,
    ReportEvent,
)
from tests.conftest import Personas, publish_notice, valid_uscc
from tests.test_report_pages import (
    NOW,
    PERIOD,
    STEP_URLS,
    basic_data,
    figures,
    make_questionnaire,
    product,
)

ROWS = 30  # reports, notices, events: enough that a query per row cannot hide


@pytest.fixture(autouse=True)
def sessions_in_the_database(settings) -> None:  # type: ignore[no-untyped-def]
    """The same count whatever REDIS_URL says: a session cached in Redis costs one query less."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def busy(personas: Personas) -> Personas:
    """The 宁波 enterprise with a filled and submitted month, approved history, notices; 宁波
    with ROWS other submitted reports, events, a key change and jobs."""
    clerk = personas.client_for(personas.ningbo_enterprise)
    make_questionnaire()
    assert clerk.post(STEP_URLS[0], basic_data(personas)).status_code == 302
    assert clerk.post(STEP_URLS[1], {**figures(), "action": "next"}).status_code == 302
    products = {**product("1", "大米"), **product("2", "面粉"), "action": "next"}
    products["product"] = ["1", "2"]
    assert clerk.post(STEP_URLS[2], products).status_code == 302
    own = personas.ningbo_enterprise.enterprise
    for months_back in range(1, 13):
        period = f"{2025 if months_back > 9 else 2026}-{(10 - months_back) % 12 or 12:02d}"
        report = Report.objects.create(
            enterprise=own,
            period=period,
            status=Report.Status.APPROVED,
            basic_info={"region": "330211", "industry": "0111"},
            submitted_at=dt.datetime(2026, 1, 10, tzinfo=dt.UTC),
        )
        IndicatorValue.objects.create(report=report, code="revenue", ytd=Decimal(100))
        ProductLine.objects.create(report=report, name="大米", unit="吨")
    admin = personas.senior_admin
    for n in range(ROWS):
        publish_notice(admin, f"通知{n}")
        publish_notice(admin, f"动态{n}", kind=Notice.Kind.NEWS)
        county = ("330211", "330203", "330205")[n % 3]
        e = Enterprise.objects.create(
            name=f"预算企业{n}",
            code_type="uscc",
            code=valid_uscc(f"91{county}MA{n:07d}"),
            region=Region.objects.get(pk=county),
            industry_id="1311",
            contact_person="张三",
            contact_phone="0574-86601234",
        )
        report = Report.objects.create(
            enterprise=e,
            period=PERIOD,
            status=Report.Status.PENDING,
            basic_info={"region": county, "industry": "1311"},
            submitted_at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
        )
        IndicatorValue.objects.create(report=report, code="revenue", ytd=Decimal(n))
        ReportEvent.objects.create(
            report=report, action="submit", to_status="pending", actor=personas.ningbo_enterprise
        )
        Job.objects.create(kind="analysis_report", title=f"任务{n}", owner=personas.ningbo_admin)
    frozen = Report.objects.filter(period=PERIOD).exclude(enterprise=own).first()
    assert frozen is not None
    KeyChangeRequest.objects.create(
        report=frozen,
        old_values={"enterprise_name": "甲"},
        new_values={"enterprise_name": "乙"},
        requested_by=personas.ningbo_enterprise,
    )
    cube.rebuild()
    return personas


# Over budget today (measured 2026-11-28; issue 7 stays open on it): the reviewer's page of one
# report (22 queries, see the test below). Strict: the day a page fits, it leaves this list.
OVER_BUDGET: set[str] = set()


def known(urls: list[str]) -> list[object]:
    return [
        pytest.param(
            url,
            marks=pytest.mark.xfail(strict=True, reason="超出查询预算（见 OVER_BUDGET）"),
        )
        if url in OVER_BUDGET
        else url
        for url in urls
    ]


# The lists live in loadtest.pages, shared with manage.py bench_pages (the same pages timed on a
# large dataset); here with the fixture's month, its submitted month and its county.
ENTERPRISE_PAGES = pages.enterprise_pages(PERIOD, submitted="2026-09")
ADMIN_PAGES = pages.admin_pages(PERIOD, region="330211")


@pytest.mark.parametrize("url", known(ENTERPRISE_PAGES))
def test_enterprise_pages_stay_within_their_budget(
    busy: Personas, url: str, django_assert_max_num_queries
) -> None:
    client = busy.client_for(busy.ningbo_enterprise)
    with django_assert_max_num_queries(ENTERPRISE_BUDGET):
        response = client.get(url)
    assert response.status_code in (200, 302), url  # /reports/ sends the clerk to the month


@pytest.mark.parametrize("url", known(ADMIN_PAGES))
def test_administrator_pages_stay_within_their_budget(
    busy: Personas, url: str, django_assert_max_num_queries
) -> None:
    client = busy.client_for(busy.ningbo_admin)
    with django_assert_max_num_queries(ADMIN_BUDGET):
        response = client.get(url)
    assert response.status_code == 200, url


def test_the_review_page_of_one_report_stays_within_the_budget(
    busy: Personas, django_assert_max_num_queries
) -> None:
    report = Report.objects.filter(period=PERIOD, status=Report.Status.PENDING).last()
    assert report is not None
    client: Client = busy.client_for(busy.senior_admin)
    for url in pages.senior_pages(report.pk):
        with django_assert_max_num_queries(ADMIN_BUDGET):
            assert client.get(url).status_code == 200, url
