"""Publishing, changing and deleting notices, each recorded in the audit trail."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from audit.recorder import record, snapshot
from notices.forms import NoticeForm
from notices.models import Notice


def save_notice(request: HttpRequest, form: NoticeForm) -> Notice:
    changing = form.instance.pk is not None
    with transaction.atomic():
        before = snapshot(Notice.objects.filter(pk=form.instance.pk).first()) if changing else None
        notice = form.save()
        verb = "修改" if changing else "发布"
        summary = f"{verb}{notice.get_kind_display()}：{notice.title}"
        record(
            request, "change" if changing else "publish", notice, summary, before, snapshot(notice)
        )
    return notice


def delete_notice(request: HttpRequest, notice: Notice) -> None:
    with transaction.atomic():
        summary = f"删除{notice.get_kind_display()}：{notice.title}"
        record(request, "delete", notice, summary, snapshot(notice))
        notice.delete()
