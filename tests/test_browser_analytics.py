"""运行监测分析 in a real browser: the national administrator opens the page from the menu, sees
the national picture with its charts (Chinese text rendered in the inline SVG), drills into 浙江省
through htmx, switches the grouping, downloads the table as Excel and opens the analysis report;
the 宁波 administrator sees 宁波市 only. Same launch, skip and fail rules as test_browser.py."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests import browser_support
from tests.browser_support import log_in, screenshot
from tests.conftest import PASSWORD, Personas
from tests.test_analytics_pages import data  # noqa: F401  (the fixture, by name)

allow_orm_beside_playwright = browser_support.allow_orm_beside_playwright
browser = browser_support.browser
page = browser_support.page
report_catalogue = browser_support.report_catalogue

pytestmark = pytest.mark.browser


@pytest.fixture
def figures_loaded(report_catalogue: None, data: Personas) -> Personas:  # noqa: F811
    return data


def test_the_national_administrator_reads_the_picture_and_drills_into_zhejiang(
    page: Page, figures_loaded: Personas
) -> None:
    page.goto("/accounts/login/")
    log_in(page, "admin", PASSWORD)
    page.locator("nav.sidenav").get_by_role("link", name="运行监测分析").click()
    expect(page).to_have_url(re.compile(r"/analytics/$"))
    body = page.locator("#analytics-body")
    expect(body).to_contain_text("统计范围：全国")
    expect(body).to_contain_text("审核通过的报表")
    # The charts are inline SVG whose text is text: the browser renders the Chinese title.
    charts = page.locator(".chart svg")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("text").filter(has_text="营业收入").first).to_be_visible()
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 400
    screenshot(page, "analytics-national")

    body.get_by_role("link", name="浙江省").first.click()
    expect(body).to_contain_text("统计范围：浙江省")
    expect(page).to_have_url(re.compile(r"region=330000"))
    expect(body.locator("table.figures").nth(2)).to_contain_text("宁波市")
    expect(body).not_to_contain_text("广东省")

    body.locator("nav.tabs").get_by_role("link", name="行业门类").click()
    expect(body.locator("nav.tabs a.active")).to_have_text("行业门类")
    expect(body).to_contain_text("C 制造业")

    with page.expect_download() as info:
        body.locator(".figure-table", has_text="按行业门类").get_by_role(
            "link", name="导出 Excel"
        ).click()
    workbook = load_workbook(BytesIO(open(info.value.path(), "rb").read()))
    values = [c for row in workbook.worksheets[0].iter_rows(values_only=True) for c in row]
    assert "C 制造业" in values and "合计" in values
    screenshot(page, "analytics-zhejiang")

    body.get_by_role("link", name="分析报告").click()
    expect(page.locator("h1").first).to_have_text("运行监测分析报告")
    expect(page.locator(".document-preview")).to_contain_text("浙江省")
    expect(page.locator(".document-preview")).to_contain_text("一、总体情况")
    screenshot(page, "analytics-report")


def test_ningbo_reads_ningbo_only(page: Page, figures_loaded: Personas) -> None:
    page.goto("/accounts/login/")
    log_in(page, "ningbo", PASSWORD)
    page.goto("/analytics/?period=2026-10")
    body = page.locator("#analytics-body")
    expect(body).to_contain_text("统计范围：宁波市")
    expect(body).not_to_contain_text("杭州市")
    expect(body).not_to_contain_text("广东省")
    response = page.goto("/analytics/?region=330000")
    assert response is not None and response.status == 404
