"""GET /api/v1/notices: the notices and platform news the caller may read, newest first, 20 a page;
the same rules as the /notices/ pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import issue_api_token
from tests.conftest import Personas
from tests.conftest import publish_notice as publish

pytestmark = pytest.mark.usefixtures("reference_data")

URL = "/api/v1/notices"


def api_get(user: User, params: dict[str, Any]) -> Any:
    key, _ = issue_api_token(user)
    return Client().get(URL, params, headers={"Authorization": f"Bearer {key}"})


def titles(response: Any) -> list[str]:
    assert response.status_code == 200
    return [item["title"] for item in response.json()["items"]]


# A selection of the matrix of test_notice_visibility: each role, inside and outside its region.
@pytest.mark.parametrize(
    ("audience", "region", "persona", "readable"),
    [
        ("all", None, "guangdong_enterprise", True),
        ("all", "330200", "ningbo_enterprise", True),
        ("all", "330200", "guangdong_enterprise", False),
        ("enterprises", "330211", "ningbo_enterprise", True),
        ("enterprises", "330000", "ningbo_admin", False),
        ("enterprises", "330211", "ningbo_admin", True),
        ("enterprises", "330000", "zhejiang_admin", True),
        ("admins", None, "ningbo_enterprise", False),
        ("admins", "330000", "ningbo_admin", True),
        ("admins", "330211", "zhejiang_admin", True),
        ("admins", "440000", "zhejiang_admin", False),
        ("all", "330211", "guangdong_admin", False),
        ("admins", "440000", "senior_admin", True),
        ("enterprises", "330211", "senior_admin", True),
    ],
)
def test_the_api_lists_a_notice_only_to_the_users_it_is_addressed_to(
    personas: Personas, audience: str, region: str | None, persona: str, readable: bool
) -> None:
    notice = publish(
        personas.senior_admin, "关于开展运行监测的通知", audience=audience, region=region
    )

    response = api_get(getattr(personas, persona), {"kind": "notice"})

    ids = [item["id"] for item in response.json()["items"]]
    assert (notice.pk in ids) is readable
    assert ("关于开展运行监测的通知" in titles(response)) is readable


def test_an_item_carries_its_kind_audience_region_and_time(personas: Personas) -> None:
    at = timezone.now() - dt.timedelta(hours=2)
    notice = publish(
        personas.ningbo_admin,
        "镇海区企业座谈会",
        kind="news",
        audience="enterprises",
        region="330211",
        published_at=at,
    )

    items = api_get(personas.ningbo_enterprise, {"kind": "news"}).json()["items"]

    assert len(items) == 1
    item = items[0]
    assert {k: v for k, v in item.items() if k not in ("published_at", "region")} == {
        "id": notice.pk,
        "kind": "news",
        "kind_label": "平台动态",
        "title": "镇海区企业座谈会",
        "body": "镇海区企业座谈会的正文。",
        "audience": "enterprises",
    }
    assert item["region"]["code"] == "330211"
    assert abs(dt.datetime.fromisoformat(item["published_at"]) - at) < dt.timedelta(milliseconds=1)


def test_a_national_item_has_no_region(personas: Personas) -> None:
    publish(personas.senior_admin, "全国通知")
    items = api_get(personas.guangdong_enterprise, {"kind": "notice"}).json()["items"]
    assert [(i["title"], i["region"]) for i in items] == [("全国通知", None)]


@pytest.mark.parametrize(("kind", "other"), [("notice", "news"), ("news", "notice")])
def test_the_kind_selects_notices_or_news(personas: Personas, kind: str, other: str) -> None:
    publish(personas.senior_admin, "通知一", kind="notice")
    publish(personas.senior_admin, "动态一", kind="news")

    items = api_get(personas.ningbo_enterprise, {"kind": kind}).json()["items"]

    assert [i["kind"] for i in items] == [kind]
    assert [i["title"] for i in items] == (["通知一"] if kind == "notice" else ["动态一"])


def test_items_come_newest_first(personas: Personas) -> None:
    start = timezone.now() - dt.timedelta(days=10)
    for day, title in [(2, "第三期"), (0, "第一期"), (1, "第二期")]:
        publish(personas.senior_admin, title, published_at=start + dt.timedelta(days=day))

    response = api_get(personas.ningbo_enterprise, {"kind": "notice"})

    assert titles(response) == ["第三期", "第二期", "第一期"]


def test_the_list_is_paged_twenty_at_a_time_with_the_next_page_number(personas: Personas) -> None:
    start = timezone.now() - dt.timedelta(days=30)
    for i in range(25):
        publish(
            personas.senior_admin, f"第{i:02d}号通知", published_at=start + dt.timedelta(hours=i)
        )
    # Not readable by the 宁波 enterprise: must not be counted into its pages.
    for i in range(5):
        publish(personas.guangdong_admin, f"广东{i}号", region="440000")

    first = api_get(personas.ningbo_enterprise, {"kind": "notice"})
    assert titles(first) == [f"第{i:02d}号通知" for i in range(24, 4, -1)]
    assert first.json()["next"] == 2

    second = api_get(personas.ningbo_enterprise, {"kind": "notice", "page": 2})
    assert titles(second) == [f"第{i:02d}号通知" for i in range(4, -1, -1)]
    assert second.json()["next"] is None


def test_exactly_twenty_items_fit_on_one_page(personas: Personas) -> None:
    for i in range(20):
        publish(personas.senior_admin, f"第{i:02d}号通知")
    body = api_get(personas.ningbo_enterprise, {"kind": "notice"}).json()
    assert len(body["items"]) == 20
    assert body["next"] is None


def test_a_page_past_the_end_is_empty(personas: Personas) -> None:
    publish(personas.senior_admin, "唯一的通知")
    body = api_get(personas.ningbo_enterprise, {"kind": "notice", "page": 5}).json()
    assert body == {"items": [], "next": None}


@pytest.mark.parametrize("kind", ["bogus", "NOTICE", "notices"])
def test_an_unknown_kind_is_a_400_in_the_errors_format(personas: Personas, kind: str) -> None:
    publish(personas.senior_admin, "关于开展运行监测的通知")

    response = api_get(personas.ningbo_enterprise, {"kind": kind})

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"field": "kind", "code": "literal_error", "message": "取值不在允许的范围内。"}]
    }


def test_a_page_that_is_not_a_number_is_a_400_in_the_errors_format(personas: Personas) -> None:
    response = api_get(personas.ningbo_enterprise, {"kind": "notice", "page": "二"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"field": "page", "code": "int_parsing", "message": "格式不正确。"}]
    }


def test_the_browser_session_may_read_the_list(personas: Personas) -> None:
    publish(personas.senior_admin, "关于开展运行监测的通知")
    response = personas.client_for(personas.guangdong_enterprise).get(URL, {"kind": "notice"})
    assert titles(response) == ["关于开展运行监测的通知"]


def test_an_anonymous_caller_gets_401(personas: Personas) -> None:
    publish(personas.senior_admin, "关于开展运行监测的通知")
    response = Client().get(URL, {"kind": "notice"})
    assert response.status_code == 401
    assert "关于开展运行监测的通知" not in response.content.decode()
