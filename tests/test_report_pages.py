"""当期报送 (the four-step wizard), 上报, 撤销, 历史报送 and the read-only view, as an enterprise
user meets them through the pages. Time is frozen at 2026-11-10 10:00 in 上海: the current report
month is 2026-10 and the 补报 window reaches back to 2025-10."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from directory.cascade import INDUSTRY, REGION, REGISTRATION, cascade_values
from directory.models import Enterprise, Industry, RegistrationType
from loadtest.clerk import Forms
from reports.models import (
    Answer,
    Explanation,
    IndicatorValue,
    KeyChangeRequest,
    ProductLine,
    Question,
    Questionnaire,
    Report,
    ReportEvent,
)
from reports.workflow import STALE_VERSION, Action, return_report
from tests.conftest import Personas

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
PERIOD = "2026-10"
STEP_URLS = [
    f"/reports/{PERIOD}/basic/",
    f"/reports/{PERIOD}/indicators/",
    f"/reports/{PERIOD}/products/",
    f"/reports/{PERIOD}/questionnaires/",
]

# Figures of 2026-10 that pass every default rule: growth within range, 1-本月 ≥ 本月.
GOOD_FIGURES = {
    "gross_output": ("100", "1000", "90", "900"),
    "export_delivery": ("10", "100", "9", "90"),
    "electricity": ("50", "500", "45", "450"),
    "capacity_utilization": (None, "80", None, "75"),
    "revenue": (None, "1200", None, "1100"),
    "operating_cost": (None, "900", None, "850"),
    "loan_balance": (None, "300", None, "300"),
    "financial_expense": (None, "10", None, "9"),
    "receivables": (None, "200", None, "190"),
    "finished_goods": (None, "100", None, "90"),
    "total_profit": (None, "150", None, "140"),
    "taxes_payable": (None, "30", None, "28"),
    "employees": (None, "120", None, "118"),
}
COLUMNS = ("current", "ytd", "last_year_current", "last_year_ytd")
GOOD_REASON = "本月新接海外订单，出口交货值较上年同期大幅增加。"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client(personas: Personas) -> Client:
    # Logged in inside the frozen time, so that the 30-minute session is valid then.
    return personas.client_for(personas.ningbo_enterprise)


def text(response: Any) -> str:
    return response.content.decode()


def basic_data(personas: Personas, **changes: str) -> dict[str, str]:
    enterprise = personas.ningbo_enterprise.enterprise
    leaf_industry = Industry.objects.get(code="0111")
    leaf_registration = RegistrationType.objects.filter(children__isnull=True).first()
    assert leaf_registration is not None
    data = {
        "enterprise_name": enterprise.name,
        "code_type": enterprise.code_type,
        "code": enterprise.code,
        "legal_representative": "王建国",
        "holding_type": "",
        "size": "",
        "listed": "0",
        "stock_code": "",
        "address": "宁波市镇海区临港二路168号",
        "postal_code": "315200",
        "website": "",
        "contact_person": "杨莎莎",
        "phone": "0574-86601234",
        "fax": "",
        "mobile": "",
        "email": "",
        "main_business": "谷物种植与加工",
        "action": "next",
        **cascade_values(INDUSTRY, leaf_industry.code),
        **cascade_values(REGION, "330211"),
        **cascade_values(REGISTRATION, leaf_registration.code),
    }
    data.update(changes)
    return data


def figures(**changes: tuple[str | None, ...]) -> dict[str, str]:
    data: dict[str, str] = {}
    for code, values in {**GOOD_FIGURES, **changes}.items():
        for column, value in zip(COLUMNS, values, strict=True):
            if value is not None:
                data[f"{code}.{column}"] = value
    return data


def product(key: str, name: str, produced: str = "120", sold: str = "100") -> dict[str, Any]:
    return {
        "product": key,
        f"p{key}.name": name,
        f"p{key}.code": "0101010000",
        f"p{key}.unit": "吨",
        f"p{key}.production.current": "12",
        f"p{key}.production.ytd": produced,
        f"p{key}.sales.current": "10",
        f"p{key}.sales.ytd": sold,
    }


def own_report(personas: Personas) -> Report:
    return Report.objects.get(enterprise=personas.ningbo_enterprise.enterprise, period=PERIOD)


def fill_steps_1_and_2(client: Client, personas: Personas) -> None:
    response = client.post(STEP_URLS[0], basic_data(personas))
    assert response.status_code == 302, text(response)
    response = client.post(STEP_URLS[1], {**figures(), "action": "next"})
    assert response.status_code == 302, text(response)


def make_questionnaire(period: str = PERIOD) -> Questionnaire:
    questionnaire = Questionnaire.objects.create(title="数字化应用情况调查", periods=period)
    Question.objects.create(
        questionnaire=questionnaire,
        position=1,
        text="贵企业是否使用工业互联网平台？",
        type=Question.Type.SINGLE,
        options=[{"value": "yes", "label": "是"}, {"value": "no", "label": "否"}],
    )
    Question.objects.create(
        questionnaire=questionnaire,
        position=2,
        text="本月数字化投入（千元）",
        type=Question.Type.NUMBER,
        required=False,
    )
    return questionnaire


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", STEP_URLS)
def test_each_step_opens_for_the_enterprise(client: Client, url: str) -> None:
    response = client.get(url)
    html = text(response)
    assert response.status_code == 200
    assert "填写企业基本信息" in html and "应用情况调查问卷" in html
    assert "报表月份：2026-10" in html
    assert "填报人：33029997" in html
    assert "单位名称：宁波康尔企业" in html
    # A look is not a start: no report row is written by opening a step.
    assert not Report.objects.exists()


def test_the_month_address_leads_to_step_1(client: Client) -> None:
    response = client.get(f"/reports/{PERIOD}/")
    assert response.status_code == 302
    assert response["Location"] == STEP_URLS[0]
    assert client.get("/reports/")["Location"] == STEP_URLS[0]


@pytest.mark.parametrize("persona", ["ningbo_admin", "senior_admin"])
@pytest.mark.parametrize(
    "url", [*STEP_URLS, "/reports/history/", f"/reports/{PERIOD}/view/", "/reports/"]
)
def test_administrators_get_404(personas: Personas, persona: str, url: str) -> None:
    assert personas.client_for(getattr(personas, persona)).get(url).status_code == 404


@pytest.mark.parametrize("period", ["2026-11", "2025-09", "2026-13", "2026-00"])
@pytest.mark.parametrize("step", ["", "basic/", "indicators/", "products/", "questionnaires/"])
def test_a_month_outside_the_window_is_404(client: Client, period: str, step: str) -> None:
    assert client.get(f"/reports/{period}/{step}").status_code == 404


def test_the_oldest_month_of_the_backfill_window_opens(client: Client) -> None:
    assert client.get("/reports/2025-10/basic/").status_code == 200


def test_an_anonymous_visitor_is_sent_to_the_login_page() -> None:
    response = Client().get(STEP_URLS[0])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Step 1 -------------------------------------------------------------------------------------


def test_step_1_is_prefilled_from_the_enterprise_record(client: Client) -> None:
    html = text(client.get(STEP_URLS[0]))
    assert 'value="宁波康尔企业"' in html
    assert '<option value="330211" selected>镇海区</option>' in html


def test_step_1_is_prefilled_from_the_latest_earlier_month(
    client: Client, personas: Personas
) -> None:
    Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise,
        period="2026-08",
        basic_info={"legal_representative": "李大海", "region": "330211", "listed": False},
    )
    assert 'value="李大海"' in text(client.get(STEP_URLS[0]))


def test_an_earlier_month_prefills_the_key_fields_as_the_record_has_them_now(
    client: Client, personas: Personas
) -> None:
    """The record changed since that month (an approved key change, a national administrator's
    correction): step 1 shows the record's name and industry, and saving what it shows, as a
    browser posts the page's own form, is no key change — the month is not frozen."""
    enterprise = personas.ningbo_enterprise.enterprise
    Enterprise.objects.filter(pk=enterprise.pk).update(industry_id="0111")
    client.post(STEP_URLS[0], basic_data(personas, action="save"))  # a month on file …
    Report.objects.filter(enterprise=enterprise).update(period="2026-08")  # … an earlier one
    Report.objects.filter(enterprise=enterprise).update(
        basic_info={
            **Report.objects.get(enterprise=enterprise).basic_info,
            "enterprise_name": "宁波康尔旧名",
            "industry": "0112",
        }
    )
    html = text(client.get(STEP_URLS[0]))
    assert 'value="宁波康尔企业"' in html and "宁波康尔旧名" not in html
    assert '<option value="0111" selected>' in html
    form = Forms(html).form_with("version")
    assert form is not None
    response = client.post(
        STEP_URLS[0],
        urlencode(form.data(action="save")),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert own_report(personas).status == Report.Status.DRAFT


def test_step_1_saves_and_goes_to_step_2(client: Client, personas: Personas) -> None:
    response = client.post(STEP_URLS[0], basic_data(personas))

    assert response.status_code == 302
    assert response["Location"] == STEP_URLS[1]
    report = own_report(personas)
    assert report.basic_info["legal_representative"] == "王建国"
    assert report.basic_info["industry"] == "0111"
    assert report.status == Report.Status.DRAFT


def test_step_1_save_stays_on_the_step(client: Client, personas: Personas) -> None:
    response = client.post(STEP_URLS[0], basic_data(personas, action="save"), follow=True)
    assert response.redirect_chain[-1][0] == STEP_URLS[0]
    assert "已保存。" in text(response)


def test_step_1_shows_errors_beside_the_fields_and_saves_nothing(
    client: Client, personas: Personas
) -> None:
    response = client.post(STEP_URLS[0], basic_data(personas, postal_code="3152", phone=""))
    html = text(response)
    assert response.status_code == 200
    assert "电话和手机至少填一项。" in html
    assert html.count('class="field has-error') == 2
    assert not Report.objects.filter(basic_info__has_key="code").exists()


def test_a_key_change_asks_for_confirmation_then_freezes_the_month(
    client: Client, personas: Personas
) -> None:
    client.post(STEP_URLS[0], basic_data(personas))
    changed = basic_data(personas, enterprise_name="宁波康尔科技有限公司")

    response = client.post(STEP_URLS[0], {**changed, "version": own_report(personas).version})
    html = text(response)
    assert response.status_code == 200
    assert 'role="alertdialog"' in html
    assert "您修改了企业名称" in html
    assert '<button type="submit" name="confirm_key_change" value="1"' in html
    assert own_report(personas).status == Report.Status.DRAFT

    version = own_report(personas).version
    response = client.post(
        STEP_URLS[0], {**changed, "version": version, "confirm_key_change": "1"}, follow=True
    )
    html = text(response)
    assert "本月报表已冻结" in html
    report = own_report(personas)
    assert report.status == Report.Status.FROZEN
    change = KeyChangeRequest.objects.get(report=report)
    assert change.new_values["enterprise_name"] == "宁波康尔科技有限公司"
    # Frozen: the steps show no 保存 any more.
    assert 'value="save"' not in text(client.get(STEP_URLS[1]))


def test_an_unfrozen_month_says_it_may_go_on(client: Client, personas: Personas) -> None:
    Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise,
        period=PERIOD,
        status=Report.Status.UNFROZEN,
    )
    assert "审核通过，可以继续填报" in text(client.get(STEP_URLS[0]))


