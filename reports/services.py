"""Saving the four steps of a month's report and submitting it: the one path for the wizard
pages, the API and the Excel import. Every save goes through workflow.touch_for_edit (status and
optimistic version), runs the same checks, and writes nothing when a check fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from accounts.models import User
from reports.basic_info import (
    BasicInfoForm,
    changed_key_fields,
    key_values,
    registered_key_values,
)
from reports.catalogue import catalogue_for, snapshot
from reports.content import changes, report_content
from reports.expressions import yoy_growth
from reports.models import Answer, Explanation, IndicatorValue, ProductLine, Report
from reports.periods import Period
from reports.questionnaires import clean_answers, questionnaires_for
from reports.selectors import get_own_report
from reports.validation import (
    COLUMNS,
    ValidationResult,
    explanation_problem,
    load_history,
    specs,
    validate,
)
from reports.workflow import (
    SUBMISSIONS,
    check_editable,
    check_period_open,
    freeze_report,
    lock_for_edit,
    record_edit,
    start_import,
    start_report,
    submit_import,
    submit_report,
    touch_for_edit,
)

LIMIT = Decimal(10) ** 15
PRODUCT_COLUMNS = COLUMNS  # a product has the four columns of an indicator
MAX_PRODUCTS = 50
MAX_EXPLANATION = 1000
RULE_CODE = re.compile(r"[-a-zA-Z0-9_]{1,60}")


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class ReportInputError(Exception):
    """Input that breaks a hard rule: nothing was saved. Each error names its field."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class KeyChangeNeedsConfirmation(Exception):
    """Step 1 changed 企业名称, the code or 所属行业: the user must confirm (the month freezes)."""

    def __init__(self, fields: list[str]) -> None:
        labels = {"enterprise_name": "企业名称", "code_type": "代码类型", "code": "机构代码"}
        labels["industry"] = "所属行业"
        names = "、".join(dict.fromkeys(labels[f] for f in fields))
        super().__init__(
            f"您修改了{names}，属于关键信息变更：确认后本月报表将被冻结，"
            "待国家高级管理员审核通过后才能继续上报。"
        )
        self.fields = fields


@dataclass
class SaveOutcome:
    report: Report
    frozen: bool = False
    result: ValidationResult = field(default_factory=ValidationResult)


def report_or_draft(user: User, period: Period) -> Report:
    """The month's report, or an unsaved one carrying the month's catalogue: input is checked
    against it before anything is created, so a refused first save leaves no empty draft."""
    period = check_period_open(period)
    report = get_own_report(user, str(period))
    if report is None:
        report = Report(
            enterprise=user.enterprise,
            period=str(period),
            catalogue=snapshot(catalogue_for(period)),
        )
    return report


def _report_for_edit(user: User, period: Period, method: str) -> Report:
    return start_report(user, period, method)


@contextmanager
def _audited(report: Report, user: User, new: bool = False) -> Iterator[None]:
    """Around the writes of a save, inside its transaction and after the report is locked: a month
    that was submitted before keeps what this save changed (an edit event, before and after).
    `new`: created in this transaction, so never submitted."""
    submitted = not new and report.events.filter(action__in=SUBMISSIONS).exists()
    before = report_content(report) if submitted else None
    yield
    if before is not None:
        record_edit(report, user, changes(before, report_content(report), report))


def _touch(report: Report, user: User, expected_version: int | None, method: str) -> Report:
    """touch_for_edit, then record how this save came in (在线填报 / 上报导入 / 接口报送): only a
    save that passed the status and version checks changes 填报方式."""
    report = touch_for_edit(report, user, expected_version)
    if report.method != method:
        report.method = method
        report.save(update_fields=["method"])
    return report


# Step 1 ----------------------------------------------------------------------------------------


def save_basic_info(
    user: User,
    period: Period,
    form: BasicInfoForm,
    *,
    confirm_key_change: bool = False,
    expected_version: int | None = None,
    method: str = Report.Method.ONLINE,
) -> SaveOutcome:
    if not form.is_valid():
        raise ReportInputError(
            [
                FieldError(f"basic_info.{name}", "invalid", str(message))
                for name, messages in form.errors.items()
                for message in messages
            ]
        )
    info = form.stored()
    enterprise = user.enterprise
    assert enterprise is not None
    existing = report_or_draft(user, period)
    if existing.pk is not None:
        check_editable(existing)  # a month that cannot change need not ask about key changes
    changed = changed_key_fields(enterprise, info)
    if changed and not confirm_key_change:
        raise KeyChangeNeedsConfirmation(changed)
    report = _report_for_edit(user, period, method)
    with transaction.atomic():
        report = _touch(report, user, expected_version, method)
        with _audited(report, user):
            report.basic_info = info
            report.save(update_fields=["basic_info", "updated_at"])
        if changed:
            freeze_report(report, user, registered_key_values(enterprise), key_values(info))
            return SaveOutcome(report=report, frozen=True)
        _update_enterprise(enterprise, info)
    return SaveOutcome(report=report)


