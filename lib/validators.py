"""Format rules for contact fields, one place for the forms, the API and the Excel import."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

LANDLINE_RE = re.compile(r"^0\d{2,3}-\d{7,8}(-\d{1,6})?$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
POSTAL_CODE_RE = re.compile(r"^\d{6}$")


def validate_landline(value: str) -> None:
    if not LANDLINE_RE.match(value):
        raise ValidationError(
            "电话格式不正确：请注明区号，区号和电话之间用“-”连接，如 0470-6608666。",
            code="invalid_phone",
        )


def validate_mobile(value: str) -> None:
    if not MOBILE_RE.match(value):
        raise ValidationError("手机号码应为以1开头的11位数字。", code="invalid_mobile")


def validate_phone_or_mobile(value: str) -> None:
    if not (LANDLINE_RE.match(value) or MOBILE_RE.match(value)):
        raise ValidationError(
            "请填写座机（区号-号码，如 0574-86601234）或11位手机号码。", code="invalid_phone"
        )


def validate_postal_code(value: str) -> None:
    if not POSTAL_CODE_RE.match(value):
        raise ValidationError("邮政编码应为6位数字。", code="invalid_postal_code")
