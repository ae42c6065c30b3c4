from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from lib.access import login_required, posted, role_required
from notices.forms import NoticeForm
from notices.models import Notice
from notices.selectors import (
    get_manageable_notice,
    get_readable_notice,
    manageable_notices,
    readable_notices,
)
from notices.services import delete_notice, save_notice

ADMINS = (User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind", Notice.Kind.NOTICE)
    if kind not in Notice.Kind.values:
        raise Http404
    return kind


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    kind = _kind(request)
    notices = readable_notices(request.user).filter(kind=kind)
    page = Paginator(notices, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/list.html",
        {"page": page, "kind": kind, "kind_label": Notice.Kind(kind).label},
    )


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_readable_notice(request.user, pk)
    return render(request, "notices/detail.html", {"notice": notice})


@role_required(*ADMINS)
def notice_manage(request: HttpRequest) -> HttpResponse:
    page = Paginator(manageable_notices(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "notices/manage.html", {"page": page})


@role_required(*ADMINS)
def notice_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    notice = get_manageable_notice(request.user, pk) if pk else Notice(author=request.user)
    form = NoticeForm(posted(request), instance=notice, author=request.user)
    if request.method == "POST" and form.is_valid():
        save_notice(request, form)
        messages.success(request, "已发布。" if pk is None else "已保存修改。")
        return redirect("notices:manage")
    return render(request, "notices/edit.html", {"form": form, "notice": notice})


@role_required(*ADMINS)
@require_POST
def notice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_manageable_notice(request.user, pk)
    delete_notice(request, notice)
    messages.success(request, f"已删除《{notice.title}》。")
    return redirect("notices:manage")
