"""Where verification codes go. A sender is any class with

    def send(self, channel: str, recipient: str, subject: str, body: str) -> None

named by dotted path in the settings SMS_SENDER (channel "mobile") and EMAIL_SENDER (channel
"email"). It raises SendError when the message cannot be delivered; the code is then not issued.

An SMS gateway is plugged in by writing such a class around the gateway's client (the gateway's
URL and token are in the settings SMS_GATEWAY_URL / SMS_GATEWAY_TOKEN) and naming it in
SMS_SENDER. Shipped here: OutboxSender (the default; stores the message for the national
administrators' outbox page and logs that it did, never the body, which holds the code) and
SmtpEmailSender (Django's mail)."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from accounts.models import OutboxMessage

logger = logging.getLogger("sme.outbox")


class SendError(Exception):
    pass


class Sender(Protocol):
    def send(self, channel: str, recipient: str, subject: str, body: str) -> None: ...


class OutboxSender:
    def send(self, channel: str, recipient: str, subject: str, body: str) -> None:
        OutboxMessage.objects.create(
            channel=channel, recipient=recipient, subject=subject, body=body
        )
        # Not the body: it holds the code, and logs are read by more people, for longer, than
        # the outbox page (tests/test_log_hygiene.py).
        logger.info("outbox %s → %s: %s", channel, recipient, subject)


class SmtpEmailSender:
    def send(self, channel: str, recipient: str, subject: str, body: str) -> None:
        if channel != "email":
            raise SendError("SMTP 只能发送电子邮件。")
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        except OSError as exc:  # smtplib errors are OSErrors
            logger.warning("mail to %s failed: %s", recipient, exc)
            raise SendError("邮件发送失败，请稍后重试。") from exc


def get_sender(channel: str) -> Sender:
    return import_string(settings.VERIFICATION_SENDERS[channel])()
