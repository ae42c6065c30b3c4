"""A report's content as JSON, and what changed between two contents.

One description serves the submit events (each submission keeps its content, for the reviewers'
"what a resubmission changed"), the edit events (each save of a month that was submitted before
keeps what it changed, for the audit trail) and their labels on the pages and in the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reports.basic_info import BasicInfoForm
from reports.models import Question, Report
from reports.validation import COLUMNS

COLUMN_LABELS = {
    "current": "本年本月",
    "ytd": "本年1-本月",
    "last_year_current": "上年本月",
    "last_year_ytd": "上年1-本月",
}
PRODUCT_LABELS = {
    "name": "产品名称",
    "code": "产品代码",
    "unit": "计量单位",
    **{f"production_{c}": f"产量{label}" for c, label in COLUMN_LABELS.items()},
    **{f"sales_{c}": f"销量{label}" for c, label in COLUMN_LABELS.items()},
}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def report_content(report: Report, known: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the enterprise entered for the month, JSON-safe (figures as strings). `known`
    gives parts the caller has just written (e.g. {"products": [], "answers": {}} for a month
    created a moment ago), which are then not read back."""
    known = known or {}
    content: dict[str, Any] = {"basic_info": report.basic_info}
    if "indicators" in known:
        values = known["indicators"]
    else:
        values = {v.code: {c: getattr(v, c) for c in COLUMNS} for v in report.values.all()}
    content["indicators"] = {
        code: {c: _text(columns.get(c)) for c in COLUMNS} for code, columns in values.items()
    }
    content["products"] = (
        known["products"]
        if "products" in known
        else [
            {
                "name": p.name,
                "code": p.code,
                "unit": p.unit,
                **{
                    f"{kind}_{c}": _text(getattr(p, f"{kind}_{c}"))
                    for kind in ("production", "sales")
                    for c in COLUMNS
                },
            }
            for p in report.products.all()
        ]
    )
    content["answers"] = (
        known["answers"]
        if "answers" in known
        else {str(q): v for q, v in report.answers.values_list("question_id", "value")}
    )
    content["explanations"] = (
        known["explanations"]
        if "explanations" in known
        else dict(report.explanations.values_list("rule", "text"))
    )
    return content


@dataclass(frozen=True)
class Change:
    path: str
    label: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "label": self.label, "before": self.before, "after": self.after}


def flatten(content: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in (content.get("basic_info") or {}).items():
        flat[f"basic_info.{key}"] = value
    for code, columns in (content.get("indicators") or {}).items():
        for column, value in columns.items():
            flat[f"indicators.{code}.{column}"] = value
    for n, row in enumerate(content.get("products") or []):
        for key, value in row.items():
            flat[f"products[{n}].{key}"] = value
    for question, value in (content.get("answers") or {}).items():
        flat[f"answers.{question}"] = value
    for rule, text in (content.get("explanations") or {}).items():
        flat[f"explanations.{rule}"] = text
    return flat


def changes(before: dict[str, Any], after: dict[str, Any], report: Report) -> list[Change]:
    """Every value that differs between two contents of `report`, labelled in Chinese."""
    old, new = flatten(before), flatten(after)
    paths = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
    labeller = _Labeller(report, paths)
    return [Change(p, labeller(p), old.get(p), new.get(p)) for p in paths]


class _Labeller:
    def __init__(self, report: Report, paths: list[str]) -> None:
        catalogue = report.catalogue or {}
        self.indicators = {code: d.get("name", code) for code, d in catalogue.items()}
        self.fields = {name: str(f.label) for name, f in BasicInfoForm.base_fields.items()}
        ids = [p.split(".", 1)[1] for p in paths if p.startswith("answers.")]
        self.questions = (
            dict(
                Question.objects.filter(pk__in=[int(i) for i in ids if i.isdigit()]).values_list(
                    "pk", "text"
                )
            )
            if ids
            else {}
        )

    def __call__(self, path: str) -> str:
        head, _, rest = path.partition(".")
        if head == "indicators":
            code, _, column = rest.partition(".")
            return f"{self.indicators.get(code, code)} {COLUMN_LABELS.get(column, column)}"
        if head == "basic_info":
            return f"基本情况 {self.fields.get(rest, rest)}"
        if head == "explanations":
            return f"原因说明 {rest}"
        if head == "answers":
            text = self.questions.get(int(rest)) if rest.isdigit() else None
            return f"问卷 {text or rest}"
        if path.startswith("products["):
            index, _, key = path.partition("].")
            number = int(index.removeprefix("products[")) + 1
            return f"主要产品{number} {PRODUCT_LABELS.get(key, key)}"
        return path
