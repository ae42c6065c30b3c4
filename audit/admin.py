from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEntry, SecurityEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Read-only: the trails have no add, edit or delete path (purge_audit is the only delete)."""

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "ip", "action", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("summary", "actor__username")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "outcome", "username", "ip", "detail")
    list_filter = ("kind", "outcome")
    search_fields = ("username", "ip")
