"""A request that fails because the database cannot be reached (a PostgreSQL restart, a fail-over,
the server refusing connections) is answered 503 with Retry-After and a message in Chinese — a
small page, or `{"detail": …}` under /api/ — instead of a 500, and logged once.

Why more than a try/except around get_response: Django wraps every middleware (and the view) in
its own exception-to-response conversion, so an exception raised below is already a 500 page (and
a logged "Internal Server Error") by the time it would reach this middleware. Two ways in:

- the view's own errors (most of them: the view's queries) come to `process_exception`;
- errors of the middleware below (the session and the user are loaded by IdleSessionMiddleware
  before the view, the session saved by SessionMiddleware after it) go through Django's
  `got_request_exception` signal at the layer where they happen; `_lift` raises them on as
  `DatabaseUnavailable`, layer by layer, up to this middleware, which answers them. It does so
  only for requests that passed through this middleware, and only for connection errors:
  anything else (an IntegrityError, a programming error, a deadlock) is left to Django as before.

Only connection errors count: a PostgreSQL error of class 08 (connection exception), the server
shutting down or starting up (57P01-57P03), or an error of the client library without an SQLSTATE
(connection refused, "server closed the connection unexpectedly", "the connection is closed"),
and any InterfaceError. A query cancelled, a deadlock or a lock time-out is not the database
being away and keeps its 500.

The broken connection is not reused: Django marked it (errors_occurred) when it wrapped the error,
and closes it when the request finishes (close_old_connections, request_finished); the next
request connects afresh, and with CONN_HEALTH_CHECKS a connection that died between two requests
is replaced before its first query. So the process recovers by itself once the server is back.

The page needs nothing from the database: rendered without the request (no context processors,
no session or user), extending no layout."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.models import Session
from django.core.signals import got_request_exception
from django.db import connections, router
from django.db.utils import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response

logger = logging.getLogger("sme.ops")

MESSAGE = "系统暂时无法连接数据库，请稍后重试。如刚才提交了数据，请在恢复后核对是否已保存。"
# A restart or a fail-over takes seconds to tens of seconds; a client (or a proxy) that honours
# the header comes back after that, not in a tight loop.
RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"
# Set on a request by the middleware: the signal receiver acts only below it.
_GUARDED = "_database_outage_guarded"

# SQLSTATEs of a server that is going away or not yet there (PostgreSQL appendix A, class 57):
# admin_shutdown ("terminating connection due to administrator command"), crash_shutdown,
# cannot_connect_now ("the database system is starting up / shutting down").
SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
# SQLite has no server; a database file that cannot be opened is its only "unreachable".
SQLITE_UNREACHABLE = frozenset({"SQLITE_CANTOPEN"})


class DatabaseUnavailable(Exception):
    """A connection error raised in the middleware below, carried up to DatabaseOutageMiddleware
    (its __cause__ is the original)."""


def is_connection_error(error: BaseException) -> bool:
    """Whether `error` (as Django raises it) says the database could not be reached or the
    connection was lost, rather than that this query or transaction failed."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__  # the driver's exception (Django raises its own `from` it)
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorname", "") in SQLITE_UNREACHABLE
    if not hasattr(cause, "sqlstate"):  # not psycopg's: nothing says it was the connection
        return False
    sqlstate: str | None = cause.sqlstate  # type: ignore[union-attr]
    # psycopg gives no SQLSTATE for what happens on the client's side of the socket: refused,
    # reset, closed, timed out.
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in SERVER_GOING_AWAY


def unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 (JSON in the API's error shape under /api/, else the page), logged."""
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {"detail": MESSAGE}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    else:
        # No request passed: no context processor (navigation, user, messages) may query.
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)  # a proxy must not keep serving the outage
    _log(request, response, error)
    return response


def _log(request: HttpRequest, response: HttpResponse, error: BaseException) -> None:
    """One line per failed request, at error level: method and path (no query string, no body),
    the driver's error class and the first line of its message (libpq's name the host and port,
    never a password); no traceback, which would say nothing more about an outage. Through
    log_response, which marks the response logged: Django would otherwise log the 503 again."""
    if isinstance(error, DatabaseUnavailable) and error.__cause__ is not None:
        error = error.__cause__  # Django's OperationalError or InterfaceError
    driver = error.__cause__ or error  # psycopg's (or sqlite3's) own class says the most
    text = str(error).strip()
    log_response(
        "database unavailable, answered %s: %s %s: %s: %s",
        response.status_code,
        request.method,
        request.path,
        type(driver).__name__,
        text.splitlines()[0] if text else "",
        response=response,
        request=request,
        logger=logger,
        level="error",
    )


def _connections_with_errors() -> set[str]:
    """The aliases whose connection has had a driver error (Django's `errors_occurred`, set when
    it wraps one, cleared or the connection closed at the start and end of each request)."""
    return {c.alias for c in connections.all(initialized_only=True) if c.errors_occurred}


def _session_lost(request: HttpRequest, erred_before: set[str]) -> bool:
    """Whether a 400 is SessionMiddleware's SessionInterrupted for a session it could not write
    because the database was away. It turns any database error on saving an existing session
    into that 400, without the original error; a session row deleted meanwhile (its real meaning:
    a logout in another tab) raises no driver error, so a driver error during this request on the
    sessions' database tells the two apart."""
    session = getattr(request, "session", None)
    if session is None or not session.modified:
        return False
    alias = router.db_for_write(Session)
    return alias in _connections_with_errors() - erred_before


class DatabaseOutageMiddleware:
    """Placed above everything that touches the database (SessionMiddleware and below) and below
    the request id (the log line carries it, the response the X-Request-ID header) and the
    middleware of the security headers (the 503 page has its Content-Security-Policy too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        setattr(request, _GUARDED, True)
        erred_before = _connections_with_errors()
        try:
            response = self.get_response(request)
        except DatabaseUnavailable as lifted:
            return unavailable_response(request, lifted)
        if response.status_code == 400 and _session_lost(request, erred_before):
            return unavailable_response(request, DatabaseUnavailable("the session was not saved"))
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_connection_error(exception):
            return None  # Django's usual handling: a 500, logged with its traceback
        return unavailable_response(request, exception)


@receiver(got_request_exception, dispatch_uid="ops.database-outage-lift")
def _lift(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Sent by Django inside its handling of an exception that escaped a middleware layer below
    DatabaseOutageMiddleware (or the view, when no process_exception answered it). Raising here
    stops that layer from turning it into a 500; the layer above gets DatabaseUnavailable and
    sends the signal again, which raises it on, until the middleware answers it."""
    if request is None or not getattr(request, _GUARDED, False):
        return
    error = sys.exc_info()[1]
    if isinstance(error, DatabaseUnavailable):
        raise error
    if error is not None and is_connection_error(error):
        raise DatabaseUnavailable(str(error)) from error
