"""Review by the administrators through /api/v1/review/ (API.md "Administrators"): scope by role,
the two-level journey, return, re-opening, batch approval, key-information changes, the worklist
with its filters and keyset paging, and malformed input (400, never 500). Today is 2026-11-10 in
Shanghai: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from directory.models import Enterprise
from reports.basic_info import BasicInfoForm
from reports.models import KeyChangeRequest, Report, ReportEvent
from reports.services import save_basic_info, save_indicators, submit
from review.services import COMMON_RETURN_REASONS
from tests.conftest import Personas, make_enterprise_user, token_request, valid_uscc
from tests.test_report_services import OCTOBER, basic, flow, indicators

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
EXPORT_GROWTH = "export_delivery-growth-range"
REASON = "本月新接海外订单，出口交货值较上年同期大幅增长。"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

ROLES = ("ningbo", "zhejiang", "guangdong", "admin", "33029997")


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class Api:
    """A client holding a Bearer token obtained through POST /api/v1/auth/token."""

    def __init__(self, username: str | None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if username is None:
            return
        response = self.client.post(
            "/api/v1/auth/token",
            json.dumps(token_request(username)),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body if body is not None else {})
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers
        )


def submitted(user: User, explained: bool = False) -> Report:
    """The enterprise's October report, filled and submitted through the services."""
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(basic(user.enterprise)))
    if explained:
        save_indicators(user, OCTOBER, indicators(export_delivery=flow(400, 4000, 90, 850)))
    else:
        save_indicators(user, OCTOBER, indicators())
    report = Report.objects.get(enterprise_id=user.enterprise_id, period=str(OCTOBER))
    report, _ = submit(user, report, {EXPORT_GROWTH: REASON} if explained else None)
    assert report.status == Report.Status.PENDING
    return report


def frozen(user: User) -> KeyChangeRequest:
    """A confirmed change of 企业名称: the month frozen, a request for the national review."""
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(basic(user.enterprise)))
    renamed = basic(user.enterprise, enterprise_name="宁波康尔食品有限公司")
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(renamed), confirm_key_change=True)
    return KeyChangeRequest.objects.get(report__enterprise_id=user.enterprise_id)


def approved_report(personas: Personas) -> Report:
    report = submitted(personas.ningbo_enterprise)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.APPROVED)
    return report


def pending_row(enterprise: Enterprise, period: str = "2026-10", **fields: Any) -> Report:
    fields.setdefault("status", Report.Status.PENDING)
    fields.setdefault("submitted_at", NOW)
    return Report.objects.create(enterprise=enterprise, period=period, **fields)


def ningbo_enterprises(count: int) -> list[Enterprise]:
    return [
        make_enterprise_user(
            f"3302{i:04d}", f"宁波测试企业{i}", valid_uscc(f"91330211MA2AFK{i:03d}"), "330211"
        ).enterprise
        for i in range(count)
    ]


# --- Scope by role -------------------------------------------------------------------------------

DETAIL = {"ningbo": 200, "zhejiang": 200, "guangdong": 404, "admin": 200, "33029997": 403}
# A report at local review waits for its local administrators: national approval comes after.
ACT = {**DETAIL, "admin": 409}
REOPEN = {"ningbo": 403, "zhejiang": 403, "guangdong": 404, "admin": 200, "33029997": 403}
DECIDE = REOPEN
LISTS = {"ningbo": 200, "zhejiang": 200, "guangdong": 200, "admin": 200, "33029997": 403}


@pytest.mark.parametrize("username", ROLES)
def test_scope_of_reading_a_report(personas: Personas, username: str) -> None:
    report = submitted(personas.ningbo_enterprise)
    api = Api(username)
    response = api.get(f"/review/reports/{report.pk}")
    assert response.status_code == DETAIL[username], response.content
    listed = api.get("/review/reports")
    assert listed.status_code == LISTS[username]
    if listed.status_code == 200:
        ids = [item["id"] for item in listed.json()["items"]]
        assert ids == ([] if username == "guangdong" else [report.pk])
        assert listed.json()["counts"]["pending"] == (0 if username == "guangdong" else 1)
    if response.status_code == 404:
        assert response.json() == {"detail": "报表不存在或不在您的管理范围内。"}


