"""The pages of the platform and their budgets per role, in one place for the two that check
them: the query-budget test (tests/test_query_budgets.py, on a small busy fixture) and
`manage.py bench_pages` (on a large dataset, with times). One list, so that the figures in
docs/benchmarks.md are for the very pages the test holds to their query counts.

The lists are built from a report month and the ids a database gives (the test's fixtures and the
benchmark's dataset hold different months and regions), not written out with fixed values."""

from __future__ import annotations

# Queries per page (issue 7): a query per row (an N+1) blows these whatever the slack.
ENTERPRISE_BUDGET = 15
ADMIN_BUDGET = 20
# Server time per page, the median of repeated requests (docs/benchmarks.md; never asserted by
# tests: times depend on the machine).
ENTERPRISE_MS = 100
ADMIN_MS = 300


def step_urls(period: str) -> list[str]:
    """The four steps of a month's wizard."""
    return [
        f"/reports/{period}/basic/",
        f"/reports/{period}/indicators/",
        f"/reports/{period}/products/",
        f"/reports/{period}/questionnaires/",
    ]


def enterprise_pages(period: str, submitted: str) -> list[str]:
    """What an enterprise user opens: `period` is the current report month, `submitted` a month
    the enterprise has reported (its read-only view and 回执)."""
    return [
        "/",
        "/faq/",
        "/accounts/profile/",
        "/accounts/password/",
        "/notices/?kind=notice",
        "/notices/?kind=news",
        "/reports/",
        "/reports/history/",
        *step_urls(period),
        f"/reports/{submitted}/view/",
        f"/reports/{submitted}/receipt/",
        "/transfer/import/",
        "/jobs/",
    ]


def admin_pages(period: str, region: str) -> list[str]:
    """What any administrator opens: `region` is one level below the administrator's own (a
    province for the national one), the choices the worklist's region filter offers."""
    return [
        "/",
        "/review/",
        f"/review/?status=pending&region={region}",
        "/review/changes/",
        "/stats/completion/",
        f"/stats/completion/?region={region}",
        f"/stats/completion/enterprises/?period={period}&status=reported",
        f"/analytics/?period={period}",
        f"/analytics/?period={period}&group_by=section",
        "/notices/manage/",
        "/jobs/",
    ]


def senior_pages(report_id: int) -> list[str]:
    """What the national administrator opens besides: the reviewer's page of one (pending)
    report, the audit trail and the administrators' accounts."""
    return [f"/review/reports/{report_id}/", "/audit/", "/accounts/administrators/"]
