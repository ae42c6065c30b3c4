"""The enterprise's monthly report through /api/v1/ (API.md "Enterprise users"): the whole journey
with a Bearer token, key-information changes, scope, roles, malformed input and the optimistic
version check. Today is 2026-11-10 in Shanghai: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from directory.models import Enterprise
from reports.models import (
    Explanation,
    IndicatorValue,
    KeyChangeRequest,
    ProductLine,
    Question,
    Questionnaire,
    Report,
)
from reports.workflow import return_report
from tests.conftest import Personas, token_request
from tests.test_report_services import basic, flow

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
OCTOBER = "2026-10"
SEPTEMBER = "2026-09"
EXPORT_GROWTH = "export_delivery-growth-range"
REASON = "本月新接海外订单，出口交货值较上年同期大幅增长。"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class Api:
    """A client holding a Bearer token obtained through POST /api/v1/auth/token."""

    def __init__(self, username: str) -> None:
        self.client = Client()
        response = self.client.post(
            "/api/v1/auth/token",
            json.dumps(token_request(username)),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers)

    def put(self, path: str, body: Any, raw: bool = False) -> Any:
        data = body if raw else json.dumps(body)
        return self.client.put(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers
        )

    def post(self, path: str, body: Any = None, raw: bool = False) -> Any:
        data = body if raw else json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def owner(personas: Personas) -> Api:
    return Api("33029997")


def basic_info(enterprise: Enterprise, **overrides: Any) -> dict[str, Any]:
    """The services' step 1 (tests.test_report_services.basic), with a mobile and an e-mail."""
    contact = {"mobile": "13857401234", "email": "yang.shasha@example.com"}
    return basic(enterprise, **{**contact, **overrides})


def single(ytd: float, ly_ytd: float) -> dict[str, float]:
    return {"ytd": ytd, "last_year_ytd": ly_ytd}


def indicators(**overrides: Any) -> dict[str, Any]:
    """Like the manual's example: exports grew 433 % (a warning to explain), nothing is hard."""
    values: dict[str, Any] = {
        "gross_output": flow(1000, 9000, 900, 8000),
        "export_delivery": flow(100, 800, 10, 150),
        "electricity": flow(20000, 180000, 19000, 170000.5),
        "revenue": single(9500.125, 9000),
        "operating_cost": single(8000, 7600),
        "total_profit": single(-50, 120),
        "employees": single(120, 118),
    }
    values.update(overrides)
    return values


def products() -> list[dict[str, Any]]:
    return [
        {
            "name": "大米",
            "code": "0111",
            "unit": "吨",
            "production": flow(120, 1000, 100, 900),
            "sales": flow(110, 950, 95, 880),
        }
    ]


def report_of(user: User, period: str = OCTOBER) -> Report | None:
    return Report.objects.filter(enterprise_id=user.enterprise_id, period=period).first()


def snapshot(user: User) -> tuple[Any, ...]:
    """What the enterprise has saved: reports, values, products, explanations."""
    reports = Report.objects.filter(enterprise_id=user.enterprise_id)
    return (
        sorted(reports.values_list("period", "status", "version", "basic_info")),
        sorted(
            IndicatorValue.objects.filter(report__in=reports).values_list(
                "code", "current", "ytd", "last_year_current", "last_year_ytd"
            )
        ),
        sorted(ProductLine.objects.filter(report__in=reports).values_list("name", "unit")),
        sorted(Explanation.objects.filter(report__in=reports).values_list("rule", "text")),
    )


# --- The journey ---------------------------------------------------------------------------------