@pytest.mark.parametrize("username", ROLES)
def test_scope_of_approving_and_returning(personas: Personas, username: str) -> None:
    report = submitted(personas.ningbo_enterprise)
    api = Api(username)
    response = api.post(f"/review/reports/{report.pk}/return", {"reason": "请核实营业收入"})
    assert response.status_code == DETAIL[username], response.content
    if response.status_code == 200:
        assert response.json()["status"] == "returned"
        return
    assert Report.objects.get(pk=report.pk).status == Report.Status.PENDING
    response = api.post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == DETAIL[username]
    assert Report.objects.get(pk=report.pk).review_level == Report.ReviewLevel.LOCAL


@pytest.mark.parametrize("username", ROLES)
def test_scope_of_approving_one_by_one(personas: Personas, username: str) -> None:
    report = submitted(personas.ningbo_enterprise)
    response = Api(username).post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == ACT[username], response.content
    if username in ("ningbo", "zhejiang"):
        assert response.json() == {
            "id": report.pk,
            "status": "pending",
            "status_label": "待审核",
            "level": "national",
            "level_label": "地方已审核, 待国家审核",
        }
    elif username == "admin":
        assert response.json() == {
            "detail": "该报表正在等待地方审核，地方管理员审核通过后再由国家高级管理员审核。"
        }
        assert Report.objects.get(pk=report.pk).status == Report.Status.PENDING


def test_national_approval_follows_local_approval(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    assert Api("ningbo").post(f"/review/reports/{report.pk}/approve").status_code == 200
    response = Api("admin").post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


def test_national_approval_alone_once_the_region_has_no_local_administrator(
    personas: Personas,
) -> None:
    """Submitted while 宁波 and 浙江 had local administrators; both disabled since: the report
    would wait forever, so the national level decides alone."""
    report = submitted(personas.ningbo_enterprise)
    User.objects.filter(username__in=["ningbo", "zhejiang"]).update(is_active=False)
    response = Api("admin").post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize("username", ROLES)
def test_scope_of_reopening(personas: Personas, username: str) -> None:
    report = approved_report(personas)
    response = Api(username).post(f"/review/reports/{report.pk}/reopen", {"reason": "数据有误"})
    assert response.status_code == REOPEN[username], response.content
    expected = Report.Status.RETURNED if username == "admin" else Report.Status.APPROVED
    assert Report.objects.get(pk=report.pk).status == expected


@pytest.mark.parametrize("username", ROLES)
def test_scope_of_key_changes(personas: Personas, username: str) -> None:
    change = frozen(personas.ningbo_enterprise)
    api = Api(username)
    listed = api.get("/review/changes")
    assert listed.status_code == LISTS[username]
    if listed.status_code == 200:
        ids = [item["id"] for item in listed.json()["items"]]
        assert ids == ([] if username == "guangdong" else [change.pk])
    response = api.post(f"/review/changes/{change.pk}/return", {"reason": "名称变更依据不足"})
    assert response.status_code == DECIDE[username], response.content
    if username != "admin":
        response = api.post(f"/review/changes/{change.pk}/approve")
        assert response.status_code == DECIDE[username]
        assert KeyChangeRequest.objects.get().status == KeyChangeRequest.Status.PENDING
        assert Report.objects.get().status == Report.Status.FROZEN


def test_enterprises_may_not_batch_approve(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    response = Api("33029997").post("/review/reports/batch-approve", {"ids": [report.pk]})
    assert response.status_code == 403
    assert Report.objects.get().review_level == Report.ReviewLevel.LOCAL


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/review/reports"),
        ("get", "/review/reports/1"),
        ("post", "/review/reports/1/approve"),
        ("post", "/review/reports/1/return"),
        ("post", "/review/reports/1/reopen"),
        ("post", "/review/reports/batch-approve"),
        ("get", "/review/changes"),
        ("post", "/review/changes/1/approve"),
        ("post", "/review/changes/1/return"),
    ],
)
def test_not_logged_in_is_401(personas: Personas, method: str, path: str) -> None:
    response = getattr(Api(None), method)(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "未登录或令牌已失效。"}


