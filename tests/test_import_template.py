"""上报导入 by an enterprise: the data template of a month, filled in a spreadsheet program and
imported through the same rules as the online forms; errors by sheet and cell, nothing
half-written; the same through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import BytesIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from reports.basic_info import BasicInfoForm
from reports.models import Indicator, IndicatorValue, ProductLine, Report, ReportEvent
from reports.services import save_basic_info, save_indicators
from tests.conftest import Personas
from tests.test_report_services import OCTOBER, basic, indicators
from tests.xlsx_filling import cell_of, fill
from transfer.models import ImportLog

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clerk(personas: Personas) -> Client:
    return personas.client_for(personas.ningbo_enterprise)


def template(client: Client, period: str = "2026-10") -> bytes:
    response = client.get("/transfer/template/", {"period": period})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response.content


def good(content: bytes) -> bytes:
    """A user's filling: this month's figures (上年 columns come pre-filled or are typed)."""
    return fill(
        content,
        basic={
            "legal_representative": "张三",
            "address": "宁波北仑甬清临港二路168号",
            "postal_code": "315200",
            "contact_person": "杨莎莎",
            "mobile": "13805740000",
            "main_business": "粮食加工",
            "registration_type": "173 私营有限责任公司",
            "industry": "1311 稻谷加工",
        },
        indicators=indicators(),
        products=[
            {"name": "大米", "unit": "吨", "production_current": 120, "production_ytd": 1100}
        ],
    )


def upload(client: Client, content: bytes, period: str = "2026-10", **extra: str) -> object:
    data = {
        "period": period,
        "filler": "杨莎莎",
        "file": SimpleUploadedFile("模板.xlsx", content),
        **extra,
    }
    return client.post("/transfer/import/", data)


def test_the_template_is_the_months_catalogue_with_what_is_known(
    clerk: Client, personas: Personas
) -> None:
    content = template(clerk)
    wb = load_workbook(BytesIO(content))
    assert wb.sheetnames[:4] == ["填报说明", "基本情况", "主要经济指标", "产品产销存"]
    assert wb["_版本"].sheet_state == "veryHidden"
    assert wb["代码表"].sheet_state == "hidden"
    ws = wb["主要经济指标"]
    names = [ws.cell(row=r, column=1).value for r in range(3, 3 + Indicator.objects.count())]
    assert "工业总产值 *" in names
    assert ws.protection.sheet is True
    assert ws["C3"].protection.locked is False  # an input cell
    assert ws["A3"].protection.locked is True
    basic_ws = wb["基本情况"]
    assert basic_ws["B3"].value == personas.ningbo_enterprise.enterprise.name
    validations = {str(dv.sqref): dv.type for dv in basic_ws.data_validations.dataValidation}
    assert "list" in validations.values()
    assert any(dv.type == "decimal" for dv in ws.data_validations.dataValidation)


def test_import_saves_the_month_and_continues_at_step_one(
    clerk: Client, personas: Personas
) -> None:
    response = upload(clerk, good(template(clerk)))
    assert response.status_code == 302, response.content.decode().split("<h1>上报导入</h1>")[1][
        -3000:
    ]
    assert response.url == "/reports/2026-10/basic/"
    report = Report.objects.get(enterprise=personas.ningbo_enterprise.enterprise)
    assert (report.status, report.method) == (Report.Status.DRAFT, Report.Method.IMPORT)
    value = IndicatorValue.objects.get(report=report, code="gross_output")
    assert (value.current, value.ytd) == (1000, 9000)
    assert ProductLine.objects.get(report=report).name == "大米"
    assert report.basic_info["legal_representative"] == "张三"
    log = ImportLog.objects.get()
    assert (log.outcome, log.filler, log.period) == ("saved", "杨莎莎", "2026-10")
    page = clerk.get(response.url).content.decode()
    assert "已导入" in page


def test_errors_are_listed_by_sheet_and_cell_and_nothing_is_saved(clerk: Client) -> None:
    content = template(clerk)
    bad = fill(
        good(content),
        indicators={"gross_output": {"current": 5000, "ytd": 900}},
        basic={"postal_code": "31520"},
    )
    response = upload(clerk, bad)
    assert response.status_code == 400
    page = response.content.decode()
    ytd = cell_of(content, "主要经济指标", "gross_output", "ytd")
    assert f"主要经济指标!{ytd}" in page
    assert "基本情况!" in page
    assert "没有保存任何数据" in page
    assert not Report.objects.exists()
    assert ImportLog.objects.get().outcome == "refused"


def test_text_and_spaces_and_full_width_digits(clerk: Client) -> None:
    content = template(clerk)
    bad = fill(good(content), indicators={"gross_output": {"current": "一千", "ytd": " 9,000 "}})
    response = upload(clerk, bad)
    page = response.content.decode()
    current = cell_of(content, "主要经济指标", "gross_output", "current")
    assert f"主要经济指标!{current}" in page and "不是数字" in page
    fine = fill(good(content), indicators={"gross_output": {"current": "１０００", "ytd": "9,000"}})
    assert upload(clerk, fine).status_code == 302
    value = IndicatorValue.objects.get(code="gross_output")
    assert (value.current, value.ytd) == (1000, 9000)


def test_a_dry_run_saves_nothing_and_says_what_would_be_saved(clerk: Client) -> None:
    response = upload(clerk, good(template(clerk)), dry_run="1")
    assert response.status_code == 200
    page = response.content.decode()
    assert "校验通过" in page and "未导入" in page
    assert not Report.objects.exists()
    assert ImportLog.objects.get().outcome == "checked"


def test_a_template_of_another_month_is_refused(clerk: Client) -> None:
    september = good(template(clerk, "2026-09"))
    response = upload(clerk, september, period="2026-10")
    assert response.status_code == 400
    assert "2026-09 月的数据模板" in response.content.decode()
    assert not Report.objects.exists()


def test_a_template_of_another_enterprise_is_refused(personas: Personas) -> None:
    other = personas.client_for(personas.guangdong_enterprise)
    response = upload(personas.client_for(personas.ningbo_enterprise), good(template(other)))
    assert "不是本企业的数据模板" in response.content.decode()


def test_a_template_made_before_the_catalogue_changed_is_refused(clerk: Client) -> None:
    content = good(template(clerk))
    Indicator.objects.filter(code="export_delivery").update(name="出口交货值（新口径）")
    response = upload(clerk, content)
    assert "指标目录已调整" in response.content.decode()


def test_backfill_of_an_earlier_month(clerk: Client, personas: Personas) -> None:
    response = upload(clerk, good(template(clerk, "2026-05")), period="2026-05")
    assert response.status_code == 302
    assert Report.objects.get().period == "2026-05"


def test_a_submitted_month_cannot_be_imported(clerk: Client, personas: Personas) -> None:
    from reports.services import submit

    user = personas.ningbo_enterprise
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(basic(user.enterprise)))
    save_indicators(user, OCTOBER, indicators())
    submit(user, Report.objects.get())
    content = good(template(clerk))
    response = upload(clerk, content)
    assert response.status_code == 409
    assert "待审核" in response.content.decode()


def test_a_changed_key_field_is_refused_with_the_way_to_change_it(clerk: Client) -> None:
    response = upload(
        clerk, fill(good(template(clerk)), basic={"enterprise_name": "新名称有限公司"})
    )
    assert response.status_code == 400
    assert "关键信息不一致" in response.content.decode()
    assert not Report.objects.exists()


def test_import_after_a_return_is_audited_as_an_edit(clerk: Client, personas: Personas) -> None:
    from review.services import send_back
    from tests.test_api_review import submitted

    report = submitted(personas.ningbo_enterprise)
    send_back(report, personas.ningbo_admin, [], "请核对")
    content = fill(good(template(clerk)), indicators={"gross_output": {"ytd": 9100}})
    assert upload(clerk, content).status_code == 302
    edit = ReportEvent.objects.filter(report=report, action="edit").first()
    assert edit is not None
    report.refresh_from_db()
    assert report.method == Report.Method.IMPORT


@pytest.mark.parametrize("who", ["ningbo_admin", "senior_admin"])
def test_the_pages_are_for_enterprises_only(personas: Personas, who: str) -> None:
    client = personas.client_for(getattr(personas, who))
    assert client.get("/transfer/import/").status_code == 404
    assert client.get("/transfer/template/", {"period": "2026-10"}).status_code == 404


@pytest.mark.parametrize("period", ["2024-01", "2026-11", "garbage", ""])
def test_months_outside_the_window_are_404(clerk: Client, period: str) -> None:
    assert clerk.get("/transfer/template/", {"period": period}).status_code == 404


# --- The same through the API ---------------------------------------------------------------------


def api_token(username: str = "33029997") -> dict[str, str]:
    from tests.test_api_review import Api

    return Api(username).headers


def test_api_template_and_import(clerk: Client) -> None:
    api = Client()
    headers = api_token()
    response = api.get("/api/v1/reports/2026-10/template.xlsx", headers=headers)
    assert response.status_code == 200
    content = good(response.content)

    bad = fill(content, indicators={"gross_output": {"current": 5000, "ytd": 900}})
    response = api.post(
        "/api/v1/reports/2026-10/import",
        {"file": SimpleUploadedFile("t.xlsx", bad)},
        headers=headers,
    )
    assert response.status_code == 400
    ytd = cell_of(content, "主要经济指标", "gross_output", "ytd")
    assert {"field": f"主要经济指标!{ytd}", "code": "cell", "message": "1-本月不能小于本月"} in (
        response.json()["errors"]
    )
    assert not Report.objects.exists()

    response = api.post(
        "/api/v1/reports/2026-10/import?dry_run=true",
        {"file": SimpleUploadedFile("t.xlsx", content)},
        headers=headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["saved"] is False and not Report.objects.exists()

    response = api.post(
        "/api/v1/reports/2026-10/import",
        {"file": SimpleUploadedFile("t.xlsx", content), "filler": "杨莎莎"},
        headers=headers,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["saved"] is True
    assert body["report"]["method"] == "import" and body["report"]["status"] == "draft"
    assert body["indicators"] == 7 and body["products"] == 1


def test_api_import_refuses_what_is_not_a_template(clerk: Client, settings) -> None:  # type: ignore[no-untyped-def]
    api = Client()
    headers = api_token()
    response = api.post(
        "/api/v1/reports/2026-10/import",
        {"file": SimpleUploadedFile("t.xlsx", b"not a workbook")},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"
    settings.IMPORT_MAX_BYTES = 100
    response = api.post(
        "/api/v1/reports/2026-10/import",
        {"file": SimpleUploadedFile("t.xlsx", b"x" * 200)},
        headers=headers,
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "文件超过 100 字节，请删除多余内容后重新上传。"


@pytest.mark.parametrize("username", ["ningbo", "admin"])
def test_api_import_is_for_enterprises(personas: Personas, username: str) -> None:
    headers = api_token(username)
    response = Client().get("/api/v1/reports/2026-10/template.xlsx", headers=headers)
    assert response.status_code == 403


def test_the_enterprise_downloads_its_filled_month(clerk: Client, personas: Personas) -> None:
    from tests.test_api_review import submitted

    assert clerk.get("/transfer/report/", {"period": "2026-10"}).status_code == 404
    submitted(personas.ningbo_enterprise)
    response = clerk.get("/transfer/report/", {"period": "2026-10"})
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.content))
    ws = wb["主要经济指标"]
    row = next(r for r in range(3, 30) if ws.cell(row=r, column=8).value == "gross_output")
    assert (ws.cell(row=row, column=3).value, ws.cell(row=row, column=4).value) == (1000, 9000)
    other = personas.client_for(personas.guangdong_enterprise)
    assert other.get("/transfer/report/", {"period": "2026-10"}).status_code == 404
    admin = personas.client_for(personas.ningbo_admin)
    assert admin.get("/transfer/report/", {"period": "2026-10"}).status_code == 404


@pytest.mark.parametrize("period", ["2026-10", "2026-03"])
def test_imported_month_is_submitted_like_one_filled_online(
    clerk: Client, personas: Personas, period: str
) -> None:
    """The manual's way: import, then go on through the wizard and 上报 (here the current month
    and a 补报 month)."""
    from reports.services import submit

    assert upload(clerk, good(template(clerk, period)), period=period).status_code == 302
    assert clerk.get(f"/reports/{period}/indicators/").status_code == 200
    report, _ = submit(personas.ningbo_enterprise, Report.objects.get(period=period))
    assert (report.status, report.method) == (Report.Status.PENDING, Report.Method.IMPORT)
    event = ReportEvent.objects.filter(report=report, action="submit").get()
    assert event.details["content"]["indicators"]["gross_output"]["ytd"] == "9000.000"


def test_an_unreadable_required_cell_is_one_error_not_two(clerk: Client) -> None:
    content = template(clerk)
    response = upload(clerk, fill(good(content), indicators={"gross_output": {"ytd": "abc"}}))
    page = response.content.decode()
    ytd = cell_of(content, "主要经济指标", "gross_output", "ytd")
    assert page.count(f"主要经济指标!{ytd}") == 1
    assert "工业总产值为必填项" not in page


def test_the_size_limit_is_said_in_round_units(clerk: Client, settings) -> None:  # type: ignore[no-untyped-def]
    from transfer.reader import size_limit_message

    settings.IMPORT_MAX_BYTES = 5_000_000
    assert size_limit_message() == "文件超过 4.7 MB，请删除多余内容后重新上传。"
    settings.IMPORT_MAX_BYTES = 1000
    assert "1000 字节" in size_limit_message()
    settings.IMPORT_MAX_BYTES = 300 * 1024
    assert "300 KB" in clerk.get("/transfer/import/").content.decode()
