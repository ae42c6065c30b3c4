"""Who may do what: every page of the URL configuration and every operation of the OpenAPI
document, with the answer each persona must get (issue 8, "Access control").

tests/test_access_matrix.py walks `get_resolver()` and /api/v1/openapi.json and fails for a route
missing here (or an entry here whose route is gone), then calls every entry as every persona.

Keys: a page is its URL pattern name ("reports:basic"), an API operation its OpenAPI path
("/api/v1/reports/{period}"), each with the method called. The URL of an entry is a template
filled with the objects of the test's fixture, all of them enterprise A's (宁波 镇海区):

    {open}           the current report month, 2026-10, where A has a draft
    {past}           2026-09, which A has submitted (待审核, awaiting 宁波's local review)
    {report}         the id of that submitted report
    {change}         a pending key-information change request of A (2026-08, 冻结)
    {notice}         a notice published by the 宁波 administrator for 宁波
    {job}            a finished job of A's clerk, with a result file
    {questionnaire}  a questionnaire of 2026-10
    {admin}          a local administrator of 镇海区 (inside 浙江 and 宁波, outside 广东)
    {region}         330200, 宁波, for the pages and operations that take a region
    {password}       the personas' password (conftest.PASSWORD), to ask for a token

Besides the status, an entry may name personas that are answered but must be shown nothing of
A's (`hide`), and a GET of each POST-only page is an entry of its own (405 only to the roles the
page is for). Known access-control bugs are marked per persona (`known`), each test then
xfail(strict=True): fixing the bug makes the test fail until the mark is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Persona(StrEnum):
    ANONYMOUS = "anonymous"
    ENTERPRISE_A = "enterprise_a"  # conftest's ningbo_enterprise, owner of every object
    ENTERPRISE_B = "enterprise_b"  # conftest's guangdong_enterprise
    LOCAL_CITY = "local_city"  # ningbo: 宁波, A's city
    LOCAL_PROVINCE = "local_province"  # zhejiang: 浙江, A's province (manages administrators)
    LOCAL_OUTSIDE = "local_outside"  # guangdong
    NATIONAL = "national"  # the senior administrator, also Django admin staff


class Outcome(StrEnum):
    # Let in: a 2xx, or a 3xx that is not a login page. Behind a write (anything but GET) also
    # 400 and 409: the input or the report's status was refused, which means access was granted.
    ALLOW = "allow"
    # No access rule at all: any answer below 400, whoever asks (login, logout, the FAQ).
    OPEN = "open"
    # Not logged in: pages 302 to /accounts/login/?next=…, the API 401.
    LOGIN = "login"
    # Pages: 404, as if the page did not exist (lib.access.role_required, the scope getters).
    # API: 404, "unknown or outside the caller's scope" (API.md).
    DENY = "deny"
    # API: 403, "not allowed for this role" (API.md). Pages: 403 only for a step that the role
    # may not take on an object it may read (review.views: a local administrator's reopen or
    # decision on a key change, shown with the reason on the page, as the workflow's 403).
    FORBIDDEN = "forbidden"
    # The Django admin's own rule: anyone but active staff goes to its login page.
    ADMIN_LOGIN = "admin_login"
    # 405: a GET of a POST-only action, to a persona the page is for (nothing looked up yet).
    METHOD = "method"


P = Persona
O = Outcome  # noqa: E741  (short, like P: the table is read as a grid)
ADMINS = (P.LOCAL_CITY, P.LOCAL_PROVINCE, P.LOCAL_OUTSIDE, P.NATIONAL)
IN_SCOPE = (P.LOCAL_CITY, P.LOCAL_PROVINCE, P.NATIONAL)  # those whose region holds 宁波
ENTERPRISES = (P.ENTERPRISE_A, P.ENTERPRISE_B)
# Administrators of a province and national ones manage administrators and bulk-import
# (accounts.administrators.may_manage_administrators); a city's administrator does not.
PROVINCE_OR_NATIONAL = (P.LOCAL_PROVINCE, P.LOCAL_OUTSIDE, P.NATIONAL)


def rule(
    allow: tuple[Persona, ...] = (),
    *,
    anonymous: Outcome = O.LOGIN,
    method: tuple[Persona, ...] = (),
    **others: Outcome,
) -> dict:
    """Every persona DENY but those in `allow` (ALLOW), in `method` (METHOD) and those named in
    `others`."""
    table = {p: O.DENY for p in Persona}
    table[P.ANONYMOUS] = anonymous
    table.update(dict.fromkeys(allow, O.ALLOW))
    table.update(dict.fromkeys(method, O.METHOD))
    table.update({Persona(name): outcome for name, outcome in others.items()})
    return table


def api_rule(
    allow: tuple[Persona, ...] = (), *, role: tuple[Persona, ...] = (), **others: Outcome
) -> dict:
    """The API: 401 anonymous, 403 for the personas of a role the operation is not for (`role`),
    404 for the others outside the scope, unless named."""
    table = rule(allow, **others)
    table.update({p: O.FORBIDDEN for p in role if p not in allow and p.value not in others})
    return table


USERS = tuple(p for p in Persona if p is not P.ANONYMOUS)
LOGGED_IN = rule(USERS)
PUBLIC = {p: O.OPEN for p in Persona}
NOBODY = {p: O.DENY for p in Persona}
ENTERPRISE_PAGE = rule(ENTERPRISES)
OWN_OBJECT = rule((P.ENTERPRISE_A,))
ADMIN_PAGE = rule(ADMINS)
SCOPED_PAGE = rule(IN_SCOPE)
NATIONAL_PAGE = rule((P.NATIONAL,))
PROVINCE_PAGE = rule(PROVINCE_OR_NATIONAL)
# A step only the national administrator takes, on an object the local ones in scope may read.
NATIONAL_STEP = rule((P.NATIONAL,), local_city=O.FORBIDDEN, local_province=O.FORBIDDEN)
DJANGO_ADMIN = {p: O.ADMIN_LOGIN for p in Persona} | {P.NATIONAL: O.ALLOW}
# A GET of a POST-only action is refused as its POST is (the login page; 404 to the roles the page
# is not for), and 405 to the roles it is for: no object or region is looked at yet, so 405 says
# nothing about A's report to 广东 either.
GET_OF_USERS_POST = rule(method=USERS)
GET_OF_ENTERPRISE_POST = rule(method=ENTERPRISES)
GET_OF_ADMIN_POST = rule(method=ADMINS)

API_EVERYONE = api_rule(USERS)
API_ENTERPRISE = api_rule(ENTERPRISES, role=ADMINS)
API_ADMIN = api_rule(ADMINS, role=ENTERPRISES)
API_SCOPED = api_rule(IN_SCOPE, role=ENTERPRISES)
API_NATIONAL_STEP = api_rule(
    (P.NATIONAL,), role=ENTERPRISES, local_city=O.FORBIDDEN, local_province=O.FORBIDDEN
)


@dataclass(frozen=True)
class Entry:
    url: str  # a template of the fixture's placeholders, query string included
    expect: dict[Persona, Outcome]
    data: Any = None  # the POST form, or the JSON body of an API write
    files: dict[str, str] = field(default_factory=dict)  # multipart: field name → file name
    # A known access-control bug per persona: the test is xfail(strict=True) with this reason.
    known: dict[Persona, str] = field(default_factory=dict)
    # Personas the answer is given to but must show nothing of A's: A's name, its notice, its job,
    # the administrator of its county (MARKERS). Those it is given to and not hidden from must
    # show some of it, so that the check is not empty.
    hide: tuple[Persona, ...] = ()
    # API operations with a body: a known failure of the check that a body the schema refuses is
    # refused by role and scope all the same (none known: the reason of an xfail(strict=True)).
    known_invalid_body: str = ""


MARKERS = r"宁波康尔|宁波市月报填报通知|zhenhai"
NOT_A = (P.ENTERPRISE_B, P.LOCAL_OUTSIDE)  # outside A's enterprise and A's region


GET, POST, PUT = "GET", "POST", "PUT"

# --- Pages: URL pattern name and method ---------------------------------------------------------

PAGES: dict[tuple[str, str], Entry] = {
    # portal
    ("portal:home", GET): Entry("/", LOGGED_IN, hide=NOT_A),
    ("portal:faq", GET): Entry("/faq/", PUBLIC),
    # accounts
    ("accounts:login", GET): Entry("/accounts/login/", PUBLIC),
    ("accounts:login", POST): Entry("/accounts/login/", PUBLIC, data={}),
    ("accounts:logout", POST): Entry("/accounts/logout/", PUBLIC, data={}),
    ("accounts:logout", GET): Entry("/accounts/logout/", {p: O.METHOD for p in Persona}),
    ("accounts:register", GET): Entry("/accounts/register/", PUBLIC),
    ("accounts:register", POST): Entry("/accounts/register/", PUBLIC, data={}),
    ("accounts:profile", GET): Entry("/accounts/profile/", LOGGED_IN),
    ("accounts:profile", POST): Entry("/accounts/profile/", LOGGED_IN, data={}),
    ("accounts:bind_send", POST): Entry("/accounts/profile/bind/send/", LOGGED_IN, data={}),
    ("accounts:bind_send", GET): Entry("/accounts/profile/bind/send/", GET_OF_USERS_POST),
    ("accounts:bind_confirm", POST): Entry("/accounts/profile/bind/confirm/", LOGGED_IN, data={}),
    ("accounts:bind_confirm", GET): Entry("/accounts/profile/bind/confirm/", GET_OF_USERS_POST),
    # The login's second step: without a pending login (the password given) it leads back to
    # the login page, whoever asks.
    ("accounts:login_second_factor", GET): Entry("/accounts/login/code/", PUBLIC),
    ("accounts:login_second_factor", POST): Entry("/accounts/login/code/", PUBLIC, data={}),
    # An administrator's own 动态口令 page (enterprise users have no second factor).
    ("accounts:second_factor", GET): Entry("/accounts/second-factor/", ADMIN_PAGE),
    ("accounts:second_factor", POST): Entry("/accounts/second-factor/", ADMIN_PAGE, data={}),
    ("accounts:password_change", GET): Entry("/accounts/password/", LOGGED_IN),
    ("accounts:password_change", POST): Entry("/accounts/password/", LOGGED_IN, data={}),
    # API tokens: each user's own. The fixture has no token, so the id of the revoke entry is one
    # nobody owns: 404 to every user, like another user's token (tests/test_api_tokens_page.py).
    ("accounts:tokens", GET): Entry("/accounts/tokens/", LOGGED_IN),
    ("accounts:token_revoke", POST): Entry("/accounts/tokens/999999999/revoke/", rule(), data={}),
    ("accounts:token_revoke", GET): Entry("/accounts/tokens/999999999/revoke/", GET_OF_USERS_POST),
    ("accounts:tokens_revoke_all", POST): Entry("/accounts/tokens/revoke-all/", LOGGED_IN, data={}),
    ("accounts:tokens_revoke_all", GET): Entry("/accounts/tokens/revoke-all/", GET_OF_USERS_POST),
    ("accounts:outbox", GET): Entry("/accounts/outbox/", NATIONAL_PAGE),
    ("accounts:administrators", GET): Entry(
        "/accounts/administrators/", PROVINCE_PAGE, hide=(P.LOCAL_OUTSIDE,)
    ),
    ("accounts:administrator_create", GET): Entry("/accounts/administrators/new/", PROVINCE_PAGE),
    ("accounts:administrator_create", POST): Entry(
        "/accounts/administrators/new/", PROVINCE_PAGE, data={}
    ),
    # 镇海区's administrator: 浙江 and the national administrator manage it, 广东 does not.
    ("accounts:administrator_toggle", POST): Entry(
        "/accounts/administrators/{admin}/toggle/",
        rule((P.LOCAL_PROVINCE, P.NATIONAL)),
        data={},
    ),
    ("accounts:administrator_toggle", GET): Entry(
        "/accounts/administrators/{admin}/toggle/", GET_OF_ADMIN_POST
    ),
    # The same rule resets the second factor of those administrators (a lost phone).
    ("accounts:administrator_reset_second_factor", POST): Entry(
        "/accounts/administrators/{admin}/reset-second-factor/",
        rule((P.LOCAL_PROVINCE, P.NATIONAL)),
        data={},
    ),
    ("accounts:administrator_reset_second_factor", GET): Entry(
        "/accounts/administrators/{admin}/reset-second-factor/", GET_OF_ADMIN_POST
    ),
    # directory: the cascading selects of the registration form, before anyone logs in
    ("directory:cascade_options", GET): Entry("/directory/options/region/?province=330000", PUBLIC),
    # notices: 宁波's notice is read by 宁波 and by the administrators above it; managed by those
    # whose region holds 宁波
    ("notices:list", GET): Entry("/notices/", LOGGED_IN, hide=NOT_A),
    ("notices:detail", GET): Entry("/notices/{notice}/", rule((P.ENTERPRISE_A, *IN_SCOPE))),
    ("notices:manage", GET): Entry("/notices/manage/", ADMIN_PAGE, hide=(P.LOCAL_OUTSIDE,)),
    ("notices:create", GET): Entry("/notices/manage/new/", ADMIN_PAGE),
    ("notices:create", POST): Entry("/notices/manage/new/", ADMIN_PAGE, data={}),
    ("notices:edit", GET): Entry("/notices/manage/{notice}/edit/", SCOPED_PAGE),
    ("notices:edit", POST): Entry("/notices/manage/{notice}/edit/", SCOPED_PAGE, data={}),
    ("notices:delete", POST): Entry("/notices/manage/{notice}/delete/", SCOPED_PAGE, data={}),
    ("notices:delete", GET): Entry("/notices/manage/{notice}/delete/", GET_OF_ADMIN_POST),
    # audit
    ("audit:search", GET): Entry("/audit/", NATIONAL_PAGE),
    ("audit:export", GET): Entry("/audit/export.xlsx?kind=security", NATIONAL_PAGE),
    # reports: the enterprise's own months. B has its own (empty) 2026-10, but no report to view,
    # withdraw or print.
    ("reports:current", GET): Entry("/reports/", ENTERPRISE_PAGE),
    ("reports:history", GET): Entry("/reports/history/", ENTERPRISE_PAGE),
    ("reports:wizard", GET): Entry("/reports/{open}/", ENTERPRISE_PAGE),
    ("reports:basic", GET): Entry("/reports/{open}/basic/", ENTERPRISE_PAGE),
    ("reports:basic", POST): Entry("/reports/{open}/basic/", ENTERPRISE_PAGE, data={}),
    ("reports:indicators", GET): Entry("/reports/{open}/indicators/", ENTERPRISE_PAGE),
    ("reports:indicators", POST): Entry("/reports/{open}/indicators/", ENTERPRISE_PAGE, data={}),
    ("reports:products", GET): Entry("/reports/{open}/products/", ENTERPRISE_PAGE),
    ("reports:products", POST): Entry("/reports/{open}/products/", ENTERPRISE_PAGE, data={}),
    ("reports:product_row", GET): Entry("/reports/{open}/products/row/", ENTERPRISE_PAGE),
    ("reports:questionnaires", GET): Entry("/reports/{open}/questionnaires/", ENTERPRISE_PAGE),
    ("reports:questionnaire", GET): Entry(
        "/reports/{open}/questionnaires/{questionnaire}/", ENTERPRISE_PAGE
    ),
    ("reports:questionnaire", POST): Entry(
        "/reports/{open}/questionnaires/{questionnaire}/", ENTERPRISE_PAGE, data={}
    ),
    ("reports:submit", POST): Entry("/reports/{open}/submit/", ENTERPRISE_PAGE, data={}),
    ("reports:submit", GET): Entry("/reports/{open}/submit/", GET_OF_ENTERPRISE_POST),
    ("reports:withdraw", POST): Entry("/reports/{past}/withdraw/", OWN_OBJECT, data={}),
    ("reports:withdraw", GET): Entry("/reports/{past}/withdraw/", GET_OF_ENTERPRISE_POST),
    ("reports:view", GET): Entry("/reports/{open}/view/", OWN_OBJECT),
    ("reports:receipt", GET): Entry("/reports/{past}/receipt/", OWN_OBJECT),
    # stats: 宁波's figures, for the administrators whose region holds it
    ("stats:completion", GET): Entry("/stats/completion/?region={region}", SCOPED_PAGE),
    ("stats:completion_enterprises", GET): Entry(
        "/stats/completion/enterprises/?region={region}&status=enterprises", SCOPED_PAGE
    ),
    ("stats:completion_xlsx", GET): Entry("/stats/completion.xlsx?region={region}", SCOPED_PAGE),
    ("stats:reports_xlsx", GET): Entry(
        "/stats/reports.xlsx?region={region}&period={past}", SCOPED_PAGE
    ),
    # analytics
    ("analytics:page", GET): Entry("/analytics/?region={region}", SCOPED_PAGE),
    ("analytics:xlsx", GET): Entry("/analytics/export.xlsx?region={region}", SCOPED_PAGE),
    ("analytics:report", GET): Entry("/analytics/report/?region={region}", SCOPED_PAGE),
    ("analytics:report_docx", POST): Entry(
        "/analytics/report/docx/", SCOPED_PAGE, data={"region": "{region}"}
    ),
    ("analytics:report_docx", GET): Entry("/analytics/report/docx/", GET_OF_ADMIN_POST),
    # review: A's submitted month and A's key change. 广东 may batch-approve, but A's report
    # comes back refused as "不存在或不在您的管理范围内" (review.services.batch_approve).
    ("review:worklist", GET): Entry(
        "/review/?period={past}&status=all", ADMIN_PAGE, hide=(P.LOCAL_OUTSIDE,)
    ),
    ("review:worklist_xlsx", GET): Entry("/review/export.xlsx", ADMIN_PAGE),
    ("review:batch_approve", POST): Entry(
        "/review/batch-approve/", ADMIN_PAGE, data={"ids": "{report}"}
    ),
    ("review:batch_approve", GET): Entry("/review/batch-approve/", GET_OF_ADMIN_POST),
    ("review:report", GET): Entry("/review/reports/{report}/", SCOPED_PAGE),
    ("review:approve", POST): Entry("/review/reports/{report}/approve/", SCOPED_PAGE, data={}),
    ("review:approve", GET): Entry("/review/reports/{report}/approve/", GET_OF_ADMIN_POST),
    ("review:return", POST): Entry(
        "/review/reports/{report}/return/", SCOPED_PAGE, data={"text": "数据有误，请核实。"}
    ),
    ("review:return", GET): Entry("/review/reports/{report}/return/", GET_OF_ADMIN_POST),
    ("review:reopen", POST): Entry(
        "/review/reports/{report}/reopen/", NATIONAL_STEP, data={"reason": "企业申请更正"}
    ),
    ("review:reopen", GET): Entry("/review/reports/{report}/reopen/", GET_OF_ADMIN_POST),
    ("review:changes", GET): Entry("/review/changes/", ADMIN_PAGE, hide=(P.LOCAL_OUTSIDE,)),
    ("review:change", GET): Entry("/review/changes/{change}/", SCOPED_PAGE),
    ("review:change_approve", POST): Entry(
        "/review/changes/{change}/approve/", NATIONAL_STEP, data={}
    ),
    ("review:change_approve", GET): Entry("/review/changes/{change}/approve/", GET_OF_ADMIN_POST),
    ("review:change_return", POST): Entry(
        "/review/changes/{change}/return/", NATIONAL_STEP, data={"reason": "名称与执照不符"}
    ),
    ("review:change_return", GET): Entry("/review/changes/{change}/return/", GET_OF_ADMIN_POST),
    # transfer
    ("transfer:import", GET): Entry("/transfer/import/", ENTERPRISE_PAGE),
    ("transfer:import", POST): Entry("/transfer/import/", ENTERPRISE_PAGE, data={}),
    ("transfer:template", GET): Entry("/transfer/template/?period={open}", ENTERPRISE_PAGE),
    ("transfer:report", GET): Entry("/transfer/report/?period={open}", OWN_OBJECT),
    ("transfer:bulk", GET): Entry("/transfer/bulk/", PROVINCE_PAGE),
    ("transfer:bulk", POST): Entry("/transfer/bulk/", PROVINCE_PAGE, data={}),
    ("transfer:bulk_template", GET): Entry("/transfer/bulk/template/?period={open}", PROVINCE_PAGE),
    # jobs: a job is its owner's only
    ("jobs:list", GET): Entry(
        "/jobs/", LOGGED_IN, hide=tuple(p for p in USERS if p is not P.ENTERPRISE_A)
    ),
    ("jobs:detail", GET): Entry("/jobs/{job}/", OWN_OBJECT),
    ("jobs:result", GET): Entry("/jobs/{job}/result/", OWN_OBJECT),
    # loadtest: the benchmark's ceiling exists only with LOAD_TEST_ENDPOINTS (off here)
    ("loadtest:ping", POST): Entry("/loadtest/ping/", NOBODY, data={}),
    ("loadtest:ping", GET): Entry("/loadtest/ping/", NOBODY),
    # The API's own pages: the document and its viewer are public; the root is ninja's 404.
    ("api:openapi-json", GET): Entry("/api/v1/openapi.json", PUBLIC),
    ("api:openapi-view", GET): Entry("/api/v1/docs", PUBLIC),
    ("api:api-root", GET): Entry("/api/v1/", NOBODY),
    # ops: the load balancer's probe, answered to anyone (no session, no user)
    ("ops:healthz", GET): Entry("/healthz", PUBLIC),
    # The Django admin, one entry for all its patterns (`admin:*`): national staff only.
    ("admin:*", GET): Entry("/django-admin/accounts/user/", DJANGO_ADMIN),
}

# --- API: OpenAPI path and method -------------------------------------------------------------

REPORT = "/api/v1/reports/{period}"
REVIEW = "/api/v1/review/reports/{report_id}"
CHANGE = "/api/v1/review/changes/{change_id}"

# Operations with a body refuse by role and scope before they read it (api.auth runs the gates of
# api.gates in ninja's authentication step, ahead of the body's validation): a refused persona
# gets its 403 or 404 whatever it sends (test_an_invalid_body_is_refused_like_a_valid_one).

API: dict[tuple[str, str], Entry] = {
    # Public: anyone may ask for a token (here with A's own credentials).
    ("/api/v1/auth/token", POST): Entry(
        "/api/v1/auth/token", PUBLIC, data={"username": "33029997", "password": "{password}"}
    ),
    ("/api/v1/me", GET): Entry("/api/v1/me", API_EVERYONE),
    ("/api/v1/notices", GET): Entry("/api/v1/notices", API_EVERYONE, hide=NOT_A),
    # Enterprises, on their own months; administrators 403 ("only enterprises report").
    ("/api/v1/periods", GET): Entry("/api/v1/periods", API_ENTERPRISE),
    ("/api/v1/reports", GET): Entry("/api/v1/reports", API_ENTERPRISE),
    (REPORT, GET): Entry("/api/v1/reports/{open}", API_ENTERPRISE),
    (f"{REPORT}/basic-info", PUT): Entry("/api/v1/reports/{open}/basic-info", API_ENTERPRISE, {}),
    (f"{REPORT}/indicators", PUT): Entry("/api/v1/reports/{open}/indicators", API_ENTERPRISE, {}),
    (f"{REPORT}/products", PUT): Entry("/api/v1/reports/{open}/products", API_ENTERPRISE, []),
    (f"{REPORT}/questionnaires/{{questionnaire_id}}", PUT): Entry(
        "/api/v1/reports/{open}/questionnaires/{questionnaire}", API_ENTERPRISE, {"answers": {}}
    ),
    (f"{REPORT}/template.xlsx", GET): Entry("/api/v1/reports/{open}/template.xlsx", API_ENTERPRISE),
    (f"{REPORT}/import", POST): Entry(
        "/api/v1/reports/{open}/import",
        API_ENTERPRISE,
        {"filler": "杨莎莎"},
        files={"file": "not-a-workbook.xlsx"},
    ),
    (f"{REPORT}/validate", POST): Entry("/api/v1/reports/{open}/validate", API_ENTERPRISE),
    (f"{REPORT}/submit", POST): Entry("/api/v1/reports/{open}/submit", API_ENTERPRISE, {}),
    # B has no 2026-09 of its own: 409 "not submitted", about its own month, never about A's.
    (f"{REPORT}/withdraw", POST): Entry("/api/v1/reports/{past}/withdraw", API_ENTERPRISE),
    # Review: enterprises 403; A's report outside 广东's region 404.
    ("/api/v1/review/reports", GET): Entry(
        "/api/v1/review/reports?period={past}&status=all", API_ADMIN, hide=(P.LOCAL_OUTSIDE,)
    ),
    # 广东 gets 200 with A's report among the refused ("不存在或不在您的管理范围内"), by id only.
    ("/api/v1/review/reports/batch-approve", POST): Entry(
        "/api/v1/review/reports/batch-approve", API_ADMIN, {"ids": ["{report}"]}
    ),
    (REVIEW, GET): Entry("/api/v1/review/reports/{report}", API_SCOPED),
    (f"{REVIEW}/approve", POST): Entry("/api/v1/review/reports/{report}/approve", API_SCOPED),
    (f"{REVIEW}/return", POST): Entry(
        "/api/v1/review/reports/{report}/return", API_SCOPED, {"reason": "数据有误，请核实。"}
    ),
    (f"{REVIEW}/reopen", POST): Entry(
        "/api/v1/review/reports/{report}/reopen", API_NATIONAL_STEP, {"reason": "企业申请更正"}
    ),
    ("/api/v1/review/changes", GET): Entry(
        "/api/v1/review/changes", API_ADMIN, hide=(P.LOCAL_OUTSIDE,)
    ),
    (f"{CHANGE}/approve", POST): Entry(
        "/api/v1/review/changes/{change}/approve", API_NATIONAL_STEP
    ),
    (f"{CHANGE}/return", POST): Entry(
        "/api/v1/review/changes/{change}/return", API_NATIONAL_STEP, {"reason": "名称与执照不符"}
    ),
    # Stats of 宁波: 404 for 广东 (a region outside the scope), 403 for enterprises.
    ("/api/v1/stats/completion", GET): Entry(
        "/api/v1/stats/completion?region={region}", API_SCOPED
    ),
    ("/api/v1/stats/aggregates", GET): Entry(
        "/api/v1/stats/aggregates?region={region}", API_SCOPED
    ),
}
