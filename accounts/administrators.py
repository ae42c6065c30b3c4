"""Administrator accounts: national senior administrators create and disable any; a local
administrator of a province creates and disables those of regions inside its province. Every
change is recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import User, username_validator
from audit.recorder import record, snapshot
from directory.models import Region

REQUIRED = {"required": "此项为必填项。"}


def may_manage_administrators(user: User) -> bool:
    return user.is_senior_admin or (
        user.is_local_admin and user.region is not None and user.region.level == 1
    )


def manageable_regions(user: User) -> QuerySet[Region]:
    if user.is_senior_admin:
        return Region.objects.all()
    if not may_manage_administrators(user):
        return Region.objects.none()
    assert user.region is not None
    return Region.objects.filter(code__startswith=user.region.prefix).exclude(pk=user.region.pk)


def administrators_managed_by(user: User) -> QuerySet[User]:
    """The administrator accounts this user may see and manage (never its own)."""
    if not may_manage_administrators(user):
        return User.objects.none()
    qs = User.objects.filter(user_type__in=[User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN])
    if user.is_local_admin:
        qs = qs.filter(
            user_type=User.Type.LOCAL_ADMIN, region__in=manageable_regions(user).values("pk")
        )
    return qs.exclude(pk=user.pk).select_related("region__parent__parent").order_by("username")


def get_administrator(user: User, pk: Any) -> User:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_object_or_404(administrators_managed_by(user), pk=pk)


class AdministratorForm(forms.Form):
    username = forms.CharField(
        label="用户ID", max_length=32, validators=[username_validator], error_messages=REQUIRED
    )
    nickname = forms.CharField(label="姓名/昵称", max_length=30, required=False)
    user_type = forms.ChoiceField(
        label="用户类型",
        choices=[(User.Type.LOCAL_ADMIN, "地方管理员"), (User.Type.SENIOR_ADMIN, "国家高级管理员")],
        error_messages=REQUIRED,
    )
    region = forms.ModelChoiceField(
        label="可管理地区",
        queryset=Region.objects.none(),
        required=False,
        error_messages={"invalid_choice": "只能为您管理的地区内创建管理员。"},
    )
    password1 = forms.CharField(
        label="初始密码", strip=False, widget=forms.PasswordInput, error_messages=REQUIRED
    )
    password2 = forms.CharField(
        label="确认密码", strip=False, widget=forms.PasswordInput, error_messages=REQUIRED
    )

    def __init__(self, *args: Any, creator: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creator = creator
        region = self.fields["region"]
        region.queryset = manageable_regions(creator).filter(level__lte=3)  # type: ignore[attr-defined]
        region.label_from_instance = lambda r: f"{r.code} {r.name}"  # type: ignore[attr-defined]
        if not creator.is_senior_admin:
            self.fields["user_type"].choices = [(User.Type.LOCAL_ADMIN, "地方管理员")]  # type: ignore[attr-defined]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("该用户ID已被使用。")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("user_type") == User.Type.LOCAL_ADMIN and not cleaned.get("region"):
            self.add_error("region", "地方管理员必须指定可管理地区。")
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        elif p1:
            try:
                password_validation.validate_password(
                    p1, User(username=cleaned.get("username", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


def create_administrator(request: HttpRequest, form: AdministratorForm) -> User:
    c = form.cleaned_data
    senior = c["user_type"] == User.Type.SENIOR_ADMIN
    with transaction.atomic():
        user = User.objects.create_user(
            c["username"],
            c["password1"],
            nickname=c["nickname"],
            user_type=c["user_type"],
            region=None if senior else c["region"],
            is_staff=senior,
        )
        # The creator chose the password: its owner changes it at the first login.
        user.require_password_change()
        user.save(update_fields=["password_changed_at"])
        summary = f"创建{user.get_user_type_display()}账户：{user.username}（{user.region_label}）"
        record(request, "account_create", user, summary, None, snapshot(user))
    return user


def set_active(request: HttpRequest, administrator: User, active: bool) -> User:
    with transaction.atomic():
        before = snapshot(administrator)
        administrator.is_active = active
        administrator.save(update_fields=["is_active"])
        verb = "启用" if active else "停用"
        summary = f"{verb}管理员账户：{administrator.username}"
        action = "account_enable" if active else "account_disable"
        record(request, action, administrator, summary, before, snapshot(administrator))
    return administrator
