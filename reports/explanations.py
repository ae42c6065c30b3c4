"""Reasons (原因说明) for failed soft rules, stored while the report is being filled (step 2's
【确定】). submit() stores reasons too, but it also submits; this is the plain save.

Belongs in reports.services as `save_explanations`; kept apart until it moves there."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from reports.models import Explanation, Report
from reports.periods import Period
from reports.selectors import get_own_report
from reports.services import FieldError, ReportInputError
from reports.validation import explanation_problem
from reports.workflow import touch_for_edit

RULE_MAX_LENGTH = Explanation._meta.get_field("rule").max_length
TEXT_MAX_LENGTH = 1000


def save_explanations(
    user: User,
    period: Period,
    explanations: dict[str, str],
    *,
    expected_version: int | None = None,
) -> Report:
    """Check every reason (boilerplate and empty reasons are refused) and store them all, or
    none. The month's report must exist: reasons answer rules of values already saved."""
    errors = [
        FieldError(f"explanations.{rule}", "boilerplate", problem)
        for rule, text in explanations.items()
        if (problem := _problem(rule, text))
    ]
    if errors:
        raise ReportInputError(errors)
    report = get_own_report(user, str(period))
    if report is None:
        raise ReportInputError([FieldError("indicators", "required", "请先保存主要经济指标。")])
    with transaction.atomic():
        report = touch_for_edit(report, user, expected_version)
        for rule, text in explanations.items():
            Explanation.objects.update_or_create(
                report=report, rule=rule, defaults={"text": text.strip()}
            )
    return report


def _problem(rule: str, text: object) -> str | None:
    if not isinstance(text, str) or len(rule) > RULE_MAX_LENGTH:
        return "原因说明格式不正确。"
    if len(text.strip()) > TEXT_MAX_LENGTH:
        return f"原因说明不能超过{TEXT_MAX_LENGTH}个字。"
    if "\x00" in text:
        return "原因说明含有无效字符。"
    return explanation_problem(text)
