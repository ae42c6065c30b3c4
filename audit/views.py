from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry, SecurityEvent
from lib.access import role_required
from reports.models import ReportEvent
from reports.workflow import Action
from transfer.xlsx import streamed_workbook

KINDS = ("admin", "reports", "security")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class Search:
    """The filters of the page, read once and shared by the page and its Excel export, so that
    the export is exactly what the page shows."""

    kind: str
    text: str
    start: dt.date | None
    end: dt.date | None
    event: str  # a SecurityEvent.Kind, or "" for every security event

    @classmethod
    def from_request(cls, request: HttpRequest) -> Search:
        kind = request.GET.get("kind", "")
        event = request.GET.get("event", "")
        return cls(
            kind=kind if kind in KINDS else "admin",
            text=request.GET.get("q", "").strip()[:100].replace("\x00", ""),
            start=_date(request.GET.get("from")),
            end=_date(request.GET.get("to")),
            event=event if event in SecurityEvent.Kind.values else "",
        )

    def queryset(self) -> QuerySet[Any]:
        text = self.text
        qs: QuerySet[Any]
        if self.kind == "admin":
            qs = AuditEntry.objects.select_related("actor")
            if text:
                qs = qs.filter(
                    Q(summary__icontains=text)
                    | Q(actor__username=text)
                    | Q(object_type__icontains=text)
                )
        elif self.kind == "security":
            qs = SecurityEvent.objects.all()
            if self.event:
                qs = qs.filter(kind=self.event)
            if text:
                # `username` is the account's user ID, or the name tried for an unknown one.
                qs = qs.filter(Q(username=text) | Q(ip=text) | Q(detail__icontains=text))
        else:
            qs = ReportEvent.objects.select_related("actor", "report__enterprise")
            if text:
                qs = qs.filter(
                    Q(report__enterprise__name__icontains=text)
                    | Q(actor__username=text)
                    | Q(reason__icontains=text)
                    | Q(report__period=text)
                )
            qs = qs.order_by("-at", "-id")
        if self.start:
            qs = qs.filter(at__date__gte=self.start)
        if self.end:
            qs = qs.filter(at__date__lte=self.end)
        return qs

    def params(self) -> dict[str, str]:
        values = {
            "kind": self.kind,
            "q": self.text,
            "from": str(self.start or ""),
            "to": str(self.end or ""),
        }
        if self.kind == "security":
            values["event"] = self.event
        return values


@role_required(User.Type.SENIOR_ADMIN)
def search(request: HttpRequest) -> HttpResponse:
    """The whole trail for national administrators: administrative actions, report status
    changes or security events, filtered by who, what and when."""
    query = Search.from_request(request)
    page = Paginator(query.queryset(), 50).get_page(request.GET.get("page"))
    if query.kind == "reports":
        labels = dict(Action.choices)
        for event in page:
            event.action_label = labels.get(event.action, event.action)
    filters = urlencode(query.params())  # the pager and the export keep them
    context = {
        "page": page,
        "kind": query.kind,
        "q": query.text,
        "from": query.start,
        "to": query.end,
        "event": query.event,
        "events": SecurityEvent.Kind.choices,
        "filters": filters,
    }
    return render(request, "audit/search.html", context)


def _time(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"


def _rows(query: Search) -> tuple[list[str], Iterator[list[Any]]]:
    # .iterator(): a trail of a year may be long; rows are read in chunks and written one by one.
    qs = query.queryset()
    if query.kind == "admin":
        header = ["时间", "操作人", "来源地址", "操作", "对象类型", "对象", "摘要"]
        rows = (
            [
                _time(e.at),
                e.actor.username,
                e.ip or "",
                e.action,
                e.object_type,
                e.object_id,
                e.summary,
            ]
            for e in qs.iterator(chunk_size=2000)
        )
    elif query.kind == "security":
        header = ["时间", "事件", "结果", "用户ID（或尝试的登录名）", "来源地址", "说明"]
        rows = (
            [
                _time(e.at),
                e.get_kind_display(),
                e.get_outcome_display(),
                e.username,
                e.ip or "",
                e.detail,
            ]
            for e in qs.iterator(chunk_size=2000)
        )
    else:
        labels = dict(Action.choices)
        header = ["时间", "操作人", "来源地址", "企业", "报表月份", "操作", "状态变更", "原因"]
        rows = (
            [
                _time(e.at),
                e.actor.username,
                e.ip or "",
                e.report.enterprise.name,
                e.report.period,
                labels.get(e.action, e.action),
                f"{e.get_from_status_display() or '—'} → {e.get_to_status_display()}",
                e.reason,
            ]
            for e in qs.iterator(chunk_size=2000)
        )
    return header, rows


@role_required(User.Type.SENIOR_ADMIN)
def export(request: HttpRequest) -> HttpResponse:
    """【导出Excel】 of the current search: the same filters as the page, every matching row.
    Text is written formula-safe (a tried login name may start with "=")."""
    query = Search.from_request(request)
    header, rows = _rows(query)
    titles = {"admin": "管理操作", "reports": "报表状态变更", "security": "安全事件"}
    title = titles[query.kind]
    stamp = f"{timezone.localtime():%Y%m%d%H%M}"
    return streamed_workbook(f"审计日志-{title}-{stamp}.xlsx", title, header, rows)
