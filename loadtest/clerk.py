"""What the load client's clerk reads and types (loadtest/locustfile.py): the POST forms of a page
as a browser would send them, and the values a clerk fills in at each step. Plain Python, no
locust, so that tests/test_loadtest.py drives it through the real pages with Django's client and
the benchmark cannot drift from the forms it claims to fill."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

REASON = "本月订单和生产安排变化，数据经财务核对无误，已按实际情况填报。"
STEP1_DEFAULTS = {
    "legal_representative": "王建国",
    "address": "工业园区创业路8号",
    "postal_code": "100000",
    "contact_person": "李明",
    "phone": "010-88886666",
    "main_business": "机械零部件制造",
}
DEFAULT_PRODUCT = {
    "name": "主要产品",
    "production.current": "12",
    "production.ytd": "120",
    "sales.current": "10",
    "sales.ytd": "100",
}
FIGURES = ("production.current", "production.ytd", "sales.current", "sales.ytd")
ERROR = re.compile(r'role="alert"[^>]*>\s*([^<]{1,120})')


class Form:
    def __init__(self, action: str) -> None:
        self.action = action
        self.fields: list[tuple[str, str]] = []
        self.radios: dict[str, list[str]] = {}
        self.checkboxes: dict[str, list[str]] = {}
        self.selects: dict[str, list[str]] = {}

    def names(self) -> set[str]:
        return {n for n, _ in self.fields}

    def data(self, **overrides: str) -> list[tuple[str, str]]:
        """The form as a browser posts it, with `overrides` replacing or adding values."""
        out = [(n, overrides.pop(n, v)) if n in overrides else (n, v) for n, v in self.fields]
        return out + list(overrides.items())


class Forms(HTMLParser):
    """Every POST form of a page: its fields as the browser would send them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(a.get("action", ""))
            self.forms.append(self._form)
        form = self._form
        if form is None or not a.get("name") or "disabled" in a:
            if tag == "option" and form is not None and self._select is not None:
                self._option(a)
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind == "radio":
                form.radios.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind == "checkbox":
                form.checkboxes.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            else:
                form.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = name
            form.selects[name] = []
            form.fields.append((name, ""))
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def _option(self, a: dict[str, str]) -> None:
        assert self._form is not None and self._select is not None
        value = a.get("value", "")
        self._form.selects[self._select].append(value)
        if "selected" in a:
            fields = self._form.fields
            index = max(i for i, (n, _) in enumerate(fields) if n == self._select)
            fields[index] = (self._select, value)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea is not None:
            self._form.fields.append((self._textarea, self._text.strip()))
            self._textarea = None
        elif tag == "form":
            self._form = None

    def form_with(self, field: str) -> Form | None:
        return next((f for f in self.forms if field in f.names()), None)


def problem(html: str) -> str:
    found = ERROR.findall(html)
    return "；".join(x.strip() for x in found[:3]) or "页面未接受（无错误说明）"


Fill = Callable[["Form"], list[tuple[str, str]]]


def step1(form: Form) -> list[tuple[str, str]]:
    """企业基本情况 as the page pre-fills it, with what a clerk types into the empty fields."""
    empty = {n for n, v in form.fields if not v}
    filled = {n: v for n, v in STEP1_DEFAULTS.items() if n in empty}
    return form.data(**filled, action="next")


def step2(enterprise: dict[str, Any]) -> Fill:
    """主要经济指标: the figures the dataset holds for the enterprise and month."""

    def fill(form: Form) -> list[tuple[str, str]]:
        names = form.names()
        figures = {n: v for n, v in enterprise["indicators"].items() if n in names}
        # An enterprise new since last year has no figures of a year ago: its clerk types 0.
        for name in list(figures):
            code, _, column = name.partition(".")
            earlier = f"{code}.last_year_{column}"
            if not column.startswith("last_year") and earlier in names:
                figures.setdefault(earlier, "0")
        return form.data(**figures, action="next")

    return fill


def explained(form: Form) -> list[tuple[str, str]] | None:
    """The form again with a reason for every warning it asks about; None when it asks none."""
    reasons = [n for n in form.names() if n.startswith("explanation_")]
    if not reasons:
        return None
    return form.data(**dict.fromkeys(reasons, REASON), action="next")


def step3(enterprise: dict[str, Any], added_row: Callable[[], str]) -> Fill:
    """产品: the enterprise's products on the rows the page carries; with none carried, one row
    added by 【新增产品】 (`added_row` fetches its HTML)."""

    def fill(form: Form) -> list[tuple[str, str]]:
        keys = [v for n, v in form.fields if n == "product"]
        values: dict[str, str] = {"action": "next"}
        extra: list[tuple[str, str]] = []
        if not keys:
            added = re.findall(r'name="(p([0-9a-f]+)\.[^"]+)"', added_row())
            if added:
                keys = [added[0][1]]
                extra = [("product", keys[0])] + [(name, "") for name, _ in added]
        lines = enterprise["products"] or [DEFAULT_PRODUCT]
        for key, line in zip(keys, lines, strict=False):
            values[f"p{key}.name"] = line["name"]
            values[f"p{key}.unit"] = "件"
            for column in FIGURES:
                values[f"p{key}.{column}"] = line[column]
        merged = form.data() + extra
        return [(n, values.pop(n) if n in values else v) for n, v in merged] + list(values.items())

    return fill


def questionnaire_links(html: str, base: str) -> list[str]:
    pattern = re.compile(rf"{re.escape(base)}/questionnaires/\d+/")
    return sorted({h for h in Forms(html).links if pattern.fullmatch(h)})


def answers(form: Form) -> list[tuple[str, str]]:
    """Every question answered: the first option of a choice, 无 for a text."""
    chosen: dict[str, str] = {}
    for name, options in form.radios.items():
        chosen[name] = options[0]
    for name, options in form.checkboxes.items():
        chosen[name] = options[0]
    for name, options in form.selects.items():
        chosen[name] = next((o for o in options if o), "")
    for name, value in form.fields:
        if not value and name not in chosen and name != "version":
            chosen[name] = "无"
    return form.data(**chosen)
