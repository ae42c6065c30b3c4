"""The deadline-day benchmark's parts (bin/load-test): the ceiling endpoint, prepare_load's pool,
the load client's clerk driven through the real pages (so the benchmark cannot drift from the
forms it claims to fill), and check_load's lost/duplicated check."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import User
from analytics.dataset import generate
from loadtest import clerk
from loadtest.clerk import Forms
from loadtest.models import Ping
from reports.models import Report
from reports.workflow import Action
from tests.conftest import Personas

NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PERIOD = "2026-10"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class TestCeilingEndpoint:
    def test_unknown_unless_turned_on(self, personas: Personas, settings) -> None:
        settings.LOAD_TEST_ENDPOINTS = False
        client = personas.client_for(personas.senior_admin)
        assert client.post("/loadtest/ping/").status_code == 404
        assert not Ping.objects.exists()

    def test_writes_one_row_for_a_logged_in_user(self, personas: Personas, settings) -> None:
        settings.LOAD_TEST_ENDPOINTS = True
        client = personas.client_for(personas.ningbo_enterprise)
        assert client.post("/loadtest/ping/").status_code == 204
        assert Ping.objects.get().user == personas.ningbo_enterprise
        assert client.get("/loadtest/ping/").status_code == 405

    def test_anonymous_and_forged_requests_write_nothing(
        self, personas: Personas, settings
    ) -> None:
        settings.LOAD_TEST_ENDPOINTS = True
        assert Client().post("/loadtest/ping/").status_code == 404
        forged = Client(enforce_csrf_checks=True)
        forged.force_login(personas.ningbo_enterprise)
        assert forged.post("/loadtest/ping/").status_code == 403
        assert not Ping.objects.exists()


@pytest.fixture
def pool(reference_data: None, tmp_path: Path) -> dict[str, Any]:
    generate(40, 13, PERIOD, 5, out=lambda _: None, now=NOW, rebuild_cube=False)
    out = tmp_path / "pool.json"
    call_command("prepare_load", pool=6, out=str(out), stdout=StringIO())
    data = json.loads(out.read_text())
    data["file"] = str(out)
    return data


def login(username: str) -> Client:
    client = Client()
    form = Forms(client.get("/accounts/login/").content.decode()).form_with("username")
    assert form is not None
    response = client.post(
        "/accounts/login/", dict(form.data(username=username, password="Load@2026"))
    )
    assert response.status_code == 302, username
    return client


def post(client: Client, url: str, data: list[tuple[str, str]]) -> Any:
    """A browser's form post: repeated names stay repeated."""
    body: dict[str, list[str]] = {}
    for name, value in data:
        body.setdefault(name, []).append(value)
    return client.post(url, body)


def clerks_month(client: Client, enterprise: dict[str, Any]) -> None:
    """What the locust Clerk does, step by step, with the same reading and filling."""
    base = f"/reports/{PERIOD}"
    assert client.get("/reports/").status_code == 302

    def added_row() -> str:
        return client.get(f"{base}/products/row/").content.decode()

    for url, fill in (
        (f"{base}/basic/", clerk.step1),
        (f"{base}/indicators/", clerk.step2(enterprise)),
        (f"{base}/products/", clerk.step3(enterprise, added_row)),
    ):
        form = Forms(client.get(url).content.decode()).form_with("version")
        assert form is not None, url
        response = post(client, url, fill(form))
        if response.status_code == 200:  # warnings: the clerk gives reasons and saves again
            again = Forms(response.content.decode()).form_with("version")
            reasons = clerk.explained(again) if again else None
            assert reasons is not None, (url, clerk.problem(response.content.decode()))
            response = post(client, url, reasons)
        assert response.status_code == 302, (url, clerk.problem(response.content.decode()))
    links = clerk.questionnaire_links(client.get(f"{base}/questionnaires/").content.decode(), base)
    assert links
    for link in links:
        form = Forms(client.get(link).content.decode()).form_with("version")
        assert form is not None
        response = post(client, link, clerk.answers(form))
        assert response.status_code == 302, clerk.problem(response.content.decode())
    response = client.post(f"{base}/submit/")
    assert response.status_code == 302 and response["Location"] == "/"


