"""上报导入 in a real browser: the enterprise downloads its data template, fills it (as a user does
in a spreadsheet program), uploads a file with mistakes and sees each one by sheet and cell, then
uploads the corrected file and continues at step 1 of the wizard."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from reports.models import Report
from tests import browser_support
from tests.browser_support import log_in, screenshot
from tests.conftest import PASSWORD, make_enterprise_user, valid_uscc
from tests.test_import_template import good
from tests.xlsx_filling import cell_of, fill

allow_orm_beside_playwright = browser_support.allow_orm_beside_playwright
browser = browser_support.browser
page = browser_support.page
report_catalogue = browser_support.report_catalogue

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def november() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def test_upload_a_bad_file_then_a_good_one(
    page: Page, report_catalogue: None, november: None, tmp_path: Path
) -> None:
    make_enterprise_user("33029997", "宁波康尔企业", valid_uscc("91330211MA2AFKE01"), "330211")
    page.goto("/accounts/login/")
    log_in(page, "33029997", PASSWORD)
    page.locator("nav.sidenav").get_by_role("link", name="上报导入").click()
    expect(page.get_by_role("heading", name="上报导入")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("button", name="下载数据模板").click()
    template = Path(download.value.path()).read_bytes()
    filled = good(template)

    # A file with two mistakes: refused, every mistake named by its cell, nothing saved.
    bad = tmp_path / "数据模板-有错.xlsx"
    bad.write_bytes(
        fill(
            filled,
            indicators={"gross_output": {"current": 5000, "ytd": 900}},
            basic={"postal_code": "3152"},
        )
    )
    page.get_by_label("填报人", exact=False).fill("杨莎莎")
    page.locator("#import-file").set_input_files(bad)
    page.get_by_role("button", name="导入", exact=True).click()
    errors = page.locator(".import-errors")
    expect(errors).to_contain_text("没有保存任何数据")
    ytd = cell_of(template, "主要经济指标", "gross_output", "ytd")
    expect(errors.locator("td.where", has_text=f"主要经济指标!{ytd}")).to_have_count(1)
    expect(errors).to_contain_text("邮政编码应为6位数字")
    screenshot(page, "import-1-errors")
    assert not Report.objects.exists()

    # Not a workbook at all: one clear message next to the file field.
    junk = tmp_path / "照片.xlsx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a workbook")
    page.locator("#import-file").set_input_files(junk)
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator(".file-error")).to_contain_text("不是有效的 Excel 工作簿")

    # The corrected file: saved, and the wizard continues at step 1.
    fixed = tmp_path / "数据模板.xlsx"
    fixed.write_bytes(filled)
    page.locator("#import-file").set_input_files(fixed)
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/2026-10/basic/$"))
    expect(page.locator("body")).to_contain_text("数据已导入")
    screenshot(page, "import-2-done")
    report = Report.objects.get()
    assert report.method == Report.Method.IMPORT
