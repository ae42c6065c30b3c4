"""Schemathesis against the app's own OpenAPI document (issue 8): every operation, fed generated
input as a national administrator and as an enterprise, must answer without a 5xx, with a status
code the document lists and a body its schema accepts.

Bounded for CI: a few examples per operation, derandomized so a red run is repeatable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import issue_api_token
from sme.wsgi import application
from tests.conftest import Personas

# The contract this file holds the API to; schemathesis's other default checks (negative data
# rejection and the like) judge API design choices the contract does not make.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

FUZZ_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    # `personas` is function-scoped on purpose: the accounts live for the whole operation's run,
    # and whatever the examples create is rolled back with the test's transaction.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,
)


# Read from the app itself at collection, so the test follows the document ninja serves today
# (serving it touches no database). schemathesis.pytest.from_fixture would defer this to a
# fixture, but 4.32 trips over pytest 9's nodes ('Function' has no '_nodeid').
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection() -> Iterator[None]:
    """schemathesis calls the bare WSGI app, whose request signals close the database connection
    at the end of each request: on PostgreSQL that ends the test's transaction. Django's own
    test client disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def bearer_for(user: Any) -> dict[str, str]:
    key, _ = issue_api_token(user)
    return {"Authorization": f"Bearer {key}"}


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_api_as_national_administrator(case: Any, personas: Personas) -> None:
    case.call_and_validate(headers=bearer_for(personas.senior_admin), checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_api_as_enterprise(case: Any, personas: Personas) -> None:
    case.call_and_validate(headers=bearer_for(personas.ningbo_enterprise), checks=CHECKS)
