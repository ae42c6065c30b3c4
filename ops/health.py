"""The checks of /healthz: what a server needs to answer requests.

- database: `SELECT 1` on the request's own connection to the primary (the persistent one the
  pages use, so a probe opens nothing new), and on the replica when DATABASE_REPLICA_URL is set;
- cache and broker, when REDIS_URL is set: a key written and read back through Django's cache,
  and a PING to the Celery broker's Redis.

A check that hangs must not hang the probe: the Redis checks run in a thread each and are given
up after TIMEOUT_SECONDS (and while one of them is still stuck, the next probe reports it as timed
out at once instead of starting another). The database checks run on the request's thread, since
a Django connection belongs to its thread; an unreachable PostgreSQL server is bounded by
libpq's connect_timeout (DATABASE_URL `?connect_timeout=2`) and by the balancer's own timeout.

A failure is answered with the check's name and a short reason (the exception's class, or
"timeout"): never a message, which may name hosts, users or a DSN. The message goes to the log."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

from sme.routers import REPLICA, replica_alias, replica_configured

logger = logging.getLogger("sme.health")

OK = "ok"
TIMEOUT = "timeout"
TIMEOUT_SECONDS = 2.0

Check = Callable[[], None]


class CheckFailed(Exception):
    """A check that ran but found something wrong (not an error of a client library)."""


def check_database(alias: str) -> Check:
    def check() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return check


def check_cache() -> None:
    # A key of its own each time: two probes at once in one process (threads) or in several
    # must not read each other's value. It expires by itself; nothing is left to delete.
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, OK, timeout=10)
    if cache.get(key) != OK:
        raise CheckFailed("read back")


@lru_cache(maxsize=4)
def _broker_client(url: str) -> redis.Redis:
    """One client (and so one pool of connections) per process, kept between probes; timeouts of
    its own, whatever the broker's settings."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )


def check_broker() -> None:
    if not _broker_client(settings.CELERY_BROKER_URL).ping():
        raise CheckFailed("no PONG")


def checks() -> tuple[dict[str, Check], dict[str, Check]]:
    """The checks that apply with these settings: (on the request's thread, in threads)."""
    direct = {"database": check_database(DEFAULT_DB_ALIAS)}
    if replica_configured():
        # In the tests the replica is a mirror of default and is read through it (sme.routers).
        direct[REPLICA] = check_database(replica_alias())
    threaded: dict[str, Check] = {}
    if settings.REDIS_URL:
        threaded["cache"] = check_cache
        threaded["broker"] = check_broker
    return direct, threaded


# The thread of each threaded check still running, so that a stuck one is not joined by more.
_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


class _Outcome:
    def __init__(self) -> None:
        self.error: BaseException | None = None


def _start(name: str, check: Check) -> tuple[threading.Thread, _Outcome] | None:
    """Run `check` in a daemon thread; None when the previous run of it is still stuck."""
    outcome = _Outcome()

    def target() -> None:
        try:
            check()
        except BaseException as exc:  # reported to the probe, whatever it is
            outcome.error = exc

    with _running_lock:
        previous = _running.get(name)
        if previous is not None and previous.is_alive():
            return None
        # The request's context (its id) goes along, so the check's own log lines carry it.
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(target,), name=f"healthz-{name}", daemon=True
        )
        _running[name] = thread
        thread.start()
    return thread, outcome


def _failed(name: str, error: BaseException) -> str:
    logger.warning("health check %s failed: %s: %s", name, type(error).__name__, error)
    return type(error).__name__


def run_checks() -> dict[str, str]:
    """Each applicable check's name and "ok", or a short reason it failed."""
    direct, threaded = checks()
    deadline = time.monotonic() + TIMEOUT_SECONDS
    started = {name: _start(name, check) for name, check in threaded.items()}
    results: dict[str, str] = {}
    for name, check in direct.items():
        try:
            check()
        except Exception as exc:
            results[name] = _failed(name, exc)
        else:
            results[name] = OK
    for name, run in started.items():
        if run is not None:
            run[0].join(max(0.0, deadline - time.monotonic()))
        if run is None or run[0].is_alive():
            logger.warning("health check %s timed out after %.0f s", name, TIMEOUT_SECONDS)
            results[name] = TIMEOUT
        elif (error := run[1].error) is not None:
            results[name] = _failed(name, error)
        else:
            results[name] = OK
    return results