def _update_enterprise(enterprise: Any, info: dict[str, Any]) -> None:
    """Non-key facts of step 1 keep the enterprise's record current (regions, size, holding);
    written only when one of them changed."""
    new = {
        "region_id": info["region"],
        "registration_type_id": info["registration_type"],
        "holding_type": info["holding_type"] or "",
        "size": info["size"] or "",
        "contact_person": info["contact_person"],
        "contact_phone": info["phone"] or info["mobile"],
    }
    if enterprise.industry_id is None:
        new["industry_id"] = info["industry"]
    changed = [name for name, value in new.items() if getattr(enterprise, name) != value]
    for name in changed:
        setattr(enterprise, name, new[name])
    if changed:
        enterprise.save(update_fields=[name.removesuffix("_id") for name in changed])


# Step 2 ----------------------------------------------------------------------------------------


def parse_number(value: Any, where: str, errors: list[FieldError]) -> Decimal | None:
    """A figure from a form or JSON: None for empty, else a finite Decimal within range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        errors.append(FieldError(where, "number", "请填写数字。"))
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors.append(FieldError(where, "number", "请填写数字。"))
        return None
    if not number.is_finite() or abs(number) >= LIMIT:
        errors.append(FieldError(where, "too_large", "数字超出范围。"))
        return None
    return number


def parse_indicator_values(
    report: Report, raw: Any
) -> tuple[dict[str, dict[str, Decimal | None]], list[FieldError]]:
    errors: list[FieldError] = []
    values: dict[str, dict[str, Decimal | None]] = {}
    if not isinstance(raw, dict):
        return {}, [FieldError("indicators", "invalid", "指标数据格式不正确。")]
    known = {s.code: s for s in specs(report.catalogue)}
    for code, columns in raw.items():
        if code not in known:
            errors.append(FieldError(f"indicators.{code}", "unknown", "本月报表没有该指标。"))
            continue
        if not isinstance(columns, dict):
            errors.append(FieldError(f"indicators.{code}", "invalid", "指标数据格式不正确。"))
            continue
        values[code] = {
            column: parse_number(columns.get(column), f"indicators.{code}.{column}", errors)
            for column in COLUMNS
        }
        # Columns an indicator does not have are kept empty, whatever was sent.
        for column in COLUMNS:
            if column not in known[code].columns:
                values[code][column] = None
    return values, errors


def save_indicators(
    user: User,
    period: Period,
    raw: Any,
    *,
    expected_version: int | None = None,
    method: str = Report.Method.ONLINE,
) -> SaveOutcome:
    values, errors = parse_indicator_values(report_or_draft(user, period), raw)
    if errors:
        raise ReportInputError(errors)
    report = report_or_draft(user, period)
    result = check_indicators(report, values)
    if result.errors:
        raise ReportInputError([issue_error(i) for i in result.errors])
    report = _report_for_edit(user, period, method)
    with transaction.atomic():
        report = _touch(report, user, expected_version, method)
        with _audited(report, user):
            report.values.all().delete()
            IndicatorValue.objects.bulk_create(
                IndicatorValue(report=report, code=code, **columns)
                for code, columns in values.items()
            )
    return SaveOutcome(report=report, result=result)


def check_indicators(
    report: Report,
    values: dict[str, dict[str, Decimal | None]],
    explained: dict[str, str] | None = None,
) -> ValidationResult:
    """The validation engine on `values`, with the reasons stored for the month (or `explained`,
    when the caller knows them: {} for a month created a moment ago)."""
    if explained is not None:
        explanations = explained
    elif report.pk is not None:
        explanations = dict(report.explanations.values_list("rule", "text"))
    else:
        explanations = {}
    return validate(
        values,
        report.catalogue,
        Period.parse(report.period),
        load_history(report.enterprise, Period.parse(report.period)),
        explanations=explanations,
    )


def issue_error(issue: Any) -> FieldError:
    """An engine issue as an input error: indicators.<code>[.<column>]."""
    target = f"indicators.{issue.indicator}" if issue.indicator else "indicators"
    if issue.field:
        target = f"{target}.{issue.field}"
    return FieldError(target, issue.rule, issue.message)


def stored_values(report: Report) -> dict[str, dict[str, Decimal | None]]:
    return {v.code: {c: getattr(v, c) for c in COLUMNS} for v in report.values.all()}


def last_year_prefill(report: Report) -> dict[str, dict[str, Decimal | None]]:
    """上年 columns from the enterprise's own report of the same month a year before."""
    period = Period.parse(report.period)
    rows = IndicatorValue.objects.filter(
        report__enterprise_id=report.enterprise_id,
        report__period=str(Period(period.year - 1, period.month)),
    ).values_list("code", "current", "ytd")
    return {code: {"last_year_current": cur, "last_year_ytd": ytd} for code, cur, ytd in rows}


