"""The access matrix (issue 8): every page of the URL configuration and every operation of the
OpenAPI document, called as every persona, against the table of tests/access_table.py.

A route without an entry in the table (or an entry whose route is gone) fails
test_the_table_covers_every_route_and_operation. The data every call needs (enterprise A's months,
its key change, a notice, a job...) is built once for the module inside a transaction rolled back
at its end; each call runs in a savepoint of its own, rolled back after it, so that one persona's
approval or deletion never changes what the next persona meets. Time is frozen at 2026-11-10 10:00
in 上海: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from accounts.models import User
from accounts.services import issue_api_token
from directory.models import Region
from jobs.models import Job
from reports.basic_info import BasicInfoForm
from reports.models import KeyChangeRequest, Report
from reports.periods import Period
from reports.services import save_basic_info, save_indicators
from tests.access_table import API, MARKERS, PAGES, Entry, Outcome, Persona
from tests.browser_support import restore_catalogue
from tests.conftest import (
    PASSWORD,
    build_personas,
    force_login,
    make_admin,
    publish_notice,
)
from tests.test_report_pages import make_questionnaire
from tests.test_report_services import basic, indicators
from tests.test_review_pages import submitted

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
OPEN, PAST, CHANGED = Period(2026, 10), Period(2026, 9), Period(2026, 8)
REGION = "330200"  # 宁波
ADMIN_PREFIX = "admin:"
REDIRECTS = (301, 302, 303, 307, 308)


# --- The data of the module -----------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[Persona, str | None]
    sessions: dict[Persona, str | None]  # the session cookie of each persona's login
    values: dict[str, Any]  # the placeholders of the table's URLs and bodies
    media: Path


def build_world(media: Path) -> World:
    people = build_personas()
    users: dict[Persona, User | None] = {
        Persona.ANONYMOUS: None,
        Persona.ENTERPRISE_A: people.ningbo_enterprise,
        Persona.ENTERPRISE_B: people.guangdong_enterprise,
        Persona.LOCAL_CITY: people.ningbo_admin,
        Persona.LOCAL_PROVINCE: people.zhejiang_admin,
        Persona.LOCAL_OUTSIDE: people.guangdong_admin,
        Persona.NATIONAL: people.senior_admin,
    }
    clerk = people.ningbo_enterprise
    questionnaire = make_questionnaire(str(OPEN))
    # 2026-09 submitted: 待审核, awaiting 宁波's local review.
    report = submitted(clerk, PAST)
    # 2026-10 in 编辑 with basic information and figures, for the wizard and the view.
    save_basic_info(clerk, OPEN, BasicInfoForm.from_json(basic(clerk.enterprise)))
    save_indicators(clerk, OPEN, indicators())
    # 2026-08 frozen by a confirmed change of the name: the pending key change request.
    renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司")
    save_basic_info(clerk, CHANGED, BasicInfoForm.from_json(renamed), confirm_key_change=True)
    change = KeyChangeRequest.objects.get(report__period=str(CHANGED))
    notice = publish_notice(people.ningbo_admin, "宁波市月报填报通知", region=REGION)
    with override_settings(MEDIA_ROOT=media):
        job = Job.objects.create(
            kind="export",
            title="宁波康尔企业数据导出",  # a MARKER: only A may see it listed
            owner=clerk,
            status=Job.Status.DONE,
            result_name="result.xlsx",
        )
        job.result_file.save("result.xlsx", ContentFile(b"PK\x03\x04"), save=True)
    zhenhai = make_admin("zhenhai", "330211")
    assert Report.objects.get(pk=report.pk).status == Report.Status.PENDING
    values = {
        "open": str(OPEN),
        "past": str(PAST),
        "report": report.pk,
        "change": change.pk,
        "notice": notice.pk,
        "job": job.pk,
        "questionnaire": questionnaire.pk,
        "admin": zhenhai.pk,
        "region": REGION,
        "password": PASSWORD,
    }
    tokens = {p: issue_api_token(u)[0] if u else None for p, u in users.items()}
    sessions = {p: session_of(u) if u else None for p, u in users.items()}
    return World(tokens=tokens, sessions=sessions, values=values, media=media)


def session_of(user: User) -> str:
    """A logged-in session, made once: each test's client carries its cookie (a login per test
    would cost more than most requests). The test's own rollback undoes a logout."""
    client = Client()
    force_login(client, user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:  # type: ignore[no-untyped-def]
    """Built once; the outer transaction is rolled back when the module is done. Each test's own
    atomic block (pytest-django) is a savepoint inside it."""
    media = tmp_path_factory.mktemp("access-media")
    with django_db_blocker.unblock(), transaction.atomic():
        # A transactional test before this module (the browser tests) flushes the tables: the
        # reference data and the catalogue come back first, as the function-scoped fixtures do.
        if not Region.objects.exists():
            call_command("load_reference_data", verbosity=0)
        restore_catalogue()
        with time_machine.travel(NOW, tick=False):
            built = build_world(media)
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def world_media(jobs_inline: None, settings, world: World) -> None:  # type: ignore[no-untyped-def]
    # After conftest's jobs_inline, which gives each test a media directory of its own: the job's
    # result file was written to the module's.
    settings.MEDIA_ROOT = world.media


# --- Routes of the URL configuration and of the OpenAPI document --------------------------------


def resolver_routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, str, str]]:
    """(route, namespaced name, namespace) of every pattern, included ones too."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from resolver_routes(p.url_patterns, prefix + str(p.pattern), inner)
        else:
            name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, ns


def openapi_operations() -> set[tuple[str, str]]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return {
        (path, method.upper())
        for path, operations in response.json()["paths"].items()
        for method in operations
    }


def as_openapi(route: str) -> str:
    """api/v1/reports/<period> → /api/v1/reports/{period}"""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def is_served_file(route: str) -> bool:
    prefixes = [str(url or "").strip("/") for url in (settings.STATIC_URL, settings.MEDIA_URL)]
    return any(prefix and route.startswith(prefix + "/") for prefix in prefixes)


@pytest.mark.django_db
def test_the_table_covers_every_route_and_operation() -> None:
    operations = openapi_operations()
    api_paths = {path for path, _ in operations}
    names = set()
    for route, name, namespace in resolver_routes():
        if is_served_file(route) or as_openapi(route) in api_paths:
            continue  # operations are checked against the OpenAPI document below
        # The Django admin's patterns, named or not, are one entry.
        names.add(f"{ADMIN_PREFIX}*" if f"{namespace}:".startswith(ADMIN_PREFIX) else name or route)
    table_names = {name for name, _ in PAGES}
    problems = [f"page without an entry in the table: {n}" for n in sorted(names - table_names)]
    problems += [f"table entry of no page: {n}" for n in sorted(table_names - names)]
    problems += [f"operation without an entry: {m} {p}" for p, m in sorted(operations - set(API))]
    problems += [f"table entry of no operation: {m} {p}" for p, m in sorted(set(API) - operations)]
    assert not problems, "\n".join(problems)


PLACEHOLDERS = {"open": "2026-10", "past": "2026-09", "region": REGION}


def sample_url(template: str) -> str:
    """The entry's URL with any number for the ids: only its shape matters here."""
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m[1], "7"), template)