def test_the_journey_of_a_month_through_the_api(personas: Personas, owner: Api) -> None:
    user = personas.ningbo_enterprise

    # The open months: the current report month first, then the 补报 window.
    response = owner.get("/periods")
    assert response.status_code == 200
    months = response.json()
    assert [m["period"] for m in months[:4]] == ["2026-10", "2026-09", "2026-08", "2026-07"]
    assert len(months) == 13 and months[-1]["period"] == "2025-10"
    assert months[0] == {
        "period": "2026-10",
        "report_type": "monthly",
        "report_type_label": "月度指标",
        "indicator_count": 13,
        "deadline": "2026-11-20",
        "status": None,
        "status_label": None,
    }
    assert months[1]["report_type"] == "quarterly" and months[1]["indicator_count"] == 17

    # Reading a month not started creates nothing.
    document = owner.get(f"/reports/{OCTOBER}").json()
    assert document["status"] is None and document["version"] is None
    assert report_of(user) is None

    # Step 1.
    response = owner.put(f"/reports/{OCTOBER}/basic-info", basic_info(user.enterprise))
    assert response.status_code == 200, response.json()
    saved = response.json()
    assert saved["status"] == "draft" and saved["status_label"] == "编辑"
    assert saved["method"] == "api"
    report = report_of(user)
    assert report is not None and report.basic_info["industry"] == "1311"
    assert report.method == Report.Method.API

    # Step 2, with the version just read: saved, with the export warning to explain.
    version = saved["version"]
    response = owner.put(f"/reports/{OCTOBER}/indicators?version={version}", indicators())
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["errors"] == []
    assert [(w["rule"], w["indicator"]) for w in body["warnings"]] == [
        (EXPORT_GROWTH, "export_delivery")
    ]
    assert body["warnings"][0]["message"] == "同比范围应在-100-300"
    assert body["warnings"][0]["explanation"] == ""
    assert body["version"] == version + 1

    # Step 3.
    response = owner.put(f"/reports/{OCTOBER}/products", products())
    assert response.status_code == 200, response.json()

    # The document: figures as JSON numbers, growth computed, the warning listed.
    document = owner.get(f"/reports/{OCTOBER}").json()
    assert document["status"] == "draft" and document["method"] == "api"
    assert document["version"] == body["version"] + 1
    assert document["basic_info"]["enterprise_name"] == "宁波康尔企业"
    export = document["indicators"]["export_delivery"]
    assert export["current"] == 100 and export["ytd"] == 800
    assert export["growth"] == pytest.approx(433.33)
    assert document["indicators"]["revenue"]["ytd"] == 9500.125
    assert document["indicators"]["revenue"]["current"] is None
    assert document["indicators"]["electricity"]["last_year_ytd"] == 170000.5
    assert document["indicators"]["loan_balance"]["ytd"] is None
    assert document["products"][0]["production"]["ytd"] == 1000
    assert document["products"][0]["closing_stock"] == 50
    assert document["products_carried_over"] is False
    assert [w["rule"] for w in document["warnings"]] == [EXPORT_GROWTH]
    assert document["questionnaires"] == [] and document["explanations"] == {}

    response = owner.post(f"/reports/{OCTOBER}/validate")
    assert response.status_code == 200
    assert response.json()["errors"] == []
    assert [w["rule"] for w in response.json()["warnings"]] == [EXPORT_GROWTH]

    # Submitting: the warning needs a reason, and a real one.
    response = owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == f"explanations.{EXPORT_GROWTH}"
    assert response.json()["errors"][0]["code"] == "unexplained"

    response = owner.post(
        f"/reports/{OCTOBER}/submit", {"explanations": {EXPORT_GROWTH: "核实无误"}}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "boilerplate"
    assert report_of(user).status == Report.Status.DRAFT  # type: ignore[union-attr]

    response = owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {EXPORT_GROWTH: REASON}})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["status_label"] == "待审核"
    assert response.json()["submitted_at"] is not None
    assert response.json()["warnings"][0]["explanation"] == REASON

    # Pending: no more saving, no second submission.
    response = owner.put(f"/reports/{OCTOBER}/indicators", indicators())
    assert response.status_code == 409 and "待审核" in response.json()["detail"]
    response = owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert response.status_code == 409

    # Withdraw, then submit again (the reason is kept).
    response = owner.post(f"/reports/{OCTOBER}/withdraw")
    assert response.status_code == 200
    assert response.json()["status"] == "draft" and response.json()["submitted_at"] is None
    assert owner.post(f"/reports/{OCTOBER}/withdraw").status_code == 409
    document = owner.get(f"/reports/{OCTOBER}").json()
    assert document["explanations"] == {EXPORT_GROWTH: REASON}
    response = owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending"

    # The history and the months show it.
    response = owner.get("/reports")
    assert response.status_code == 200
    assert response.json() == [
        {
            "period": OCTOBER,
            "status": "pending",
            "status_label": "待审核",
            "method": "api",
            "method_label": "接口报送",
            "submitted_at": response.json()[0]["submitted_at"],
            "return_reasons": [],
        }
    ]
    assert dt.datetime.fromisoformat(response.json()[0]["submitted_at"]) == NOW
    assert owner.get("/periods").json()[0]["status"] == "pending"
    actions = list(report_of(user).events.values_list("action", flat=True))  # type: ignore[union-attr]
    assert actions == ["create", "submit", "withdraw", "submit"]


