"""The step services that pages, API and import share: what is saved, what is refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.models import User
from directory.models import Enterprise
from reports.basic_info import BasicInfoForm
from reports.models import Explanation, KeyChangeRequest, Question, Questionnaire, Report
from reports.periods import Period
from reports.services import (
    KeyChangeNeedsConfirmation,
    ReportInputError,
    save_answers,
    save_basic_info,
    save_indicators,
    save_products,
    submit,
)
from reports.workflow import TransitionError, withdraw_report
from tests.conftest import Personas

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: current month 2026-10
OCTOBER = Period(2026, 10)


@pytest.fixture(autouse=True)
def frozen_time():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clerk(personas: Personas) -> User:
    return personas.ningbo_enterprise


def basic(enterprise: Enterprise, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "enterprise_name": enterprise.name,
        "code_type": enterprise.code_type,
        "code": enterprise.code,
        "legal_representative": "张三",
        "industry": "1311",
        "region": "330211",
        "registration_type": "173",
        "holding_type": "3",
        "size": "3",
        "listed": False,
        "stock_code": "",
        "address": "宁波北仑甬清临港二路168号",
        "postal_code": "315200",
        "website": "https://kanger.example.cn",
        "contact_person": "杨莎莎",
        "phone": "0574-86601234",
        "fax": "",
        "mobile": "",
        "email": "",
        "main_business": "大米加工",
    }
    data.update(overrides)
    return data


def flow(current: int, ytd: int, ly_current: int, ly_ytd: int) -> dict[str, int]:
    return {
        "current": current,
        "ytd": ytd,
        "last_year_current": ly_current,
        "last_year_ytd": ly_ytd,
    }


def single(ytd: int | float, ly_ytd: int | float) -> dict[str, int | float]:
    return {"ytd": ytd, "last_year_ytd": ly_ytd}


def indicators(**overrides: dict) -> dict[str, dict]:
    values = {
        "gross_output": flow(1000, 9000, 900, 8500),
        "export_delivery": flow(100, 900, 90, 850),
        "electricity": flow(5000, 48000, 4800, 46000),
        "revenue": single(9500, 9000),
        "operating_cost": single(8000, 7600),
        "total_profit": single(-50, 120),
        "employees": single(80, 78),
    }
    values.update(overrides)
    return values


def fill_everything(user: User) -> Report:
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(basic(user.enterprise)))
    save_indicators(user, OCTOBER, indicators())
    return Report.objects.get(enterprise=user.enterprise, period="2026-10")


class TestBasicInfo:
    def test_it_saves_and_keeps_the_enterprise_record_current(self, clerk: User) -> None:
        outcome = save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))
        report = outcome.report
        assert report.status == Report.Status.DRAFT and not outcome.frozen
        assert report.basic_info["region"] == "330211"
        enterprise = Enterprise.objects.get(pk=clerk.enterprise_id)
        assert enterprise.industry_id == "1311"  # first choice of an industry is no change
        assert enterprise.registration_type_id == "173"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"postal_code": "31520"}, "basic_info.postal_code"),
            ({"phone": "", "mobile": ""}, "basic_info.phone"),
            ({"website": "kanger.cn"}, "basic_info.website"),
            ({"listed": True, "stock_code": ""}, "basic_info.stock_code"),
            ({"region": "330200"}, "basic_info.county"),
            ({"industry": "131"}, "basic_info.industry_4"),
            ({"legal_representative": None}, "basic_info.legal_representative"),
        ],
    )
    def test_it_refuses_bad_fields_and_saves_nothing(
        self, clerk: User, overrides: dict, field: str
    ) -> None:
        form = BasicInfoForm.from_json(basic(clerk.enterprise, **overrides))
        with pytest.raises(ReportInputError) as refused:
            save_basic_info(clerk, OCTOBER, form)
        assert field in {e.field for e in refused.value.errors}
        assert not Report.objects.exists()

    def test_a_key_change_needs_confirmation_then_freezes_the_month(self, clerk: User) -> None:
        save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(basic(clerk.enterprise)))
        renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司")
        with pytest.raises(KeyChangeNeedsConfirmation, match="企业名称"):
            save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(renamed))
        assert Report.objects.get().status == Report.Status.DRAFT
        outcome = save_basic_info(
            clerk, OCTOBER, BasicInfoForm.from_json(renamed), confirm_key_change=True
        )
        assert outcome.frozen
        change = KeyChangeRequest.objects.get()
        assert change.old_values["enterprise_name"] == "宁波康尔企业"
        assert change.new_values["enterprise_name"] == "宁波康尔食品有限公司"
        assert Report.objects.get().status == Report.Status.FROZEN
        assert Enterprise.objects.get(pk=clerk.enterprise_id).name == "宁波康尔企业"

    def test_an_approved_key_change_becomes_the_enterprise_record(
        self, clerk: User, personas: Personas
    ) -> None:
        from reports.workflow import approve_key_change

        renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司")
        save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(renamed), confirm_key_change=True)
        approve_key_change(KeyChangeRequest.objects.get(), personas.senior_admin)
        assert Report.objects.get().status == Report.Status.UNFROZEN
        assert Enterprise.objects.get(pk=clerk.enterprise_id).name == "宁波康尔食品有限公司"


class TestIndicators:
    def test_it_saves_values_and_returns_warnings(self, clerk: User) -> None:
        outcome = save_indicators(
            clerk, OCTOBER, indicators(export_delivery=flow(400, 4000, 90, 850))
        )
        report = Report.objects.get()
        assert report.values.get(code="export_delivery").ytd == Decimal(4000)
        assert [w.message for w in outcome.result.warnings] == ["同比范围应在-100-300"]

    def test_a_hard_failure_saves_nothing(self, clerk: User) -> None:
        save_indicators(clerk, OCTOBER, indicators())
        version = Report.objects.get().version
        with pytest.raises(ReportInputError) as refused:
            save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 500, 900, 8500)))
        assert any(e.field == "indicators.gross_output" for e in refused.value.errors)
        report = Report.objects.get()
        assert report.values.get(code="gross_output").ytd == Decimal(9000)
        assert report.version == version

    @pytest.mark.parametrize(
        "bad",
        [
            {"revenue": {"ytd": "一百", "last_year_ytd": 1}},
            {"revenue": {"ytd": 1e30, "last_year_ytd": 1}},
            {"revenue": {"ytd": True, "last_year_ytd": 1}},
            {"revenue": [1, 2]},
            {"no_such_indicator": {"ytd": 1}},
        ],
    )
    def test_malformed_values_are_refused_at_the_cell(self, clerk: User, bad: dict) -> None:
        with pytest.raises(ReportInputError) as refused:
            save_indicators(clerk, OCTOBER, indicators(**bad))
        assert all(e.field.startswith("indicators.") for e in refused.value.errors)
        assert not Report.objects.filter(values__isnull=False).exists()

    def test_a_stale_version_is_refused(self, clerk: User) -> None:
        save_indicators(clerk, OCTOBER, indicators())
        stale = Report.objects.get().version - 1
        with pytest.raises(TransitionError, match="刷新"):
            save_indicators(clerk, OCTOBER, indicators(), expected_version=stale)


class TestProductsAndAnswers:
    def test_products_replace_the_list(self, clerk: User) -> None:
        row = {
            "name": "大米",
            "code": "1311010",
            "unit": "吨",
            "production": {"current": 120, "ytd": 1200},
            "sales": {"current": 100, "ytd": 1100},
        }
        save_products(clerk, OCTOBER, [row, {**row, "name": "面粉"}])
        save_products(clerk, OCTOBER, [row])
        (line,) = Report.objects.get().products.all()
        assert line.name == "大米" and line.closing_stock == Decimal(100)

    @pytest.mark.parametrize(
        ("row", "field"),
        [
            ({"name": "", "unit": "吨"}, "products[0].name"),
            ({"name": "大米", "unit": ""}, "products[0].unit"),
            ({"name": "大米", "unit": "吨", "code": "AB"}, "products[0].code"),
            ({"name": "大米", "unit": "吨", "sales": {"current": -1}}, "products[0].sales.current"),
            (
                {"name": "大米", "unit": "吨", "production": {"current": 9, "ytd": 3}},
                "products[0].production.ytd",
            ),
        ],
    )
    def test_bad_product_rows_are_refused(self, clerk: User, row: dict, field: str) -> None:
        with pytest.raises(ReportInputError) as refused:
            save_products(clerk, OCTOBER, [row])
        assert field in {e.field for e in refused.value.errors}
        assert not Report.objects.exists()

    def test_answers_are_checked_against_the_questions(self, clerk: User) -> None:
        questionnaire = Questionnaire.objects.create(title="订单调查", periods="2026-10")
        question = Question.objects.create(
            questionnaire=questionnaire,
            text="本月订单",
            type="single",
            options=[{"value": "up", "label": "增加"}, {"value": "down", "label": "减少"}],
        )
        with pytest.raises(ReportInputError):
            save_answers(clerk, OCTOBER, questionnaire.pk, {str(question.pk): "sideways"})
        save_answers(clerk, OCTOBER, questionnaire.pk, {str(question.pk): "up"})
        assert Report.objects.get().answers.get().value == "up"


class TestSubmit:
    def test_it_submits_a_complete_report(self, clerk: User) -> None:
        report, _ = submit(clerk, fill_everything(clerk))
        assert report.status == Report.Status.PENDING
        assert report.submitted_at is not None

    def test_a_warning_needs_a_real_reason(self, clerk: User) -> None:
        report = fill_everything(clerk)
        save_indicators(clerk, OCTOBER, indicators(export_delivery=flow(400, 4000, 90, 850)))
        with pytest.raises(ReportInputError) as refused:
            submit(clerk, report)
        (problem,) = refused.value.errors
        assert problem.field == "explanations.export_delivery-growth-range"
        with pytest.raises(ReportInputError):
            submit(clerk, report, {"export_delivery-growth-range": "核实无误"})
        report, _ = submit(clerk, report, {"export_delivery-growth-range": "本月新接大额出口订单"})
        assert report.status == Report.Status.PENDING
        assert Explanation.objects.get().text == "本月新接大额出口订单"

    def test_unanswered_questionnaires_and_missing_steps_block_submission(
        self, clerk: User
    ) -> None:
        questionnaire = Questionnaire.objects.create(title="订单调查", periods="2026-10")
        Question.objects.create(questionnaire=questionnaire, text="本月新签订单", type="number")
        save_products(clerk, OCTOBER, [])
        report = Report.objects.get()
        with pytest.raises(ReportInputError) as refused:
            submit(clerk, report)
        fields = {e.field for e in refused.value.errors}
        assert {"basic_info", "indicators", f"questionnaires.{questionnaire.pk}"} <= fields
        assert Report.objects.get().status == Report.Status.DRAFT

    def test_withdraw_then_resubmit(self, clerk: User) -> None:
        report, _ = submit(clerk, fill_everything(clerk))
        report = withdraw_report(report, clerk)
        assert report.status == Report.Status.DRAFT
        report, _ = submit(clerk, report)
        assert report.status == Report.Status.PENDING
        actions = list(report.events.values_list("action", flat=True))
        assert actions == ["create", "submit", "withdraw", "submit"]


class TestRefusalsLeaveNothingBehind:
    def test_a_refused_key_change_on_a_new_month_creates_no_report(self, clerk: User) -> None:
        renamed = basic(clerk.enterprise, enterprise_name="宁波康尔食品有限公司")
        with pytest.raises(KeyChangeNeedsConfirmation):
            save_basic_info(clerk, OCTOBER, BasicInfoForm.from_json(renamed))
        assert not Report.objects.exists()

    def test_refused_indicators_on_a_new_month_create_no_report(self, clerk: User) -> None:
        with pytest.raises(ReportInputError):
            save_indicators(clerk, OCTOBER, indicators(gross_output=flow(1000, 500, 900, 8500)))
        assert not Report.objects.exists()

    def test_an_engine_error_names_indicator_and_column(self, clerk: User) -> None:
        values = indicators()
        del values["employees"]
        with pytest.raises(ReportInputError) as refused:
            save_indicators(clerk, OCTOBER, values)
        assert any(e.field.startswith("indicators.employees") for e in refused.value.errors)

    @pytest.mark.parametrize(
        "explanations",
        [{"x" * 61: "本月新接大额出口订单"}, {"rule": "本月新接\x00订单"}, {"rule": "长" * 1001}],
    )
    def test_malformed_explanations_are_refused(self, clerk: User, explanations: dict) -> None:
        report = fill_everything(clerk)
        with pytest.raises(ReportInputError):
            submit(clerk, report, explanations)
        assert not Explanation.objects.exists()

    @pytest.mark.parametrize(
        "row",
        [
            {"name": "大米", "unit": "吨\x00"},
            {"name": "大米", "unit": "吨", "production": {"current": "1.0005"}},
        ],
    )
    def test_bad_units_and_too_many_decimals_are_refused(self, clerk: User, row: dict) -> None:
        with pytest.raises(ReportInputError):
            save_products(clerk, OCTOBER, [row])
        assert not Report.objects.exists()


def test_a_refused_save_does_not_change_the_reporting_method(clerk: User) -> None:
    save_indicators(clerk, OCTOBER, indicators())
    stale = Report.objects.get().version - 1
    with pytest.raises(TransitionError):
        save_indicators(
            clerk, OCTOBER, indicators(), expected_version=stale, method=Report.Method.API
        )
    assert Report.objects.get().method == Report.Method.ONLINE


def test_a_questionnaire_of_optional_questions_must_still_be_answered_once(clerk: User) -> None:
    questionnaire = Questionnaire.objects.create(title="建议征集", periods="2026-10")
    question = Question.objects.create(
        questionnaire=questionnaire, text="您的建议", type="text", required=False
    )
    report = fill_everything(clerk)
    with pytest.raises(ReportInputError) as refused:
        submit(clerk, report)
    assert {e.field for e in refused.value.errors} == {f"questionnaires.{questionnaire.pk}"}
    save_answers(clerk, OCTOBER, questionnaire.pk, {str(question.pk): "希望简化报表"})
    report, _ = submit(clerk, Report.objects.get())
    assert report.status == Report.Status.PENDING


def test_a_refused_submission_keeps_the_reasons_typed(clerk: User) -> None:
    Questionnaire.objects.create(title="订单调查", periods="2026-10")
    report = fill_everything(clerk)
    save_indicators(clerk, OCTOBER, indicators(export_delivery=flow(400, 4000, 90, 850)))
    questionnaire = Questionnaire.objects.get()
    Question.objects.create(questionnaire=questionnaire, text="本月新签订单", type="number")
    with pytest.raises(ReportInputError):
        submit(clerk, report, {"export_delivery-growth-range": "本月新接大额出口订单"})
    assert Explanation.objects.get().text == "本月新接大额出口订单"
    assert Report.objects.get().status == Report.Status.DRAFT
