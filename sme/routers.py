"""Reads that may go to the PostgreSQL read replica (DATABASE_REPLICA_URL, alias "replica").

The replica trails the primary by the moment streaming replication takes, so nothing is sent there
unless the code says that slightly stale data is acceptable: the analytics page, its exports and
the analysis report, the aggregates and completion figures of the API. Those say so with
`replica_reads()`, as a decorator or a `with` block; every other read and every write goes to
"default", and so does everything when no replica is configured.

A read inside `transaction.atomic()` on the primary stays on the primary even within
`replica_reads()`: the transaction must see its own uncommitted writes (and tests, which run in a
transaction, keep reading the rows they created).

Under Django's test environment the replica is a TEST MIRROR of default, and replica reads go
through default: Django only gives the mirror the test database's name and keeps its server, so
the tests would otherwise read that database from the replica server, behind by a moment, through
an alias most tests do not allow (the browser tests' live server). tests/test_replica.py turns
this off (`follow_test_mirror`) to prove the routing against a real replica.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

REPLICA = "replica"

# A ContextVar rather than a thread-local: each thread starts with its own context, and code run
# through asgiref's sync_to_async keeps the caller's, so the flag follows the request either way.
_replica_allowed: ContextVar[bool] = ContextVar("replica_allowed", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block (or the decorated function) reads may be served by the replica.

    Only for reads whose result may trail the latest commits by a moment (figures, exports):
    never around code that reads a row to change it, or that must see what was just saved."""
    token = _replica_allowed.set(True)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


# Whether, under Django's test environment, replica reads go through the alias the replica mirrors.
follow_test_mirror = True


def replica_configured() -> bool:
    """Whether settings define the replica alias (only when DATABASE_REPLICA_URL is set)."""
    return REPLICA in settings.DATABASES


def reading_from_replica() -> bool:
    """Where the next read would go: the replica only inside `replica_reads()`, with a replica
    configured, and outside any transaction on the primary."""
    return (
        _replica_allowed.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    )


def _in_test_environment() -> bool:
    """Whether Django's setup_test_environment() is in force (pytest-django, manage.py test);
    a server never calls it. Looked up in sys.modules so that nothing is imported for this."""
    test_utils = sys.modules.get("django.test.utils")
    return test_utils is not None and hasattr(test_utils._TestState, "saved_data")


def replica_alias() -> str:
    """The alias replica reads use: "replica", or in the tests the alias it mirrors (default)."""
    if follow_test_mirror and _in_test_environment():
        mirror = settings.DATABASES.get(REPLICA, {}).get("TEST", {}).get("MIRROR")
        return mirror or REPLICA
    return REPLICA


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when DATABASE_REPLICA_URL is set.

    Both aliases hold the same data, so every answer is explicit: returning None would let Django
    fall back to the database an instance was loaded from, and an object read from the replica
    would then be saved to it (which a hot standby refuses)."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return replica_alias() if reading_from_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The same rows on both sides: an object read from the replica may point to one from the
        # primary (and the other way round).
        databases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in databases and obj2._state.db in databases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica receives the schema through replication; it cannot be written to.
        return False if db == REPLICA else None
