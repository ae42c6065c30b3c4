"""Reliability (issue 8): the application process killed with SIGKILL in the middle of a 上报 and
of a 上报导入 leaves nothing half-written, and the retry then succeeds once.

A child process (the application, pointed at the pytest test database, as in
tests/test_jobs_reaper.py) runs the real service: reports.services.submit, or
transfer.imports.import_template. A hook lets it do all of its writes and then stop inside the
transaction: for 上报 after the submit ReportEvent (so the new status, the analytics aggregate's
move and the audit entry are all written), for 上报导入 after the ImportLog of the saved import (so
all three steps are written). There it prints its PostgreSQL backend's pid and sleeps; the test
checks that backend is `idle in transaction`, kills the child with SIGKILL, waits until
PostgreSQL has dropped the connection (and with it rolled back the transaction), and finds the
month exactly as before. Then the retry through the page succeeds, once.

PostgreSQL only: pytest-django's SQLite test database lives in memory, where no other process can
open it. The tests are skipped there, except where REQUIRE_FAULT_TESTS=true (CI's PostgreSQL run),
where that is a failure, so that the proof cannot silently vanish."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection

from analytics.cube import verify as cube_verify
from analytics.models import Cell
from reports.models import Explanation, IndicatorValue, ProductLine, Report, ReportEvent
from reports.workflow import Action
from tests.browser_support import restore_catalogue
from tests.conftest import Personas
from tests.test_import_template import good, template, upload
from tests.test_jobs_reaper import killed_while_writing
from tests.test_report_services import OCTOBER, fill_everything
from tests.xlsx_filling import fill
from transfer.models import ImportLog

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: the month is 2026-10
SUBMIT_URL = f"/reports/{OCTOBER}/submit/"

# The child stops its clock where the test's is (the month must be open), then lets it run:
# PostgreSQL's own timestamps and the sleep are real either way.
PRELUDE = f"""
import sys, time
import time_machine
time_machine.travel({NOW.isoformat()!r}, tick=True).start()
import django
django.setup()
from django.db import connection

def stop_here():
    # Everything is written, nothing committed: say which backend holds the transaction, then
    # wait for the SIGKILL.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        print("written", cursor.fetchone()[0], flush=True)
    time.sleep(120)
"""

SUBMIT_CHILD = (
    PRELUDE
    + """
from accounts.models import User
from reports import workflow
from reports.models import Report
from reports.services import submit

# The last write of a submission: the audit entry, after the status and the aggregate's move.
event = workflow._event

def event_then_stop(report, action, *args, **kwargs):
    written = event(report, action, *args, **kwargs)
    if action == workflow.Action.SUBMIT:
        stop_here()
    return written

workflow._event = event_then_stop
user = User.objects.get(pk=int(sys.argv[1]))
submit(user, Report.objects.get(pk=int(sys.argv[2])))
print("submitted", flush=True)
"""
)

IMPORT_CHILD = (
    PRELUDE
    + """
from accounts.models import User
from reports.periods import Period
from transfer import imports

# The last write of a saved import: its ImportLog, after the three steps.
save_log = imports._save_log

def log_then_stop(log, outcome, errors):
    save_log(log, outcome, errors)
    if outcome == "saved":
        stop_here()

imports._save_log = log_then_stop
user = User.objects.get(pk=int(sys.argv[1]))
with open(sys.argv[2], "rb") as upload:
    imports.import_template(user, Period.parse(sys.argv[3]), upload, filename="模板.xlsx")
