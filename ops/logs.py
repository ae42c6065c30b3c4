"""Who a log line is about: the request id (ops.middleware.RequestIdMiddleware, or "job-<id>" in a
Celery job) and the user, added to every record that reaches the console handler, and the JSON
formatter of settings.LOGGING (LOG_FORMAT=json): one object per line, for a log collector.

Nothing here imports Django models: settings.LOGGING loads this module before the apps."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any

from django.utils.functional import LazyObject, empty

NO_VALUE = "-"

# ContextVars rather than thread-locals: a thread starts with an empty context (a background
# thread of `make demo` does not inherit the id of the request that started it), and code run
# through asgiref's sync_to_async keeps the caller's.
_request_id: ContextVar[str] = ContextVar("ops_request_id", default=NO_VALUE)
_request: ContextVar[Any] = ContextVar("ops_request", default=None)


def bind(request_id: str, request: Any = None) -> Token[str]:
    """Make `request_id` (and the user of `request`) that of the log lines from here on; the
    token undoes it (`unbind`)."""
    _request.set(request)
    return _request_id.set(request_id)


def unbind(token: Token[str] | None = None) -> None:
    """Back to no id: to the value before `bind` with its token, else to none at all."""
    _request.set(None)
    if token is not None:
        _request_id.reset(token)
    else:
        _request_id.set(NO_VALUE)


def current_request_id() -> str:
    return _request_id.get()


def current_user() -> str:
    """The primary key of the request's user once something has looked it up, else "-".

    Never looks the user up itself: AuthenticationMiddleware's user is lazy, and evaluating it
    here would read the session and the user table for a line that would not have needed them
    (and, for a line logged by the database layer, log again from inside the logging)."""
    request = _request.get()
    if request is None:
        return NO_VALUE
    user = request.__dict__.get("user")  # set by AuthenticationMiddleware or the API's auth
    if user is None:
        return NO_VALUE
    if issubclass(type(user), LazyObject):
        user = user._wrapped  # the lazy object's own slot: reading it evaluates nothing
        if user is empty:
            return NO_VALUE
    pk = getattr(user, "pk", None)
    return NO_VALUE if pk is None else str(pk)


class RequestContextFilter(logging.Filter):
    """Adds `request_id` and `user` to each record (for the text format's %(request_id)s and the
    JSON formatter). On the handler, not a logger: a logger's filters see only the records
    logged on that very logger, a handler's see those propagated from every logger below."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "user"):
            record.user = current_user()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601 with the offset, milliseconds), level, logger,
    message, request_id, user; the HTTP status of django.request's lines; the traceback as text
    under exc_info (never the frames' variables). Non-ASCII kept as is: the messages are Chinese."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created)
            .astimezone()
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # From the record when RequestContextFilter ran; else (a handler without the filter)
            # from the context this line is formatted in, which is the one it was logged in.
            "request_id": str(getattr(record, "request_id", None) or current_request_id()),
            "user": str(getattr(record, "user", None) or current_user()),
        }
        status_code = getattr(record, "status_code", None)
        if isinstance(status_code, int):
            entry["status_code"] = status_code
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
