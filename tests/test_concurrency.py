"""Reliability (issue 8): a double-clicked or retried 上报, two reviewers acting on the same report
at once, and a 批量导入 workbook posted twice each change the report exactly once; the request
that comes second gets the workflow's refusal (a message on the page, the API's 409, the row's
message in the import result), never a 500, and the audit trail and the analytics aggregate
agree with what happened.

The sequential variants run on every database. The truly concurrent ones need PostgreSQL: two
threads, each with its own connection, released together by a barrier, while whoever gets the
report's row lock first holds it a moment, so that the other really waits on the lock (without
`select_for_update` both would read the old status and both would succeed). SQLite serializes
every write, so there the race cannot happen and is not tested. Today is 2026-11-10 in
Shanghai: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from accounts import second_factor
from accounts.models import User
from analytics import cube
from audit.models import SecurityEvent
from jobs.models import Job
from reports import workflow
from reports.models import Report, ReportEvent
from reports.workflow import (
    ALREADY_LOCALLY_APPROVED,
    Action,
    TransitionError,
    approve_local,
)
from review.services import approve, send_back
from tests.browser_support import restore_catalogue
from tests.conftest import PASSWORD, Personas, authenticator_code, make_admin
from tests.test_api_reports import Api
from tests.test_bulk_import import bulk_template, enterprises, fill_rows, post
from tests.test_report_services import fill_everything

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
OCTOBER = "2026-10"
SUBMIT_URL = f"/reports/{OCTOBER}/submit/"
RETURN_REASON = "营业收入与上月差异过大，请核实"
# What a second 上报 of a month already 待审核 is told (reports.workflow.check_editable).
NOT_EDITABLE = "该月报表当前状态为「待审核」，不能修改。"
# What a second import of a month already 待审核 is told (reports.workflow._check_status).
IMPORT_REFUSED = "该月报表当前状态为「待审核」，不能代为导入上报。"

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite serializes writes: two transactions cannot race for a row lock"
)
# Each thread opens its own connection, which sees only committed rows: no test transaction.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def catalogue(reference_data: None) -> None:
    """The indicator catalogue and rules come from data migrations, which a transactional test
    before this one has flushed away."""
    restore_catalogue()


@pytest.fixture
def slow_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever locks the report holds the lock a moment, so that a concurrent request arrives
    while it is held and has to wait for the commit (the race the lock exists for)."""
    lock = workflow._lock

    def held(report_pk: int, actor: User) -> Report:
        report = lock(report_pk, actor)
        time.sleep(0.3)
        return report

    monkeypatch.setattr(workflow, "_lock", held)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread with its own database connection; each
    call's result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[n] = call()
        except BaseException as exc:  # handed back to the test, which decides
            outcomes[n] = exc
        finally:
            connection.close()  # this thread's own connection, not the test's

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return outcomes


def ready_to_submit(personas: Personas) -> Report:
    """A complete month in 编辑, through the real step services (committed when transactional)."""
    return fill_everything(personas.ningbo_enterprise)


def submitted(personas: Personas) -> Report:
    """A month the enterprise has submitted through the page: 待审核, at local review (宁波 has
    its local administrators)."""
    report = ready_to_submit(personas)
    client = personas.client_for(personas.ningbo_enterprise)
    assert client.post(SUBMIT_URL).status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert report.review_level == Report.ReviewLevel.LOCAL
    return report


def actions(report: Report, *only: str) -> list[str]:
    events = ReportEvent.objects.filter(report=report).order_by("pk")
    if only:
        events = events.filter(action__in=only)
    return list(events.values_list("action", flat=True))


def assert_one_submission(report: Report) -> None:
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert Report.objects.filter(enterprise_id=report.enterprise_id, period=OCTOBER).count() == 1
    assert actions(report) == [Action.CREATE, Action.SUBMIT]
    assert cube.verify([OCTOBER]) == []


def page_message(client: Client, response: HttpResponse) -> str:
    """The page a redirect leads to, with the message it carries."""
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


# --- 1. 上报 twice -------------------------------------------------------------------------------