print("imported", flush=True)
"""
)


@pytest.fixture(autouse=True)
def on_postgres() -> None:
    if connection.vendor == "postgresql":
        return
    problem = (
        "pytest-django's SQLite test database lives in memory: no other process can open it, so "
        "the application process cannot be run apart and killed. Run on PostgreSQL "
        "(DATABASE_URL=postgres://…), as CI does."
    )
    if os.environ.get("REQUIRE_FAULT_TESTS") == "true":
        pytest.fail(f"REQUIRE_FAULT_TESTS=true but {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(autouse=True)
def frozen_time(on_postgres: None) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def catalogue(on_postgres: None, reference_data: None) -> None:
    """The indicator catalogue and rules come from data migrations, which a transactional test
    before this one has flushed away."""
    restore_catalogue()


def actions(report: Report) -> list[str]:
    return list(
        ReportEvent.objects.filter(report=report).order_by("pk").values_list("action", flat=True)
    )


def aggregate() -> list[tuple[Any, ...]]:
    """The month's analytics aggregate, row by row."""
    fields = [f.attname for f in Cell._meta.concrete_fields if f.attname != "id"]
    return sorted(Cell.objects.filter(period=OCTOBER).values_list(*fields))


def month(report: Report) -> dict[str, Any]:
    """Everything of the month a submission or an import writes."""
    report.refresh_from_db()
    return {
        "report": (report.status, report.version, report.method, report.basic_info),
        "submitted_at": report.submitted_at,
        "explanations": sorted(
            Explanation.objects.filter(report=report).values_list("rule", "text")
        ),
        "values": sorted(
            IndicatorValue.objects.filter(report=report).values_list("code", "current", "ytd")
        ),
        "products": list(ProductLine.objects.filter(report=report).values_list("name", flat=True)),
        "events": actions(report),
        "imports": list(ImportLog.objects.values_list("outcome", flat=True)),
        "aggregate": aggregate(),
    }


@pytest.mark.django_db(transaction=True)  # the child sees only what is committed
def test_killed_in_the_middle_of_a_submission(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    report = fill_everything(user)  # valid and complete, in 编辑
    before = month(report)
    assert before["report"][0] == Report.Status.DRAFT and before["events"] == [Action.CREATE]

    killed_while_writing(SUBMIT_CHILD, str(user.pk), str(report.pk))

    assert month(report) == before  # still 编辑, same version, no submit event, aggregate as was
    assert cube_verify([OCTOBER]) == []

    client = personas.client_for(user)
    response = client.post(SUBMIT_URL)  # 请重新上报
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.post(SUBMIT_URL).status_code == 302  # a second click is refused, not counted
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert actions(report) == [Action.CREATE, Action.SUBMIT]
    assert aggregate() != before["aggregate"]  # the submission is counted now, once:
    assert cube_verify([OCTOBER]) == []


@pytest.mark.django_db(transaction=True)
def test_killed_in_the_middle_of_an_import(personas: Personas, tmp_path: Path) -> None:
    user = personas.ningbo_enterprise
    report = fill_everything(user)  # the month as it stands: basic information and indicators
    client = personas.client_for(user)
    workbook = fill(good(template(client)), indicators={"gross_output": {"ytd": 9100}})
    before = month(report)
    assert before["products"] == [] and before["imports"] == []

    path = tmp_path / "模板.xlsx"
    path.write_bytes(workbook)
    killed_while_writing(IMPORT_CHILD, str(user.pk), str(path), str(OCTOBER))

    # None of the three steps is kept, nor the log of a saved import.
    assert month(report) == before
    assert cube_verify([OCTOBER]) == []

    response = upload(client, workbook)  # the same file again
    assert response.status_code == 302 and response["Location"] == f"/reports/{OCTOBER}/basic/"
    after = month(report)
    assert after["imports"] == [ImportLog.Outcome.SAVED]  # imported once
    assert after["report"][0] == Report.Status.DRAFT
    assert after["report"][1] == before["report"][1] + 3  # each of the three steps, once
    assert after["report"][2] == Report.Method.IMPORT
    assert after["report"][3]["legal_representative"] == "张三"
    assert after["products"] == ["大米"]
    assert ("gross_output", 1000, 9100) in after["values"]
    assert after["events"] == before["events"]  # a draft's edits are not audit entries
    assert cube_verify([OCTOBER]) == []