def test_a_returned_key_change_shows_the_reason_and_re_report(
    client: Client, personas: Personas
) -> None:
    report = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise,
        period=PERIOD,
        status=Report.Status.RETURNED,
    )
    ReportEvent.objects.create(
        report=report,
        action=Action.RETURN_CHANGE,
        from_status=Report.Status.FROZEN,
        to_status=Report.Status.RETURNED,
        actor=personas.senior_admin,
        reason="企业名称与营业执照不符。",
    )
    html = text(client.get(STEP_URLS[0]))
    assert "企业信息变更审核被退回" in html
    assert "企业名称与营业执照不符。" in html
    assert ">重报</a>" in html


# --- Step 2 -------------------------------------------------------------------------------------


def test_step_2_shows_the_manuals_columns_and_required_marks(client: Client) -> None:
    html = text(client.get(STEP_URLS[1]))
    assert "<th>本月</th><th>1-本月</th><th>本月</th><th>1-本月</th>" in html
    assert '<span class="req">*</span>工业总产值' in html
    # A flow indicator has four inputs, the others the two 1-本月 ones only.
    assert 'name="gross_output.current"' in html
    assert 'name="revenue.ytd"' in html
    assert 'name="revenue.current"' not in html
    assert 'name="revenue.last_year_current"' not in html