def test_a_key_change_needs_confirmation_and_freezes_the_month(
    personas: Personas, owner: Api
) -> None:
    user = personas.ningbo_enterprise
    changed = basic_info(user.enterprise, enterprise_name="宁波康尔科技有限公司")
    before = snapshot(user)

    response = owner.put(f"/reports/{SEPTEMBER}/basic-info", changed)

    assert response.status_code == 409
    assert "企业名称" in response.json()["detail"]
    assert response.json()["fields"] == ["enterprise_name"]
    # Nothing is saved (the service may have started the month: empty, in 编辑, unchanged).
    started = report_of(user, SEPTEMBER)
    if started is None:
        assert snapshot(user) == before
    else:
        assert (started.status, started.version, started.basic_info) == ("draft", 1, {})
    assert not KeyChangeRequest.objects.exists()
    assert Enterprise.objects.get(pk=user.enterprise_id).name == "宁波康尔企业"

    response = owner.put(
        f"/reports/{SEPTEMBER}/basic-info", {**changed, "confirm_key_change": True}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "frozen"
    assert response.json()["status_label"] == "冻结"
    change = KeyChangeRequest.objects.get(report=report_of(user, SEPTEMBER))
    assert change.new_values["enterprise_name"] == "宁波康尔科技有限公司"
    # The name stays until the national review approves it; the frozen month takes no saves.
    assert Enterprise.objects.get(pk=user.enterprise_id).name == "宁波康尔企业"
    response = owner.put(f"/reports/{SEPTEMBER}/indicators", indicators())
    assert response.status_code == 409


# --- The document of a month ---------------------------------------------------------------------


def test_a_month_not_started_shows_last_years_figures_and_products(
    personas: Personas, owner: Api
) -> None:
    user = personas.ningbo_enterprise
    last_year = Report.objects.create(enterprise=user.enterprise, period="2025-10")
    IndicatorValue.objects.create(report=last_year, code="gross_output", current=900, ytd=8000)
    IndicatorValue.objects.create(report=last_year, code="revenue", ytd=9000)
    ProductLine.objects.create(
        report=last_year, name="大米", code="0111", unit="吨", production_current=5
    )

    response = owner.get(f"/reports/{OCTOBER}")

    assert response.status_code == 200
    document = response.json()
    assert document["status"] is None and document["method"] is None
    gross = document["indicators"]["gross_output"]
    assert (gross["current"], gross["ytd"]) == (None, None)
    assert (gross["last_year_current"], gross["last_year_ytd"]) == (900, 8000)
    assert document["indicators"]["revenue"]["last_year_ytd"] == 9000
    assert len(document["indicators"]) == 13
    # The products of the latest earlier month, without their figures.
    assert document["products_carried_over"] is True
    assert [(p["name"], p["unit"]) for p in document["products"]] == [("大米", "吨")]
    assert document["products"][0]["production"]["current"] is None
    assert document["warnings"] == [] and document["errors"] == []
    assert report_of(user) is None


def test_questionnaires_are_listed_and_answered(personas: Personas, owner: Api) -> None:
    survey = Questionnaire.objects.create(title="四季度经营预期", periods="2026-09,2026-10")
    outlook = Question.objects.create(
        questionnaire=survey,
        position=1,
        text="预计下季度订单",
        type=Question.Type.SINGLE,
        options=[{"value": "up", "label": "增加"}, {"value": "down", "label": "减少"}],
    )
    note = Question.objects.create(
        questionnaire=survey, position=2, text="其他说明", type=Question.Type.TEXT, required=False
    )

    listed = owner.get(f"/reports/{OCTOBER}").json()["questionnaires"]
    assert listed == [
        {
            "id": survey.pk,
            "title": "四季度经营预期",
            "description": "",
            "answered": False,
            "questions": [
                {
                    "id": outlook.pk,
                    "text": "预计下季度订单",
                    "type": "single",
                    "required": True,
                    "options": [
                        {"value": "up", "label": "增加"},
                        {"value": "down", "label": "减少"},
                    ],
                },
                {
                    "id": note.pk,
                    "text": "其他说明",
                    "type": "text",
                    "required": False,
                    "options": [],
                },
            ],
            "answers": {},
        }
    ]

    path = f"/reports/{OCTOBER}/questionnaires/{survey.pk}"
    response = owner.put(path, {"answers": {str(outlook.pk): "sideways"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == f"answers.{outlook.pk}"
    response = owner.put(path, {"answers": {str(outlook.pk): "up"}})
    assert response.status_code == 200, response.json()

    listed = owner.get(f"/reports/{OCTOBER}").json()["questionnaires"]
    assert listed[0]["answered"] is True
    assert listed[0]["answers"] == {str(outlook.pk): "up"}

    unknown = f"/reports/{OCTOBER}/questionnaires/{survey.pk + 1000}"
    assert owner.put(unknown, {"answers": {}}).status_code == 400


def test_a_return_reason_shows_in_the_history(personas: Personas, owner: Api) -> None:
    user = personas.ningbo_enterprise
    assert (
        owner.put(f"/reports/{OCTOBER}/basic-info", basic_info(user.enterprise)).status_code == 200
    )
    assert owner.put(f"/reports/{OCTOBER}/indicators", indicators()).status_code == 200
    body = {"explanations": {EXPORT_GROWTH: REASON}}
    assert owner.post(f"/reports/{OCTOBER}/submit", body).status_code == 200
    return_report(report_of(user), personas.ningbo_admin, "营业收入与上月差异过大，请核实。")  # type: ignore[arg-type]
    Report.objects.create(enterprise=user.enterprise, period="2026-08")

    with CaptureQueriesContext(connection) as queries:
        response = owner.get("/reports")

    assert response.status_code == 200
    history = response.json()
    assert [h["period"] for h in history] == [OCTOBER, "2026-08"]
    assert history[0]["status"] == "returned" and history[0]["status_label"] == "审核退回"
    assert [r["reason"] for r in history[0]["return_reasons"]] == [
        "营业收入与上月差异过大，请核实。"
    ]
    assert history[1]["return_reasons"] == [] and history[1]["submitted_at"] is None
    report_queries = [q for q in queries.captured_queries if '"reports_' in q["sql"]]
    assert len(report_queries) <= 3

    # A returned month can be withdrawn no more, but submitted again.
    assert owner.post(f"/reports/{OCTOBER}/withdraw").status_code == 409
    assert owner.post(f"/reports/{OCTOBER}/submit", body).status_code == 200


def test_withdrawal_is_refused_once_a_reviewer_has_acted(personas: Personas, owner: Api) -> None:
    user = personas.ningbo_enterprise
    owner.put(f"/reports/{OCTOBER}/basic-info", basic_info(user.enterprise))
    owner.put(f"/reports/{OCTOBER}/indicators", indicators())
    owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {EXPORT_GROWTH: REASON}})
    Report.objects.filter(enterprise=user.enterprise).update(first_reviewed_at=NOW)

    response = owner.post(f"/reports/{OCTOBER}/withdraw")

    assert response.status_code == 409
    assert response.json()["detail"] == "审核员已开始审核，不能撤销。"
    assert report_of(user).status == Report.Status.PENDING  # type: ignore[union-attr]


def test_submitting_an_empty_month_lists_what_is_missing(owner: Api) -> None:
    response = owner.post(f"/reports/{OCTOBER}/submit", {"explanations": {}})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"basic_info", "indicators"} <= fields
    assert owner.post(f"/reports/{SEPTEMBER}/validate").status_code == 409
    assert owner.post(f"/reports/{SEPTEMBER}/withdraw").status_code == 409


# --- Scope and roles -----------------------------------------------------------------------------


def test_each_enterprise_sees_only_its_own_report(personas: Personas, owner: Api) -> None:
    other = personas.guangdong_enterprise
    guangzhou = Api("44010001")
    assert guangzhou.put(f"/reports/{OCTOBER}/indicators", indicators()).status_code == 200
    body = {"explanations": {EXPORT_GROWTH: "广交会新增订单，出口大幅增长"}}
    assert guangzhou.post(f"/reports/{OCTOBER}/validate").status_code == 200
    before = snapshot(other)

    document = owner.get(f"/reports/{OCTOBER}").json()
    assert document["status"] is None
    assert all(i["ytd"] is None for i in document["indicators"].values())
    assert owner.get("/reports").json() == []
    assert owner.get("/periods").json()[0]["status"] is None
    # The owner's own saves and submission touch only its own month.
    assert owner.post(f"/reports/{OCTOBER}/submit", body).status_code == 400
    assert owner.post(f"/reports/{OCTOBER}/withdraw").status_code == 409
    assert snapshot(other) == before
    assert guangzhou.get(f"/reports/{OCTOBER}").json()["indicators"]["gross_output"]["ytd"] == 9000


@pytest.mark.parametrize("username", ["ningbo", "admin"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/periods"),
        ("get", "/reports"),
        ("get", f"/reports/{OCTOBER}"),
        ("put", f"/reports/{OCTOBER}/indicators"),
        ("post", f"/reports/{OCTOBER}/submit"),
        ("post", f"/reports/{OCTOBER}/withdraw"),
    ],
)
def test_administrators_are_refused(
    personas: Personas, username: str, method: str, path: str
) -> None:
    admin = Api(username)
    response = admin.get(path) if method == "get" else getattr(admin, method)(path, {})
    assert response.status_code == 403
    assert "企业用户" in response.json()["detail"]
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/periods"), ("get", f"/reports/{OCTOBER}"), ("put", f"/reports/{OCTOBER}/products")],
)
def test_without_a_token_it_is_401(personas: Personas, method: str, path: str) -> None:
    client = Client()
    if method == "get":
        response = client.get(f"/api/v1{path}")
    else:
        response = client.put(f"/api/v1{path}", "[]", content_type="application/json")
    assert response.status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert Client().get("/api/v1/periods", headers=bad).status_code == 401


