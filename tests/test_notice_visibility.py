"""Who reads which notice (通知公告) and platform news (平台动态): the list page /notices/ and the
detail page /notices/<pk>/, for every role and every region a notice can be addressed to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from notices.models import Notice
from tests.conftest import Personas
from tests.conftest import publish_notice as publish

pytestmark = pytest.mark.usefixtures("reference_data")

ALL, ENTERPRISES, ADMINS = "all", "enterprises", "admins"
NE, GE = "ningbo_enterprise", "guangdong_enterprise"
ZA, NA, GA, SA = "zhejiang_admin", "ningbo_admin", "guangdong_admin", "senior_admin"
PERSONAS = (NE, GE, ZA, NA, GA, SA)

# Who may read a notice of (audience, region). 330211 镇海区 lies in 330200 宁波市 in 330000 浙江省;
# the 宁波 enterprise is in 330211, the 广东 enterprise in 440106 天河区.
READERS: dict[tuple[str, str | None], set[str]] = {
    (ALL, None): {NE, GE, ZA, NA, GA, SA},
    (ALL, "330000"): {NE, ZA, NA, SA},
    (ALL, "330200"): {NE, ZA, NA, SA},
    (ALL, "440000"): {GE, GA, SA},
    (ALL, "330211"): {NE, ZA, NA, SA},
    (ENTERPRISES, None): {NE, GE, SA},
    # 浙江's administrator reads what is published inside 浙江 whatever the audience; 宁波's
    # administrator is not addressed by an enterprises-only notice of the province above it.
    (ENTERPRISES, "330000"): {NE, ZA, SA},
    (ENTERPRISES, "330200"): {NE, ZA, NA, SA},
    (ENTERPRISES, "440000"): {GE, GA, SA},
    (ENTERPRISES, "330211"): {NE, ZA, NA, SA},
    (ADMINS, None): {ZA, NA, GA, SA},
    (ADMINS, "330000"): {ZA, NA, SA},
    (ADMINS, "330200"): {ZA, NA, SA},
    (ADMINS, "440000"): {GA, SA},
    (ADMINS, "330211"): {ZA, NA, SA},
}

MATRIX = [
    pytest.param(
        audience,
        region,
        persona,
        persona in readers,
        id=f"{audience}-{region or 'national'}-{persona}-{'yes' if persona in readers else 'no'}",
    )
    for (audience, region), readers in READERS.items()
    for persona in PERSONAS
]


def list_page(client: Client, kind: str = "notice", page: int | None = None) -> str:
    query = {"kind": kind} if page is None else {"kind": kind, "page": page}
    response = client.get("/notices/", query)
    assert response.status_code == 200
    return response.content.decode()


# --- The matrix: (audience × region × role) ------------------------------------------------------


@pytest.mark.parametrize(("audience", "region", "persona", "readable"), MATRIX)
def test_a_notice_is_listed_and_opened_only_by_the_users_it_is_addressed_to(
    personas: Personas, audience: str, region: str | None, persona: str, readable: bool
) -> None:
    title = f"关于开展运行监测的通知（{audience}，{region or '全国'}）"
    notice = publish(personas.senior_admin, title, audience=audience, region=region)
    client = personas.client_for(getattr(personas, persona))

    assert (title in list_page(client)) is readable

    detail = client.get(f"/notices/{notice.pk}/")
    if readable:
        assert detail.status_code == 200
        assert title in detail.content.decode()
    else:
        assert detail.status_code == 404
        assert title not in detail.content.decode()
    assert Notice.objects.filter(pk=notice.pk, title=title).exists()


def test_a_users_list_shows_exactly_the_readable_notices_of_the_whole_matrix(
    personas: Personas,
) -> None:
    # All fifteen notices at once: no reader's list loses or gains one because of the others.
    titles = {
        key: publish(
            personas.senior_admin,
            f"矩阵通知-{key[0]}-{key[1] or '全国'}",
            audience=key[0],
            region=key[1],
        ).title
        for key in READERS
    }
    for persona in PERSONAS:
        html = list_page(personas.client_for(getattr(personas, persona)))
        shown = {key for key, title in titles.items() if title in html}
        expected = {key for key, readers in READERS.items() if persona in readers}
        assert shown == expected, persona


# --- Kinds, anonymous users --------------------------------------------------------------------


def test_the_news_list_shows_only_platform_news(personas: Personas) -> None:
    publish(personas.senior_admin, "关于报送五月数据的通知", kind=Notice.Kind.NOTICE)
    publish(personas.senior_admin, "平台完成系统升级", kind=Notice.Kind.NEWS)
    client = personas.client_for(personas.ningbo_enterprise)

    news = list_page(client, kind="news")
    assert "<h1>平台动态</h1>" in news
    assert "平台完成系统升级" in news
    assert "关于报送五月数据的通知" not in news

    notices = list_page(client, kind="notice")
    assert "<h1>通知公告</h1>" in notices
    assert "关于报送五月数据的通知" in notices
    assert "平台完成系统升级" not in notices


def test_the_list_without_a_kind_shows_notices(personas: Personas) -> None:
    publish(personas.senior_admin, "关于报送五月数据的通知", kind=Notice.Kind.NOTICE)
    publish(personas.senior_admin, "平台完成系统升级", kind=Notice.Kind.NEWS)
    response = personas.client_for(personas.ningbo_enterprise).get("/notices/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "关于报送五月数据的通知" in html
    assert "平台完成系统升级" not in html


@pytest.mark.parametrize("kind", ["bogus", "NOTICE", ""])
def test_an_unknown_kind_is_not_found(personas: Personas, kind: str) -> None:
    publish(personas.senior_admin, "关于报送五月数据的通知")
    response = personas.client_for(personas.ningbo_enterprise).get("/notices/", {"kind": kind})
    assert response.status_code == 404
    assert "关于报送五月数据的通知" not in response.content.decode()


def test_an_empty_list_says_there_is_nothing_yet(personas: Personas) -> None:
    html = list_page(personas.client_for(personas.ningbo_enterprise), kind="news")
    assert "暂无平台动态" in html


def test_an_anonymous_visitor_is_sent_to_the_login_page(personas: Personas) -> None:
    notice = publish(personas.senior_admin, "关于报送五月数据的通知")
    client = Client()
    for url in ("/notices/?kind=notice", f"/notices/{notice.pk}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        assert "关于报送五月数据的通知" not in response.content.decode()


def test_an_unknown_notice_is_not_found(personas: Personas) -> None:
    response = personas.client_for(personas.senior_admin).get("/notices/999999/")
    assert response.status_code == 404


# --- Order, paging, queries --------------------------------------------------------------------


def test_the_list_shows_the_newest_notice_first(personas: Personas) -> None:
    start = timezone.now() - dt.timedelta(days=3)
    for day, title in enumerate(["第一期通知", "第二期通知", "第三期通知"]):
        publish(personas.senior_admin, title, published_at=start + dt.timedelta(days=day))
    html = list_page(personas.client_for(personas.ningbo_enterprise))
    assert html.index("第三期通知") < html.index("第二期通知") < html.index("第一期通知")


def test_the_list_shows_twenty_notices_a_page(personas: Personas) -> None:
    start = timezone.now() - dt.timedelta(days=30)
    for i in range(25):
        publish(
            personas.senior_admin, f"第{i:02d}号通知", published_at=start + dt.timedelta(hours=i)
        )
    client = personas.client_for(personas.ningbo_enterprise)

    first = list_page(client)
    assert [i for i in range(25) if f"第{i:02d}号通知" in first] == list(range(5, 25))
    assert "第 1 / 2 页" in first
    assert 'href="?kind=notice&amp;page=2"' in first

    second = list_page(client, page=2)
    assert [i for i in range(25) if f"第{i:02d}号通知" in second] == list(range(5))
    assert "第 2 / 2 页" in second
    assert 'href="?kind=notice&amp;page=1"' in second


def test_a_page_number_past_the_end_shows_the_last_page(personas: Personas) -> None:
    for i in range(21):
        publish(personas.senior_admin, f"第{i:02d}号通知")
    html = list_page(personas.client_for(personas.ningbo_enterprise), page=99)
    assert "第 2 / 2 页" in html


def test_the_list_takes_the_same_number_of_queries_for_3_and_for_25_notices(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # Notices of a county, so that each line's 发布范围 (浙江省 宁波市 镇海区) needs its region's
    # parents: they must come with the list, not one query per line.
    client = personas.client_for(personas.senior_admin)
    for i in range(3):
        publish(personas.ningbo_admin, f"镇海区通知{i:02d}", region="330211")
    list_page(client)  # the session is saved on the first request; count the steady state
    with CaptureQueriesContext(connection) as three:
        html = list_page(client)
    assert html.count("浙江省 宁波市 镇海区") == 3

    for i in range(3, 25):
        publish(personas.ningbo_admin, f"镇海区通知{i:02d}", region="330211")
    with django_assert_num_queries(len(three.captured_queries)):
        html = list_page(client)
    assert html.count("浙江省 宁波市 镇海区") == 20
