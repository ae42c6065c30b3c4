"""Logs never carry a password, a verification code or an API token.

The flows that handle them — a failed and a successful login, registration, binding a mobile with
a code, the password change, getting an API token (and failing to) and using it — run with every
logger at DEBUG, the SQL of each query logged too, and the request-id middleware active; then no
captured record, in any form (its message, its arguments, every attribute, the JSON and text lines
the console handler would write, the traceback text), contains one of those secrets. A forced
server error on the login page and on the token endpoint is logged with its traceback: that holds
no secret either.

The error report of a page that takes a password or a code (the debug page, an e-mail to
ADMINS) shows the POSTed value as stars: the views are marked sensitive_post_parameters."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from secrets import token_hex
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.forms import BaseForm
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

import accounts.services
from accounts import views
from accounts.models import ApiToken, OutboxMessage, User
from ops.logs import JsonFormatter, RequestContextFilter
from tests.conftest import PASSWORD, Personas, authenticator_code, token_request
from tests.test_registration import form

pytestmark = pytest.mark.usefixtures("reference_data")

WRONG_PASSWORD = "Cuowu#Mima7731"
NEW_PASSWORD = "Xin#Mima2026q"
REGISTRATION_PASSWORD = "Zhuce#Mima5519"
CODE_RE = re.compile(r"验证码 (\d{6})")


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger at DEBUG, with the request id and user filled in at the
    moment it is logged (as the console handler's filter does), and the SQL of every query."""
    caplog.set_level(logging.DEBUG)
    manager = logging.root.manager
    detached: list[logging.Logger] = []
    for name, logger in list(manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:  # their records never reach the root's handler
                logger.addHandler(caplog.handler)
                detached.append(logger)
    context = RequestContextFilter()
    caplog.handler.addFilter(context)
    try:
        with CaptureQueriesContext(connection):  # the database layer logs each query at DEBUG
            yield caplog
    finally:
        caplog.handler.removeFilter(context)
        for logger in detached:
            logger.removeHandler(caplog.handler)


def renderings(record: logging.LogRecord) -> list[str]:
    """Every form in which a record could end up somewhere."""
    text_format = settings.LOGGING["formatters"]["text"]["format"]
    forms = [
        str(record.msg),
        repr(record.args),
        repr(vars(record)),
        JsonFormatter().format(record),
        logging.Formatter(text_format).format(record),
    ]
    try:
        forms.append(record.getMessage())
    except (TypeError, ValueError):  # a malformed call: its msg and args are checked above
        pass
    if record.exc_info:
        forms.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        forms.append(record.exc_text)
    return forms


def delivers_the_code(record: logging.LogRecord) -> bool:
    """The query that stores a message in the outbox: OutboxSender's delivery of the code (the
    national administrators' outbox page shows it, by design), seen here only because this test
    logs every query's SQL with its values, which a server never does (DEBUG off)."""
    return str(getattr(record, "sql", "")).startswith('INSERT INTO "accounts_outboxmessage"')


def leaks(records: list[logging.LogRecord], secrets: dict[str, str]) -> list[str]:
    found = []
    patterns = {what: _pattern(secret) for what, secret in secrets.items()}
    for record in records:
        if delivers_the_code(record):
            continue
        for rendering in renderings(record):
            for what, pattern in patterns.items():
                if pattern.search(rendering):
                    found.append(f"{what} in {record.name}: {rendering[:300]}")
    return found


def _pattern(secret: str) -> re.Pattern[str]:
    """A code of six digits counts as such only, not as a part of a longer number: records hold
    many (times, thread ids, durations), and one of them would hold any six digits by chance."""
    if secret.isdigit():
        return re.compile(rf"(?<!\d){secret}(?!\d)")
    return re.compile(re.escape(secret))


def login(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def ask_token(client: Client, username: str, password: str) -> Any:
    body = json.dumps({"username": username, "password": password})
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def test_no_password_code_or_token_is_ever_logged(
    personas: Personas, all_logs: pytest.LogCaptureFixture
) -> None:
    clerk = Client()

    # Logins: a wrong password, then the right one.
    assert login(clerk, "33029997", WRONG_PASSWORD).status_code == 200
    assert login(clerk, "33029997", PASSWORD).status_code == 302

    # Registration of a new enterprise, with its password.
    registration = form(password1=REGISTRATION_PASSWORD, password2=REGISTRATION_PASSWORD)
    response = Client().post("/accounts/register/", registration)
    assert response.status_code == 302

    # Binding a mobile: the code is sent (the outbox keeps it, by design) and confirmed; a
    # wrong code is tried first.
    bind = {"channel": "mobile", "target": "13800138000"}
    assert (
        clerk.post("/accounts/profile/bind/send/", bind, HTTP_HX_REQUEST="true").status_code == 200
    )
    code = CODE_RE.search(OutboxMessage.objects.get(recipient="13800138000").body).group(1)  # type: ignore[union-attr]
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in (wrong_code, code):
        clerk.post(
            "/accounts/profile/bind/confirm/", {**bind, "code": attempt}, HTTP_HX_REQUEST="true"
        )
    assert User.objects.get(pk=personas.ningbo_enterprise.pk).mobile == "13800138000"

    # The password change.
    response = clerk.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    # API tokens: refused for the old password, issued for the new one, then used (and a
    # token that is not one is refused).
    api = Client()
    assert ask_token(api, "33029997", PASSWORD).status_code == 401
    token = ask_token(api, "13800138000", NEW_PASSWORD).json()["token"]
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    forged = token[::-1]
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert ApiToken.objects.filter(user=personas.ningbo_enterprise).count() == 1

    # The national administrator's second factor: a wrong code, then the right one, on the page;
    # then a token with a code (the next step's: each code is good once).
    admin = Client()
    assert login(admin, "admin", PASSWORD)["Location"] == "/accounts/login/code/"
    admin.get("/accounts/login/code/")  # binds an authenticator, as at a first login
    totp = authenticator_code(personas.senior_admin)
    wrong_totp = f"{(int(totp) + 1) % 10**6:06d}"
    assert admin.post("/accounts/login/code/", {"code": wrong_totp}).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3)):  # past the throttle
        assert admin.post("/accounts/login/code/", {"code": totp}).status_code == 302
        api_totp = token_request("admin")["otp_code"]
        body = json.dumps({"username": "admin", "password": PASSWORD, "otp_code": api_totp})
        response = api.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 200

    records = all_logs.records
    secrets = {
        "an authenticator code": totp,
        "a wrong authenticator code": wrong_totp,
        "an authenticator code sent to the API": api_totp,
        "the password": PASSWORD,
        "a wrong password": WRONG_PASSWORD,
        "the new password": NEW_PASSWORD,
        "a registration password": REGISTRATION_PASSWORD,
        "the verification code": code,
        "a wrong verification code": wrong_code,
        "the API token": token,
        "a forged token": forged,
    }
    assert leaks(records, secrets) == []

    # The capture did see these flows: the queries, the code's dispatch, the refusals; and the
    # lines logged within requests carry their request id.
    loggers = {record.name for record in records}
    assert {"django.db.backends", "sme.outbox", "django.request"} <= loggers
    refused = [r for r in records if r.name == "django.request" and r.status_code == 401]  # type: ignore[attr-defined]
    assert refused and all(r.request_id != "-" for r in refused)  # type: ignore[attr-defined]


