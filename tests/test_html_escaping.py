"""Stored XSS (issue 8): markup typed into any free-text field — step 1's address, contact person
and main business, 原因说明, product names, questionnaire text answers, return reasons, the reason
a key change is returned, notice title and body, an administrator's nickname — is stored through
the real services and pages, then every page that shows it must print it escaped, and the API
must carry it as a plain JSON string. Time is frozen at 2026-11-10 10:00 in 上海: the current
report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from accounts.services import issue_api_token
from notices.models import Notice
from reports.basic_info import BasicInfoForm
from reports.models import KeyChangeRequest, Question, Questionnaire, Report
from reports.periods import Period
from reports.services import (
    ReportInputError,
    save_answers,
    save_basic_info,
    save_indicators,
    save_products,
    submit,
)
from reports.workflow import approve_key_change, return_key_change
from review.services import send_back
from tests.conftest import Personas, force_login
from tests.test_report_services import basic, flow, indicators

NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OCTOBER = Period(2026, 10)
SEPTEMBER = Period(2026, 9)


@dataclass(frozen=True)
class Payload:
    raw: str
    # The dangerous piece that must never reach the HTML as markup, and its escaped form, which
    # must: without the second check a page that dropped the value would pass too.
    markup: str
    escaped: str


PAYLOADS = [
    Payload(
        "<script>alert(1)</script>",
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ),
    Payload(
        '"><img src=x onerror=alert(1)>',
        "<img src=x onerror=alert(1)>",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
    ),
]


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Stored:
    report: Report
    change: KeyChangeRequest
    notice: Notice
    receipt: str  # the HTML of the receipt, read while the month was submitted


def store_everywhere(personas: Personas, p: str) -> Stored:
    """The payload in every free-text field, each saved the way a user saves it."""
    clerk = personas.ningbo_enterprise
    questionnaire = Questionnaire.objects.create(title="建议征集", periods="2026-10")
    question = Question.objects.create(questionnaire=questionnaire, text="您的建议", type="text")

    # The name is free text too, but a key field: it becomes the enterprise's only once the
    # national review approves the change (then the worklist and the receipt show it).
    form = basic(clerk.enterprise, enterprise_name=p, address=p, contact_person=p, main_business=p)
    save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(form), confirm_key_change=True)
    approve_key_change(KeyChangeRequest.objects.get(), personas.senior_admin)
    # Export growth far above last year's: a soft rule that needs a 原因说明.
    save_indicators(clerk, OCTOBER, indicators(export_delivery=flow(400, 4000, 90, 850)))
    product = {"name": p, "code": "1311010", "unit": "吨"}
    save_products(clerk, OCTOBER, [product])
    save_answers(clerk, OCTOBER, questionnaire.pk, {str(question.pk): p})
    draft = Report.objects.get(enterprise=clerk.enterprise, period=str(OCTOBER))
    with pytest.raises(ReportInputError) as refused:
        submit(clerk, draft)
    rules = [e.field.removeprefix("explanations.") for e in refused.value.errors]
    report, _ = submit(clerk, draft, dict.fromkeys(rules, p))
    # The receipt exists while the month is submitted: read before the return below.
    receipt = personas.client_for(clerk).get(f"/reports/{OCTOBER}/receipt/")
    assert receipt.status_code == 200
    # 宁波 has a local administrator: the first review, and the return, are its.
    report = send_back(report, personas.ningbo_admin, [], p)

    # A key change in another month, returned by the national review with the payload as reason.
    clerk.enterprise.refresh_from_db()
    renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司", industry="1312")
    save_basic_info(clerk, SEPTEMBER, BasicInfoForm.from_json(renamed), confirm_key_change=True)
    pending = KeyChangeRequest.objects.get(status=KeyChangeRequest.Status.PENDING)
    change = return_key_change(pending, personas.senior_admin, p)

    senior = personas.client_for(personas.senior_admin)
    notice_form = {"kind": "notice", "title": p, "body": p, "audience": "all", "region": ""}
    assert senior.post("/notices/manage/new/", notice_form).status_code == 302

    zhejiang = personas.client_for(personas.zhejiang_admin)
    admin_form = {
        "username": "hangzhou",
        "user_type": "local_admin",
        "region": "330100",
        "password1": "Qian@tang2026",
        "password2": "Qian@tang2026",
        "nickname": p,
    }
    assert zhejiang.post("/accounts/administrators/new/", admin_form).status_code == 302
    assert User.objects.get(username="hangzhou").nickname == p

    report.refresh_from_db()
    return Stored(
        report=report, change=change, notice=Notice.objects.get(), receipt=receipt.content.decode()
    )


def pages(personas: Personas, stored: Stored) -> dict[str, tuple[User, str]]:
    """Every page that shows one of the stored values, with who opens it."""
    report, enterprise = stored.report.pk, personas.ningbo_enterprise
    return {
        "enterprise's month view": (enterprise, f"/reports/{OCTOBER}/view/"),
        "enterprise's step 1 (address, contact, main business)": (
            enterprise,
            f"/reports/{OCTOBER}/basic/",
        ),
        "enterprise's products": (enterprise, f"/reports/{OCTOBER}/products/"),
        "enterprise's returned-change month": (enterprise, f"/reports/{SEPTEMBER}/"),
        "reviewer's report page": (personas.ningbo_admin, f"/review/reports/{report}/"),
        "worklist": (personas.ningbo_admin, f"/review/?period={OCTOBER}&status=returned"),
        "key change page": (personas.senior_admin, f"/review/changes/{stored.change.pk}/"),
        "notices list": (enterprise, "/notices/"),
        "notice detail": (enterprise, f"/notices/{stored.notice.pk}/"),
        "notices manage list": (personas.senior_admin, "/notices/manage/"),
        "administrators list": (personas.zhejiang_admin, "/accounts/administrators/"),
    }


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "attribute"])
def test_stored_markup_is_escaped_on_every_page(personas: Personas, payload: Payload) -> None:
    stored = store_everywhere(personas, payload.raw)

    shown = {"receipt": stored.receipt}
    for name, (user, url) in pages(personas, stored).items():
        client = Client()
        force_login(client, user)
        response = client.get(url, follow=True)
        assert response.status_code == 200, f"{name}: {url} answered {response.status_code}"
        shown[name] = response.content.decode()

    raw_on: list[str] = []
    missing_on: list[str] = []
    for name, html in shown.items():
        if payload.markup in html:
            raw_on.append(name)
        if payload.escaped not in html:
            missing_on.append(name)

    assert raw_on == [], f"unescaped markup on: {raw_on}"
    assert missing_on == [], f"the escaped value is not shown on: {missing_on}"


def test_the_api_carries_stored_markup_as_plain_json_strings(personas: Personas) -> None:
    payload = PAYLOADS[0]
    store_everywhere(personas, payload.raw)
    key, _ = issue_api_token(personas.ningbo_enterprise)
    auth = {"Authorization": f"Bearer {key}"}

    for url, at_least in ((f"/api/v1/reports/{OCTOBER}", 4), ("/api/v1/notices", 2)):
        response = Client().get(url, headers=auth)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        body = response.content.decode()
        # JSON, not HTML: decoded, the value is exactly what was typed, never entity-escaped.
        assert payload.escaped not in body
        strings = list(_strings(json.loads(body)))
        assert strings.count(payload.raw) >= at_least, (url, strings)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