def test_every_page_entry_calls_its_own_page() -> None:
    wrong = []
    for (name, _), entry in PAGES.items():
        found = resolve(urlsplit(sample_url(entry.url)).path).view_name
        if found != name and not (name == f"{ADMIN_PREFIX}*" and found.startswith(ADMIN_PREFIX)):
            wrong.append(f"{name}: {entry.url} is {found}")
    assert not wrong, "\n".join(wrong)


def test_every_api_entry_calls_its_own_operation() -> None:
    wrong = []
    for (path, _), entry in API.items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path))
        if not re.fullmatch(pattern, urlsplit(sample_url(entry.url)).path):
            wrong.append(f"{path}: {entry.url}")
    assert not wrong, "\n".join(wrong)


def test_the_login_page_is_where_pages_send_anonymous_users() -> None:
    # LOGIN below recognises the page by this address.
    assert reverse(settings.LOGIN_URL) == "/accounts/login/"


# --- Calling every entry as every persona ---------------------------------------------------------


def fill(value: Any, values: dict[str, Any]) -> Any:
    """The placeholders of a body; "{report}" alone becomes the id itself (an int in JSON)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        return values[whole[1]] if whole else value.format(**values)
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    return value


def outcome_of(response: HttpResponse, method: str, api: bool) -> Outcome | None:
    status = response.status_code
    if status in REDIRECTS:
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return Outcome.LOGIN
        if location.startswith("/django-admin/login/"):
            return Outcome.ADMIN_LOGIN
        return Outcome.ALLOW
    if 200 <= status < 300:
        return Outcome.ALLOW
    if method != "GET" and status in (400, 409):
        return Outcome.ALLOW  # the input or the status was refused: access was granted
    if status == 401 and api:
        return Outcome.LOGIN
    return {403: Outcome.FORBIDDEN, 404: Outcome.DENY, 405: Outcome.METHOD}.get(status)


def describe(response: HttpResponse) -> str:
    where = f" → {response['Location']}" if response.status_code in REDIRECTS else ""
    return f"{response.status_code}{where}"


def cases(table: dict[tuple[str, str], Entry]) -> list[Any]:
    return [
        pytest.param(
            key,
            persona,
            id=f"{key[1]} {key[0]} {persona}",
            marks=[pytest.mark.xfail(strict=True, reason=entry.known[persona])]
            if persona in entry.known
            else [],
        )
        for key, entry in table.items()
        for persona in Persona
    ]


def page_client(world: World, persona: Persona) -> Client:
    client = Client()
    session = world.sessions[persona]
    if session is not None:
        # Made inside the frozen time of every test: the 30-minute idle session is fresh.
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def check(entry: Entry, persona: Persona, response: HttpResponse, method: str, api: bool) -> None:
    expected = entry.expect[persona]
    if expected is Outcome.OPEN:
        assert response.status_code < 400, f"{persona}: open to all, got {describe(response)}"
        return
    actual = outcome_of(response, method, api)
    assert actual == expected, (
        f"{persona} should get {expected}, got {describe(response)} ({actual})"
    )
    if entry.hide and expected is Outcome.ALLOW and response.status_code == 200:
        shown = re.search(MARKERS, text_of(response))
        if persona in entry.hide:
            assert shown is None, f"{persona} is shown {shown[0] if shown else ''} of A's"
        else:
            assert shown, f"{persona} should be shown A's objects here (or the check is empty)"


def text_of(response: HttpResponse) -> str:
    if response["Content-Type"].startswith("application/json"):
        # ninja writes Chinese as \u escapes.
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "persona"), cases(PAGES))
def test_page(world: World, key: tuple[str, str], persona: Persona) -> None:
    _, method = key
    entry = PAGES[key]
    client = page_client(world, persona)
    url = entry.url.format(**world.values)
    if method == "GET":
        response = client.get(url)
    else:
        response = (
            client.generic(method, url)
            if entry.data is None
            else client.post(url, fill(entry.data, world.values))
        )
    check(entry, persona, response, method, api=False)


def call_api(
    world: World,
    persona: Persona,
    method: str,
    url: str,
    *,
    body: str = "",
    form: dict[str, Any] | None = None,
) -> HttpResponse:
    """A program's call, by its token alone (no session): JSON `body`, or multipart `form`."""
    token = world.tokens[persona]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = Client()
    if form is not None:
        return client.post(url, form, headers=headers)
    if method == "GET":
        return client.get(url, headers=headers)
    return client.generic(method, url, body, content_type="application/json", headers=headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "persona"), cases(API))
