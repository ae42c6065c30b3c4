"""What every browser test shares: Debian's chromium driven by Playwright's sync API against
pytest-django's live server, the screenshots for a person to look at, and the steps of logging in
and choosing from a cascade.

Without chromium the tests are skipped, except where REQUIRE_BROWSER_TESTS=true (CI), where a
missing browser is an error. SCREENSHOTS=1 saves full-page screenshots to test-artifacts/.
Import the fixtures by name into the test module (pytest finds them there)."""

from __future__ import annotations

import base64
import contextlib
import importlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django_otp.oath import hotp
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from reports.models import Indicator, ValidationRule
from tests.conftest import authenticator_code

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_BROWSER = (
    "浏览器测试需要 Debian 的 chromium：apt-get install chromium fonts-noto-cjk"
    "（browser tests need Debian's chromium and a CJK font: "
    "apt-get install chromium fonts-noto-cjk; set CHROMIUM_PATH if it lives elsewhere）"
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop in this thread, so Django takes every ORM call of
    the test (and the live-server flush after it) for one made from async code and refuses it.
    Nothing here is async in fact; allow it for as long as the browser runs, then restore."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright: None) -> Iterator[Browser]:
    """Debian's chromium, never a browser build downloaded by `playwright install`."""
    executable = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if not Path(executable).is_file():
        # CI sets REQUIRE_BROWSER_TESTS so that a broken install cannot pass as a green run.
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "true":
            pytest.fail(
                f"REQUIRE_BROWSER_TESTS=true 但找不到 {executable}。{MISSING_BROWSER}",
                pytrace=False,
            )
        pytest.skip(f"找不到 {executable}。{MISSING_BROWSER}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh context per test: no cookie or session carries over from the previous test.

    Every test also fails on any Content-Security-Policy violation the browser reports (an inline
    script, event handler or style that the policy refused, which would silently break a page):
    chromium says so on the console, "Refused to … because it violates the following Content
    Security Policy directive"."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    violations: list[str] = []
    context.on("console", lambda message: _record_violation(violations, message))
    opened = context.new_page()
    yield opened
    if not opened.is_closed():
        # Console events are delivered while Playwright waits on the page: one round trip lets
        # those still on their way arrive before the check. A page the test left unusable has
        # nothing more to say.
        with contextlib.suppress(PlaywrightError):
            opened.evaluate("0")
    context.close()
    assert violations == [], "违反内容安全策略（Content-Security-Policy）：\n" + "\n".join(
        violations
    )


CSP_VIOLATION_MARKERS = ("Content Security Policy", "Refused to")


def _record_violation(violations: list[str], message: ConsoleMessage) -> None:
    if any(marker in message.text for marker in CSP_VIOLATION_MARKERS):
        where = message.page.url if message.page else message.location.get("url", "")
        violations.append(f"{where}: {message.text}")


def restore_catalogue() -> None:
    """The default indicator catalogue and validation rules, which come from data migrations:
    a transactional (browser) test before this one has flushed them."""
    for module, model in (
        ("0002_default_catalogue", Indicator),
        ("0004_default_rules", ValidationRule),
    ):
        if not model.objects.exists():
            importlib.import_module(f"reports.migrations.{module}").create(apps, None)


@pytest.fixture
def report_catalogue(reference_data: None) -> None:
    restore_catalogue()


def screenshot(page: Page, name: str) -> None:
    """Only on request: the pictures are for a person checking the rendering, not for the test."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def choose_in_cascade(page: Page, label: str, option: str) -> None:
    select = page.get_by_label(label, exact=True)
    # The options of a lower level arrive by htmx after the level above changed; selecting before
    # they are there would fail or, worse, pick from the stale list.
    expect(select.locator("option", has_text=option)).to_have_count(1)
    select.select_option(label=option)


def log_in(page: Page, identifier: str, password: str) -> None:
    page.get_by_label("用户ID/手机/邮箱", exact=True).fill(identifier)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))  # every caller's succeeds
    if page.url.endswith("/accounts/login/code/"):
        # The second step (a national administrator): the code of an authenticator app. Where
        # the page shows a key to bind, the "app" is given that key, as a person would type it.
        secret = page.locator("code.secret")
        if secret.count():
            text = secret.inner_text().replace(" ", "")
            key = base64.b32decode(text + "=" * (-len(text) % 8))
            screenshot(page, "login-second-factor-binding")
            code = f"{hotp(key, int(time.time()) // 30):06d}"
        else:
            code = authenticator_code(User.objects.get(username=identifier))
        page.get_by_label("动态口令", exact=True).fill(code)
        page.get_by_role("button", name="验证并登录").click()
