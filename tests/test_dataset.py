"""The synthetic benchmark dataset (analytics.dataset, manage.py generate_dataset): its figures
hold together as the analytics will read them (1-本月 sums, 上年 columns a year before, each
month's own catalogue), it has the mix a benchmark needs (statuses, changes, answers), it refuses
a database that already has reports, and the seed fixes it. Runs on SQLite and, with
DATABASE_URL=postgres://…, through the COPY path."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import types
from collections import defaultdict
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from analytics.dataset import QUESTIONNAIRE_TITLE, CopySink, generate, sink_for_connection
from directory.models import Enterprise, Industry, Region
from reports.catalogue import catalogue_for, snapshot
from reports.forms import enterprise_info
from reports.models import Answer, Indicator, IndicatorValue, Question, Questionnaire, Report
from reports.periods import Period
from reports.questionnaires import clean_answers
from review.selectors import deadline_moment

END = "2025-06"
MONTHS = 14  # 2024-05 … 2025-06: two months with their month of a year before, a whole 2025
NOW = timezone.make_aware(dt.datetime(2025, 7, 28, 9, 30))  # after the deadline of 2025-06


def quiet(_: str) -> None:
    pass


def make(seed: int = 11, enterprises: int = 60) -> dict[str, int]:
    return generate(enterprises, MONTHS, END, seed, out=quiet, now=NOW, rebuild_cube=False)


@pytest.fixture
def dataset(reference_data: None) -> dict[str, int]:
    return make()


def figures_by_report() -> dict[tuple[int, str], dict[str, IndicatorValue]]:
    rows: dict[tuple[int, str], dict[str, IndicatorValue]] = defaultdict(dict)
    for value in IndicatorValue.objects.select_related("report"):
        rows[(value.report.enterprise_id, value.report.period)][value.code] = value
    return rows


def kinds() -> dict[str, str]:
    return dict(Indicator.objects.values_list("code", "kind"))


def test_it_writes_what_it_counts(dataset: dict[str, int]) -> None:
    assert dataset["enterprises"] == Enterprise.objects.count() == 60
    assert dataset["reports"] == Report.objects.count()
    assert dataset["indicator_values"] == IndicatorValue.objects.count()
    assert dataset["answers"] == Answer.objects.count() > 0
    assert Report.objects.values("period").distinct().count() == MONTHS
    # Every row points at a row written with it (on PostgreSQL the load skips the FK triggers).
    assert not IndicatorValue.objects.exclude(report__in=Report.objects.all()).exists()
    assert not Answer.objects.exclude(report__in=Report.objects.all()).exists()
    assert not Report.objects.exclude(enterprise__in=Enterprise.objects.all()).exists()


def test_flow_1_to_month_is_the_sum_of_the_months_since_january(dataset: dict[str, int]) -> None:
    flows = {code for code, kind in kinds().items() if kind == Indicator.Kind.FLOW}
    figures = figures_by_report()
    checked = 0
    for (enterprise, period), values in figures.items():
        p = Period.parse(period)
        months = [f"{p.year}-{m:02d}" for m in range(1, p.month + 1)]
        if not all((enterprise, m) in figures for m in months):
            continue
        for code in flows:
            if values[code].ytd is None:
                continue
            currents = [figures[(enterprise, m)][code].current for m in months]
            assert values[code].ytd == sum(currents), (enterprise, period, code)
            checked += 1
    assert checked > 500


def test_last_year_columns_are_the_enterprises_own_figures_a_year_before(
    dataset: dict[str, int],
) -> None:
    figures = figures_by_report()
    checked = 0
    for (enterprise, period), values in figures.items():
        p = Period.parse(period)
        before = figures.get((enterprise, f"{p.year - 1}-{p.month:02d}"))
        if before is None:
            continue
        for code, value in values.items():
            if value.last_year_ytd is not None and before[code].ytd is not None:
                assert value.last_year_ytd == before[code].ytd, (enterprise, period, code)
                checked += 1
            if value.last_year_current is not None and before[code].current is not None:
                assert value.last_year_current == before[code].current
                checked += 1
    assert checked > 500


def test_newcomers_have_no_base_and_some_enterprises_lose_money(dataset: dict[str, int]) -> None:
    last = IndicatorValue.objects.filter(report__period=END)
    assert last.filter(code="revenue", ytd__isnull=False, last_year_ytd__isnull=True).exists()
    assert last.filter(code="revenue", last_year_ytd__isnull=False).count() > 30
    losses = last.filter(code="total_profit", ytd__lt=0).count()
    assert 0 < losses < last.filter(code="total_profit").count() / 2
    assert not IndicatorValue.objects.filter(code="revenue", current__isnull=False).exists()
    utilisation = IndicatorValue.objects.filter(code="capacity_utilization", ytd__isnull=False)
    assert all(40 <= v <= 100 for v in utilisation.values_list("ytd", flat=True))


def test_each_month_carries_its_own_catalogue(dataset: dict[str, int]) -> None:
    for period in ("2025-05", "2025-06"):
        expected = snapshot(catalogue_for(Period.parse(period)))
        report = Report.objects.filter(period=period).first()
        assert report.catalogue == expected
        assert set(report.values.values_list("code", flat=True)) == set(expected)
    assert len(Report.objects.filter(period="2025-06").first().catalogue) == 17
    assert len(Report.objects.filter(period="2025-05").first().catalogue) == 13


def test_the_last_month_is_still_being_reviewed(dataset: dict[str, int]) -> None:
    last = Report.objects.filter(period=END)
    statuses = set(last.values_list("status", flat=True))
    assert {"approved", "pending", "returned", "draft"} <= statuses
    earlier = set(Report.objects.filter(period="2025-01").values_list("status", flat=True))
    assert "pending" not in earlier
    active = Report.objects.filter(period="2025-05").values("enterprise").distinct().count()
    assert last.count() < active  # some have not reported yet
    assert not last.filter(status__in=Report.REPORTED, submitted_at__isnull=True).exists()
    assert not last.filter(status="draft", submitted_at__isnull=False).exists()
    assert set(last.filter(status="approved").values_list("review_level", flat=True)) == {
        "national"
    }
    assert not Report.objects.filter(submitted_at__gt=NOW).exists()
    late = [
        r
        for r in Report.objects.filter(submitted_at__isnull=False)
        if r.submitted_at > deadline_moment(Period.parse(r.period))
    ]
    assert 0 < len(late) < Report.objects.filter(submitted_at__isnull=False).count() / 5


def test_basic_info_is_the_month_s_own_and_the_enterprise_holds_the_latest(
    dataset: dict[str, int],
) -> None:
    leaves = set(Industry.objects.filter(level=Industry.Level.CLASS).values_list("code", flat=True))
    counties = set(Region.objects.filter(level=Region.Level.COUNTY).values_list("code", flat=True))
    for enterprise in Enterprise.objects.all():
        reports = list(Report.objects.filter(enterprise=enterprise).order_by("period"))
        for report in reports:
            assert set(enterprise_info(enterprise)) <= set(report.basic_info)
            assert report.basic_info["industry"] in leaves
            assert report.basic_info["region"] in counties
            assert report.basic_info["code"] == enterprise.code
        assert reports[-1].basic_info["industry"] == enterprise.industry_id
        assert reports[-1].basic_info["region"] == enterprise.region_id


def test_enterprises_change_industry_move_and_appear_during_the_window(
    dataset: dict[str, int],
) -> None:
    industries: dict[int, set[str]] = defaultdict(set)
    regions: dict[int, set[str]] = defaultdict(set)
    for enterprise, info in Report.objects.values_list("enterprise_id", "basic_info"):
        industries[enterprise].add(info["industry"])
        regions[enterprise].add(info["region"])
    assert any(len(codes) == 2 for codes in industries.values())
    assert any(len(codes) == 2 for codes in regions.values())
    newcomers = Enterprise.objects.exclude(reports__period="2024-05")
    assert newcomers.filter(reports__period="2025-06").exists()


def test_answers_are_valid_options_of_the_month_s_questionnaire(dataset: dict[str, int]) -> None:
    questionnaire = Questionnaire.objects.get(title=QUESTIONNAIRE_TITLE)
    months = [str(p) for p in (Period(2024, 5), Period(2025, 6))]
    assert all(questionnaire.applies_to(m) for m in months)
    assert len(questionnaire.periods.split(",")) == MONTHS
    types_ = list(questionnaire.questions.values_list("type", flat=True))
    assert types_.count(Question.Type.SINGLE) == 3 and Question.Type.MULTIPLE in types_
    answered = Report.objects.filter(answers__isnull=False).distinct()
    assert answered.count() > Report.objects.filter(status__in=Report.REPORTED).count() * 0.8
    assert not answered.exclude(status__in=Report.REPORTED).exists()
    for report in answered.prefetch_related("answers"):
        raw = {str(a.question_id): a.value for a in report.answers.all()}
        cleaned, errors = clean_answers(questionnaire, raw)
        assert not errors, errors
        assert {str(k): v for k, v in cleaned.items()} == raw  # stored as the platform stores


def test_it_refuses_a_database_with_reports_unless_told_to_append(
    dataset: dict[str, int],
) -> None:
    with pytest.raises(CommandError, match="--append"):
        call_command("generate_dataset", "--enterprises=3", "--months=2", f"--end={END}")
    out = StringIO()
    call_command(
        "generate_dataset",
        "--enterprises=3",
        "--months=2",
        f"--end={END}",
        "--seed=12",
        "--append",
        "--no-cube",
        stdout=out,
    )
    assert Enterprise.objects.count() == 63
    assert "完成：企业 3" in out.getvalue()


def test_it_refuses_a_month_that_is_not_over(reference_data: None) -> None:
    with pytest.raises(CommandError, match="尚未结束"):
        call_command("generate_dataset", "--enterprises=3", "--end=2099-01", stdout=StringIO())


def digest() -> str:
    """The dataset without its ids (sequences differ between runs)."""
    h = hashlib.sha256()
    rows: list[Any] = [
        *Enterprise.objects.order_by("code").values_list(
            "code", "name", "region", "industry", "registration_type", "holding_type", "size",
            "contact_person", "contact_phone", "created_at",
        ),
        *Report.objects.order_by("enterprise__code", "period").values_list(
            "enterprise__code", "period", "status", "method", "version", "submitted_at",
            "review_level", "first_reviewed_at", "created_at", "updated_at", "basic_info",
        ),
        *IndicatorValue.objects.order_by("report__enterprise__code", "report__period", "code")
        .values_list(
            "report__enterprise__code", "report__period", "code", "current", "ytd",
            "last_year_current", "last_year_ytd",
        ),
        *Answer.objects.order_by("report__enterprise__code", "report__period", "question__position")
        .values_list("report__enterprise__code", "report__period", "question__text", "value"),
    ]  # fmt: skip
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, default=str).encode())
    return h.hexdigest()


def clear() -> None:
    Answer.objects.all().delete()
    IndicatorValue.objects.all().delete()
    Report.objects.all().delete()
    Enterprise.objects.all().delete()
    Questionnaire.objects.all().delete()


def test_the_same_seed_gives_the_same_dataset(reference_data: None) -> None:
    first = make(seed=5, enterprises=25)
    before = digest()
    clear()
    assert make(seed=5, enterprises=25) == first
    assert digest() == before
    clear()
    make(seed=6, enterprises=25)
    assert digest() != before


def test_it_writes_with_copy_on_postgresql(reference_data: None) -> None:
    assert isinstance(sink_for_connection(), CopySink) == (connection.vendor == "postgresql")


def test_it_rebuilds_the_analytics_cube_for_the_generated_months(
    reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    cube = types.ModuleType("analytics.cube")
    cube.rebuild = lambda periods: calls.append(list(periods)) or 42  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "analytics.cube", cube)
    monkeypatch.setattr("analytics.cube", cube, raising=False)
    lines: list[str] = []
    counts = generate(3, 2, END, 1, out=lines.append, now=NOW)
    assert calls == [["2025-05", "2025-06"]]
    assert counts["cube_rows"] == 42
    assert any("分析汇总表已重建" in line for line in lines)


def test_it_skips_the_cube_when_there_is_no_rebuild(
    reference_data: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cube = types.ModuleType("analytics.cube")
    monkeypatch.setitem(sys.modules, "analytics.cube", cube)
    monkeypatch.setattr("analytics.cube", cube, raising=False)
    lines: list[str] = []
    generate(3, 2, END, 1, out=lines.append, now=NOW)
    assert any("未重建分析汇总表" in line for line in lines)