def growth_of(columns: dict[str, Decimal | None]) -> Decimal | None:
    return yoy_growth(columns.get("ytd"), columns.get("last_year_ytd"))


# Step 3 ----------------------------------------------------------------------------------------


def save_products(
    user: User,
    period: Period,
    rows: Any,
    *,
    expected_version: int | None = None,
    method: str = Report.Method.ONLINE,
) -> SaveOutcome:
    lines, errors = parse_products(rows)
    if errors:
        raise ReportInputError(errors)
    report = _report_for_edit(user, period, method)
    with transaction.atomic():
        report = _touch(report, user, expected_version, method)
        with _audited(report, user):
            report.products.all().delete()
            for line in lines:
                line.report = report
            ProductLine.objects.bulk_create(lines)
    return SaveOutcome(report=report)


def parse_products(rows: Any) -> tuple[list[ProductLine], list[FieldError]]:
    if not isinstance(rows, list):
        return [], [FieldError("products", "invalid", "产品数据格式不正确。")]
    if len(rows) > MAX_PRODUCTS:
        return [], [FieldError("products", "too_many", f"主要产品最多填写{MAX_PRODUCTS}种。")]
    errors: list[FieldError] = []
    lines: list[ProductLine] = []
    for n, row in enumerate(rows):
        where = f"products[{n}]"
        if not isinstance(row, dict):
            errors.append(FieldError(where, "invalid", "产品数据格式不正确。"))
            continue
        line = ProductLine(position=n)
        for name, label, size in (
            ("name", "产品名称", 100),
            ("code", "产品代码", 20),
            ("unit", "计量单位", 20),
        ):
            text = row.get(name) or ""
            if not isinstance(text, str) or len(text.strip()) > size or "\x00" in text:
                errors.append(FieldError(f"{where}.{name}", "invalid", f"{label}不正确。"))
                text = ""
            setattr(line, name, text.strip())
        if not line.name:
            errors.append(FieldError(f"{where}.name", "required", "请填写产品名称。"))
        if not line.unit:
            errors.append(FieldError(f"{where}.unit", "required", "请填写计量单位。"))
        if line.code and not line.code.isdigit():
            errors.append(FieldError(f"{where}.code", "invalid", "产品代码应为数字。"))
        for kind in ("production", "sales"):
            columns = row.get(kind) or {}
            if not isinstance(columns, dict):
                errors.append(FieldError(f"{where}.{kind}", "invalid", "数据格式不正确。"))
                continue
            for column in PRODUCT_COLUMNS:
                at = f"{where}.{kind}.{column}"
                number = parse_number(columns.get(column), at, errors)
                if number is not None and number < 0:
                    errors.append(FieldError(at, "negative", "产销量不能为负数。"))
                elif number is not None and -number.as_tuple().exponent > 3:  # type: ignore[operator]
                    errors.append(FieldError(at, "decimal_places", "最多保留3位小数。"))
                setattr(line, f"{kind}_{column}", number)
            for this, ytd in (("current", "ytd"), ("last_year_current", "last_year_ytd")):
                a, b = getattr(line, f"{kind}_{this}"), getattr(line, f"{kind}_{ytd}")
                if a is not None and b is not None and b < a:
                    at = f"{where}.{kind}.{ytd}"
                    errors.append(FieldError(at, "ytd_below_current", "1-本月不能小于本月。"))
        lines.append(line)
    return lines, errors


