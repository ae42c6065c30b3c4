"""填报情况 (stats.completion and the /stats/ pages): counts per child region and per enterprise of
a county, rates, the drill-down lists, scope, a constant number of queries, the Excel export."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from directory.models import Enterprise, Region
from reports.models import Report
from reports.periods import Period
from stats.completion import completion
from tests.conftest import Personas

PERIOD = Period(2026, 10)  # due 2026-11-20
ON_TIME = timezone.make_aware(dt.datetime(2026, 11, 20, 23, 59))
LATE = timezone.make_aware(dt.datetime(2026, 11, 21, 0, 0))
TODAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)

_codes = itertools.count(1)


def make_enterprise(region: str, name: str | None = None) -> Enterprise:
    n = next(_codes)
    return Enterprise.objects.create(
        name=name or f"测试企业{n:04d}",
        code_type=Enterprise.CodeType.ORGANIZATION,
        code=f"T{n:08d}",
        region=Region.objects.get(code=region),
        contact_person="张三",
        contact_phone="0571-88888888",
    )


def report(enterprise: Enterprise, status: str, submitted_at: dt.datetime | None = None) -> Report:
    if submitted_at is None and status != Report.Status.DRAFT:
        submitted_at = ON_TIME
    return Report.objects.create(
        enterprise=enterprise, period=str(PERIOD), status=status, submitted_at=submitted_at
    )


@pytest.fixture
def landscape(personas: Personas) -> dict[str, Enterprise]:
    """宁波 镇海 330211: pending, approved, returned (late), draft, nothing; 宁波 海曙 330203:
    approved, frozen; 杭州 上城 330102: pending, nothing; 广州 天河 440106: approved, returned."""
    S = Report.Status
    e = {
        "nb_pending": personas.ningbo_enterprise.enterprise,
        "nb_approved": make_enterprise("330211"),
        "nb_returned_late": make_enterprise("330211"),
        "nb_draft": make_enterprise("330211"),
        "nb_none": make_enterprise("330211"),
        "hs_approved": make_enterprise("330203"),
        "hs_frozen": make_enterprise("330203"),
        "hz_pending": make_enterprise("330102"),
        "hz_none": make_enterprise("330102"),
        "gd_approved": personas.guangdong_enterprise.enterprise,
        "gd_returned": make_enterprise("440106"),
    }
    report(e["nb_pending"], S.PENDING)
    report(e["nb_approved"], S.APPROVED)
    report(e["nb_returned_late"], S.RETURNED, LATE)
    report(e["nb_draft"], S.DRAFT)
    report(e["hs_approved"], S.APPROVED)
    report(e["hs_frozen"], S.FROZEN)
    report(e["hz_pending"], S.PENDING)
    report(e["gd_approved"], S.APPROVED)
    report(e["gd_returned"], S.RETURNED)
    # Another month never counts.
    Report.objects.create(enterprise=e["nb_none"], period="2026-09", status=S.APPROVED)
    return e


def by_code(table) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    return {row.region.code: row.counts() for row in table.rows}


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_zhejiang_rows_per_city(personas: Personas, landscape: dict) -> None:
    table = completion(personas.zhejiang_admin, PERIOD)
    rows = by_code(table)
    assert rows["330200"] == {
        "enterprises": 7,
        "reported": 4,
        "pending": 1,
        "approved": 2,
        "returned": 1,
        "not_reported": 3,
        "on_time": 3,
    }
    assert rows["330100"] == {
        "enterprises": 2,
        "reported": 1,
        "pending": 1,
        "approved": 0,
        "returned": 0,
        "not_reported": 1,
        "on_time": 1,
    }
    assert rows["330300"]["enterprises"] == 0  # every city is listed, empty ones too
    ningbo = next(r for r in table.rows if r.region.code == "330200")
    assert ningbo.reporting_rate == Decimal("57.1")
    assert ningbo.timeliness_rate == Decimal("42.9")
    empty = next(r for r in table.rows if r.region.code == "330300")
    assert empty.reporting_rate is None and empty.timeliness_rate is None
    assert table.total.counts()["enterprises"] == 9
    assert table.total.counts()["reported"] == 5
    assert table.total.reporting_rate == Decimal("55.6")


def test_national_rows_per_province(personas: Personas, landscape: dict) -> None:
    rows = by_code(completion(personas.senior_admin, PERIOD))
    assert rows["330000"]["enterprises"] == 9
    assert rows["440000"] == {
        "enterprises": 2,
        "reported": 2,
        "pending": 0,
        "approved": 1,
        "returned": 1,
        "not_reported": 0,
        "on_time": 2,
    }
    assert rows["110000"]["enterprises"] == 0


def test_ningbo_sees_its_counties(personas: Personas, landscape: dict) -> None:
    table = completion(personas.ningbo_admin, PERIOD)
    assert table.region.code == "330200"
    rows = by_code(table)
    assert rows["330211"] == {
        "enterprises": 5,
        "reported": 3,
        "pending": 1,
        "approved": 1,
        "returned": 1,
        "not_reported": 2,
        "on_time": 2,
    }
    assert rows["330203"]["reported"] == 1 and rows["330203"]["not_reported"] == 1


def test_county_rows_per_enterprise(personas: Personas, landscape: dict) -> None:
    table = completion(personas.ningbo_admin, PERIOD, "330211")
    assert table.by_enterprise
    rows = {row.enterprise.pk: row for row in table.rows}
    assert len(rows) == 5
    late = rows[landscape["nb_returned_late"].pk]
    assert (late.reported, late.returned, late.on_time) == (1, 1, 0)
    assert rows[landscape["nb_draft"].pk].not_reported == 1
    assert rows[landscape["nb_none"].pk].status is None
    assert table.total.counts()["on_time"] == 2


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("guangdong_admin", "330000"),
        ("ningbo_admin", "330100"),
        ("ningbo_admin", "330000"),
        ("ningbo_admin", "999999"),
        ("ningbo_admin", "abc"),
        ("ningbo_enterprise", None),
    ],
)
def test_out_of_scope_is_404(personas: Personas, persona: str, region: str | None) -> None:
    with pytest.raises(Http404):
        completion(getattr(personas, persona), PERIOD, region)


def test_query_count_is_constant(personas: Personas) -> None:
    def count(region: str | None) -> int:
        user = fresh(personas.zhejiang_admin)  # its region not loaded yet
        with CaptureQueriesContext(connection) as ctx:
            completion(user, PERIOD, region)
        return len(ctx.captured_queries)

    for _ in range(3):
        report(make_enterprise("330211"), Report.Status.APPROVED)
    small = (count(None), count("330200"), count("330211"))
    for i in range(27):
        enterprise = make_enterprise(["330211", "330102", "330203"][i % 3])
        report(enterprise, [Report.Status.PENDING, Report.Status.RETURNED][i % 2])
    assert (count(None), count("330200"), count("330211")) == small
    assert max(small) <= 4
    senior = fresh(personas.senior_admin)
    with CaptureQueriesContext(connection) as ctx:
        completion(senior, PERIOD)
    assert len(ctx.captured_queries) <= 4


# --- Pages ---------------------------------------------------------------------------------------

URL = "/stats/completion/"


def test_page_shows_table_and_links(personas: Personas, landscape: dict) -> None:
    with time_machine.travel(TODAY, tick=False):
        response = personas.client_for(personas.zhejiang_admin).get(URL, {"period": "2026-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "宁波市" in html and "57.1%" in html and "42.9%" in html
    assert (
        "/stats/completion/enterprises/?period=2026-10&amp;region=330200&amp;status=not_reported"
        in html
    )
    assert "/stats/completion.xlsx?period=2026-10&amp;region=330000" in html


def test_page_default_month_is_current(personas: Personas, landscape: dict) -> None:
    with time_machine.travel(TODAY, tick=False):
        response = personas.client_for(personas.ningbo_admin).get(URL)
    assert response.status_code == 200
    assert response.context["period"] == PERIOD
    assert response.context["table"].region.code == "330200"


def test_page_scope_and_roles(personas: Personas, landscape: dict) -> None:
    gd = personas.client_for(personas.guangdong_admin)
    assert gd.get(URL, {"period": "2026-10", "region": "330000"}).status_code == 404
    assert gd.get(URL, {"period": "2026-10", "region": "440000"}).status_code == 200
    enterprise = personas.client_for(personas.ningbo_enterprise)
    assert enterprise.get(URL).status_code == 404
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302


def names(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return {e.name for e in response.context["page"]}


def test_drill_down(personas: Personas, landscape: dict) -> None:
    client = personas.client_for(personas.ningbo_admin)
    drill = "/stats/completion/enterprises/"
    base = {"period": "2026-10", "region": "330211"}
    e = landscape
    assert names(client.get(drill, {**base, "status": "not_reported"})) == {
        e["nb_draft"].name,
        e["nb_none"].name,
    }
    assert names(client.get(drill, {**base, "status": "on_time"})) == {
        e["nb_pending"].name,
        e["nb_approved"].name,
    }
    assert names(client.get(drill, {**base, "status": "returned"})) == {e["nb_returned_late"].name}
    assert len(names(client.get(drill, {**base, "status": "enterprises"}))) == 5
    # Own region by default; frozen counts as not reported.
    not_reported = names(client.get(drill, {"period": "2026-10", "status": "not_reported"}))
    assert e["hs_frozen"].name in not_reported and len(not_reported) == 3
    assert client.get(drill, {**base, "status": "bogus"}).status_code == 404
    assert client.get(drill, {"period": "2026-10", "region": "330102"}).status_code == 404


def test_drill_down_is_paged(personas: Personas) -> None:
    for _ in range(55):
        make_enterprise("330211")
    client = personas.client_for(personas.ningbo_admin)
    drill = "/stats/completion/enterprises/"
    params = {"period": "2026-10", "region": "330211", "status": "not_reported"}
    first = client.get(drill, params)
    assert len(first.context["page"]) == 50 and first.context["page"].paginator.count == 56
    assert len(client.get(drill, {**params, "page": 2}).context["page"]) == 6


def test_excel_export_has_the_same_numbers(personas: Personas, landscape: dict) -> None:
    client = personas.client_for(personas.zhejiang_admin)
    response = client.get("/stats/completion.xlsx", {"period": "2026-10"})
    assert response.status_code == 200
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:3] == ("地区", "地区代码", "企业数")
    assert "填报率(%)" in rows[1]
    ningbo = next(r for r in rows if r[1] == "330200")
    assert ningbo == ("宁波市", "330200", 7, 4, 1, 2, 1, 3, 3, 57.1, 42.9)
    total = rows[-1]
    assert total[0] == "合计" and total[2:4] == (9, 5)
    gd = personas.client_for(personas.guangdong_admin)
    assert gd.get("/stats/completion.xlsx", {"region": "330000"}).status_code == 404
