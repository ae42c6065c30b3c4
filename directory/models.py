"""Reference tables (regions, industries, registration types, the size standard) and the
enterprises themselves. Region scope everywhere is a code prefix of GB/T 2260."""

from __future__ import annotations

from django.db import models


class Region(models.Model):
    """A province (level 1), city (2) or county (3) with its 6-digit GB/T 2260 code."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        CITY = 2, "地级"
        COUNTY = 3, "县级"

    code = models.CharField("行政区划代码", max_length=6, primary_key=True)
    name = models.CharField("名称", max_length=50)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The code prefix shared by this region and everything below it."""
        return self.code[: {1: 2, 2: 4, 3: 6}[self.level]]

    def ancestor_codes(self) -> list[str]:
        """Codes of this region and the regions above it, outermost first."""
        codes = [self.code[:2] + "0000", self.code[:4] + "00", self.code]
        return list(dict.fromkeys(codes[: self.level]))

    @property
    def full_name(self) -> str:
        """e.g. 浙江省 宁波市 镇海区: parents loaded with the region (select_related) are used as
        they are; the rest of the chain comes in one query."""
        from directory.trees import ancestry

        names = []
        node: Region | None = self
        while node is not None:
            names.append(node.name)
            if node.parent_id is None:
                break
            if not Region.parent.is_cached(node):
                names.extend(n.name for n in reversed(ancestry(Region, node.parent_id)))
                break
            node = node.parent
        return " ".join(reversed(names))


class Industry(models.Model):
    """A class of 国民经济行业分类 GB/T 4754-2017: 门类 (A..T), 大类, 中类 or 小类."""

    class Level(models.IntegerChoices):
        SECTION = 1, "门类"
        DIVISION = 2, "大类"
        GROUP = 3, "中类"
        CLASS = 4, "小类"

    code = models.CharField("行业代码", max_length=4, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    position = models.PositiveIntegerField("顺序", default=0)
    is_active = models.BooleanField("现行", default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = "国民经济行业"
        verbose_name_plural = "国民经济行业"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RegistrationType(models.Model):
    """登记注册类型 with its statistical code, in three levels (100 内资企业 → 140 → 141)."""

    code = models.CharField("代码", max_length=3, primary_key=True)
    name = models.CharField("名称", max_length=50)
    level = models.PositiveSmallIntegerField("级别")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "登记注册类型"
        verbose_name_plural = "登记注册类型"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class HoldingType(models.TextChoices):
    STATE = "1", "国有控股"
    COLLECTIVE = "2", "集体控股"
    PRIVATE = "3", "私人控股"
    HMT = "4", "港澳台商控股"
    FOREIGN = "5", "外商控股"


class EnterpriseSize(models.TextChoices):
    LARGE = "1", "大型"
    MEDIUM = "2", "中型"
    SMALL = "3", "小型"
    MICRO = "4", "微型"


class SizeThreshold(models.Model):
    """One row of 统计上大中小微型企业划分办法(2017): an industry group × indicator."""

    class Indicator(models.TextChoices):
        EMPLOYEES = "X", "从业人员"
        REVENUE = "Y", "营业收入"
        ASSETS = "Z", "资产总额"

    industry_group = models.CharField("行业名称", max_length=30)
    indicator = models.CharField("指标", max_length=1, choices=Indicator.choices)
    unit = models.CharField("单位", max_length=4)
    large_min = models.DecimalField("大型下限", max_digits=12, decimal_places=0)
    medium_min = models.DecimalField("中型下限", max_digits=12, decimal_places=0)
    small_min = models.DecimalField("小型下限", max_digits=12, decimal_places=0)
    industry_codes = models.CharField("行业范围 (GB/T 4754 代码, 分号分隔)", max_length=200)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["industry_group", "indicator"], name="size_threshold_unique_group_indicator"
            )
        ]
        verbose_name = "企业规模划分标准"
        verbose_name_plural = "企业规模划分标准"

    def __str__(self) -> str:
        return f"{self.industry_group} {self.get_indicator_display()}"


class EnterpriseQuerySet(models.QuerySet["Enterprise"]):
    def within(self, region: Region | None) -> EnterpriseQuerySet:
        """Enterprises located in `region` or below it; None means the whole country."""
        if region is None:
            return self
        return self.filter(region__code__startswith=region.prefix)


class Enterprise(models.Model):
    class CodeType(models.TextChoices):
        ORGANIZATION = "org", "组织机构代码"
        USCC = "uscc", "统一社会信用代码"

    name = models.CharField("企业名称", max_length=100)
    code_type = models.CharField("代码类型", max_length=4, choices=CodeType.choices)
    code = models.CharField("机构代码", max_length=18, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name="所在地区")
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, null=True, blank=True, verbose_name="所属行业"
    )
    registration_type = models.ForeignKey(
        RegistrationType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name="注册类型",
    )
    holding_type = models.CharField(
        "控股类型", max_length=1, choices=HoldingType.choices, blank=True
    )
    size = models.CharField("公司规模", max_length=1, choices=EnterpriseSize.choices, blank=True)
    contact_person = models.CharField("联系人", max_length=30)
    contact_phone = models.CharField("联系电话", max_length=20)
    created_at = models.DateTimeField("注册时间", auto_now_add=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name
