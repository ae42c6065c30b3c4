from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ApiToken, User
from accounts.services import issue_api_token
from tests.conftest import PASSWORD, Personas

URL = "/accounts/password/"
NEW = "Xin@Mima2026"


def change(client: Client, old: str = PASSWORD, new1: str = NEW, new2: str = NEW):  # type: ignore[no-untyped-def]
    return client.post(URL, {"old_password": old, "new_password1": new1, "new_password2": new2})


@pytest.fixture
def clerk_user(personas: Personas) -> User:
    return personas.ningbo_enterprise


def logged_in(password: str) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": "33029997", "password": password})
    return client


class TestPasswordChange:
    def test_it_changes_the_password_and_keeps_this_session(self, clerk_user: User) -> None:
        client = logged_in(PASSWORD)
        response = change(client)
        assert response.status_code == 302
        assert User.objects.get(pk=clerk_user.pk).check_password(NEW)
        assert client.get("/").status_code == 200
        assert logged_in(NEW).get("/").status_code == 200

    def test_other_sessions_and_api_tokens_of_the_user_end(self, clerk_user: User) -> None:
        other_device = logged_in(PASSWORD)
        issue_api_token(clerk_user)
        change(logged_in(PASSWORD))
        assert other_device.get("/")["Location"].startswith("/accounts/login/")
        assert not ApiToken.objects.filter(user=clerk_user).exists()

    def test_a_wrong_old_password_is_refused(self, clerk_user: User) -> None:
        response = change(logged_in(PASSWORD), old="Wrong@2026")
        assert response.context["form"].errors["old_password"] == ["旧密码不正确，请重新输入。"]
        assert User.objects.get(pk=clerk_user.pk).check_password(PASSWORD)

    def test_the_new_passwords_must_match(self, clerk_user: User) -> None:
        response = change(logged_in(PASSWORD), new2="Xin@Mima2027")
        assert response.context["form"].errors["new_password2"] == ["两次输入的新密码不一致。"]

    @pytest.mark.parametrize("weak", ["short1A", "alllowercase1", "12345678", "33029997Ab"])
    def test_the_policy_applies_to_the_new_password(self, clerk_user: User, weak: str) -> None:
        response = change(logged_in(PASSWORD), new1=weak, new2=weak)
        assert response.context["form"].errors["new_password2"]
        assert User.objects.get(pk=clerk_user.pk).check_password(PASSWORD)

    def test_the_page_needs_a_login(self, client: Client, db: None) -> None:
        assert client.get(URL)["Location"].startswith("/accounts/login/")


class TestProfile:
    def test_the_nickname_is_editable(self, personas: Personas) -> None:
        client = personas.client_for(personas.ningbo_enterprise)
        response = client.post("/accounts/profile/", {"nickname": "康尔填报员"})
        assert response.status_code == 302
        assert User.objects.get(username="33029997").nickname == "康尔填报员"

    def test_user_id_region_and_bindings_cannot_be_changed_here(self, personas: Personas) -> None:
        client = personas.client_for(personas.ningbo_enterprise)
        client.post(
            "/accounts/profile/",
            {"nickname": "x", "username": "hacker", "region": "440000", "mobile": "13900000000"},
        )
        user = User.objects.get(pk=personas.ningbo_enterprise.pk)
        assert (user.username, user.mobile) == ("33029997", None)
        assert user.enterprise.region_id == "330211"

    def test_the_page_shows_user_id_and_region_read_only(self, personas: Personas) -> None:
        html = personas.client_for(personas.ningbo_enterprise).get("/accounts/profile/")
        text = html.content.decode()
        assert "33029997" in text and "浙江省 宁波市 镇海区" in text
        assert 'name="username"' not in text

    def test_a_too_long_nickname_gets_a_message(self, personas: Personas) -> None:
        client = personas.client_for(personas.ningbo_enterprise)
        response = client.post("/accounts/profile/", {"nickname": "长" * 31})
        assert response.status_code == 200
        assert response.context["form"].errors["nickname"]
