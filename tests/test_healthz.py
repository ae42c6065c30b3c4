"""GET /healthz for the load balancer (ops.health, ops.views), the request ids of
ops.middleware.RequestIdMiddleware and the JSON log lines that carry them (ops.logs).

With REDIS_URL in the environment (CI's PostgreSQL run) the cache and broker checks run against
the real Redis; without it they are switched on against a Redis that is down, or stubbed."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import threading
import time
from datetime import datetime

import pytest
from django.conf import settings as live_settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.db.utils import load_backend
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

import jobs.tasks
from ops import health, logs
from ops.logs import JsonFormatter, RequestContextFilter
from ops.views import healthz
from sme.env import ImproperlyConfiguredEnv
from tests.conftest import Personas, parsed
from tests.fresh_settings import fresh_settings

URL = "/healthz"
HEX_ID = re.compile(r"[0-9a-f]{32}")
DOWN_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_on(settings) -> None:  # type: ignore[no-untyped-def]
    """The Redis checks switched on, as with REDIS_URL set (the real one when there is one)."""
    settings.REDIS_URL = os.environ.get("REDIS_URL") or DOWN_REDIS


@pytest.fixture
def broker_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "check_broker", lambda: None)


# --- All well ----------------------------------------------------------------------------------


def test_all_checks_pass_on_the_test_database() -> None:
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    expected = {"database"}
    if "replica" in live_settings.DATABASES:
        expected.add("replica")
    if os.environ.get("REDIS_URL"):
        expected |= {"cache", "broker"}
    assert body["checks"] == dict.fromkeys(expected, "ok")
    # SELECT 1 on the primary, and on the replica (read through default in the tests): nothing
    # else, no session, no user.
    assert 1 <= len(queries) <= 2
    assert all(q["sql"].strip().upper() == "SELECT 1" for q in queries.captured_queries)


def test_the_route_is_named_and_served_by_the_view() -> None:
    assert reverse("ops:healthz") == URL
    assert resolve(URL).func is healthz


def test_head_answers_like_get_and_other_methods_are_refused() -> None:
    client = Client()
    head = client.head(URL)
    assert head.status_code == 200
    assert head.content == b""
    assert client.post(URL).status_code == 405


def test_a_probe_never_gets_a_cookie_nor_a_cache() -> None:
    response = Client().get(URL)
    assert response.cookies == {}
    assert "no-store" in response["Cache-Control"]


def test_a_probe_with_a_session_cookie_reads_neither_session_nor_user(
    personas: Personas,
) -> None:
    """The idle-session middleware would load both for a logged-in browser: /healthz is
    answered before it."""
    client = personas.client_for(personas.ningbo_enterprise)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    assert response.cookies == {}
    assert 1 <= len(queries) <= 2
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "django_session" not in sql and "accounts_user" not in sql


def test_a_probe_is_answered_whatever_host_it_names() -> None:
    """A balancer probes each server by its address, which ALLOWED_HOSTS need not list."""
    assert Client().get(URL, HTTP_HOST="10.20.30.40:8000").status_code == 200


def test_the_redis_checks_pass_against_the_real_redis() -> None:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set")
    response = Client().get(URL)
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "ok"
    assert response.json()["checks"]["broker"] == "ok"


# --- Failures ------------------------------------------------------------------------------------


def test_a_database_failure_is_a_503_naming_the_check_without_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(alias: str) -> health.Check:
        def check() -> None:
            raise OperationalError(
                'connection to server at "db.internal" (10.0.0.9), port 5432 failed: '
                'password authentication failed for user "sme"'
            )

        return check if alias == DEFAULT_DB_ALIAS else health.check_database(alias)

    monkeypatch.setattr(health, "check_database", broken)

    response = Client().get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == "OperationalError"
    text = response.content.decode()
    assert "db.internal" not in text and "sme" not in text and "Traceback" not in text


def test_a_broken_database_connection_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real failure of a real connection: the check's connection points at a PostgreSQL
    server that is not there."""
    broken = load_backend("django.db.backends.postgresql").DatabaseWrapper(
        {
            **connections.settings[DEFAULT_DB_ALIAS],
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "127.0.0.1",
            "PORT": "1",
            "NAME": "nothing",
            "OPTIONS": {"connect_timeout": 1},
        },
        "broken",
    )
    monkeypatch.setattr(health, "connections", {DEFAULT_DB_ALIAS: broken})

    response = Client().get(URL)

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "OperationalError"


