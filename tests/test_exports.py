"""The administrators' Excel exports (the worklist, the reports of a month with every indicator)
and the enterprise's 回执: who may download what, exactly the rows in scope, formula-like text
kept as text, the indicator columns and figures, a number of queries that does not grow with the
rows. Time is frozen at 2026-11-10 10:00 in 上海: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from accounts.models import User
from directory.models import Enterprise, Region
from reports.catalogue import catalogue_for, snapshot
from reports.models import Explanation, IndicatorValue, Report
from reports.periods import Period
from reports.services import save_indicators
from reports.workflow import return_report, withdraw_report
from stats import exports
from tests.conftest import PASSWORD, Personas
from tests.test_report_services import flow, indicators
from tests.test_review_pages import submitted

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
OCTOBER = Period(2026, 10)
ON_TIME = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
LATE = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)  # after the deadline day, 2026-11-20
FORMULA_NAMES = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1:A2)"]
WORKLIST = "/review/export.xlsx"
MONTH = "/stats/reports.xlsx"

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def make_enterprise(
    region: str, name: str | None = None, username: str | None = None
) -> Enterprise:
    n = next(_numbers)
    enterprise = Enterprise.objects.create(
        name=name or f"导出企业{n:04d}",
        code_type=Enterprise.CodeType.ORGANIZATION,
        code=f"E{n:08d}",
        region=Region.objects.get(code=region),
        contact_person="张三",
        contact_phone="0574-86601234",
    )
    if username:
        User.objects.create_user(
            username, PASSWORD, user_type=User.Type.ENTERPRISE, enterprise=enterprise
        )
    return enterprise


def make_report(
    enterprise: Enterprise,
    status: str = Report.Status.PENDING,
    submitted_at: dt.datetime | None = ON_TIME,
    gross_output: int = 1000,
    **fields: Any,
) -> Report:
    """A report of 2026-10 with the month's catalogue and a few figures."""
    report = Report.objects.create(
        enterprise=enterprise,
        period=str(OCTOBER),
        status=status,
        submitted_at=submitted_at if status != Report.Status.DRAFT else None,
        catalogue=fields.pop("catalogue", None) or snapshot(catalogue_for(OCTOBER)),
        **fields,
    )
    IndicatorValue.objects.create(
        report=report,
        code="gross_output",
        current=gross_output,
        ytd=Decimal("9000.5"),
        last_year_current=900,
        last_year_ytd=8500,
    )
    IndicatorValue.objects.create(report=report, code="revenue", ytd=9500, last_year_ytd=9000)
    return report


@pytest.fixture
def landscape(personas: Personas) -> dict[str, Report]:
    """宁波 镇海: the persona (pending), four enterprises with formula-like names (pending), one
    approved late, one draft; 杭州 上城: one pending; 广州 天河: the persona (approved)."""
    reports = {
        "ningbo": make_report(personas.ningbo_enterprise.enterprise),
        "approved_late": make_report(
            make_enterprise("330211"), Report.Status.APPROVED, submitted_at=LATE
        ),
        "draft": make_report(make_enterprise("330211"), Report.Status.DRAFT),
        "hangzhou": make_report(make_enterprise("330102")),
        "guangdong": make_report(personas.guangdong_enterprise.enterprise, Report.Status.APPROVED),
    }
    for n, name in enumerate(FORMULA_NAMES):
        reports[name] = make_report(make_enterprise("330211", name, username=f"3302{n:04d}"))
    Explanation.objects.create(report=reports["ningbo"], rule="r1", text="本月新接大额出口订单")
    # Another month never appears.
    Report.objects.create(
        enterprise=reports["hangzhou"].enterprise, period="2026-09", status=Report.Status.PENDING
    )
    return reports


def sheet(response: Any) -> Worksheet:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    content = b"".join(response.streaming_content)
    return load_workbook(BytesIO(content)).active


def records(ws: Worksheet) -> list[dict[str, Any]]:
    """The data rows, keyed by the header of row 1."""
    header, *rows = ws.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def names(ws: Worksheet) -> list[str]:
    return [record["企业名称"] for record in records(ws)]


def download(personas: Personas, persona: str, url: str, **params: str) -> Any:
    return personas.client_for(getattr(personas, persona)).get(url, params)


# --- Who may download what -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [WORKLIST, MONTH])
def test_enterprises_get_404_and_visitors_the_login(
    personas: Personas, landscape: dict, url: str
) -> None:
    assert download(personas, "ningbo_enterprise", url, period="2026-10").status_code == 404
    assert Client().get(url).status_code == 302


