"""等级保护 on the browser side (issue 8): the headers of every page — Content-Security-Policy,
X-Frame-Options, X-Content-Type-Options, Referrer-Policy, Cross-Origin-Opener-Policy and, over
HTTPS, Strict-Transport-Security — the flags of the session and CSRF cookies, `check --deploy`
clean with the production environment, and templates without the inline script or style that
the policy would refuse (so that none can come back unnoticed; the browser tests also fail on any
violation the browser reports, tests/browser_support.py)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import PASSWORD, Personas
from tests.fresh_settings import fresh_settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
LOGIN = reverse("accounts:login")
# What the brief of issue 8 asks for, directive by directive.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
# Markup that a policy without 'unsafe-inline' refuses, and hx-on, which htmx runs through eval.
INLINE = {
    "an inline script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "a style element": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "an hx-on attribute": re.compile(r"\s(?:data-)?hx-on", re.I),
}
# Variables of the environment under test that the surrounding one must not leak into it.
_CONTROLLED = (
    "DEBUG",
    "REDIS_URL",
    "JOB_RUNNER",
    "STATIC_MANIFEST",
    "SECURE_COOKIES",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "ALLOWED_HOSTS",
)


def production_env(**extra: str) -> dict[str, str]:
    """The environment of README "Production": HTTPS ends at a proxy that says so."""
    clean = {k: v for k, v in os.environ.items() if k not in _CONTROLLED}
    return {
        **clean,
        "DEBUG": "false",
        # A key like the README's: 50 random bytes, long and varied enough for check --deploy.
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "sme.example.gov.cn",
        "SECURE_COOKIES": "true",
        "SECURE_PROXY_SSL_HEADER": "true",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        **extra,
    }


def policy(response: HttpResponse) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = [d.strip().split(None, 1) for d in header.split(";") if d.strip()]
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives}


def assert_hardened(response: HttpResponse) -> None:
    assert response.status_code == 200
    assert policy(response) == POLICY
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def inline_markup(html: str) -> list[str]:
    return [what for what, pattern in INLINE.items() if pattern.search(html)]


# -- the headers ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_page_carries_every_header(client: Client) -> None:
    response = client.get(LOGIN)

    assert_hardened(response)
    # Plain HTTP: a browser ignores HSTS there, and Django does not send it.
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("ningbo_enterprise", reverse("portal:home")),
        ("ningbo_enterprise", reverse("reports:history")),
        ("senior_admin", reverse("review:worklist")),
        ("senior_admin", reverse("analytics:page")),
        ("senior_admin", reverse("analytics:report")),
    ],
)
def test_pages_of_a_logged_in_user_carry_every_header_and_no_inline_markup(
    personas: Personas, persona: str, url: str
) -> None:
    response = personas.client_for(getattr(personas, persona)).get(url)

    assert_hardened(response)
    # Rendered, so that what Python writes (the SVG charts, form widgets) is looked at too.
    assert inline_markup(response.content.decode()) == []


def test_the_analytics_charts_are_inline_svg_without_any_style(personas: Personas) -> None:
    html = personas.client_for(personas.senior_admin).get(reverse("analytics:page")).content
    # The trend and the bars, drawn by matplotlib; their looks are presentation attributes.
    assert html.decode().count("<svg") >= 2
    assert inline_markup(html.decode()) == []
    assert b' fill="#' in html and b' font-family="' in html


def test_htmx_is_told_not_to_inject_its_indicator_style(personas: Personas) -> None:
    html = personas.client_for(personas.ningbo_enterprise).get(reverse("portal:home"))
    assert '"includeIndicatorStyles": false' in html.content.decode()


@pytest.mark.django_db
def test_hsts_over_https_and_only_there() -> None:
    with override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True):
        secure = Client().get(LOGIN, secure=True)
        plain = Client().get(LOGIN)

    assert_hardened(secure)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.django_db
def test_behind_the_proxy_its_forwarded_scheme_decides_https() -> None:
    with override_settings(
        SECURE_HSTS_SECONDS=31_536_000,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_SSL_REDIRECT=True,
    ):
        forwarded = Client().get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
        plain = Client().get(LOGIN)

    assert forwarded.status_code == 200
    assert "max-age=31536000" in forwarded.headers["Strict-Transport-Security"]
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://testserver{LOGIN}"


# -- the cookies ------------------------------------------------------------------------------


def test_session_and_csrf_cookies_are_secure_httponly_and_lax(personas: Personas) -> None:
    with override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        client = Client()
        form = client.get(LOGIN, secure=True)
        login = client.post(LOGIN, {"username": "33029997", "password": PASSWORD}, secure=True)

    assert login.status_code == 302  # logged in
    for response, name in ((form, "csrftoken"), (login, "sessionid")):
        cookie = response.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


# -- the settings as production reads them ----------------------------------------------------


def settings_in(env: dict[str, str]) -> dict[str, object]:
    """Settings as a fresh interpreter reads them from the environment (sme.settings reads it
    once, at import)."""
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
    ]
    return fresh_settings(*names, env=env, inherit=False)


def test_the_cookies_are_secure_with_secure_cookies() -> None:
    production = settings_in(production_env())
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_https_behind_a_proxy_is_configured_from_the_environment() -> None:
    configured = settings_in(production_env())
    assert configured["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert configured["SECURE_SSL_REDIRECT"] is True
    assert configured["SECURE_HSTS_SECONDS"] == 31_536_000
    assert configured["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert configured["SECURE_HSTS_PRELOAD"] is False


def test_hsts_defaults_to_a_year_with_secure_cookies_and_to_none_otherwise() -> None:
    env = production_env()
    del env["SECURE_HSTS_SECONDS"]
    assert settings_in(env)["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert settings_in({**env, "SECURE_COOKIES": "false"})["SECURE_HSTS_SECONDS"] == 0
    # Debugging on a laptop: a year of https:// for localhost would outlive the session.
    assert settings_in({**env, "DEBUG": "true"})["SECURE_HSTS_SECONDS"] == 0
    # TLS at the proxy is the usual case: Django neither trusts a forwarded scheme nor redirects
    # unless told so.
    unset = ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT")
    defaults = settings_in({k: v for k, v in env.items() if k not in unset})
    assert defaults["SECURE_PROXY_SSL_HEADER"] is None
    assert defaults["SECURE_SSL_REDIRECT"] is False


def test_check_deploy_is_clean_with_the_production_environment() -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


# -- the templates ----------------------------------------------------------------------------


def test_no_template_has_inline_script_event_handlers_or_styles() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for what in inline_markup(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("html", "what"),
    [
        ("<script>alert(1)</script>", "an inline script"),
        ("<script defer>go()</script>", "an inline script"),
        ('<form onsubmit="return confirm(1)">', "an event handler attribute"),
        ('<button type="button" onclick="print()">', "an event handler attribute"),
        ('<svg style="max-width: 100%">', "a style attribute"),
        ("<style>p { color: red }</style>", "a style element"),
        ('<a href="javascript:void(0)">', "a javascript: URL"),
        ('<button hx-on:click="go()">', "an hx-on attribute"),
    ],
)
def test_the_template_check_sees_each_kind_of_inline_markup(html: str, what: str) -> None:
    assert inline_markup(html) == [what]


def test_the_template_check_lets_external_scripts_and_data_attributes_pass() -> None:
    assert inline_markup('<script src="/static/js/site.js" defer></script>') == []
    assert inline_markup('<form data-confirm="确定删除这条信息吗？">') == []
    assert inline_markup('<meta name="htmx-config" content=\'{"allowEval": false}\'>') == []
