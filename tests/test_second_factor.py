"""二次认证 (issue 8): administrators may turn on a TOTP second factor, national administrators
must; a login with one is no login until the code is given; a code is good once; wrong codes are
slowed down and, five times, send the user back to the password; a session that did not pass the
rule is ended. accounts.second_factor holds the rules; these tests go through the pages."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from accounts.models import User
from audit.models import SecurityEvent
from tests.conftest import (
    CODE_PAGE,
    LOGIN_PAGE,
    PASSWORD,
    Personas,
    authenticator_code,
    force_login,
    log_in_through_pages,
)

PAGE = "/accounts/second-factor/"


@pytest.fixture(autouse=True)
def frozen_clock() -> object:
    # One 30-second step for the whole test unless it moves the clock itself: codes are
    # computed and checked at the same instant.
    with time_machine.travel(dt.datetime(2026, 11, 10, 2, 0, 5, tzinfo=dt.UTC), tick=False) as t:
        yield t


def password_step(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(LOGIN_PAGE, {"username": username, "password": password})


def logged_in_user(client: Client) -> User | None:
    user = client.get("/accounts/profile/").context
    return user["user"] if user is not None and user["user"].is_authenticated else None


def bind(user: User) -> TOTPDevice:
    """An authenticator bound earlier (as the binding page would leave it)."""
    device = second_factor.enrolment(user)
    device.confirmed = True
    device.save()
    return device


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def events(kind: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("id"))


class TestNationalAdministratorsMust:
    def test_the_first_login_binds_an_authenticator_before_letting_in(
        self, client: Client, personas: Personas
    ) -> None:
        response = password_step(client, "admin")
        assert response.status_code == 302 and response["Location"] == CODE_PAGE
        page = client.get(CODE_PAGE)
        html = page.content.decode()
        assert "绑定动态口令" in html and "国家管理员登录平台必须使用动态口令" in html
        assert "<svg" in html  # the QR code, inline
        shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
        device = TOTPDevice.objects.get(user=personas.senior_admin, confirmed=False)
        assert shown and shown.group(1) == second_factor.secret_text(device)
        # Reloading the page shows the same key (an app may have scanned it already).
        assert shown.group(1) in client.get(CODE_PAGE).content.decode()

        response = client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
        assert response.status_code == 302 and response["Location"] == "/"
        assert logged_in_user(client) == personas.senior_admin
        device.refresh_from_db()
        assert device.confirmed
        assert [e.detail for e in events(SecurityEvent.Kind.SECOND_FACTOR)] == ["启用动态口令"]
        assert [e.actor for e in events(SecurityEvent.Kind.LOGIN_OK)] == [personas.senior_admin]

    def test_until_the_code_the_session_is_nobodys(
        self, client: Client, personas: Personas
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        assert client.get("/")["Location"].startswith(LOGIN_PAGE)
        assert client.get("/api/v1/me").status_code == 401
        assert client.get("/review/").status_code == 302
        assert not events(SecurityEvent.Kind.LOGIN_OK)

    def test_they_cannot_turn_it_off(self, personas: Personas) -> None:
        bind(personas.senior_admin)
        client = force_login(Client(), personas.senior_admin)
        page = client.get(PAGE).content.decode()
        assert "国家管理员必须启用，不能关闭" in page and "关闭动态口令" not in page
        code = authenticator_code(personas.senior_admin)
        response = client.post(PAGE, {"action": "disable", "code": code})
        assert messages_of(response) == ["国家管理员必须使用动态口令登录，不能关闭。"]
        assert second_factor.device_of(personas.senior_admin) is not None

    def test_a_session_that_skipped_the_code_is_ended(self, personas: Personas) -> None:
        """A session made by another path (the Django admin's login form, a session from before
        the rule): the next request logs it out and asks for the login page."""
        client = Client()
        client.force_login(personas.senior_admin)  # no second-factor mark
        response = client.get("/review/")
        assert response.status_code == 302 and response["Location"].startswith(LOGIN_PAGE)
        assert "管理员登录需要经过动态口令验证" in messages_of(response)[0]
        assert logged_in_user(client) is None
        api = Client()
        api.force_login(personas.senior_admin)
        assert api.get("/api/v1/me").status_code == 401

    def test_the_django_admin_login_form_does_not_get_round_the_code(
        self, personas: Personas
    ) -> None:
        client = Client()
        response = client.post("/django-admin/login/", {"username": "admin", "password": PASSWORD})
        # Its form is the platform's login page, which then returns to the admin.
        assert response["Location"] == f"{LOGIN_PAGE}?next=/django-admin/"
        assert logged_in_user(client) is None
        assert not events(SecurityEvent.Kind.LOGIN_OK)
        response = client.get("/django-admin/login/?next=/django-admin/reports/report/")
        assert response["Location"] == f"{LOGIN_PAGE}?next=/django-admin/reports/report/"
        response = log_in_through_pages(client, "admin", next="/django-admin/")
        assert response["Location"] == "/django-admin/"
        assert client.get("/django-admin/").status_code == 200


class TestTheCode:
    def test_a_code_is_good_once(self, personas: Personas) -> None:
        bind(personas.senior_admin)
        first, second = Client(), Client()
        code = authenticator_code(personas.senior_admin)
        password_step(first, "admin")
        assert first.post(CODE_PAGE, {"code": code}).status_code == 302
        password_step(second, "admin")
        response = second.post(CODE_PAGE, {"code": code})
        assert response.status_code == 200
        assert second_factor.WRONG_CODE in response.content.decode()
        assert logged_in_user(second) is None

    def test_a_wrong_code_is_refused_slowed_down_and_recorded(
        self, client: Client, personas: Personas, frozen_clock: time_machine.Coordinates
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        right = authenticator_code(personas.senior_admin)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        response = client.post(CODE_PAGE, {"code": wrong})
        assert second_factor.WRONG_CODE in response.content.decode()
        # At once, even the right code waits out the throttle (1 s after one failure).
        response = client.post(CODE_PAGE, {"code": right})
        assert "动态口令错误次数过多，请1秒后再试。" in response.content.decode()
        frozen_clock.shift(2)
        assert client.post(CODE_PAGE, {"code": right}).status_code == 302
        failures = events(SecurityEvent.Kind.LOGIN_FAILED)
        assert [e.actor for e in failures] == [personas.senior_admin] * 2
        assert failures[0].detail.startswith("动态口令错误")

    @pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34"])
    def test_malformed_codes_get_a_message_by_the_field(
        self, client: Client, personas: Personas, typed: str
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        response = client.post(CODE_PAGE, {"code": typed})
        assert response.status_code == 200
        errors = response.context["form"].errors["code"]
        assert errors[0] in {"请输入验证器上显示的6位数字动态口令。", second_factor.MALFORMED}

    def test_spaces_as_apps_show_them_are_fine(self, client: Client, personas: Personas) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        code = authenticator_code(personas.senior_admin)
        assert client.post(CODE_PAGE, {"code": f" {code[:3]} {code[3:]} "}).status_code == 302

    def test_five_wrong_codes_send_the_user_back_to_the_password(
        self, client: Client, personas: Personas, frozen_clock: time_machine.Coordinates
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        for _ in range(second_factor.MAX_TRIES):
            frozen_clock.shift(20)  # past the throttle: each try is judged as wrong, not early
            response = client.post(CODE_PAGE, {"code": "000000"})
        assert response.status_code == 302 and response["Location"] == LOGIN_PAGE
        assert "请重新输入用户ID和密码" in messages_of(response)[0]
        response = client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
        assert response["Location"] == LOGIN_PAGE and logged_in_user(client) is None

    def test_the_code_step_waits_five_minutes(
        self, client: Client, personas: Personas, frozen_clock: time_machine.Coordinates
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        frozen_clock.shift(second_factor.PENDING_SECONDS + 1)
        response = client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
        assert response["Location"] == LOGIN_PAGE
        assert "登录已超时" in messages_of(response)[0]

    def test_the_code_step_alone_leads_to_the_login(self, client: Client) -> None:
        assert client.get(CODE_PAGE)["Location"] == LOGIN_PAGE
        assert client.post(CODE_PAGE, {"code": "123456"})["Location"] == LOGIN_PAGE

    def test_the_session_key_changes_at_each_step(self, client: Client, personas: Personas) -> None:
        """No session fixation: the key before the password, after it, and after the code."""
        client.get(LOGIN_PAGE)
        bind(personas.senior_admin)
        password_step(client, "admin")
        pending_key = client.session.session_key
        client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
        assert client.session.session_key not in (None, pending_key)

    def test_a_deactivated_account_cannot_finish_its_login(
        self, client: Client, personas: Personas
    ) -> None:
        bind(personas.senior_admin)
        password_step(client, "admin")
        User.objects.filter(pk=personas.senior_admin.pk).update(is_active=False)
        response = client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
        assert response["Location"] == LOGIN_PAGE and logged_in_user(client) is None


class TestLocalAdministratorsMay:
    def test_without_it_the_password_is_the_login(self, client: Client, personas: Personas) -> None:
        response = password_step(client, "ningbo")
        assert response["Location"] == "/" and logged_in_user(client) == personas.ningbo_admin

    def test_turning_it_on_then_logging_in_with_it_then_off(self, personas: Personas) -> None:
        client = Client()
        log_in_through_pages(client, "ningbo")
        page = client.get(PAGE).content.decode()
        assert "未启用" in page and "启用动态口令" in page
        page = client.get(f"{PAGE}?bind=1").content.decode()
        assert "<svg" in page and 'class="secret"' in page
        response = client.post(
            PAGE, {"action": "bind", "code": authenticator_code(personas.ningbo_admin)}
        )
        assert response["Location"] == PAGE
        assert "动态口令已启用" in messages_of(response)[0]
        assert second_factor.device_of(personas.ningbo_admin) is not None

        other = Client()
        assert password_step(other, "ningbo")["Location"] == CODE_PAGE
        assert log_in_through_pages(Client(), "ningbo")["Location"] == "/"

        response = client.post(
            PAGE, {"action": "disable", "code": authenticator_code(personas.ningbo_admin)}
        )
        assert "动态口令已关闭" in messages_of(response)[-1]
        assert password_step(Client(), "ningbo")["Location"] == "/"
        details = [e.detail for e in events(SecurityEvent.Kind.SECOND_FACTOR)]
        assert details == ["启用动态口令", "关闭动态口令"]

    def test_turning_it_off_takes_a_right_code(self, personas: Personas) -> None:
        bind(personas.ningbo_admin)
        client = force_login(Client(), personas.ningbo_admin)
        response = client.post(PAGE, {"action": "disable", "code": "000000"})
        assert second_factor.WRONG_CODE in response.content.decode()
        assert second_factor.device_of(personas.ningbo_admin) is not None

    def test_a_new_phone_replaces_the_old_authenticator(self, personas: Personas) -> None:
        old = bind(personas.ningbo_admin)
        client = force_login(Client(), personas.ningbo_admin)
        client.get(f"{PAGE}?bind=1")
        new = TOTPDevice.objects.get(user=personas.ningbo_admin, confirmed=False)
        assert new.key != old.key
        code = authenticator_code(personas.ningbo_admin, binding=True)
        client.post(PAGE, {"action": "bind", "code": code})
        assert list(TOTPDevice.objects.filter(user=personas.ningbo_admin)) == [new]
        assert events(SecurityEvent.Kind.SECOND_FACTOR)[-1].detail == "更换动态口令验证器"

    def test_a_code_of_the_authenticator_being_bound_is_needed(self, personas: Personas) -> None:
        client = force_login(Client(), personas.ningbo_admin)
        client.get(f"{PAGE}?bind=1")
        response = client.post(PAGE, {"action": "bind", "code": "000000"})
        assert second_factor.WRONG_CODE in response.content.decode()
        assert second_factor.device_of(personas.ningbo_admin) is None

    def test_an_unknown_action_is_a_404(self, personas: Personas) -> None:
        client = force_login(Client(), personas.ningbo_admin)
        assert client.post(PAGE, {"action": "steal", "code": "123456"}).status_code == 404


def test_enterprise_users_have_no_second_factor_page(personas: Personas) -> None:
    client = force_login(Client(), personas.ningbo_enterprise)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, {"action": "bind", "code": "123456"}).status_code == 404
    assert not TOTPDevice.objects.exists()


class TestReset:
    def test_a_national_administrator_resets_a_lost_phone(self, personas: Personas) -> None:
        bind(personas.zhejiang_admin)
        client = force_login(Client(), personas.senior_admin)
        listing = client.get("/accounts/administrators/").content.decode()
        url = f"/accounts/administrators/{personas.zhejiang_admin.pk}/reset-second-factor/"
        assert url in listing
        response = client.post(url)
        assert "已重置 zhejiang 的动态口令" in messages_of(response)[0]
        assert second_factor.device_of(personas.zhejiang_admin) is None
        event = events(SecurityEvent.Kind.SECOND_FACTOR)[-1]
        assert (event.actor, event.detail) == (personas.senior_admin, "zhejiang：由admin重置")
        # Nothing to ask for at the local administrator's next login (it may bind again).
        assert password_step(Client(), "zhejiang")["Location"] == "/"

    def test_a_reset_national_administrator_binds_again_at_the_next_login(
        self, personas: Personas
    ) -> None:
        second = User.objects.create_user(
            "admin2", PASSWORD, user_type=User.Type.SENIOR_ADMIN, is_staff=True
        )
        bind(second)
        force_login(Client(), personas.senior_admin).post(
            f"/accounts/administrators/{second.pk}/reset-second-factor/"
        )
        client = Client()
        password_step(client, "admin2")
        assert "绑定动态口令" in client.get(CODE_PAGE).content.decode()

    def test_outside_ones_scope_it_is_a_404(self, personas: Personas) -> None:
        bind(personas.guangdong_admin)
        bind(personas.senior_admin)
        client = force_login(Client(), personas.zhejiang_admin)  # a province's administrator
        for target in (personas.guangdong_admin, personas.senior_admin):
            url = f"/accounts/administrators/{target.pk}/reset-second-factor/"
            assert client.post(url).status_code == 404
        assert second_factor.device_of(personas.guangdong_admin) is not None

    def test_the_command_for_the_last_national_administrator(self, personas: Personas) -> None:
        bind(personas.senior_admin)
        out = StringIO()
        call_command("reset_second_factor", "admin", stdout=out)
        assert "已解除 admin 的动态口令验证器" in out.getvalue()
        assert second_factor.device_of(personas.senior_admin) is None
        with pytest.raises(CommandError):
            call_command("reset_second_factor", "nobody", stdout=StringIO())

    def test_the_current_code_is_never_printed_outside_a_demo(self, personas: Personas) -> None:
        bind(personas.senior_admin)
        with pytest.raises(CommandError, match="DEBUG"):
            call_command("second_factor_code", "admin", stdout=StringIO())


def test_the_demo_command_and_the_app_agree(personas: Personas, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    bind(personas.senior_admin)
    out = StringIO()
    call_command("second_factor_code", "admin", stdout=out)
    assert out.getvalue().strip() == authenticator_code(personas.senior_admin)


def test_the_login_event_follows_the_code(client: Client, personas: Personas) -> None:
    bind(personas.senior_admin)
    password_step(client, "admin")
    assert not events(SecurityEvent.Kind.LOGIN_OK)
    client.post(CODE_PAGE, {"code": authenticator_code(personas.senior_admin)})
    assert [e.actor for e in events(SecurityEvent.Kind.LOGIN_OK)] == [personas.senior_admin]
    assert events(SecurityEvent.Kind.LOGIN_OK)[0].detail == "网页登录（密码+动态口令）"
    password_step(Client(), "ningbo")  # no second factor
    assert events(SecurityEvent.Kind.LOGIN_OK)[-1].detail == "网页登录"
    assert timezone.now() - events(SecurityEvent.Kind.LOGIN_OK)[0].at < dt.timedelta(seconds=1)


class TestApiToken:
    """POST /api/v1/auth/token: the code in `otp_code` where the account has a second factor."""

    def ask(self, body: dict[str, str]):  # type: ignore[no-untyped-def]
        return Client().post(
            "/api/v1/auth/token", json.dumps(body), content_type="application/json"
        )

    def test_a_national_administrator_gives_the_code(self, personas: Personas) -> None:
        bind(personas.senior_admin)
        body = {"username": "admin", "password": PASSWORD}
        response = self.ask(body)
        assert response.status_code == 401
        assert response.json() == {"detail": second_factor.CODE_NEEDED}
        code = authenticator_code(personas.senior_admin)
        response = self.ask({**body, "otp_code": code})
        assert response.status_code == 200 and response.json()["token"]
        # Once: the same code again is refused, and that is a failed login.
        response = self.ask({**body, "otp_code": code})
        assert response.status_code == 401
        assert response.json() == {"detail": second_factor.WRONG_CODE}
        failed = events(SecurityEvent.Kind.LOGIN_FAILED)[-1]
        assert failed.actor == personas.senior_admin and failed.detail.startswith("API动态口令错误")

    def test_wrong_codes_are_throttled_with_429(
        self, personas: Personas, frozen_clock: time_machine.Coordinates
    ) -> None:
        bind(personas.senior_admin)
        body = {"username": "admin", "password": PASSWORD}
        assert self.ask({**body, "otp_code": "000000"}).status_code == 401
        response = self.ask({**body, "otp_code": authenticator_code(personas.senior_admin)})
        assert response.status_code == 429
        assert response.json() == {"detail": "动态口令错误次数过多，请1秒后再试。"}

    def test_nothing_bound_yet_is_told_to_bind_on_the_web(self, personas: Personas) -> None:
        response = self.ask({"username": "admin", "password": PASSWORD, "otp_code": "123456"})
        assert response.status_code == 403
        assert response.json() == {"detail": second_factor.BIND_ON_THE_WEB}
        assert not TOTPDevice.objects.exists()  # the API binds nothing

    def test_a_wrong_password_is_refused_before_any_code_is_looked_at(
        self, personas: Personas
    ) -> None:
        device = bind(personas.senior_admin)
        code = authenticator_code(personas.senior_admin)
        response = self.ask({"username": "admin", "password": "Wrong@2026x", "otp_code": code})
        assert response.status_code == 401
        device.refresh_from_db()
        assert device.last_t == -1  # the code was not spent on a wrong password

    def test_accounts_without_a_second_factor_need_no_code(self, personas: Personas) -> None:
        for username in ("33029997", "ningbo"):
            response = self.ask({"username": username, "password": PASSWORD})
            assert response.status_code == 200

    def test_a_local_administrator_who_turned_it_on_gives_the_code(
        self, personas: Personas
    ) -> None:
        bind(personas.ningbo_admin)
        assert self.ask({"username": "ningbo", "password": PASSWORD}).status_code == 401
        body = {"username": "ningbo", "password": PASSWORD}
        body["otp_code"] = authenticator_code(personas.ningbo_admin)
        assert self.ask(body).status_code == 200

    def test_the_field_is_in_the_openapi_document(self) -> None:
        document = Client().get("/api/v1/openapi.json").json()
        schema = document["components"]["schemas"]["TokenIn"]
        assert "otp_code" in schema["properties"] and "otp_code" not in schema["required"]


def test_the_django_admin_offers_no_device_pages(personas: Personas) -> None:
    """Devices change only through the pages that record a security event."""
    client = force_login(Client(), personas.senior_admin)
    assert client.get("/django-admin/").status_code == 200
    assert client.get("/django-admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/django-admin/otp_totp/totpdevice/add/").status_code == 404