def test_guangdong_sees_no_zhejiang_row(personas: Personas, landscape: dict) -> None:
    worklist = sheet(
        download(personas, "guangdong_admin", WORKLIST, period="2026-10", status="all")
    )
    month = sheet(download(personas, "guangdong_admin", MONTH, period="2026-10"))
    assert names(worklist) == names(month) == ["广州明德机械有限公司"]
    # Asking for 浙江 is as unknown as any region outside the scope.
    refused = download(personas, "guangdong_admin", MONTH, period="2026-10", region="330000")
    assert refused.status_code == 404


def test_ningbo_gets_exactly_its_reports(personas: Personas, landscape: dict) -> None:
    ningbo = {
        r.enterprise.name for key, r in landscape.items() if key not in ("hangzhou", "guangdong")
    }
    worklist = sheet(download(personas, "ningbo_admin", WORKLIST, period="2026-10", status="all"))
    month = sheet(download(personas, "ningbo_admin", MONTH, period="2026-10"))
    assert sorted(names(worklist)) == sorted(names(month)) == sorted(ningbo)
    everything = sheet(download(personas, "senior_admin", MONTH, period="2026-10"))
    assert len(names(everything)) == len(landscape)


# --- The worklist --------------------------------------------------------------------------------


def test_worklist_export_has_every_page_of_the_filter(personas: Personas) -> None:
    for _ in range(55):
        make_report(make_enterprise("330211"))
    make_report(make_enterprise("330211"), Report.Status.APPROVED)
    client = personas.client_for(personas.ningbo_admin)
    page = client.get("/review/", {"period": "2026-10"})
    assert len(page.context["rows"]) == 50  # the page shows 50, the export all 55 pending
    rows = records(sheet(client.get(WORKLIST, {"period": "2026-10"})))
    assert len(rows) == 55 and {r["报表状态"] for r in rows} == {"待审核"}
    # The cursor of a later page does not cut the export.
    after = page.context["rows"][-1].pk
    assert len(records(sheet(client.get(WORKLIST, {"period": "2026-10", "after": after})))) == 55


def test_worklist_export_columns(personas: Personas, landscape: dict) -> None:
    rows = records(
        sheet(download(personas, "zhejiang_admin", WORKLIST, period="2026-10", status="all"))
    )
    assert list(rows[0]) == [
        "企业名称",
        "用户ID",
        "统一社会信用代码/组织机构代码",
        "所在地区",
        "报表月份",
        "报表状态",
        "审核层级",
        "填报日期",
        "是否逾期",
        "有无原因说明",
    ]
    by_name = {r["企业名称"]: r for r in rows}
    ningbo = by_name["宁波康尔企业"]
    assert ningbo["用户ID"] == "33029997"
    assert ningbo["统一社会信用代码/组织机构代码"] == personas.ningbo_enterprise.enterprise.code
    assert ningbo["所在地区"] == "浙江省 宁波市 镇海区"
    assert (ningbo["报表月份"], ningbo["报表状态"], ningbo["审核层级"]) == (
        "2026-10",
        "待审核",
        "待地方审核",
    )
    assert ningbo["填报日期"] == dt.datetime(2026, 11, 10, 10, 0)  # Shanghai time
    assert (ningbo["是否逾期"], ningbo["有无原因说明"]) == ("否", "有")
    late = by_name[landscape["approved_late"].enterprise.name]
    assert (late["报表状态"], late["是否逾期"], late["有无原因说明"]) == ("审核通过", "是", "无")
    assert late["用户ID"] is None  # an enterprise without an account
    draft = by_name[landscape["draft"].enterprise.name]
    assert draft["填报日期"] is None and draft["是否逾期"] is None


def test_worklist_export_keeps_to_the_filter(personas: Personas, landscape: dict) -> None:
    approved = download(personas, "zhejiang_admin", WORKLIST, period="2026-10", status="approved")
    assert names(sheet(approved)) == [landscape["approved_late"].enterprise.name]
    hangzhou = download(
        personas, "zhejiang_admin", WORKLIST, period="2026-10", status="all", region="330100"
    )
    assert names(sheet(hangzhou)) == [landscape["hangzhou"].enterprise.name]


def test_worklist_page_links_to_the_export_of_its_filter(
    personas: Personas, landscape: dict
) -> None:
    client = personas.client_for(personas.ningbo_admin)
    html = client.get("/review/", {"period": "2026-10", "status": "approved"}).content.decode()
    assert f"{WORKLIST}?period=2026-10&amp;status=approved" in html
    assert "导出Excel" in html


# --- The reports of a month ----------------------------------------------------------------------


