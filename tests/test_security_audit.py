"""Security events (等级保护 安全审计): logins, failures, lock-out, the address throttle, refused
pages and API calls, password change and API tokens, each recorded once with who, from where and
the outcome; kept at least 180 days; exported by national administrators."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook

from accounts.models import ApiToken, User
from accounts.services import issue_api_token
from audit.models import AuditEntry, SecurityEvent
from reports.models import Report
from tests.conftest import PASSWORD, Personas
from tests.test_review_pages import NOW, submitted

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


def api(user: User | None, method: str, path: str, body: str = "", ip: str = "10.3.3.3"):  # type: ignore[no-untyped-def]
    """A program's call with the user's token (none: anonymous), from `ip`."""
    headers = {"Authorization": f"Bearer {issue_api_token(user)[0]}"} if user else {}
    return Client().generic(
        method,
        f"/api/v1{path}",
        body,
        content_type="application/json",
        headers=headers,
        REMOTE_ADDR=ip,
    )


class TestApiDenied:
    """The API's refusals of a logged-in caller are recorded as the pages' are (api.urls, through
    lib.access.record_denied): 403 for a role the operation is not for, 404 for an object or a
    region outside the caller's scope."""

    def test_a_role_refusal_is_recorded(self, personas: Personas) -> None:
        response = api(personas.ningbo_enterprise, "GET", "/review/reports", ip="10.3.3.3")
        assert response.status_code == 403
        [event] = events(Kind.DENIED)
        assert event.actor == personas.ningbo_enterprise and event.ip == "10.3.3.3"
        assert event.outcome == "failure" and event.detail == "GET /api/v1/review/reports"

    def test_a_role_refusal_comes_before_the_body_and_is_recorded(self, personas: Personas) -> None:
        # An administrator's body that the schema refuses: 403 all the same, not a 400 that
        # would tell what the body lacks.
        path = "/reports/2026-10/indicators"
        response = api(personas.ningbo_admin, "PUT", path, '{"sales": [[[]]]}')
        assert response.status_code == 403
        assert "errors" not in response.json()
        [event] = events(Kind.DENIED)
        assert event.actor == personas.ningbo_admin
        assert event.detail == "PUT /api/v1/reports/2026-10/indicators"

    def test_a_report_outside_the_region_is_recorded(self, personas: Personas) -> None:
        with time_machine.travel(NOW, tick=False):
            report = submitted(personas.ningbo_enterprise)
            path = f"/review/reports/{report.pk}/return"
            response = api(personas.guangdong_admin, "POST", path, '{"reason": 7}', ip="10.4.4.4")
        assert response.status_code == 404
        [event] = events(Kind.DENIED)
        assert event.actor == personas.guangdong_admin and event.ip == "10.4.4.4"
        assert event.detail == f"POST /api/v1{path}"
        assert Report.objects.get(pk=report.pk).status == Report.Status.PENDING

    def test_a_region_outside_the_scope_is_recorded(self, personas: Personas) -> None:
        response = api(personas.guangdong_admin, "GET", "/stats/completion?region=330200")
        assert response.status_code == 404
        [event] = events(Kind.DENIED)
        assert event.actor == personas.guangdong_admin
        assert event.detail == "GET /api/v1/stats/completion"

    def test_a_step_the_role_may_not_take_is_recorded(self, personas: Personas) -> None:
        with time_machine.travel(NOW, tick=False):
            report = submitted(personas.ningbo_enterprise)
            path = f"/review/reports/{report.pk}/reopen"
            response = api(personas.ningbo_admin, "POST", path, '{"reason": "企业申请更正"}')
        assert response.status_code == 403
        [event] = events(Kind.DENIED)
        assert event.actor == personas.ningbo_admin

    def test_a_session_caller_is_recorded_too(self, personas: Personas) -> None:
        client = personas.client_for(personas.guangdong_enterprise)
        assert client.get("/api/v1/stats/aggregates", REMOTE_ADDR="10.5.5.5").status_code == 403
        [event] = events(Kind.DENIED)
        assert event.actor == personas.guangdong_enterprise and event.ip == "10.5.5.5"

    def test_allowed_calls_record_nothing(self, personas: Personas) -> None:
        assert api(personas.ningbo_enterprise, "GET", "/me").status_code == 200
        assert api(personas.ningbo_admin, "GET", "/review/reports").status_code == 200
        assert api(personas.senior_admin, "GET", "/stats/completion").status_code == 200
        # Access granted, input refused: a 400 is no refusal of the caller.
        assert api(personas.ningbo_admin, "GET", "/review/reports?status=x").status_code == 400
        assert not events(Kind.DENIED)

    def test_an_anonymous_caller_is_only_told_to_log_in(self, personas: Personas) -> None:
        assert api(None, "GET", "/review/reports").status_code == 401
        assert api(None, "PUT", "/reports/2026-10/indicators", "{}").status_code == 401
        assert not events(Kind.DENIED)

    def test_one_refusal_is_one_event(self, personas: Personas) -> None:
        api(personas.guangdong_enterprise, "POST", "/review/reports/batch-approve", "[[[]]]")
        api(personas.guangdong_enterprise, "GET", "/review/changes")
        assert [e.detail for e in events(Kind.DENIED)] == [
            "POST /api/v1/review/reports/batch-approve",
            "GET /api/v1/review/changes",
        ]


