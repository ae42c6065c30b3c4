"""The default indicator catalogue of PRODUCT.md: 13 monthly indicators and 4 quarter-end ones,
in force from 2000-01. Later changes are new rows from a later month (national administrators)."""

from django.db import migrations

# code, name, unit, kind, required, may_be_negative, decimals, quarterly
DEFAULT = [
    ("gross_output", "工业总产值", "千元", "flow", True, False, 3, False),
    ("export_delivery", "出口交货值", "千元", "flow", False, False, 3, False),
    ("electricity", "用电量", "千瓦时", "flow", True, False, 3, False),
    ("capacity_utilization", "生产能力(设备)利用率", "%", "percent", False, False, 2, False),
    ("revenue", "营业收入", "千元", "ytd", True, False, 3, False),
    ("operating_cost", "营业成本", "千元", "ytd", True, False, 3, False),
    ("loan_balance", "期末贷款余额", "千元", "stock", False, False, 3, False),
    ("financial_expense", "财务费用", "千元", "ytd", False, True, 3, False),
    ("receivables", "应收账款", "千元", "stock", False, False, 3, False),
    ("finished_goods", "产成品", "千元", "stock", False, False, 3, False),
    ("total_profit", "利润总额", "千元", "ytd", True, True, 3, False),
    ("taxes_payable", "应交税费", "千元", "ytd", False, True, 3, False),
    ("employees", "从业人员", "人", "stock", True, False, 0, False),
    ("total_assets", "资产总计", "千元", "stock", False, False, 3, True),
    ("total_liabilities", "负债合计", "千元", "stock", False, False, 3, True),
    ("rnd_expense", "研究与试验发展经费支出", "千元", "ytd", False, False, 3, True),
    ("new_product_output", "新产品产值", "千元", "ytd", False, False, 3, True),
]


def create(apps, schema_editor):
    Indicator = apps.get_model("reports", "Indicator")
    for position, row in enumerate(DEFAULT, start=1):
        code, name, unit, kind, required, negative, decimals, quarterly = row
        Indicator.objects.get_or_create(
            code=code,
            effective_from="2000-01",
            defaults={
                "name": name,
                "unit": unit,
                "kind": kind,
                "required": required,
                "may_be_negative": negative,
                "decimals": decimals,
                "position": position * 10,
                "quarterly": quarterly,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("reports", "Indicator").objects.filter(effective_from="2000-01").delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_report_catalogue_audit")]
    operations = [migrations.RunPython(create, remove)]