def test_step_2_prefills_last_year_and_shows_the_growth(client: Client, personas: Personas) -> None:
    last_year = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise, period="2025-10"
    )
    IndicatorValue.objects.create(report=last_year, code="revenue", current=None, ytd=12)
    html = text(client.get(STEP_URLS[1]))
    assert re.search(r'name="revenue.last_year_ytd" value="12"', html)

    client.post(STEP_URLS[0], basic_data(personas))
    client.post(STEP_URLS[1], {**figures(revenue=(None, "21.111", None, "12")), "action": "save"})
    html = text(client.get(STEP_URLS[1]))
    row = re.search(r'<tr data-indicator="revenue".*?</tr>', html, re.S)
    assert row is not None
    assert "75.93%" in row.group(0)


def test_a_hard_error_shows_in_the_row_and_nothing_is_saved(
    client: Client, personas: Personas
) -> None:
    client.post(STEP_URLS[0], basic_data(personas))
    response = client.post(
        STEP_URLS[1], {**figures(gross_output=("100", "50", "90", "900")), "action": "next"}
    )
    html = text(response)
    assert response.status_code == 200
    row = re.search(r'<tr data-indicator="gross_output".*?<tr data-indicator', html, re.S)
    assert row is not None
    assert "1-本月不能小于本月" in row.group(0)
    assert 'name="gross_output.ytd" value="50"' in html  # what was typed stays
    assert not IndicatorValue.objects.exists()


