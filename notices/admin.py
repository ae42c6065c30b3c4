from __future__ import annotations

from django.contrib import admin

from audit.recorder import AuditedAdminMixin
from notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "audience", "region", "author", "published_at")
    list_filter = ("kind", "audience")
    search_fields = ("title", "body")
    raw_id_fields = ("region", "author")
    list_select_related = ("region", "author")
    date_hierarchy = "published_at"
