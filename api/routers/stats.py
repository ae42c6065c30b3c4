"""填报情况 for administrators (API.md "Administrators"): the same table as the /stats/completion/
page (stats.completion), within the caller's region. Enterprises get 403, a region outside the
caller's scope (or unknown) 404, a malformed month or region code 400 in the errors format."""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from api.schemas import DetailOut, ErrorsOut, RegionOut
from reports.periods import Period, current_report_month
from stats.completion import NOT_IN_SCOPE, REGION_CODE, CompletionRow, completion

router = Router(tags=["统计"])

ADMINS_ONLY = "只有管理员可以查看填报情况。"
PERIOD = re.compile(r"^\d{4}-\d{2}$")


class CompletionFilter(Schema):
    period: str | None = None
    region: str | None = None


class EnterpriseRef(Schema):
    id: int
    name: str
    code: str
    username: str | None
    status: str | None
    status_label: str


class CompletionRowOut(Schema):
    region: RegionOut | None = None
    enterprise: EnterpriseRef | None = None
    enterprises: int
    reported: int
    pending: int
    approved: int
    returned: int
    not_reported: int
    on_time: int
    reporting_rate: float | None
    timeliness_rate: float | None


class CompletionOut(Schema):
    period: str
    region: RegionOut | None
    by_enterprise: bool
    rows: list[CompletionRowOut]
    total: CompletionRowOut


def _error(field: str, message: str) -> Status:
    return Status(400, {"errors": [{"field": field, "code": "invalid", "message": message}]})


def _rate(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _row(row: CompletionRow, label_region: bool) -> dict:
    out: dict = {
        **row.counts(),
        "reporting_rate": _rate(row.reporting_rate),
        "timeliness_rate": _rate(row.timeliness_rate),
    }
    if row.enterprise is not None:
        user = getattr(row.enterprise, "user", None)
        out["enterprise"] = {
            "id": row.enterprise.pk,
            "name": row.enterprise.name,
            "code": row.enterprise.code,
            "username": user.username if user is not None else None,
            "status": row.status,
            "status_label": row.status_label,
        }
    elif label_region and row.region is not None:
        out["region"] = {"code": row.region.code, "name": row.label}
    return out


@router.get(
    "/stats/completion",
    response={200: CompletionOut, 400: ErrorsOut, 401: DetailOut, 403: DetailOut, 404: DetailOut},
    summary="填报情况：下级地区（县级为各企业）的企业数、已填报、待审核、审核通过、审核退回、未填报、按时",
)
def completion_stats(request: HttpRequest, filters: Query[CompletionFilter]):
    user = request.user
    if not getattr(user, "is_administrator", False):
        raise HttpError(403, ADMINS_ONLY)
    if filters.period:
        try:
            if not PERIOD.match(filters.period):
                raise ValueError
            period = Period.parse(filters.period)
        except ValueError:
            return _error("period", "报表月份格式应为 YYYY-MM。")
    else:
        period = current_report_month()
    if filters.region and not REGION_CODE.match(filters.region):
        return _error("region", "地区代码应为 6 位数字。")
    try:
        table = completion(user, period, filters.region)  # type: ignore[arg-type]
    except Http404:
        raise HttpError(404, NOT_IN_SCOPE) from None
    region = table.region
    return {
        "period": str(period),
        "region": {"code": region.code, "name": region.name} if region else None,
        "by_enterprise": table.by_enterprise,
        "rows": [_row(row, True) for row in table.rows],
        "total": _row(table.total, False),
    }
