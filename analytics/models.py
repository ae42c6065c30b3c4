"""The aggregate of the counted reports (审核通过, and 待审核 apart): additive sums per month,
county and value of one grouping dimension, kept current in the transaction of every status
change (analytics.cube). Every figure of the analytics pages, the API and the analysis report is
a sum of these rows, so a national table reads tens of thousands of rows, not millions.

Amounts are stored in thousandths of the reported unit as integers: sums are exact on SQLite and
PostgreSQL alike, and rounding happens only at display."""

from __future__ import annotations

from django.db import models


class Bucket(models.TextChoices):
    APPROVED = "approved", "审核通过"
    PENDING = "pending", "待审核"


class Dim(models.TextChoices):
    """What a row is keyed by besides the county. ALL is the county itself (region tables and
    trends); INDUSTRY keeps the 大类 (two digits), from which the 门类 is derived."""

    ALL = "all", "地区"
    INDUSTRY = "industry", "行业大类"
    SIZE = "size", "企业规模"
    HOLDING = "holding", "控股类型"
    REGISTRATION = "registration", "登记注册类型"


# The pseudo-indicator whose rows count the reports themselves (企业数).
REPORTS = ""

MEASURES = (
    "n",  # reports with a 1-本月 (or period-end) value
    "total",  # Σ 本年1-本月
    "n_cmp",  # reports with both 本年 and 上年 1-本月: the comparable ones (可比口径)
    "cmp",  # Σ 本年1-本月 over the comparable ones
    "base",  # Σ 上年1-本月 over the comparable ones
    "n_up",  # comparable ones whose figure grew
    "n_neg",  # reports with a negative figure (亏损企业 for 利润总额)
    "neg_total",  # Σ of the negative figures (亏损额)
    "n_cur",  # reports with both 本年 and 上年 本月
    "cur",  # Σ 本年本月 over those
    "cur_base",  # Σ 上年本月 over those
)


class Cell(models.Model):
    period = models.CharField("报表月份", max_length=7)
    indicator = models.CharField("指标", max_length=40, blank=True)
    dim = models.CharField("分组", max_length=12, choices=Dim.choices)
    county = models.CharField("区县代码", max_length=6)
    value = models.CharField("分组取值", max_length=8, blank=True)
    bucket = models.CharField("报表状态", max_length=8, choices=Bucket.choices)
    n = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    n_cmp = models.BigIntegerField(default=0)
    cmp = models.BigIntegerField(default=0)
    base = models.BigIntegerField(default=0)
    n_up = models.BigIntegerField(default=0)
    n_neg = models.BigIntegerField(default=0)
    neg_total = models.BigIntegerField(default=0)
    n_cur = models.BigIntegerField(default=0)
    cur = models.BigIntegerField(default=0)
    cur_base = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "indicator", "dim", "county", "value", "bucket"],
                name="analytics_cell_key",
            )
        ]
        verbose_name = "汇总数据"
        verbose_name_plural = "汇总数据"

    def __str__(self) -> str:
        return f"{self.period} {self.indicator} {self.dim}={self.value} {self.county}"


class OptionCell(models.Model):
    """How many counted reports of a county chose an option of a choice question; the option ""
    counts the reports that answered the question at all."""

    period = models.CharField("报表月份", max_length=7)
    question = models.ForeignKey(
        "reports.Question", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    county = models.CharField("区县代码", max_length=6)
    option = models.CharField("选项", max_length=100, blank=True)
    bucket = models.CharField("报表状态", max_length=8, choices=Bucket.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "question", "county", "option", "bucket"],
                name="analytics_option_key",
            )
        ]
        verbose_name = "问卷汇总"
        verbose_name_plural = "问卷汇总"

    def __str__(self) -> str:
        return f"{self.period} {self.question_id} {self.option} {self.county}"
