"""The receipt (回执) of a submitted report: what the enterprise submitted and when, under a receipt
number it can quote, on a page made for printing."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from directory.models import Enterprise
from reports.catalogue import report_type_label
from reports.forms import IndicatorTable
from reports.models import Report
from reports.periods import Period
from reports.services import stored_values
from reports.validation import COLUMNS
from reports.workflow import SUBMISSIONS


def has_receipt(report: Report | None) -> bool:
    """Submitted at least once and not withdrawn since (withdrawing clears submitted_at)."""
    if report is None:
        return False
    return report.submitted_at is not None or report.status in Report.REPORTED


def receipt_number(report: Report) -> str:
    """The report id after the submission moment: the same on every print, a new one with each
    resubmission."""
    moment = report.submitted_at
    stamp = timezone.localtime(moment).strftime("%Y%m%d%H%M%S") if moment else "0" * 14
    return f"HZ{stamp}{report.pk:08d}"


def _decimal(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except InvalidOperation:
        return None


def submitted_content(report: Report) -> dict[str, Any] | None:
    """What the latest submission (the enterprise's or an administrator's import) kept in its
    audit entry, or None when it kept nothing."""
    details = (
        report.events.filter(action__in=SUBMISSIONS)
        .order_by("-at", "-id")
        .values_list("details", flat=True)
        .first()
    )
    content = (details or {}).get("content")
    return content if isinstance(content, dict) else None


def receipt_context(report: Report) -> dict[str, Any]:
    """The page's data. Figures and basic information are those of the latest submission (a
    returned report may have been edited since); the stored ones when the audit entry kept no
    content."""
    content = submitted_content(report)
    if content is not None:
        values = {
            code: {column: _decimal(columns.get(column)) for column in COLUMNS}
            for code, columns in (content.get("indicators") or {}).items()
        }
        info = content.get("basic_info") or report.basic_info or {}
    else:
        values = stored_values(report)
        info = report.basic_info or {}
    enterprise = report.enterprise
    code_type = info.get("code_type") or enterprise.code_type
    period = Period.parse(report.period)
    return {
        "report": report,
        "number": receipt_number(report),
        "company": info.get("enterprise_name") or enterprise.name,
        "code_label": Enterprise.CodeType(code_type).label
        if code_type in Enterprise.CodeType.values
        else "机构代码",
        "code": info.get("code") or enterprise.code,
        "type_label": report_type_label(period, len(report.catalogue or {})),
        "submitted_at": timezone.localtime(report.submitted_at) if report.submitted_at else None,
        "table": IndicatorTable(report.catalogue or {}, stored=values),
    }
