from __future__ import annotations

import pytest
from django.test import Client
from stdnum.cn import uscc

from accounts.models import User
from directory.models import Enterprise
from tests.conftest import Personas

GOOD_USCC = "91330211MA2B00001" + uscc.calc_check_digit("91330211MA2B00001")


def form(**overrides: str) -> dict[str, str]:
    data = {
        "username": "nbnew01",
        "password1": "Qiye@2026x",
        "password2": "Qiye@2026x",
        "enterprise_name": "宁波新注册企业有限公司",
        "code_type": "uscc",
        "code": GOOD_USCC,
        "province": "330000",
        "city": "330200",
        "county": "330211",
        "contact_person": "王强",
        "contact_phone": "0574-86601234",
    }
    data.update(overrides)
    return data


def errors_of(response, field: str) -> list[str]:  # type: ignore[no-untyped-def]
    return list(response.context["form"].errors.get(field, []))


@pytest.mark.usefixtures("reference_data")
class TestRegistration:
    def test_it_creates_the_enterprise_and_its_user(self, client: Client) -> None:
        response = client.post("/accounts/register/", form())
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
        user = User.objects.get(username="nbnew01")
        assert user.user_type == User.Type.ENTERPRISE
        assert user.enterprise.code == GOOD_USCC
        assert user.enterprise.region_id == "330211"
        assert user.check_password("Qiye@2026x")
        assert user.password.startswith("argon2")

    def test_it_accepts_an_organisation_code_written_with_a_hyphen(self, client: Client) -> None:
        response = client.post("/accounts/register/", form(code_type="org", code="60003734-1"))
        assert response.status_code == 302
        assert Enterprise.objects.get(name="宁波新注册企业有限公司").code == "600037341"

    @pytest.mark.parametrize(
        ("code_type", "code", "words"),
        [
            ("uscc", GOOD_USCC[:-1] + ("0" if GOOD_USCC[-1] != "0" else "1"), "校验"),
            ("uscc", "91330211MA2B", "18位"),
            ("org", "600037342", "校验"),
            ("org", "6000373", "9位"),
            ("org", "6000@734X", "字母"),
        ],
    )
    def test_it_refuses_a_bad_code_with_a_chinese_message(
        self, client: Client, code_type: str, code: str, words: str
    ) -> None:
        response = client.post("/accounts/register/", form(code_type=code_type, code=code))
        assert response.status_code == 200
        assert any(words in e for e in errors_of(response, "code")), errors_of(response, "code")
        assert not User.objects.filter(username="nbnew01").exists()
        assert not Enterprise.objects.filter(name="宁波新注册企业有限公司").exists()

    def test_it_refuses_a_code_registered_already(self, client: Client, personas: Personas) -> None:
        taken = personas.ningbo_enterprise.enterprise.code
        response = client.post("/accounts/register/", form(code=taken))
        assert response.status_code == 200
        assert "该机构代码已注册" in errors_of(response, "code")[0]
        assert Enterprise.objects.filter(code=taken).count() == 1
        assert not User.objects.filter(username="nbnew01").exists()

    def test_it_refuses_a_user_id_taken_already(self, client: Client, personas: Personas) -> None:
        response = client.post("/accounts/register/", form(username="33029997"))
        assert response.status_code == 200
        assert "已被使用" in errors_of(response, "username")[0]
        assert not Enterprise.objects.filter(code=GOOD_USCC).exists()

    @pytest.mark.parametrize(
        "password",
        ["Ab1!", "abcdefgh1", "abcdefghij", "ABCDEFGH12", "12345678901", "nbnew01Ab!"],
    )
    def test_it_refuses_a_weak_password(self, client: Client, password: str) -> None:
        response = client.post("/accounts/register/", form(password1=password, password2=password))
        assert response.status_code == 200
        assert errors_of(response, "password1")
        assert not User.objects.filter(username="nbnew01").exists()

    def test_the_password_policy_message_names_the_three_kinds(self, client: Client) -> None:
        response = client.post(
            "/accounts/register/", form(password1="abcdefgh12", password2="abcdefgh12")
        )
        assert any("至少3种" in e for e in errors_of(response, "password1"))

    def test_it_refuses_mismatched_passwords(self, client: Client) -> None:
        response = client.post("/accounts/register/", form(password2="Qiye@2026y"))
        assert "两次输入的密码不一致。" in errors_of(response, "password2")

    def test_it_requires_the_region_down_to_the_county(self, client: Client) -> None:
        response = client.post("/accounts/register/", form(county=""))
        assert "所在地区请选择到区县一级。" in errors_of(response, "county")
        assert not User.objects.filter(username="nbnew01").exists()

    def test_it_refuses_a_city_outside_the_chosen_province(self, client: Client) -> None:
        response = client.post("/accounts/register/", form(city="440100", county="440106"))
        assert errors_of(response, "city") == ["请从列表中选择。"]

    @pytest.mark.parametrize("phone", ["86601234", "0574 86601234", "1380013800", "abc"])
    def test_it_refuses_a_malformed_phone(self, client: Client, phone: str) -> None:
        response = client.post("/accounts/register/", form(contact_phone=phone))
        assert errors_of(response, "contact_phone")

    def test_every_required_field_says_so_in_chinese(self, client: Client) -> None:
        response = client.post("/accounts/register/", {})
        assert response.status_code == 200
        for field in ("username", "password1", "enterprise_name", "code", "contact_person"):
            assert errors_of(response, field) == ["此项为必填项。"], field
        assert errors_of(response, "province") == ["请选择省。"]

    @pytest.mark.parametrize(
        "overrides",
        [
            {"code_type": "bogus"},
            {"province": "\x00"},
            {"username": "x" * 5000},
            {"county": "999999"},
            {"code": "\u00a0" * 3},
        ],
    )
    def test_malformed_input_never_gives_a_server_error(
        self, client: Client, overrides: dict[str, str]
    ) -> None:
        response = client.post("/accounts/register/", form(**overrides))
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not User.objects.filter(username="nbnew01").exists()

    def test_the_page_renders_the_region_cascade(self, client: Client) -> None:
        response = client.get("/accounts/register/")
        html = response.content.decode()
        assert 'name="province"' in html and 'name="county"' in html
        assert "浙江省" in html
        assert 'hx-get="/directory/options/region/"' in html


def test_messages_stay_chinese_for_a_browser_asking_for_english(client: Client, db: None) -> None:
    response = client.post(
        "/accounts/register/",
        form(password1="abc", password2="abc"),
        HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9",
    )
    errors = " ".join(errors_of(response, "password1"))
    assert "密码" in errors and "password" not in errors.lower()
