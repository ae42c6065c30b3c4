"""Users of the three types, verification codes for binding, the outbox of the default sender
and API tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from directory.models import Enterprise, Region
from lib.masking import mask_contact

username_validator = RegexValidator(
    r"^[A-Za-z0-9_]{4,32}$", "用户ID 只能由 4 至 32 位字母、数字或下划线组成。"
)


INITIAL_PASSWORD = "initial"
PASSWORD_EXPIRED = "expired"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields: object) -> User:
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields: object):
        fields.setdefault("user_type", User.Type.SENIOR_ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Type(models.TextChoices):
        ENTERPRISE = "enterprise", "企业用户"
        LOCAL_ADMIN = "local_admin", "地方管理员"
        SENIOR_ADMIN = "senior_admin", "国家高级管理员"

    username = models.CharField(
        "用户ID", max_length=32, unique=True, validators=[username_validator]
    )
    nickname = models.CharField("昵称", max_length=30, blank=True)
    # Only verified values are stored: a bound mobile or e-mail is a login name.
    mobile = models.CharField("手机", max_length=11, unique=True, null=True, blank=True)
    email = models.EmailField("电子邮箱", unique=True, null=True, blank=True)
    user_type = models.CharField("用户类型", max_length=12, choices=Type.choices)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="可管理地区",
        help_text="地方管理员管理的地区；国家高级管理员为空（全国）。",
    )
    enterprise = models.OneToOneField(
        Enterprise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="user",
        verbose_name="企业",
    )
    is_active = models.BooleanField("启用", default=True)
    is_staff = models.BooleanField("可进入管理后台", default=False)
    date_joined = models.DateTimeField("注册时间", default=timezone.now)
    # 等级保护: administrators must change a password older than ADMIN_PASSWORD_MAX_AGE_DAYS, and
    # everyone a password someone else set for them (None: require_password_change below) before
    # anything else (accounts.middleware.PasswordExpiryMiddleware). Moved by set_password().
    password_changed_at = models.DateTimeField(
        "密码修改时间", null=True, blank=True, default=timezone.now
    )

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user_type="enterprise") | models.Q(enterprise__isnull=False),
                name="user_enterprise_has_enterprise",
                violation_error_message="企业用户必须关联企业。",
            ),
            models.CheckConstraint(
                condition=~models.Q(user_type="local_admin") | models.Q(region__isnull=False),
                name="user_local_admin_has_region",
                violation_error_message="地方管理员必须指定可管理地区。",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def set_password(self, raw_password: str | None) -> None:
        # Every way of setting a password goes through here (create_user and so createsuperuser
        # and the administrator-create page, the Django admin's forms, the change page), and
        # each saves the whole row afterwards, so the date is stored with the new hash.
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password: str) -> bool:
        # A login rehashes the password when the hasher's parameters change, through
        # set_password() and a save of the password column only: that is no change by the user,
        # so the date in memory stays as stored.
        changed_at = self.password_changed_at
        valid = super().check_password(raw_password)
        self.password_changed_at = changed_at
        return valid

    def require_password_change(self) -> None:
        """The password was just set by someone else (an administrator creating the account or
        setting a forgotten password): its owner must change it at the next login, before doing
        anything else (等级保护: 初始口令). Saved by the caller, after set_password()."""
        self.password_changed_at = None

    @property
    def password_change_reason(self) -> str | None:
        """Why the user must change the password before anything else: INITIAL_PASSWORD (set by
        someone else), PASSWORD_EXPIRED (an administrator's older than
        ADMIN_PASSWORD_MAX_AGE_DAYS; 0: never; enterprise users are not subject to expiry, issue
        8 names administrators), or None."""
        if self.password_changed_at is None:
            return INITIAL_PASSWORD
        days = settings.ADMIN_PASSWORD_MAX_AGE_DAYS
        if days <= 0 or not self.is_administrator:
            return None
        if timezone.now() - self.password_changed_at > timedelta(days=days):
            return PASSWORD_EXPIRED
        return None

    @property
    def must_change_password(self) -> bool:
        return self.password_change_reason is not None

    @property
    def display_name(self) -> str:
        return self.nickname or self.username

    @property
    def is_enterprise(self) -> bool:
        return self.user_type == self.Type.ENTERPRISE

    @property
    def is_local_admin(self) -> bool:
        return self.user_type == self.Type.LOCAL_ADMIN

    @property
    def is_senior_admin(self) -> bool:
        return self.user_type == self.Type.SENIOR_ADMIN

    @property
    def is_administrator(self) -> bool:
        return self.user_type in (self.Type.LOCAL_ADMIN, self.Type.SENIOR_ADMIN)

    @property
    def home_region(self) -> Region | None:
        """The region the user belongs to or manages; None for the whole country."""
        if self.is_enterprise:
            return self.enterprise.region if self.enterprise else None
        if self.is_local_admin:
            return self.region
        return None

    @property
    def region_label(self) -> str:
        """e.g. 浙江省 宁波市 镇海区 (the page header): the region and its ancestors, one query."""
        from directory.trees import ancestry

        if self.is_enterprise:
            code = self.enterprise.region_id if self.enterprise else None
        elif self.is_local_admin:
            code = self.region_id
        else:
            return "全国"
        return " ".join(node.name for node in ancestry(Region, code)) or "全国"


class VerificationCode(models.Model):
    """A 6-digit code sent to a mobile number or e-mail address the user wants to bind."""

    class Channel(models.TextChoices):
        MOBILE = "mobile", "手机"
        EMAIL = "email", "电子邮箱"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_codes")
    channel = models.CharField("方式", max_length=6, choices=Channel.choices)
    target = models.CharField("手机号码/邮箱地址", max_length=254, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    failed_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "验证码"
        verbose_name_plural = "验证码"

    def __str__(self) -> str:
        # Masked (lib.masking): the admin's lists, checkbox labels and logs print str().
        return f"{self.get_channel_display()} {mask_contact(self.target)}"

    @staticmethod
    def hash_code(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()


class OutboxMessage(models.Model):
    """What the default sender 'sent': kept so that an intranet without gateways still works."""

    channel = models.CharField("方式", max_length=6, choices=VerificationCode.Channel.choices)
    recipient = models.CharField("收件人", max_length=254)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "发件箱消息"
        verbose_name_plural = "发件箱"

    def __str__(self) -> str:
        # Masked for the same reason as VerificationCode.__str__.
        return f"{mask_contact(self.recipient)}: {self.subject}"


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user} 的令牌（{self.expires_at:%Y-%m-%d %H:%M} 到期）"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
