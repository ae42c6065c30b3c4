"""Numbers the Chinese way, at display only: amounts in 亿元 or 万元 (from the 千元 the reports
carry), electricity in 亿/万千瓦时, people in 万人 or whole 人, percentages and percentage points
with one decimal, rounded half up, "—" where there is no figure. The pages, the Excel exports and
the analysis report all format through here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DASH = "—"
ONE = Decimal("0.1")


@dataclass(frozen=True)
class DisplayUnit:
    label: str
    divisor: Decimal
    places: Decimal = ONE  # decimals shown: none for whole people

    def scale(self, value: Decimal | None) -> Decimal | None:
        return None if value is None else value / self.divisor


# Reported unit → (large display unit, its divisor; small display unit, its divisor).
_SCALES: dict[str, tuple[DisplayUnit, DisplayUnit]] = {
    "千元": (DisplayUnit("亿元", Decimal(100000)), DisplayUnit("万元", Decimal(10))),
    # 千瓦时 is the unit itself (kWh), not thousands of it.
    "千瓦时": (DisplayUnit("亿千瓦时", Decimal(10**8)), DisplayUnit("万千瓦时", Decimal(10**4))),
    "人": (DisplayUnit("万人", Decimal(10000)), DisplayUnit("人", Decimal(1), Decimal(1))),
}


def display_unit(unit: str, magnitude: Decimal | None) -> DisplayUnit:
    """The unit a table or sentence shows a figure in: 亿元 once the largest figure reaches one
    亿, else 万元 (likewise for 千瓦时 and 人); other units as reported."""
    scales = _SCALES.get(unit)
    if scales is None:
        return DisplayUnit(unit, Decimal(1))
    large, small = scales
    if magnitude is not None and abs(magnitude) >= large.divisor:
        return large
    return small


def rounded(value: Decimal | None, places: Decimal = ONE) -> Decimal | None:
    if value is None:
        return None
    result = value.quantize(places, rounding=ROUND_HALF_UP)
    return result + 0  # -0.0 → 0.0


def number(value: Decimal | None, places: Decimal = ONE) -> str:
    result = rounded(value, places)
    return DASH if result is None else f"{result:,}"


def amount(value: Decimal | None, unit: DisplayUnit) -> str:
    """A level in the display unit, e.g. "1,010.1" (亿元); one decimal, none for whole people."""
    return number(unit.scale(value), unit.places)


def percent(value: Decimal | None) -> str:
    result = rounded(value)
    return DASH if result is None else f"{result}%"


def points(value: Decimal | None, signed: bool = True) -> str:
    """A change in percentage points, e.g. "+0.5" / "-1.2" (the header says 百分点)."""
    result = rounded(value)
    if result is None:
        return DASH
    return f"{result:+}" if signed and result != 0 else f"{result}"


def trend_word(value: Decimal | None, up: str = "增长", down: str = "下降") -> str:
    """ "增长 6.0%" / "下降 13.1%" / "持平" for a growth rate, as the monitoring reports say it."""
    result = rounded(value)
    if result is None:
        return "无可比数据"
    if result > 0:
        return f"{up} {result}%"
    if result < 0:
        return f"{down} {-result}%"
    return "持平"


def change_word(value: Decimal | None, up: str = "提高", down: str = "回落") -> str:
    """ "提高 0.5 个百分点" / "回落 1.2 个百分点" / "持平" for a change of a rate."""
    result = rounded(value)
    if result is None:
        return ""
    if result > 0:
        return f"{up} {result} 个百分点"
    if result < 0:
        return f"{down} {-result} 个百分点"
    return "持平"
