"""GET /api/v1/stats/completion: the 填报情况 table for administrators within their region."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from accounts.services import issue_api_token
from tests.conftest import Personas
from tests.test_completion import TODAY, landscape  # noqa: F401  (fixture)

URL = "/api/v1/stats/completion"


def api_get(user: User, params: dict[str, Any]) -> Any:
    key, _ = issue_api_token(user)
    return Client().get(URL, params, headers={"Authorization": f"Bearer {key}"})


def test_shape_per_city(personas: Personas, landscape: dict) -> None:  # noqa: F811
    response = api_get(personas.zhejiang_admin, {"period": "2026-10"})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "2026-10"
    assert body["region"] == {"code": "330000", "name": "浙江省"}
    ningbo = next(r for r in body["rows"] if r["region"] and r["region"]["code"] == "330200")
    assert ningbo == {
        "region": {"code": "330200", "name": "宁波市"},
        "enterprise": None,
        "enterprises": 7,
        "reported": 4,
        "pending": 1,
        "approved": 2,
        "returned": 1,
        "not_reported": 3,
        "on_time": 3,
        "reporting_rate": 57.1,
        "timeliness_rate": 42.9,
    }
    assert body["total"]["enterprises"] == 9


def test_county_rows_are_enterprises(personas: Personas, landscape: dict) -> None:  # noqa: F811
    body = api_get(personas.ningbo_admin, {"period": "2026-10", "region": "330211"}).json()
    assert body["by_enterprise"] is True
    assert len(body["rows"]) == 5
    row = next(r for r in body["rows"] if r["enterprise"]["username"] == "33029997")
    assert row["enterprise"]["status"] == "pending"
    assert (row["reported"], row["pending"], row["on_time"]) == (1, 1, 1)


def test_default_period_and_region(personas: Personas, landscape: dict) -> None:  # noqa: F811
    with time_machine.travel(TODAY, tick=False):
        body = api_get(personas.senior_admin, {}).json()
    assert body["period"] == "2026-10" and body["region"] is None
    provinces = {r["region"]["code"]: r for r in body["rows"]}
    assert provinces["440000"]["reported"] == 2


def test_scope_and_roles(personas: Personas, landscape: dict) -> None:  # noqa: F811
    assert api_get(personas.guangdong_admin, {"region": "330000"}).status_code == 404
    assert api_get(personas.ningbo_admin, {"region": "330100"}).status_code == 404
    assert api_get(personas.ningbo_admin, {"region": "330000"}).status_code == 404
    assert api_get(personas.ningbo_admin, {"region": "999999"}).status_code == 404
    assert api_get(personas.ningbo_enterprise, {}).status_code == 403
    assert Client().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-1"}, "period"),
        ({"period": "oct"}, "period"),
        ({"region": "33"}, "region"),
        ({"region": "abcdef"}, "region"),
    ],
)
def test_malformed_params_are_400(personas: Personas, params: dict, field: str) -> None:
    response = api_get(personas.zhejiang_admin, params)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == field and error["message"]