# --- Malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2026-13", "abc", "2027-01", "2026-11", "2025-09", "2026-1"])
def test_a_month_outside_the_open_months_is_404(
    personas: Personas, owner: Api, period: str
) -> None:
    user = personas.ningbo_enterprise
    responses = [
        owner.get(f"/reports/{period}"),
        owner.put(f"/reports/{period}/basic-info", basic_info(user.enterprise)),
        owner.put(f"/reports/{period}/indicators", indicators()),
        owner.put(f"/reports/{period}/products", products()),
        owner.post(f"/reports/{period}/validate"),
        owner.post(f"/reports/{period}/submit", {"explanations": {}}),
        owner.post(f"/reports/{period}/withdraw"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (indicators(revenue={"ytd": "九千", "last_year_ytd": 9000}), "indicators.revenue.ytd"),
        (indicators(revenue={"ytd": 1e30, "last_year_ytd": 9000}), "indicators.revenue.ytd"),
        (indicators(revenue={"ytd": 10**30, "last_year_ytd": 9000}), "indicators.revenue.ytd"),
        (indicators(revenue={"ytd": True, "last_year_ytd": 9000}), None),
        (indicators(revenue={"ytd": [1], "last_year_ytd": 9000}), None),
        (indicators(revenue=[9500, 9000]), None),
        (indicators(revenue="9500"), None),
        (indicators(steel_output=flow(1, 1, 1, 1)), "indicators.steel_output"),
        (indicators(employees={"ytd": None, "last_year_ytd": 118}), None),  # required
        (indicators(export_delivery=flow(100, 9500, 10, 150)), None),  # exports > output
        (indicators(electricity=flow(20000, 1000, 19000, 170000)), None),  # ytd < 本月
        (indicators(revenue=single(-1, 9000)), None),
        ([1, 2, 3], None),
        ("text", None),
        (None, None),
    ],
)
def test_a_malformed_indicators_body_is_400_and_saves_nothing(
    personas: Personas, owner: Api, body: Any, field: str | None
) -> None:
    user = personas.ningbo_enterprise
    assert owner.put(f"/reports/{OCTOBER}/indicators", indicators()).status_code == 200
    before = snapshot(user)

    response = owner.put(f"/reports/{OCTOBER}/indicators", body)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors and all(set(e) >= {"field", "code", "message"} for e in errors)
    if field is not None:
        assert field in [e["field"] for e in errors]
    assert snapshot(user) == before


