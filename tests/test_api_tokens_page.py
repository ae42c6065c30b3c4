"""等级保护 (issue 8): API tokens are listed and revoked by their owner on /accounts/tokens/, never
shown again after issue, and not issued to an administrator whose password has expired."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import issue_api_token
from audit.models import SecurityEvent
from tests.conftest import Personas, token_request

pytestmark = pytest.mark.usefixtures("reference_data")

PAGE = "/accounts/tokens/"
ME_URL = "/api/v1/me"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def me_status(key: str) -> int:
    return Client().get(ME_URL, headers=bearer(key)).status_code


def test_the_page_lists_only_the_owners_tokens_and_never_a_token(personas: Personas) -> None:
    own_key, own = issue_api_token(personas.ningbo_enterprise)
    other_key, other = issue_api_token(personas.guangdong_enterprise)

    response = personas.client_for(personas.ningbo_enterprise).get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"/accounts/tokens/{own.pk}/revoke/" in html
    assert f"/accounts/tokens/{other.pk}/revoke/" not in html
    assert own_key not in html and other_key not in html
    assert own.key_hash not in html  # not even the stored digest
    assert "有效" in html and "未使用" in html


def test_an_expired_token_is_shown_as_expired_and_can_be_revoked(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    _, token = issue_api_token(user)
    with time_machine.travel(token.expires_at + dt.timedelta(hours=1)):
        client = personas.client_for(user)
        assert "已过期" in client.get(PAGE).content.decode()
        response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_revoked_token_no_longer_opens_the_api_and_is_a_security_event(
    personas: Personas,
) -> None:
    user = personas.ningbo_enterprise
    key, token = issue_api_token(user)
    kept_key, _ = issue_api_token(user)
    assert me_status(key) == 200

    response = personas.client_for(user).post(f"/accounts/tokens/{token.pk}/revoke/")

    assert response.status_code == 302 and response["Location"] == PAGE
    assert me_status(key) == 401
    assert me_status(kept_key) == 200  # only the one revoked
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKE).get()
    assert event.actor == user
    assert event.outcome == SecurityEvent.Outcome.SUCCESS
    assert str(token.pk) in event.detail


def test_revoke_all_ends_every_token_of_the_user_only(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    keys = [issue_api_token(user)[0] for _ in range(3)]
    other_key, _ = issue_api_token(personas.guangdong_enterprise)

    response = personas.client_for(user).post("/accounts/tokens/revoke-all/")

    assert response.status_code == 302
    assert all(me_status(key) == 401 for key in keys)
    assert me_status(other_key) == 200
    assert not ApiToken.objects.filter(user=user).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.TOKEN_REVOKE)
    assert event.actor == user and "3" in event.detail


def test_another_users_token_is_404_and_stays_valid(personas: Personas) -> None:
    other_key, other = issue_api_token(personas.guangdong_enterprise)

    # An administrator above the owner is refused as well: tokens are their owner's alone.
    for user in (personas.ningbo_enterprise, personas.senior_admin):
        response = personas.client_for(user).post(f"/accounts/tokens/{other.pk}/revoke/")
        assert response.status_code == 404

    assert me_status(other_key) == 200
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKE).exists()


def test_revoking_needs_a_post(personas: Personas) -> None:
    key, token = issue_api_token(personas.ningbo_enterprise)
    client = personas.client_for(personas.ningbo_enterprise)
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    assert client.get("/accounts/tokens/revoke-all/").status_code == 405
    assert me_status(key) == 200


def test_the_forms_carry_the_csrf_token(personas: Personas) -> None:
    issue_api_token(personas.ningbo_enterprise)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.ningbo_enterprise)
    html = client.get(PAGE).content.decode()
    assert html.count('name="csrfmiddlewaretoken"') >= 2
    # Without it the revocation is refused.
    assert client.post("/accounts/tokens/revoke-all/").status_code == 403
    assert ApiToken.objects.filter(user=personas.ningbo_enterprise).exists()


@pytest.mark.parametrize(
    "url", [PAGE, "/accounts/tokens/1/revoke/", "/accounts/tokens/revoke-all/"]
)
def test_anonymous_users_are_sent_to_the_login_page(personas: Personas, url: str) -> None:
    key, _ = issue_api_token(personas.ningbo_enterprise)
    client = Client()
    response = client.get(url) if url == PAGE else client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert me_status(key) == 200


def test_the_profile_page_and_the_menu_link_to_the_page(personas: Personas) -> None:
    html = personas.client_for(personas.ningbo_enterprise).get("/accounts/profile/")
    assert html.content.decode().count(f'href="{PAGE}"') == 2


def test_an_administrator_whose_password_has_expired_gets_no_token(personas: Personas) -> None:
    with time_machine.travel(timezone.now() + dt.timedelta(days=91), tick=False):
        response = Client().post(
            "/api/v1/auth/token",
            token_request("admin"),
            content_type="application/json",
        )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "您的密码已超过90天未修改，请先登录网页修改密码后再使用接口。"
    }
    assert not ApiToken.objects.filter(user=personas.senior_admin).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_CREATE).exists()


def test_the_token_endpoint_documents_the_403() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    assert "403" in document["paths"]["/api/v1/auth/token"]["post"]["responses"]
