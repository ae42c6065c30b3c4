"""Which reports each persona sees (reports.selectors): its own enterprise, its region and
below, or the whole country; everything else is 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from accounts.models import User
from reports.models import Report
from reports.selectors import get_own_report, get_report_for_user, reports_visible_to
from tests.conftest import Personas, make_enterprise_user, valid_uscc

ENTERPRISES = ("ningbo", "hangzhou", "guangdong")
PERSONAS = (
    "ningbo_enterprise",
    "guangdong_enterprise",
    "zhejiang_admin",
    "ningbo_admin",
    "guangdong_admin",
    "senior_admin",
)
# Which enterprises' reports each persona sees.
VISIBLE = {
    "ningbo_enterprise": {"ningbo"},
    "guangdong_enterprise": {"guangdong"},
    "zhejiang_admin": {"ningbo", "hangzhou"},
    "ningbo_admin": {"ningbo"},
    "guangdong_admin": {"guangdong"},
    "senior_admin": {"ningbo", "hangzhou", "guangdong"},
}


@pytest.fixture
def reports(personas: Personas) -> dict[str, list[Report]]:
    """Two months for an enterprise of 宁波, one of 杭州 (浙江, not 宁波) and one of 广东."""
    hangzhou = make_enterprise_user(
        "33010001", "杭州西湖精工有限公司", valid_uscc("91330106MA2BXH003"), "330106"
    )
    owners = {
        "ningbo": personas.ningbo_enterprise,
        "hangzhou": hangzhou,
        "guangdong": personas.guangdong_enterprise,
    }
    return {
        name: [
            Report.objects.create(enterprise=user.enterprise, period=period)
            for period in ("2026-09", "2026-10")
        ]
        for name, user in owners.items()
    }


def fresh(user: User) -> User:
    """The user as a request would carry it: nothing related loaded yet."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_exactly_its_scope(
    personas: Personas, reports: dict[str, list[Report]], persona: str
) -> None:
    user = getattr(personas, persona)
    expected = {r.pk for name in VISIBLE[persona] for r in reports[name]}
    assert set(reports_visible_to(user).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_get_report_for_user_returns_in_scope_and_404_outside(
    personas: Personas, reports: dict[str, list[Report]], persona: str
) -> None:
    user = getattr(personas, persona)
    for name in ENTERPRISES:
        for report in reports[name]:
            if name in VISIBLE[persona]:
                assert get_report_for_user(user, report.pk) == report
            else:
                with pytest.raises(Http404):
                    get_report_for_user(user, report.pk)


@pytest.mark.parametrize("pk", [987654, "abc", None])
def test_an_unknown_or_malformed_id_is_404(personas: Personas, pk: Any) -> None:
    with pytest.raises(Http404):
        get_report_for_user(personas.senior_admin, pk)


def test_an_enterprise_gets_its_own_month_or_none(
    personas: Personas, reports: dict[str, list[Report]]
) -> None:
    user = personas.ningbo_enterprise
    assert get_own_report(user, "2026-10") == reports["ningbo"][1]
    assert get_own_report(user, "2026-08") is None


@pytest.mark.parametrize("persona", ["zhejiang_admin", "ningbo_admin", "senior_admin"])
def test_get_own_report_is_for_enterprises_only(
    personas: Personas, reports: dict[str, list[Report]], persona: str
) -> None:
    with pytest.raises(Http404):
        get_own_report(getattr(personas, persona), "2026-10")


def test_an_inactive_user_sees_nothing(
    personas: Personas, reports: dict[str, list[Report]]
) -> None:
    user = personas.ningbo_admin
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not reports_visible_to(user).exists()


# A local administrator's region is read once; the list itself is one query, however long.
QUERIES = {
    "ningbo_enterprise": 1,
    "guangdong_enterprise": 1,
    "zhejiang_admin": 2,
    "ningbo_admin": 2,
    "guangdong_admin": 2,
    "senior_admin": 1,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_visible_reports_take_a_constant_number_of_queries(
    personas: Personas,
    reports: dict[str, list[Report]],
    persona: str,
    django_assert_num_queries: Any,
) -> None:
    user = fresh(getattr(personas, persona))
    with django_assert_num_queries(QUERIES[persona]):
        rows = [
            (r.period, r.enterprise.name, r.enterprise.region.name)
            for r in reports_visible_to(user)
        ]
    assert len(rows) == 2 * len(VISIBLE[persona])
