"""Schemas of the enterprise report endpoints (api/routers/reports.py).

Figures go out as JSON numbers (`float`; the stored values have at most 3 decimal places) and come
in as JSON numbers or numeric text: the input schemas only fix the shape, the services check every
value and name the field of each error."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from api.schemas import ErrorItem

StatusCode = Literal["draft", "pending", "returned", "approved", "frozen", "unfrozen"]
MethodCode = Literal["online", "import", "api"]
# A figure as sent: a JSON number or numeric text ("1,234.5"); null or "" for not filled.
FigureIn = float | str | None
# Text the database can keep: PostgreSQL refuses NUL characters with an error (a 500). The
# services check names and answers for it, not a product's unit nor a reason (原因说明), whose
# rule code must also fit its column: so these shapes are checked here too.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
RuleCode = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]

# --- Output --------------------------------------------------------------------------------------


class PeriodOut(Schema):
    period: str = Field(..., examples=["2026-10"])
    report_type: Literal["monthly", "quarterly"]
    report_type_label: str
    indicator_count: int
    deadline: date
    status: StatusCode | None
    status_label: str | None


class IndicatorOut(Schema):
    name: str
    unit: str
    kind: Literal["flow", "ytd", "stock", "percent"]
    required: bool
    current: float | None
    ytd: float | None
    last_year_current: float | None
    last_year_ytd: float | None
    growth: float | None = Field(..., description="累计同比增长 %（本年1-本月对上年1-本月）")


class FiguresOut(Schema):
    current: float | None
    ytd: float | None
    last_year_current: float | None
    last_year_ytd: float | None


class ProductOut(Schema):
    name: str
    code: str
    unit: str
    production: FiguresOut
    sales: FiguresOut
    closing_stock: float | None = Field(..., description="期末库存量 = 生产量1-本月 − 销售量1-本月")


class OptionOut(Schema):
    value: str
    label: str


class QuestionOut(Schema):
    id: int
    text: str
    type: Literal["single", "multiple", "number", "text"]
    required: bool
    options: list[OptionOut]


class QuestionnaireOut(Schema):
    id: int
    title: str
    description: str
    answered: bool
    questions: list[QuestionOut]
    answers: dict[str, Any] = Field(..., description="已保存的答案：题目 id → 答案")


class IssueOut(Schema):
    rule: str
    indicator: str
    message: str
    explanation: str


class HardIssueOut(ErrorItem):
    """A hard rule that fails: the error format, plus the rule and its indicator."""

    rule: str
    indicator: str


class ReportOut(Schema):
    period: str
    status: StatusCode | None = Field(..., description="null：本月尚未开始填报（未保存）")
    status_label: str | None
    method: MethodCode | None
    version: int | None = Field(
        ..., description="乐观锁版本：保存时作为 ?version= 传回，报表已被他处修改则 409"
    )
    submitted_at: datetime | None
    basic_info: dict[str, Any]
    indicators: dict[str, IndicatorOut]
    products: list[ProductOut]
    products_carried_over: bool = Field(
        ..., description="本月尚无产品：列出最近一个月的产品（无数值）供填报"
    )
    questionnaires: list[QuestionnaireOut]
    explanations: dict[str, str]
    errors: list[HardIssueOut]
    warnings: list[IssueOut]


class ReportStateOut(Schema):
    period: str
    status: StatusCode
    status_label: str
    method: MethodCode
    version: int
    submitted_at: datetime | None


class SaveOut(ReportStateOut):
    errors: list[HardIssueOut] = []
    warnings: list[IssueOut] = []


class ImportOut(Schema):
    saved: bool = Field(..., description="已保存（只校验时为 false）")
    dry_run: bool
    report: ReportStateOut | None = Field(
        None, description="导入后的报表状态；未保存时为已有报表或空"
    )
    indicators: int = Field(..., description="有数值的指标个数")
    products: int = Field(..., description="主要产品种数")
    warnings: list[IssueOut] = Field(..., description="需在第2步填写原因说明的提示")
    ignored_sheets: list[str] = Field(..., description="模板以外、未导入的工作表")


class ValidationOut(Schema):
    errors: list[HardIssueOut]
    warnings: list[IssueOut]


class ReturnReasonOut(Schema):
    at: datetime
    reason: str


class HistoryItemOut(Schema):
    period: str
    status: StatusCode
    status_label: str
    method: MethodCode
    method_label: str
    submitted_at: datetime | None
    return_reasons: list[ReturnReasonOut]


class KeyChangeOut(Schema):
    detail: str
    fields: list[str]


# --- Input ---------------------------------------------------------------------------------------


class BasicInfoIn(Schema):
    """Step 1. `industry`, `region` and `registration_type` are leaf codes (小类, 区县, last
    level). Every other rule (required fields, formats) is the web form's."""

    enterprise_name: str | None = None
    code_type: str | None = Field(None, description="org 组织机构代码 / uscc 统一社会信用代码")
    code: str | None = None
    legal_representative: str | None = None
    industry: str | None = Field(None, examples=["1311"])
    region: str | None = Field(None, examples=["330211"])
    registration_type: str | None = Field(None, examples=["173"])
    holding_type: str | None = None
    size: str | None = None
    listed: bool | None = None
    stock_code: str | None = None
    address: str | None = None
    postal_code: str | None = None
    website: str | None = None
    contact_person: str | None = None
    phone: str | None = None
    fax: str | None = None
    mobile: str | None = None
    email: str | None = None
    main_business: str | None = None
    confirm_key_change: bool = Field(
        False, description="确认变更企业名称、机构代码或所属行业：本月报表随即冻结，待国家审核"
    )
    version: int | None = Field(
        None, description="同查询参数 ?version=（两者都给时以查询参数为准）"
    )


class FiguresIn(Schema):
    current: FigureIn = None
    ytd: FigureIn = None
    last_year_current: FigureIn = None
    last_year_ytd: FigureIn = None


class ProductIn(Schema):
    name: Text | None = None
    code: Text | None = None
    unit: Text | None = None
    production: FiguresIn | None = None
    sales: FiguresIn | None = None


class AnswersIn(Schema):
    answers: dict[str, Any] = Field(
        ...,
        description=(
            "题目 id → 答案：单选为选项 value，多选为 value 列表，数值题为数字，文字题为文字"
        ),
    )


class SubmitIn(Schema):
    explanations: dict[RuleCode, Reason] = Field(
        default_factory=dict, description="非强制性校验规则代码 → 原因说明"
    )
