"""The Django admin for national administrators (is_staff): user accounts and what the login and
binding machinery stores. Codes and tokens are shown, never editable."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, BaseUserCreationForm, UserChangeForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, OutboxMessage, User, VerificationCode
from audit.recorder import AuditedAdminMixin
from lib.masking import mask_contact


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("username", "user_type", "region", "enterprise")

    def save(self, commit: bool = True) -> User:
        # The national administrator chose the password: its owner changes it at first login.
        user = super().save(commit=False)
        user.require_password_change()
        if commit:
            user.save()
            self.save_m2m()
        return user


class SetPasswordForm(AdminPasswordChangeForm):
    """The Django admin's 修改密码 of someone else's account (a forgotten password): its owner
    changes it again at the next login, so that the administrator does not keep knowing it."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.require_password_change()
        if commit:
            user.save()
        return user


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    change_password_form = SetPasswordForm
    list_display = ("username", "nickname", "user_type", "region", "enterprise", "is_active")
    list_filter = ("user_type", "is_active", "is_staff")
    search_fields = ("username", "nickname", "mobile", "email", "enterprise__name")
    ordering = ("username",)
    raw_id_fields = ("region", "enterprise")
    list_select_related = ("region", "enterprise")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("账户", {"fields": ("nickname", "user_type", "region", "enterprise", "mobile", "email")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("时间", {"fields": ("last_login", "date_joined", "password_changed_at")}),
    )
    # Shown, not editable: moving the date by hand would put off the password's expiry.
    readonly_fields = ("password_changed_at",)
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "user_type",
                    "region",
                    "enterprise",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    filter_horizontal = ("groups",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    # A change list is a list (lib.masking): the full recipient is on the message's own page.
    list_display = ("created_at", "channel", "masked_recipient", "subject")
    list_filter = ("channel",)
    search_fields = ("recipient",)

    @admin.display(description="收件人", ordering="recipient")
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return mask_contact(obj.recipient)


@admin.register(VerificationCode)
class VerificationCodeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "channel", "masked_target", "failed_tries", "used_at")
    exclude = ("code_hash",)
    search_fields = ("target", "user__username")

    @admin.display(description="手机号码/邮箱地址", ordering="target")
    def masked_target(self, obj: VerificationCode) -> str:
        return mask_contact(obj.target)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "expires_at", "last_used_at")
    exclude = ("key_hash",)
    search_fields = ("user__username",)


# The second factor's devices are bound, replaced, turned off and reset only through the
# platform's pages and `manage.py reset_second_factor` (accounts.second_factor), each a security
# event: django-otp's own admin would let a key be read or a device be added for someone else
# without one.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