def test_month_export_has_every_indicator_column(personas: Personas, landscape: dict) -> None:
    header = next(
        sheet(download(personas, "ningbo_admin", MONTH, period="2026-10")).iter_rows(
            values_only=True
        )
    )
    assert list(header[:8]) == [
        "企业名称",
        "用户ID",
        "统一社会信用代码/组织机构代码",
        "所在地区",
        "报表月份",
        "报表状态",
        "填报方式",
        "填报日期",
    ]
    figures = list(header[8:])
    assert figures[:5] == [
        "工业总产值 本年本月 (千元)",
        "工业总产值 本年1-本月 (千元)",
        "工业总产值 上年本月 (千元)",
        "工业总产值 上年1-本月 (千元)",
        "出口交货值 本年本月 (千元)",
    ]
    # Indicators with one value a year have no 本月 columns.
    assert "营业收入 本年1-本月 (千元)" in figures and "营业收入 上年1-本月 (千元)" in figures
    assert "营业收入 本年本月 (千元)" not in figures
    assert "从业人员 本年1-本月 (人)" in figures
    catalogue = catalogue_for(OCTOBER)
    flows = sum(1 for i in catalogue if i.kind == "flow")
    assert len(figures) == 4 * flows + 2 * (len(catalogue) - flows) == 32
    assert "资产总计 本年1-本月 (千元)" not in figures  # quarter-end only


def test_month_export_values(personas: Personas, landscape: dict) -> None:
    rows = records(sheet(download(personas, "ningbo_admin", MONTH, period="2026-10")))
    ningbo = next(r for r in rows if r["企业名称"] == "宁波康尔企业")
    assert (ningbo["报表状态"], ningbo["填报方式"]) == ("待审核", "在线填报")
    assert ningbo["填报日期"] == dt.datetime(2026, 11, 10, 10, 0)
    assert ningbo["所在地区"] == "浙江省 宁波市 镇海区"
    assert ningbo["工业总产值 本年本月 (千元)"] == 1000
    assert ningbo["工业总产值 本年1-本月 (千元)"] == 9000.5
    assert ningbo["工业总产值 上年本月 (千元)"] == 900
    assert ningbo["工业总产值 上年1-本月 (千元)"] == 8500
    assert ningbo["营业收入 本年1-本月 (千元)"] == 9500
    assert ningbo["营业收入 上年1-本月 (千元)"] == 9000
    assert ningbo["用电量 本年本月 (千瓦时)"] is None  # not filled


def test_an_indicator_missing_from_the_snapshot_stays_empty(personas: Personas) -> None:
    catalogue = snapshot(catalogue_for(OCTOBER))
    del catalogue["revenue"]
    # A stray value of an indicator the report's month did not have is not exported.
    make_report(personas.ningbo_enterprise.enterprise, catalogue=catalogue)
    (row,) = records(sheet(download(personas, "ningbo_admin", MONTH, period="2026-10")))
    assert row["营业收入 本年1-本月 (千元)"] is None
    assert row["工业总产值 本年本月 (千元)"] == 1000


def test_month_export_by_region_and_status(personas: Personas, landscape: dict) -> None:
    def exported(**params: str) -> list[str]:
        return names(sheet(download(personas, "zhejiang_admin", MONTH, period="2026-10", **params)))

    assert exported(region="330100") == [landscape["hangzhou"].enterprise.name]
    assert exported(status="approved") == [landscape["approved_late"].enterprise.name]
    assert landscape["draft"].enterprise.name not in exported(status="reported")
    assert len(exported(status="reported")) == len(exported()) - 1
    client = personas.client_for(personas.zhejiang_admin)
    assert client.get(MONTH, {"period": "2026-10", "status": "bogus"}).status_code == 404
    assert client.get(MONTH, {"period": "2026-13"}).status_code == 404