SPRAYER = "10.9.9.9"


def spray(at: dt.datetime) -> None:
    """Ten accounts tried from one address: the address must now pause between tries."""
    with time_machine.travel(at, tick=False):
        for i in range(10):
            login(Client(), f"guess{i:02d}", WRONG, ip=SPRAYER)


def token(username: str, ip: str = SPRAYER):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": PASSWORD}
    return Client().post(TOKEN_URL, body, content_type="application/json", REMOTE_ADDR=ip)


class TestThrottled:
    START = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)

    def test_a_throttled_login_page_try_is_recorded(self, personas: Personas) -> None:
        spray(self.START)
        with time_machine.travel(self.START, tick=False):
            assert "秒后再试" in login(Client(), "44010001", ip=SPRAYER).content.decode()
        [event] = events(Kind.THROTTLED)
        assert (event.ip, event.outcome, event.username) == (SPRAYER, "failure", "44010001")
        assert event.actor is None and "暂停" in event.detail
        assert event.get_kind_display() == "登录频率限制"
        assert not events(Kind.LOGIN_OK)
        no_password_anywhere(PASSWORD, WRONG)

    def test_a_throttled_token_request_is_recorded(self, personas: Personas) -> None:
        spray(self.START)
        with time_machine.travel(self.START, tick=False):
            response = token("33029997")
        assert response.status_code == 429
        [event] = events(Kind.THROTTLED)
        assert (event.ip, event.username) == (SPRAYER, "33029997")
        assert not events(Kind.TOKEN_CREATE)

    def test_a_pause_is_recorded_once_however_often_it_is_hit(self, personas: Personas) -> None:
        # A refused try costs no password check and writes no failure: recording each would let
        # the address fill the table far faster than its logins could. One event per pause.
        spray(self.START)
        with time_machine.travel(self.START, tick=False) as traveller:
            for _ in range(5):
                assert token("33029997").status_code == 429
                login(Client(), "44010001", ip=SPRAYER)
            assert len(events(Kind.THROTTLED)) == 1
            # After the pause, one more failure: a new pause, a new event.
            traveller.shift(dt.timedelta(seconds=11))
            login(Client(), "guess10", WRONG, ip=SPRAYER)
            assert token("33029997").status_code == 429
        assert len(events(Kind.THROTTLED)) == 2

    def test_other_addresses_and_unthrottled_logins_record_nothing(
        self, personas: Personas
    ) -> None:
        spray(self.START)
        with time_machine.travel(self.START, tick=False):
            assert token("33029997", ip="10.2.2.2").status_code == 200
        assert not events(Kind.THROTTLED)

    def test_the_search_page_and_the_export_name_the_event(self, personas: Personas) -> None:
        spray(self.START)
        with time_machine.travel(self.START, tick=False):
            token("33029997")
        client = personas.client_for(personas.senior_admin)
        page = client.get("/audit/?kind=security&event=throttled").content.decode()
        assert "登录频率限制" in page and SPRAYER in page
        response = client.get("/audit/export.xlsx?kind=security&event=throttled")
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))[1:]
        assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
            ("登录频率限制", "失败", "33029997", SPRAYER)
        ]


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
