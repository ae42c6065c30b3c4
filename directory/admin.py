from __future__ import annotations

from django.contrib import admin

from audit.recorder import AuditedAdminMixin
from directory.models import Enterprise, Industry, Region, RegistrationType, SizeThreshold


@admin.register(Region)
class RegionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Industry)
class IndustryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(RegistrationType)
class RegistrationTypeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_select_related = ("parent",)


@admin.register(SizeThreshold)
class SizeThresholdAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "industry_group",
        "indicator",
        "unit",
        "large_min",
        "medium_min",
        "small_min",
        "industry_codes",
    )


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "region", "industry", "size", "created_at")
    list_filter = ("size", "holding_type", "code_type")
    search_fields = ("name", "code", "user__username")
    raw_id_fields = ("region", "industry", "registration_type")
    list_select_related = ("region", "industry")
