"""The one validation engine of the monthly indicators, used by online entry, Excel import and the
API alike: the built-in hard checks that follow from the catalogue (required, sign, percent
range, decimal places, size) and the ValidationRule rows in force for the month (evaluated by
reports.expressions). Also the history a rule may compare with, and the check of a reason
(原因说明) given for a failed soft rule."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q

from directory.models import Enterprise
from lib.memo import remember
from reports.expressions import EvalContext, RuleSyntaxError, as_decimal, compile_rule
from reports.models import Indicator, IndicatorValue, Report, ValidationRule
from reports.periods import Period

logger = logging.getLogger(__name__)

Values = Mapping[str, Mapping[str, Decimal | None]]

COLUMNS = ("current", "ytd", "last_year_current", "last_year_ytd")
FLOW_LABELS = {
    "current": "本年本月",
    "ytd": "本年1-本月",
    "last_year_current": "上年本月",
    "last_year_ytd": "上年1-本月",
}
SINGLE_LABELS = {"ytd": "本年", "last_year_ytd": "上年"}
LIMIT = Decimal(10) ** 15
HISTORY_MONTHS = 6

# Words that add nothing to a boilerplate reason: "经核实，本月数据无误" is still "核实无误".
FILLER_WORDS = (
    *("经", "已", "均", "都", "的", "了", "是", "属", "经过", "数据", "本月", "情况", "填报"),
    *("核实", "核对", "确认", "无误", "准确", "真实"),
)


# Which column a rule is about, for pointing at one cell (the import's sheet!cell): the first
# column the expression reads of the rule's own indicator.
FOCUS = {"cur": "current", "ytd": "ytd", "ly_cur": "last_year_current", "ly_ytd": "last_year_ytd"}
FOCUS |= {"growth": "ytd", "prev_ytd": "ytd", "avg6": "current"}


def focus_column(expression: str, indicator: str) -> str | None:
    names = "|".join(FOCUS)
    match = re.search(rf"\b({names})\(\s*{re.escape(indicator)}\s*\)", expression)
    return FOCUS[match.group(1)] if match else None


@dataclass(frozen=True)
class Issue:
    rule: str
    indicator: str
    field: str | None
    message: str
    explanation: str = ""


@dataclass
class ValidationResult:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No hard rule failed (warnings may still need reasons)."""
        return not self.errors

    @property
    def unexplained_warnings(self) -> list[Issue]:
        return [w for w in self.warnings if not w.explanation.strip()]


