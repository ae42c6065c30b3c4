"""manage.py bench_pages: the server time and the SQL query count of every page of the platform,
for the role it is meant for, on the database DATABASE_URL names (meant for the 100,000-enterprise
dataset after prepare_load, whose accounts it uses).

The pages are loadtest.pages, the lists the query-budget test holds to its counts. Each page is
requested in-process through Django's test client (the whole middleware stack, the view, the
template; no network, no WSGI server): once to warm it, then --repeat times, timing `client.get`
and counting queries as the budget test does (CaptureQueriesContext). The reference, measured in
the same run and printed first: a bare `SELECT 1` through the same connection, and an address
that 404s for the logged-in user (the middleware stack: session, user, the 404 page).

Only reads: the accounts log in (a session row, last_login) and the pages are requested with GET;
a month the pool has not filled is measured empty."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import second_factor
from accounts.models import User
from directory.models import Enterprise, Region
from loadtest import pages
from loadtest.management.commands.prepare_load import ADMIN, PREFIX
from reports.models import Report
from reports.periods import Period, current_report_month
from reports.receipt import has_receipt

ENTERPRISE = f"{PREFIX}000001"
NOT_FOUND = "/bench-pages/not-found/"
# The idle-session middleware rewrites its mark (a session save: extra queries) once a minute of
# a session's life; the budget test never sees it (time frozen). Logging in again before a page
# once the session is this old keeps that once-a-minute write out of every page's count.
FRESH_SESSION_SECONDS = 30


@dataclass
class Measure:
    """One page (or reference) for one role: the warm-up request, then the timed ones."""

    label: str
    role: str
    status: int = 0
    location: str = ""
    error: str = ""
    first_queries: int = 0
    queries: list[int] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    query_budget: int | None = None
    ms_budget: float | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def max_ms(self) -> float:
        return max(self.times_ms)

    @property
    def most_queries(self) -> int:
        """The count judged against the budget: the warm-up request included, since a first
        visit (a cache still empty) is a visit too, and it is what the budget test counts."""
        return max([self.first_queries, *self.queries])

    @property
    def failed(self) -> bool:
        if self.error or self.status >= 400:
            return True
        # A redirect to the login page: the session was not accepted, nothing was measured.
        return self.location.startswith(str(settings.LOGIN_URL))

    @property
    def over_queries(self) -> bool:
        return self.query_budget is not None and self.most_queries > self.query_budget

    @property
    def over_time(self) -> bool:
        return self.ms_budget is not None and self.median_ms > self.ms_budget

    @property
    def over(self) -> bool:
        return self.failed or self.over_queries or self.over_time

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "median_ms": round(self.median_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "most_queries": self.most_queries,
            "failed": self.failed,
            "over_budget": self.over,
        }


class Visitor:
    """A logged-in test client for one account, kept logged in with a fresh session."""

    def __init__(self, user: User) -> None:
        self.user = user
        # SERVER_NAME: outside the test runner 'testserver' is not an allowed host.
        self.client = Client(SERVER_NAME="127.0.0.1")
        self.logged_in_at: float | None = None

    def fresh(self) -> Client:
        if (
            self.logged_in_at is None
            or time.monotonic() - self.logged_in_at > FRESH_SESSION_SECONDS
        ):
            self.client.force_login(self.user)
            # As a login through the page would: the second-factor rule met (a national
            # administrator's code is not what is measured here).
            session = self.client.session
            session.update(second_factor.forced_login_marks(self.user))
            session.save()
            self.logged_in_at = time.monotonic()
        return self.client


def timed(request: Callable[[], tuple[int, str]]) -> tuple[float, int, int, str, str]:
    """(ms, queries, status, redirect target, error) of one request. A view that raises is
    reported as a 500 with the exception, not a crash of the benchmark."""
    error = ""
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        try:
            status, location = request()
        except Exception as exc:  # any failure of a page is a result to report
            status, location, error = 500, "", f"{type(exc).__name__}: {exc}"[:200]
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, len(queries), status, location, error


def measure(
    label: str,
    role: str,
    request: Callable[[], tuple[int, str]],
    repeat: int,
    budget: tuple[int, float] | None = None,
    before: Callable[[], object] = lambda: None,
) -> Measure:
    result = Measure(label, role)
    if budget is not None:
        result.query_budget, result.ms_budget = budget
    before()
    _, result.first_queries, result.status, result.location, result.error = timed(request)
    for _ in range(repeat):
        elapsed, count, status, location, error = timed(request)
        result.times_ms.append(elapsed)
        result.queries.append(count)
        # A page that answers differently from one request to the next: the worst is reported.
        if status != result.status and not result.error:
            result.status, result.location, result.error = status, location, error
    return result


def get(client: Client, url: str) -> Callable[[], tuple[int, str]]:
    def request() -> tuple[int, str]:
        response = client.get(url)
        return response.status_code, response.get("Location", "")

    return request


def select_one() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return 200, ""


def child_of(admin_region: Region | None, region: Region) -> str:
    """The region one level below the administrator's own on the way to `region`: a choice of
    the worklist's region filter (a code outside them is ignored, and the page left unfiltered)."""
    codes = region.ancestor_codes()
    level = 0 if admin_region is None else admin_region.level
    return codes[level] if level < len(codes) else codes[-1]


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


