"""API authentication: POST /api/v1/auth/token, the lock-out it shares with the login page,
GET /api/v1/me by token or by session, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import issue_api_token
from tests.conftest import PASSWORD, Personas, token_request

pytestmark = pytest.mark.usefixtures("reference_data")

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def ask_token(client: Client, body: Any, content_type: str = "application/json") -> Any:
    if content_type == "application/json" and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return client.post(TOKEN_URL, body, content_type=content_type)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def token_of(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=ApiToken.hash_key(key))


# --- Getting a token ---------------------------------------------------------------------------


def test_a_user_exchanges_user_id_and_password_for_a_token(personas: Personas) -> None:
    before = timezone.now()

    response = ask_token(Client(), {"username": "33029997", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    stored = token_of(body["token"])
    assert stored.user == personas.ningbo_enterprise
    # JSON carries milliseconds; the database keeps microseconds.
    shown = dt.datetime.fromisoformat(body["expires_at"])
    assert abs(shown - stored.expires_at) < dt.timedelta(milliseconds=1)
    lifetime = stored.expires_at - before
    assert dt.timedelta(hours=12) <= lifetime < dt.timedelta(hours=12, minutes=1)


def test_the_token_opens_the_api(personas: Personas) -> None:
    client = Client()
    key = ask_token(client, token_request("admin")).json()["token"]
    response = client.get(ME_URL, headers=bearer(key))
    assert response.status_code == 200
    assert response.json()["username"] == "admin"


@pytest.mark.parametrize(
    ("field", "value"),
    [("mobile", "13857401234"), ("email", "yang.shasha@example.com")],
)
def test_a_bound_mobile_or_email_is_a_login_name_too(
    personas: Personas, field: str, value: str
) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(**{field: value})

    response = ask_token(Client(), {"username": value, "password": PASSWORD})

    assert response.status_code == 200
    assert token_of(response.json()["token"]).user == personas.ningbo_enterprise


def test_an_email_is_found_whatever_its_case(personas: Personas) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(email="yang@example.com")
    response = ask_token(Client(), {"username": "Yang@Example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert token_of(response.json()["token"]).user == personas.ningbo_enterprise


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"username": "33029997", "password": "Wrong@2026"}, id="wrong-password"),
        pytest.param({"username": "99999999", "password": PASSWORD}, id="unknown-user"),
        pytest.param({"username": "13900000000", "password": PASSWORD}, id="unbound-mobile"),
        pytest.param({"username": "33029997", "password": ""}, id="empty-password"),
    ],
)
def test_wrong_credentials_get_401_and_no_token(
    personas: Personas, credentials: dict[str, str]
) -> None:
    response = ask_token(Client(), credentials)

    assert response.status_code == 401
    assert response.json() == {"detail": "用户名或密码错误。"}
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(personas: Personas) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(is_active=False)
    response = ask_token(Client(), {"username": "33029997", "password": PASSWORD})
    assert response.status_code == 401
    assert not ApiToken.objects.exists()


# --- Malformed requests ------------------------------------------------------------------------


def assert_errors_format(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"]
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
        assert CHINESE.search(error["message"]), error
    return body["errors"]


def test_a_missing_password_is_a_400_naming_the_field(personas: Personas) -> None:
    errors = assert_errors_format(ask_token(Client(), {"username": "33029997"}))
    assert errors == [{"field": "password", "code": "missing", "message": "此项为必填项。"}]
    assert not ApiToken.objects.exists()


def test_fields_of_the_wrong_type_are_a_400_naming_each_field(personas: Personas) -> None:
    errors = assert_errors_format(ask_token(Client(), {"username": 33029997, "password": ["x"]}))
    assert {(e["field"], e["message"]) for e in errors} == {
        ("username", "格式不正确。"),
        ("password", "格式不正确。"),
    }
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("这不是 JSON", "application/json", id="not-json"),
        pytest.param('{"username": "33029997", "password": ', "application/json", id="cut-off"),
        pytest.param(b"\xff\xfe\x00", "application/json", id="not-utf8"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_in_the_errors_format(
    personas: Personas, body: str | bytes, content_type: str
) -> None:
    assert_errors_format(ask_token(Client(), body, content_type))
    assert not ApiToken.objects.exists()


def test_a_json_body_that_is_not_an_object_is_a_400_in_the_errors_format(
    personas: Personas,
) -> None:
    assert_errors_format(ask_token(Client(), ["33029997", PASSWORD]))
    assert not ApiToken.objects.exists()


# --- Lock-out shared with the login page -------------------------------------------------------


def fail_five_times(client: Client, username: str = "33029997") -> list[int]:
    return [
        ask_token(client, {"username": username, "password": f"Wrong@{i}"}).status_code
        for i in range(5)
    ]


def test_after_five_wrong_passwords_the_right_one_is_refused_by_the_api(
    personas: Personas,
) -> None:
    client = Client()
    statuses = fail_five_times(client)
    assert statuses[:4] == [401, 401, 401, 401]
    assert AccessAttempt.objects.get(username="33029997").failures_since_start >= 5

    response = ask_token(client, {"username": "33029997", "password": PASSWORD})

    assert response.status_code == 429
    assert "锁定" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_after_five_wrong_passwords_on_the_api_the_login_page_refuses_too(
    personas: Personas,
) -> None:
    fail_five_times(Client())
    browser = Client()

    response = browser.post("/accounts/login/", {"username": "33029997", "password": PASSWORD})

    assert response.status_code == 200
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert browser.get("/").status_code == 302


def test_after_five_wrong_passwords_on_the_login_page_the_api_refuses_too(
    personas: Personas,
) -> None:
    browser = Client()
    for i in range(5):
        browser.post("/accounts/login/", {"username": "33029997", "password": f"Wrong@{i}"})

    response = ask_token(Client(), {"username": "33029997", "password": PASSWORD})

    assert response.status_code == 429
    assert "锁定" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_failures_by_mobile_and_by_user_id_count_for_the_same_account(
    personas: Personas,
) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(mobile="13857401234")
    client = Client()
    for name in ("13857401234", "33029997", "13857401234", "33029997", "13857401234"):
        ask_token(client, {"username": name, "password": "Wrong@2026"})

    response = ask_token(client, {"username": "33029997", "password": PASSWORD})

    assert response.status_code == 429
    assert not ApiToken.objects.exists()


def test_the_lock_of_one_account_leaves_other_accounts_alone(personas: Personas) -> None:
    client = Client()
    fail_five_times(client)
    response = ask_token(client, {"username": "44010001", "password": PASSWORD})
    assert response.status_code == 200
    assert token_of(response.json()["token"]).user == personas.guangdong_enterprise


def test_the_lock_ends_after_fifteen_minutes(personas: Personas) -> None:
    fail_five_times(Client())
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = ask_token(Client(), {"username": "33029997", "password": PASSWORD})
    assert response.status_code == 200
    assert token_of(response.json()["token"]).user == personas.ningbo_enterprise


# --- GET /api/v1/me ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "user_type", "region"),
    [
        ("ningbo_enterprise", "enterprise", {"code": "330211", "name": "浙江省 宁波市 镇海区"}),
        ("guangdong_enterprise", "enterprise", {"code": "440106", "name": "广东省 广州市 天河区"}),
        ("zhejiang_admin", "local_admin", {"code": "330000", "name": "浙江省"}),
        ("ningbo_admin", "local_admin", {"code": "330200", "name": "浙江省 宁波市"}),
        ("guangdong_admin", "local_admin", {"code": "440000", "name": "广东省"}),
        ("senior_admin", "senior_admin", None),
    ],
)
def test_me_describes_the_token_holder(
    personas: Personas, persona: str, user_type: str, region: dict[str, str] | None
) -> None:
    user = getattr(personas, persona)
    key, _ = issue_api_token(user)

    response = Client().get(ME_URL, headers=bearer(key))

    assert response.status_code == 200
    body = response.json()
    expected = {
        "username": user.username,
        "nickname": "",
        "user_type": user_type,
        "region": region,
        "mobile": None,
        "email": None,
    }
    assert {name: body[name] for name in expected} == expected


def test_me_shows_the_nickname_and_the_bound_mobile_and_email(personas: Personas) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(
        nickname="杨莎莎", mobile="13857401234", email="yang@example.com"
    )
    key, _ = issue_api_token(personas.ningbo_enterprise)
    body = Client().get(ME_URL, headers=bearer(key)).json()
    assert (body["nickname"], body["mobile"], body["email"]) == (
        "杨莎莎",
        "13857401234",
        "yang@example.com",
    )


def test_me_without_a_token_is_401(personas: Personas) -> None:
    response = Client().get(ME_URL)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer 不是令牌", "Bearer abc", "Bearer ", "Token {key}", "{key}", "Basic MzMwMjk5OTc6eA=="],
)
def test_me_with_a_garbage_or_misplaced_token_is_401(
    personas: Personas, authorization: str
) -> None:
    key, _ = issue_api_token(personas.ningbo_enterprise)
    response = Client().get(ME_URL, headers={"Authorization": authorization.format(key=key)})
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_token_works_until_twelve_hours_have_passed(personas: Personas) -> None:
    key, token = issue_api_token(personas.ningbo_enterprise)
    issued = token.created_at

    with time_machine.travel(issued + dt.timedelta(hours=11, minutes=59)):
        assert Client().get(ME_URL, headers=bearer(key)).status_code == 200
    with time_machine.travel(issued + dt.timedelta(hours=12, minutes=1)):
        response = Client().get(ME_URL, headers=bearer(key))

    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_token_of_a_deactivated_user_is_refused(personas: Personas) -> None:
    key, _ = issue_api_token(personas.ningbo_enterprise)
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(is_active=False)
    assert Client().get(ME_URL, headers=bearer(key)).status_code == 401


def test_a_used_token_records_when_it_was_last_used(personas: Personas) -> None:
    key, token = issue_api_token(personas.ningbo_enterprise)
    assert token.last_used_at is None
    Client().get(ME_URL, headers=bearer(key))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_browser_session_authenticates_me_too(personas: Personas) -> None:
    client = personas.client_for(personas.ningbo_admin)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["username"] == "ningbo"
    assert response.json()["region"] == {"code": "330200", "name": "浙江省 宁波市"}


def test_after_logging_out_the_session_no_longer_authenticates_me(personas: Personas) -> None:
    client = personas.client_for(personas.ningbo_admin)
    client.post("/accounts/logout/")
    assert client.get(ME_URL).status_code == 401


# --- OpenAPI -----------------------------------------------------------------------------------


def test_the_openapi_document_lists_the_account_and_notice_endpoints() -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "post" in paths["/api/v1/auth/token"]
    assert "get" in paths["/api/v1/me"]
    assert "get" in paths["/api/v1/notices"]
