"""Enterprise size by 统计上大中小微型企业划分办法(2017), from the SizeThreshold table.

The rule of the 办法: 大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；微型企业只须
满足所列指标中的一项即可. So each listed indicator gives the highest tier whose lower bound it
meets, and the enterprise gets the lowest of those tiers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from directory.models import EnterpriseSize, Industry, SizeThreshold

STANDARD_NAME = "《统计上大中小微型企业划分办法(2017)》"

# Smallest last, so that "the lowest tier" is the one with the highest index.
_TIERS = [EnterpriseSize.LARGE, EnterpriseSize.MEDIUM, EnterpriseSize.SMALL, EnterpriseSize.MICRO]


def _tier(threshold: SizeThreshold, value: Decimal) -> EnterpriseSize:
    if value >= threshold.large_min:
        return EnterpriseSize.LARGE
    if value >= threshold.medium_min:
        return EnterpriseSize.MEDIUM
    if value >= threshold.small_min:
        return EnterpriseSize.SMALL
    return EnterpriseSize.MICRO


def _ten_thousand_yuan(thousand_yuan: Decimal | int | None) -> Decimal | None:
    # Reports are kept in 千元, the 办法's bounds are in 万元.
    return None if thousand_yuan is None else Decimal(thousand_yuan) / 10


@dataclass(frozen=True)
class SizeStandard:
    """The thresholds and the division → section map, read once. A bulk caller (the Excel
    import) loads one and asks it for every row; `suggest_size` loads one per call."""

    thresholds: tuple[SizeThreshold, ...]
    section_of_division: dict[str, str]

    @classmethod
    def load(cls) -> SizeStandard:
        divisions = Industry.objects.filter(level=Industry.Level.DIVISION)
        return cls(
            thresholds=tuple(SizeThreshold.objects.all()),
            section_of_division=dict(divisions.values_list("code", "parent_id")),
        )

    def _covering_codes(self, industry_code: str) -> set[str]:
        """The code and every code above it: a group's scope lists sections, divisions or groups,
        each covering everything below it."""
        if not industry_code.isdigit():
            return {industry_code}
        codes = {industry_code[:n] for n in range(2, len(industry_code) + 1)}
        section = self.section_of_division.get(industry_code[:2])
        return codes | {section} if section else codes

    def group_for(self, industry_code: str) -> str | None:
        """The 办法's industry group of an industry code, None if the 办法 does not cover it."""
        covering = self._covering_codes(industry_code.strip().upper())
        best: tuple[int, str] | None = None
        for threshold in self.thresholds:
            for code in threshold.industry_codes.split(";"):
                # The most specific match wins, should a scope ever list a code inside another.
                if code in covering and (best is None or len(code) > best[0]):
                    best = (len(code), threshold.industry_group)
        return best[1] if best else None

    def suggest(
        self,
        industry_code: str,
        employees: Decimal | int | None,
        revenue_thousand: Decimal | int | None,
        assets_thousand: Decimal | int | None,
    ) -> EnterpriseSize | None:
        group = self.group_for(industry_code)
        if group is None:
            return None
        values = {
            SizeThreshold.Indicator.EMPLOYEES: None if employees is None else Decimal(employees),
            SizeThreshold.Indicator.REVENUE: _ten_thousand_yuan(revenue_thousand),
            SizeThreshold.Indicator.ASSETS: _ten_thousand_yuan(assets_thousand),
        }
        tiers: list[EnterpriseSize] = []
        for threshold in self._thresholds_of(group):
            value = values[SizeThreshold.Indicator(threshold.indicator)]
            if value is None:
                return None
            tiers.append(_tier(threshold, value))
        return max(tiers, key=_TIERS.index) if tiers else None

    def _thresholds_of(self, group: str) -> Iterable[SizeThreshold]:
        return (t for t in self.thresholds if t.industry_group == group)


def suggest_size(
    industry_code: str,
    employees: Decimal | int | None,
    revenue_thousand: Decimal | int | None,
    assets_thousand: Decimal | int | None,
) -> EnterpriseSize | None:
    """The size the 办法 gives an enterprise of this industry with these figures (money in 千元);
    None if the industry is outside the 办法 or a figure it needs is missing."""
    return SizeStandard.load().suggest(industry_code, employees, revenue_thousand, assets_thousand)


def size_contradiction(
    declared: str,
    industry_code: str,
    employees: Decimal | int | None,
    revenue_thousand: Decimal | int | None,
    assets_thousand: Decimal | int | None,
) -> str | None:
    """A message for the enterprise when its declared size is not the one the 办法 gives."""
    if declared not in EnterpriseSize.values:
        return None
    suggested = suggest_size(industry_code, employees, revenue_thousand, assets_thousand)
    if suggested is None or suggested == declared:
        return None
    return (
        f"按{STANDARD_NAME}，该企业应为{suggested.label}，"
        f"与填报的{EnterpriseSize(declared).label}不符"
    )