def test_values_are_fetched_per_chunk(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4: every report still gets its own figures, one values query per chunk."""
    monkeypatch.setattr(exports, "CHUNK", 4)
    expected = {}
    for n in range(10):
        report = make_report(make_enterprise("330211"), gross_output=100 + n)
        expected[report.enterprise.name] = 100 + n
    client = personas.client_for(personas.ningbo_admin)
    with CaptureQueriesContext(connection) as ctx:
        rows = records(sheet(client.get(MONTH, {"period": "2026-10"})))
    assert {r["企业名称"]: r["工业总产值 本年本月 (千元)"] for r in rows} == expected
    value_queries = [q for q in ctx.captured_queries if "reports_indicatorvalue" in q["sql"]]
    assert len(value_queries) == 3


def test_completion_page_links_to_the_month_export(personas: Personas, landscape: dict) -> None:
    client = personas.client_for(personas.zhejiang_admin)
    html = client.get("/stats/completion/", {"period": "2026-10", "region": "330200"}).content
    assert f"{MONTH}?period=2026-10&amp;region=330200".encode() in html


# --- Text stays text -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [WORKLIST, MONTH])
def test_formula_like_names_come_back_as_text(
    personas: Personas, landscape: dict, url: str
) -> None:
    ws = sheet(download(personas, "ningbo_admin", url, period="2026-10", status="all"))
    cells = {cell.value: cell for (cell, *_) in ws.iter_rows(min_row=2)}
    for name in FORMULA_NAMES:
        cell = cells[name]
        assert cell.data_type == "s" and cell.value == name
        assert cell.quotePrefix  # Excel shows it as typed and never evaluates it


def test_completion_export_keeps_formula_like_names_as_text(personas: Personas) -> None:
    make_report(make_enterprise("330211", '=HYPERLINK("x")'))
    client = personas.client_for(personas.ningbo_admin)
    response = client.get("/stats/completion.xlsx", {"period": "2026-10", "region": "330211"})
    ws = load_workbook(BytesIO(response.content)).active
    cell = next(c for (c, *_) in ws.iter_rows(min_row=3) if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s" and cell.quotePrefix


# --- Queries -------------------------------------------------------------------------------------


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"period": "2026-10", "status": "all"})
        assert len(names(sheet(response))) > 0
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", [WORKLIST, MONTH])
@pytest.mark.parametrize("persona", ["ningbo_admin", "senior_admin"])
def test_query_count_does_not_grow_with_the_rows(
    personas: Personas, url: str, persona: str
) -> None:
    def add(n: int) -> None:
        for i in range(n):
            enterprise = make_enterprise(["330211", "330203"][i % 2], username=f"q{next(_numbers)}")
            make_report(enterprise, [Report.Status.PENDING, Report.Status.APPROVED][i % 2])

    client = personas.client_for(getattr(personas, persona))
    add(3)
    few = queries(client, url)
    add(27)
    assert queries(client, url) == few
    assert few <= 12  # session, user, scope, catalogue, regions, reports, values


# --- 回执 ----------------------------------------------------------------------------------------

RECEIPT = "/reports/2026-10/receipt/"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_no_receipt_before_submission(personas: Personas) -> None:
    client = personas.client_for(personas.ningbo_enterprise)
    assert client.get(RECEIPT).status_code == 404  # nothing started
    save_indicators(personas.ningbo_enterprise, OCTOBER, indicators())
    assert client.get(RECEIPT).status_code == 404  # 编辑
    assert client.get("/reports/2026-13/receipt/").status_code == 404


def test_receipt_of_a_submitted_report(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    response = personas.client_for(personas.ningbo_enterprise).get(RECEIPT)
    assert response.status_code == 200
    html = text(response)
    enterprise = personas.ningbo_enterprise.enterprise
    assert "报送回执" in html and enterprise.name in html
    assert f"统一社会信用代码</th><td>{enterprise.code}" in html
    assert "2026-10" in html and "月度指标 (共13个指标)" in html
    assert "在线填报" in html and "2026-11-10 10:00:00" in html and "待审核" in html
    number = f"HZ20261110100000{report.pk:08d}"
    assert number in html
    # Printed by static/js/site.js, styled by receipt.css (no inline script or style: the CSP).
    assert "data-print" in html and "css/receipt.css" in html
    # The indicator table as submitted: 工业总产值 1000 / 9000 / 900 / 8500.
    assert re.search(
        r"工业总产值</th><td>千元</td>"
        r'<td class="num">1000</td><td class="num">9000</td>'
        r'<td class="num">900</td><td class="num">8500</td>',
        html,
    )
    # Its own stylesheet and script from the platform itself (the CSP forbids inline ones), no
    # other site's: it prints the same on a network without the internet.
    assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', html)
    assert assets and all(a.startswith("/static/") for a in assets)
    # The same number on every print.
    assert number in text(personas.client_for(personas.ningbo_enterprise).get(RECEIPT))


@pytest.mark.parametrize("persona", ["guangdong_enterprise", "ningbo_admin", "senior_admin"])
def test_nobody_else_gets_the_receipt(personas: Personas, persona: str) -> None:
    submitted(personas.ningbo_enterprise)
    assert download(personas, persona, RECEIPT).status_code == 404


def test_receipt_shows_the_submission_not_later_edits(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    report = submitted(user)
    return_report(report, personas.ningbo_admin, "请核实工业总产值")
    save_indicators(user, OCTOBER, indicators(gross_output=flow(2000, 10000, 900, 8500)))
    html = text(personas.client_for(user).get(RECEIPT))
    assert "审核退回" in html
    assert '<td class="num">1000</td><td class="num">9000</td>' in html
    assert '<td class="num">2000</td>' not in html


def test_a_withdrawn_report_has_no_receipt(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    report = submitted(user)
    client = personas.client_for(user)
    assert client.get(RECEIPT).status_code == 200
    withdraw_report(report, user)
    assert client.get(RECEIPT).status_code == 404


def test_history_and_view_link_to_the_receipt(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    client = personas.client_for(user)
    save_indicators(user, OCTOBER, indicators())
    assert RECEIPT not in client.get("/reports/history/").content.decode()
    submitted(user)
    assert RECEIPT in client.get("/reports/history/").content.decode()
    assert RECEIPT in client.get("/reports/2026-10/view/").content.decode()
