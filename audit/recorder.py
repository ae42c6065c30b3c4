"""Recording an administrative action: one call from the service or admin that did it."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest

from audit.context import client_ip, current_ip
from audit.models import AuditEntry, SecurityEvent


def snapshot(obj: Model | None) -> dict[str, Any] | None:
    """The object's fields as JSON-safe values (secrets such as password hashes left out)."""
    if obj is None:
        return None
    data = model_to_dict(obj)
    for secret in ("password", "key_hash", "code_hash"):
        data.pop(secret, None)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def record(
    request: HttpRequest,
    action: str,
    obj: Model,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=request.user,
        ip=client_ip(request),
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        summary=summary[:300],
        before=before,
        after=after,
    )


class AuditedAdminMixin:
    """For the Django admin: every add, change and delete is recorded with before and after."""

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = snapshot(type(obj)._default_manager.filter(pk=obj.pk).first()) if change else None
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        action = "change" if change else "add"
        verb = "修改" if change else "新增"
        record(
            request, action, obj, f"{verb}{obj._meta.verbose_name}：{obj}", before, snapshot(obj)
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        before = snapshot(obj)
        label = f"删除{obj._meta.verbose_name}：{obj}"
        pk = obj.pk
        super().delete_model(request, obj)  # type: ignore[misc]
        obj.pk = pk
        record(request, "delete", obj, label, before, None)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in list(queryset):
            self.delete_model(request, obj)


def record_security(
    kind: str,
    outcome: str,
    actor: Any = None,
    username: str = "",
    ip: str | None = None,
    detail: str = "",
) -> SecurityEvent:
    """One security event, one INSERT. `username` is the name tried when there is no actor; it is
    cut short (a login form may be sent anything) and a password is never passed here."""
    if actor is not None and getattr(actor, "pk", None) is None:
        actor = None  # an AnonymousUser or an unsaved user has no row to point at
    name = actor.username if actor is not None else username.replace("\x00", "")
    return SecurityEvent.objects.create(
        kind=kind,
        outcome=outcome,
        actor=actor,
        username=name[:150],
        ip=ip or current_ip(),
        detail=detail[:300],
    )
