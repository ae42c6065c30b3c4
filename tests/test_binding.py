from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from accounts.models import OutboxMessage, User, VerificationCode
from tests.conftest import PASSWORD, Personas

SEND = "/accounts/profile/bind/send/"
CONFIRM = "/accounts/profile/bind/confirm/"
START = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def send(client: Client, target: str = "13800138000", channel: str = "mobile"):  # type: ignore[no-untyped-def]
    return client.post(SEND, {"channel": channel, "target": target}, HTTP_HX_REQUEST="true")


def confirm(client: Client, code: str, target: str = "13800138000", channel: str = "mobile"):  # type: ignore[no-untyped-def]
    return client.post(
        CONFIRM, {"channel": channel, "target": target, "code": code}, HTTP_HX_REQUEST="true"
    )


def last_code(target: str = "13800138000") -> str:
    body = OutboxMessage.objects.filter(recipient=target).first().body  # type: ignore[union-attr]
    return re.search(r"验证码 (\d{6})", body).group(1)  # type: ignore[union-attr]


@pytest.fixture
def clerk(personas: Personas) -> Client:
    return personas.client_for(personas.ningbo_enterprise)


def reload(user: User) -> User:
    return User.objects.get(pk=user.pk)


class TestBinding:
    def test_a_code_binds_the_mobile_which_then_logs_in(
        self, clerk: Client, personas: Personas
    ) -> None:
        response = send(clerk)
        assert "验证码已发送" in response.content.decode()
        assert 'name="code"' in response.content.decode()
        response = confirm(clerk, last_code())
        assert "绑定成功" in response.content.decode()
        assert reload(personas.ningbo_enterprise).mobile == "13800138000"
        assert VerificationCode.objects.get().used_at is not None
        fresh = Client()
        fresh.post("/accounts/login/", {"username": "13800138000", "password": PASSWORD})
        assert fresh.get("/").context["user"] == personas.ningbo_enterprise

    def test_an_email_is_bound_in_lower_case(self, clerk: Client, personas: Personas) -> None:
        send(clerk, "Clerk@Kanger.CN", "email")
        confirm(clerk, last_code("clerk@kanger.cn"), "Clerk@Kanger.cn", "email")
        assert reload(personas.ningbo_enterprise).email == "clerk@kanger.cn"

    def test_the_code_is_stored_hashed_not_in_clear(self, clerk: Client) -> None:
        send(clerk)
        assert VerificationCode.objects.get().code_hash != last_code()

    def test_a_code_expires_after_five_minutes(self, clerk: Client, personas: Personas) -> None:
        with time_machine.travel(START, tick=False) as traveller:
            send(clerk)
            traveller.shift(dt.timedelta(minutes=5, seconds=1))
            response = confirm(clerk, last_code())
        assert "验证码已过期" in response.content.decode()
        assert reload(personas.ningbo_enterprise).mobile is None

    def test_a_second_code_within_sixty_seconds_is_refused(self, clerk: Client) -> None:
        with time_machine.travel(START, tick=False) as traveller:
            send(clerk)
            traveller.shift(dt.timedelta(seconds=30))
            response = send(clerk)
            assert "秒后再重新获取" in response.content.decode()
            assert VerificationCode.objects.count() == 1
            traveller.shift(dt.timedelta(seconds=31))
            send(clerk)
            assert VerificationCode.objects.count() == 2

    def test_a_new_code_voids_the_previous_one(self, clerk: Client, personas: Personas) -> None:
        with time_machine.travel(START, tick=False) as traveller:
            send(clerk)
            first = last_code()
            traveller.shift(dt.timedelta(seconds=61))
            send(clerk)
            second = last_code()
            if first != second:
                assert "不正确" in confirm(clerk, first).content.decode()
            confirm(clerk, second)
        assert reload(personas.ningbo_enterprise).mobile == "13800138000"

    def test_ten_codes_a_day_per_target_at_most(self, clerk: Client, personas: Personas) -> None:
        with time_machine.travel(START, tick=False) as traveller:
            for _ in range(10):
                send(clerk)
                traveller.shift(dt.timedelta(seconds=61))
            response = send(clerk)
            assert "今日获取验证码次数已达上限" in response.content.decode()
            assert VerificationCode.objects.count() == 10
            # The next calendar day in Shanghai (16:00 UTC) starts a new count.
            traveller.move_to(dt.datetime(2026, 11, 10, 16, 1, tzinfo=dt.UTC))
            # The idle session has ended by then: the clerk logs in again.
            send(personas.client_for(personas.ningbo_enterprise))
            assert VerificationCode.objects.count() == 11

    def test_five_wrong_tries_void_the_code(self, clerk: Client, personas: Personas) -> None:
        send(clerk)
        good = last_code()
        wrong = "000000" if good != "000000" else "111111"
        for left in (4, 3, 2, 1):
            assert f"还可尝试{left}次" in confirm(clerk, wrong).content.decode()
        assert "已失效" in confirm(clerk, wrong).content.decode()
        assert "请先点击【绑定】" in confirm(clerk, good).content.decode()
        record = VerificationCode.objects.get()
        assert record.failed_tries == 5 and record.voided_at is not None
        assert reload(personas.ningbo_enterprise).mobile is None

    def test_a_number_bound_by_someone_else_is_refused(
        self, clerk: Client, personas: Personas
    ) -> None:
        User.objects.filter(pk=personas.guangdong_enterprise.pk).update(mobile="13800138000")
        assert "已被其他用户绑定" in send(clerk).content.decode()
        assert not VerificationCode.objects.exists()

    def test_a_code_cannot_be_used_by_another_user(self, clerk: Client, personas: Personas) -> None:
        send(clerk)
        other = personas.client_for(personas.guangdong_enterprise)
        assert "请先点击【绑定】" in confirm(other, last_code()).content.decode()
        assert reload(personas.guangdong_enterprise).mobile is None

    @pytest.mark.parametrize(
        ("channel", "target", "message"),
        [
            ("mobile", "1380013800", "11位数字"),
            ("mobile", "abc", "11位数字"),
            ("email", "not-an-email", "有效的邮箱"),
            ("mobile", "", "请输入手机号码或邮箱地址"),
        ],
    )
    def test_a_malformed_target_gets_a_message(
        self, clerk: Client, channel: str, target: str, message: str
    ) -> None:
        response = send(clerk, target, channel)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not VerificationCode.objects.exists()

    def test_a_bogus_channel_is_refused_without_error(self, clerk: Client) -> None:
        response = send(clerk, "13800138000", "pigeon")
        assert response.status_code == 200
        assert not VerificationCode.objects.exists()

    def test_without_htmx_the_whole_profile_page_comes_back(self, clerk: Client) -> None:
        response = clerk.post(SEND, {"channel": "mobile", "target": "13800138000"})
        assert "修改个人信息" in response.content.decode()

    def test_a_sender_failure_issues_no_code(self, clerk: Client, settings) -> None:  # type: ignore[no-untyped-def]
        settings.VERIFICATION_SENDERS = {"mobile": "tests.test_binding.BrokenSender"}
        response = send(clerk)
        assert "短信网关不可用" in response.content.decode()
        assert not VerificationCode.objects.exists()

    def test_the_national_outbox_shows_the_message_to_national_admins_only(
        self, clerk: Client, personas: Personas
    ) -> None:
        send(clerk)
        page = personas.client_for(personas.senior_admin).get("/accounts/outbox/")
        # A list masks the recipient (lib.masking); the code itself stays readable.
        assert "138****8000" in page.content.decode()
        assert "13800138000" not in page.content.decode()
        for user in (personas.ningbo_admin, personas.ningbo_enterprise):
            assert personas.client_for(user).get("/accounts/outbox/").status_code == 404


class BrokenSender:
    def send(self, channel: str, recipient: str, subject: str, body: str) -> None:
        from accounts.senders import SendError

        raise SendError("短信网关不可用，请稍后重试。")
