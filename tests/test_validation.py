"""The validation engine with the default rules of migration 0004, the history it reads, and the
check of reasons given for warnings."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from directory.models import Enterprise
from reports.catalogue import catalogue_for, snapshot
from reports.models import IndicatorValue, Report, ValidationRule
from reports.periods import Period
from reports.validation import (
    History,
    Issue,
    ValidationResult,
    explanation_problem,
    load_history,
    validate,
)

pytestmark = pytest.mark.django_db
D = Decimal
MAY = Period(2024, 5)
JUNE = Period(2024, 6)

Values = dict[str, dict[str, Decimal | None]]


def flow(current: str, ytd: str, ly_current: str, ly_ytd: str) -> dict[str, Decimal | None]:
    return {
        "current": D(current),
        "ytd": D(ytd),
        "last_year_current": D(ly_current),
        "last_year_ytd": D(ly_ytd),
    }


def single(value: str, last_year: str) -> dict[str, Decimal | None]:
    return {"ytd": D(value), "last_year_ytd": D(last_year)}


def complete() -> Values:
    """A plausible May report of all 13 monthly indicators: passes every default rule."""
    return {
        "gross_output": flow("1000", "5000", "900", "4600"),
        "export_delivery": flow("100", "480", "90", "450"),
        "electricity": flow("20000", "98000", "19000", "95000"),
        "capacity_utilization": single("82.5", "80"),
        "revenue": single("5200", "4800"),
        "operating_cost": single("4100", "3900"),
        "loan_balance": single("3000", "3200"),
        "financial_expense": single("12.5", "-3"),
        "receivables": single("800", "760"),
        "finished_goods": single("450", "430"),
        "total_profit": single("-35", "120"),
        "taxes_payable": single("40", "38"),
        "employees": single("120", "118"),
    }


def check(values: Values, period: Period = MAY, history: History | None = None):  # type: ignore[no-untyped-def]
    return validate(values, catalogue_for(period), period, history)


def rules_of(issues: list[Issue]) -> set[tuple[str, str]]:
    return {(i.rule, i.indicator) for i in issues}


def test_a_complete_plausible_report_has_no_errors_or_warnings() -> None:
    result = check(complete())
    assert isinstance(result, ValidationResult)
    assert result.errors == []
    assert result.warnings == []
    assert result.ok


def test_a_missing_required_indicator_is_an_error_naming_it() -> None:
    values = complete()
    values["gross_output"]["current"] = None
    del values["employees"]
    result = check(values)
    assert not result.ok
    assert [(e.rule, e.indicator, e.field) for e in result.errors] == [
        ("required", "gross_output", "current"),
        ("required", "employees", "ytd"),
        ("required", "employees", "last_year_ytd"),
    ]
    assert result.errors[0].message == "工业总产值为必填项，请填写本年本月。"
    assert "从业人员" in result.errors[1].message


def test_an_optional_indicator_may_stay_empty() -> None:
    values = complete()
    del values["export_delivery"], values["loan_balance"], values["capacity_utilization"]
    assert check(values).errors == []


def test_a_negative_revenue_is_an_error() -> None:
    values = complete()
    values["revenue"]["ytd"] = D("-1")
    result = check(values)
    assert ("not-negative", "revenue") in rules_of(result.errors)
    assert "营业收入（本年）不能为负数。" in [e.message for e in result.errors]


def test_a_negative_profit_is_allowed() -> None:
    values = complete()
    values["total_profit"] = single("-500.125", "-20")
    assert check(values).errors == []


def test_a_utilisation_above_100_percent_is_an_error() -> None:
    values = complete()
    values["capacity_utilization"]["ytd"] = D("120")
    result = check(values)
    assert rules_of(result.errors) == {("percent-range", "capacity_utilization")}
    assert result.errors[0].message == "生产能力(设备)利用率（本年）应在0到100之间。"


def test_too_many_decimal_places_is_an_error() -> None:
    values = complete()
    values["revenue"]["ytd"] = D("5200.1234")
    values["employees"]["ytd"] = D("120.5")
    values["capacity_utilization"]["ytd"] = D("82.500")  # trailing zeros are not places
    result = check(values)
    assert [(e.indicator, e.message) for e in result.errors] == [
        ("revenue", "营业收入（本年）最多保留3位小数。"),
        ("employees", "从业人员（本年）应为整数。"),
    ]


def test_an_absurdly_large_number_is_an_error() -> None:
    values = complete()
    values["revenue"]["last_year_ytd"] = D(10) ** 15
    assert rules_of(check(values).errors) == {("too-large", "revenue")}


def test_the_manuals_screenshot_gives_its_two_growth_warnings() -> None:
    values = {
        "gross_output": flow("1", "10", "11", "12"),
        "export_delivery": flow("15", "100", "1", "12"),
        "electricity": flow("1", "10", "1", "12"),
        "capacity_utilization": single("100", "12"),
        "revenue": single("1", "12"),
        "operating_cost": single("21242", "12"),
        "loan_balance": single("12", "121"),
        "financial_expense": single("21.111", "12"),
        "receivables": single("12", "12"),
        "finished_goods": single("21", "12"),
        "total_profit": single("12", "12"),
        "taxes_payable": single("12", "12"),
        "employees": single("12", "12"),
    }
    result = check(values, Period(2016, 9))
    growth = [(w.indicator, w.message) for w in result.warnings if w.rule.endswith("growth-range")]
    assert growth == [
        ("export_delivery", "同比范围应在-100-300"),
        ("operating_cost", "同比范围应在-200-200"),
    ]
    # Our rules see more in these figures than the old platform did.
    assert ("operating_cost-not-above-revenue", "operating_cost") in rules_of(result.warnings)
    assert ("export_delivery-ytd-not-above-gross_output", "export_delivery") in rules_of(
        result.errors
    )


def test_an_operating_cost_above_revenue_is_a_warning() -> None:
    values = complete()
    values["operating_cost"] = single("5300", "4900")
    result = check(values)
    assert result.errors == []
    assert [(w.rule, w.message) for w in result.warnings] == [
        ("operating_cost-not-above-revenue", "营业成本大于营业收入，请核实")
    ]


def test_a_ytd_below_this_month_is_an_error() -> None:
    values = complete()
    values["electricity"]["current"] = D("99000")
    result = check(values)
    assert [(e.rule, e.message) for e in result.errors] == [
        ("electricity-ytd-not-below-current", "1-本月不能小于本月")
    ]


def test_in_january_ytd_must_equal_this_month() -> None:
    values = complete()
    values["gross_output"] = flow("1000", "1000", "900", "900")
    values["electricity"] = flow("20000", "20001", "19000", "19000")
    values["export_delivery"] = flow("100", "100", "90", "90")
    result = check(values, Period(2024, 1))
    assert rules_of(result.errors) == {("electricity-january-ytd-equals-current", "electricity")}


def test_a_ytd_below_last_months_is_an_error_except_for_profit() -> None:
    history = History(previous_ytd={"revenue": D("6000"), "total_profit": D("300")})
    result = check(complete(), history=history)
    assert rules_of(result.errors) == {("revenue-ytd-not-below-last-month", "revenue")}


def test_a_month_far_outside_the_enterprises_history_is_a_warning() -> None:
    history = History(averages={"gross_output": D("200"), "employees": D("125")})
    result = check(complete(), history=history)
    assert [(w.rule, w.message) for w in result.warnings] == [
        ("gross_output-near-own-history", "本月数与近6个月平均值相差3倍以上，请核实")
    ]


def test_explanations_are_carried_onto_their_warnings() -> None:
    values = complete()
    values["operating_cost"] = single("5300", "4900")
    reason = "原材料价格上涨，成本高于收入"
    result = validate(
        values,
        catalogue_for(MAY),
        MAY,
        explanations={"operating_cost-not-above-revenue": reason},
    )
    assert result.warnings[0].explanation == reason
    assert result.unexplained_warnings == []


def test_a_quarter_end_month_requires_nothing_beyond_the_required_flags() -> None:
    assert len(catalogue_for(JUNE)) == 17
    result = check(complete(), JUNE)
    assert result.errors == []
    assert result.warnings == []


def test_a_report_snapshot_is_validated_like_its_catalogue() -> None:
    values = complete()
    values["revenue"]["ytd"] = None
    result = validate(values, snapshot(catalogue_for(MAY)), MAY, History())
    assert rules_of(result.errors) == {("required", "revenue")}


def make_rule(code: str, **fields: str | bool) -> ValidationRule:
    defaults = {
        "indicator": "revenue",
        "expression": "ytd(revenue) < 0",
        "message": "测试规则",
        "severity": ValidationRule.Severity.SOFT,
    }
    return ValidationRule.objects.create(code=code, **{**defaults, **fields})


def test_a_rule_for_quarter_end_months_runs_only_in_those_months() -> None:
    make_rule("test-quarter-end", months="3,6,9,12")
    assert "test-quarter-end" not in {w.rule for w in check(complete(), MAY).warnings}
    assert "test-quarter-end" in {w.rule for w in check(complete(), JUNE).warnings}


def test_a_hard_rule_row_gives_an_error() -> None:
    make_rule("test-hard", severity=ValidationRule.Severity.HARD)
    assert ("test-hard", "revenue") in rules_of(check(complete()).errors)


def test_a_retired_or_inactive_or_future_rule_does_not_run() -> None:
    make_rule("test-retired", retired_from="2024-05")
    make_rule("test-inactive", is_active=False)
    make_rule("test-future", effective_from="2024-06")
    assert check(complete(), MAY).warnings == []
    assert {w.rule for w in check(complete(), Period(2024, 4)).warnings} == {"test-retired"}


def test_a_rule_with_a_broken_expression_is_skipped_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_rule("test-broken", expression="ytd(revenue) >", position=0)
    make_rule("test-attribute", expression="ytd(revenue).real < 0", position=0)
    values = complete()
    values["operating_cost"] = single("5300", "4900")
    with caplog.at_level(logging.WARNING, logger="reports.validation"):
        result = check(values)
    assert [w.rule for w in result.warnings] == ["operating_cost-not-above-revenue"]
    assert "test-broken" in caplog.text
    assert "test-attribute" in caplog.text


def test_a_rule_on_a_quarter_end_indicator_is_quietly_idle_in_other_months(
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_rule("test-rnd", indicator="", expression="ytd(rnd_expense) < 0")
    with caplog.at_level(logging.WARNING, logger="reports.validation"):
        assert check(complete(), MAY).warnings == []
    assert caplog.text == ""


def file_report(enterprise: Enterprise, period: Period, values: Values) -> Report:
    report = Report.objects.create(
        enterprise=enterprise,
        period=str(period),
        status=Report.Status.APPROVED,
        catalogue=snapshot(catalogue_for(period)),
    )
    IndicatorValue.objects.bulk_create(
        IndicatorValue(report=report, code=code, **columns) for code, columns in values.items()
    )
    return report


def test_load_history_reads_the_last_six_months_in_two_queries(
    personas, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    enterprise = personas.ningbo_enterprise.enterprise
    months = [Period(2023, m) for m in (10, 11, 12)] + [Period(2024, m) for m in (1, 2, 3, 4)]
    for n, period in enumerate(months, start=1):
        file_report(
            enterprise,
            period,
            {
                "gross_output": {"current": D(n * 100), "ytd": D(n * 1000)},
                "employees": {"ytd": D(n * 10)},
                "revenue": {"ytd": D(n * 500) if n != 7 else None},
            },
        )
    file_report(enterprise, MAY, {"gross_output": {"current": D(1), "ytd": D(1)}})
    file_report(personas.guangdong_enterprise.enterprise, Period(2024, 4), {})

    with django_assert_max_num_queries(2):
        history = load_history(enterprise, MAY)

    # 2023-10 is the seventh month back: left out of the averages.
    assert history.averages["gross_output"] == D(sum(range(2, 8)) * 100) / 6
    assert history.averages["employees"] == D(sum(range(2, 8)) * 10) / 6
    assert history.previous_ytd["gross_output"] == D(7000)  # April's
    assert history.previous_ytd["revenue"] == D(3000)  # March's: April left it empty
    assert "employees" in history.previous_ytd


def test_load_history_knows_no_earlier_ytd_in_january(personas) -> None:  # type: ignore[no-untyped-def]
    enterprise = personas.ningbo_enterprise.enterprise
    file_report(enterprise, Period(2023, 12), {"gross_output": {"current": D(5), "ytd": D(60)}})
    history = load_history(enterprise, Period(2024, 1))
    assert history.previous_ytd == {}
    assert history.averages == {"gross_output": D(5)}


def test_load_history_of_a_new_enterprise_is_empty(personas) -> None:  # type: ignore[no-untyped-def]
    assert load_history(personas.ningbo_enterprise.enterprise, MAY) == History()


def test_the_history_feeds_the_default_rules(personas) -> None:  # type: ignore[no-untyped-def]
    enterprise = personas.ningbo_enterprise.enterprise
    april = complete()
    april["revenue"]["ytd"] = D("5300")
    file_report(enterprise, Period(2024, 4), april)
    result = check(complete(), history=load_history(enterprise, MAY))
    assert rules_of(result.errors) == {("revenue-ytd-not-below-last-month", "revenue")}


@pytest.mark.parametrize(
    "text",
    ["核实无误", "正常。", "无", "ok", "", "   ", " 核 实 无 误 ！", "经核实，数据无误。", "同上",
     "正常正常正常", "数据核实无误", "核实无误了", "确认无误!!", "已核实。"],
)  # fmt: skip
def test_a_boilerplate_or_too_short_reason_is_refused(text: str) -> None:
    problem = explanation_problem(text)
    assert problem is not None
    assert any("\u4e00" <= c <= "\u9fff" for c in problem)


@pytest.mark.parametrize(
    "text",
    ["本月新接大额出口订单，出口增长较快", "去年同期停产检修，基数低", "新厂区投产，产能扩大"],
)
def test_a_concrete_reason_is_accepted(text: str) -> None:
    assert explanation_problem(text) is None


def test_the_refused_reasons_and_the_minimum_length_are_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REPORT_REFUSED_EXPLANATIONS = ["新厂区投产"]
    settings.REPORT_MIN_EXPLANATION_CHARS = 20
    assert explanation_problem("新厂区投产。") is not None
    assert explanation_problem("核实无误，没有问题啊啊") is not None  # too short now
    assert explanation_problem("核实无误，本月数据确实如此，没有其他问题需要说明的了") is None
