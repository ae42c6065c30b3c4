"""Enterprise codes: the organisation code of GB 11714-1997 and the unified social credit code."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc

from directory.codes import normalize_enterprise_code, org_code_check_char
from directory.models import Enterprise

ORG = Enterprise.CodeType.ORGANIZATION
USCC = Enterprise.CodeType.USCC


def error_of(code_type: str, raw: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        normalize_enterprise_code(code_type, raw)
    return caught.value


def message_of(error: ValidationError) -> str:
    (message,) = error.messages
    return message


@pytest.mark.parametrize(
    ("body", "check"),
    [("60003734", "1"), ("D2143569", "X"), ("00000000", "0"), ("MA2AFKE0", "5")],
)
def test_the_organisation_code_check_character_follows_gb_11714(body: str, check: str) -> None:
    assert org_code_check_char(body) == check


def test_the_check_character_needs_an_eight_character_body() -> None:
    with pytest.raises(ValueError):
        org_code_check_char("6000373")


@pytest.mark.parametrize(
    "raw",
    ["600037341", "60003734-1", " 6000 3734-1 ", "60003734－1"],
)
def test_an_organisation_code_is_stored_as_nine_characters(raw: str) -> None:
    assert normalize_enterprise_code(ORG, raw) == "600037341"


def test_an_organisation_code_with_check_character_x_is_accepted_in_any_case() -> None:
    assert normalize_enterprise_code(ORG, "d2143569-x") == "D2143569X"


@pytest.mark.parametrize("raw", ["60003734", "6000373411", "60003734-12", ""])
def test_an_organisation_code_of_the_wrong_length_is_refused(raw: str) -> None:
    error = error_of(ORG, raw)
    assert error.code == "length"
    assert message_of(error).startswith("组织机构代码应为9位")


@pytest.mark.parametrize("raw", ["6000373#1", "6000-3734", "60003734Y", "60003734-"])
def test_an_organisation_code_with_a_wrong_character_is_refused(raw: str) -> None:
    error = error_of(ORG, raw)
    assert error.code == "format"
    assert message_of(error) == "组织机构代码只能由数字和大写英文字母组成，最后一位校验码为数字或 X"


@pytest.mark.parametrize("raw", ["600037342", "60003734-X", "D2143569-1"])
def test_an_organisation_code_with_a_wrong_check_character_is_refused(raw: str) -> None:
    error = error_of(ORG, raw)
    assert error.code == "checksum"
    assert message_of(error) == "组织机构代码校验位不正确，请核对后重新填写"


def test_a_valid_unified_social_credit_code_is_stored_upper_case_without_spaces() -> None:
    assert normalize_enterprise_code(USCC, "91110000600037341L") == "91110000600037341L"
    assert normalize_enterprise_code(USCC, " 9111 0000 6000 3734 1l ") == "91110000600037341L"


def test_a_credit_code_whose_embedded_organisation_code_fails_its_check_is_accepted() -> None:
    # Individual businesses receive such codes; only the USCC's own check character counts.
    first17 = "92330211MA2AFKE02"  # the embedded MA2AFKE0 has GB 11714 check character 5, not 2
    code = first17 + uscc.calc_check_digit(first17)
    assert normalize_enterprise_code(USCC, code) == code


@pytest.mark.parametrize("raw", ["91110000600037341", "91110000600037341LL", "600037341"])
def test_a_credit_code_of_the_wrong_length_is_refused(raw: str) -> None:
    error = error_of(USCC, raw)
    assert error.code == "length"
    assert message_of(error) == f"统一社会信用代码应为18位，当前为{len(raw)}位"


@pytest.mark.parametrize("raw", ["9111000060003734IL", "A1110000600037341L", "91110000600037341#"])
def test_a_credit_code_with_a_wrong_character_is_refused(raw: str) -> None:
    error = error_of(USCC, raw)
    assert error.code == "format"
    assert message_of(error).startswith("统一社会信用代码格式不正确")


def test_a_credit_code_with_a_wrong_check_character_is_refused() -> None:
    error = error_of(USCC, "91110000600037341M")
    assert error.code == "checksum"
    assert message_of(error) == "统一社会信用代码校验位不正确，请核对后重新填写"


def test_an_unknown_code_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        normalize_enterprise_code("tax", "600037341")
