"""Masking of personal contact data (issue 8, lib.masking): the formats, who sees full values
(sees_contacts), and the pages and exports that apply them — a list or an export never carries a
full mobile number, e-mail address or landline; the detail page of a report in scope does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from openpyxl import load_workbook

from accounts.models import OutboxMessage, User, VerificationCode
from directory.models import Enterprise
from lib.masking import mask_contact, mask_email, mask_mobile, mask_phone, sees_contacts
from reports.basic_info import BasicInfoForm
from reports.models import Report
from reports.periods import Period
from reports.services import ReportInputError, save_basic_info, save_indicators, submit
from tests.conftest import Personas
from tests.test_report_services import basic, indicators

MOBILE = "13812341234"
MOBILE_MASKED = "138****1234"
EMAIL = "zhang.san@example.com"
EMAIL_MASKED = "z***@example.com"
LANDLINE = "0574-86601234"
LANDLINE_MASKED = "0574-****1234"
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)
OCTOBER = Period(2026, 10)


# --- The formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (MOBILE, MOBILE_MASKED),
        ("  13812341234 ", MOBILE_MASKED),
        ("138 1234 1234", MOBILE_MASKED),
        ("138-1234-1234", MOBILE_MASKED),
        ("+8613812341234", MOBILE_MASKED),
        ("008613812341234", MOBILE_MASKED),
        (13812341234, MOBILE_MASKED),  # a number, not text
        ("", ""),
        (None, ""),
        ("   ", ""),
        ("1381234", "****"),  # too short: every digit would show
        ("138123412345", "****"),  # too long
        ("23812341234", "****"),  # not a mobile number
        ("1381234abcd", "****"),
        ("１３８１２３４１２３４", "****"),  # full-width digits are not read
        ("手机13812341234", "****"),
    ],
)
def test_mask_mobile(value: Any, shown: str) -> None:
    assert mask_mobile(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0574-86601234", "0574-****1234"),
        ("010-6608666", "010-****8666"),
        ("0574-86601234-801", "0574-****1234"),  # the extension is dropped
        (MOBILE, MOBILE_MASKED),  # a 联系电话 may be a mobile number
        ("", ""),
        (None, ""),
        ("86601234", "****"),  # no area code: unknown, nothing shown
        ("0574-123", "****"),
        ("0574 86601234", "****"),
        ("电话0574-86601234", "****"),
        ("n/a", "****"),
    ],
)
def test_mask_phone(value: Any, shown: str) -> None:
    assert mask_phone(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (EMAIL, EMAIL_MASKED),
        ("a@b.cn", "a***@b.cn"),  # one character: the asterisks hide the length
        ("张三@例子.中国", "张***@例子.中国"),
        (" Zhang@Example.com ", "Z***@Example.com"),
        ("", ""),
        (None, ""),
        ("zhang.san", "****"),
        ("@example.com", "****"),
        ("zhang@", "****"),
        ("a@b@example.com", "****"),
        ("zhang san@example.com", "****"),
    ],
)
def test_mask_email(value: Any, shown: str) -> None:
    assert mask_email(value) == shown


def test_mask_contact_reads_the_kind_from_the_value() -> None:
    assert mask_contact(EMAIL) == EMAIL_MASKED
    assert mask_contact(MOBILE) == MOBILE_MASKED
    assert mask_contact(LANDLINE) == LANDLINE_MASKED
    assert mask_contact(None) == ""


def test_a_value_whose_str_breaks_is_masked_not_raised() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError

    assert mask_mobile(Broken()) == ""
    assert mask_email(Broken()) == ""


def test_the_template_filters() -> None:
    template = Template(
        "{% load masking %}{{ m|mask_mobile }} {{ e|mask_email }} {{ p|mask_phone }} "
        "{{ c|mask_contact }} [{{ none|mask_phone }}]"
    )
    context = Context({"m": MOBILE, "e": EMAIL, "p": LANDLINE, "c": EMAIL, "none": None})
    assert template.render(context) == (
        f"{MOBILE_MASKED} {EMAIL_MASKED} {LANDLINE_MASKED} {EMAIL_MASKED} []"
    )


# --- Who sees full values ------------------------------------------------------------------------


def test_sees_contacts(personas: Personas) -> None:
    ningbo = personas.ningbo_enterprise.enterprise
    report = Report.objects.create(enterprise=ningbo, period=str(OCTOBER))
    for obj in (ningbo, report, personas.ningbo_enterprise):
        assert sees_contacts(personas.ningbo_enterprise, obj)  # the enterprise itself
        assert not sees_contacts(personas.guangdong_enterprise, obj)
        assert sees_contacts(personas.ningbo_admin, obj)  # 宁波 is in 宁波市
        assert sees_contacts(personas.zhejiang_admin, obj)
        assert sees_contacts(personas.senior_admin, obj)
        assert not sees_contacts(personas.guangdong_admin, obj)  # outside 广东
        assert not sees_contacts(None, obj)
    # Another administrator's account: no page needs it; one's own account: yes.
    assert not sees_contacts(personas.senior_admin, personas.ningbo_admin)
    assert sees_contacts(personas.ningbo_admin, personas.ningbo_admin)
    assert not sees_contacts(personas.ningbo_admin, None)
    assert not sees_contacts(personas.ningbo_admin, object())


# --- Pages and exports ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def body(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def ningbo_report(personas: Personas) -> Report:
    """宁波康尔's report of 2026-10 with a landline, a mobile and an e-mail, submitted through the
    services; then the enterprise's 联系电话 becomes the mobile number (step 1 had set it to the
    landline)."""
    user = personas.ningbo_enterprise
    info = basic(user.enterprise, mobile=MOBILE, email=EMAIL, phone=LANDLINE)
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(info))
    outcome = save_indicators(user, OCTOBER, indicators())
    try:
        report, _ = submit(user, outcome.report)
    except ReportInputError as refused:  # soft warnings: explain each one
        rules = [e.field.removeprefix("explanations.") for e in refused.errors]
        report, _ = submit(user, outcome.report, dict.fromkeys(rules, "本月新接大额出口订单"))
    Enterprise.objects.filter(pk=user.enterprise_id).update(contact_phone=MOBILE)
    return report


def assert_masked(html: str) -> None:
    for full in (MOBILE, EMAIL, "86601234"):
        assert full not in html


def test_the_completion_list_masks_the_contact_phone(
    personas: Personas, ningbo_report: Report
) -> None:
    client = personas.client_for(personas.senior_admin)
    params = {"period": "2026-10", "region": "330211", "status": "enterprises"}
    html = body(client.get("/stats/completion/enterprises/", params))
    assert "宁波康尔企业" in html and MOBILE_MASKED in html
    assert_masked(html)
    # A landline is masked too (the enterprises of the conftest have one).
    html = body(client.get("/stats/completion/enterprises/", {**params, "region": "440106"}))
    assert "广州明德机械有限公司" in html and LANDLINE_MASKED in html
    assert_masked(html)


def test_the_review_detail_in_scope_shows_the_full_contacts(
    personas: Personas, ningbo_report: Report
) -> None:
    for persona in ("ningbo_admin", "senior_admin"):
        client = personas.client_for(getattr(personas, persona))
        html = body(client.get(f"/review/reports/{ningbo_report.pk}/"))
        assert MOBILE in html and EMAIL in html and LANDLINE in html
    # Outside the scope the page does not exist at all.
    outsider = personas.client_for(personas.guangdong_admin)
    assert outsider.get(f"/review/reports/{ningbo_report.pk}/").status_code == 404


def test_the_review_worklist_shows_no_contacts(personas: Personas, ningbo_report: Report) -> None:
    html = body(personas.client_for(personas.ningbo_admin).get("/review/"))
    assert "宁波康尔企业" in html
    assert_masked(html)


def cells(response: Any) -> list[str]:
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    ws = load_workbook(BytesIO(content)).active
    return [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]


@pytest.mark.parametrize("url", ["/review/export.xlsx", "/stats/reports.xlsx"])
def test_exports_carry_no_full_contact(personas: Personas, ningbo_report: Report, url: str) -> None:
    client = personas.client_for(personas.senior_admin)
    values = cells(client.get(url, {"period": "2026-10"}))
    assert "宁波康尔企业" in values
    text = "\n".join(values)
    assert MOBILE not in text and EMAIL not in text and LANDLINE not in text


def test_the_outbox_masks_the_recipient(personas: Personas) -> None:
    OutboxMessage.objects.create(
        channel="mobile", recipient=MOBILE, subject="验证码", body="验证码 123456"
    )
    OutboxMessage.objects.create(
        channel="email", recipient=EMAIL, subject="验证码", body="验证码 654321"
    )
    html = body(personas.client_for(personas.senior_admin).get("/accounts/outbox/"))
    assert MOBILE_MASKED in html and EMAIL_MASKED in html
    assert "123456" in html  # the code itself is what the page is for
    assert_masked(html)


@pytest.fixture
def staff(personas: Personas) -> Client:
    return personas.client_for(personas.senior_admin)


def test_django_admin_lists_mask_and_the_change_page_shows(
    staff: Client, personas: Personas
) -> None:
    message = OutboxMessage.objects.create(
        channel="mobile", recipient=MOBILE, subject="验证码", body="验证码 123456"
    )
    VerificationCode.objects.create(
        user=personas.ningbo_enterprise,
        channel="email",
        target=EMAIL,
        code_hash="x",
        expires_at=NOW + dt.timedelta(minutes=10),
    )
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(mobile=MOBILE, email=EMAIL)
    for path in ("accounts/outboxmessage", "accounts/verificationcode", "accounts/user"):
        html = body(staff.get(f"/django-admin/{path}/"))
        assert_masked(html)
    assert MOBILE_MASKED in body(staff.get("/django-admin/accounts/outboxmessage/"))
    assert EMAIL_MASKED in body(staff.get("/django-admin/accounts/verificationcode/"))
    # Searching by the full number still finds the row (shown masked).
    found = body(staff.get("/django-admin/accounts/outboxmessage/", {"q": MOBILE}))
    assert MOBILE_MASKED in found
    # One record's own page is a detail page: the full value.
    detail = body(staff.get(f"/django-admin/accounts/outboxmessage/{message.pk}/change/"))
    assert MOBILE in detail