def test_a_missing_required_figure_shows_in_its_row(client: Client, personas: Personas) -> None:
    client.post(STEP_URLS[0], basic_data(personas))
    response = client.post(
        STEP_URLS[1], {**figures(employees=(None, "", None, "118")), "action": "next"}
    )
    row = re.search(r'<tr data-indicator="employees".*?</tbody>', text(response), re.S)
    assert row is not None
    assert "从业人员为必填项" in row.group(0)
    assert not IndicatorValue.objects.exists()


def test_a_soft_warning_asks_for_a_reason(client: Client, personas: Personas) -> None:
    client.post(STEP_URLS[0], basic_data(personas))
    warned = figures(export_delivery=("15", "100", "1", "12"))

    response = client.post(STEP_URLS[1], {**warned, "action": "next"})
    html = text(response)
    assert response.status_code == 200
    assert "违反了一些非强制性校验规则" in html
    warning = re.search(r'<tr class="row-warning">.*?</tr>', html, re.S)
    assert warning is not None
    assert "同比范围应在-100-300" in warning.group(0)
    assert 'name="explanation_export_delivery-growth-range"' in warning.group(0)
    assert (
        '<button type="submit" name="action" value="confirm" class="primary">确定</button>' in html
    )
    assert ">修改数据</a>" in html
    # The figures are saved; the reason is what is missing.
    assert IndicatorValue.objects.get(code="export_delivery").ytd == 100

    version = own_report(personas).version
    boilerplate = {
        **warned,
        "action": "confirm",
        "version": version,
        "explanation_export_delivery-growth-range": "经核实，数据无误。",
    }
    html = text(client.post(STEP_URLS[1], boilerplate))
    assert "不能只填写“核实无误”“正常”之类的套话" in html
    assert "经核实，数据无误。" in html  # what was typed stays in the box
    assert not Explanation.objects.exists()

    version = own_report(personas).version
    good = {**boilerplate, "version": version}
    good["explanation_export_delivery-growth-range"] = GOOD_REASON
    response = client.post(STEP_URLS[1], good)
    assert response.status_code == 302
    assert response["Location"] == STEP_URLS[2]
    assert Explanation.objects.get(rule="export_delivery-growth-range").text == GOOD_REASON

    # Once explained, 下一步 goes straight on.
    version = own_report(personas).version
    response = client.post(STEP_URLS[1], {**warned, "action": "next", "version": version})
    assert response["Location"] == STEP_URLS[2]


