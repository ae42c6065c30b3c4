from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD, Personas

CHANGELISTS = [
    "accounts/user",
    "accounts/outboxmessage",
    "accounts/verificationcode",
    "accounts/apitoken",
    "directory/region",
    "directory/industry",
    "directory/registrationtype",
    "directory/sizethreshold",
    "directory/enterprise",
    "notices/notice",
]


@pytest.fixture
def staff(personas: Personas) -> Client:
    return personas.client_for(personas.senior_admin)


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_staff_national_administrator_opens_every_list(staff: Client, path: str) -> None:
    assert staff.get(f"/django-admin/{path}/").status_code == 200


@pytest.mark.parametrize("path", ["directory/region", "accounts/user", "directory/enterprise"])
def test_lists_take_a_constant_number_of_queries(
    staff: Client, path: str, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(12):
        staff.get(f"/django-admin/{path}/")


def test_other_users_do_not_get_in(personas: Personas) -> None:
    User.objects.filter(username="zhejiang").update(user_type=User.Type.SENIOR_ADMIN)
    not_staff = User.objects.get(username="zhejiang")
    for user in (personas.ningbo_admin, personas.ningbo_enterprise, not_staff):
        response = personas.client_for(user).get("/django-admin/accounts/user/")
        assert response.status_code == 302
        assert response["Location"].startswith("/django-admin/login/")


def test_the_admin_link_shows_only_to_staff(staff: Client, personas: Personas) -> None:
    assert "管理后台" in staff.get("/").content.decode()
    plain = personas.client_for(personas.senior_admin)
    User.objects.filter(pk=personas.senior_admin.pk).update(is_staff=False)
    assert "管理后台" not in plain.get("/").content.decode()


def test_a_local_administrator_without_region_is_refused_in_chinese(staff: Client) -> None:
    response = staff.post(
        "/django-admin/accounts/user/add/",
        {
            "username": "hangzhou",
            "user_type": "local_admin",
            "password1": "Qian@tang2026",
            "password2": "Qian@tang2026",
        },
    )
    assert response.status_code == 200
    assert "地方管理员必须指定可管理地区。" in response.content.decode()
    assert not User.objects.filter(username="hangzhou").exists()


def test_it_creates_a_local_administrator_with_a_hashed_password(staff: Client) -> None:
    response = staff.post(
        "/django-admin/accounts/user/add/",
        {
            "username": "hangzhou",
            "user_type": "local_admin",
            "region": "330100",
            "password1": "Qian@tang2026",
            "password2": "Qian@tang2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="hangzhou")
    assert user.region_id == "330100" and user.check_password("Qian@tang2026")
    assert user.password != "Qian@tang2026"


def test_the_admin_login_obeys_the_account_lock(personas: Personas) -> None:
    client = Client()
    for _ in range(5):
        client.post("/django-admin/login/", {"username": "admin", "password": "Wrong@2026"})
    client.post("/django-admin/login/", {"username": "admin", "password": PASSWORD})
    assert client.get("/django-admin/")["Location"].startswith("/django-admin/login/")
