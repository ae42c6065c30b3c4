from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from accounts import second_factor
from accounts.models import User
from directory.models import Enterprise
from notices.models import Notice
from portal.management.commands.seed_demo import DEMO_AUTHENTICATOR_KEY
from tests.conftest import log_in_through_pages

README_LOGINS = {
    "admin": (User.Type.SENIOR_ADMIN, "全国"),
    "zhejiang": (User.Type.LOCAL_ADMIN, "浙江省"),
    "ningbo": (User.Type.LOCAL_ADMIN, "浙江省 宁波市"),
    "guangdong": (User.Type.LOCAL_ADMIN, "广东省"),
    "33029997": (User.Type.ENTERPRISE, "浙江省 宁波市 镇海区"),
    "44010001": (User.Type.ENTERPRISE, "广东省 广州市 天河区"),
}


@pytest.fixture
def seeded(reference_data: None) -> None:
    call_command("seed_demo", stdout=StringIO())


def counts() -> tuple[int, int, int]:
    return User.objects.count(), Enterprise.objects.count(), Notice.objects.count()


def test_running_it_twice_changes_nothing(seeded: None) -> None:
    before = counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "新建 0 条记录" in out.getvalue()


@pytest.mark.parametrize(("username", "expected"), README_LOGINS.items())
def test_every_demo_login_of_the_readme_works(
    seeded: None, username: str, expected: tuple[str, str]
) -> None:
    client = Client()
    # The national administrator's second step takes the code of the demo's published key.
    response = log_in_through_pages(client, username, "Demo@2026")
    assert response.status_code == 302
    user = client.get("/").context["user"]
    assert (user.user_type, user.region_label) == expected


def test_the_manuals_enterprise_is_there(seeded: None) -> None:
    enterprise = User.objects.get(username="33029997").enterprise
    assert enterprise.name == "宁波康尔企业"
    assert enterprise.region.full_name == "浙江省 宁波市 镇海区"


def test_enterprises_spread_over_provinces_and_industries(seeded: None) -> None:
    enterprises = Enterprise.objects.all()
    assert enterprises.count() >= 30
    assert len({e.region_id[:2] for e in enterprises}) >= 10
    assert len({e.industry_id for e in enterprises}) >= 10


def test_it_seeds_a_questionnaire_on_the_open_months(seeded: None) -> None:
    from reports.models import Questionnaire
    from reports.periods import current_report_month

    questionnaire = Questionnaire.objects.get()
    assert questionnaire.applies_to(str(current_report_month()))
    assert questionnaire.questions.count() == 6
    assert {q.type for q in questionnaire.questions.all()} == {
        "single",
        "multiple",
        "number",
        "text",
    }


def test_the_manuals_enterprise_has_last_years_month_for_the_prefill(seeded: None) -> None:
    from reports.models import Report
    from reports.periods import Period, current_report_month

    current = current_report_month()
    year_ago = Report.objects.get(
        enterprise__user__username="33029997", period=str(Period(current.year - 1, current.month))
    )
    assert year_ago.status == Report.Status.APPROVED
    assert year_ago.values.get(code="gross_output").ytd > 0
    assert [e.to_status for e in year_ago.events.all()] == ["draft", "pending", "approved"]


def test_the_analytics_sample_gives_the_national_administrator_a_picture(
    reference_data: None,
) -> None:
    from analytics import cube

    call_command("seed_demo", "--sample-enterprises", "40", stdout=StringIO())
    enterprises = Enterprise.objects.count()
    client = Client()
    log_in_through_pages(client, "admin", "Demo@2026")
    html = client.get("/analytics/").content.decode()
    assert "统计范围：<strong>全国</strong>" in html and html.count("<svg") == 2
    months = sorted(set(cube.Report.objects.values_list("period", flat=True).distinct().order_by()))
    assert len(months) >= 24 and cube.verify(months) == []
    call_command("seed_demo", "--sample-enterprises", "40", stdout=StringIO())
    assert Enterprise.objects.count() == enterprises  # once only


def test_the_demo_national_administrator_logs_in_with_the_published_key(seeded: None) -> None:
    """README: the key `admin`'s authenticator has; its code is what the DEBUG command prints."""
    device = second_factor.device_of(User.objects.get(username="admin"))
    assert device is not None
    assert base64.b32encode(device.bin_key).decode() == DEMO_AUTHENTICATOR_KEY
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("second_factor_code", "admin", stdout=out)
    client = Client()
    client.post("/accounts/login/", {"username": "admin", "password": "Demo@2026"})
    response = client.post("/accounts/login/code/", {"code": out.getvalue().strip()})
    assert response.status_code == 302 and response["Location"] == "/"