@dataclass(frozen=True)
class History:
    """What the rules may know of the enterprise's earlier months."""

    previous_ytd: dict[str, Decimal | None] = field(default_factory=dict)
    averages: dict[str, Decimal | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    """An indicator as the engine sees it: from an Indicator row or a report's snapshot."""

    code: str
    name: str
    kind: str
    required: bool
    may_be_negative: bool
    decimals: int

    @property
    def columns(self) -> tuple[str, ...]:
        if self.kind == Indicator.Kind.FLOW:
            return COLUMNS
        return ("ytd", "last_year_ytd")

    def label(self, column: str) -> str:
        labels = FLOW_LABELS if self.kind == Indicator.Kind.FLOW else SINGLE_LABELS
        return labels.get(column, column)


def specs(catalogue: list[Indicator] | Mapping[str, Mapping[str, Any]]) -> list[Spec]:
    if isinstance(catalogue, Mapping):
        return [
            Spec(
                code=code,
                name=d.get("name", code),
                kind=d.get("kind", Indicator.Kind.YTD),
                required=bool(d.get("required", False)),
                may_be_negative=bool(d.get("may_be_negative", False)),
                decimals=int(d.get("decimals", 3)),
            )
            for code, d in catalogue.items()
        ]
    return [
        Spec(i.code, i.name, i.kind, i.required, i.may_be_negative, i.decimals) for i in catalogue
    ]


def validate(
    values: Values,
    catalogue: list[Indicator] | Mapping[str, Mapping[str, Any]],
    period: Period,
    history: History | None = None,
    *,
    rules: Iterable[ValidationRule] | None = None,
    explanations: Mapping[str, str] | None = None,
) -> ValidationResult:
    """Check one report's indicator values. `rules` defaults to the rules in force for the
    period (one query); pass them in to check many reports at once (Excel import).
    `explanations` (rule code → reason) are copied onto the warnings they answer."""
    indicators = specs(catalogue)
    result = ValidationResult(errors=catalogue_errors(values, indicators))
    history = history or History()
    ctx = EvalContext(
        month=period.month,
        values=values,
        previous_ytd=history.previous_ytd,
        averages=history.averages,
    )
    codes = {s.code for s in indicators}
    explanations = explanations or {}
    for rule in rules_in_force(period) if rules is None else rules:
        if _fails(rule, ctx, codes):
            if rule.severity == ValidationRule.Severity.HARD:
                result.errors.append(Issue(rule.code, rule.indicator, None, rule.message))
            else:
                reason = explanations.get(rule.code, "")
                result.warnings.append(Issue(rule.code, rule.indicator, None, rule.message, reason))
    return result


def catalogue_errors(values: Values, indicators: list[Spec]) -> list[Issue]:
    """The hard checks every catalogue implies, without any rule row."""
    errors: list[Issue] = []
    for spec in indicators:
        filled = values.get(spec.code, {})
        for column in spec.columns:
            value = as_decimal(filled.get(column))
            if value is None:
                if spec.required:
                    message = f"{spec.name}为必填项，请填写{spec.label(column)}。"
                    errors.append(Issue("required", spec.code, column, message))
                continue
            problem = _value_problem(spec, value)
            if problem:
                rule, text = problem
                message = f"{spec.name}（{spec.label(column)}）{text}"
                errors.append(Issue(rule, spec.code, column, message))
    return errors


def _value_problem(spec: Spec, value: Decimal) -> tuple[str, str] | None:
    if not value.is_finite():
        return "number", "不是有效的数字。"
    if abs(value) >= LIMIT:
        return "too-large", "数值过大，请检查单位（千元）。"
    if value < 0 and not spec.may_be_negative:
        return "not-negative", "不能为负数。"
    if spec.kind == Indicator.Kind.PERCENT and not 0 <= value <= 100:
        return "percent-range", "应在0到100之间。"
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if places > spec.decimals:
        if spec.decimals == 0:
            return "decimal-places", "应为整数。"
        return "decimal-places", f"最多保留{spec.decimals}位小数。"
    return None


def rules_in_force(period: Period) -> list[ValidationRule]:
    """Active rules whose months and effective range include the period (one query, or none
    again within lib.memo.remembered_lookups)."""
    return remember(("rules", str(period)), lambda: _rules_in_force(period))


def _rules_in_force(period: Period) -> list[ValidationRule]:
    p = str(period)
    rows = ValidationRule.objects.filter(is_active=True, effective_from__lte=p).filter(
        Q(retired_from="") | Q(retired_from__gt=p)
    )
    return [r for r in rows.order_by("position", "code") if applies_in_month(r, period.month)]


def applies_in_month(rule: ValidationRule, month: int) -> bool:
    text = rule.months.replace("，", ",").replace(" ", "")
    if not text:
        return True
    months = {int(m) for m in text.split(",") if m.isdigit()}
    if not months:
        logger.warning("校验规则 %s 的适用月份无法识别：%r，已跳过。", rule.code, rule.months)
    return month in months


def _fails(rule: ValidationRule, ctx: EvalContext, codes: set[str]) -> bool:
    if rule.indicator and rule.indicator not in codes:
        return False  # its indicator is not reported this month (e.g. a quarter-end one)
    try:
        compiled = compile_rule(rule.expression, codes)
    except RuleSyntaxError as exc:
        if exc.unknown_codes:
            # Names an indicator outside this month's catalogue (the admin form already refuses
            # codes that exist in no catalogue): the rule simply does not apply this month.
            logger.debug("校验规则 %s 涉及本月目录之外的指标，本月不适用。", rule.code)
        else:
            logger.warning("校验规则 %s 的表达式无效，已跳过：%s", rule.code, exc)
        return False
    try:
        return compiled.evaluate(ctx) is False
    except Exception:
        # A rule must never break saving a report; the admin sees the log.
        logger.exception("校验规则 %s 计算出错，已跳过。", rule.code)
        return False


def load_history(enterprise: Enterprise, period: Period) -> History:
    """The enterprise's earlier months for the rules, in 2 queries: the last 6 reports on file
    before the period (any status), then their values.

    previous_ytd is the 1-本月 of the latest earlier month of the same year in which it was
    filled: the previous month when it is on file, else the month before (1-本月 never falls
    within a year, so any earlier month is a valid floor; quarter-end indicators compare with
    the previous quarter end). None in January. averages is the mean over those reports of 本月
    for flow indicators and of the single value for the others."""
    reports = list(
        Report.objects.filter(enterprise=enterprise, period__lt=str(period))
        .order_by("-period")
        .values_list("id", "period", "catalogue")[:HISTORY_MONTHS]
    )
    if not reports:
        return History()
    by_id = {pk: (p, catalogue or {}) for pk, p, catalogue in reports}
    rows = IndicatorValue.objects.filter(report_id__in=by_id).values_list(
        "report_id", "code", "current", "ytd"
    )
    this_year = f"{period.year:04d}-"
    latest: dict[str, tuple[str, Decimal]] = {}
    samples: dict[str, list[Decimal]] = {}
    for report_id, code, current, ytd in rows:
        month, catalogue = by_id[report_id]
        if ytd is not None and month.startswith(this_year):
            if code not in latest or latest[code][0] < month:
                latest[code] = (month, ytd)
        kind = catalogue.get(code, {}).get("kind")
        if kind is None:  # a report without snapshot: 本月 where there is one
            sample = current if current is not None else ytd
        else:
            sample = current if kind == Indicator.Kind.FLOW else ytd
        if sample is not None:
            samples.setdefault(code, []).append(sample)
    previous = {} if period.month == 1 else {code: v for code, (_, v) in latest.items()}
    averages = {code: sum(v, Decimal(0)) / len(v) for code, v in samples.items()}
    return History(previous_ytd=previous, averages=averages)


def explanation_problem(text: str) -> str | None:
    """Why a reason (原因说明) is refused, or None when it is acceptable. Refused: empty, a
    boilerplate phrase (REPORT_REFUSED_EXPLANATIONS, near-exact matches too, ignoring spaces
    and punctuation), or fewer than REPORT_MIN_EXPLANATION_CHARS characters."""
    refused = settings.REPORT_REFUSED_EXPLANATIONS
    min_chars = settings.REPORT_MIN_EXPLANATION_CHARS
    core = _core(text or "")
    if not core:
        return "请填写原因说明。"
    phrases = {p for p in map(_core, refused) if p}
    if _is_boilerplate(core, phrases):
        return "请具体说明数据变化的原因，不能只填写“核实无误”“正常”之类的套话。"
    if len(core) < min_chars:
        return f"原因说明过短，请至少填写{min_chars}个字，具体说明数据变化的原因。"
    return None


def _core(text: str) -> str:
    """The text without spaces, punctuation and symbols, full-width folded, case-folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZSC")


def _is_boilerplate(core: str, phrases: set[str]) -> bool:
    if core in phrases:
        return True
    # Made only of refused phrases and filler words: "经核实，数据无误。", "正常正常".
    words = phrases | {_core(w) for w in FILLER_WORDS}
    reachable = [True] + [False] * len(core)
    for end in range(1, len(core) + 1):
        reachable[end] = any(
            reachable[end - len(w)] and core.endswith(w, 0, end) for w in words if len(w) <= end
        )
    if reachable[-1]:
        return True
    # One character off a longer phrase: "核实无误了", "核实无物".
    return any(len(p) >= 4 and _within_one_edit(core, p) for p in phrases)


def _within_one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