def test_api(world: World, key: tuple[str, str], persona: Persona) -> None:
    _, method = key
    entry = API[key]
    url = entry.url.format(**world.values)
    if entry.files:
        form = {
            **fill(entry.data or {}, world.values),
            **{k: SimpleUploadedFile(v, b"not a workbook") for k, v in entry.files.items()},
        }
        response = call_api(world, persona, method, url, form=form)
    else:
        body = "" if entry.data is None else json.dumps(fill(entry.data, world.values))
        response = call_api(world, persona, method, url, body=body)
    check(entry, persona, response, method, api=True)


# --- A refusal comes before any validation ----------------------------------------------------

REFUSALS = {Outcome.FORBIDDEN: 403, Outcome.DENY: 404}


def takes_body(entry: Entry) -> bool:
    return entry.data is not None or bool(entry.files)


def openapi_document() -> dict[str, Any]:
    from api.urls import api  # the document /api/v1/openapi.json serves, without a request

    return api.get_openapi_schema()


def invalid_body(path: str, method: str) -> str:
    """A JSON body the operation's schema refuses: each of its fields of the wrong type (ninja
    reads a body that is no object at all as an empty one where every field has a default)."""
    document = openapi_document()
    content = document["paths"][path][method.lower()]["requestBody"]["content"]
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    names = list(schema.get("properties", {}))
    return json.dumps({name: [[[]]] for name in names}) if names else '"不是对象"'


def test_every_api_entry_sends_a_body_where_the_operation_takes_one() -> None:
    paths = openapi_document()["paths"]
    wrong = [
        f"{method} {path}"
        for (path, method), entry in API.items()
        if ("requestBody" in paths[path][method.lower()]) != takes_body(entry)
    ]
    assert not wrong, "\n".join(wrong)


def invalid_body_cases() -> list[Any]:
    return [
        pytest.param(
            key,
            id=f"{key[1]} {key[0]}",
            marks=[pytest.mark.xfail(strict=True, reason=entry.known_invalid_body)]
            if entry.known_invalid_body
            else [],
        )
        for key, entry in API.items()
        if takes_body(entry) and any(o in REFUSALS for o in entry.expect.values())
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("key", invalid_body_cases())
def test_an_invalid_body_is_refused_like_a_valid_one(world: World, key: tuple[str, str]) -> None:
    """403 and 404 come before any validation: a persona refused with a valid body is refused
    with a body the schema does not accept too, not told what the body lacks."""
    path, method = key
    entry = API[key]
    url = entry.url.format(**world.values)
    body = "" if entry.files else invalid_body(path, method)
    wrong = []
    for persona, expected in entry.expect.items():
        if expected not in REFUSALS:
            continue
        if entry.files:
            response = call_api(world, persona, method, url, form={})  # without the file
        else:
            response = call_api(world, persona, method, url, body=body)
        if response.status_code != REFUSALS[expected]:
            wrong.append(f"{persona}: {REFUSALS[expected]} expected, got {describe(response)}")
    assert not wrong, "\n".join(wrong)
