"""{% load receipts %}: whether a report has a 回执, for the links to it (reports.receipt)."""

from __future__ import annotations

from django import template

from reports.models import Report
from reports.receipt import has_receipt as _has_receipt

register = template.Library()


@register.filter
def has_receipt(report: Report | None) -> bool:
    return _has_receipt(report)