def test_a_stale_page_gets_the_conflict_message(client: Client, personas: Personas) -> None:
    client.post(STEP_URLS[0], basic_data(personas))
    old_version = own_report(personas).version
    client.post(STEP_URLS[1], {**figures(), "action": "save", "version": old_version})

    response = client.post(
        STEP_URLS[1],
        {**figures(revenue=(None, "1300", None, "1100")), "action": "save", "version": old_version},
    )
    html = text(response)
    assert STALE_VERSION in html
    assert f'name="version" value="{old_version}"' in html  # stays stale until reloaded
    assert IndicatorValue.objects.get(code="revenue").ytd == 1200


# --- Step 3 -------------------------------------------------------------------------------------


def test_new_product_row_is_a_partial_with_a_fresh_key(client: Client) -> None:
    first = text(client.get(f"/reports/{PERIOD}/products/row/", HTTP_HX_REQUEST="true"))
    second = text(client.get(f"/reports/{PERIOD}/products/row/", HTTP_HX_REQUEST="true"))
    assert first.lstrip().startswith('<tbody class="product" data-product>')
    assert "<html" not in first
    assert "删除该产品" in first
    keys = [re.search(r'name="product" value="(\w+)"', t).group(1) for t in (first, second)]  # type: ignore[union-attr]
    assert keys[0] != keys[1]


def test_step_3_links_the_product_catalogue(client: Client) -> None:
    html = text(client.get(STEP_URLS[2]))
    assert (
        '<a href="http://www.stats.gov.cn/tjsj/tjbz/tjyplml/" target="_blank" rel="noopener">'
        "查询产品代码</a>"
    ) in html
    assert "新增产品" in html


def test_products_are_saved_in_page_order(client: Client, personas: Personas) -> None:
    data: dict[str, Any] = {"action": "next"}
    rows = [product("a1b2c3d4", "大米"), product("0", "面粉", produced="90", sold="95")]
    data["product"] = [r.pop("product") for r in rows]
    for r in rows:
        data.update(r)

    response = client.post(STEP_URLS[2], data)
    assert response.status_code == 302
    assert response["Location"] == STEP_URLS[3]
    lines = list(ProductLine.objects.order_by("position"))
    assert [(p.name, p.production_ytd, p.sales_ytd) for p in lines] == [
        ("大米", 120, 100),
        ("面粉", 90, 95),
    ]
    html = text(client.get(STEP_URLS[2]))
    assert "data-stock-total>20</td>" in html
    assert "data-stock-total>-5</td>" in html


def test_a_product_error_shows_in_its_row(client: Client) -> None:
    data = product("7", "")
    data["action"] = "save"
    response = client.post(STEP_URLS[2], data)
    html = text(response)
    assert response.status_code == 200
    assert "请填写产品名称。" in html
    assert not ProductLine.objects.exists()


def test_last_months_products_are_carried_over(client: Client, personas: Personas) -> None:
    earlier = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise, period="2026-09"
    )
    ProductLine.objects.create(report=earlier, name="饲料", code="1320", unit="吨")
    html = text(client.get(STEP_URLS[2]))
    assert 'value="饲料"' in html


# --- Step 4 and submission ----------------------------------------------------------------------