class Command(BaseCommand):
    help = (
        "测量每个页面（以其对应角色）的服务器耗时与 SQL 查询数，对照查询预算（企业页面 15 次、"
        "管理员页面 20 次）与时间预算（企业 100 ms、管理员 300 ms）。使用 prepare_load 建立的"
        "账户；同一次运行中先测参照（裸 SELECT 1、一个 404 地址）。须关闭 DEBUG。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=5, help="每页预热后请求的次数（默认 5）")
        parser.add_argument("--json", action="store_true", help="输出 JSON（供程序读取）")
        parser.add_argument("--enterprise", default=ENTERPRISE, help="企业账户（默认 load000001）")
        parser.add_argument(
            "--local-admin",
            default="",
            help="地方管理员账户（默认：load_ 开头的地方管理员中辖区企业最多的一个）",
        )
        parser.add_argument("--admin", default=ADMIN, help="国家管理员账户（默认 load_admin）")
        parser.add_argument("--enterprise-budget", type=int, default=pages.ENTERPRISE_BUDGET)
        parser.add_argument("--admin-budget", type=int, default=pages.ADMIN_BUDGET)
        parser.add_argument("--enterprise-ms", type=float, default=pages.ENTERPRISE_MS)
        parser.add_argument("--admin-ms", type=float, default=pages.ADMIN_MS)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            # DEBUG keeps every query's text and renders errors in full: not the production times.
            raise CommandError("请关闭 DEBUG 后再测量（DEBUG=false）。")
        repeat: int = options["repeat"]
        if repeat < 1:
            raise CommandError("--repeat 至少为 1。")
        period = current_report_month()
        clerk = self._user(options["enterprise"], User.Type.ENTERPRISE)
        local = self._local_admin(options["local_admin"])
        senior = self._user(options["admin"], User.Type.SENIOR_ADMIN)
        enterprise_budget = (options["enterprise_budget"], options["enterprise_ms"])
        admin_budget = (options["admin_budget"], options["admin_ms"])

        visitors = {user.pk: Visitor(user) for user in (clerk, local, senior)}
        roles: list[tuple[str, User, list[str], tuple[int, float]]] = [
            ("企业", clerk, self._enterprise_pages(clerk, period), enterprise_budget),
            ("地方管理员", local, self._admin_pages(local, period), admin_budget),
            ("国家管理员", senior, self._admin_pages(senior, period), admin_budget),
        ]
        started = timezone.localtime()  # Beijing time, as the rest of docs/benchmarks.md
        first = visitors[clerk.pk]
        reference = [
            measure("裸 SQL：SELECT 1", "参照", select_one, repeat),
            measure(
                f"`{NOT_FOUND}`（404，经过全部中间件）",
                "参照",
                get(first.client, NOT_FOUND),
                repeat,
                before=first.fresh,
            ),
        ]
        results: list[Measure] = []
        for role, user, urls, budget in roles:
            visitor = visitors[user.pk]
            for url in urls:
                results.append(
                    measure(
                        url, role, get(visitor.client, url), repeat, budget, before=visitor.fresh
                    )
                )
        context = self._context(period, clerk, local, senior, repeat, started)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        **context,
                        "reference": [m.as_json() for m in reference],
                        "pages": [m.as_json() for m in results],
                        "over_budget": sum(m.over for m in results),
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
        else:
            self._markdown(context, reference, results)
        over = [m for m in results if m.over]
        if over:
            raise CommandError(
                f"{len(over)} 个页面超出预算或出错："
                + "，".join(f"{m.label}（{m.role}）" for m in over[:10])
            )

    # --- Accounts and the ids the pages need -------------------------------------------------

    def _user(self, username: str, user_type: str) -> User:
        user = (
            User.objects.filter(username=username, user_type=user_type, is_active=True)
            .select_related("enterprise", "region")
            .first()
        )
        if user is None:
            raise CommandError(f"没有账户 {username}：先运行 manage.py prepare_load。")
        return user

    def _local_admin(self, username: str) -> User:
        if username:
            return self._user(username, User.Type.LOCAL_ADMIN)
        candidates = list(
            User.objects.filter(
                username__startswith=f"{PREFIX}_",
                user_type=User.Type.LOCAL_ADMIN,
                is_active=True,
                region__isnull=False,
            ).select_related("region")
        )
        if not candidates:
            raise CommandError("没有 load_ 开头的地方管理员：先运行 manage.py prepare_load。")
        # The widest scope of the pool's local administrators: its pages read the most rows.
        return max(candidates, key=lambda u: Enterprise.objects.within(u.region).count())

    def _enterprise_pages(self, clerk: User, period: Period) -> list[str]:
        """As the test's fixture: the current month (measured as it is, filled or not) and the
        latest earlier month the enterprise has reported (its view and 回执)."""
        earlier = Report.objects.filter(
            enterprise_id=clerk.enterprise_id, period__lt=str(period)
        ).order_by("-period")
        submitted = next(
            (r.period for r in earlier.only("period", "status", "submitted_at") if has_receipt(r)),
            str(period.previous()),
        )
        return pages.enterprise_pages(str(period), submitted)

    def _admin_pages(self, admin: User, period: Period) -> list[str]:
        """As the test's fixture: a pending report of the month in the administrator's scope (the
        last one, as the test takes), the region filter on its way, and for the national
        administrator the reviewer's page of that report."""
        scope = Enterprise.objects.within(admin.region)
        reports = Report.objects.filter(enterprise__in=scope).select_related("enterprise__region")
        report = (
            reports.filter(period=str(period), status=Report.Status.PENDING).order_by("pk").last()
            or reports.filter(period=str(period)).order_by("pk").last()
            or reports.order_by("pk").last()
        )
        if report is None:
            raise CommandError(f"{admin.username} 的辖区内没有报表：先运行 generate_dataset。")
        urls = pages.admin_pages(str(period), child_of(admin.region, report.enterprise.region))
        if admin.is_senior_admin:
            urls += pages.senior_pages(report.pk)
        return urls

    # --- Output ------------------------------------------------------------------------------

    def _context(
        self,
        period: Period,
        clerk: User,
        local: User,
        senior: User,
        repeat: int,
        started: Any,
    ) -> dict[str, Any]:
        db = connection.settings_dict
        return {
            "started": started.isoformat(timespec="seconds"),
            "database": f"{connection.vendor} {db['NAME']}",
            "enterprises": Enterprise.objects.count(),
            "period": str(period),
            "reports_of_period": Report.objects.filter(period=str(period)).count(),
            "session_engine": settings.SESSION_ENGINE,
            "repeat": repeat,
            "accounts": {
                "企业": f"{clerk.username}（{clerk.enterprise}）",
                "地方管理员": f"{local.username}（{local.region}）",
                "国家管理员": senior.username,
            },
        }

    def _markdown(
        self, context: dict[str, Any], reference: list[Measure], results: list[Measure]
    ) -> None:
        write = self.stdout.write
        write(
            f"{context['started']}，数据库 {context['database']}：企业 {context['enterprises']:,} "
            f"家，{context['period']} 报表 {context['reports_of_period']:,} 份；DEBUG 关闭，会话 "
            f"{context['session_engine']}；每页预热 1 次后请求 {context['repeat']} 次（进程内测试"
            "客户端）。"
        )
        write("账户：" + "；".join(f"{k} {v}" for k, v in context["accounts"].items()) + "。")
        write("")
        write("| 页面 | 角色 | 查询数 | 中位 ms | 最大 ms | 预算 |")
        write("|---|---|---|---|---|---|")
        for m in [*reference, *results]:
            write(
                f"| {self._page(m)} | {m.role} | {self._queries(m)} | {ms(m.median_ms)} | "
                f"{ms(m.max_ms)} | {self._budget(m)} |"
            )
        write("")
        write(self._summary(reference, results))

    @staticmethod
    def _page(m: Measure) -> str:
        page = m.label if m.role == "参照" else f"`{m.label}`"
        if m.error:
            return f"{page} → {m.status}（{m.error}）"
        if m.status != 200 and m.role != "参照":
            return f"{page} → {m.status}" + (f" `{m.location}`" if m.location else "")
        return page

    @staticmethod
    def _queries(m: Measure) -> str:
        low, high = min(m.queries), max(m.queries)
        shown = str(high) if low == high else f"{low}–{high}"
        if m.first_queries != high:
            shown += f"（首次 {m.first_queries}）"
        return shown

    @staticmethod
    def _budget(m: Measure) -> str:
        if m.query_budget is None:
            return "—"
        marks = []
        if m.failed:
            marks.append("出错" if m.error else f"HTTP {m.status}")
        if m.over_queries:
            marks.append("查询超出")
        if m.over_time:
            marks.append("超时")
        plan = f"{m.query_budget} / {m.ms_budget:g} ms"
        return f"{plan} **✗ {'、'.join(marks)}**" if marks else f"{plan} ✓"

    @staticmethod
    def _summary(reference: list[Measure], results: list[Measure]) -> str:
        parts = []
        for name, roles in (("企业页面", {"企业"}), ("管理员页面", {"地方管理员", "国家管理员"})):
            group = [m for m in results if m.role in roles]
            if not group:
                continue
            most = max(group, key=lambda m: m.most_queries)
            slowest = max(group, key=lambda m: m.median_ms)
            parts.append(
                f"{name} {len(group)} 个：查询数最多 {most.most_queries}（{most.label}），"
                f"中位耗时最长 {ms(slowest.median_ms)} ms（{slowest.label}）"
            )
        over = [m for m in results if m.over]
        others = [f"{m.label}（{m.role}）→ {m.status}" for m in results if m.status != 200]
        return (
            "；".join(parts)
            + f"。参照：SELECT 1 {ms(reference[0].median_ms)} ms，404 页面 "
            + f"{ms(reference[1].median_ms)} ms。"
            + (f"非 200 状态：{'，'.join(others)}。" if others else "")
            + (f"超出预算或出错：{len(over)} 个。" if over else "全部在预算之内。")
        )
