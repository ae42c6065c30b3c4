"""The monthly report: the indicator catalogue (data with effective months), the report of an
enterprise for a month with its status, and the audit trail of every status change."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from directory.models import Enterprise
from lib.models import AppendOnlyModel


class IndicatorQuerySet(models.QuerySet["Indicator"]):
    def effective_in(self, period: str, quarter_end: bool) -> IndicatorQuerySet:
        """The catalogue of a month: rows in force that month, quarter-end rows only in 3/6/9/12."""
        qs = self.filter(effective_from__lte=period).filter(
            models.Q(retired_from="") | models.Q(retired_from__gt=period)
        )
        if not quarter_end:
            qs = qs.filter(quarterly=False)
        return qs.order_by("position", "code")


class Indicator(models.Model):
    """One indicator of the monthly form, in force from `effective_from` (YYYY-MM) until the month
    before `retired_from`. A change is a new row from a later month, so old months keep theirs."""

    class Kind(models.TextChoices):
        FLOW = "flow", "本月及1-本月"
        YTD = "ytd", "仅1-本月"
        STOCK = "stock", "期末值"
        PERCENT = "percent", "单一百分比"

    code = models.SlugField("代码", max_length=40)
    name = models.CharField("指标名称", max_length=50)
    unit = models.CharField("计算单位", max_length=20)
    kind = models.CharField("填报栏目", max_length=8, choices=Kind.choices)
    required = models.BooleanField("必填", default=False)
    may_be_negative = models.BooleanField("可为负数", default=False)
    decimals = models.PositiveSmallIntegerField("小数位数", default=3)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    quarterly = models.BooleanField("仅季末月份", default=False)
    effective_from = models.CharField("起始月份", max_length=7, default="2000-01")
    retired_from = models.CharField("停用月份", max_length=7, blank=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="indicator_unique_code_from"
            )
        ]
        verbose_name = "指标"
        verbose_name_plural = "指标目录"

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）"

    @property
    def has_current(self) -> bool:
        """Whether the 本月 column is filled (flow indicators only); the others carry one value
        in the 1-本月 column, as the manual's table shows."""
        return self.kind == self.Kind.FLOW


class ReportQuerySet(models.QuerySet["Report"]):
    def for_period(self, period: str) -> ReportQuerySet:
        return self.filter(period=period)

    def of(self, enterprise: Enterprise) -> ReportQuerySet:
        return self.filter(enterprise=enterprise)

    def pending(self) -> ReportQuerySet:
        return self.filter(status=Report.Status.PENDING)


class Report(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "编辑"
        PENDING = "pending", "待审核"
        RETURNED = "returned", "审核退回"
        APPROVED = "approved", "审核通过"
        FROZEN = "frozen", "冻结"
        UNFROZEN = "unfrozen", "解除冻结"

    class Method(models.TextChoices):
        ONLINE = "online", "在线填报"
        IMPORT = "import", "上报导入"
        API = "api", "接口报送"

    class ReviewLevel(models.TextChoices):
        LOCAL = "local", "待地方审核"
        NATIONAL = "national", "待国家审核"

    EDITABLE = (Status.DRAFT, Status.RETURNED, Status.UNFROZEN)
    # 已填报 in 填报情况 and the reminders: submitted at least once and not reopened by a change of
    # key information; 编辑, 冻结 and 解除冻结 count as 未填报.
    REPORTED = (Status.PENDING, Status.APPROVED, Status.RETURNED)

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="reports", verbose_name="企业"
    )
    period = models.CharField("报表月份", max_length=7)
    status = models.CharField(
        "报表状态", max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    method = models.CharField(
        "填报方式", max_length=6, choices=Method.choices, default=Method.ONLINE
    )
    # Optimistic lock: every save bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField("版本", default=1)
    basic_info = models.JSONField("企业基本情况", default=dict, blank=True)
    # The indicator definitions this month was filled with (code → definition).
    catalogue = models.JSONField("指标目录快照", default=dict, blank=True)
    submitted_at = models.DateTimeField("填报日期", null=True, blank=True)
    # Who reviews a pending report next: the local administrators of its region, or (after their
    # approval, or where the region has none) the national senior administrators.
    review_level = models.CharField(
        "审核层级", max_length=8, choices=ReviewLevel.choices, default=ReviewLevel.LOCAL
    )
    # Set when a reviewer first acts on a submission: from then on it cannot be withdrawn.
    first_reviewed_at = models.DateTimeField("首次审核时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "enterprise_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period"], name="report_unique_enterprise_period"
            )
        ]
        # The worklist reads a month's reports of a status in id order, 填报情况 counts a month's
        # reports per region by status and date: with the id in the key and the enterprise and
        # date included, both are index scans on PostgreSQL (77 → 0.3 ms and 250 → 54 ms with
        # 100,000 enterprises, docs/benchmarks.md) instead of reading every month's entries.
        indexes = [
            models.Index(
                fields=["period", "status", "id"],
                include=["enterprise", "submitted_at"],
                name="report_period_status_id",
            )
        ]
        verbose_name = "月报"
        verbose_name_plural = "月报"

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def review_stage_label(self) -> str:
        """Where a pending report stands: 待地方审核, 地方已审核, 待国家审核 or 待国家审核."""
        if self.status != self.Status.PENDING:
            return ""
        if self.review_level == self.ReviewLevel.LOCAL:
            return self.ReviewLevel.LOCAL.label
        return "地方已审核, 待国家审核" if self.first_reviewed_at else "待国家审核"