@pytest.mark.parametrize("path", ["basic-info", "indicators", "products", "questionnaires/1"])
@pytest.mark.parametrize("raw", ["{not json", "", "\x00", '{"a": 1'])
def test_a_body_that_is_not_json_is_400(
    personas: Personas, owner: Api, path: str, raw: str
) -> None:
    response = owner.put(f"/reports/{OCTOBER}/{path}", raw, raw=True)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in {"json_invalid", "missing", "dict_type"}
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"enterprise_name": None},
        {"postal_code": 315200},
        {"listed": "maybe"},
        {"region": "330200"},
        {"industry": "9999"},
        {"industry": ["1311"]},
        {"phone": "86601234", "mobile": ""},
        {"main_business": "大米\x00加工"},
        {"code": "91330211MA2AFKE0XX"},
        {"email": "not-an-address"},
    ],
)
def test_invalid_basic_info_is_400_and_saves_nothing(
    personas: Personas, owner: Api, overrides: dict[str, Any]
) -> None:
    user = personas.ningbo_enterprise
    before = snapshot(user)
    body = basic_info(user.enterprise, **overrides)

    response = owner.put(f"/reports/{OCTOBER}/basic-info", body)

    assert response.status_code == 400, response.content
    assert response.json()["errors"]
    assert snapshot(user) == before
    assert Enterprise.objects.get(pk=user.enterprise_id).industry_id is None