def test_redis_down_is_a_503_for_cache_and_broker(settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = settings.CELERY_BROKER_URL = DOWN_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DOWN_REDIS,
        }
    }
    health._broker_client.cache_clear()

    started = time.monotonic()
    response = Client().get(URL)

    assert time.monotonic() - started < health.TIMEOUT_SECONDS + 1
    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "checks": {"database": "ok", "cache": "ConnectionError", "broker": "ConnectionError"}
        | ({"replica": "ok"} if "replica" in settings.DATABASES else {}),
    }
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.usefixtures("redis_on", "broker_ok")
def test_a_failing_cache_alone_is_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    class DownCache:
        def set(self, *args: object, **kwargs: object) -> None:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

        def get(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("not reached")

    monkeypatch.setattr(health, "cache", DownCache())

    response = Client().get(URL)

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "ConnectionError"
    assert response.json()["checks"]["broker"] == "ok"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.usefixtures("redis_on", "broker_ok")
def test_a_hanging_cache_times_out_and_is_not_piled_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    calls: list[int] = []

    def hang() -> None:
        calls.append(1)
        release.wait(10)

    monkeypatch.setattr(health, "check_cache", hang)
    monkeypatch.setattr(health, "TIMEOUT_SECONDS", 0.2)
    try:
        started = time.monotonic()
        first = Client().get(URL)
        second = Client().get(URL)
        took = time.monotonic() - started
    finally:
        release.set()
        health._running["cache"].join(5)  # not left running into the next test

    assert first.status_code == second.status_code == 503
    assert first.json()["checks"]["cache"] == second.json()["checks"]["cache"] == "timeout"
    assert took < 1.5
    # The second probe found the first one's check still stuck and did not start another.
    assert calls == [1]


# --- Request ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [URL, "/accounts/login/", "/no-such-page/"])
def test_a_well_formed_request_id_from_the_proxy_is_kept(path: str) -> None:
    response = Client().get(path, HTTP_X_REQUEST_ID="lb-4f2a.9_c-01")
    assert response["X-Request-ID"] == "lb-4f2a.9_c-01"


@pytest.mark.parametrize(
    "offered",
    ["", "a" * 65, "has space", "semi;colon", "引号", "back\\slash", "new\nline", "x\ty"],
)
def test_a_malformed_or_missing_request_id_is_replaced(offered: str) -> None:
    response = Client().get(URL, HTTP_X_REQUEST_ID=offered)
    assert HEX_ID.fullmatch(response["X-Request-ID"])
    assert response["X-Request-ID"] != offered


def test_each_request_gets_its_own_id() -> None:
    client = Client()
    assert client.get(URL)["X-Request-ID"] != client.get(URL)["X-Request-ID"]
    assert logs.current_request_id() == logs.NO_VALUE  # unbound once the response is closed


def test_json_log_lines_carry_the_request_id(
    monkeypatch: pytest.MonkeyPatch, json_lines: io.StringIO
) -> None:
    def down() -> None:
        raise OSError("down")

    monkeypatch.setattr(health, "check_database", lambda alias: down)

    response = Client().get(URL, HTTP_X_REQUEST_ID="probe-123")

    assert response.status_code == 503
    lines = parsed(json_lines)
    by_logger = {line["logger"]: line for line in lines}
    # The check's own warning, and Django's error for the 503, logged after the middleware
    # returned: both within the request.
    assert by_logger["sme.health"]["level"] == "WARNING"
    assert by_logger["django.request"]["level"] == "ERROR"
    assert by_logger["django.request"]["status_code"] == 503
    for line in (by_logger["sme.health"], by_logger["django.request"]):
        assert line["request_id"] == "probe-123"
        assert line["user"] == "-"
        assert set(line) >= {"time", "level", "logger", "message", "request_id", "user"}
        assert datetime.fromisoformat(str(line["time"])).utcoffset() is not None


def test_json_log_lines_carry_the_logged_in_user(
    personas: Personas, json_lines: io.StringIO
) -> None:
    client = personas.client_for(personas.ningbo_admin)
    response = client.get("/no-such-page/")
    line = next(x for x in parsed(json_lines) if x["logger"] == "django.request")
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user"] == str(personas.ningbo_admin.pk)


def test_the_traceback_is_text_in_one_json_line() -> None:
    try:
        raise ValueError("出错了")
    except ValueError:
        record = logging.LogRecord("sme.test", logging.ERROR, __file__, 1, "失败 %s", ("x",), None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "失败 x"
    assert entry["exc_info"].startswith("Traceback") and "ValueError: 出错了" in entry["exc_info"]


def test_the_text_format_carries_the_request_id_too() -> None:
    formatter = logging.Formatter(live_settings.LOGGING["formatters"]["text"]["format"])
    record = logging.LogRecord("sme.test", logging.INFO, __file__, 1, "message", None, None)
    token = logs.bind("req-1")
    try:
        RequestContextFilter().filter(record)
    finally:
        logs.unbind(token)
    assert formatter.format(record).endswith("sme.test [req-1 -] message")


def test_a_celery_job_logs_under_its_job_id(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(jobs.tasks, "run", lambda pk: seen.append(logs.current_request_id()))

    jobs.tasks.run_job.run(7)

    assert seen == ["job-7"]
    assert logs.current_request_id() == logs.NO_VALUE


def test_log_format_is_json_unless_debug() -> None:
    def log_format(**env: str) -> str:
        try:
            value = fresh_settings("LOG_FORMAT", env=env, without=("LOG_FORMAT", "DEBUG"))
        except ImproperlyConfiguredEnv as refused:
            return str(refused)
        return value["LOG_FORMAT"]

    assert log_format() == "json"
    assert log_format(DEBUG="true") == "text"
    assert log_format(DEBUG="true", LOG_FORMAT="json") == "json"
    assert "LOG_FORMAT" in log_format(LOG_FORMAT="xml")
