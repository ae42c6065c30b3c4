"""运行监测分析 pages, their Excel export and GET /api/v1/stats/aggregates: who may see what,
the numbers shown equal analytics.figures, bad parameters answered in Chinese, query budgets."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from analytics import cube, figures
from directory.models import Enterprise, Region
from jobs.models import Job
from reports.models import IndicatorValue, Report
from reports.periods import Period
from tests.conftest import Personas, valid_uscc

OCTOBER, SEPTEMBER = Period(2026, 10), Period(2026, 9)
# county, industry, revenue (本年, 上年) of October, September
FIRMS = [
    ("330211", "1311", ("1100", "1000"), ("900", "850")),
    ("330203", "1711", ("500", "600"), ("450", "500")),
    ("330106", "1311", ("2000", "1600"), ("1800", "1500")),
    ("440106", "5131", ("7000", "7000"), ("6000", "5000")),
]


@pytest.fixture
def data(personas: Personas) -> Personas:
    for n, (county, industry, october, september) in enumerate(FIRMS):
        e = Enterprise.objects.create(
            name=f"分析企业{n}",
            code_type="uscc",
            code=valid_uscc(f"91{county}MA{n:07d}"),
            region=Region.objects.get(pk=county),
            industry_id=industry,
            contact_person="张三",
            contact_phone="0574-86601234",
        )
        for period, (ytd, last) in ((OCTOBER, october), (SEPTEMBER, september)):
            r = Report.objects.create(
                enterprise=e,
                period=str(period),
                status=Report.Status.APPROVED,
                basic_info={"region": county, "industry": industry},
            )
            IndicatorValue.objects.create(
                report=r, code="revenue", ytd=Decimal(ytd), last_year_ytd=Decimal(last)
            )
            IndicatorValue.objects.create(
                report=r, code="total_profit", ytd=Decimal(-5 * n), last_year_ytd=Decimal(10)
            )
    cube.rebuild([str(OCTOBER), str(SEPTEMBER)])
    return personas


PAGE = reverse("analytics:page")


def test_the_national_administrator_sees_the_country_with_charts(data: Personas) -> None:
    response = data.client_for(data.senior_admin).get(PAGE, {"period": "2026-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "统计范围：<strong>全国</strong>" in html
    assert html.count("<svg") >= 2  # the trend and the bars, inline
    assert "浙江省" in html and "广东省" in html
    # 全国营业收入 10,600 千元 = 1,060.0 万元: (1100+500+2000+7000) vs (1000+600+1600+7000)
    table = figures.aggregate(
        figures.scope_for(data.senior_admin, None),
        OCTOBER,
        figures.indicator_info(OCTOBER, "revenue"),
    )
    assert table.total.now.growth is not None
    assert table.total.now.growth.quantize(Decimal("0.1")) == Decimal("3.9")
    assert '<td class="num">1,060.0</td>' in html and '<td class="num">3.9</td>' in html


def test_drilling_into_a_province_and_a_city(data: Personas) -> None:
    client = data.client_for(data.senior_admin)
    html = client.get(PAGE, {"period": "2026-10", "region": "330000"}).content.decode()
    assert "宁波市" in html and "杭州市" in html and "广东省" not in html
    html = client.get(PAGE, {"period": "2026-10", "region": "330200"}).content.decode()
    assert "海曙区" in html and "北仑区" in html and "杭州市" not in html


def test_ningbo_sees_only_ningbo_everywhere(data: Personas) -> None:
    client = data.client_for(data.ningbo_admin)
    html = client.get(PAGE, {"period": "2026-10"}).content.decode()
    assert "统计范围：<strong>宁波市</strong>" in html
    assert "杭州市" not in html and "广东省" not in html
    for outside in ("330000", "330100", "440000", "110000"):
        assert client.get(PAGE, {"region": outside}).status_code == 404
        assert client.get(reverse("analytics:xlsx"), {"region": outside}).status_code == 404
        assert client.get(reverse("analytics:report"), {"region": outside}).status_code == 404
        response = client.post(reverse("analytics:report_docx"), {"region": outside})
        assert response.status_code == 404
    api = client.get("/api/v1/stats/aggregates", {"period": "2026-10"})
    assert api.status_code == 200
    body = api.json()
    assert body["region"] == {"code": "330200", "name": "宁波市"}
    assert {r["label"] for r in body["rows"] if r["enterprises"]} == {"海曙区", "镇海区"}
    assert body["total"]["current_ytd"] == 1600.0
    api = client.get("/api/v1/stats/aggregates", {"region": "330000"})
    assert api.status_code == 404


def test_enterprises_and_anonymous_users_are_kept_out(data: Personas) -> None:
    enterprise = data.client_for(data.ningbo_enterprise)
    for name in ("analytics:page", "analytics:xlsx", "analytics:report"):
        assert enterprise.get(reverse(name)).status_code == 404
        response = Client().get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert enterprise.get("/api/v1/stats/aggregates").status_code == 403
    assert Client().get("/api/v1/stats/aggregates").status_code == 401


def test_bad_parameters_give_a_page_with_a_message(data: Personas) -> None:
    client = data.client_for(data.senior_admin)
    response = client.get(
        PAGE, {"period": "2026-13", "indicator": "<script>", "group_by": "x", "pending": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "报表月份格式应为 YYYY-MM" in html and "未知的分组方式" in html
    assert "<script>" not in html.split("<body", 1)[1].replace("<script src", "")
    assert client.get(PAGE, {"region": "abc"}).status_code == 404


def test_the_api_answers_the_contract(data: Personas) -> None:
    client = data.client_for(data.senior_admin)
    body = client.get(
        "/api/v1/stats/aggregates",
        {"period": "2026-10", "group_by": "industry", "indicator": "revenue"},
    ).json()
    assert body["group_by"] == "industry" and body["counted"] == "审核通过的报表"
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["C"]["enterprises"] == 3 and rows["F"]["enterprises"] == 1
    # C: (1100+500+2000) vs (1000+600+1600) = +12.5 %; September 3150 vs 2850 = +10.526 %
    assert rows["C"]["growth"] == 12.5
    assert rows["C"]["previous_growth"] == 10.526
    assert rows["C"]["growth_change"] == 1.974
    assert rows["C"]["share_growing"] == pytest.approx(66.667, abs=0.001)
    assert rows["F"]["growth"] == 0.0
    assert body["total"]["enterprises"] == 4
    profit = client.get(
        "/api/v1/stats/aggregates", {"period": "2026-10", "indicator": "total_profit"}
    ).json()
    assert profit["total"]["loss_making"] == 3 and profit["total"]["losses"] == -30.0
    for params, field in (
        ({"group_by": "colour"}, "group_by"),
        ({"indicator": "nope"}, "indicator"),
        ({"period": "2026-1"}, "period"),
        ({"region": "33"}, "region"),
    ):
        response = client.get("/api/v1/stats/aggregates", params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field


def test_the_pending_switch_counts_pending_reports(data: Personas) -> None:
    report = Report.objects.filter(period=str(OCTOBER)).first()
    assert report is not None
    Report.objects.filter(pk=report.pk).update(status=Report.Status.PENDING)
    cube.rebuild([str(OCTOBER)])
    client = data.client_for(data.senior_admin)
    approved = client.get("/api/v1/stats/aggregates", {"period": "2026-10"}).json()
    early = client.get(
        "/api/v1/stats/aggregates", {"period": "2026-10", "include_pending": "true"}
    ).json()
    assert approved["total"]["enterprises"] == 3 and early["total"]["enterprises"] == 4
    assert early["counted"] == "审核通过和待审核的报表"
    html = client.get(PAGE, {"period": "2026-10", "pending": "1"}).content.decode()
    assert "审核通过和待审核的报表" in html


def test_the_excel_export_holds_the_tables_of_the_page(data: Personas) -> None:
    client = data.client_for(data.zhejiang_admin)
    response = client.get(
        reverse("analytics:xlsx"), {"period": "2026-10", "group_by": "region", "table": "group"}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    ws = wb.worksheets[0]
    rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "地区")
    body = {r[0]: r for r in rows[header + 1 :]}
    assert body["宁波市"][1] == 2 and body["杭州市"][1] == 1
    # 宁波市 (1100+500) vs (1000+600): 0 % growth; 杭州市 +25 %: numbers, not text
    assert body["宁波市"][3] == 0 and body["杭州市"][3] == 25
    assert body["合计"][1] == 3
    whole = load_workbook(
        BytesIO(client.get(reverse("analytics:xlsx"), {"period": "2026-10"}).content)
    )
    assert {"主要指标", "趋势", "分组", "地区×行业", "问卷调查"} <= set(whole.sheetnames)


def test_the_page_reads_a_fixed_number_of_queries(
    data: Personas, django_assert_max_num_queries
) -> None:
    client = data.client_for(data.senior_admin)
    client.get(PAGE, {"period": "2026-10"})  # warm the session
    with django_assert_max_num_queries(20):
        assert client.get(PAGE, {"period": "2026-10", "group_by": "section"}).status_code == 200


def test_the_analysis_report_document_is_written_by_a_job(data: Personas) -> None:
    client = data.client_for(data.zhejiang_admin)
    response = client.post(reverse("analytics:report_docx"), {"period": "2026-10"})
    job = Job.objects.get(kind="analysis_report")
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{job.pk}/")
    assert job.params == {"period": "2026-10", "region": "330000", "include_pending": False}
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    download = client.get(reverse("jobs:result", args=[job.pk]))
    assert download.status_code == 200
    assert b"word/document.xml" in b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert client.get(reverse("analytics:report_docx")).status_code == 405
