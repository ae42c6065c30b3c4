"""Display of the analytics figures: units chosen by magnitude, one decimal, half up, "—"."""

from __future__ import annotations

from decimal import Decimal

from analytics import formatting as fmt


def test_amounts_in_yi_or_wan_by_magnitude() -> None:
    # 千元: 1 亿元 = 100,000 千元, 1 万元 = 10 千元.
    big = fmt.display_unit("千元", Decimal(101_010_000))
    assert big.label == "亿元" and fmt.amount(Decimal(101_010_000), big) == "1,010.1"
    small = fmt.display_unit("千元", Decimal(99_999))
    assert small.label == "万元" and fmt.amount(Decimal(12_345), small) == "1,234.5"
    # 千瓦时 is kWh itself: 1 亿千瓦时 = 10^8.
    assert fmt.display_unit("千瓦时", Decimal(10**8)).label == "亿千瓦时"
    kwh = fmt.display_unit("千瓦时", Decimal(5 * 10**7))
    assert kwh.label == "万千瓦时" and fmt.amount(Decimal(5 * 10**7), kwh) == "5,000.0"
    people = fmt.display_unit("人", Decimal(600))
    assert people.label == "人" and fmt.amount(Decimal(600), people) == "600"
    assert fmt.display_unit("人", Decimal(123_456)).label == "万人"
    assert fmt.display_unit("%", Decimal(77)).label == "%"


def test_rounding_is_half_up_at_display_only() -> None:
    assert fmt.percent(Decimal("6.05")) == "6.1%"
    assert fmt.percent(Decimal("-13.05")) == "-13.1%"
    assert fmt.percent(None) == "—"
    assert fmt.points(Decimal("-0.04")) == "0.0"
    assert fmt.points(Decimal("0.46")) == "+0.5"
    assert fmt.trend_word(Decimal("-13.1")) == "下降 13.1%"
    assert fmt.trend_word(Decimal("0.04")) == "持平"
    assert fmt.trend_word(None) == "无可比数据"
    assert fmt.change_word(Decimal("-0.46")) == "回落 0.5 个百分点"
