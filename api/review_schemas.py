"""Schemas of the administrators' review endpoints (api/routers/review.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from api.report_schemas import (
    NO_NUL,
    HardIssueOut,
    IssueOut,
    MethodCode,
    ProductOut,
    QuestionnaireOut,
    Reason,
    StatusCode,
)
from api.report_schemas import IndicatorOut as ReportIndicatorOut

LevelCode = Literal["local", "national"]
ChangeStatusCode = Literal["pending", "approved", "returned"]
# A report id as JSON sends it; the bounds of the id column (a bigger number names no report).
ReportId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Cell = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
CommonReason = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]

# --- Output --------------------------------------------------------------------------------------


class EnterpriseOut(Schema):
    username: str | None = Field(..., description="企业用户的登录账号（企业尚无账号时为 null）")
    name: str
    region: str = Field(..., description="所在地区代码（区县）")
    region_name: str


class WorklistItemOut(Schema):
    id: int
    period: str
    status: StatusCode
    status_label: str
    level: LevelCode = Field(..., description="local 待地方审核 / national 待国家审核")
    level_label: str = Field(..., description="待审核报表所处的审核阶段；其他状态为空")
    enterprise: EnterpriseOut
    submitted_at: datetime | None
    late: bool = Field(..., description="在截止日之后上报")
    has_explanations: bool = Field(..., description="企业填写了原因说明")


class WorklistOut(Schema):
    items: list[WorklistItemOut]
    next: int | None = Field(
        ..., description="下一页的游标：作为 ?after=（或 ?page=）传回；null 表示没有下一页"
    )
    counts: dict[str, int] = Field(
        ..., description="本月份范围内各状态的报表数（不受其他筛选影响）"
    )


class EventOut(Schema):
    action: str
    action_label: str
    from_status: StatusCode | Literal[""]
    to_status: StatusCode
    actor: str
    reason: str
    details: dict[str, Any] = Field(
        ...,
        description="退回：cells 标记的单元格；上报：content 上报内容；修改数据：changes 修改前后",
    )
    ip: str | None = Field(None, description="来源地址")
    at: datetime


class ReviewReportOut(Schema):
    id: int
    period: str
    status: StatusCode
    status_label: str
    level: LevelCode
    level_label: str
    method: MethodCode
    version: int
    submitted_at: datetime | None
    late: bool
    enterprise: EnterpriseOut
    basic_info: dict[str, Any]
    indicators: dict[str, ReportIndicatorOut]
    products: list[ProductOut]
    questionnaires: list[QuestionnaireOut]
    answers: dict[str, Any] = Field(..., description="问卷答案：题目 id → 答案")
    explanations: dict[str, str]
    errors: list[HardIssueOut]
    warnings: list[IssueOut] = Field(..., description="非强制性规则的提示及企业的原因说明")
    events: list[EventOut] = Field(..., description="状态变更记录（审计记录），最早在前")
    common_return_reasons: list[str] = Field(..., description="退回时可选的常用原因")


class ReviewStateOut(Schema):
    id: int
    status: StatusCode
    status_label: str
    level: LevelCode
    level_label: str


class RefusedOut(Schema):
    id: str = Field(..., description="请求中所给的报表 id")
    report: str = Field(..., description="报表（企业名称 月份），或不存在时所给的 id")
    message: str


class BatchOut(Schema):
    approved: list[int]
    refused: list[RefusedOut]


class ChangeOut(Schema):
    id: int
    report: int
    period: str
    report_status: StatusCode
    enterprise: EnterpriseOut
    status: ChangeStatusCode
    status_label: str
    old_values: dict[str, Any]
    new_values: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class ChangePageOut(Schema):
    items: list[ChangeOut]
    next: int | None = Field(
        ..., description="下一页的游标：作为 ?after= 传回；null 表示没有下一页"
    )


# --- Input ---------------------------------------------------------------------------------------


class WorklistQuery(Schema):
    """Every filter as text: the router checks each one and answers 400 in the errors format."""

    period: str | None = Field(None, description="报表月份 YYYY-MM，默认当前报表月份")
    status: str | None = Field(
        None, description="报表状态代码，默认 pending（待审核）；all 表示全部状态"
    )
    region: str | None = Field(None, description="地区代码：该地区及其下级的企业")
    industry: str | None = Field(None, description="行业门类字母或 2-4 位行业代码")
    late: str | None = Field(None, description="true 逾期上报 / false 按时上报")
    explained: str | None = Field(None, description="true 有原因说明 / false 无原因说明")
    level: str | None = Field(None, description="local / national：待审核报表的审核层级")
    after: str | None = Field(None, description="游标：上一页返回的 next")
    page: str | None = Field(None, description="同 after（上一页返回的 next）")


class ChangeQuery(Schema):
    status: str | None = Field(None, description="pending（默认）/ approved / returned / all")
    after: str | None = Field(None, description="游标：上一页返回的 next")


class ReturnIn(Schema):
    reason: Reason = Field("", description="退回原因（与所选常用原因合起来不能为空）")
    common: list[CommonReason] = Field(
        default_factory=list, max_length=20, description="所选的常用退回原因"
    )
    cells: list[Cell] = Field(
        default_factory=list,
        max_length=200,
        description='需企业核实的单元格，如 "indicators.revenue.ytd"',
    )


class ReasonIn(Schema):
    reason: Reason = Field("", description="原因（必填）")


class BatchIn(Schema):
    ids: list[ReportId] = Field(..., max_length=500)
