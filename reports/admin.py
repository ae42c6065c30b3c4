"""National administrators edit the indicator catalogue and the validation rules here; reports,
their audit trail and key-change requests are shown read-only (their changes go through the
workflow services)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from audit.recorder import AuditedAdminMixin
from reports.models import (
    Indicator,
    KeyChangeRequest,
    Question,
    Questionnaire,
    Report,
    ReportEvent,
    ValidationRule,
)


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "unit",
        "kind",
        "required",
        "quarterly",
        "effective_from",
        "retired_from",
        "position",
    )
    list_filter = ("kind", "required", "quarterly")
    search_fields = ("code", "name")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "action", "from_status", "to_status", "actor", "reason")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Report)
class ReportAdmin(ReadOnly):
    list_display = ("enterprise", "period", "status", "method", "submitted_at", "version")
    list_filter = ("status", "method", "period")
    search_fields = ("enterprise__name", "enterprise__code")
    list_select_related = ("enterprise",)
    inlines = [ReportEventInline]


@admin.register(KeyChangeRequest)
class KeyChangeRequestAdmin(ReadOnly):
    list_display = ("report", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("report__enterprise", "requested_by", "decided_by")


class ValidationRuleForm(forms.ModelForm):
    class Meta:
        model = ValidationRule
        fields = [
            "code",
            "indicator",
            "expression",
            "message",
            "severity",
            "months",
            "effective_from",
            "retired_from",
            "is_active",
            "position",
        ]

    def clean_expression(self) -> str:
        # A rule that does not compile is refused here, not discovered at the next submission.
        from reports.expressions import RuleSyntaxError, compile_rule

        expression = self.cleaned_data["expression"]
        codes = set(Indicator.objects.values_list("code", flat=True))
        try:
            compile_rule(expression, codes)
        except RuleSyntaxError as exc:
            raise forms.ValidationError(str(exc)) from None
        return expression

    def clean_months(self) -> str:
        months = self.cleaned_data["months"].replace("，", ",").replace(" ", "")
        parts = [p for p in months.split(",") if p]
        if any(not p.isdigit() or not 1 <= int(p) <= 12 for p in parts):
            raise forms.ValidationError("适用月份应为 1 至 12 的数字，用逗号分隔。")
        return ",".join(parts)


@admin.register(ValidationRule)
class ValidationRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = ValidationRuleForm
    list_display = ("code", "indicator", "severity", "message", "months", "is_active")
    list_filter = ("severity", "is_active")
    search_fields = ("code", "indicator", "message", "expression")


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1
    fields = ("position", "text", "type", "required", "options")


@admin.register(Questionnaire)
class QuestionnaireAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "periods", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("title",)
    inlines = [QuestionInline]
