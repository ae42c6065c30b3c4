"""The wizard's page forms: they turn the posted fields into the shapes reports.services takes,
and put the services' FieldErrors back beside the inputs they name. The rules themselves live in
the services and the validation engine only.

The indicator table and the product rows are tabular: each row is built from its catalogue entry
(the report's snapshot) or from PRODUCT_FIELDS, never spelled out in a template. Product rows are
keyed by a token in a hidden `product` input rather than numbered as in a Django formset, so that
a row added by htmx or removed in the browser needs no renumbering."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import QueryDict

from directory.models import (
    Enterprise,
    EnterpriseSize,
    HoldingType,
    Industry,
    Region,
    RegistrationType,
)
from directory.trees import ancestry
from lib.masking import mask_email, mask_mobile, mask_phone
from reports.basic_info import STORED_FIELDS, BasicInfoForm, registered_key_values
from reports.content import COLUMN_LABELS
from reports.models import ProductLine, Question, Questionnaire, Report
from reports.services import FieldError, growth_of
from reports.validation import COLUMNS, Issue

# The manual's order of 企业基本情况表: the cascades sit where the paper form has them.
BASIC_ORDER = (
    *("enterprise_name", "code_type", "code", "legal_representative"),
    *("industry_1", "industry_2", "industry_3", "industry_4", "province", "city", "county"),
    *("registration_1", "registration_2", "registration_3", "holding_type", "size", "listed"),
)
TREES = {"industry": Industry, "region": Region, "registration_type": RegistrationType}
MOBILE_RE = re.compile(r"1\d{10}")
KEY_RE = re.compile(r"[a-z0-9]{1,12}")
MAX_POSTED_ROWS = 200  # more than the service accepts, so that it says why they are refused


def plain(value: Decimal | None) -> str:
    """A stored figure as typed: 10.000 → "10", 0.500 → "0.5", never 1E+1."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_decimal(text: object) -> Decimal | None:
    """A typed figure for display (growth, stock), or None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        number = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def expected_version(data: QueryDict) -> int | None:
    """The report version the page was rendered with; a malformed one never matches."""
    raw = data.get("version", "")
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


# Step 1 ----------------------------------------------------------------------------------------


def basic_info_form(
    enterprise: Enterprise, period: str, report: Report | None, data: QueryDict | None = None
) -> BasicInfoForm:
    """Bound to the post, or filled from this month, else the latest earlier month on file,
    else the enterprise's own record."""
    if data is not None:
        return _ordered(BasicInfoForm(data))
    info = known_basic_info(enterprise, period, report)
    initial = {k: v for k, v in info.items() if k not in TREES and v is not None}
    initial["listed"] = "1" if info.get("listed") else "0"
    # The leaf codes: the cascade reads each one with its ancestors in a single query.
    leaves = {name: info.get(name) or None for name in TREES}
    return _ordered(BasicInfoForm(initial=initial, initial_leaves=leaves))


def known_basic_info(enterprise: Enterprise, period: str, report: Report | None) -> dict[str, Any]:
    """Step 1 as the platform knows it: this month's, else the latest earlier month's, else the
    enterprise's own record (the form's and the data template's pre-filled values).

    From an earlier month the key fields (name, code, industry) are the record's as it stands:
    they may have changed since that month (an approved key change, a correction by a national
    administrator), and step 1 compares them with the record — a stale value shown and saved
    unchanged would be taken for a key change and freeze the month."""
    if report is not None and report.basic_info:
        return report.basic_info
    earlier = _earlier_basic_info(enterprise, period)
    if not earlier:
        return enterprise_info(enterprise)
    registered = {k: v for k, v in registered_key_values(enterprise).items() if v is not None}
    return {**earlier, **registered}


def _ordered(form: BasicInfoForm) -> BasicInfoForm:
    form.order_fields(BASIC_ORDER)  # the fields not named keep their order after these
    return form


def _earlier_basic_info(enterprise: Enterprise, period: str) -> dict[str, Any] | None:
    earlier = Report.objects.filter(enterprise=enterprise, period__lt=period).order_by("-period")
    return next((info for info in earlier.values_list("basic_info", flat=True) if info), None)


def enterprise_info(enterprise: Enterprise) -> dict[str, Any]:
    phone = enterprise.contact_phone
    is_mobile = MOBILE_RE.fullmatch(phone) is not None
    return {
        "enterprise_name": enterprise.name,
        "code_type": enterprise.code_type,
        "code": enterprise.code,
        "industry": enterprise.industry_id,
        "region": enterprise.region_id,
        "registration_type": enterprise.registration_type_id,
        "holding_type": enterprise.holding_type,
        "size": enterprise.size,
        "contact_person": enterprise.contact_person,
        "mobile" if is_mobile else "phone": phone,
    }


TREE_LABELS = {"industry": "所属行业", "region": "所在地区", "registration_type": "注册类型"}
CHOICE_LABELS = {
    "code_type": dict(Enterprise.CodeType.choices),
    "holding_type": dict(HoldingType.choices),
    "size": dict(EnterpriseSize.choices),
}