def test_basic_info_with_fields_missing_names_them(personas: Personas, owner: Api) -> None:
    response = owner.put(f"/reports/{OCTOBER}/basic-info", {"enterprise_name": "宁波康尔企业"})
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"basic_info.legal_representative", "basic_info.address"} <= fields
    assert all(e["message"] for e in response.json()["errors"])
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"unit": "吨"}], "products[0].name"),
        ([{"name": "大米"}], "products[0].unit"),
        ([{"name": "大米", "unit": "吨", "production": {"ytd": "很多"}}], None),
        ([{"name": "大米", "unit": "吨", "sales": {"current": 1e30}}], None),
        ([{"name": "大米", "unit": "吨", "sales": {"current": -1}}], None),
        ([{"name": "大米", "unit": "吨", "sales": flow(10, 5, 1, 1)}], None),
        ([{"name": "大米", "unit": "吨", "code": "ABC"}], "products[0].code"),
        ([{"name": "大米", "unit": "吨"}] * 51, "products"),
        ([{"name": 5, "unit": "吨"}], None),
        ({"name": "大米"}, None),
        ([["大米", "吨"]], None),
        ([{"name": "大米", "unit": "吨\x00"}], None),
        ([{"name": "大米\x00", "unit": "吨"}], None),
    ],
)
def test_malformed_products_are_400_and_save_nothing(
    personas: Personas, owner: Api, body: Any, field: str | None
) -> None:
    user = personas.ningbo_enterprise
    assert owner.put(f"/reports/{OCTOBER}/products", products()).status_code == 200
    before = snapshot(user)

    response = owner.put(f"/reports/{OCTOBER}/products", body)

    assert response.status_code == 400, response.content
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]
    assert snapshot(user) == before


