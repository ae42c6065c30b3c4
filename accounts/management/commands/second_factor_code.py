"""The code an account's authenticator shows now, for trying the demo without a phone. DEBUG only:
in production nobody but the authenticator may know a code."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP

from accounts import second_factor
from accounts.models import User


class Command(BaseCommand):
    help = "显示账户动态口令验证器当前的6位口令（仅限演示环境 DEBUG=true）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("仅在演示环境（DEBUG=true）中可用。")
        user = User.objects.filter(username=options["username"]).first()
        device = second_factor.device_of(user) if user is not None else None
        if device is None:
            raise CommandError(f"账户 {options['username']} 没有绑定动态口令验证器。")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
