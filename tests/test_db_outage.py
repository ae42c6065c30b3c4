"""Reliability (issue 8): while the database cannot be reached, a request fails cleanly — 503 with
Retry-After and a message in Chinese (a page, or the API's `{"detail": …}`), logged once with the
request id — and any other database error is still Django's 500 (ops.outage).

Only the connection fails here: its queries raise the driver's own exception (psycopg's, or
sqlite3's on SQLite) inside Django's error wrapper, exactly as a lost server does, so that Django
converts and marks it as it would. The handling itself is never replaced. tests/test_db_restart.py
restarts a real PostgreSQL server under load."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
import pytest
import time_machine
from django.db import connection
from django.db.utils import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.test import Client

from accounts.middleware import LAST_SEEN
from ops.outage import MESSAGE, RETRY_AFTER_SECONDS, is_connection_error
from reports.models import Report
from tests.conftest import Personas, parsed

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: 2026-10 is open
PAGE = "/reports/2026-10/basic/"
API = "/api/v1/reports/2026-10"

Match = Callable[[str], bool]


def lost_server() -> Exception:
    """What the driver raises when the server went away, for the backend under test."""
    if connection.vendor == "postgresql":
        return psycopg.OperationalError(
            "consuming input failed: server closed the connection unexpectedly"
        )
    error = sqlite3.OperationalError("unable to open database file")
    error.sqlite_errorname = "SQLITE_CANTOPEN"  # as sqlite3 sets it on a real failure
    return error


def admin_shutdown() -> Exception:
    if connection.vendor == "postgresql":
        return psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    return lost_server()


def duplicate_key() -> Exception:
    if connection.vendor == "postgresql":
        return psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")
    return sqlite3.IntegrityError("UNIQUE constraint failed")


def deadlock() -> Exception:
    """An OperationalError that is not the database being away: the transaction's own failure."""
    if connection.vendor == "postgresql":
        return psycopg.errors.DeadlockDetected("deadlock detected")
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


def syntax_error() -> Exception:
    if connection.vendor == "postgresql":
        return psycopg.errors.SyntaxError('syntax error at or near "SELEKT"')
    return sqlite3.ProgrammingError("near SELEKT: syntax error")


def everything(sql: str) -> bool:
    return True


def the_views_queries(sql: str) -> bool:
    """The report tables only: the session and the user load fine, the view's own queries fail."""
    return "reports_" in sql


