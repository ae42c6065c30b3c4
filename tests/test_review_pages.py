"""报表审核 and 关键信息变更 as administrators meet them through the pages: who may open what, the
worklist's filters, counts and keyset paging, approval at both levels, returns with reasons and
marked cells, batch approval, a stale action, reopening, and the key-information change queue.
Time is frozen at 2026-11-10 10:00 in 上海: the current report month is 2026-10."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from directory.models import Enterprise, Industry, Region
from reports.basic_info import BasicInfoForm
from reports.models import Explanation, KeyChangeRequest, Report, ReportEvent
from reports.periods import Period
from reports.services import ReportInputError, save_basic_info, save_indicators, submit
from reports.workflow import approve_local, approve_report
from review.selectors import deadline_moment
from tests.conftest import Personas, valid_uscc
from tests.test_report_services import basic, flow, indicators

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
OCTOBER = Period(2026, 10)
WARNING_REASON = "本月新接大额出口订单"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.content.decode())


def submitted(user: User, period: Period = OCTOBER, warning: bool = False) -> Report:
    """A real report of the enterprise, filled and submitted through the services."""
    region = user.enterprise.region_id
    save_basic_info(user, period, BasicInfoForm.from_json(basic(user.enterprise, region=region)))
    figures = indicators(export_delivery=flow(400, 4000, 90, 850)) if warning else indicators()
    outcome = save_indicators(user, period, figures)
    try:
        report, _ = submit(user, outcome.report)
    except ReportInputError as refused:  # soft warnings: explain each one
        rules = [e.field.removeprefix("explanations.") for e in refused.errors]
        report, _ = submit(user, outcome.report, dict.fromkeys(rules, WARNING_REASON))
    return report


def enterprise(n: int, region: str = "330211", industry: str = "1311") -> Enterprise:
    return Enterprise.objects.create(
        name=f"测试企业{n}",
        code_type="uscc",
        code=valid_uscc(f"91{region}MA{n:07d}"),
        region=Region.objects.get(pk=region),
        industry=Industry.objects.get(pk=industry),
        contact_person="张三",
        contact_phone="0574-86601234",
    )


def pending(e: Enterprise, submitted_at: dt.datetime | None = None, **fields: object) -> Report:
    """A bare pending report, for the lists (no figures needed)."""
    return Report.objects.create(
        enterprise=e,
        period=str(OCTOBER),
        status=Report.Status.PENDING,
        submitted_at=submitted_at or dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC),
        **fields,
    )


def listed(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(pk) for pk in re.findall(r'data-report="(\d+)"', response.content.decode())]


def page_messages(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def ningbo_report(personas: Personas) -> Report:
    return submitted(personas.ningbo_enterprise)


# --- Who may open what --------------------------------------------------------------------------

ROLES = [
    "ningbo_enterprise",
    "guangdong_enterprise",
    "zhejiang_admin",
    "ningbo_admin",
    "guangdong_admin",
    "senior_admin",
]
# Status of GET for each page × role, the objects being 宁波's report and its change request.
EXPECTED_GET = {
    "worklist": dict(zip(ROLES, (404, 404, 200, 200, 200, 200), strict=True)),
    "report": dict(zip(ROLES, (404, 404, 200, 200, 404, 200), strict=True)),
    "changes": dict(zip(ROLES, (404, 404, 200, 200, 200, 200), strict=True)),
    "change": dict(zip(ROLES, (404, 404, 200, 200, 404, 200), strict=True)),
}


@pytest.fixture
def frozen_change(personas: Personas) -> KeyChangeRequest:
    clerk = personas.ningbo_enterprise
    save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))  # 1311
    clerk.enterprise.refresh_from_db()
    renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司", industry="1312")
    save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(renamed), confirm_key_change=True)
    return KeyChangeRequest.objects.get()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(EXPECTED_GET))
def test_every_page_for_every_role(
    personas: Personas, frozen_change: KeyChangeRequest, page: str, role: str
) -> None:
    urls = {
        "worklist": "/review/",
        "report": f"/review/reports/{frozen_change.report_id}/",
        "changes": "/review/changes/",
        "change": f"/review/changes/{frozen_change.pk}/",
    }
    client = personas.client_for(getattr(personas, role))
    assert client.get(urls[page]).status_code == EXPECTED_GET[page][role]


@pytest.mark.parametrize(
    "path",
    [
        "/review/",
        "/review/reports/1/",
        "/review/changes/",
        "/review/changes/1/",
    ],
)
def test_anonymous_users_go_to_the_login_page(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


POSTS = ["approve", "return", "reopen"]


@pytest.mark.parametrize("action", POSTS)
@pytest.mark.parametrize(
    ("role", "status"),
    [("ningbo_enterprise", 404), ("guangdong_enterprise", 404), ("guangdong_admin", 404)],
)
def test_actions_outside_the_scope_are_404_and_change_nothing(
    personas: Personas, ningbo_report: Report, action: str, role: str, status: int
) -> None:
    client = personas.client_for(getattr(personas, role))
    response = client.post(
        f"/review/reports/{ningbo_report.pk}/{action}/", {"text": "x", "reason": "x"}
    )
    assert response.status_code == status
    assert Report.objects.get().status == Report.Status.PENDING
    assert not ReportEvent.objects.filter(action__in=["approve_local", "return", "reopen"])


def test_actions_are_post_only(personas: Personas, ningbo_report: Report) -> None:
    client = personas.client_for(personas.ningbo_admin)
    assert client.get(f"/review/reports/{ningbo_report.pk}/approve/").status_code == 405
    assert client.get("/review/batch-approve/").status_code == 405


def test_unknown_ids_are_404(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    assert client.get("/review/reports/999999/").status_code == 404
    assert client.get("/review/changes/999999/").status_code == 404


def test_the_navigation_has_review_for_administrators_only(personas: Personas) -> None:
    admin_home = personas.client_for(personas.ningbo_admin).get("/").content.decode()
    assert "审核管理" in admin_home and 'href="/review/"' in admin_home
    assert 'href="/review/changes/"' in admin_home
    assert (
        "审核管理" not in personas.client_for(personas.ningbo_enterprise).get("/").content.decode()
    )


# --- Worklist -------------------------------------------------------------------------------------


class TestWorklist:
    def test_it_lists_the_pending_reports_in_scope_with_their_stage(
        self, personas: Personas
    ) -> None:
        ningbo = pending(enterprise(1))
        pending(enterprise(2, region="440106"))
        response = personas.client_for(personas.ningbo_admin).get("/review/")
        assert listed(response) == [ningbo.pk]
        page = text(response)
        assert "测试企业1" in page and "待地方审核" in page and "测试企业2" not in page
        assert f'href="/review/reports/{ningbo.pk}/"' in page
        assert len(listed(personas.client_for(personas.senior_admin).get("/review/"))) == 2

    def test_each_filter(self, personas: Personas) -> None:
        zhenhai = pending(enterprise(1))
        yinzhou = pending(enterprise(2, region="330212", industry="3311"))
        late = pending(enterprise(3), submitted_at=deadline_moment(OCTOBER) + dt.timedelta(hours=1))
        Explanation.objects.create(report=yinzhou, rule="x", text="本月新接大额订单")
        Report.objects.create(enterprise=enterprise(4), period="2026-10", status="approved")
        older = Report.objects.create(enterprise=enterprise(5), period="2026-09", status="pending")
        client = personas.client_for(personas.ningbo_admin)

        def only(query: str) -> list[int]:
            return listed(client.get(f"/review/?{query}"))

        assert only("") == [zhenhai.pk, yinzhou.pk, late.pk]
        assert only("region=330212") == [yinzhou.pk]
        assert only("region=440106") == [zhenhai.pk, yinzhou.pk, late.pk]  # not a child: ignored
        assert only("industry=C") == [zhenhai.pk, yinzhou.pk, late.pk]
        assert only("industry=A") == []
        assert only("late=yes") == [late.pk]
        assert only("late=no") == [zhenhai.pk, yinzhou.pk]
        assert only("explained=yes") == [yinzhou.pk]
        assert only("explained=no") == [zhenhai.pk, late.pk]
        assert len(only("status=approved")) == 1
        assert len(only("status=all")) == 4
        assert only("period=2026-09") == [older.pk]
        page = text(client.get("/review/?late=yes"))
        assert "迟报" in page

    def test_the_region_select_offers_the_children_of_the_admins_region(
        self, personas: Personas
    ) -> None:
        page = personas.client_for(personas.ningbo_admin).get("/review/").content.decode()
        select = page.split('name="region"')[1].split("</select>")[0]
        codes = re.findall(r'value="(\d+)"', select)
        assert "330212" in codes and all(c.startswith("3302") for c in codes)
        senior = personas.client_for(personas.senior_admin).get("/review/").content.decode()
        select = senior.split('name="region"')[1].split("</select>")[0]
        assert 'value="330000"' in select and 'value="440000"' in select

    def test_counts_per_status_at_the_top(self, personas: Personas) -> None:
        pending(enterprise(1))
        pending(enterprise(2))
        Report.objects.create(enterprise=enterprise(3), period="2026-10", status="approved")
        pending(enterprise(4, region="440106"))
        page = text(personas.client_for(personas.ningbo_admin).get("/review/"))
        assert re.search(r'data-status="pending">待审核 <strong>2</strong>', page)
        assert re.search(r'data-status="approved">审核通过 <strong>1</strong>', page)
        assert re.search(r'data-status="all">全部 <strong>3</strong>', page)
        assert "?period=2026-10&amp;status=approved" in page

    def test_keyset_next_page(self, personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("review.selectors.PAGE_SIZE", 2)
        reports = [pending(enterprise(n)) for n in range(5)]
        client = personas.client_for(personas.ningbo_admin)
        seen = []
        url = "/review/?late=no"
        while url:
            response = client.get(url)
            seen += listed(response)
            found = re.search(r'href="\?([^"]*after=\d+[^"]*)">下一页', response.content.decode())
            url = "/review/?" + found.group(1).replace("&amp;", "&") if found else ""
            if url:
                assert "late=no" in url
        assert seen == [r.pk for r in reports]

    def test_queries_do_not_grow_with_rows(
        self,
        personas: Personas,
        django_assert_max_num_queries,  # type: ignore[no-untyped-def]
    ) -> None:
        client = personas.client_for(personas.ningbo_admin)
        for n in range(3):
            pending(enterprise(n), submitted_at=deadline_moment(OCTOBER))
        client.get("/review/")  # session and user warmed the same way for both runs
        with CaptureQueriesContext(connection) as few:
            assert len(listed(client.get("/review/?region=330211"))) == 3
        for n in range(3, 30):
            report = pending(enterprise(n))
            Explanation.objects.create(report=report, rule="x", text="本月新接大额订单")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert len(listed(client.get("/review/?region=330211"))) == 30


# --- The report page and its actions -------------------------------------------------------------


class TestReportPage:
    def test_it_shows_the_four_parts_growth_warnings_and_previous_months(
        self, personas: Personas
    ) -> None:
        clerk = personas.ningbo_enterprise
        with time_machine.travel(dt.datetime(2026, 10, 10, 10, 0, tzinfo=SHANGHAI), tick=False):
            september = submitted(clerk, Period(2026, 9))
        report = submitted(clerk, warning=True)
        assert september.pk != report.pk
        response = personas.client_for(personas.ningbo_admin).get(f"/review/reports/{report.pk}/")
        page = text(response)
        for part in (
            "企业基本情况表",
            "企业主要经济指标月报",
            "企业主要产品产销存月报",
            "应用情况调查问卷",
        ):
            assert part in page
        assert "宁波康尔企业" in page and "待地方审核" in page
        assert "370.59%" in page  # growth of export_delivery: 4000 / 850 − 1
        assert WARNING_REASON in page
        previous = page.split("近几个月对比")[1].split("</table>")[0]
        assert "2026-09" in previous and "2026-08" in previous and "900" in previous
        assert "上报" in page.split("操作记录")[1]  # the audit trail

    def test_previous_months_take_one_query(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        client = personas.client_for(personas.ningbo_admin)
        with CaptureQueriesContext(connection) as queries:
            client.get(f"/review/reports/{ningbo_report.pk}/")
        assert sum("report__period" in q["sql"] or '"period" IN' in q["sql"] for q in queries) <= 1

    def test_local_approval_passes_it_on_to_national_review(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        client = personas.client_for(personas.ningbo_admin)
        response = client.post(f"/review/reports/{ningbo_report.pk}/approve/", follow=True)
        ningbo_report.refresh_from_db()
        assert ningbo_report.status == Report.Status.PENDING
        assert ningbo_report.review_stage_label == "地方已审核, 待国家审核"
        assert "地方已审核, 待国家审核" in text(response)
        assert "该报表当前不需要您审核" in text(response)

    def test_national_approval_makes_it_approved(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        approve_local(ningbo_report, personas.ningbo_admin)
        client = personas.client_for(personas.senior_admin)
        response = client.post(f"/review/reports/{ningbo_report.pk}/approve/", follow=True)
        assert Report.objects.get().status == Report.Status.APPROVED
        assert "审核通过" in page_messages(response)

    def test_a_return_requires_a_reason(self, personas: Personas, ningbo_report: Report) -> None:
        client = personas.client_for(personas.ningbo_admin)
        response = client.post(
            f"/review/reports/{ningbo_report.pk}/return/", {"cells": ["indicators.revenue"]}
        )
        assert response.status_code == 400
        assert "请填写退回原因。" in page_messages(response)
        assert 'value="indicators.revenue" checked' in response.content.decode()
        assert Report.objects.get().status == Report.Status.PENDING

    def test_a_return_stores_common_reason_text_and_cells(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        client = personas.client_for(personas.ningbo_admin)
        response = client.post(
            f"/review/reports/{ningbo_report.pk}/return/",
            {
                "common": ["数据与上月差异过大，请核实", "自造的原因"],
                "text": "请核对营业收入",
                "cells": ["indicators.revenue", "indicators.no_such", "evil"],
            },
            follow=True,
        )
        assert Report.objects.get().status == Report.Status.RETURNED
        event = ReportEvent.objects.get(action="return")
        assert event.reason == "数据与上月差异过大，请核实；请核对营业收入"
        assert event.details == {"cells": ["indicators.revenue"]}
        assert "已审核退回" in page_messages(response)

    def test_a_stale_action_gets_a_clear_message(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        # Both 浙江 and 宁波 review this report; 宁波 was faster.
        page = personas.client_for(personas.zhejiang_admin)
        assert "审核通过" in text(page.get(f"/review/reports/{ningbo_report.pk}/"))
        approve_local(ningbo_report, personas.ningbo_admin)
        response = page.post(f"/review/reports/{ningbo_report.pk}/approve/")
        assert response.status_code == 409
        assert "该报表已通过地方审核，正在等待国家审核。" in page_messages(response)
        response = page.post(f"/review/reports/{ningbo_report.pk}/return/", {"text": "请核实"})
        assert response.status_code == 409 and Report.objects.get().status == "pending"
        approve_report(ningbo_report, personas.senior_admin)
        senior = personas.client_for(personas.senior_admin)
        response = senior.post(f"/review/reports/{ningbo_report.pk}/approve/")
        assert response.status_code == 409
        assert "当前状态为「审核通过」" in page_messages(response)

    def test_a_senior_admin_reopens_an_approved_month_with_a_reason(
        self, personas: Personas, ningbo_report: Report
    ) -> None:
        approve_local(ningbo_report, personas.ningbo_admin)
        approve_report(ningbo_report, personas.senior_admin)
        local = personas.client_for(personas.ningbo_admin)
        assert "重新打开" not in text(local.get(f"/review/reports/{ningbo_report.pk}/"))
        response = local.post(f"/review/reports/{ningbo_report.pk}/reopen/", {"reason": "x"})
        assert response.status_code == 403 and "国家高级管理员" in page_messages(response)
        senior = personas.client_for(personas.senior_admin)
        assert "重新打开" in text(senior.get(f"/review/reports/{ningbo_report.pk}/"))
        response = senior.post(f"/review/reports/{ningbo_report.pk}/reopen/", {"reason": " "})
        assert "请填写重新打开的原因。" in page_messages(response)
        assert Report.objects.get().status == Report.Status.APPROVED
        senior.post(f"/review/reports/{ningbo_report.pk}/reopen/", {"reason": "企业申请更正"})
        assert Report.objects.get().status == Report.Status.RETURNED
        assert ReportEvent.objects.get(action="reopen").reason == "企业申请更正"


class TestBatch:
    def test_batch_approval_lists_the_refused_ones(self, personas: Personas) -> None:
        first, second = pending(enterprise(1)), pending(enterprise(2))
        outside = pending(enterprise(3, region="440106"))
        approve_local(second, personas.zhejiang_admin)
        client = personas.client_for(personas.ningbo_admin)
        response = client.post(
            "/review/batch-approve/",
            {"ids": [first.pk, second.pk, outside.pk], "next": "/review/?late=no"},
        )
        assert response.status_code == 302 and response["Location"] == "/review/?late=no"
        shown = page_messages(client.get(response["Location"]))
        assert "已审核通过 1 份报表" in shown
        assert "测试企业2 2026-10：该报表已通过地方审核，正在等待国家审核。" in shown
        assert f"{outside.pk}：报表不存在或不在您的管理范围内。" in shown
        first.refresh_from_db()
        assert first.review_stage_label == "地方已审核, 待国家审核"
        outside.refresh_from_db()
        assert outside.first_reviewed_at is None

    def test_nothing_selected_and_foreign_next(self, personas: Personas) -> None:
        client = personas.client_for(personas.ningbo_admin)
        response = client.post("/review/batch-approve/", {"next": "https://evil.example/"})
        assert response["Location"] == "/review/"
        assert "请先勾选" in page_messages(client.get("/review/"))

    def test_the_worklist_asks_for_one_confirmation(self, personas: Personas) -> None:
        pending(enterprise(1))
        page = personas.client_for(personas.ningbo_admin).get("/review/").content.decode()
        # data-confirm: static/js/site.js asks (no inline handler under the CSP).
        assert page.count("data-confirm=") == 1 and 'name="ids"' in page and "批量审核通过" in page


# --- Key-information changes ---------------------------------------------------------------------


class TestKeyChanges:
    def test_the_queue_lists_pending_first(
        self, personas: Personas, frozen_change: KeyChangeRequest
    ) -> None:
        response = personas.client_for(personas.senior_admin).get("/review/changes/")
        page = text(response)
        assert "宁波康尔企业" in page and f'href="/review/changes/{frozen_change.pk}/"' in page

    def test_old_and_new_side_by_side_with_names(
        self, personas: Personas, frozen_change: KeyChangeRequest
    ) -> None:
        page = text(
            personas.client_for(personas.senior_admin).get(f"/review/changes/{frozen_change.pk}/")
        )
        names = dict(Industry.objects.filter(code__in=["1311", "1312"]).values_list("code", "name"))
        assert "宁波康尔企业" in page and "宁波康尔食品有限公司" in page
        assert f"1311 {names['1311']}" in page and f"1312 {names['1312']}" in page
        assert "统一社会信用代码" in page

    def test_approval_unfreezes_and_renames(
        self, personas: Personas, frozen_change: KeyChangeRequest
    ) -> None:
        client = personas.client_for(personas.senior_admin)
        response = client.post(f"/review/changes/{frozen_change.pk}/approve/", follow=True)
        assert "解除冻结" in page_messages(response)
        assert Report.objects.get().status == Report.Status.UNFROZEN
        assert KeyChangeRequest.objects.get().status == KeyChangeRequest.Status.APPROVED
        enterprise = Enterprise.objects.get(pk=personas.ningbo_enterprise.enterprise_id)
        assert enterprise.name == "宁波康尔食品有限公司" and enterprise.industry_id == "1312"
        again = client.post(f"/review/changes/{frozen_change.pk}/approve/")
        assert again.status_code == 409 and "已处理" in page_messages(again)

    def test_return_needs_a_reason(
        self, personas: Personas, frozen_change: KeyChangeRequest
    ) -> None:
        client = personas.client_for(personas.senior_admin)
        response = client.post(f"/review/changes/{frozen_change.pk}/return/", {"reason": ""})
        assert response.status_code == 400 and "请填写退回原因。" in page_messages(response)
        client.post(f"/review/changes/{frozen_change.pk}/return/", {"reason": "名称与营业执照不符"})
        assert Report.objects.get().status == Report.Status.RETURNED
        assert KeyChangeRequest.objects.get().reason == "名称与营业执照不符"

    def test_local_admins_only_read(
        self, personas: Personas, frozen_change: KeyChangeRequest
    ) -> None:
        client = personas.client_for(personas.ningbo_admin)
        page = text(client.get(f"/review/changes/{frozen_change.pk}/"))
        assert "宁波康尔食品有限公司" in page and "只能查看" in page
        assert (
            "change_approve" not in page
            and f"/review/changes/{frozen_change.pk}/approve/" not in page
        )
        for action in ("approve", "return"):
            response = client.post(f"/review/changes/{frozen_change.pk}/{action}/", {"reason": "x"})
            assert response.status_code == 403 and "只有国家高级管理员" in page_messages(response)
        assert Report.objects.get().status == Report.Status.FROZEN
        foreign = personas.client_for(personas.guangdong_admin)
        assert foreign.post(f"/review/changes/{frozen_change.pk}/approve/").status_code == 404
