"""The home page (主页面): report months for enterprises, the top bar, the 通知公告 and 平台动态
boxes and the left navigation; and the report calendar of reports.periods underneath."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from notices.models import Notice
from reports.catalogue import report_type_label
from reports.periods import Period, current_report_month
from tests.conftest import Personas

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSONAS = (
    "ningbo_enterprise",
    "guangdong_enterprise",
    "zhejiang_admin",
    "ningbo_admin",
    "guangdong_admin",
    "senior_admin",
)


def home(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def home_at(personas: Personas, user: User, moment: dt.datetime) -> str:
    # Log in inside the frozen time, so that the 30-minute session is valid then.
    with time_machine.travel(moment, tick=False):
        return home(personas.client_for(user))


def section(html: str, start: str, end: str) -> str:
    match = re.search(re.escape(start) + "(.*?)" + re.escape(end), html, re.S)
    assert match is not None, f"{start!r} not on the page"
    return match.group(1)


def box(html: str, title: str) -> str:
    return section(html, f"<h2>■ {title}</h2>", "</section>")


def navigation(html: str) -> str:
    return section(html, '<nav class="sidenav" aria-label="平台导航">', "</nav>")


def publish(
    author: User, title: str, kind: str, published_at: dt.datetime, region: str | None = None
) -> Notice:
    return Notice.objects.create(
        title=title,
        body="正文",
        kind=kind,
        region_id=region,
        author=author,
        published_at=published_at,
    )


# --- Report months -----------------------------------------------------------------------------


def test_the_enterprise_home_shows_the_current_and_the_previous_report_month(
    personas: Personas,
) -> None:
    html = home_at(
        personas, personas.ningbo_enterprise, dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)
    )
    months = section(html, '<table class="grid months">', "</table>")

    assert "<h1>宁波康尔企业</h1>" in html
    assert "<th>2026-05 (当前报表月份)</th><th>2026-04 (上一报表月份)</th>" in months
    assert "<th>是否填报</th><td>未填报</td><td>未填报</td>" in months
    assert "<th>报表类型</th><td>月度指标 (共13个指标)</td><td>月度指标 (共13个指标)</td>" in months
    assert "<th>截止日期</th><td>2026-06-20</td><td>2026-05-20</td>" in months
    assert "请于6月20日前完成5月份报表的填写" in html


def test_after_a_quarter_the_current_month_asks_for_the_quarterly_indicators(
    personas: Personas,
) -> None:
    html = home_at(
        personas, personas.ningbo_enterprise, dt.datetime(2026, 4, 5, 9, 0, tzinfo=SHANGHAI)
    )
    months = section(html, '<table class="grid months">', "</table>")

    assert "<th>2026-03 (当前报表月份)</th><th>2026-02 (上一报表月份)</th>" in months
    assert "<th>报表类型</th><td>季度指标 (共17个指标)</td><td>月度指标 (共13个指标)</td>" in months
    assert "<th>截止日期</th><td>2026-04-20</td><td>2026-03-20</td>" in months


def test_the_report_month_follows_the_shanghai_calendar_not_utc(personas: Personas) -> None:
    # 2026-07-01 00:30 in 上海 is still 2026-06-30 in UTC: the month has turned already.
    html = home_at(
        personas, personas.ningbo_enterprise, dt.datetime(2026, 7, 1, 0, 30, tzinfo=SHANGHAI)
    )
    assert "<th>2026-06 (当前报表月份)</th>" in html
    assert "季度指标 (共17个指标)" in html


def test_an_administrator_home_shows_the_current_month_and_its_deadline(
    personas: Personas,
) -> None:
    html = home_at(
        personas, personas.ningbo_admin, dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)
    )
    assert "<h1>地方管理员工作台</h1>" in html
    assert (
        "当前报表月份：<strong>2026-05</strong>（月度指标 (共13个指标)），填报截止日期 2026-06-20。"
        in html
    )
    assert "<p>可管理地区：浙江省 宁波市</p>" in html
    assert '<table class="grid months">' not in html


def test_an_anonymous_visitor_is_sent_to_the_login_page() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


# --- Top bar and navigation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "user_type", "region"),
    [
        ("ningbo_enterprise", "企业用户", "浙江省 宁波市 镇海区"),
        ("guangdong_enterprise", "企业用户", "广东省 广州市 天河区"),
        ("zhejiang_admin", "地方管理员", "浙江省"),
        ("ningbo_admin", "地方管理员", "浙江省 宁波市"),
        ("guangdong_admin", "地方管理员", "广东省"),
        ("senior_admin", "国家高级管理员", "全国"),
    ],
)
def test_the_top_bar_shows_the_user_type_and_the_region_it_may_manage(
    personas: Personas, persona: str, user_type: str, region: str
) -> None:
    user = getattr(personas, persona)
    topbar = section(home(personas.client_for(user)), '<header class="topbar">', "</header>")
    # Without a nickname the user ID is shown once, not twice.
    assert f"用户名：<strong>{user.username}</strong></span>" in topbar
    assert f"<span>用户类型：{user_type}</span>" in topbar
    assert f"<span>可管理地区：{region}</span>" in topbar


def test_the_top_bar_shows_the_nickname_when_there_is_one(personas: Personas) -> None:
    User.objects.filter(pk=personas.ningbo_enterprise.pk).update(nickname="杨莎莎")
    personas.ningbo_enterprise.refresh_from_db()
    topbar = section(
        home(personas.client_for(personas.ningbo_enterprise)),
        '<header class="topbar">',
        "</header>",
    )
    assert "用户名：<strong>杨莎莎</strong>（33029997）" in topbar


@pytest.mark.parametrize(
    ("persona", "manages", "outbox"),
    [
        ("ningbo_enterprise", False, False),
        ("guangdong_enterprise", False, False),
        ("zhejiang_admin", True, False),
        ("ningbo_admin", True, False),
        ("guangdong_admin", True, False),
        ("senior_admin", True, True),
    ],
)
def test_the_navigation_shows_publishing_to_administrators_and_the_outbox_to_the_senior_one(
    personas: Personas, persona: str, manages: bool, outbox: bool
) -> None:
    nav = navigation(home(personas.client_for(getattr(personas, persona))))

    assert '<a href="/notices/?kind=notice">通知公告</a>' in nav
    assert '<a href="/notices/?kind=news">平台动态</a>' in nav
    assert ('<a href="/notices/manage/">发布管理</a>' in nav) is manages
    assert ('<a href="/accounts/outbox/">验证码发件箱</a>' in nav) is outbox
    assert ("管理后台" in nav) is outbox


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_senior_administrator_opens_the_verification_code_outbox(
    personas: Personas, persona: str
) -> None:
    response = personas.client_for(getattr(personas, persona)).get("/accounts/outbox/")
    if persona == "senior_admin":
        assert response.status_code == 200
        assert "验证码发件箱" in response.content.decode()
    else:
        assert response.status_code == 404


# --- The two boxes -----------------------------------------------------------------------------


def test_the_boxes_show_the_five_newest_readable_items_newest_first(personas: Personas) -> None:
    start = timezone.now() - dt.timedelta(days=30)
    for day in range(7):
        publish(personas.senior_admin, f"通知{day}号", "notice", start + dt.timedelta(days=day))
        publish(personas.senior_admin, f"动态{day}号", "news", start + dt.timedelta(days=day))
    # Newer than all of them, but for 广东 only: the 宁波 enterprise must not see it.
    publish(personas.guangdong_admin, "广东通知", "notice", timezone.now(), region="440000")
    publish(personas.guangdong_admin, "广东动态", "news", timezone.now(), region="440000")

    html = home(personas.client_for(personas.ningbo_enterprise))

    notices, news = box(html, "通知公告"), box(html, "平台动态")
    assert re.findall(r">(通知\d号)</a>", notices) == [
        "通知6号",
        "通知5号",
        "通知4号",
        "通知3号",
        "通知2号",
    ]
    assert re.findall(r">(动态\d号)</a>", news) == [
        "动态6号",
        "动态5号",
        "动态4号",
        "动态3号",
        "动态2号",
    ]
    assert "广东" not in notices
    assert "广东" not in news
    assert "动态" not in notices
    assert '<a href="/notices/?kind=notice">更多 &gt;&gt;</a>' in html
    assert '<a href="/notices/?kind=news">更多 &gt;&gt;</a>' in html


def test_a_box_links_each_item_to_its_page(personas: Personas) -> None:
    notice = publish(
        personas.senior_admin, "关于报送五月数据的通知", "notice", timezone.now() - dt.timedelta(1)
    )
    notices = box(home(personas.client_for(personas.guangdong_enterprise)), "通知公告")
    assert f'<a href="/notices/{notice.pk}/">关于报送五月数据的通知</a>' in notices
    assert timezone.localtime(notice.published_at).strftime("%Y-%m-%d") in notices


def test_the_guangdong_administrator_sees_guangdong_items_in_its_boxes(personas: Personas) -> None:
    publish(personas.guangdong_admin, "广东通知", "notice", timezone.now(), region="440106")
    publish(personas.ningbo_admin, "宁波通知", "notice", timezone.now(), region="330200")

    notices = box(home(personas.client_for(personas.guangdong_admin)), "通知公告")

    assert "广东通知" in notices
    assert "宁波通知" not in notices


def test_empty_boxes_say_there_is_nothing_yet(personas: Personas) -> None:
    html = home(personas.client_for(personas.ningbo_enterprise))
    assert "暂无通知公告" in box(html, "通知公告")
    assert "暂无平台动态" in box(html, "平台动态")


@pytest.mark.parametrize("persona", ["ningbo_enterprise", "ningbo_admin", "senior_admin"])
def test_the_home_page_takes_as_many_queries_for_25_items_as_for_3(
    personas: Personas, persona: str, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = personas.client_for(getattr(personas, persona))
    now = timezone.now()

    def add(first: int, last: int) -> None:
        for i in range(first, last):
            for kind in ("notice", "news"):
                publish(personas.ningbo_admin, f"{kind}{i}", kind, now, region="330211")

    add(0, 3)
    home(client)  # the session is saved on the first request; count the steady state
    with CaptureQueriesContext(connection) as three:
        html = home(client)
    assert len(re.findall(r">notice\d+</a>", html)) == 3

    add(3, 25)
    with django_assert_num_queries(len(three.captured_queries)):
        html = home(client)
    assert len(re.findall(r">notice\d+</a>", html)) == 5


# --- reports.periods ---------------------------------------------------------------------------


def test_the_current_report_month_is_the_month_before_today() -> None:
    assert current_report_month(dt.date(2020, 6, 10)) == Period(2020, 5)
    assert str(current_report_month(dt.date(2020, 6, 10))) == "2020-05"


def test_the_current_report_month_of_january_is_december_of_the_year_before() -> None:
    assert current_report_month(dt.date(2026, 1, 1)) == Period(2025, 12)
    assert current_report_month(dt.date(2026, 1, 31)) == Period(2025, 12)


@pytest.mark.django_db
def test_without_a_date_the_current_report_month_uses_todays_date_in_shanghai() -> None:
    with time_machine.travel(dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC), tick=False):
        # 2026-03-01 07:30 in 上海
        assert current_report_month() == Period(2026, 2)


@pytest.mark.parametrize(
    ("period", "deadline"),
    [
        (Period(2026, 5), dt.date(2026, 6, 20)),
        (Period(2025, 12), dt.date(2026, 1, 20)),
        (Period(2026, 2), dt.date(2026, 3, 20)),
    ],
)
def test_the_deadline_is_the_20th_of_the_following_month(period: Period, deadline: dt.date) -> None:
    assert period.deadline == deadline


@override_settings(REPORT_DEADLINE_DAY=15)
def test_the_deadline_day_comes_from_the_settings() -> None:
    assert Period(2026, 5).deadline == dt.date(2026, 6, 15)


@pytest.mark.parametrize(
    ("month", "kind", "count"),
    [
        (1, "monthly", 13),
        (3, "quarterly", 17),
        (6, "quarterly", 17),
        (11, "monthly", 13),
        (12, "quarterly", 17),
    ],
)
def test_quarter_end_months_report_the_quarterly_indicators(
    db: None, month: int, kind: str, count: int
) -> None:
    period = Period(2026, month)
    assert period.report_type == kind
    assert report_type_label(period).endswith(f"(共{count}个指标)")


def test_a_period_parses_and_prints_as_year_dash_month() -> None:
    assert Period.parse("2026-05") == Period(2026, 5)
    assert str(Period(2026, 5)) == "2026-05"
    assert Period(2025, 12).next() == Period(2026, 1)
    assert Period(2026, 1).previous() == Period(2025, 12)


@pytest.mark.parametrize(
    "value", ["2026-13", "2026-00", "abc", "2026", "2026-05-01", "1999-12", ""]
)
def test_an_impossible_period_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="报表月份"):
        Period.parse(value)
