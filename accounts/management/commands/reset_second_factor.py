"""Unbind a lost authenticator when no other national administrator can (the last one lost their
phone). The account binds a new one at its next login; a security event records the reset."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import second_factor
from accounts.models import User


class Command(BaseCommand):
    help = "解除账户绑定的动态口令验证器（手机丢失时），下次登录时重新绑定。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"没有账户 {options['username']}。")
        if second_factor.reset(user):
            self.stdout.write(f"已解除 {user.username} 的动态口令验证器，下次登录时请重新绑定。")
        else:
            self.stdout.write(f"{user.username} 没有绑定动态口令验证器。")
