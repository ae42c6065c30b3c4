from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.conftest import PASSWORD, Personas, log_in_through_pages

LOGIN = "/accounts/login/"


def login(client: Client, username: str, password: str = PASSWORD, ip: str = "10.1.1.1"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def page_errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    return list(response.context["form"].non_field_errors())


class TestLoginByIdentifier:
    def test_it_logs_in_by_user_id(self, client: Client, personas: Personas) -> None:
        response = login(client, "33029997")
        assert response.status_code == 302 and response["Location"] == "/"
        assert client.get("/").context["user"] == personas.ningbo_enterprise

    def test_it_logs_in_by_bound_mobile(self, client: Client, personas: Personas) -> None:
        User.objects.filter(pk=personas.ningbo_enterprise.pk).update(mobile="13800138000")
        assert login(client, "13800138000").status_code == 302
        assert client.get("/").context["user"] == personas.ningbo_enterprise

    def test_it_logs_in_by_bound_email_in_any_case(
        self, client: Client, personas: Personas
    ) -> None:
        User.objects.filter(pk=personas.ningbo_enterprise.pk).update(email="clerk@kanger.cn")
        assert login(client, "Clerk@Kanger.CN").status_code == 302
        assert client.get("/").context["user"] == personas.ningbo_enterprise

    def test_it_goes_back_to_the_page_asked_for(self, client: Client, personas: Personas) -> None:
        # Through the second factor's step too: the national administrator gives a code.
        response = log_in_through_pages(client, "admin", next="/notices/?kind=news")
        assert response["Location"] == "/notices/?kind=news"

    def test_it_ignores_a_next_address_on_another_site(
        self, client: Client, personas: Personas
    ) -> None:
        response = log_in_through_pages(client, "admin", next="https://evil.example/")
        assert response["Location"] == "/"

    @pytest.mark.parametrize("username", ["33029997", "nobody", "13900000000", "x@y.cn"])
    def test_a_wrong_password_or_unknown_name_gets_one_message(
        self, client: Client, personas: Personas, username: str
    ) -> None:
        response = login(client, username, "Wrong@2026")
        assert response.status_code == 200
        assert page_errors(response) == ["用户名或密码错误。"]
        assert "_auth_user_id" not in client.session

    def test_a_disabled_account_cannot_log_in(self, client: Client, personas: Personas) -> None:
        User.objects.filter(username="ningbo").update(is_active=False)
        assert page_errors(login(client, "ningbo")) == ["用户名或密码错误。"]

    def test_empty_fields_are_named_in_chinese(self, client: Client, db: None) -> None:
        form = client.post(LOGIN, {}).context["form"]
        assert form.errors["username"] == ["请输入用户ID、绑定的手机号码或邮箱。"]
        assert form.errors["password"] == ["请输入密码。"]

    def test_a_nul_character_is_refused_without_error(self, client: Client, db: None) -> None:
        response = login(client, "abc\x00def")
        assert response.status_code == 200

    def test_the_session_key_changes_at_login(self, client: Client, personas: Personas) -> None:
        """No session fixation: a key planted before the login is not the logged-in one."""
        client.get(LOGIN)
        client.session.save()
        before = client.session.session_key
        assert before
        login(client, "33029997")
        assert client.session.session_key not in (None, before)
        assert client.get("/").context["user"] == personas.ningbo_enterprise

    def test_logout_ends_the_session(self, client: Client, personas: Personas) -> None:
        login(client, "33029997")
        response = client.post("/accounts/logout/")
        assert response["Location"] == "/accounts/login/"
        assert client.get("/")["Location"].startswith("/accounts/login/")

    def test_logout_is_post_only(self, client: Client, personas: Personas) -> None:
        login(client, "33029997")
        assert client.get("/accounts/logout/").status_code == 405
        assert client.get("/").status_code == 200


class TestLockOut:
    def test_five_failures_lock_the_account_for_fifteen_minutes(
        self, client: Client, personas: Personas
    ) -> None:
        start = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            for _ in range(5):
                login(client, "33029997", "Wrong@2026")
            response = login(client, "33029997")
            assert "已被锁定15分钟" in page_errors(response)[0]
            assert "_auth_user_id" not in client.session
            traveller.shift(dt.timedelta(minutes=14))
            assert "锁定" in page_errors(login(client, "33029997"))[0]
            traveller.shift(dt.timedelta(minutes=2))
            assert login(client, "33029997").status_code == 302

    def test_failures_by_mobile_and_by_user_id_count_together(
        self, client: Client, personas: Personas
    ) -> None:
        User.objects.filter(pk=personas.ningbo_enterprise.pk).update(mobile="13800138000")
        for name in ["13800138000", "33029997"] * 2 + ["13800138000"]:
            login(client, name, "Wrong@2026")
        assert "锁定" in page_errors(login(client, "33029997"))[0]

    def test_a_locked_account_does_not_lock_its_neighbours(
        self, client: Client, personas: Personas
    ) -> None:
        for _ in range(6):
            login(client, "33029997", "Wrong@2026")
        assert login(Client(), "44010001").status_code == 302

    def test_a_success_resets_the_count(self, client: Client, personas: Personas) -> None:
        for _ in range(4):
            login(client, "33029997", "Wrong@2026")
        assert login(client, "33029997").status_code == 302
        client.post("/accounts/logout/")
        for _ in range(4):
            login(client, "33029997", "Wrong@2026")
        assert login(client, "33029997").status_code == 302


class TestAddressThrottle:
    def test_an_address_failing_across_many_accounts_is_slowed_not_locked(
        self, client: Client, personas: Personas
    ) -> None:
        start = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            for i in range(10):
                login(client, f"guess{i:02d}", "Wrong@2026", ip="10.9.9.9")
            refused = login(Client(), "44010001", ip="10.9.9.9")
            assert "秒后再试" in page_errors(refused)[0]
            # Another office is not affected.
            assert login(Client(), "44010001", ip="10.2.2.2").status_code == 302
            # After the pause a colleague behind the same address logs in.
            traveller.shift(dt.timedelta(seconds=11))
            assert login(Client(), "33029997", ip="10.9.9.9").status_code == 302

    def test_many_failures_on_few_accounts_do_not_throttle_the_address(
        self, client: Client, personas: Personas
    ) -> None:
        for i in range(12):
            login(client, f"typo{i % 3}", "Wrong@2026", ip="10.9.9.9")
        assert login(Client(), "44010001", ip="10.9.9.9").status_code == 302


class TestIdleSession:
    def test_the_session_ends_after_thirty_idle_minutes(
        self, client: Client, personas: Personas
    ) -> None:
        start = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            login(client, "33029997")
            traveller.shift(dt.timedelta(minutes=29))
            assert client.get("/").status_code == 200
            # Activity pushed the end forward: 29 more minutes are still fine.
            traveller.shift(dt.timedelta(minutes=29))
            assert client.get("/").status_code == 200
            traveller.shift(dt.timedelta(minutes=31))
            response = client.get("/")
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")

    def test_the_end_never_comes_later_than_thirty_minutes_after_the_last_request(
        self, client: Client, personas: Personas
    ) -> None:
        start = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            login(client, "33029997")
            assert client.get("/").status_code == 200  # the mark: 9:00
            traveller.shift(dt.timedelta(seconds=50))
            assert client.get("/").status_code == 200  # within the minute: not rewritten
            traveller.shift(dt.timedelta(minutes=29, seconds=11))  # 30 min 1 s after the mark
            assert client.get("/").status_code == 302

    def test_reading_pages_within_a_minute_does_not_write_the_session(
        self, client: Client, personas: Personas, settings
    ) -> None:
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
        start = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False) as traveller:
            login(client, "33029997")
            assert client.get("/").status_code == 200
            traveller.shift(dt.timedelta(seconds=30))
            with CaptureQueriesContext(connection) as reads:
                assert client.get("/notices/?kind=notice").status_code == 200
            assert not [
                q
                for q in reads.captured_queries
                if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")
            ]
            traveller.shift(dt.timedelta(seconds=31))  # a minute since the mark: rewritten
            with CaptureQueriesContext(connection) as marked:
                assert client.get("/notices/?kind=notice").status_code == 200
            assert any(
                q["sql"].startswith("UPDATE") and "django_session" in q["sql"]
                for q in marked.captured_queries
            )

    def test_the_session_cookie_is_not_kept_after_the_browser_closes(
        self, client: Client, personas: Personas
    ) -> None:
        response = login(client, "33029997")
        cookie = response.cookies["sessionid"]
        assert cookie["httponly"]
        assert not cookie["expires"] and not cookie["max-age"]


class TestPasswordHash:
    def test_production_hashes_with_argon2id_at_the_owasp_baseline(self, settings) -> None:
        import sme.settings as production

        settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
        encoded = make_password("Demo@2026")
        assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
        assert check_password("Demo@2026", encoded)
        assert not check_password("Demo@2027", encoded)

    def test_a_hash_with_the_old_parameters_still_logs_in_and_is_rewritten(
        self, client: Client, personas: Personas, settings
    ) -> None:
        import sme.settings as production

        settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
        user = User.objects.get(username="33029997")
        old = Argon2PasswordHasher()  # Django's default: 100 MiB, 8 lanes
        user.password = old.encode(PASSWORD, old.salt())
        user.save(update_fields=["password"])
        assert "m=102400,t=2,p=8" in user.password
        assert login(client, "33029997").status_code == 302
        user.refresh_from_db()
        assert "m=19456,t=2,p=1" in user.password
