"""The reviewers' actions on top of reports.workflow: one approve that knows the level, a return
with the common reasons, and batch approval where each report stands or falls alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404

from accounts.models import User
from reports.models import Report
from reports.workflow import TransitionError, approve_local, approve_report, return_report
from review.selectors import get_report_for_review

COMMON_RETURN_REASONS = (
    "数据与上月差异过大，请核实",
    "累计数小于上月累计数，请核实",
    "同比增速异常，原因说明不充分",
    "营业成本与营业收入关系异常，请核实",
    "从业人员数与上月差异过大，请核实",
    "企业基本信息不完整或有误",
)


def approve(report: Report, actor: User) -> Report:
    """审核通过 at the actor's level: a local administrator passes the report on to national
    review, a national senior administrator accepts it into the national data."""
    if actor.is_local_admin:
        return approve_local(report, actor)
    return approve_report(report, actor)


def compose_reason(common: list[str], text: str) -> str:
    """The reasons picked from the common list (only those) and the reviewer's own words."""
    picked = [r for r in common if r in COMMON_RETURN_REASONS]
    parts = [*picked, text.strip()] if text and text.strip() else picked
    return "；".join(parts)


def send_back(
    report: Report, actor: User, common: list[str], text: str, cells: list[str] | None = None
) -> Report:
    return return_report(report, actor, compose_reason(common, text), cells)


@dataclass
class BatchResult:
    approved: list[Report] = field(default_factory=list)
    # (the id as sent, a label people read, why): clients match refusals by the id they sent.
    refused: list[tuple[str, str, str]] = field(default_factory=list)


def batch_approve(actor: User, ids: list[object]) -> BatchResult:
    """Approve each selected report on its own: a report another reviewer handled meanwhile, or
    one out of scope, is reported back and the others go through."""
    result = BatchResult()
    for pk in dict.fromkeys(ids):
        try:
            report = get_report_for_review(actor, pk)
            result.approved.append(approve(report, actor))
        except Http404:
            result.refused.append((str(pk), str(pk), "报表不存在或不在您的管理范围内。"))
        except TransitionError as exc:
            label = f"{report.enterprise.name} {report.period}"
            result.refused.append((str(pk), label, exc.message))
    return result