@pytest.mark.parametrize(
    "body",
    [
        {"explanations": ["原因"]},
        {"explanations": {EXPORT_GROWTH: 5}},
        {"explanations": {EXPORT_GROWTH: "正常"}},
        {"explanations": {EXPORT_GROWTH: "海外订单大幅增加\x00导致出口增长"}},
        {"explanations": {"x" * 61: REASON}},
        {"explanations": {EXPORT_GROWTH: "订单增加" * 300}},
        [],
    ],
)
def test_a_malformed_submission_is_400(personas: Personas, owner: Api, body: Any) -> None:
    user = personas.ningbo_enterprise
    owner.put(f"/reports/{OCTOBER}/basic-info", basic_info(user.enterprise))
    owner.put(f"/reports/{OCTOBER}/indicators", indicators())
    before = snapshot(user)

    response = owner.post(f"/reports/{OCTOBER}/submit", body)

    assert response.status_code == 400, response.content
    assert snapshot(user) == before


def test_a_submission_body_that_is_not_json_is_400(owner: Api) -> None:
    response = owner.post(f"/reports/{OCTOBER}/submit", "{oops", raw=True)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "json_invalid"


# --- The optimistic version check ----------------------------------------------------------------


def test_a_save_based_on_an_old_version_is_409(personas: Personas, owner: Api) -> None:
    user = personas.ningbo_enterprise
    first = owner.put(f"/reports/{OCTOBER}/basic-info", basic_info(user.enterprise)).json()
    read = owner.get(f"/reports/{OCTOBER}").json()["version"]
    assert read == first["version"]
    # Another program saves meanwhile.
    assert owner.put(f"/reports/{OCTOBER}/products?version={read}", products()).status_code == 200
    before = snapshot(user)

    stale = [
        owner.put(f"/reports/{OCTOBER}/indicators?version={read}", indicators()),
        owner.put(f"/reports/{OCTOBER}/products?version={read}", []),
        owner.put(f"/reports/{OCTOBER}/basic-info?version={read}", basic_info(user.enterprise)),
    ]

    stale.append(
        owner.put(
            f"/reports/{OCTOBER}/basic-info", {**basic_info(user.enterprise), "version": read}
        )
    )

    assert [r.status_code for r in stale] == [409, 409, 409, 409]
    assert "刷新" in stale[0].json()["detail"]
    assert snapshot(user) == before
    current = owner.get(f"/reports/{OCTOBER}").json()["version"]
    response = owner.put(f"/reports/{OCTOBER}/indicators?version={current}", indicators())
    assert response.status_code == 200
    assert owner.put(f"/reports/{OCTOBER}/products?version=abc", []).status_code == 400


def test_the_openapi_document_lists_the_report_endpoints(personas: Personas) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/periods",
        "/api/v1/reports",
        "/api/v1/reports/{period}",
        "/api/v1/reports/{period}/basic-info",
        "/api/v1/reports/{period}/indicators",
        "/api/v1/reports/{period}/products",
        "/api/v1/reports/{period}/validate",
        "/api/v1/reports/{period}/submit",
        "/api/v1/reports/{period}/withdraw",
    ):
        assert path in paths
    assert any(
        p["name"] == "version"
        for p in paths["/api/v1/reports/{period}/indicators"]["put"]["parameters"]
    )