@pytest.mark.parametrize("through", ["login-page", "token-endpoint"])
def test_a_server_error_during_login_is_logged_without_the_password(
    personas: Personas,
    all_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    through: str,
) -> None:
    """The password is a local variable of the frames that fail (login_with_identifier's
    argument): the logged traceback is text without the frames' variables."""

    def broken_authenticate(request: HttpRequest | None, **credentials: Any) -> None:
        raise RuntimeError("the authentication backend is down")

    monkeypatch.setattr(accounts.services, "authenticate", broken_authenticate)
    client = Client(raise_request_exception=False)

    if through == "token-endpoint":
        response = ask_token(client, "33029997", PASSWORD)
    else:
        response = login(client, "33029997", PASSWORD)

    assert response.status_code == 500
    errors = [r for r in all_logs.records if r.name == "django.request" and r.exc_info]
    assert len(errors) == 1
    assert errors[0].request_id == response["X-Request-ID"]  # type: ignore[attr-defined]
    assert "the authentication backend is down" in JsonFormatter().format(errors[0])
    assert leaks(all_logs.records, {"the password": PASSWORD}) == []


# --- Error reports --------------------------------------------------------------------------------

# Made at run time: a literal would appear in the report's lines of source around this module's
# frames, and be found there.
SECRET = f"Mi#{token_hex(6)}"


