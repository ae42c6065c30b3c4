"""批量导入 by national and provincial administrators: one workbook, one row per enterprise, each
checked and saved on its own (待审核, 上报导入, in the administrator's name), only inside the
administrator's region; a background job with progress and a result file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from directory.codes import org_code_check_char
from directory.models import Enterprise, Region
from jobs.models import Job
from reports.models import IndicatorValue, Report, ReportEvent
from tests.conftest import Personas
from tests.test_report_services import indicators
from transfer.bulk import DATA_SHEET, FIRST_DATA_ROW, KEY_ROW

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
FILLED = {
    "basic.legal_representative": "李四",
    "basic.industry": "1311 稻谷加工",
    "basic.registration_type": "173 私营有限责任公司",
    "basic.address": "杭州市西湖区文三路1号",
    "basic.postal_code": "310000",
    "basic.main_business": "粮食加工",
    "basic.contact_person": "王五",
    "basic.phone": "0571-88888888",
}


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def org_code(n: int) -> str:
    body = f"{n:08d}"
    return body + org_code_check_char(body)


def enterprises(count: int, region: str = "330106", start: int = 1000) -> list[Enterprise]:
    place = Region.objects.get(code=region)
    return Enterprise.objects.bulk_create(
        Enterprise(
            name=f"批量企业{start + n}",
            code_type=Enterprise.CodeType.ORGANIZATION,
            code=org_code(start + n),
            region=place,
            contact_person="王五",
            contact_phone="0571-88888888",
        )
        for n in range(count)
    )


def bulk_template(client: Client, period: str = "2026-10") -> bytes:
    response = client.get("/transfer/bulk/template/", {"period": period})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def fill_rows(content: bytes, change: Any = None) -> bytes:
    """Fill every pre-filled row: basic facts and this month's figures; `change(keys, ws, row,
    code)` may spoil some."""
    wb = load_workbook(BytesIO(content))
    ws = wb[DATA_SHEET]
    keys = {ws.cell(row=KEY_ROW, column=c).value: c for c in range(1, ws.max_column + 1)}
    figures = indicators()
    for row in range(FIRST_DATA_ROW, ws.max_row + 1):
        code = ws.cell(row=row, column=keys["code"]).value
        if not code:
            continue
        for key, value in FILLED.items():
            ws.cell(row=row, column=keys[key], value=value)
        for ind, columns in figures.items():
            for column, value in columns.items():
                if f"ind.{ind}.{column}" in keys:
                    ws.cell(row=row, column=keys[f"ind.{ind}.{column}"], value=value)
        if change:
            change(keys, ws, row, code)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def post(client: Client, content: bytes, **extra: str) -> Any:
    data = {"period": "2026-10", "file": SimpleUploadedFile("批量.xlsx", content), **extra}
    return client.post("/transfer/bulk/", data)


def test_zhejiang_imports_200_enterprises_and_exactly_the_3_bad_rows_are_refused(
    personas: Personas,
) -> None:
    ours = enterprises(200)
    bad = {ours[10].code: "postal", ours[50].code: "ytd", ours[150].code: "text"}

    def spoil(keys: dict[str, int], ws: Any, row: int, code: str) -> None:
        kind = bad.get(code)
        if kind == "postal":
            ws.cell(row=row, column=keys["basic.postal_code"], value="3100")
        elif kind == "ytd":
            ws.cell(row=row, column=keys["ind.gross_output.ytd"], value=10)
        elif kind == "text":
            ws.cell(row=row, column=keys["ind.revenue.ytd"], value="九千五")

    client = personas.client_for(personas.zhejiang_admin)
    content = fill_rows(bulk_template(client), spoil)
    response = post(client, content)
    assert response.status_code == 302
    job = Job.objects.get()
    assert response.url == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.DONE, job.message
    # The template holds every enterprise of 浙江: these 200 and the personas' one.
    zhejiang = Enterprise.objects.filter(region__code__startswith="33").count()
    assert zhejiang == 201
    assert job.summary == {"新建": 201 - 3, "更新": 0, "拒绝": 3}
    assert {p["code"] for p in job.problems} == set(bad)

    reports = Report.objects.filter(enterprise__in=ours)
    assert reports.count() == 197
    assert set(reports.values_list("status", "method")) == {("pending", "import")}
    event = ReportEvent.objects.filter(action="import").first()
    assert event is not None and event.actor == personas.zhejiang_admin
    assert IndicatorValue.objects.filter(report__in=reports, code="gross_output").count() == 197

    page = client.get(response.url).content.decode()
    assert "导入完成" in page and "邮政编码" in page
    assert client.get(f"/jobs/{job.pk}/result/").status_code == 200
    # Nobody else sees the job.
    other = personas.client_for(personas.senior_admin)
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/result/").status_code == 404


def test_rows_outside_the_region_are_refused_as_unknown(personas: Personas) -> None:
    enterprises(2)
    canton = enterprises(1, region="440106", start=5000)[0]
    admin = personas.client_for(personas.senior_admin)
    content = fill_rows(bulk_template(admin))  # every enterprise of the country
    zhejiang = personas.client_for(personas.zhejiang_admin)
    post(zhejiang, content)
    job = Job.objects.get()
    problem = next(p for p in job.problems if p["code"] == canton.code)
    assert problem["message"] == "机构代码在您的管理范围内不存在。"
    assert not Report.objects.filter(enterprise=canton).exists()


def test_existing_months_are_updated_or_refused_by_status(personas: Personas) -> None:
    draft, pending = enterprises(2)
    from reports.catalogue import catalogue_for, snapshot
    from reports.periods import Period

    catalogue = snapshot(catalogue_for(Period(2026, 10)))
    Report.objects.create(enterprise=draft, period="2026-10", catalogue=catalogue)
    Report.objects.create(enterprise=pending, period="2026-10", status="pending")
    client = personas.client_for(personas.zhejiang_admin)
    post(client, fill_rows(bulk_template(client)))
    job = Job.objects.get()
    assert job.summary["更新"] == 1
    message = next(p["message"] for p in job.problems if p["code"] == pending.code)
    assert "待审核" in message
    assert Report.objects.get(enterprise=draft).status == "pending"


def test_a_dry_run_checks_every_row_and_saves_nothing(personas: Personas) -> None:
    enterprises(5)
    client = personas.client_for(personas.zhejiang_admin)
    post(client, fill_rows(bulk_template(client)), dry_run="1")
    job = Job.objects.get()
    assert job.summary["校验通过"] == 6  # and the personas' enterprise of 浙江
    assert not Report.objects.exists()
    assert not ReportEvent.objects.exists()


def test_soft_warnings_need_the_reason_column(personas: Personas) -> None:
    (one,) = enterprises(1)

    def export_jump(keys: dict[str, int], ws: Any, row: int, code: str) -> None:
        if code == one.code:
            ws.cell(row=row, column=keys["ind.export_delivery.current"], value=400)
            ws.cell(row=row, column=keys["ind.export_delivery.ytd"], value=4000)

    client = personas.client_for(personas.zhejiang_admin)
    content = fill_rows(bulk_template(client), export_jump)
    post(client, content)
    problem = next(p for p in Job.objects.get().problems if p["code"] == one.code)
    assert "原因说明" in problem["message"]
    assert not Report.objects.filter(enterprise=one).exists()

    def explained(keys: dict[str, int], ws: Any, row: int, code: str) -> None:
        export_jump(keys, ws, row, code)
        ws.cell(row=row, column=keys["explanation"], value="新接海外订单，出口大幅增长。")

    post(client, fill_rows(bulk_template(client), explained))
    report = Report.objects.get(enterprise=one)
    assert report.status == "pending"
    assert report.explanations.get().text == "新接海外订单，出口大幅增长。"


@pytest.mark.parametrize("who", ["ningbo_admin", "ningbo_enterprise"])
def test_only_national_and_provincial_administrators(personas: Personas, who: str) -> None:
    client = personas.client_for(getattr(personas, who))
    assert client.get("/transfer/bulk/").status_code == 404
    assert client.get("/transfer/bulk/template/", {"period": "2026-10"}).status_code == 404


def test_a_file_that_is_not_a_bulk_workbook_fails_the_job_with_a_message(
    personas: Personas,
) -> None:
    client = personas.client_for(personas.zhejiang_admin)
    response = post(client, b"PK\x03\x04 not really")
    job = Job.objects.get()
    assert job.status == Job.Status.DONE
    assert "损坏" in job.message or "不是" in job.message
    assert "损坏" in client.get(response.url).content.decode() or "不是" in job.message


def test_a_workbook_with_a_damaged_sheet_is_refused_before_any_row_is_saved(
    personas: Personas,
) -> None:
    import zipfile

    enterprises(3)
    client = personas.client_for(personas.zhejiang_admin)
    good = fill_rows(bulk_template(client))
    source = zipfile.ZipFile(BytesIO(good))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]  # cut off in the middle of the rows
            target.writestr(info, data)
    post(client, out.getvalue())
    job = Job.objects.get()
    assert job.status == Job.Status.DONE
    assert "损坏" in job.message
    assert not Report.objects.exists()
