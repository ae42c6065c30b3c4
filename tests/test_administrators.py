"""Administrator accounts: who creates and disables whom, and the audit trail of it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEntry
from tests.conftest import Personas

NEW = {"password1": "Qian@tang2026", "password2": "Qian@tang2026", "nickname": "杭州管理员"}


def create(client: Client, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/administrators/new/", {**NEW, **fields})


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("senior_admin", 200),
        ("zhejiang_admin", 200),
        ("ningbo_admin", 404),
        ("guangdong_admin", 200),
        ("ningbo_enterprise", 404),
    ],
)
def test_who_may_open_the_administrator_pages(
    personas: Personas, persona: str, status: int
) -> None:
    client = personas.client_for(getattr(personas, persona))
    assert client.get("/accounts/administrators/").status_code == status
    assert client.get("/accounts/administrators/new/").status_code == status


def test_a_province_administrator_creates_one_for_a_city_inside_it(personas: Personas) -> None:
    client = personas.client_for(personas.zhejiang_admin)
    response = create(client, username="hangzhou", user_type="local_admin", region="330100")
    assert response.status_code == 302
    user = User.objects.get(username="hangzhou")
    assert (user.user_type, user.region_id) == ("local_admin", "330100")
    assert user.check_password("Qian@tang2026")
    entry = AuditEntry.objects.get(action="account_create")
    assert entry.actor == personas.zhejiang_admin and "hangzhou" in entry.summary


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "gz", "user_type": "local_admin", "region": "440100"}, "region"),
        ({"username": "zj2", "user_type": "local_admin", "region": "330000"}, "region"),
        ({"username": "boss", "user_type": "senior_admin"}, "user_type"),
        ({"username": "hz", "user_type": "local_admin"}, "region"),
        ({"username": "ningbo", "user_type": "local_admin", "region": "330100"}, "username"),
    ],
)
def test_a_province_administrator_is_refused_outside_its_province(
    personas: Personas, fields: dict[str, str], field: str
) -> None:
    before = User.objects.count()
    response = create(personas.client_for(personas.zhejiang_admin), **fields)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert User.objects.count() == before


def test_the_national_administrator_creates_national_ones(personas: Personas) -> None:
    create(personas.client_for(personas.senior_admin), username="boss2", user_type="senior_admin")
    user = User.objects.get(username="boss2")
    assert user.region is None and user.is_staff


def test_disabling_an_account_ends_its_logins_and_is_recorded(personas: Personas) -> None:
    zhejiang = personas.client_for(personas.zhejiang_admin)
    response = zhejiang.post(f"/accounts/administrators/{personas.ningbo_admin.pk}/toggle/")
    assert response.status_code == 302
    assert not User.objects.get(pk=personas.ningbo_admin.pk).is_active
    login = Client().post("/accounts/login/", {"username": "ningbo", "password": "Demo@2026"})
    assert login.status_code == 200
    entry = AuditEntry.objects.get(action="account_disable")
    assert entry.before["is_active"] is True and entry.after["is_active"] is False
    zhejiang.post(f"/accounts/administrators/{personas.ningbo_admin.pk}/toggle/")
    assert User.objects.get(pk=personas.ningbo_admin.pk).is_active


def test_accounts_outside_the_province_are_404(personas: Personas) -> None:
    zhejiang = personas.client_for(personas.zhejiang_admin)
    for target in (personas.guangdong_admin, personas.senior_admin, personas.ningbo_enterprise):
        assert zhejiang.post(f"/accounts/administrators/{target.pk}/toggle/").status_code == 404
    assert (
        zhejiang.post(f"/accounts/administrators/{personas.zhejiang_admin.pk}/toggle/").status_code
        == 404
    )
    listing = zhejiang.get("/accounts/administrators/").content.decode()
    assert "ningbo" in listing and "guangdong" not in listing
    assert User.objects.filter(is_active=False).count() == 0