# The contact fields of step 1 and how each is masked (lib.masking).
CONTACT_MASKS = {"phone": mask_phone, "fax": mask_phone, "mobile": mask_mobile, "email": mask_email}


def basic_info_facts(info: dict[str, Any], masked: bool = False) -> list[tuple[str, str]]:
    """(label, shown value) of a stored 企业基本情况表, in the form's order, for reading only.
    `masked`: the contact fields as lib.masking shows them to a reader who is not
    lib.masking.sees_contacts."""
    facts = []
    for name in STORED_FIELDS:
        value = info.get(name)
        if name in TREES:
            chain = ancestry(TREES[name], value)
            facts.append((TREE_LABELS[name], " / ".join(n.name for n in chain)))
            continue
        if name == "listed":
            shown = "是" if value else "否"
        else:
            shown = CHOICE_LABELS.get(name, {}).get(value, value) or ""
        if masked and name in CONTACT_MASKS:
            shown = CONTACT_MASKS[name](shown)
        facts.append((str(BasicInfoForm.base_fields[name].label), str(shown)))
    return facts


# Step 2 ----------------------------------------------------------------------------------------


@dataclass
class Cell:
    column: str
    name: str
    label: str
    value: str
    editable: bool


@dataclass
class SoftWarning:
    """A failed soft rule on the page, with the reason typed and why it was refused."""

    rule: str
    message: str
    explanation: str
    error: str = ""


@dataclass
class IndicatorRow:
    code: str
    name: str
    unit: str
    required: bool
    cells: list[Cell]
    errors: list[str] = field(default_factory=list)
    warnings: list[SoftWarning] = field(default_factory=list)

    @property
    def growth(self) -> Decimal | None:
        by_column = {c.column: to_decimal(c.value) for c in self.cells}
        return growth_of(by_column)

    @property
    def growth_text(self) -> str:
        growth = self.growth
        return "" if growth is None else f"{growth}%"


class IndicatorTable:
    """The 13 (or 17) rows of 企业主要经济指标月报, from the report's catalogue snapshot."""

    def __init__(
        self,
        catalogue: dict[str, dict[str, Any]],
        data: QueryDict | None = None,
        stored: dict[str, dict[str, Decimal | None]] | None = None,
        prefill: dict[str, dict[str, Decimal | None]] | None = None,
    ) -> None:
        self.data = data
        self.has_stored = bool(stored)  # figures of this month are saved already
        self.errors: list[str] = []
        self.warnings: list[SoftWarning] = []  # soft rules naming no indicator of the table
        self.reason_errors: dict[str, str] = {}  # rule → why its reason was refused
        entries = sorted(catalogue.items(), key=lambda kv: (kv[1].get("position", 0), kv[0]))
        self.rows = [self._row(code, d, stored or {}, prefill or {}) for code, d in entries]
        self.by_code = {row.code: row for row in self.rows}

    def _row(self, code: str, d: dict[str, Any], stored: dict, prefill: dict) -> IndicatorRow:
        flow = d.get("kind") == "flow"
        cells = []
        for column in COLUMNS:
            name = f"{code}.{column}"
            if self.data is not None:
                value = self.data.get(name, "")
            else:
                number = stored.get(code, {}).get(column)
                if number is None:
                    number = prefill.get(code, {}).get(column)
                value = plain(number)
            editable = flow or column in ("ytd", "last_year_ytd")
            label = f"{d.get('name', code)} {COLUMN_LABELS[column]}"
            cells.append(Cell(column, name, label, value if editable else "", editable))
        return IndicatorRow(code, d.get("name", code), d.get("unit", ""), d.get("required"), cells)

    def raw(self) -> dict[str, dict[str, str]]:
        return {row.code: {c.column: c.value for c in row.cells if c.editable} for row in self.rows}

    def add_errors(self, errors: list[FieldError]) -> None:
        for error in errors:
            parts = error.field.split(".")
            if parts[0] == "explanations":
                self.reason_errors[".".join(parts[1:])] = error.message
                continue
            row = (
                self.by_code.get(parts[1]) if parts[0] == "indicators" and len(parts) > 1 else None
            )
            (row.errors if row else self.errors).append(error.message)

    def add_warnings(self, issues: list[Issue]) -> None:
        """Call after add_errors, so that a refused reason shows beside its box."""
        for issue in issues:
            error = self.reason_errors.get(issue.rule, "")
            warning = SoftWarning(issue.rule, issue.message, issue.explanation, error)
            row = self.by_code.get(issue.indicator)
            (row.warnings if row else self.warnings).append(warning)

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings) or any(row.warnings for row in self.rows)


def explanations_posted(data: QueryDict, issues: list[Issue]) -> dict[str, str]:
    return {issue.rule: data.get(f"explanation_{issue.rule}", "") for issue in issues}


def with_posted_reasons(issues: list[Issue], reasons: dict[str, str]) -> list[Issue]:
    """The warnings with what the user typed, so that a refused reason is not lost."""
    return [
        Issue(i.rule, i.indicator, i.field, i.message, reasons.get(i.rule, i.explanation))
        for i in issues
    ]


