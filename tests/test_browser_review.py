"""报表审核 in a real browser: the 宁波 administrator finds a submitted report in the worklist,
reads it and approves it, and approves two reports at once after one confirmation. The same
launch, skip and fail rules as test_browser.py (tests/browser_support.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from reports.models import Report
from tests import browser_support
from tests.browser_support import log_in, screenshot
from tests.conftest import PASSWORD, make_admin, make_enterprise_user, valid_uscc
from tests.test_review_pages import enterprise, pending, submitted

# The shared fixtures, found by pytest under these names.
allow_orm_beside_playwright = browser_support.allow_orm_beside_playwright
browser = browser_support.browser
page = browser_support.page
report_catalogue = browser_support.report_catalogue

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The current report month is 2026-10. The clock ticks on: the browser's timers need it to.
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def november() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def open_worklist(page: Page) -> None:
    page.goto("/accounts/login/")
    log_in(page, "ningbo", PASSWORD)
    page.locator("nav.sidenav").get_by_role("link", name="报表审核").click()
    expect(page).to_have_url(re.compile(r"/review/$"))


def test_the_ningbo_admin_reviews_a_report_from_the_worklist_to_approval(
    page: Page, report_catalogue: None, november: None
) -> None:
    clerk = make_enterprise_user(
        "33029997", "宁波康尔企业", valid_uscc("91330211MA2AFKE01"), "330211"
    )
    make_admin("ningbo", "330200")
    report = submitted(clerk)

    open_worklist(page)
    row = page.locator(f'tr[data-report="{report.pk}"]')
    expect(row).to_contain_text("宁波康尔企业")
    expect(row).to_contain_text("待地方审核")
    expect(page.locator(".status-counts")).to_contain_text("待审核 1")
    row.get_by_role("link", name="审核").click()

    expect(page).to_have_url(re.compile(rf"/review/reports/{report.pk}/$"))
    expect(page.get_by_role("heading", name="2. 企业主要经济指标月报")).to_be_visible()
    expect(page.locator(".previous-months")).to_be_visible()
    screenshot(page, "review-report")
    page.get_by_role("button", name="审核通过").click()

    expect(page.locator(".messages")).to_contain_text("审核通过，当前：地方已审核, 待国家审核")
    expect(page.locator(".report-line .stage")).to_have_text("地方已审核, 待国家审核")
    expect(page.get_by_role("button", name="审核通过")).to_have_count(0)
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert report.review_level == Report.ReviewLevel.NATIONAL


def test_the_ningbo_admin_approves_two_reports_at_once(
    page: Page, report_catalogue: None, november: None
) -> None:
    make_admin("ningbo", "330200")
    first, second = pending(enterprise(1)), pending(enterprise(2))
    other = pending(enterprise(3))

    open_worklist(page)
    page.get_by_label("选择 测试企业1", exact=True).check()
    page.get_by_label("选择 测试企业2", exact=True).check()
    dialogs: list[str] = []

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="批量审核通过").click()

    expect(page.locator(".messages")).to_contain_text("已审核通过 2 份报表")
    screenshot(page, "review-batch")
    assert dialogs == ["确定将选中的报表全部审核通过吗？"]
    for report in (first, second):
        report.refresh_from_db()
        assert report.review_stage_label == "地方已审核, 待国家审核"
    other.refresh_from_db()
    assert other.first_reviewed_at is None
