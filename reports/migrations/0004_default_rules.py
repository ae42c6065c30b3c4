"""The default validation rules of PRODUCT.md ("Validation") over the default catalogue, as data
that national administrators can change. The expressions are in the language of
reports.expressions; the built-in checks (required, sign, percent range, decimals) need no row."""

from django.db import migrations

# The default catalogue's kinds (0002), by what the rules need of them.
FLOW = ["gross_output", "export_delivery", "electricity"]
# 1-本月 indicators that cannot be negative; total_profit, financial_expense and taxes_payable can,
# so their 1-本月 may fall from one month to the next and they have no growth range.
YTD_NON_NEGATIVE = ["revenue", "operating_cost", "rnd_expense", "new_product_output"]
STOCK = [
    "loan_balance",
    "receivables",
    "finished_goods",
    "employees",
    "total_assets",
    "total_liabilities",
]
POSITION = {
    code: n * 10
    for n, code in enumerate(
        [
            "gross_output",
            "export_delivery",
            "electricity",
            "capacity_utilization",
            "revenue",
            "operating_cost",
            "loan_balance",
            "financial_expense",
            "receivables",
            "finished_goods",
            "total_profit",
            "taxes_payable",
            "employees",
            "total_assets",
            "total_liabilities",
            "rnd_expense",
            "new_product_output",
        ],
        start=1,
    )
}
QUARTERLY = ["rnd_expense", "new_product_output"]  # prev_ytd is then the last quarter end's
GROWTH_RANGE = {"operating_cost": (-200, 200)}  # the manual's; every other one is -100..300


def rules():
    """(code, indicator, expression, message, severity, months, order within the indicator)."""
    for x in FLOW:
        yield (
            f"{x}-ytd-not-below-current",
            x,
            f"ytd({x}) >= cur({x})",
            "1-本月不能小于本月",
            "hard",
            "",
            1,
        )
        yield (
            f"{x}-january-ytd-equals-current",
            x,
            f"month() != 1 or ytd({x}) == cur({x})",
            "1月份的1-本月应等于本月",
            "hard",
            "",
            2,
        )
    for x in FLOW + YTD_NON_NEGATIVE:
        yield (
            f"{x}-ytd-not-below-last-month",
            x,
            f"ytd({x}) >= prev_ytd({x})",
            "1-本月不能小于上季末的1-本月" if x in QUARTERLY else "1-本月不能小于上月的1-本月",
            "hard",
            "",
            3,
        )
    yield (
        "export_delivery-current-not-above-gross_output",
        "export_delivery",
        "cur(export_delivery) <= cur(gross_output)",
        "出口交货值（本月）不能大于工业总产值（本月）",
        "hard",
        "",
        4,
    )
    yield (
        "export_delivery-ytd-not-above-gross_output",
        "export_delivery",
        "ytd(export_delivery) <= ytd(gross_output)",
        "出口交货值（1-本月）不能大于工业总产值（1-本月）",
        "hard",
        "",
        5,
    )
    for x in FLOW + YTD_NON_NEGATIVE:
        low, high = GROWTH_RANGE.get(x, (-100, 300))
        yield (
            f"{x}-growth-range",
            x,
            f"growth({x}) between {low} and {high}",
            f"同比范围应在{low}-{high}",
            "soft",
            "",
            6,
        )
    yield (
        "operating_cost-not-above-revenue",
        "operating_cost",
        "ytd(operating_cost) <= ytd(revenue)",
        "营业成本大于营业收入，请核实",
        "soft",
        "",
        7,
    )
    # Insolvent enterprises exist: a warning to explain, not a block.
    yield (
        "total_liabilities-not-above-total_assets",
        "total_liabilities",
        "ytd(total_liabilities) <= ytd(total_assets)",
        "负债合计大于资产总计，请核实",
        "soft",
        "3,6,9,12",
        7,
    )
    # Far outside the enterprise's own last 6 months: 本月 for flows, the period-end value for
    # stocks. A zero average (e.g. no exports so far) gives no range to be outside of.
    for x in FLOW:
        yield (
            f"{x}-near-own-history",
            x,
            f"avg6({x}) <= 0 or (cur({x}) <= avg6({x}) * 3 and cur({x}) >= avg6({x}) / 3)",
            "本月数与近6个月平均值相差3倍以上，请核实",
            "soft",
            "",
            8,
        )
    for x in STOCK:
        yield (
            f"{x}-near-own-history",
            x,
            f"avg6({x}) <= 0 or (ytd({x}) <= avg6({x}) * 3 and ytd({x}) >= avg6({x}) / 3)",
            "期末值与近6个月平均值相差3倍以上，请核实",
            "soft",
            "",
            8,
        )


def create(apps, schema_editor):
    ValidationRule = apps.get_model("reports", "ValidationRule")
    for code, indicator, expression, message, severity, months, order in rules():
        ValidationRule.objects.get_or_create(
            code=code,
            defaults={
                "indicator": indicator,
                "expression": expression,
                "message": message,
                "severity": severity,
                "months": months,
                "position": POSITION[indicator] * 10 + order,
            },
        )


def remove(apps, schema_editor):
    codes = [row[0] for row in rules()]
    apps.get_model("reports", "ValidationRule").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_rules_and_key_changes")]
    operations = [migrations.RunPython(create, remove)]
