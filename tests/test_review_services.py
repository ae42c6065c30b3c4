"""The review selectors and services: worklist filters, keyset paging, counts, batch approval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from accounts.models import User
from directory.models import Enterprise, Industry, Region
from reports.models import Explanation, KeyChangeRequest, Report
from reports.periods import Period
from reports.workflow import approve_local
from review.selectors import (
    PAGE_SIZE,
    WorklistFilter,
    deadline_moment,
    key_changes_visible_to,
    status_counts,
    worklist,
)
from review.services import batch_approve, compose_reason, send_back
from tests.conftest import Personas, valid_uscc

OCTOBER = Period(2026, 10)


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


def pending(e: Enterprise, submitted: dt.datetime | None = None, **fields: object) -> Report:
    return Report.objects.create(
        enterprise=e,
        period=str(OCTOBER),
        status=Report.Status.PENDING,
        submitted_at=submitted or dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC),
        **fields,
    )


def ids(rows: list[Report]) -> list[int]:
    return [r.pk for r in rows]


class TestWorklist:
    def test_it_lists_the_pending_reports_in_scope(self, personas: Personas) -> None:
        ningbo = pending(enterprise(1))
        pending(enterprise(2, region="440106"))
        rows, cursor = worklist(personas.ningbo_admin, WorklistFilter(OCTOBER))
        assert ids(rows) == [ningbo.pk] and cursor is None
        rows, _ = worklist(personas.senior_admin, WorklistFilter(OCTOBER))
        assert len(rows) == 2

    def test_filters_by_region_industry_lateness_explanations_and_level(
        self, personas: Personas
    ) -> None:
        zhenhai = pending(enterprise(1))
        yinzhou = pending(enterprise(2, region="330212", industry="3311"))
        late = deadline_moment(OCTOBER) + dt.timedelta(hours=1)
        late_one = pending(enterprise(3), submitted=late)
        Explanation.objects.create(report=yinzhou, rule="x", text="本月新接大额订单")
        admin = personas.ningbo_admin

        def only(**kw: object) -> list[int]:
            return ids(worklist(admin, WorklistFilter(OCTOBER, **kw))[0])  # type: ignore[arg-type]

        assert only(region="330212") == [yinzhou.pk]
        assert only(industry="C") == [zhenhai.pk, yinzhou.pk, late_one.pk]
        assert only(industry="33") == [yinzhou.pk]
        assert only(late=True) == [late_one.pk]
        assert only(late=False) == [zhenhai.pk, yinzhou.pk]
        assert only(explained=True) == [yinzhou.pk]
        approve_local(zhenhai, admin)
        assert only(level="local") == [yinzhou.pk, late_one.pk]

    def test_an_unknown_region_is_404(self, personas: Personas) -> None:
        with pytest.raises(Http404):
            worklist(personas.ningbo_admin, WorklistFilter(OCTOBER, region="999999"))

    def test_keyset_pages_follow_each_other(self, personas: Personas) -> None:
        reports = [pending(enterprise(n)) for n in range(PAGE_SIZE + 3)]
        first, cursor = worklist(personas.ningbo_admin, WorklistFilter(OCTOBER))
        second, end = worklist(personas.ningbo_admin, WorklistFilter(OCTOBER, after=cursor))
        assert ids(first + second) == [r.pk for r in reports]
        assert end is None

    def test_a_page_takes_the_same_queries_for_3_and_for_30_reports(
        self, personas: Personas, django_assert_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        for n in range(3):
            pending(enterprise(n))
        admin = User.objects.get(pk=personas.ningbo_admin.pk)
        with django_assert_num_queries(2) as few:
            [r.enterprise.region.name for r in worklist(admin, WorklistFilter(OCTOBER))[0]]
        for n in range(3, 30):
            pending(enterprise(n))
        admin = User.objects.get(pk=personas.ningbo_admin.pk)
        with django_assert_num_queries(len(few.captured_queries)):
            [r.enterprise.region.name for r in worklist(admin, WorklistFilter(OCTOBER))[0]]

    def test_counts_per_status_stay_in_scope(self, personas: Personas) -> None:
        pending(enterprise(1))
        Report.objects.create(enterprise=enterprise(2), period="2026-10", status="approved")
        pending(enterprise(3, region="440106"))
        counts = status_counts(personas.ningbo_admin, OCTOBER)
        assert (counts["pending"], counts["approved"], counts["draft"]) == (1, 1, 0)


class TestActions:
    def test_a_return_combines_common_reasons_and_text_and_keeps_the_cells(
        self, personas: Personas
    ) -> None:
        report = pending(enterprise(1))
        send_back(
            report,
            personas.ningbo_admin,
            ["数据与上月差异过大，请核实", "不在列表中的理由"],
            "营业收入请核对",
            ["indicators.revenue.ytd"],
        )
        event = report.events.get()
        assert event.reason == "数据与上月差异过大，请核实；营业收入请核对"
        assert event.details == {"cells": ["indicators.revenue.ytd"]}
        assert compose_reason([], "  ") == ""

    def test_batch_approval_takes_each_report_on_its_own(self, personas: Personas) -> None:
        first, second = pending(enterprise(1)), pending(enterprise(2))
        outside = pending(enterprise(3, region="440106"))
        approve_local(second, personas.zhejiang_admin)
        result = batch_approve(personas.ningbo_admin, [first.pk, second.pk, outside.pk, "x"])
        assert [r.pk for r in result.approved] == [first.pk]
        assert len(result.refused) == 3
        assert any("等待国家审核" in message for _, _, message in result.refused)
        assert [pk for pk, _, _ in result.refused] == [str(second.pk), str(outside.pk), "x"]
        first.refresh_from_db()
        assert first.review_stage_label == "地方已审核, 待国家审核"


def test_key_changes_are_visible_within_the_region_only(personas: Personas) -> None:
    report = Report.objects.create(enterprise=enterprise(1), period="2026-10", status="frozen")
    change = KeyChangeRequest.objects.create(
        report=report, old_values={}, new_values={}, requested_by=personas.ningbo_enterprise
    )
    assert list(key_changes_visible_to(personas.ningbo_admin)) == [change]
    assert list(key_changes_visible_to(personas.senior_admin)) == [change]
    assert not key_changes_visible_to(personas.guangdong_admin).exists()
    assert not key_changes_visible_to(personas.ningbo_enterprise).exists()


def test_a_resubmission_shows_what_changed_since_the_return(personas: Personas) -> None:
    import time_machine

    from reports.basic_info import BasicInfoForm
    from reports.services import save_basic_info, save_indicators, submit
    from review.selectors import resubmission_changes
    from tests.test_report_services import basic, flow, indicators

    clerk = personas.ningbo_enterprise
    with time_machine.travel(dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC), tick=False):
        save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))
        save_indicators(clerk, OCTOBER, indicators())
        report, _ = submit(clerk, Report.objects.get())
        assert resubmission_changes(report) == []
        send_back(report, personas.ningbo_admin, [], "营业收入请核对")
        save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))
        report, _ = submit(clerk, Report.objects.get())
    (change,) = resubmission_changes(report)
    assert change.path == "indicators.gross_output.ytd"
    assert change.label == "工业总产值 本年1-本月"
    assert (change.before, change.after) == ("9000.000", "9100.000")


def test_a_report_sent_straight_to_national_review_says_so_to_a_local_admin(
    personas: Personas,
) -> None:
    from reports.workflow import TransitionError, approve_local

    report = pending(enterprise(1), review_level=Report.ReviewLevel.NATIONAL)
    with pytest.raises(TransitionError, match="没有地方管理员"):
        approve_local(report, personas.ningbo_admin)


def test_the_review_page_shows_the_changes_of_a_resubmission(personas: Personas) -> None:
    import time_machine

    from reports.basic_info import BasicInfoForm
    from reports.services import save_basic_info, save_indicators, submit
    from tests.test_report_services import basic, flow, indicators

    clerk = personas.ningbo_enterprise
    with time_machine.travel(dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC), tick=False):
        save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))
        save_indicators(clerk, OCTOBER, indicators())
        report, _ = submit(clerk, Report.objects.get())
        send_back(report, personas.ningbo_admin, [], "工业总产值请核对")
        save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 9100, 900, 8500)))
        report, _ = submit(clerk, Report.objects.get())
        page = personas.client_for(personas.ningbo_admin).get(f"/review/reports/{report.pk}/")
    html = page.content.decode()
    assert "本次重新上报的修改" in html
    assert "工业总产值 本年1-本月" in html and "9100.000" in html


def test_counts_are_kept_between_clicks_and_renewed_by_a_status_change(
    personas: Personas, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    report = pending(enterprise(1))
    admin = User.objects.select_related("region").get(pk=personas.ningbo_admin.pk)
    assert status_counts(admin, OCTOBER)["pending"] == 1
    with django_assert_num_queries(0):
        assert status_counts(admin, OCTOBER)["pending"] == 1
    send_back(report, admin, [], "请核实营业收入")
    counts = status_counts(admin, OCTOBER)
    assert (counts["pending"], counts["returned"]) == (0, 1)
