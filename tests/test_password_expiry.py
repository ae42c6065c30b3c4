"""等级保护 (issue 8): an administrator's password expires after ADMIN_PASSWORD_MAX_AGE_DAYS; until
it is changed, every page leads to the password change page and API tokens are refused.
Enterprise users are not subject to expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import Registration, issue_api_token, register_enterprise
from directory.models import Enterprise, Region
from tests.conftest import PASSWORD, Personas, force_login, log_in_through_pages, valid_uscc

PASSWORD_PAGE = "/accounts/password/"
NEW = "Xin@Mima2026"
MESSAGE = "您的密码已超过90天未修改，请先修改密码。"
# Pages of every kind an administrator opens: home, lists, the administrator pages, the profile.
PAGES = ["/", "/accounts/profile/", "/accounts/administrators/", "/accounts/outbox/"]


@contextmanager
def days_later(days: float) -> Iterator[None]:
    with time_machine.travel(timezone.now() + dt.timedelta(days=days), tick=False):
        yield


def logged_in(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    response = log_in_through_pages(client, username, password)
    assert response.status_code == 302
    return client


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_administrator_at_89_days_is_not_redirected(personas: Personas) -> None:
    with days_later(89):
        client = logged_in("admin")
        for page in PAGES:
            assert client.get(page).status_code == 200, page


def test_at_91_days_every_page_leads_to_the_password_page(personas: Personas) -> None:
    with days_later(91):
        client = logged_in("admin")
        for page in [*PAGES, "/reports/", "/django-admin/", "/api/v1/openapi.json"]:
            response = client.get(page, follow=True)
            if page.startswith("/api/"):
                # The API answers in its own shape, not with a page.
                assert response.status_code == 403, page
                assert "请先登录网页修改密码" in response.json()["detail"]
                continue
            assert response.redirect_chain[0] == (PASSWORD_PAGE, 302), page
            assert MESSAGE in response.content.decode(), page
        # A POST elsewhere is refused the same way (nothing is done behind the redirect).
        assert client.post("/accounts/profile/", {"nickname": "x"})["Location"] == PASSWORD_PAGE
        # An htmx request makes the browser go to the page instead of swapping it in.
        htmx = client.get("/", headers={"HX-Request": "true"})
        assert htmx["HX-Redirect"] == PASSWORD_PAGE


def test_a_local_administrator_is_subject_to_expiry_too(personas: Personas) -> None:
    with days_later(91):
        assert logged_in("ningbo").get("/")["Location"] == PASSWORD_PAGE


def test_the_password_page_logout_and_health_stay_open(personas: Personas) -> None:
    with days_later(91):
        client = logged_in("admin")
        assert client.get(PASSWORD_PAGE).status_code == 200
        assert client.get("/healthz").status_code in (200, 503)
        response = client.post("/accounts/logout/")
        assert response["Location"] == "/accounts/login/"
        assert client.get("/")["Location"].startswith("/accounts/login/")


def test_after_the_change_everything_works_again(personas: Personas) -> None:
    admin = personas.senior_admin
    before = admin.password_changed_at
    with days_later(91):
        client = logged_in("admin")
        response = client.post(
            PASSWORD_PAGE,
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        )
        assert response["Location"] == PASSWORD_PAGE
        admin.refresh_from_db()
        assert admin.password_changed_at == timezone.now()
        assert admin.password_changed_at > before + dt.timedelta(days=90)
        for page in PAGES:
            assert client.get(page).status_code == 200, page
        assert logged_in("admin", NEW).get("/").status_code == 200


def test_enterprise_users_are_never_redirected(personas: Personas) -> None:
    with days_later(3650):
        client = logged_in("33029997")
        assert client.get("/").status_code == 200
        assert client.get("/accounts/profile/").status_code == 200


def test_zero_days_turns_expiry_off(personas: Personas, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ADMIN_PASSWORD_MAX_AGE_DAYS = 0
    with days_later(3650):
        client = logged_in("admin")
        for page in PAGES:
            assert client.get(page).status_code == 200, page


def test_the_period_comes_from_the_setting(personas: Personas, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ADMIN_PASSWORD_MAX_AGE_DAYS = 30
    with days_later(31):
        response = logged_in("admin").get("/", follow=True)
        assert response.redirect_chain[0] == (PASSWORD_PAGE, 302)
        assert "您的密码已超过30天未修改，请先修改密码。" in messages_of(response)


class TestApiTokens:
    def test_a_token_of_an_expired_administrator_is_refused(self, personas: Personas) -> None:
        with days_later(91):
            key, _ = issue_api_token(personas.senior_admin)
            response = Client().get("/api/v1/notices", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 403
            assert response.json()["detail"] == (
                "您的密码已超过90天未修改，请先登录网页修改密码后再使用接口。"
            )

    def test_tokens_work_before_expiry_and_for_enterprises(self, personas: Personas) -> None:
        with days_later(89):
            key, _ = issue_api_token(personas.senior_admin)
            response = Client().get("/api/v1/notices", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200
        with days_later(3650):
            key, _ = issue_api_token(personas.ningbo_enterprise)
            response = Client().get("/api/v1/notices", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200


def create_hangzhou(creator: Client) -> None:
    """浙江's administrator creates 杭州's, choosing its password Qian@tang2026."""
    response = creator.post(
        "/accounts/administrators/new/",
        {
            "username": "hangzhou",
            "user_type": "local_admin",
            "region": "330100",
            "password1": "Qian@tang2026",
            "password2": "Qian@tang2026",
        },
    )
    assert response.status_code == 302


class TestThePasswordDateIsSet:
    """Every way an account gets a password stores the date with it."""

    def test_by_the_administrator_create_page(self, personas: Personas) -> None:
        with days_later(100):
            client = personas.client_for(personas.zhejiang_admin)
            # The creator's own password is 100 days old: it changes it first.
            client.post(
                PASSWORD_PAGE,
                {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
            )
            create_hangzhou(client)
            # The creator chose it: not a date of the owner's, a change the owner owes.
            created = User.objects.get(username="hangzhou")
            assert created.password_changed_at is None
            assert created.password_change_reason == "initial"

    def test_by_createsuperuser(self, db: None, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Qian@tang2026")
        with days_later(100):
            call_command("createsuperuser", "--noinput", "--username", "root", verbosity=0)
            user = User.objects.get(username="root")
            assert user.password_changed_at == timezone.now()
            assert user.is_senior_admin and not user.must_change_password

    def test_by_the_django_admin_password_form(self, personas: Personas) -> None:
        target = personas.ningbo_admin
        with days_later(100):
            client = personas.client_for(personas.senior_admin)
            personas.senior_admin.set_password(PASSWORD)  # the staff member's own is fresh
            personas.senior_admin.save()
            force_login(client, personas.senior_admin)
            response = client.post(
                f"/django-admin/accounts/user/{target.pk}/password/",
                {"password1": "Qian@tang2026", "password2": "Qian@tang2026"},
            )
            assert response.status_code == 302
            target.refresh_from_db()
            assert target.check_password("Qian@tang2026")
            # Set by the national administrator: the owner changes it at the next login.
            assert target.password_changed_at is None and target.must_change_password

    def test_by_the_registration(self, reference_data: None) -> None:
        with days_later(100):
            user = register_enterprise(
                Registration(
                    username="kangning",
                    password="Qian@tang2026",
                    enterprise_name="宁波康宁企业",
                    code_type=Enterprise.CodeType.USCC,
                    code=valid_uscc("91330211MA2AFKE09"),
                    region=Region.objects.get(code="330211"),
                    contact_person="杨莎莎",
                    contact_phone="0574-86601234",
                )
            )
            assert User.objects.get(pk=user.pk).password_changed_at == timezone.now()

    def test_a_rehash_at_login_is_not_a_change(self, personas: Personas, settings) -> None:  # type: ignore[no-untyped-def]
        admin = personas.senior_admin
        before = User.objects.get(pk=admin.pk).password_changed_at
        # A new preferred hasher: the login rehashes the stored Argon2 password with it.
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher",
            "tests.hashers.CheapArgon2PasswordHasher",
        ]
        with days_later(91):
            client = Client()
            log_in_through_pages(client, "admin")
            stored = User.objects.get(pk=admin.pk)
            assert stored.password.startswith("md5$")  # rehashed at login
            assert stored.password_changed_at == before
            assert client.get("/")["Location"] == PASSWORD_PAGE


class TestAPasswordSetBySomeoneElse:
    """等级保护 初始口令: a password an administrator chose for an account (a new administrator,
    or a forgotten password set anew in the Django admin) is changed by its owner at the first
    login, before anything else; the owner's change ends the requirement."""

    def created(self, personas: Personas) -> Client:
        create_hangzhou(personas.client_for(personas.zhejiang_admin))
        return logged_in("hangzhou", "Qian@tang2026")

    def test_the_first_login_leads_to_the_password_page(self, personas: Personas) -> None:
        client = self.created(personas)
        for page in ["/", "/review/", "/accounts/profile/"]:
            response = client.get(page)
            assert response.status_code == 302 and response["Location"] == PASSWORD_PAGE
        response = client.get("/", follow=True)
        assert set(messages_of(response)) == {"您的密码由管理员设置，首次登录请先修改密码。"}
        api = client.get("/api/v1/me")
        assert api.status_code == 403
        assert api.json() == {"detail": "您的密码由管理员设置，请先登录网页修改密码后再使用接口。"}

    def test_no_token_is_issued_until_it_is_changed(self, personas: Personas) -> None:
        self.created(personas)
        body = {"username": "hangzhou", "password": "Qian@tang2026"}
        response = Client().post("/api/v1/auth/token", body, content_type="application/json")
        assert response.status_code == 403
        assert "您的密码由管理员设置" in response.json()["detail"]

    def test_the_owners_change_ends_it(self, personas: Personas) -> None:
        client = self.created(personas)
        response = client.post(
            PASSWORD_PAGE,
            {"old_password": "Qian@tang2026", "new_password1": NEW, "new_password2": NEW},
        )
        assert response.status_code == 302
        user = User.objects.get(username="hangzhou")
        assert user.password_changed_at is not None
        assert user.password_change_reason is None
        assert client.get("/review/").status_code == 200

    def test_an_enterprise_password_set_in_the_django_admin_too(self, personas: Personas) -> None:
        staff = personas.client_for(personas.senior_admin)
        target = personas.ningbo_enterprise
        response = staff.post(
            f"/django-admin/accounts/user/{target.pk}/password/",
            {"password1": "Qian@tang2026", "password2": "Qian@tang2026"},
        )
        assert response.status_code == 302
        client = logged_in("33029997", "Qian@tang2026")
        assert client.get("/reports/")["Location"] == PASSWORD_PAGE

    def test_an_account_added_in_the_django_admin_too(self, personas: Personas) -> None:
        staff = personas.client_for(personas.senior_admin)
        response = staff.post(
            "/django-admin/accounts/user/add/",
            {
                "username": "wenzhou",
                "user_type": "local_admin",
                "region": "330300",
                "password1": "Qian@tang2026",
                "password2": "Qian@tang2026",
                "usable_password": "true",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert User.objects.get(username="wenzhou").password_change_reason == "initial"
