"""The administrative audit trail: written by every administrative change, never changed."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from notices.models import Notice
from reports.models import Indicator, Report, ReportEvent
from tests.conftest import Personas
from transfer.models import ImportLog


def test_publishing_changing_and_deleting_a_notice_is_recorded(personas: Personas) -> None:
    client = personas.client_for(personas.ningbo_admin)
    form = {"kind": "notice", "title": "填报提醒", "body": "请按时填报。", "audience": "all"}
    client.post("/notices/manage/new/", {**form, "region": "330200"}, REMOTE_ADDR="10.3.3.3")
    notice = Notice.objects.get()
    client.post(
        f"/notices/manage/{notice.pk}/edit/",
        {**form, "title": "十一月填报提醒", "region": "330200"},
    )
    client.post(f"/notices/manage/{notice.pk}/delete/")
    entries = list(AuditEntry.objects.order_by("at", "id"))
    assert [e.action for e in entries] == ["publish", "change", "delete"]
    assert entries[0].ip == "10.3.3.3" and entries[0].actor == personas.ningbo_admin
    assert entries[1].before["title"] == "填报提醒"
    assert entries[1].after["title"] == "十一月填报提醒"
    assert entries[2].after is None and entries[2].object_id == str(notice.pk)


def test_a_catalogue_change_in_the_django_admin_is_recorded(personas: Personas) -> None:
    indicator = Indicator.objects.get(code="employees", effective_from="2000-01")
    client = personas.client_for(personas.senior_admin)
    response = client.post(
        f"/django-admin/reports/indicator/{indicator.pk}/change/",
        {
            "code": "employees",
            "name": "从业人员期末人数",
            "unit": "人",
            "kind": "stock",
            "required": "on",
            "decimals": 0,
            "position": indicator.position,
            "effective_from": "2000-01",
            "retired_from": "",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert entry.object_type == "reports.Indicator"
    assert (entry.before["name"], entry.after["name"]) == ("从业人员", "从业人员期末人数")


def test_creating_an_account_is_recorded_without_the_password_hash(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    client.post(
        "/django-admin/accounts/user/add/",
        {
            "username": "hangzhou",
            "user_type": "local_admin",
            "region": "330100",
            "password1": "Qian@tang2026",
            "password2": "Qian@tang2026",
        },
    )
    entry = AuditEntry.objects.get(action="add")
    assert entry.after["username"] == "hangzhou"
    assert "password" not in entry.after


def test_the_trails_cannot_be_changed_or_deleted(personas: Personas) -> None:
    personas.client_for(personas.senior_admin).post(
        "/notices/manage/new/",
        {"kind": "news", "title": "动态", "body": "正文", "audience": "all", "region": ""},
    )
    entry = AuditEntry.objects.get()
    entry.summary = "篡改"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(summary="篡改")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    report = Report.objects.create(
        enterprise=personas.ningbo_enterprise.enterprise, period="2026-10"
    )
    event = ReportEvent.objects.create(
        report=report, action="create", to_status="draft", actor=personas.ningbo_enterprise
    )
    with pytest.raises(PermissionError):
        ReportEvent.objects.filter(pk=event.pk).update(reason="x")
    assert AuditEntry.objects.get().summary == "发布平台动态：动态"
    log = ImportLog.objects.create(
        user=personas.ningbo_enterprise, period="2026-10", sha256="0" * 64, outcome="refused"
    )
    log.outcome = "saved"
    for attempt in (
        log.save,
        log.delete,
        lambda: ImportLog.objects.update(outcome="saved"),
        lambda: ImportLog.objects.all().delete(),
    ):
        with pytest.raises(PermissionError):
            attempt()
    assert ImportLog.objects.get().outcome == "refused"


def test_the_django_admin_offers_no_edit_or_delete_of_the_trail(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    client.post(
        "/notices/manage/new/",
        {"kind": "news", "title": "动态", "body": "正文", "audience": "all", "region": ""},
    )
    entry = AuditEntry.objects.get()
    page = client.get(f"/django-admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(f"/django-admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert (
        client.post(
            f"/django-admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("persona", ["ningbo_admin", "guangdong_admin", "ningbo_enterprise"])
def test_only_national_administrators_search_the_trail(personas: Personas, persona: str) -> None:
    client: Client = personas.client_for(getattr(personas, persona))
    assert client.get("/audit/").status_code == 404


def test_the_search_finds_by_text_kind_and_date(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    client.post(
        "/notices/manage/new/",
        {"kind": "news", "title": "宁波培训", "body": "正文", "audience": "all", "region": ""},
    )
    assert "宁波培训" in client.get("/audit/", {"q": "宁波"}).content.decode()
    assert "宁波培训" not in client.get("/audit/", {"q": "广州"}).content.decode()
    assert "宁波培训" not in client.get("/audit/", {"from": "2999-01-01"}).content.decode()
    page = client.get("/audit/", {"kind": "reports", "from": "not-a-date", "q": "\x00"})
    assert page.status_code == 200
