from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class ErrorItem(Schema):
    field: str | None
    code: str
    message: str


class ErrorsOut(Schema):
    errors: list[ErrorItem]


class DetailOut(Schema):
    detail: str


class TokenIn(Schema):
    username: str
    password: str
    # Accounts with a second factor (administrators who turned it on, every national
    # administrator): the 6 digits their authenticator shows (accounts.second_factor).
    otp_code: str | None = Field(
        None, description="已启用动态口令的账户（国家管理员必须启用）：验证器上当前的6位数字"
    )


class TokenOut(Schema):
    token: str
    expires_at: datetime


class RegionOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    username: str
    nickname: str
    user_type: Literal["enterprise", "local_admin", "senior_admin"]
    user_type_label: str
    region: RegionOut | None
    mobile: str | None
    email: str | None


class NoticeOut(Schema):
    id: int
    kind: Literal["notice", "news"]
    kind_label: str
    title: str
    body: str
    audience: Literal["all", "enterprises", "admins"]
    region: RegionOut | None
    published_at: datetime


class NoticePage(Schema):
    items: list[NoticeOut]
    next: int | None