@contextmanager
def failing(make_error: Callable[[], Exception], when: Match = everything) -> Iterator[None]:
    """The connection's queries that `when` picks raise the driver's `make_error()`, converted by
    Django's own wrapper (which also marks the connection as having had an error)."""

    def execute(run: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if when(sql):
            with connection.wrap_database_errors:
                raise make_error()
        return run(sql, params, many, context)

    with connection.execute_wrapper(execute):
        yield


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def no_earlier_error() -> Iterator[None]:
    """As at the start of a request in production (close_old_connections, which the test client
    does not run), the connection has had no error yet; nor does it keep this test's for the
    next test (the connection itself is sound)."""
    connection.errors_occurred = False
    yield
    connection.errors_occurred = False


@pytest.fixture
def clerk(personas: Personas) -> Client:
    return personas.client_for(personas.ningbo_enterprise)


def assert_outage_page(response: Any) -> None:
    assert response.status_code == 503
    # The headers of every page: the 503 is answered below their middleware.
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    assert MESSAGE in response.content.decode()
    assert "系统暂时无法连接数据库" in MESSAGE


def assert_outage_json(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": MESSAGE}


# --- Pages and API --------------------------------------------------------------------------------


def test_a_page_whose_queries_fail_for_want_of_the_database_is_a_503_with_the_message(
    clerk: Client,
) -> None:
    with failing(lost_server, the_views_queries):
        response = clerk.get(PAGE)
    assert_outage_page(response)
    assert clerk.get(PAGE).status_code == 200  # the database is back: so is the page


def test_a_page_is_a_503_when_not_even_the_session_or_the_user_can_be_read(
    clerk: Client,
) -> None:
    """The session and the user are loaded by the middleware before the view."""
    with failing(admin_shutdown):
        response = clerk.get(PAGE)
    assert_outage_page(response)


def test_a_session_that_cannot_be_saved_after_the_view_is_a_503(clerk: Client) -> None:
    """After the view, SessionMiddleware writes the session (here the idle mark, rewritten once a
    minute): that write failing is an outage too."""
    session = clerk.session
    session[LAST_SEEN] = int(time.time()) - 120
    session.save()
    with failing(lost_server, lambda sql: sql.startswith("UPDATE") and "django_session" in sql):
        response = clerk.get(PAGE)
    assert_outage_page(response)


def test_a_session_deleted_meanwhile_is_still_djangos_400(clerk: Client) -> None:
    """What SessionInterrupted is for (a logout in another tab deleted the row): no driver error,
    so not an outage."""
    session = clerk.session
    session[LAST_SEEN] = int(time.time()) - 120
    session.save()

    def delete_first(run: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("UPDATE") and "django_session" in sql:
            run('DELETE FROM "django_session"', None, False, context)
        return run(sql, params, many, context)

    with connection.execute_wrapper(delete_first):
        response = clerk.get(PAGE)
    assert response.status_code == 400 and "Retry-After" not in response


def test_an_anonymous_page_is_a_503_too(reference_data: None) -> None:
    with failing(lost_server):
        response = Client().get("/accounts/register/")
    assert_outage_page(response)


def test_the_api_answers_503_in_its_error_shape(clerk: Client) -> None:
    with failing(lost_server, the_views_queries):
        assert_outage_json(clerk.get(API))
    with failing(admin_shutdown):
        assert_outage_json(clerk.get(API))
    assert clerk.get(API).status_code == 200


def test_a_post_during_the_outage_is_a_503_and_saves_nothing(clerk: Client) -> None:
    with failing(lost_server, the_views_queries):
        response = clerk.post(PAGE, {"legal_representative": "张三", "action": "save"})
    assert_outage_page(response)
    assert not Report.objects.exists()


def test_the_broken_connection_is_marked_for_django_to_replace(clerk: Client) -> None:
    """Django closes a connection that had an error and fails its check at the end of the request
    (close_old_connections), so the next request connects afresh."""
    with failing(lost_server, the_views_queries):
        clerk.get(PAGE)
    assert connection.errors_occurred


@pytest.mark.parametrize("make_error", [lost_server, admin_shutdown])
def test_the_outage_is_logged_once_at_error_level_with_the_request_id(
    clerk: Client, json_lines: io.StringIO, make_error: Callable[[], Exception]
) -> None:
    with failing(make_error):
        response = clerk.get(f"{PAGE}?token=secret-in-the-query", HTTP_X_REQUEST_ID="outage-1")
    assert response.status_code == 503 and response["X-Request-ID"] == "outage-1"
    errors = [line for line in parsed(json_lines) if line["level"] == "ERROR"]
    assert len(errors) == 1
    (line,) = errors
    assert line["logger"] == "sme.ops"
    assert line["request_id"] == "outage-1"
    assert line["status_code"] == 503
    message = str(line["message"])
    assert message.startswith(f"database unavailable, answered 503: GET {PAGE}: ")
    assert type(make_error()).__name__ in message
    assert "secret-in-the-query" not in json_lines.getvalue()
    assert "exc_info" not in line


# --- Not an outage: Django's 500 as before -------------------------------------------------------


@pytest.mark.parametrize(
    ("make_error", "django_error"),
    [
        (duplicate_key, IntegrityError),
        (syntax_error, ProgrammingError),
        (deadlock, OperationalError),
    ],
)
@pytest.mark.parametrize("path", [PAGE, API])
def test_any_other_database_error_is_still_a_500(
    clerk: Client,
    json_lines: io.StringIO,
    make_error: Callable[[], Exception],
    django_error: type[Exception],
    path: str,
) -> None:
    clerk.raise_request_exception = False
    with failing(make_error, the_views_queries):
        response = clerk.get(path)
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert MESSAGE not in response.content.decode()
    (line,) = [x for x in parsed(json_lines) if x["level"] == "ERROR"]
    assert line["logger"] == "django.request" and line["status_code"] == 500
    assert django_error.__name__ in str(line["exc_info"])  # with its traceback, as before


def test_any_other_error_in_the_middleware_is_still_a_500(
    clerk: Client, json_lines: io.StringIO
) -> None:
    clerk.raise_request_exception = False
    with failing(syntax_error):  # the session's own query
        response = clerk.get(PAGE)
    assert response.status_code == 500 and "Retry-After" not in response
    (line,) = [x for x in parsed(json_lines) if x["level"] == "ERROR"]
    assert line["logger"] == "django.request" and line["status_code"] == 500


def test_the_health_check_still_says_503_naming_the_database(db: None) -> None:
    with failing(lost_server):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "OperationalError"


# --- Which errors are the database being away ----------------------------------------------------


def wrapped(driver_error: Exception, django_error: type[Exception]) -> Exception:
    """As Django raises it: its own class, `from` the driver's exception."""
    try:
        raise django_error(*driver_error.args) from driver_error
    except Exception as error:
        return error


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (wrapped(psycopg.OperationalError("connection refused"), OperationalError), True),
        (wrapped(psycopg.OperationalError("the connection is closed"), OperationalError), True),
        (wrapped(psycopg.errors.AdminShutdown("terminating"), OperationalError), True),
        (wrapped(psycopg.errors.CannotConnectNow("starting up"), OperationalError), True),
        (wrapped(psycopg.errors.ConnectionFailure("lost"), OperationalError), True),
        (wrapped(psycopg.InterfaceError("connection already closed"), InterfaceError), True),
        (wrapped(psycopg.errors.DeadlockDetected("deadlock"), OperationalError), False),
        (wrapped(psycopg.errors.QueryCanceled("statement timeout"), OperationalError), False),
        (wrapped(psycopg.errors.LockNotAvailable("nowait"), OperationalError), False),
        (wrapped(psycopg.errors.UniqueViolation("duplicate"), IntegrityError), False),
        (wrapped(sqlite3.OperationalError("database is locked"), OperationalError), False),
        (ValueError("not a database error"), False),
    ],
)
def test_only_connection_errors_count_as_an_outage(error: Exception, outage: bool) -> None:
    assert is_connection_error(error) is outage