def _raise_in_form(self: BaseForm) -> bool:
    raise RuntimeError("forced error while the form is checked")


def _request(
    factory: RequestFactory, path: str, data: dict[str, str], user: User | None
) -> HttpRequest:
    request = factory.post(path, data)
    request.user = user or AnonymousUser()
    request.session = SessionStore()
    return request


PAGES: list[tuple[str, Callable[..., Any], dict[str, str], dict[str, Any], bool]] = [
    (
        "/accounts/login/",
        views.login_view,
        {"username": "33029997", "password": SECRET},
        {},
        False,
    ),
    (
        "/accounts/register/",
        views.register_view,
        {"username": "nbnew01", "password1": SECRET, "password2": SECRET},
        {},
        False,
    ),
    (
        "/accounts/profile/bind/confirm/",
        views.bind_view,
        {"channel": "mobile", "target": "13800138000", "code": SECRET},
        {"step": "confirm"},
        True,
    ),
    (
        "/accounts/password/",
        views.password_change_view,
        {"old_password": SECRET, "new_password1": SECRET, "new_password2": SECRET},
        {},
        True,
    ),
    (
        "/accounts/administrators/new/",
        views.administrator_create_view,
        {"username": "newadmin", "password1": SECRET, "password2": SECRET},
        {},
        True,
    ),
]


def error_report(
    monkeypatch: pytest.MonkeyPatch,
    view: Callable[..., Any],
    request: HttpRequest,
    kwargs: dict[str, Any],
) -> tuple[str, str]:
    """The text and HTML of Django's error report for `view` failing while it checks its form."""
    monkeypatch.setattr(BaseForm, "is_valid", _raise_in_form)
    try:
        view(request, **kwargs)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    else:
        raise AssertionError("the view did not fail")
    assert isinstance(reporter.filter, SafeExceptionReporterFilter)
    return reporter.get_traceback_text(), reporter.get_traceback_html()


@pytest.mark.parametrize(
    ("path", "view", "data", "kwargs", "logged_in"),
    PAGES,
    ids=[page[0].strip("/").replace("/", "-") for page in PAGES],
)
def test_an_error_report_of_a_page_masks_the_posted_passwords_and_codes(
    personas: Personas,
    rf: RequestFactory,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    view: Callable[..., Any],
    data: dict[str, str],
    kwargs: dict[str, Any],
    logged_in: bool,
) -> None:
    request = _request(rf, path, data, personas.senior_admin if logged_in else None)

    text, html = error_report(monkeypatch, view, request, kwargs)

    assert SECRET not in text and SECRET not in html
    masked = [name for name, value in data.items() if value == SECRET]
    for name in masked:
        assert f"{name} = '********************'" in text
    # The other fields are shown as they are: only the secrets are hidden.
    for name, value in data.items():
        if name not in masked:
            assert f"{name} = '{value}'" in text


def test_without_the_marking_the_report_would_show_the_password(
    personas: Personas, rf: RequestFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the test above: the undecorated login view's report has it in clear."""
    request = _request(rf, "/accounts/login/", {"username": "33029997", "password": SECRET}, None)
    text, _ = error_report(monkeypatch, views.login_view.__wrapped__, request, {})  # type: ignore[attr-defined]
    assert f"password = '{SECRET}'" in text
