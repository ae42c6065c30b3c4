"""当期报送 in a real browser: the four steps of the wizard from the basic information to 【上报】,
with the live growth and stock figures, a soft warning explained, product rows added and removed
without reloading, and a questionnaire answered. The same launch, skip and fail rules as
test_browser.py (tests/browser_support.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from directory.cascade import INDUSTRY, REGISTRATION, cascade_values
from directory.models import RegistrationType
from reports.models import Explanation, ProductLine, Question, Questionnaire, Report
from tests import browser_support
from tests.browser_support import log_in, screenshot
from tests.conftest import PASSWORD, make_enterprise_user, valid_uscc

# The shared fixtures, found by pytest under these names.
allow_orm_beside_playwright = browser_support.allow_orm_beside_playwright
browser = browser_support.browser
page = browser_support.page
report_catalogue = browser_support.report_catalogue

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The current report month is 2026-10. The clock ticks on: the browser's timers need it to.
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
REASON = "本月新接海外订单，出口交货值较上年同期大幅增加。"


@pytest.fixture
def november() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def choose(page: Page, label: str, value: str) -> None:
    """Pick a value of a cascade level once htmx has brought the options of that level."""
    select = page.get_by_label(label, exact=True)
    expect(select.locator(f'option[value="{value}"]')).to_have_count(1)
    select.select_option(value=value)


def figure(page: Page, indicator: str, column: str, value: str) -> None:
    page.get_by_label(f"{indicator} {column}", exact=True).fill(value)


def fill_indicators(page: Page) -> None:
    flows = {
        "工业总产值": ("100", "1000", "90", "900"),
        "出口交货值": ("15", "100", "1", "12"),  # 733.33 %: outside −100..300, a soft rule
        "用电量": ("50", "500", "45", "450"),
    }
    for name, values in flows.items():
        for column, value in zip(
            ("本年本月", "本年1-本月", "上年本月", "上年1-本月"), values, strict=True
        ):
            figure(page, name, column, value)
    singles = {
        "营业收入": ("1200", "1100"),
        "营业成本": ("900", "850"),
        "利润总额": ("150", "140"),
        "从业人员": ("120", "118"),
    }
    for name, (this_year, last_year) in singles.items():
        figure(page, name, "本年1-本月", this_year)
        figure(page, name, "上年1-本月", last_year)


def test_an_enterprise_fills_the_whole_report_and_submits_it(
    page: Page, report_catalogue: None, november: None
) -> None:
    make_enterprise_user("33029997", "宁波康尔企业", valid_uscc("91330211MA2AFKE01"), "330211")
    questionnaire = Questionnaire.objects.create(title="数字化应用情况调查", periods="2026-10")
    Question.objects.create(
        questionnaire=questionnaire,
        text="贵企业是否使用工业互联网平台？",
        type=Question.Type.SINGLE,
        options=[{"value": "yes", "label": "是"}, {"value": "no", "label": "否"}],
    )
    registration = RegistrationType.objects.filter(children__isnull=True).first()
    assert registration is not None

    page.goto("/accounts/login/")
    log_in(page, "33029997", PASSWORD)
    page.locator("nav.sidenav").get_by_role("link", name="当期报送").click()

    # Step 1: the enterprise record is there; the industry and registration type are chosen.
    expect(page).to_have_url(re.compile(r"/reports/2026-10/basic/$"))
    expect(page.locator(".report-line")).to_contain_text("填报人：33029997")
    expect(page.get_by_label("企业名称", exact=True)).to_have_value("宁波康尔企业")
    industry = cascade_values(INDUSTRY, "0111")
    for label, name in zip(("一级分类", "二级分类", "三级分类", "四级分类"), industry, strict=True):
        choose(page, label, industry[name])
    chain = cascade_values(REGISTRATION, registration.code)
    for label, name in zip(("注册类型", "二级类型", "三级类型"), chain, strict=False):
        choose(page, label, chain[name])
    page.get_by_label("法人代表", exact=True).fill("王建国")
    page.get_by_label("通讯地址", exact=True).fill("宁波市镇海区临港二路168号")
    page.get_by_label("邮政编码", exact=True).fill("315200")
    page.get_by_label("主营业务/主要产品", exact=True).fill("谷物种植与加工")
    screenshot(page, "wizard-1-basic")
    page.get_by_role("button", name="下一步").click()

    # Step 2: the growth follows the typing; 下一步 finds the soft rule of 出口交货值.
    expect(page).to_have_url(re.compile(r"/reports/2026-10/indicators/$"))
    fill_indicators(page)
    growth = page.locator('tr[data-indicator="export_delivery"] [data-growth]')
    expect(growth).to_have_text("733.33%")
    figure(page, "工业总产值", "本年1-本月", "1000.5")
    expect(page.locator('tr[data-indicator="gross_output"] [data-growth]')).to_have_text("11.17%")
    figure(page, "工业总产值", "上年1-本月", "")
    expect(page.locator('tr[data-indicator="gross_output"] [data-growth]')).to_have_text("")
    figure(page, "工业总产值", "上年1-本月", "900")
    page.get_by_role("button", name="下一步").click()
    warning = page.locator("tr.row-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("同比范围应在-100-300")
    expect(warning.locator("td")).to_have_css("background-color", "rgb(255, 246, 194)")
    screenshot(page, "wizard-2-warning")
    warning.get_by_label("原因说明：").fill(REASON)
    page.get_by_role("button", name="确定", exact=True).click()

    # Step 3: two rows added without reloading, one removed, the stock computed live.
    expect(page).to_have_url(re.compile(r"/reports/2026-10/products/$"))
    assert Explanation.objects.get(rule="export_delivery-growth-range").text == REASON
    page.get_by_role("button", name="新增产品").click()
    expect(page.locator("tbody.product")).to_have_count(1)
    page.get_by_role("button", name="新增产品").click()
    expect(page.locator("tbody.product")).to_have_count(2)
    first, second = page.locator("tbody.product").nth(0), page.locator("tbody.product").nth(1)
    first.get_by_label("产品名称", exact=True).fill("大米")
    first.get_by_label("产品代码", exact=True).fill("0101010000")
    first.get_by_label("计量单位", exact=True).fill("吨")
    first.get_by_label("生产量 本年1-本月", exact=True).fill("120.5")
    first.get_by_label("销售量 本年1-本月", exact=True).fill("100")
    expect(first.locator("[data-stock-total]")).to_have_text("20.5")
    second.get_by_label("产品名称", exact=True).fill("多余的一行")
    screenshot(page, "wizard-3-products")
    second.get_by_role("button", name="删除该产品").click()
    expect(page.locator("tbody.product")).to_have_count(1)
    page.get_by_role("button", name="下一步").click()

    # Step 4: the questionnaire, then 【上报】.
    expect(page).to_have_url(re.compile(r"/reports/2026-10/questionnaires/$"))
    assert list(ProductLine.objects.values_list("name", flat=True)) == ["大米"]
    page.get_by_role("link", name="进入答题").click()
    page.get_by_role("radio", name="是").check()
    screenshot(page, "wizard-4-questionnaire")
    page.get_by_role("button", name="提交答卷").click()
    expect(page.locator("table.questionnaires")).to_contain_text("已答")
    screenshot(page, "wizard-4-list")
    page.get_by_role("button", name="【上报】").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".messages")).to_contain_text("上报成功，报表状态：待审核")
    status_row = page.locator("table.months tr", has=page.locator("th", has_text="报表状态"))
    expect(status_row.locator("td").first).to_have_text("待审核")
    screenshot(page, "wizard-home")
    assert Report.objects.get(period="2026-10").status == Report.Status.PENDING

    page.goto("/reports/2026-10/view/")
    expect(page.locator("body")).to_contain_text("733.33%")
    screenshot(page, "wizard-view")
