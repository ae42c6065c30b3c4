"""The indicator catalogue of a month, and the snapshot a report keeps of it."""

from __future__ import annotations

from typing import Any

from reports.models import Indicator
from reports.periods import Period


def catalogue_for(period: Period) -> list[Indicator]:
    return list(Indicator.objects.effective_in(str(period), period.is_quarter_end))


def report_type_label(period: Period, count: int | None = None) -> str:
    """The home page's 报表类型, e.g. 月度指标 (共13个指标), from the catalogue of that month."""
    if count is None:
        count = Indicator.objects.effective_in(str(period), period.is_quarter_end).count()
    return f"{period.report_type_name} (共{count}个指标)"


def snapshot(indicators: list[Indicator]) -> dict[str, dict[str, Any]]:
    """What a report keeps of its catalogue, so that later changes leave the month as it was."""
    return {
        i.code: {
            "name": i.name,
            "unit": i.unit,
            "kind": i.kind,
            "required": i.required,
            "may_be_negative": i.may_be_negative,
            "decimals": i.decimals,
            "position": i.position,
        }
        for i in indicators
    }


def indicator_counts(periods: list[Period], known: dict[str, int] | None = None) -> dict[str, int]:
    """The size of each month's catalogue in one query (the table is small: read once, count
    per month). `known` (month → size of a report's own snapshot) wins where a report exists."""
    rows = list(Indicator.objects.values_list("effective_from", "retired_from", "quarterly"))
    counts = {}
    for period in periods:
        month = str(period)
        count = (known or {}).get(month)
        if count is None:
            count = sum(
                1
                for start, end, quarterly in rows
                if start <= month
                and (not end or end > month)
                and (period.is_quarter_end or not quarterly)
            )
        counts[month] = count
    return counts


def report_type_labels(
    periods: list[Period], known: dict[str, int] | None = None
) -> dict[str, str]:
    counts = indicator_counts(periods, known)
    return {str(p): report_type_label(p, counts[str(p)]) for p in periods}
