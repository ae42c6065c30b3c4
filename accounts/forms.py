from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.models import User, VerificationCode, username_validator
from accounts.services import Registration
from directory.cascade import REGION, CascadeFormMixin
from directory.codes import EnterpriseCodeFormMixin
from directory.models import Enterprise
from lib.validators import validate_mobile, validate_phone_or_mobile

REQUIRED = {"required": "此项为必填项。"}


class LoginForm(forms.Form):
    username = forms.CharField(
        label="用户ID/手机/邮箱",
        max_length=254,
        error_messages={"required": "请输入用户ID、绑定的手机号码或邮箱。"},
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="密码",
        max_length=128,
        strip=False,
        error_messages={"required": "请输入密码。"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RegistrationForm(EnterpriseCodeFormMixin, CascadeFormMixin, forms.Form):
    cascades = ((REGION, "region", True),)

    username = forms.CharField(
        label="用户ID",
        max_length=32,
        validators=[username_validator],
        error_messages=REQUIRED,
        help_text="4至32位字母、数字或下划线，注册后不可修改。",
    )
    password1 = forms.CharField(
        label="密码",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=REQUIRED,
        help_text="至少8位，包含大写字母、小写字母、数字、特殊符号中的至少3种。",
    )
    password2 = forms.CharField(
        label="确认密码",
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=REQUIRED,
    )
    enterprise_name = forms.CharField(
        label="企业名称", max_length=100, error_messages=REQUIRED, help_text="填写法定单位名称。"
    )
    code_type = forms.ChoiceField(
        label="代码类型",
        choices=Enterprise.CodeType.choices,
        initial=Enterprise.CodeType.USCC,
        widget=forms.RadioSelect,
        error_messages=REQUIRED,
    )
    code = forms.CharField(
        label="机构代码",
        max_length=20,
        error_messages=REQUIRED,
        help_text="组织机构代码9位（可写作 XXXXXXXX-X），统一社会信用代码18位。",
    )
    contact_person = forms.CharField(label="联系人", max_length=30, error_messages=REQUIRED)
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=20,
        validators=[validate_phone_or_mobile],
        error_messages=REQUIRED,
        help_text="座机请注明区号，如 0574-86601234；或填11位手机号码。",
    )

    field_order = [
        "username",
        "password1",
        "password2",
        "enterprise_name",
        "code_type",
        "code",
        "province",
        "city",
        "county",
        "contact_person",
        "contact_phone",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_cascade_fields()
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_cascades()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        elif p1:
            probe = User(username=cleaned.get("username", ""))
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned

    def registration(self) -> Registration:
        c = self.cleaned_data
        return Registration(
            username=c["username"],
            password=c["password1"],
            enterprise_name=c["enterprise_name"].strip(),
            code_type=c["code_type"],
            code=c["code"],
            region=c["region"],
            contact_person=c["contact_person"].strip(),
            contact_phone=c["contact_phone"].strip(),
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["nickname"]


class BindForm(forms.Form):
    channel = forms.ChoiceField(choices=VerificationCode.Channel.choices, widget=forms.HiddenInput)
    target = forms.CharField(
        max_length=254, error_messages={"required": "请输入手机号码或邮箱地址。"}
    )
    code = forms.CharField(max_length=6, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        target, channel = cleaned.get("target", ""), cleaned.get("channel")
        if target and channel == VerificationCode.Channel.MOBILE:
            try:
                validate_mobile(target.strip())
            except ValidationError as exc:
                self.add_error("target", exc)
        elif target and channel == VerificationCode.Channel.EMAIL:
            try:
                forms.EmailField().clean(target.strip())
            except ValidationError:
                self.add_error("target", "请输入有效的邮箱地址。")
        return cleaned


class PasswordChangeForm(DjangoPasswordChangeForm):
    error_messages = {
        **DjangoPasswordChangeForm.error_messages,
        "password_incorrect": "旧密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }


class SecondFactorForm(forms.Form):
    """The six digits an authenticator app shows (accounts.second_factor checks them)."""

    code = forms.CharField(
        label="动态口令",
        max_length=16,
        error_messages={"required": "请输入验证器上显示的6位数字动态口令。"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )
