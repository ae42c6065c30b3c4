"""Security events (等级保护 安全审计): logins, failures, lock-out, refused pages, password change
and API tokens, each recorded once with who, from where and the outcome; kept at least 180 days;
exported by national administrators."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook

from accounts.models import ApiToken
from audit.models import AuditEntry, SecurityEvent
from tests.conftest import PASSWORD, Personas

Kind = SecurityEvent.Kind
LOGIN = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token"
WRONG = "Wrong@2026"
NEW = "Xin@Mima2026"


def login(client: Client, username: str, password: str = PASSWORD, ip: str = "10.1.1.1"):  # type: ignore[no-untyped-def]
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def events(kind: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("at", "id"))


def no_password_anywhere(*passwords: str) -> None:
    for event in SecurityEvent.objects.all():
        text = f"{event.username} {event.detail}"
        assert not any(p in text for p in passwords)


class TestLogin:
    def test_a_login_is_recorded_with_user_and_address(self, personas: Personas) -> None:
        assert login(Client(), "33029997").status_code == 302
        [event] = events(Kind.LOGIN_OK)
        assert event.actor == personas.ningbo_enterprise and event.username == "33029997"
        assert (event.ip, event.outcome) == ("10.1.1.1", "success")
        assert not events(Kind.LOGIN_FAILED)

    def test_a_wrong_password_is_recorded_against_the_account(self, personas: Personas) -> None:
        login(Client(), "33029997", WRONG, ip="10.2.2.2")
        [event] = events(Kind.LOGIN_FAILED)
        assert event.actor == personas.ningbo_enterprise
        assert (event.ip, event.outcome, event.detail) == ("10.2.2.2", "failure", "密码错误")
        assert not events(Kind.LOGIN_OK)
        no_password_anywhere(WRONG)

    def test_an_unknown_name_is_recorded_without_an_actor_and_cut_short(
        self, personas: Personas
    ) -> None:
        name = "nobody" + "x" * 200  # the form takes up to 254 characters
        login(Client(), name, WRONG)
        [event] = events(Kind.LOGIN_FAILED)
        assert event.actor is None and event.username == name[:150]
        assert event.detail == "用户名不存在"
        no_password_anywhere(WRONG)

    def test_a_lock_out_is_recorded_once(self, personas: Personas) -> None:
        with time_machine.travel(dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC), tick=False):
            client = Client()
            for _ in range(5):
                login(client, "33029997", WRONG)
            response = login(client, "33029997")  # the right password, while locked
            assert "锁定" in response.content.decode()
        [locked] = events(Kind.LOCKED_OUT)
        assert locked.actor == personas.ningbo_enterprise and locked.ip == "10.1.1.1"
        assert locked.outcome == "failure"
        failures = events(Kind.LOGIN_FAILED)
        assert len(failures) == 6 and failures[-1].detail == "账户已锁定"
        assert not events(Kind.LOGIN_OK)
        no_password_anywhere(WRONG, PASSWORD)


class TestPasswordAndTokens:
    def test_a_password_change_and_the_tokens_it_revokes_are_recorded(
        self, personas: Personas
    ) -> None:
        client = Client()
        login(client, "33029997")
        api = Client().post(
            TOKEN_URL,
            {"username": "33029997", "password": PASSWORD},
            content_type="application/json",
            REMOTE_ADDR="10.5.5.5",
        )
        assert api.status_code == 200
        [created] = events(Kind.TOKEN_CREATE)
        assert created.actor == personas.ningbo_enterprise and created.ip == "10.5.5.5"
        api_login = [e for e in events(Kind.LOGIN_OK) if e.detail == "API登录"]
        assert len(api_login) == 1 and api_login[0].ip == "10.5.5.5"
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
            REMOTE_ADDR="10.6.6.6",
        )
        assert response.status_code == 302
        [changed] = events(Kind.PASSWORD_CHANGE)
        assert changed.actor == personas.ningbo_enterprise and changed.ip == "10.6.6.6"
        [revoked] = events(Kind.TOKEN_REVOKE)
        assert revoked.actor == personas.ningbo_enterprise and revoked.ip == "10.6.6.6"
        assert not ApiToken.objects.exists()
        no_password_anywhere(PASSWORD, NEW)

    def test_a_failed_api_login_is_recorded(self, personas: Personas) -> None:
        Client().post(
            TOKEN_URL,
            {"username": "33029997", "password": WRONG},
            content_type="application/json",
            REMOTE_ADDR="10.7.7.7",
        )
        [event] = events(Kind.LOGIN_FAILED)
        assert event.actor == personas.ningbo_enterprise and event.ip == "10.7.7.7"
        assert not events(Kind.TOKEN_CREATE)


class TestDenied:
    def test_an_enterprise_opening_an_admin_page_is_recorded(self, personas: Personas) -> None:
        client = personas.client_for(personas.ningbo_enterprise)
        assert client.get("/audit/", REMOTE_ADDR="10.8.8.8").status_code == 404
        [event] = events(Kind.DENIED)
        assert event.actor == personas.ningbo_enterprise and event.ip == "10.8.8.8"
        assert event.outcome == "failure" and event.detail == "GET /audit/"

    def test_an_anonymous_visitor_is_only_redirected(self, personas: Personas) -> None:
        assert Client().get("/audit/").status_code == 302
        assert not events(Kind.DENIED)

    def test_the_administrative_trail_is_untouched(self, personas: Personas) -> None:
        personas.client_for(personas.ningbo_enterprise).get("/audit/")
        assert not AuditEntry.objects.exists()


class TestRetention:
    def make_events(self, personas: Personas) -> None:
        now = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)
        for days in (400, 200, 179, 1):
            with time_machine.travel(now - dt.timedelta(days=days), tick=False):
                SecurityEvent.objects.create(
                    kind=Kind.LOGIN_OK, outcome="success", username=f"d{days}"
                )
        self.now = now

    def test_the_purge_keeps_the_retention_and_deletes_older(
        self, personas: Personas, settings
    ) -> None:  # type: ignore[no-untyped-def]
        self.make_events(personas)
        settings.AUDIT_RETENTION_DAYS = 180
        out = io.StringIO()
        with time_machine.travel(self.now, tick=False):
            call_command("purge_audit", stdout=out)
        assert sorted(SecurityEvent.objects.values_list("username", flat=True)) == [
            "d1",
            "d179",
        ]
        assert "安全事件2条" in out.getvalue()

    @pytest.mark.parametrize("days", [179, 30, 0])
    def test_a_retention_under_180_days_is_refused(
        self, personas: Personas, settings, days: int
    ) -> None:  # type: ignore[no-untyped-def]
        self.make_events(personas)
        settings.AUDIT_RETENTION_DAYS = days
        with pytest.raises(CommandError, match="不足180天"):
            call_command("purge_audit")
        assert SecurityEvent.objects.count() == 4


class TestExport:
    def test_a_national_administrator_exports_the_security_events(self, personas: Personas) -> None:
        login(Client(), "33029997", WRONG, ip="10.9.9.9")
        login(Client(), "=cmd|' /C calc'!A0", WRONG)  # formula-like names stay text
        client = personas.client_for(personas.senior_admin)
        response = client.get("/audit/export.xlsx?kind=security&event=login_failed")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == ("时间", "事件", "结果", "用户ID（或尝试的登录名）", "来源地址", "说明")
        body = sorted((r[1], r[2], r[3], r[4]) for r in rows[1:])
        # Only failures (the event filter applies), each with its address; the formula-like
        # name comes back as the text it was, not evaluated.
        assert body == [
            ("登录失败", "失败", "33029997", "10.9.9.9"),
            ("登录失败", "失败", "=cmd|' /C calc'!A0", "10.1.1.1"),
        ]

    def test_the_page_shows_the_security_events(self, personas: Personas) -> None:
        login(Client(), "33029997", WRONG, ip="10.9.9.9")
        client = personas.client_for(personas.senior_admin)
        page = client.get("/audit/?kind=security").content.decode()
        assert "登录失败" in page and "10.9.9.9" in page and "导出Excel" in page

    @pytest.mark.parametrize("persona", ["ningbo_admin", "zhejiang_admin", "ningbo_enterprise"])
    def test_others_get_404(self, personas: Personas, persona: str) -> None:
        client = personas.client_for(getattr(personas, persona))
        assert client.get("/audit/export.xlsx?kind=security").status_code == 404