def carried_products(report: Report) -> list[ProductLine]:
    """The products of the enterprise's latest earlier month, for a month that has none yet."""
    earlier = (
        Report.objects.filter(enterprise_id=report.enterprise_id, period__lt=report.period)
        .order_by("-period")
        .values_list("pk", flat=True)
        .first()
    )
    if earlier is None:
        return []
    return [
        ProductLine(position=p.position, name=p.name, code=p.code, unit=p.unit)
        for p in ProductLine.objects.filter(report_id=earlier)
    ]


# Step 4 ----------------------------------------------------------------------------------------


def save_answers(
    user: User,
    period: Period,
    questionnaire_id: int,
    raw: Any,
    *,
    expected_version: int | None = None,
    method: str = Report.Method.ONLINE,
) -> SaveOutcome:
    questionnaire = next(
        (q for q in questionnaires_for(str(period)) if q.pk == questionnaire_id), None
    )
    if questionnaire is None:
        raise ReportInputError([FieldError("questionnaire", "unknown", "本月没有该问卷。")])
    if not isinstance(raw, dict):
        raise ReportInputError([FieldError("answers", "invalid", "答案格式不正确。")])
    cleaned, errors = clean_answers(questionnaire, raw)
    if errors:
        raise ReportInputError(
            [FieldError(f"answers.{qid}", "invalid", msg) for qid, msg in errors.items()]
        )
    report = _report_for_edit(user, period, method)
    with transaction.atomic():
        report = _touch(report, user, expected_version, method)
        with _audited(report, user):
            report.answers.filter(question__questionnaire=questionnaire).delete()
            Answer.objects.bulk_create(
                Answer(report=report, question_id=qid, value=value)
                for qid, value in cleaned.items()
            )
    return SaveOutcome(report=report)


def unanswered_questionnaires(report: Report) -> list[Any]:
    answered = set(report.answers.values_list("question_id", flat=True))
    missing = []
    for questionnaire in questionnaires_for(report.period):
        questions = {q.pk for q in questionnaire.questions.all()}
        required = {q.pk for q in questionnaire.questions.all() if q.required}
        # A questionnaire of optional questions still has to be opened and answered once.
        if questions and (not required <= answered or not questions & answered):
            missing.append(questionnaire)
    return missing


# Validation and submission ---------------------------------------------------------------------


def validate_report(report: Report) -> ValidationResult:
    return check_indicators(report, stored_values(report))


def check_explanations(explanations: Any) -> list[FieldError]:
    """The reasons given for soft rules: real reasons only (boilerplate refused), of a sane size."""
    if not isinstance(explanations, dict):
        return [FieldError("explanations", "invalid", "原因说明格式不正确。")]
    errors = []
    for rule, text in explanations.items():
        where = f"explanations.{rule}"
        if not isinstance(rule, str) or not RULE_CODE.fullmatch(rule):
            errors.append(FieldError("explanations", "unknown_rule", "原因说明对应的规则不存在。"))
        elif not isinstance(text, str) or "\x00" in text:
            errors.append(FieldError(where, "invalid", "原因说明应为文字。"))
        elif len(text.strip()) > MAX_EXPLANATION:
            errors.append(FieldError(where, "too_long", f"原因说明不能超过{MAX_EXPLANATION}字。"))
        elif problem := explanation_problem(text):
            errors.append(FieldError(where, "boilerplate", problem))
    return errors


def _store_explanations(report: Report, explanations: dict[str, str]) -> None:
    for rule, text in explanations.items():
        Explanation.objects.update_or_create(
            report=report, rule=rule, defaults={"text": text.strip()}
        )


def save_explanations(
    user: User,
    period: Period,
    explanations: Any,
    *,
    expected_version: int | None = None,
    method: str = Report.Method.ONLINE,
) -> Report:
    """Step 2's 【确定】: store every reason, or none. The month's values must be saved already."""
    errors = check_explanations(explanations)
    if errors:
        raise ReportInputError(errors)
    report = get_own_report(user, str(check_period_open(period)))
    if report is None:
        raise ReportInputError([FieldError("indicators", "required", "请先保存主要经济指标。")])
    with transaction.atomic():
        report = _touch(report, user, expected_version, method)
        with _audited(report, user):
            _store_explanations(report, explanations)
    return report