class IndicatorValue(models.Model):
    """The four figures of one indicator in one report (None = not filled)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="values")
    code = models.SlugField(max_length=40)
    current = models.DecimalField("本年本月", max_digits=18, decimal_places=3, null=True)
    ytd = models.DecimalField("本年1-本月", max_digits=18, decimal_places=3, null=True)
    last_year_current = models.DecimalField("上年本月", max_digits=18, decimal_places=3, null=True)
    last_year_ytd = models.DecimalField("上年1-本月", max_digits=18, decimal_places=3, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "code"], name="indicator_value_unique")
        ]
        verbose_name = "指标数据"
        verbose_name_plural = "指标数据"

    def __str__(self) -> str:
        return f"{self.report} {self.code}"


class Explanation(models.Model):
    """The enterprise's reason for a soft rule that failed (原因说明), kept with the report."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="explanations")
    rule = models.SlugField("规则", max_length=60)
    text = models.TextField("原因说明", max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "rule"], name="explanation_unique_rule")
        ]
        verbose_name = "原因说明"
        verbose_name_plural = "原因说明"

    def __str__(self) -> str:
        return f"{self.report} {self.rule}"


class ReportEvent(AppendOnlyModel):
    """One status change of a report, or one change of its content after it was first submitted
    (action "edit", same status before and after, the changes in `details`): who, when, from
    where, what, why. Written once, never changed."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="events")
    action = models.CharField("操作", max_length=16)
    from_status = models.CharField(
        "原状态", max_length=8, choices=Report.Status.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=8, choices=Report.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="操作人"
    )
    reason = models.TextField("原因", blank=True)
    # For a return: the cells the reviewer marked, e.g. {"cells": ["indicators.revenue.ytd"]};
    # for a submission its content; for an edit {"changes": [{path, label, before, after}]}.
    details = models.JSONField("附加信息", default=dict, blank=True)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "状态变更记录"
        verbose_name_plural = "状态变更记录"

    def __str__(self) -> str:
        return f"{self.report} {self.from_status}→{self.to_status}"


class ValidationRule(models.Model):
    """A check of the report, as data: the expression is evaluated by reports.expressions (a safe
    language over indicator columns, never Python eval). Hard rules block saving and submitting;
    soft rules need an explanation (原因说明)."""

    class Severity(models.TextChoices):
        HARD = "hard", "强制性"
        SOFT = "soft", "非强制性"

    code = models.SlugField("规则代码", max_length=60, unique=True)
    indicator = models.SlugField("所属指标", max_length=40, blank=True)
    expression = models.TextField("表达式")
    message = models.CharField("提示信息", max_length=200)
    severity = models.CharField("类型", max_length=4, choices=Severity.choices)
    months = models.CharField(
        "适用月份", max_length=40, blank=True, help_text="逗号分隔的月份数字，空表示每个月。"
    )
    effective_from = models.CharField("起始月份", max_length=7, default="2000-01")
    retired_from = models.CharField("停用月份", max_length=7, blank=True)
    is_active = models.BooleanField("启用", default=True)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = "校验规则"
        verbose_name_plural = "校验规则"

    def __str__(self) -> str:
        return f"{self.code}：{self.message}"


class KeyChangeRequest(models.Model):
    """A change of 企业名称, organisation code or 所属行业 made in step 1, waiting for the national
    senior administrators; the month is frozen meanwhile."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "审核通过"
        RETURNED = "returned", "审核退回"

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="key_changes")
    old_values = models.JSONField("原值")
    new_values = models.JSONField("新值")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField("退回原因", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "关键信息变更申请"
        verbose_name_plural = "关键信息变更申请"

    def __str__(self) -> str:
        return f"{self.report} {self.get_status_display()}"


class ProductLine(models.Model):
    """One row of 企业主要产品产销存月报: production and sales, this year and last, 本月 and 1-本月.
    期末库存量 is derived (生产量 1-本月 − 销售量 1-本月), never stored."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="products")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    name = models.CharField("产品名称", max_length=100)
    code = models.CharField("产品代码", max_length=20, blank=True)
    unit = models.CharField("计量单位", max_length=20)
    production_current = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    production_ytd = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    production_last_year_current = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    production_last_year_ytd = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    sales_current = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    sales_ytd = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    sales_last_year_current = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    sales_last_year_ytd = models.DecimalField(max_digits=18, decimal_places=3, null=True)

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = "产品"
        verbose_name_plural = "主要产品"

    def __str__(self) -> str:
        return self.name

    @property
    def closing_stock(self) -> Decimal | None:
        if self.production_ytd is None or self.sales_ytd is None:
            return None
        return self.production_ytd - self.sales_ytd


class Questionnaire(models.Model):
    """A survey assigned to report months (问卷调查); answered as step 4 of the report."""

    title = models.CharField("问卷名称", max_length=100)
    description = models.TextField("说明", blank=True)
    periods = models.CharField(
        "适用月份", max_length=400, help_text="逗号分隔的报表月份 YYYY-MM，如 2026-10,2026-11。"
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "调查问卷"
        verbose_name_plural = "调查问卷"

    def __str__(self) -> str:
        return self.title

    def applies_to(self, period: str) -> bool:
        return period in {p.strip() for p in self.periods.split(",")}


class Question(models.Model):
    class Type(models.TextChoices):
        SINGLE = "single", "单选"
        MULTIPLE = "multiple", "多选"
        NUMBER = "number", "数值"
        TEXT = "text", "文字"

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField("顺序", default=0)
    text = models.CharField("题目", max_length=300)
    type = models.CharField("题型", max_length=8, choices=Type.choices)
    required = models.BooleanField("必答", default=True)
    # [{"value": "up", "label": "增加"}, ...] for single and multiple choice questions.
    options = models.JSONField("选项", default=list, blank=True)

    class Meta:
        ordering = ["questionnaire", "position", "id"]
        verbose_name = "题目"
        verbose_name_plural = "题目"

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        choice = self.type in (self.Type.SINGLE, self.Type.MULTIPLE)
        options = self.options if isinstance(self.options, list) else None
        well_formed = options is not None and all(
            isinstance(o, dict) and str(o.get("value", "")).strip() and str(o.get("label", ""))
            for o in options
        )
        if choice and (not options or not well_formed):
            raise ValidationError(
                {"options": '选择题须有选项，格式如 [{"value": "up", "label": "增加"}]。'}
            )
        if not choice and options:
            raise ValidationError({"options": "数值题和文字题不需要选项。"})
        if self.pk is not None and self.answers.exists():
            stored = Question.objects.filter(pk=self.pk).values_list("type", flat=True).first()
            if stored is not None and stored != self.type:
                # The answers were counted under their type (analytics counts choices).
                raise ValidationError({"type": "已有企业作答的题目不能修改题型，请新建题目。"})


class Answer(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField("答案")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "question"], name="answer_unique_question")
        ]
        verbose_name = "答案"
        verbose_name_plural = "答案"

    def __str__(self) -> str:
        return f"{self.report} {self.question_id}"