def test_a_double_clicked_submit_on_the_page_submits_once(personas: Personas) -> None:
    report = ready_to_submit(personas)
    client = personas.client_for(personas.ningbo_enterprise)
    first = client.post(SUBMIT_URL)
    assert first.status_code == 302 and first["Location"] == "/"
    second = client.post(SUBMIT_URL)
    assert second["Location"] == f"/reports/{OCTOBER}/questionnaires/"
    assert NOT_EDITABLE in page_message(client, second)
    assert_one_submission(report)


def test_a_retried_submit_through_the_api_is_a_409(personas: Personas) -> None:
    report = ready_to_submit(personas)
    api = Api(personas.ningbo_enterprise.username)
    first = api.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert first.status_code == 200 and first.json()["status"] == "pending"
    second = api.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert second.status_code == 409  # documented: "当前状态不能上报时 409"
    assert second.json() == {"detail": NOT_EDITABLE}
    assert_one_submission(report)


@needs_postgres
@committed
@pytest.mark.usefixtures("slow_lock")
@pytest.mark.parametrize("through", ["page", "api"])
def test_two_submits_at_once_submit_once(personas: Personas, through: str) -> None:
    report = ready_to_submit(personas)
    user = personas.ningbo_enterprise
    if through == "page":
        clients = [personas.client_for(user), personas.client_for(user)]
        outcomes = race(*(lambda c=c: c.post(SUBMIT_URL) for c in clients))
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
        places = sorted(o["Location"] for o in outcomes)
        assert places == ["/", f"/reports/{OCTOBER}/questionnaires/"]
        loser = next(c for c, o in zip(clients, outcomes, strict=True) if o["Location"] != "/")
        assert NOT_EDITABLE in loser.get(f"/reports/{OCTOBER}/questionnaires/").content.decode()
    else:
        apis = [Api(user.username), Api(user.username)]
        body = {"explanations": {}}
        outcomes = race(*(lambda a=a: a.post(f"/reports/{OCTOBER}/submit", body) for a in apis))
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
        assert sorted(o.status_code for o in outcomes) == [200, 409]
        refused = next(o for o in outcomes if o.status_code == 409)
        assert refused.json() == {"detail": NOT_EDITABLE}
    assert_one_submission(report)


# --- 2. Two reviewers at once -------------------------------------------------------------------

REVIEW_ACTIONS = (Action.APPROVE_LOCAL, Action.APPROVE, Action.RETURN)


def assert_review_consistent(report: Report, *expected: str) -> None:
    """The report went through exactly the expected review steps, and the aggregate is what a
    recomputation from the reports gives (no step counted twice, none lost)."""
    assert actions(report, *REVIEW_ACTIONS) == list(expected)
    assert cube.verify([OCTOBER]) == []


def second_senior_admin() -> User:
    return make_admin("admin2", None)


def test_two_local_administrators_approving_one_after_the_other(personas: Personas) -> None:
    """宁波 and 浙江 both manage the enterprise's county: the second to press 审核通过 is told."""
    report = submitted(personas)
    url = f"/review/reports/{report.pk}/approve/"
    ningbo = personas.client_for(personas.ningbo_admin)
    zhejiang = personas.client_for(personas.zhejiang_admin)
    assert ningbo.post(url).status_code == 302
    second = zhejiang.post(url)
    assert second.status_code == 409
    assert ALREADY_LOCALLY_APPROVED in second.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert report.review_level == Report.ReviewLevel.NATIONAL
    assert_review_consistent(report, Action.APPROVE_LOCAL)


def test_a_national_approval_then_a_return_by_another_administrator(personas: Personas) -> None:
    report = submitted(personas)
    approve_local(report, personas.ningbo_admin)
    other = second_senior_admin()
    approving = personas.client_for(personas.senior_admin)
    returning = personas.client_for(other)
    assert approving.post(f"/review/reports/{report.pk}/approve/").status_code == 302
    second = returning.post(f"/review/reports/{report.pk}/return/", {"text": RETURN_REASON})
    assert second.status_code == 409
    assert "该月报表当前状态为「审核通过」，不能审核退回。" in second.content.decode()
    report.refresh_from_db()
    assert report.status == Report.Status.APPROVED
    assert_review_consistent(report, Action.APPROVE_LOCAL, Action.APPROVE)


