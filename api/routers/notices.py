from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from api.schemas import DetailOut, ErrorsOut, NoticePage
from notices.models import Notice
from notices.selectors import readable_notices

router = Router(tags=["通知公告"])
PAGE_SIZE = 20


class NoticeFilter(Schema):
    kind: Literal["notice", "news"] | None = None
    page: int = 1


# 400 and 401 come from the api-wide handlers (api/urls.py); listed so the document tells the truth.
@router.get(
    "/notices",
    response={200: NoticePage, 400: ErrorsOut, 401: DetailOut},
    summary="当前用户可读的通知公告或平台动态，最新在前",
)
def list_notices(request: HttpRequest, filters: Query[NoticeFilter]):
    qs = readable_notices(request.user)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    page = max(filters.page, 1)
    start = (page - 1) * PAGE_SIZE
    rows = list(qs[start : start + PAGE_SIZE + 1])
    items = [
        {
            "id": n.pk,
            "kind": n.kind,
            "kind_label": Notice.Kind(n.kind).label,
            "title": n.title,
            "body": n.body,
            "audience": n.audience,
            "region": {"code": n.region.code, "name": n.region.full_name} if n.region else None,
            "published_at": n.published_at,
        }
        for n in rows[:PAGE_SIZE]
    ]
    return {"items": items, "next": page + 1 if len(rows) > PAGE_SIZE else None}