# --- The two-level journey -----------------------------------------------------------------------


def test_the_two_level_journey(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise, explained=True)
    ningbo, admin, owner = Api("ningbo"), Api("admin"), Api("33029997")

    item = ningbo.get("/review/reports").json()["items"][0]
    assert item == {
        "id": report.pk,
        "period": "2026-10",
        "status": "pending",
        "status_label": "待审核",
        "level": "local",
        "level_label": "待地方审核",
        "enterprise": {
            "username": "33029997",
            "name": "宁波康尔企业",
            "region": "330211",
            "region_name": item["enterprise"]["region_name"],
        },
        "submitted_at": "2026-11-10T02:00:00Z",
        "late": False,
        "has_explanations": True,
    }
    # Not yet locally approved: the national level does not list it by level.
    assert admin.get("/review/reports", level="national").json()["items"] == []

    response = ningbo.post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == 200, response.content
    assert response.json()["level"] == "national" and response.json()["status"] == "pending"

    # The enterprise can no longer withdraw; the local level cannot act again.
    withdrawn = owner.post("/reports/2026-10/withdraw")
    assert withdrawn.status_code == 409
    assert withdrawn.json() == {"detail": "审核员已开始审核，不能撤销。"}
    again = ningbo.post(f"/review/reports/{report.pk}/approve")
    assert again.status_code == 409 and "国家审核" in again.json()["detail"]
    refused = ningbo.post(f"/review/reports/{report.pk}/return", {"reason": "请核实"})
    assert refused.status_code == 409

    assert [i["id"] for i in admin.get("/review/reports", level="national").json()["items"]] == [
        report.pk
    ]
    response = admin.post(f"/review/reports/{report.pk}/approve")
    assert response.status_code == 200
    assert response.json() == {
        "id": report.pk,
        "status": "approved",
        "status_label": "审核通过",
        "level": "national",
        "level_label": "",
    }
    # Approved by someone else meanwhile: 409, nothing changes.
    assert admin.post(f"/review/reports/{report.pk}/approve").status_code == 409
    assert ningbo.post(f"/review/reports/{report.pk}/approve").status_code == 409

    document = ningbo.get(f"/review/reports/{report.pk}").json()
    assert document["status"] == "approved"
    assert document["enterprise"]["username"] == "33029997"
    assert document["basic_info"]["region"] == "330211"
    assert document["indicators"]["export_delivery"]["ytd"] == 4000
    assert document["indicators"]["revenue"]["growth"] == pytest.approx(5.556, abs=0.01)
    assert document["explanations"] == {EXPORT_GROWTH: REASON}
    (warning,) = [w for w in document["warnings"] if w["rule"] == EXPORT_GROWTH]
    assert warning["explanation"] == REASON
    assert document["common_return_reasons"] == list(COMMON_RETURN_REASONS)
    assert [
        (e["action"], e["from_status"], e["to_status"], e["actor"]) for e in document["events"]
    ] == [
        ("create", "", "draft", "33029997"),
        ("submit", "draft", "pending", "33029997"),
        ("approve_local", "pending", "pending", "ningbo"),
        ("approve", "pending", "approved", "admin"),
    ]
    assert document["events"][-1]["at"] == "2026-11-10T02:00:00Z"

    counts = admin.get("/review/reports", status="all").json()["counts"]
    assert counts["approved"] == 1 and counts["pending"] == 0