@needs_postgres
@committed
@pytest.mark.usefixtures("slow_lock")
def test_two_local_administrators_approving_at_once(personas: Personas) -> None:
    report = submitted(personas)
    admins = [personas.ningbo_admin, personas.zhejiang_admin]
    # Each loads the report as its page did: 待审核 at local review.
    outcomes = race(*(lambda a=a: approve(Report.objects.get(pk=report.pk), a) for a in admins))
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], TransitionError), outcomes
    assert refused[0].message == ALREADY_LOCALLY_APPROVED
    report.refresh_from_db()
    assert report.status == Report.Status.PENDING
    assert report.review_level == Report.ReviewLevel.NATIONAL
    assert_review_consistent(report, Action.APPROVE_LOCAL)


@needs_postgres
@committed
@pytest.mark.usefixtures("slow_lock")
def test_a_national_approval_and_a_return_at_once(personas: Personas) -> None:
    report = submitted(personas)
    approve_local(report, personas.ningbo_admin)
    other = second_senior_admin()
    outcomes = race(
        lambda: approve(Report.objects.get(pk=report.pk), personas.senior_admin),
        lambda: send_back(Report.objects.get(pk=report.pk), other, [], RETURN_REASON),
    )
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], TransitionError), outcomes
    report.refresh_from_db()
    # Either may win; the other is refused by the status the winner left.
    assert report.status in (Report.Status.APPROVED, Report.Status.RETURNED)
    winner = Action.APPROVE if report.status == Report.Status.APPROVED else Action.RETURN
    loser = "审核退回" if winner == Action.APPROVE else "审核通过"
    shown = report.get_status_display()
    assert refused[0].message == f"该月报表当前状态为「{shown}」，不能{loser}。"
    assert_review_consistent(report, Action.APPROVE_LOCAL, winner)


# --- 3. 批量导入 twice ---------------------------------------------------------------------------


def test_a_bulk_import_posted_twice_imports_each_enterprise_once(personas: Personas) -> None:
    enterprises(2)
    client = personas.client_for(personas.zhejiang_admin)
    workbook = fill_rows(bulk_template(client))
    post(client, workbook)
    post(client, workbook)  # the same file again: a retry, or a second click
    first, second = Job.objects.order_by("pk")
    assert first.status == second.status == Job.Status.DONE, (first.message, second.message)
    # The template holds every enterprise of 浙江: these two and the personas' one.
    assert first.summary == {"新建": 3, "更新": 0, "拒绝": 0}
    assert second.summary == {"新建": 0, "更新": 0, "拒绝": 3}
    assert {p["message"] for p in second.problems} == {IMPORT_REFUSED}

    reports = Report.objects.filter(period=OCTOBER)
    assert reports.count() == 3
    assert set(reports.values_list("status", "method")) == {("pending", "import")}
    for report in reports:
        assert actions(report) == [Action.CREATE, Action.IMPORT]
    assert cube.verify([OCTOBER]) == []


# --- 4. One second-factor code, two logins at once ----------------------------------------------


@needs_postgres
@committed
def test_one_authenticator_code_sent_twice_at_once_logs_in_once(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device row is locked while a code is checked (accounts.second_factor): the second
    request waits, then finds the code spent."""
    admin = personas.senior_admin
    device = second_factor.enrolment(admin)
    device.confirmed = True
    device.save()
    lookup = second_factor._locked_device

    def held(user: User, confirmed: bool) -> Any:
        found = lookup(user, confirmed)
        time.sleep(0.3)  # the other request arrives while this one holds the row
        return found

    monkeypatch.setattr(second_factor, "_locked_device", held)
    clients = [Client(), Client()]
    for client in clients:
        client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    code = authenticator_code(admin)
    outcomes = race(*(lambda c=c: c.post("/accounts/login/code/", {"code": code}) for c in clients))
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert sorted(o.status_code for o in outcomes) == [200, 302]
    refused = next(o for o in outcomes if o.status_code == 200)
    assert second_factor.WRONG_CODE in refused.content.decode()
    logins = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_OK, actor=admin)
    assert logins.count() == 1