def test_questionnaires_are_listed_answered_and_submitted(
    client: Client, personas: Personas
) -> None:
    questionnaire = make_questionnaire()
    fill_steps_1_and_2(client, personas)
    html = text(client.get(STEP_URLS[3]))
    url = f"/reports/{PERIOD}/questionnaires/{questionnaire.pk}/"
    assert f'<a class="button" href="{url}">进入答题</a>' in html

    single, number = questionnaire.questions.all()
    response = client.post(url, {f"q{number.pk}": "abc"})
    html = text(response)
    assert "此题为必答题。" in html
    assert "请填写数字。" in html
    assert not Answer.objects.exists()

    response = client.post(url, {f"q{single.pk}": "yes", f"q{number.pk}": "12.5"})
    assert response["Location"] == STEP_URLS[3]
    assert Answer.objects.get(question=single).value == "yes"
    html = text(client.get(STEP_URLS[3]))
    assert "已答" in html and "进入答题" not in html

    response = client.post(f"/reports/{PERIOD}/submit/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = text(response)
    assert "上报成功，报表状态：待审核" in html
    months = re.search(r'<table class="grid months">.*?</table>', html, re.S)
    assert months is not None
    assert "<th>是否填报</th><td>已填报</td>" in months.group(0)
    assert "<th>报表状态</th><td>待审核</td>" in months.group(0)
    assert "<td>2026-11-10 10:00:00</td>" in months.group(0)
    assert "<td>在线填报</td>" in months.group(0)
    assert own_report(personas).status == Report.Status.PENDING


def test_submit_lists_what_blocks_it_with_links_to_the_steps(
    client: Client, personas: Personas
) -> None:
    questionnaire = make_questionnaire()
    client.post(STEP_URLS[0], basic_data(personas))

    response = client.post(f"/reports/{PERIOD}/submit/")
    html = text(response)
    assert response.status_code == 200
    assert "报表还不能上报" in html
    assert f'<a href="{STEP_URLS[1]}">前往【填写企业主要经济指标月报】</a>' in html
    assert f'/reports/{PERIOD}/questionnaires/{questionnaire.pk}/">前往' in html
    assert own_report(personas).status == Report.Status.DRAFT


def test_submit_without_any_report_asks_for_step_1(client: Client) -> None:
    html = text(client.post(f"/reports/{PERIOD}/submit/"))
    assert "请先填写企业基本情况表。" in html
    assert f'<a href="{STEP_URLS[0]}">前往【填写企业基本信息】</a>' in html


def test_withdraw_puts_the_month_back_into_edit(client: Client, personas: Personas) -> None:
    fill_steps_1_and_2(client, personas)
    client.post(f"/reports/{PERIOD}/submit/")
    assert own_report(personas).status == Report.Status.PENDING

    response = client.post(f"/reports/{PERIOD}/withdraw/", follow=True)
    assert "报表已撤销上报，报表状态：编辑" in text(response)
    report = own_report(personas)
    assert report.status == Report.Status.DRAFT
    assert report.submitted_at is None

    response = client.post(f"/reports/{PERIOD}/withdraw/", follow=True)
    assert "不能撤销" in text(response)
    assert client.get(f"/reports/{PERIOD}/withdraw/").status_code == 405


# --- History and the read-only view -------------------------------------------------------------


def test_history_lists_every_open_month(client: Client, personas: Personas) -> None:
    fill_steps_1_and_2(client, personas)
    client.post(f"/reports/{PERIOD}/submit/")
    returned = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise,
        period="2026-08",
        status=Report.Status.PENDING,
    )
    return_report(returned, personas.ningbo_admin, "营业收入与上月差异过大，请核实后重报。")

    html = text(client.get("/reports/history/"))
    rows = re.findall(r"<tr>\s*<td>(\d{4}-\d{2})", html)
    assert rows[0] == "2026-10" and rows[-1] == "2025-10" and len(rows) == 13
    row_10 = re.search(r"<td>2026-10.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert "待审核" in row_10
    assert "月度指标 (共13个指标)" in row_10
    assert "2026-11-10 10:00:00" in row_10
    assert f'<a href="/reports/{PERIOD}/view/">查看</a>' in row_10
    assert ">撤销</button>" in row_10
    row_08 = re.search(r"<td>2026-08.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert "<summary>查看原因</summary>营业收入与上月差异过大，请核实后重报。" in row_08
    assert '<a href="/reports/2026-08/basic/">继续填报</a>' in row_08
    row_09 = re.search(r"<td>2026-09.*?</tr>", html, re.S).group(0)  # type: ignore[union-attr]
    assert "未填报" in row_09 and "季度指标 (共17个指标)" in row_09
    assert '<a href="/reports/2026-09/basic/">补报</a>' in row_09


def test_history_does_not_query_per_report(client: Client, personas: Personas) -> None:
    def returned_month(month: str) -> None:
        report = Report.objects.create(
            enterprise=personas.ningbo_enterprise.enterprise,
            period=month,
            status=Report.Status.PENDING,
            catalogue={"revenue": {"name": "营业收入"}},
        )
        return_report(report, personas.ningbo_admin, "请核实。")

    returned_month("2026-10")
    client.get("/reports/history/")
    with CaptureQueriesContext(connection) as one:
        client.get("/reports/history/")
    for month in ("2026-09", "2026-08", "2026-07"):
        returned_month(month)
    with CaptureQueriesContext(connection) as four:
        client.get("/reports/history/")
    assert len(four.captured_queries) == len(one.captured_queries)


def test_the_read_only_view_shows_all_four_parts(client: Client, personas: Personas) -> None:
    questionnaire = make_questionnaire()
    fill_steps_1_and_2(client, personas)
    client.post(STEP_URLS[2], {**product("1", "大米"), "action": "next"})
    single = questionnaire.questions.get(type=Question.Type.SINGLE)
    client.post(f"/reports/{PERIOD}/questionnaires/{questionnaire.pk}/", {f"q{single.pk}": "no"})
    client.post(f"/reports/{PERIOD}/submit/")

    html = text(client.get(f"/reports/{PERIOD}/view/"))
    assert "报表状态：<strong>待审核</strong>" in html
    assert "<dt>法人代表</dt><dd>王建国</dd>" in html
    assert "<dt>所在地区</dt><dd>浙江省 / 宁波市 / 镇海区</dd>" in html
    assert "11.11%" in html
    assert '<td rowspan="2">大米</td>' in html
    assert '<span class="chosen">否</span>' in html
    assert "<input" not in html.split("<h2>1. 企业基本情况表</h2>")[1]


def test_the_view_of_a_month_without_report_is_404(client: Client) -> None:
    assert client.get(f"/reports/{PERIOD}/view/").status_code == 404


def test_a_pending_month_cannot_be_changed_through_the_steps(
    client: Client, personas: Personas
) -> None:
    fill_steps_1_and_2(client, personas)
    client.post(f"/reports/{PERIOD}/submit/")
    response = client.post(STEP_URLS[1], {**figures(), "action": "save"})
    html = text(response)
    assert "该月报表当前状态为「待审核」，不能修改。" in html
    assert "本月报表已上报，报表状态：待审核" in html


# --- Navigation ---------------------------------------------------------------------------------


def test_the_navigation_has_data_collection_for_enterprises_only(personas: Personas) -> None:
    html = text(personas.client_for(personas.ningbo_enterprise).get("/"))
    assert '<a href="/reports/">当期报送</a>' in html
    assert '<a href="/reports/history/">历史报送</a>' in html
    admin_html = text(personas.client_for(personas.ningbo_admin).get("/"))
    assert "当期报送" not in admin_html


# --- Malformed input ----------------------------------------------------------------------------

JUNK = {
    "version": "9" * 40,
    "action": "confirm",
    "gross_output.ytd": "1e999999",
    "revenue.ytd": "\x00",
    "product": ["../x", "1", "1", "A" * 30],
    "p1.name": "x" * 500,
    "p1.production.ytd": "NaN",
    "explanation_x" + "y" * 100: "z",
    "confirm_key_change": "1",
    "code_type": "\x00",
    "province": "\x00",
    "industry_1": "'; drop table",
    "q1": ["a", "b"],
}


@pytest.mark.parametrize(
    "url",
    [
        *STEP_URLS,
        f"/reports/{PERIOD}/questionnaires/1/",
        f"/reports/{PERIOD}/submit/",
        f"/reports/{PERIOD}/withdraw/",
    ],
)
def test_malformed_posts_never_fail_with_500(client: Client, url: str) -> None:
    make_questionnaire()
    response = client.post(url, JUNK)
    assert response.status_code < 500


def test_coming_back_to_step_2_shows_the_warnings_and_the_reasons_given(
    client: Client, personas: Personas
) -> None:
    from reports.periods import Period
    from reports.services import save_explanations, save_indicators
    from tests.test_report_services import flow, indicators

    user = personas.ningbo_enterprise
    october = Period(2026, 10)
    save_indicators(user, october, indicators(export_delivery=flow(400, 4000, 90, 850)))
    page = text(client.get("/reports/2026-10/indicators/"))
    assert "同比范围应在-100-300" in page
    assert 'name="explanation_export_delivery-growth-range"' in page
    save_explanations(user, october, {"export_delivery-growth-range": "本月新接大额出口订单"})
    assert "本月新接大额出口订单" in text(client.get("/reports/2026-10/indicators/"))
