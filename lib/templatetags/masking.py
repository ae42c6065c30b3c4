"""Template filters of lib.masking: ``{% load masking %}``, then
``{{ e.contact_phone|mask_phone }}``. Lists use them unconditionally; lib.masking has the rule and
the formats."""

from __future__ import annotations

from django import template

from lib import masking

register = template.Library()

register.filter("mask_mobile", masking.mask_mobile)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_email", masking.mask_email)
register.filter("mask_contact", masking.mask_contact)