def test_return_with_reason_common_reasons_and_cells(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    ningbo = Api("ningbo")
    path = f"/review/reports/{report.pk}/return"

    response = ningbo.post(path, {"reason": "   "})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
    assert response.json()["errors"][0]["message"] == "请填写退回原因。"
    response = ningbo.post(path, {"reason": "", "common": ["随便写的原因"]})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "common"
    response = ningbo.post(path, {"reason": "请核实", "cells": ["indicators.revenue\x00"]})
    assert response.status_code == 400
    assert Report.objects.get(pk=report.pk).status == Report.Status.PENDING

    common = [COMMON_RETURN_REASONS[0], COMMON_RETURN_REASONS[3]]
    cells = ["indicators.revenue.ytd", "indicators.operating_cost.ytd"]
    response = ningbo.post(path, {"reason": " 请补充说明 ", "common": common, "cells": cells})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "returned" and response.json()["status_label"] == "审核退回"

    event = ReportEvent.objects.filter(report=report).latest("id")
    assert event.reason == f"{common[0]}；{common[1]}；请补充说明"
    assert event.details == {"cells": cells}
    document = ningbo.get(f"/review/reports/{report.pk}").json()
    assert document["events"][-1]["details"] == {"cells": cells}
    assert document["events"][-1]["reason"] == event.reason
    # The enterprise sees the reason in its history; returning again is 409.
    history = Api("33029997").get("/reports").json()
    assert history[0]["return_reasons"][0]["reason"] == event.reason
    assert ningbo.post(path, {"reason": "再退一次"}).status_code == 409


def test_a_common_reason_alone_is_enough(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    response = Api("admin").post(
        f"/review/reports/{report.pk}/return", {"common": [COMMON_RETURN_REASONS[5]]}
    )
    assert response.status_code == 200
    assert ReportEvent.objects.filter(report=report).latest("id").reason == COMMON_RETURN_REASONS[5]


def test_reopen_needs_a_reason_and_an_approved_report(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    admin = Api("admin")
    path = f"/review/reports/{report.pk}/reopen"
    assert admin.post(path, {"reason": "数据有误"}).status_code == 409  # still pending
    assert Api("ningbo").post(f"/review/reports/{report.pk}/approve").status_code == 200
    assert admin.post(f"/review/reports/{report.pk}/approve").status_code == 200

    response = admin.post(path, {"reason": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "reason", "code": "refused", "message": "请填写重新打开的原因。"}
    ]
    response = admin.post(path, {"reason": "企业申请更正营业收入"})
    assert response.status_code == 200
    assert response.json()["status"] == "returned"
    event = ReportEvent.objects.filter(report=report).latest("id")
    assert (event.action, event.reason) == ("reopen", "企业申请更正营业收入")
    # The enterprise may correct and submit again.
    assert Api("33029997").get("/reports/2026-10").json()["status"] == "returned"


def test_batch_approve_with_one_refused(personas: Personas) -> None:
    first = submitted(personas.ningbo_enterprise)
    other, done = ningbo_enterprises(2)
    second = pending_row(other)
    already = pending_row(done, review_level=Report.ReviewLevel.NATIONAL)
    foreign = pending_row(personas.guangdong_enterprise.enterprise)

    ids = [first.pk, second.pk, already.pk, foreign.pk, first.pk]
    response = Api("ningbo").post("/review/reports/batch-approve", {"ids": ids})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["approved"] == [first.pk, second.pk]
    assert body["refused"] == [
        {
            "id": str(already.pk),
            "report": "宁波测试企业1 2026-10",
            "message": "该报表上报时所在地区没有地方管理员，由国家高级管理员审核。",
        },
        {
            "id": str(foreign.pk),
            "report": str(foreign.pk),
            "message": "报表不存在或不在您的管理范围内。",
        },
    ]
    levels = dict(Report.objects.values_list("pk", "review_level"))
    assert levels[first.pk] == levels[second.pk] == Report.ReviewLevel.NATIONAL
    assert Report.objects.get(pk=foreign.pk).review_level == Report.ReviewLevel.LOCAL

    response = Api("admin").post("/review/reports/batch-approve", {"ids": ids})
    assert response.json()["approved"] == [first.pk, second.pk, already.pk]
    assert response.json()["refused"] == [
        {
            "id": str(foreign.pk),
            "report": str(foreign),
            "message": "该报表正在等待地方审核，地方管理员审核通过后再由国家高级管理员审核。",
        }
    ]


# --- Key-information changes ---------------------------------------------------------------------


def test_approving_a_key_change_unfreezes_and_renames(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    change = frozen(user)
    listed = Api("ningbo").get("/review/changes").json()["items"]
    assert listed[0]["new_values"]["enterprise_name"] == "宁波康尔食品有限公司"
    assert listed[0]["report_status"] == "frozen" and listed[0]["status"] == "pending"

    response = Api("admin").post(f"/review/changes/{change.pk}/approve")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved" and body["decided_by"] == "admin"
    assert body["report_status"] == "unfrozen"
    assert Report.objects.get().status == Report.Status.UNFROZEN
    assert Enterprise.objects.get(pk=user.enterprise_id).name == "宁波康尔食品有限公司"
    # Decided once only; the list of pending requests is empty now.
    assert Api("admin").post(f"/review/changes/{change.pk}/approve").status_code == 409
    assert Api("admin").get("/review/changes").json()["items"] == []
    assert [c["id"] for c in Api("admin").get("/review/changes", status="all").json()["items"]] == [
        change.pk
    ]


def test_returning_a_key_change(personas: Personas) -> None:
    user = personas.ningbo_enterprise
    change = frozen(user)
    admin = Api("admin")
    response = admin.post(f"/review/changes/{change.pk}/return", {"reason": " "})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    response = admin.post(f"/review/changes/{change.pk}/return", {"reason": "请提供营业执照"})
    assert response.status_code == 200
    assert response.json()["status"] == "returned"
    assert response.json()["reason"] == "请提供营业执照"
    assert Report.objects.get().status == Report.Status.RETURNED
    assert Enterprise.objects.get(pk=user.enterprise_id).name == "宁波康尔企业"
    assert admin.post(f"/review/changes/{change.pk}/approve").status_code == 409


# --- The worklist: paging and filters ------------------------------------------------------------


def test_keyset_paging_with_next(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("review.selectors.PAGE_SIZE", 2)
    rows = [pending_row(e) for e in ningbo_enterprises(5)]
    ningbo = Api("ningbo")
    seen: list[int] = []
    cursor: int | None = None
    pages = 0
    while True:
        params = {"after": cursor} if cursor is not None else {}
        body = ningbo.get("/review/reports", **params).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [r.pk for r in rows] and pages == 3
    # `page` is the same cursor.
    first = ningbo.get("/review/reports").json()
    by_page = ningbo.get("/review/reports", page=first["next"]).json()
    assert [i["id"] for i in by_page["items"]] == [rows[2].pk, rows[3].pk]
    assert first["counts"]["pending"] == 5


def test_filters(personas: Personas) -> None:
    a, b, c = ningbo_enterprises(3)
    Enterprise.objects.filter(pk=a.pk).update(industry_id="1311")
    september = "2026-09"
    on_time = pending_row(
        a, september, submitted_at=dt.datetime(2026, 10, 20, 23, 0, tzinfo=SHANGHAI)
    )
    late = pending_row(b, september, submitted_at=dt.datetime(2026, 10, 21, 0, 0, tzinfo=SHANGHAI))
    draft = pending_row(c, september, status=Report.Status.DRAFT, submitted_at=None)
    guangdong = pending_row(personas.guangdong_enterprise.enterprise, september)
    zhejiang, admin = Api("zhejiang"), Api("admin")

    def ids(api: Api, **params: Any) -> list[int]:
        response = api.get("/review/reports", period=september, **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(zhejiang) == [on_time.pk, late.pk]
    assert ids(zhejiang, status="all") == [on_time.pk, late.pk, draft.pk]
    assert ids(zhejiang, status="draft") == [draft.pk]
    assert ids(zhejiang, late="true") == [late.pk]
    assert ids(zhejiang, late="false") == [on_time.pk]
    assert ids(zhejiang, industry="13") == ids(zhejiang, industry="C") == [on_time.pk]
    assert ids(zhejiang, industry="1312") == []
    assert ids(zhejiang, explained="true") == []
    assert ids(zhejiang, explained="false") == [on_time.pk, late.pk]
    assert ids(zhejiang, region="330211") == [on_time.pk, late.pk]
    assert ids(zhejiang, region="330100") == []
    # A region outside the caller's own narrows nothing open: still only the caller's scope.
    assert ids(zhejiang, region="440000") == []
    assert ids(admin, region="440000") == [guangdong.pk]
    assert ids(admin) == [on_time.pk, late.pk, guangdong.pk]
    assert ids(admin, level="national") == []
    items = zhejiang.get("/review/reports", period=september).json()["items"]
    assert [i["late"] for i in items] == [False, True]
    # The default month is the current report month: nothing of September there.
    assert zhejiang.get("/review/reports").json()["items"] == []
    counts = zhejiang.get("/review/reports", period=september).json()["counts"]
    assert counts == {
        "draft": 1,
        "pending": 2,
        "returned": 0,
        "approved": 0,
        "frozen": 0,
        "unfrozen": 0,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-1"}, "period"),
        ({"period": "abc"}, "period"),
        ({"period": "2026-10\x00"}, "period"),
        ({"period": "２０２６-１０"}, "period"),
        ({"period": "1999-12"}, "period"),
        ({"status": "bogus"}, "status"),
        ({"region": "abc"}, "region"),
        ({"region": "999999"}, "region"),
        ({"region": "33\x000000"}, "region"),
        ({"industry": "x!"}, "industry"),
        ({"industry": "13111"}, "industry"),
        ({"late": "maybe"}, "late"),
        ({"explained": "2"}, "explained"),
        ({"level": "county"}, "level"),
        ({"after": "-1"}, "after"),
        ({"after": "abc"}, "after"),
        ({"after": "99999999999999999999999"}, "after"),
        ({"page": "1.5"}, "page"),
        ({"page": "٣"}, "page"),
        ({"after": "3", "page": "4"}, "page"),
    ],
)
def test_malformed_query_parameters_are_400(
    personas: Personas, params: dict[str, str], field: str
) -> None:
    response = Api("ningbo").get("/review/reports", **params)
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == field and error["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/review/reports/abc", None, 404),
        ("get", "/review/reports/99999999999999999999", None, 404),
        ("get", "/review/reports/-1", None, 404),
        ("post", "/review/reports/abc/approve", None, 404),
        ("post", "/review/reports/batch-approve", {"ids": ["x"]}, 400),
        ("post", "/review/reports/batch-approve", {"ids": [99999999999999999999]}, 400),
        ("post", "/review/reports/batch-approve", {}, 400),
        ("post", "/review/reports/batch-approve", {"ids": "1"}, 400),
        ("post", "/review/changes/abc/approve", None, 404),
        ("post", "/review/changes/99999999999999999999/approve", None, 404),
        ("get", "/review/changes?status=bogus", None, 400),
        ("get", "/review/changes?after=x", None, 400),
    ],
)
def test_malformed_ids_and_bodies_are_never_500(
    personas: Personas, method: str, path: str, body: Any, status: int
) -> None:
    api = Api("admin")
    response = api.get(path) if method == "get" else api.post(path, body)
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["errors"][0]["message"]


def test_a_malformed_json_body_is_400(personas: Personas) -> None:
    report = submitted(personas.ningbo_enterprise)
    api = Api("ningbo")
    response = api.client.post(
        f"/api/v1/review/reports/{report.pk}/return",
        "{not json",
        content_type="application/json",
        headers=api.headers,
    )
    assert response.status_code == 400
    assert "errors" in response.json()
