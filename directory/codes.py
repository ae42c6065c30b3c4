"""Checks of enterprise codes, shared by the pages, the API and the Excel import: the 9-character
organisation code of GB 11714-1997 and the 18-character unified social credit code of
GB 32100-2015."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from directory.models import Enterprise

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")
_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_WHITESPACE = re.compile(r"\s+")


def _char_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check_char(body8: str) -> str:
    """The check character of an organisation code body (GB 11714-1997)."""
    if not _ORG_BODY.fullmatch(body8):
        raise ValueError(f"not an organisation code body: {body8!r}")
    check = 11 - sum(_char_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def normalize_enterprise_code(code_type: str, raw: str) -> str:
    """The code as stored (no spaces, upper case, no hyphen), or ValidationError saying what is
    wrong with it."""
    code = _WHITESPACE.sub("", raw).upper()
    if code_type == Enterprise.CodeType.ORGANIZATION:
        return _normalize_org_code(code)
    if code_type == Enterprise.CodeType.USCC:
        return _normalize_uscc(code)
    raise ValueError(f"unknown code type: {code_type!r}")


def _normalize_org_code(code: str) -> str:
    # Certificates print the code as XXXXXXXX-X; the hyphen is not part of it.
    if len(code) == 10 and code[8] in "-－":
        code = code[:8] + code[9]
    if len(code) != 9:
        raise ValidationError(
            "组织机构代码应为9位（8位本体代码加1位校验码，可写作 XXXXXXXX-X），当前为%(length)d位",
            code="length",
            params={"length": len(code)},
        )
    if not _ORG_CODE.fullmatch(code):
        raise ValidationError(
            "组织机构代码只能由数字和大写英文字母组成，最后一位校验码为数字或 X",
            code="format",
        )
    if org_code_check_char(code[:8]) != code[8]:
        raise ValidationError("组织机构代码校验位不正确，请核对后重新填写", code="checksum")
    return code


def _normalize_uscc(code: str) -> str:
    # Only the USCC's own check character is verified: many codes issued to individual businesses
    # embed an organisation code whose GB 11714 check character is not valid.
    try:
        return uscc.validate(code)
    except stdnum_errors.InvalidLength as exc:
        raise ValidationError(
            "统一社会信用代码应为18位，当前为%(length)d位",
            code="length",
            params={"length": len(uscc.compact(code))},
        ) from exc
    except stdnum_errors.InvalidFormat as exc:
        raise ValidationError(
            "统一社会信用代码格式不正确：前8位应为数字，其余只能是数字或大写英文字母"
            "（不含 I、O、Z、S、V）",
            code="format",
        ) from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise ValidationError(
            "统一社会信用代码校验位不正确，请核对后重新填写", code="checksum"
        ) from exc


class EnterpriseCodeFormMixin:
    """clean_code for forms with the fields code_type and code: the code checked and normalised
    for the chosen type (a missing or bogus type is reported on its own field)."""

    def clean_code(self) -> str:
        form: Any = self
        raw = form.cleaned_data["code"]
        code_type = form.data.get("code_type", "")
        if code_type not in Enterprise.CodeType.values:
            return raw
        return normalize_enterprise_code(code_type, raw)