# Step 3 ----------------------------------------------------------------------------------------

PRODUCT_TEXT = (("name", "产品名称"), ("code", "产品代码"), ("unit", "计量单位"))
PRODUCT_KINDS = (("production", "生产量"), ("sales", "销售量"))
PRODUCT_FIELDS = [name for name, _ in PRODUCT_TEXT] + [
    f"{kind}.{column}" for kind, _ in PRODUCT_KINDS for column in COLUMNS
]
# 期末库存量 = 生产量(1-本月) − 销售量(1-本月): the inputs report.js reads.
STOCK_ROLES = {"production.ytd": "produced", "sales.ytd": "sold"}
ERROR_AT = re.compile(r"products\[(\d+)\](?:\.(.+))?")


@dataclass
class ProductRow:
    key: str
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def name(self, field_name: str) -> str:
        return f"p{self.key}.{field_name}"

    def text_inputs(self) -> list[dict[str, Any]]:
        return [self._input(f, label) for f, label in PRODUCT_TEXT]

    def figures(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(生产量 or 销售量, its four inputs) in the order of the table's columns."""
        return [
            (
                kind_label,
                [self._input(f"{kind}.{c}", f"{kind_label} {COLUMN_LABELS[c]}") for c in COLUMNS],
            )
            for kind, kind_label in PRODUCT_KINDS
        ]

    def _input(self, f: str, label: str) -> dict[str, Any]:
        return {
            "name": self.name(f),
            "label": label,
            "value": self.values.get(f, ""),
            "errors": self.errors.get(f, []),
            "role": STOCK_ROLES.get(f, ""),
        }

    @property
    def stock(self) -> str:
        produced = to_decimal(self.values.get("production.ytd"))
        sold = to_decimal(self.values.get("sales.ytd"))
        return "" if produced is None or sold is None else plain(produced - sold)

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get("", [])


def new_product_row() -> ProductRow:
    return ProductRow(key=secrets.token_hex(4), values={})


def product_rows_from_lines(lines: list[ProductLine]) -> list[ProductRow]:
    rows = []
    for n, line in enumerate(lines):
        values = {f: getattr(line, f) for f, _ in PRODUCT_TEXT}
        for kind, _ in PRODUCT_KINDS:
            for column in COLUMNS:
                values[f"{kind}.{column}"] = plain(getattr(line, f"{kind}_{column}"))
        rows.append(ProductRow(key=str(n), values=values))
    return rows


class ProductRows:
    """The posted product rows, in page order, and the service's shape of them."""

    def __init__(self, data: QueryDict) -> None:
        keys = [k for k in data.getlist("product") if KEY_RE.fullmatch(k)]
        keys = list(dict.fromkeys(keys))[:MAX_POSTED_ROWS]
        self.rows = [
            ProductRow(key, {f: data.get(f"p{key}.{f}", "") for f in PRODUCT_FIELDS})
            for key in keys
        ]
        self.errors: list[str] = []

    def raw(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows:
            item: dict[str, Any] = {f: row.values[f] for f, _ in PRODUCT_TEXT}
            for kind, _ in PRODUCT_KINDS:
                item[kind] = {c: row.values[f"{kind}.{c}"] for c in COLUMNS}
            out.append(item)
        return out

    def add_errors(self, errors: list[FieldError]) -> None:
        for error in errors:
            match = ERROR_AT.fullmatch(error.field)
            if match and int(match.group(1)) < len(self.rows):
                row = self.rows[int(match.group(1))]
                row.errors.setdefault(match.group(2) or "", []).append(error.message)
            else:
                self.errors.append(error.message)


# Step 4 ----------------------------------------------------------------------------------------


@dataclass
class QuestionItem:
    question: Question
    name: str
    value: Any
    error: str = ""

    @property
    def chosen(self) -> list[str]:
        return self.value if isinstance(self.value, list) else [str(self.value)]


class AnswerSheet:
    """One questionnaire's questions with the posted or stored answers."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        data: QueryDict | None = None,
        stored: dict[int, Any] | None = None,
    ) -> None:
        self.questionnaire = questionnaire
        self.errors: list[str] = []
        self.items = []
        for q in questionnaire.questions.all():
            name = f"q{q.pk}"
            if data is None:
                value = (stored or {}).get(q.pk, [] if q.type == Question.Type.MULTIPLE else "")
            elif q.type == Question.Type.MULTIPLE:
                value = data.getlist(name)
            else:
                value = data.get(name, "")
            self.items.append(QuestionItem(q, name, value))

    def raw(self) -> dict[str, Any]:
        return {str(item.question.pk): item.value for item in self.items}

    def add_errors(self, errors: list[FieldError]) -> None:
        by_id = {str(item.question.pk): item for item in self.items}
        for error in errors:
            item = by_id.get(error.field.removeprefix("answers."))
            if item is None:
                self.errors.append(error.message)
            else:
                item.error = error.message
