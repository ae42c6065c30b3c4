"""The region scope of every administrators' page and API endpoint, in one matrix: a 宁波
report, change request and notice are open to the administrators of 宁波, 浙江 and the nation,
and 404 to 广东's; enterprises are refused (404 on pages, 403 in the API)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from accounts.services import issue_api_token
from notices.models import Notice
from reports.models import KeyChangeRequest, Report
from tests.conftest import Personas

NOW = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
ALLOWED = {"ningbo_admin", "zhejiang_admin", "senior_admin"}
ROLES = ["ningbo_admin", "zhejiang_admin", "senior_admin", "guangdong_admin", "ningbo_enterprise"]

PAGES = [
    "/review/reports/{report}/",
    "/review/changes/{change}/",
    "/stats/completion/?period=2026-10&region=330200",
    "/stats/completion/enterprises/?period=2026-10&region=330200",
    "/stats/completion.xlsx?period=2026-10&region=330200",
    "/stats/reports.xlsx?period=2026-10&region=330200",
    "/notices/manage/{notice}/edit/",
]
API = [
    "/api/v1/review/reports/{report}",
    "/api/v1/stats/completion?period=2026-10&region=330200",
]


@pytest.fixture
def objects(personas: Personas) -> dict[str, int]:
    report = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise,
        period="2026-10",
        status=Report.Status.FROZEN,
    )
    change = KeyChangeRequest.objects.create(
        report=report,
        old_values={"enterprise_name": "宁波康尔企业"},
        new_values={"enterprise_name": "宁波康尔食品有限公司"},
        requested_by=personas.ningbo_enterprise,
    )
    notice = Notice.objects.create(
        title="宁波通知", body="正文", region_id="330200", author=personas.ningbo_admin
    )
    return {"report": report.pk, "change": change.pk, "notice": notice.pk}


def expected_page(role: str, path: str) -> int:
    if role in ALLOWED:
        return 200
    return 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_every_admin_page_keeps_to_the_region(
    personas: Personas, objects: dict[str, int], role: str, path: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        client = personas.client_for(getattr(personas, role))
        response = client.get(path.format(**objects))
    assert response.status_code == expected_page(role, path)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", API)
def test_every_admin_endpoint_keeps_to_the_region(
    personas: Personas, objects: dict[str, int], role: str, path: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        key, _ = issue_api_token(getattr(personas, role))
        response = Client().get(path.format(**objects), HTTP_AUTHORIZATION=f"Bearer {key}")
    if role == "ningbo_enterprise":
        assert response.status_code == 403
    else:
        assert response.status_code == (200 if role in ALLOWED else 404)


@pytest.mark.parametrize("path", ["/review/", "/review/changes/", "/stats/completion/"])
def test_guangdong_sees_none_of_zhejiangs_enterprises_in_lists(
    personas: Personas, objects: dict[str, int], path: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        client = personas.client_for(personas.guangdong_admin)
        html = client.get(path, {"period": "2026-10", "status": "all"}).content.decode()
    assert "宁波康尔" not in html and "330211" not in html


def test_guangdong_gets_none_of_zhejiangs_enterprises_from_the_api(
    personas: Personas, objects: dict[str, int]
) -> None:
    with time_machine.travel(NOW, tick=False):
        key, _ = issue_api_token(personas.guangdong_admin)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        worklist = Client().get("/api/v1/review/reports?period=2026-10&status=all", **auth)
        changes = Client().get("/api/v1/review/changes?status=all", **auth)
        completion = Client().get("/api/v1/stats/completion?period=2026-10", **auth)
    assert worklist.status_code == changes.status_code == completion.status_code == 200
    for response in (worklist, changes, completion):
        assert "宁波" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/review/export.xlsx?period=2026-10&status=all",
        "/stats/reports.xlsx?period=2026-10",
        "/stats/completion.xlsx?period=2026-10",
        "/transfer/bulk/template/?period=2026-10",
    ],
)
def test_guangdong_exports_hold_none_of_zhejiangs_enterprises(
    personas: Personas, objects: dict[str, int], path: str
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    Report.objects.create(  # one row of its own, so that an empty file cannot pass
        enterprise=personas.guangdong_enterprise.enterprise,
        period="2026-10",
        status=Report.Status.PENDING,
    )
    with time_machine.travel(NOW, tick=False):
        client = personas.client_for(personas.guangdong_admin)
        response = client.get(path)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    wb = load_workbook(BytesIO(body), read_only=True)
    cells = [
        str(value)
        for ws in wb.worksheets
        if ws.sheet_state == "visible"
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert not any("宁波" in c or "33029997" in c or "330211" in c for c in cells)
    assert any("广州" in c or "44010001" in c or "广东" in c or "440106" in c for c in cells)
