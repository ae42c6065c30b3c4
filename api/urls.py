"""The JSON API /api/v1/ (../shared/API.md): the same services and scope getters as the pages."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from api.auth import API_AUTH
from api.routers import accounts as accounts_router
from api.routers import notices as notices_router
from api.routers import reports as reports_router
from api.routers import review as review_router
from api.routers import stats as stats_router
from lib.access import record_denied

api = NinjaAPI(
    title="全国中小企业生产经营运行监测平台 API",
    version="1",
    description="企业用户与管理员在网页上能做的一切，也可以通过本接口完成。",
    urls_namespace="api",
    auth=API_AUTH,
)


def _field_name(loc: list) -> str | None:
    # ninja reports ("body", "payload", "password"); the contract names just the field.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form")]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": _field_name(list(err.get("loc", []))),
            "code": err.get("type", "invalid"),
            "message": _message_zh(err),
        }
        for err in exc.errors
    ]
    return api.create_response(request, {"errors": errors}, status=400)


def _message_zh(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "此项为必填项。"
    if kind in ("literal_error", "enum"):
        return "取值不在允许的范围内。"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "格式不正确。"
    return "输入不正确。"


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "未登录或令牌已失效。"}, status=401)


# The API's refusals of a logged-in caller: 403 (not for this role, or a step the role may not
# take) and 404 (unknown or outside the caller's scope: the scope getters cannot tell the two
# apart, and must not). Every one comes through these two handlers, from the gates of api.auth or
# from an operation, so each is recorded here once, as lib.access records a refused page.
REFUSALS = (403, 404)


def _record_refusal(request: HttpRequest, status: int) -> None:
    # An anonymous caller is answered 401 before any of this; an expired password's token is
    # refused before request.user is set (api.auth), like the pages' redirect, not recorded.
    if status in REFUSALS and getattr(request.user, "is_authenticated", False):
        record_denied(request)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja raises HttpError(400) itself for a body it cannot parse; every 400 has one shape.
    if exc.status_code == 400:
        error = {"field": None, "code": "json_invalid", "message": "请求内容不是有效的 JSON。"}
        return api.create_response(request, {"errors": [error]}, status=400)
    _record_refusal(request, exc.status_code)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """A scope getter's Http404 that an operation let through: ninja's own answer, recorded."""
    _record_refusal(request, 404)
    message = f"Not Found: {exc}" if settings.DEBUG else "Not Found"
    return api.create_response(request, {"detail": message}, status=404)


api.add_router("", accounts_router.router)
api.add_router("", notices_router.router)
api.add_router("", reports_router.router)
api.add_router("", review_router.router)
api.add_router("", stats_router.router)