class TestPoolAndCheck:
    def test_prepare_gives_accounts_and_an_empty_month(self, pool: dict[str, Any]) -> None:
        ids = [e["enterprise_id"] for e in pool["enterprises"]]
        assert len(ids) == 6 and pool["period"] == PERIOD
        assert User.objects.filter(enterprise_id__in=ids).count() == 6
        assert User.objects.filter(username="load_admin", user_type="senior_admin").exists()
        assert not Report.objects.filter(enterprise_id__in=ids, period=PERIOD).exists()
        # The month before stays: the clerk's page carries from it.
        assert Report.objects.filter(enterprise_id__in=ids, period="2026-09").exists()
        assert all(e["indicators"] for e in pool["enterprises"])

    def test_the_clerks_month_goes_through_the_real_pages_and_is_found_once(
        self, pool: dict[str, Any], tmp_path: Path
    ) -> None:
        acks = tmp_path / "acks.jsonl"
        done = pool["enterprises"][:3]
        for enterprise in done:
            clerks_month(login(enterprise["username"]), enterprise)
        acks.write_text("".join(json.dumps(e) + "\n" for e in done))
        out = StringIO()
        call_command("check_load", str(acks), pool=pool["file"], stdout=out)
        result = json.loads(out.getvalue().splitlines()[-1])
        assert result == {
            "acknowledged": 3,
            "found_once": 3,
            "lost": 0,
            "duplicated": 0,
            "stored_not_acknowledged": 0,
        }
        for enterprise in done:
            report = Report.objects.get(enterprise_id=enterprise["enterprise_id"], period=PERIOD)
            assert report.status == Report.Status.PENDING
            assert report.events.filter(action=Action.SUBMIT).count() == 1

        # An acknowledgement the database does not back is a lost submission.
        lost = pool["enterprises"][4]
        acks.write_text(acks.read_text() + json.dumps(lost) + "\n")
        with pytest.raises(CommandError, match="丢失 1 份"):
            call_command("check_load", str(acks), pool=pool["file"], stdout=StringIO())

        # Run again, the pool is back to an empty month, with the same accounts.
        call_command("prepare_load", pool=6, out=pool["file"], stdout=StringIO())
        ids = [e["enterprise_id"] for e in pool["enterprises"]]
        assert not Report.objects.filter(enterprise_id__in=ids, period=PERIOD).exists()
        assert User.objects.filter(username__startswith="load0").count() == 6

    def test_a_pool_file_of_another_database_is_refused(self, pool: dict[str, Any]) -> None:
        path = Path(pool["file"])
        other = json.loads(path.read_text())
        other["database"] = "sme_elsewhere"
        path.write_text(json.dumps(other))
        with pytest.raises(CommandError, match="属于数据库 sme_elsewhere"):
            call_command("prepare_load", pool=6, out=str(path), stdout=StringIO())

    def test_two_submit_events_are_a_duplicate(self, pool: dict[str, Any], tmp_path: Path) -> None:
        enterprise = pool["enterprises"][0]
        clerks_month(login(enterprise["username"]), enterprise)
        report = Report.objects.get(enterprise_id=enterprise["enterprise_id"], period=PERIOD)
        first = report.events.get(action=Action.SUBMIT)
        type(first).objects.bulk_create(
            [
                type(first)(
                    **{
                        f.attname: getattr(first, f.attname)
                        for f in first._meta.concrete_fields
                        if f.attname != "id"
                    }
                )
            ]
        )
        acks = tmp_path / "acks.jsonl"
        acks.write_text(json.dumps(enterprise) + "\n")
        with pytest.raises(CommandError, match="重复 1 份"):
            call_command("check_load", str(acks), pool=pool["file"], stdout=StringIO())
