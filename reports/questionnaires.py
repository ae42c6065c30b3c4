"""Questionnaires of a month and the checking of answers, shared by the page and the API."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Prefetch

from reports.models import Question, Questionnaire

MAX_TEXT = 1000


def questionnaires_for(period: str) -> list[Questionnaire]:
    """Active questionnaires assigned to the month, with their questions (2 queries)."""
    candidates = Questionnaire.objects.filter(is_active=True, periods__contains=period)
    candidates = candidates.prefetch_related(
        Prefetch("questions", queryset=Question.objects.order_by("position", "id"))
    )
    return [q for q in candidates if q.applies_to(period)]


def clean_answers(
    questionnaire: Questionnaire, raw: dict[str, Any]
) -> tuple[dict[int, Any], dict[str, str]]:
    """The answers keyed by question id, and errors keyed by question id (as text), in Chinese.
    Unknown question ids are errors too: nothing is silently dropped."""
    questions = {str(q.pk): q for q in questionnaire.questions.all()}
    cleaned: dict[int, Any] = {}
    errors: dict[str, str] = {}
    for key in raw:
        if str(key) not in questions:
            errors[str(key)] = "该题目不属于本问卷。"
    for key, question in questions.items():
        value = raw.get(key, raw.get(int(key)) if key.isdigit() else None)
        if _empty(value):
            if question.required:
                errors[key] = "此题为必答题。"
            continue
        try:
            cleaned[question.pk] = _clean_value(question, value)
        except ValueError as exc:
            errors[key] = str(exc)
    return cleaned, errors


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _clean_value(question: Question, value: Any) -> Any:
    allowed = {str(o["value"]) for o in question.options}
    if question.type == Question.Type.SINGLE:
        if not isinstance(value, str | int) or str(value) not in allowed:
            raise ValueError("请从选项中选择一项。")
        return str(value)
    if question.type == Question.Type.MULTIPLE:
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int) and str(v) in allowed for v in values):
            raise ValueError("请从选项中选择。")
        return sorted({str(v) for v in values})
    if question.type == Question.Type.NUMBER:
        if isinstance(value, bool):
            raise ValueError("请填写数字。")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("请填写数字。") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValueError("数字超出范围。")
        return str(number)
    if not isinstance(value, str):
        raise ValueError("请填写文字。")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"回答不能超过{MAX_TEXT}个字。")
    if "\x00" in text:
        raise ValueError("回答含有无效字符。")
    return text
