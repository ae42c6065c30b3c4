"""Cascading selects (province → city → county, 门类 → 大类 → 中类 → 小类): the form fields, their
server-side validation and the options endpoint all come from one description per tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Model, Q, QuerySet
from django.urls import reverse

from directory.models import Industry, Region, RegistrationType
from directory.trees import ancestry
from lib.memo import remember

EMPTY_LABEL = "请选择"
# Region and industry codes: anything else in a request is not looked up at all (a NUL byte, for
# one, is an error on PostgreSQL).
CODE_RE = re.compile(r"[A-Z0-9]{1,6}")


@dataclass(frozen=True)
class Cascade:
    kind: str
    model: type[Model]
    field_names: tuple[str, ...]
    labels: tuple[str, ...]
    incomplete_message: str

    def children(self, parent_code: str | None) -> QuerySet:
        qs = self.model.objects.filter(parent_id=parent_code)  # type: ignore[attr-defined]
        if self.model is Industry:
            qs = qs.filter(is_active=True)
        return qs.order_by(*self.model._meta.ordering).only("code", "name")

    def chain(self, leaf: Model | str | None) -> list[Model]:
        """The leaf (an object or its code) and the nodes above it, outermost first."""
        if leaf is None:
            return []
        return ancestry(self.model, leaf if isinstance(leaf, str) else leaf.pk)

    def options_under(self, parents: list[str | None]) -> dict[str | None, list[tuple[str, str]]]:
        """The options below each of `parents` (None: the top level), in one query."""
        codes = [p for p in parents if p]
        condition = Q(parent_id__in=codes)
        if None in parents:
            condition |= Q(parent_id__isnull=True)
        qs = self.model.objects.filter(condition)  # type: ignore[attr-defined]
        if self.model is Industry:
            qs = qs.filter(is_active=True)
        found: dict[str | None, list[tuple[str, str]]] = {p: [] for p in parents}
        rows = qs.order_by(*self.model._meta.ordering).values_list("parent_id", "code", "name")
        for parent, code, name in rows:
            found.setdefault(parent, []).append((code, name))
        return found


REGION = Cascade(
    "region",
    Region,
    ("province", "city", "county"),
    ("省", "市", "区县"),
    "所在地区请选择到区县一级。",
)
INDUSTRY = Cascade(
    "industry",
    Industry,
    ("industry_1", "industry_2", "industry_3", "industry_4"),
    ("一级分类", "二级分类", "三级分类", "四级分类"),
    "所属行业请选择到四级分类。",
)
REGISTRATION = Cascade(
    "registration",
    RegistrationType,
    ("registration_1", "registration_2", "registration_3"),
    ("注册类型", "二级类型", "三级类型"),
    "注册类型请选择到最后一级。",
)
CASCADES = {c.kind: c for c in (REGION, INDUSTRY, REGISTRATION)}


def option_choices(cascade: Cascade, parent_code: str | None) -> list[tuple[str, str]]:
    return remember(
        ("options", cascade.kind, parent_code),
        lambda: [("", EMPTY_LABEL), *cascade.children(parent_code).values_list("code", "name")],
    )


def cascade_values(cascade: Cascade, leaf_code: object) -> dict[str, str]:
    """The select values that choose `leaf_code`: the API and the import send just the leaf
    code, and the form checks it level by level as the page does. Unknown code: nothing."""
    if not isinstance(leaf_code, str) or not CODE_RE.fullmatch(leaf_code):
        return {}

    def lookup() -> dict[str, str]:
        chain = ancestry(cascade.model, leaf_code)
        return {name: n.pk for name, n in zip(cascade.field_names, chain, strict=False)}

    return dict(remember(("values", cascade.kind, leaf_code), lookup))


def _has_children(cascade: Cascade, code: str) -> bool:
    return remember(("inner", cascade.kind, code), lambda: cascade.children(code).exists())


def _node(cascade: Cascade, code: str) -> Model:
    return remember(
        ("node", cascade.kind, code),
        lambda: cascade.model.objects.get(pk=code),  # type: ignore[attr-defined]
    )


class CascadeFormMixin:
    """Adds the select fields of each cascade in `cascades` ((cascade, result_name, required))
    and puts the chosen leaf object into cleaned_data[result_name]."""

    cascades: tuple[tuple[Cascade, str, bool], ...] = ()

    def add_cascade_fields(
        self, initial_leaves: dict[str, Model | str | None] | None = None
    ) -> None:
        form: Any = self
        for cascade, result_name, required in self.cascades:
            leaf = (initial_leaves or {}).get(result_name)
            chosen = self._chosen_codes(cascade, leaf)
            # Every level's options in one query (the top level and below each chosen code).
            depth_count = len(cascade.field_names)
            wanted: list[str | None] = [None, *chosen[: depth_count - 1]]
            options = remember(
                ("options-under", cascade.kind, tuple(wanted)),
                lambda cascade=cascade, wanted=wanted: cascade.options_under(wanted),
            )
            parent: str | None = None
            for depth, (name, label) in enumerate(
                zip(cascade.field_names, cascade.labels, strict=True)
            ):
                choices: list[tuple[str, str]] = []
                if depth == 0 or parent:
                    choices = [("", EMPTY_LABEL), *options.get(parent, [])]
                if not choices:
                    choices = [("", EMPTY_LABEL)]
                attrs = {"class": "cascade", "data-cascade": cascade.kind}
                if depth + 1 < len(cascade.field_names):
                    attrs.update(
                        {
                            "hx-get": reverse("directory:cascade_options", args=[cascade.kind]),
                            "hx-target": f"#id_{cascade.field_names[depth + 1]}",
                            "hx-trigger": "change",
                            "hx-swap": "innerHTML",
                        }
                    )
                form.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=choices,
                    required=False,  # clean_cascades() says what is missing
                    widget=forms.Select(attrs=attrs),
                    initial=chosen[depth] if depth < len(chosen) else "",
                    error_messages={"invalid_choice": "请从列表中选择。"},
                )
                form.fields[name].show_required = required  # type: ignore[attr-defined]
                parent = chosen[depth] if depth < len(chosen) else None

    def _chosen_codes(self, cascade: Cascade, leaf: Model | str | None) -> list[str]:
        form: Any = self
        if form.is_bound:
            codes = []
            for name in cascade.field_names:
                value = form.data.get(form.add_prefix(name), "")
                if not isinstance(value, str) or not CODE_RE.fullmatch(value):
                    break
                codes.append(str(value))
            return codes
        return [node.pk for node in cascade.chain(leaf)]

    def clean_cascades(self) -> None:
        form: Any = self
        for cascade, result_name, required in self.cascades:
            codes = [form.cleaned_data.get(name) for name in cascade.field_names]
            codes = [c for c in codes if c]
            if not codes:
                if required:
                    form.add_error(cascade.field_names[0], f"请选择{cascade.labels[0]}。")
                form.cleaned_data[result_name] = None
                continue
            leaf_code = codes[-1]
            if len(codes) < len(cascade.field_names) and _has_children(cascade, leaf_code):
                form.add_error(cascade.field_names[len(codes)], cascade.incomplete_message)
                continue
            form.cleaned_data[result_name] = _node(cascade, leaf_code)
