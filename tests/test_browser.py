"""The foundation as a user meets it, in a real browser: registration with the htmx region cascade,
login by user ID or bound mobile, the notice box of the home page, logout.

Headless Debian chromium driven by Playwright's sync API against pytest-django's live server.
Without chromium the tests are skipped, except where REQUIRE_BROWSER_TESTS=true (CI), where a
missing browser is an error. SCREENSHOTS=1 saves full-page screenshots to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from directory.models import Enterprise
from notices.models import Notice
from tests import browser_support
from tests.browser_support import choose_in_cascade, log_in, screenshot
from tests.conftest import PASSWORD, make_admin, make_enterprise_user, valid_uscc

# The shared fixtures, found by pytest under these names.
allow_orm_beside_playwright = browser_support.allow_orm_beside_playwright
browser = browser_support.browser
page = browser_support.page

pytestmark = pytest.mark.browser

# Characters a USCC may contain (GB 32100-2015): digits and upper case letters without I O S V Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- Steps -------------------------------------------------------------------------------------


def fill_registration(
    page: Page, *, username: str, password: str, confirmation: str, name: str, code: str
) -> None:
    page.goto("/accounts/register/")
    page.get_by_label("用户ID", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_label("确认密码", exact=True).fill(confirmation)
    page.get_by_label("企业名称", exact=True).fill(name)
    page.get_by_role("radio", name="统一社会信用代码").check()
    page.get_by_label("机构代码", exact=True).fill(code)
    choose_in_cascade(page, "省", "浙江省")
    choose_in_cascade(page, "市", "宁波市")
    choose_in_cascade(page, "区县", "镇海区")
    page.get_by_label("联系人", exact=True).fill("王建国")
    page.get_by_label("联系电话", exact=True).fill("0574-86601234")


def wrong_check_character(code: str) -> str:
    return code[:-1] + next(c for c in USCC_ALPHABET if c != code[-1])


# --- Tests -------------------------------------------------------------------------------------


def test_a_new_enterprise_registers_logs_in_and_reads_a_notice(
    page: Page, reference_data: None
) -> None:
    notice = Notice.objects.create(
        kind=Notice.Kind.NOTICE,
        audience=Notice.Audience.ALL,
        region=None,
        author=make_admin("admin", None),
        title="关于做好2026年中小企业生产经营运行监测工作的通知",
        body="请各企业于每月20日前完成上月报表的填报。\n\n如有疑问请致电服务热线。",
    )
    code = valid_uscc("91330211MA2B00001")
    username, password, name = "zhenhai_jx", "Qiye@2026x", "宁波镇海精密机械有限公司"

    fill_registration(
        page, username=username, password=password, confirmation=password, name=name, code=code
    )
    screenshot(page, "register")
    page.get_by_role("button", name="注册").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator(".messages")).to_contain_text("注册成功")

    log_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    notice_box = page.locator(".box").filter(has=page.get_by_role("heading", name="通知公告"))
    expect(notice_box.get_by_role("link", name=notice.title)).to_be_visible()
    screenshot(page, "home")

    notice_box.get_by_role("link", name=notice.title).click()
    expect(page).to_have_url(re.compile(rf"/notices/{notice.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(notice.title)
    expect(page.locator(".notice-body")).to_contain_text("请各企业于每月20日前完成上月报表的填报。")
    expect(page.locator(".notice-body")).to_contain_text("如有疑问请致电服务热线。")
    screenshot(page, "notice")

    enterprise = Enterprise.objects.get(code=code)
    assert (enterprise.name, enterprise.region_id) == (name, "330211")
    assert enterprise.code_type == Enterprise.CodeType.USCC
    assert enterprise.contact_phone == "0574-86601234"
    user = User.objects.get(username=username)
    assert user.user_type == User.Type.ENTERPRISE
    assert user.enterprise == enterprise
    assert user.home_region is not None and user.home_region.code == "330211"


def test_registration_errors_show_in_chinese_next_to_the_fields(
    page: Page, reference_data: None
) -> None:
    fill_registration(
        page,
        username="zhenhai_jx",
        password="Qiye@2026x",
        confirmation="Qiye@2026y",
        name="宁波镇海精密机械有限公司",
        code=wrong_check_character(valid_uscc("91330211MA2B00001")),
    )
    page.get_by_role("button", name="注册").click()

    errors = page.locator(".field.has-error")
    expect(errors.filter(has=page.locator("#id_code"))).to_contain_text("校验位")
    expect(errors.filter(has=page.locator("#id_password2"))).to_contain_text("不一致")
    expect(errors).to_have_count(2)
    # The region chosen through the cascade survives the round trip: no picking it again.
    expect(page.get_by_label("区县", exact=True)).to_have_value("330211")
    assert not Enterprise.objects.exists()
    assert not User.objects.filter(username="zhenhai_jx").exists()


def test_login_by_bound_mobile_and_logout(page: Page, reference_data: None) -> None:
    user = make_enterprise_user(
        "33029997", "宁波康尔企业", valid_uscc("91330211MA2AFKE01"), "330211"
    )
    user.mobile = "13800138000"
    user.save(update_fields=["mobile"])

    page.goto("/accounts/login/")
    log_in(page, "13800138000", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    topbar = page.locator("header.topbar")
    expect(topbar).to_contain_text("33029997")
    logout = topbar.get_by_role("button", name="退出")
    expect(logout).to_be_visible()

    logout.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator(".messages")).to_contain_text("您已安全退出")
    expect(page.locator("header.topbar")).not_to_contain_text("退出")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