def submit(
    user: User,
    report: Report,
    explanations: Any = None,
    *,
    expected_version: int | None = None,
) -> tuple[Report, ValidationResult]:
    """Store the reasons given for soft rules, check everything, and submit (待审核), all under
    the report's lock. Raises ReportInputError listing what still stands in the way; the
    reasons are kept then (typed text is never lost), nothing is submitted."""
    explanations = explanations or {}
    errors = check_explanations(explanations)
    if errors:
        raise ReportInputError(errors)
    with transaction.atomic():
        if explanations:
            locked = touch_for_edit(report, user, expected_version)
            _store_explanations(locked, explanations)
        else:
            locked = lock_for_edit(report, user, expected_version)
        result = validate_report(locked)
        problems = [issue_error(i) for i in result.errors]
        problems += [
            FieldError(f"explanations.{w.rule}", "unexplained", f"{w.message}：请填写原因说明。")
            for w in result.unexplained_warnings
        ]
        if not locked.basic_info:
            problems.append(FieldError("basic_info", "required", "请先填写企业基本情况表。"))
        if not locked.values.exists():
            problems.append(FieldError("indicators", "required", "请先填写主要经济指标。"))
        problems += [
            FieldError(f"questionnaires.{q.pk}", "unanswered", f"请完成问卷《{q.title}》。")
            for q in unanswered_questionnaires(locked)
        ]
        if not problems:
            content = report_content(locked)
            report = submit_report(locked, user, validation_ok=True, content=content)
            return report, result
    raise ReportInputError(problems)


# An administrator's bulk import ----------------------------------------------------------------

KEY_CHANGE_BY_IMPORT = (
    "与登记的关键信息不一致：企业名称、机构代码和所属行业的变更须由企业在线申请并经审核。"
)


def import_for_enterprise(
    admin: User,
    enterprise: Any,
    period: Period,
    basic_info: BasicInfoForm,
    raw_values: Any,
    explanation: str = "",
    catalogue: dict[str, Any] | None = None,
) -> tuple[Report, bool]:
    """One enterprise's month from an administrator's bulk import (data collected offline):
    checked with the same rules as the enterprise's own saves, written and submitted (待审核,
    method 上报导入) in the administrator's name, all in one transaction. `explanation` is the
    reason given for every soft warning of the row. Returns (report, created); raises
    ReportInputError (nothing written) or TransitionError (a month already submitted)."""
    errors: list[FieldError] = []
    if not basic_info.is_valid():
        errors += [
            FieldError(f"basic_info.{name}", "invalid", str(message))
            for name, messages in basic_info.errors.items()
            for message in messages
        ]
        info: dict[str, Any] = {}
    else:
        info = basic_info.stored()
        errors += [
            FieldError(f"basic_info.{name}", "key_change", KEY_CHANGE_BY_IMPORT)
            for name in changed_key_fields(enterprise, info)
        ]
        if admin.is_local_admin and not str(info["region"]).startswith(admin.region.prefix):
            errors.append(
                FieldError("basic_info.region", "out_of_scope", "所在地区不在您的管理范围内。")
            )
    explanation = (explanation or "").strip()
    if explanation:
        errors += [
            FieldError("explanations", e.code, e.message)
            for e in check_explanations({"import": explanation})
        ]
    with transaction.atomic():
        report, created = start_import(enterprise, period, admin, catalogue)
        values, problems = parse_indicator_values(report, raw_values)
        errors += problems
        if not problems:
            result = check_indicators(report, values, explained={} if created else None)
            errors += [issue_error(i) for i in result.errors]
            unexplained = [] if explanation else result.unexplained_warnings
            names = {code: d.get("name", code) for code, d in report.catalogue.items()}
            errors += [
                FieldError(
                    "explanations",
                    "unexplained",
                    f"{names.get(w.indicator, '')}{w.message}（请在“原因说明”中填写原因）",
                )
                for w in unexplained
            ]
        if errors:
            raise ReportInputError(errors)
        reasons = {w.rule: explanation for w in result.warnings} if explanation else {}
        with _audited(report, admin, new=created):
            report.basic_info = info  # saved with the status, by submit_import
            if not created:
                report.values.all().delete()
            IndicatorValue.objects.bulk_create(
                IndicatorValue(report=report, code=code, **columns)
                for code, columns in values.items()
            )
            _store_explanations(report, reasons)
        _update_enterprise(enterprise, info)
        # A month created just now holds only what was written here: nothing to read back.
        known = (
            {"indicators": values, "products": [], "answers": {}, "explanations": reasons}
            if created
            else {"indicators": values}
        )
        submit_import(report, admin, report_content(report, known))
    return report, created
