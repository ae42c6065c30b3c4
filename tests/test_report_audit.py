"""The audit trail of report data: every status change and every change of data that was submitted
before is kept with who, when and from where, and shown to reviewers (page and API)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client

from reports.basic_info import BasicInfoForm
from reports.models import Report, ReportEvent
from reports.services import save_basic_info, save_indicators, save_products
from review.services import send_back
from tests.conftest import PASSWORD, Personas, force_login
from tests.test_api_review import Api, submitted
from tests.test_report_services import OCTOBER, basic, flow, indicators

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def edits(report: Report) -> list[ReportEvent]:
    return list(ReportEvent.objects.filter(report=report, action="edit").order_by("id"))


def test_saves_of_a_draft_never_submitted_are_not_edits(personas: Personas) -> None:
    clerk = personas.ningbo_enterprise
    save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))
    save_indicators(clerk, OCTOBER, indicators())
    save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))
    assert edits(Report.objects.get()) == []


def test_a_change_after_a_return_is_kept_with_before_and_after(personas: Personas) -> None:
    clerk = personas.ningbo_enterprise
    report = submitted(clerk)
    send_back(report, personas.ningbo_admin, [], "工业总产值请核对")

    save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))
    (edit,) = edits(report)
    assert (edit.actor, edit.from_status, edit.to_status) == (clerk, "returned", "returned")
    assert edit.details == {
        "changes": [
            {
                "path": "indicators.gross_output.ytd",
                "label": "工业总产值 本年1-本月",
                "before": "9000.000",
                "after": "9100.000",
            }
        ]
    }
    assert edit.ip is None  # a service called outside a request: no address to record

    # The same values again change nothing: no entry.
    save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))
    assert len(edits(report)) == 1


def test_product_and_basic_info_changes_are_labelled(personas: Personas) -> None:
    clerk = personas.ningbo_enterprise
    report = submitted(clerk)
    send_back(report, personas.ningbo_admin, [], "请补充产品")
    save_products(
        clerk,
        OCTOBER,
        [{"name": "食品罐头", "unit": "吨", "production": {"current": "12"}, "sales": {}}],
    )
    save_basic_info(
        clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise, contact_person="王五"))
    )
    products, info = edits(report)
    labels = {c["label"]: (c["before"], c["after"]) for c in products.details["changes"]}
    assert labels["主要产品1 产品名称"] == (None, "食品罐头")
    assert labels["主要产品1 产量本年本月"] == (None, "12.000")
    assert [(c["label"], c["after"]) for c in info.details["changes"]] == [
        ("基本情况 联系人", "王五")
    ]


def test_events_keep_the_address_of_the_request(personas: Personas) -> None:
    """Status changes and edits through the API and the pages carry the caller's address."""
    report = submitted(personas.ningbo_enterprise)
    client = Client(REMOTE_ADDR="10.8.1.20")
    token = client.post(
        "/api/v1/auth/token",
        json.dumps({"username": "ningbo", "password": PASSWORD}),
        content_type="application/json",
    ).json()["token"]
    response = client.post(
        f"/api/v1/review/reports/{report.pk}/return",
        json.dumps({"reason": "营业收入请核对"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    assert ReportEvent.objects.filter(report=report).latest("id").ip == "10.8.1.20"

    page = Client(REMOTE_ADDR="192.168.7.3")
    body = json.dumps(indicators(gross_output=flow(1000, 9100, 900, 8500)))
    token = Api("33029997").headers
    response = page.put(
        f"/api/v1/reports/{OCTOBER}/indicators",
        body,
        content_type="application/json",
        headers=token,
    )
    assert response.status_code == 200, response.content
    (edit,) = edits(report)
    assert edit.ip == "192.168.7.3"

    detail = Api("ningbo").get(f"/review/reports/{report.pk}").json()
    assert [(e["action"], e["ip"]) for e in detail["events"]][-2:] == [
        ("return", "10.8.1.20"),
        ("edit", "192.168.7.3"),
    ]
    assert detail["events"][-1]["details"]["changes"][0]["label"] == "工业总产值 本年1-本月"


def test_the_review_page_shows_edits_and_addresses(personas: Personas) -> None:
    clerk = personas.ningbo_enterprise
    report = submitted(clerk)
    send_back(report, personas.ningbo_admin, [], "工业总产值请核对")
    save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))

    client = Client(REMOTE_ADDR="10.0.0.9")
    force_login(client, personas.ningbo_admin)
    html = client.get(f"/review/reports/{report.pk}/").content.decode()
    assert "修改数据" in html
    assert "工业总产值 本年1-本月：9000.000 → 9100.000" in html

    force_login(client, personas.senior_admin)
    html = client.get("/audit/?kind=reports&q=宁波康尔企业").content.decode()
    assert "工业总产值 本年1-本月：9000.000 → 9100.000" in html


def test_national_admin_may_return_but_not_approve_a_report_at_local_review(
    personas: Personas,
) -> None:
    report = submitted(personas.ningbo_enterprise)
    client = personas.client_for(personas.senior_admin)
    html = client.get(f"/review/reports/{report.pk}/").content.decode()
    assert "该报表正在等待地方审核" in html
    assert "approve-form" not in html
    assert "return-form" in html

    response = client.post(f"/review/reports/{report.pk}/approve/")
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert response.status_code == 409
    assert "该报表正在等待地方审核" in response.content.decode()
