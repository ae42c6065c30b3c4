"""Enterprise size by 统计上大中小微型企业划分办法(2017). Money is given in 千元 as in the reports;
the 办法's bounds are in 万元."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pytest_django import DjangoAssertNumQueries

from directory.models import EnterpriseSize
from directory.size import SizeStandard, size_contradiction, suggest_size

pytestmark = pytest.mark.usefixtures("reference_data")

LARGE, MEDIUM, SMALL, MICRO = (
    EnterpriseSize.LARGE,
    EnterpriseSize.MEDIUM,
    EnterpriseSize.SMALL,
    EnterpriseSize.MICRO,
)


def wan(amount: int) -> Decimal:
    """An amount of 万元 written in 千元."""
    return Decimal(amount) * 10


def test_an_industrial_enterprise_with_500_staff_and_50000_wan_revenue_is_medium() -> None:
    # The README example: 从业人员 gives 中型, 营业收入 gives 大型, the lower one counts.
    assert suggest_size("3741", 500, wan(50_000), None) == MEDIUM


def test_an_enterprise_is_large_only_when_every_indicator_reaches_the_large_bound() -> None:
    assert suggest_size("3741", 1000, wan(40_000), None) == LARGE
    assert suggest_size("3741", 999, wan(40_000), None) == MEDIUM


def test_an_enterprise_is_micro_as_soon_as_one_indicator_is_below_the_small_bound() -> None:
    assert suggest_size("3741", 19, wan(100_000), None) == MICRO
    assert suggest_size("3741", 5000, wan(299), None) == MICRO
    assert suggest_size("3741", 20, wan(300), None) == SMALL


def test_thousands_of_yuan_are_converted_to_ten_thousands() -> None:
    # 2 000 万元 is the 中型 bound of 工业 营业收入: 19 999 千元 falls short of it.
    assert suggest_size("3741", 500, Decimal("19999"), None) == SMALL
    assert suggest_size("3741", 500, Decimal("20000"), None) == MEDIUM


def test_a_group_with_one_indicator_ignores_the_others() -> None:
    # 其他未列明行业 uses 从业人员 only, 农、林、牧、渔业 营业收入 only.
    assert suggest_size("7320", 150, None, None) == MEDIUM
    assert suggest_size("8511", 9, None, None) == MICRO
    assert suggest_size("7030", 300, None, None) == LARGE
    assert suggest_size("0111", None, wan(600), None) == MEDIUM


def test_construction_is_sized_by_revenue_and_assets() -> None:
    assert suggest_size("4710", 5000, wan(80_000), wan(80_000)) == LARGE
    assert suggest_size("4710", 5000, wan(80_000), wan(4_999)) == SMALL


def test_loading_and_unloading_belongs_to_transport_and_general_storage_to_warehousing() -> None:
    # The same figures, two groups: 591 装卸搬运 is 交通运输业, 592 通用仓储 is 仓储业.
    assert suggest_size("5910", 150, wan(2_000), None) == SMALL
    assert suggest_size("5920", 150, wan(2_000), None) == MEDIUM


def test_a_code_of_any_level_finds_its_group() -> None:
    assert suggest_size("C", 500, wan(50_000), None) == MEDIUM
    assert suggest_size("37", 500, wan(50_000), None) == MEDIUM
    assert suggest_size(" 651 ", 50, wan(500), None) == SMALL


@pytest.mark.parametrize(
    "industry_code",
    ["53", "5311", "J", "6621", "P", "8331", "7040", "9999"],
    ids=["铁路", "高速铁路", "金融业", "商业银行", "教育", "初中", "房地产租赁经营", "unknown"],
)
def test_industries_outside_the_standard_have_no_suggestion(industry_code: str) -> None:
    assert suggest_size(industry_code, 500, wan(50_000), wan(50_000)) is None


def test_a_missing_value_that_the_group_needs_gives_no_suggestion() -> None:
    assert suggest_size("3741", 500, None, wan(50_000)) is None
    assert suggest_size("3741", None, wan(50_000), None) is None


def test_a_suggestion_takes_two_queries(django_assert_num_queries: DjangoAssertNumQueries) -> None:
    with django_assert_num_queries(2):
        suggest_size("3741", 500, wan(50_000), None)


def test_a_loaded_standard_answers_many_enterprises_without_further_queries(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    standard = SizeStandard.load()
    with django_assert_num_queries(0):
        sizes = [standard.suggest(code, 500, wan(50_000), None) for code in ("3741", "5920", "53")]
    assert sizes == [MEDIUM, LARGE, None]
    assert standard.group_for("5910") == "交通运输业"


def test_a_declared_size_that_contradicts_the_standard_gets_a_message() -> None:
    message = size_contradiction(LARGE, "3741", 500, wan(50_000), None)
    assert message == "按《统计上大中小微型企业划分办法(2017)》，该企业应为中型，与填报的大型不符"


def test_a_declared_size_that_agrees_or_cannot_be_checked_gets_no_message() -> None:
    assert size_contradiction(MEDIUM, "3741", 500, wan(50_000), None) is None
    assert size_contradiction(LARGE, "53", 500, wan(50_000), None) is None
    assert size_contradiction(LARGE, "3741", None, wan(50_000), None) is None
    assert size_contradiction("", "3741", 500, wan(50_000), None) is None
