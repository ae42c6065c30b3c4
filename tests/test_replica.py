"""The read replica (sme.routers, DATABASE_REPLICA_URL).

First the router's rules, which need no replica and run on SQLite too: reads go to "replica" only
inside replica_reads(), with a replica configured and outside a transaction on the primary; writes
and migrations always go to "default"; in the other tests the replica, a TEST MIRROR, is read
through default. The views, the API and the job that may read stale figures ask for it.

Then the proof with a real streaming replica (bin/pg-replica; DATABASE_REPLICA_URL set): rows
committed on the primary are read back through the "replica" connection, which is a server in
recovery; writes inside the block land on the primary; the analytics page, the API's figures and
the analysis report job read their figures there. Without DATABASE_REPLICA_URL these are skipped,
except with REQUIRE_REPLICA=true (CI), where a missing replica is a failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import analytics.document
from accounts.models import User
from analytics import figures
from jobs.models import Job
from jobs.runner import run
from sme import routers
from sme.routers import REPLICA, ReplicaRouter, replica_reads
from tests import browser_support
from tests.conftest import PASSWORD, Personas
from tests.fresh_settings import fresh_settings
from tests.test_analytics_pages import data  # noqa: F401  (the fixture, by name)

report_catalogue = browser_support.report_catalogue

router = ReplicaRouter()


@pytest.fixture
def replica_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router as with DATABASE_REPLICA_URL set outside the tests, without a server: only its
    answers are looked at, no query runs on "replica"."""
    monkeypatch.setattr(routers, "replica_configured", lambda: True)
    monkeypatch.setattr(routers, "follow_test_mirror", False)


@pytest.fixture
def no_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routers, "replica_configured", lambda: False)


# --- The router's rules ------------------------------------------------------------------------


def test_reads_go_to_the_replica_only_inside_replica_reads(replica_configured: None) -> None:
    assert router.db_for_read(User) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_read(User) == REPLICA
        with replica_reads():  # nested: still the replica, and the outer block is not ended
            assert router.db_for_read(User) == REPLICA
        assert router.db_for_read(User) == REPLICA
    assert router.db_for_read(User) == DEFAULT_DB_ALIAS


def test_the_block_ends_when_its_code_raises(replica_configured: None) -> None:
    with pytest.raises(ValueError), replica_reads():
        raise ValueError
    assert router.db_for_read(User) == DEFAULT_DB_ALIAS


def test_as_a_decorator_each_call_reads_from_the_replica(replica_configured: None) -> None:
    @replica_reads()
    def figures_view() -> str:
        return router.db_for_read(User)

    assert (figures_view(), figures_view()) == (REPLICA, REPLICA)
    assert router.db_for_read(User) == DEFAULT_DB_ALIAS


def test_without_a_replica_the_block_changes_nothing(no_replica: None) -> None:
    with replica_reads():
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS


def test_inside_a_transaction_on_the_primary_reads_stay_there(
    replica_configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction must see its own uncommitted writes, which the replica has not got."""
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", True)
    with replica_reads():
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS


@pytest.mark.django_db
def test_tests_in_a_transaction_read_their_own_rows(replica_configured: None) -> None:
    """The ordinary tests run inside a transaction on default: they never reach the replica."""
    User.objects.create_user("probe", PASSWORD, user_type=User.Type.SENIOR_ADMIN)
    with replica_reads():
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS
        assert User.objects.filter(username="probe").exists()


def test_in_the_tests_replica_reads_go_through_the_mirrored_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most tests do not allow the "replica" alias (the browser tests' live server would fail),
    and Django's TEST MIRROR keeps the replica's server: the router reads default instead."""
    monkeypatch.setattr(routers, "replica_configured", lambda: True)
    replica = {"ENGINE": "django.db.backends.postgresql", "TEST": {"MIRROR": DEFAULT_DB_ALIAS}}
    monkeypatch.setattr(settings, "DATABASES", {**settings.DATABASES, REPLICA: replica})
    with replica_reads():
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS
        monkeypatch.setattr(routers, "follow_test_mirror", False)  # as tests of a real replica
        assert router.db_for_read(User) == REPLICA


def test_writes_always_go_to_the_primary(replica_configured: None) -> None:
    read_from_replica = User(username="x")
    read_from_replica._state.db = REPLICA  # as if loaded inside replica_reads()
    assert router.db_for_write(User) == DEFAULT_DB_ALIAS
    with replica_reads():
        assert router.db_for_write(User, instance=read_from_replica) == DEFAULT_DB_ALIAS


def test_migrations_only_on_the_primary_and_relations_across_both() -> None:
    assert router.allow_migrate(REPLICA, "reports") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "reports") is None  # Django's default: allowed
    on_replica, on_primary = User(), User()
    on_replica._state.db, on_primary._state.db = REPLICA, DEFAULT_DB_ALIAS
    assert router.allow_relation(on_replica, on_primary) is True
    elsewhere = User()
    elsewhere._state.db = "other"
    assert router.allow_relation(on_replica, elsewhere) is None


def _settings_with(env: dict[str, str]) -> dict[str, Any]:
    values = fresh_settings(
        "DATABASES", "DATABASE_ROUTERS", env=env, without=("DATABASE_URL", "DATABASE_REPLICA_URL")
    )
    return {"databases": values["DATABASES"], "routers": values["DATABASE_ROUTERS"]}


def test_settings_add_the_replica_only_when_its_url_is_set() -> None:
    primary = "postgres://postgres@127.0.0.1:5432/sme"
    without = _settings_with({"DATABASE_URL": primary})
    assert list(without["databases"]) == ["default"] and without["routers"] == []
    found = _settings_with(
        {"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "postgres://reader@127.0.0.1:5433/sme"}
    )
    replica = found["databases"]["replica"]
    assert (replica["HOST"], replica["PORT"], replica["NAME"], replica["USER"]) == (
        "127.0.0.1",
        5433,
        "sme",
        "reader",
    )
    assert replica["OPTIONS"] == found["databases"]["default"]["OPTIONS"]
    assert "jit=off" in replica["OPTIONS"]["options"]
    assert replica["TEST"] == {"MIRROR": "default"}
    assert found["routers"] == ["sme.routers.ReplicaRouter"]


# --- Who asks for replica reads ----------------------------------------------------------------


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Whether replica reads were asked for when the figures were read (the tests run in a
    transaction, so the router itself answers "default" whatever was asked)."""
    seen: dict[str, bool] = {}

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            seen[name] = routers._replica_allowed.get()
            return original(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(figures, "aggregate", spy("aggregate", figures.aggregate))
    monkeypatch.setattr(figures, "overview", spy("overview", figures.overview))
    monkeypatch.setattr(analytics.document, "compose", spy("compose", analytics.document.compose))
    import api.routers.stats

    monkeypatch.setattr(
        api.routers.stats, "completion", spy("completion", api.routers.stats.completion)
    )
    return seen


def test_the_analytics_pages_ask_for_replica_reads(data: Personas, asked: dict) -> None:  # noqa: F811
    client = data.client_for(data.senior_admin)
    assert client.get(reverse("analytics:page"), {"period": "2026-10"}).status_code == 200
    assert asked == {"aggregate": True, "overview": True}
    asked.clear()
    export = client.get(reverse("analytics:xlsx"), {"period": "2026-10", "table": "group"})
    assert export.status_code == 200 and asked == {"aggregate": True}
    asked.clear()
    assert client.get(reverse("analytics:report"), {"period": "2026-10"}).status_code == 200
    assert asked["compose"] is True


def test_the_api_figures_ask_for_replica_reads(data: Personas, asked: dict) -> None:  # noqa: F811
    client = data.client_for(data.senior_admin)
    assert client.get("/api/v1/stats/aggregates", {"period": "2026-10"}).status_code == 200
    assert client.get("/api/v1/stats/completion", {"period": "2026-10"}).status_code == 200
    assert asked == {"aggregate": True, "completion": True}


def test_the_analysis_report_job_asks_for_replica_reads(data: Personas, asked: dict) -> None:  # noqa: F811
    job = Job.objects.create(
        kind=analytics.document.KIND,
        title="运行监测分析报告",
        owner=data.senior_admin,
        params={"period": "2026-10", "region": "", "include_pending": False},
    )
    run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert asked["compose"] is True
    assert routers._replica_allowed.get() is False  # and the block has ended


# --- With a real streaming replica -------------------------------------------------------------

HAS_REPLICA = REPLICA in settings.DATABASES
REPLAY_TIMEOUT = 10.0
real_replica_db = pytest.mark.django_db(
    transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA] if HAS_REPLICA else [DEFAULT_DB_ALIAS]
)


@pytest.fixture
def replica(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BaseDatabaseWrapper]:
    """The "replica" connection, checked to be what it claims: a PostgreSQL server in recovery,
    not the primary, holding the test database (Django's MIRROR setting gives the alias the test
    database's name; host and port stay those of DATABASE_REPLICA_URL). The router is told to
    use it rather than read the mirror through default as in the other tests."""
    if not HAS_REPLICA:
        message = "DATABASE_REPLICA_URL is not set (bin/pg-replica starts a local replica)"
        if os.environ.get("REQUIRE_REPLICA") == "true":
            pytest.fail(f"REQUIRE_REPLICA=true but {message}", pytrace=False)
        pytest.skip(message)
    request.getfixturevalue("transactional_db")
    monkeypatch.setattr(routers, "follow_test_mirror", False)
    primary, conn = connections[DEFAULT_DB_ALIAS], connections[REPLICA]
    assert primary.vendor == conn.vendor == "postgresql"
    assert conn.settings_dict["NAME"] == primary.settings_dict["NAME"]  # test_sme on both
    where = (conn.settings_dict["HOST"], str(conn.settings_dict["PORT"]))
    assert where != (primary.settings_dict["HOST"], str(primary.settings_dict["PORT"])), (
        "DATABASE_REPLICA_URL points at the primary"
    )
    assert _one(conn, "SELECT pg_is_in_recovery()") is True
    assert _one(primary, "SELECT pg_is_in_recovery()") is False
    try:
        yield conn
    finally:
        # The test database is flushed and at the end dropped on the primary; hold nothing open
        # on the replica meanwhile.
        conn.close()


def _one(conn: BaseDatabaseWrapper, sql: str, params: list[Any] | None = None) -> Any:
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def wait_for_replay(conn: BaseDatabaseWrapper) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = _one(connections[DEFAULT_DB_ALIAS], "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + REPLAY_TIMEOUT
    sql = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0"
    while not _one(conn, sql, [target]):
        if time.monotonic() > deadline:
            pytest.fail(f"the replica did not replay up to {target} in {REPLAY_TIMEOUT:.0f}s")
        time.sleep(0.05)


def _sql(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


@real_replica_db
def test_a_read_inside_the_block_is_served_by_the_replica(
    replica: BaseDatabaseWrapper,
) -> None:
    created = User.objects.create_user("replicated", PASSWORD, user_type=User.Type.SENIOR_ADMIN)
    wait_for_replay(replica)
    primary = connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        with replica_reads():
            found = User.objects.get(username="replicated")
        outside = User.objects.get(username="replicated")
    assert found.pk == created.pk and found._state.db == REPLICA
    assert outside._state.db == DEFAULT_DB_ALIAS
    assert [sql for sql in _sql(on_replica) if "accounts_user" in sql] == _sql(on_replica)
    assert len(on_replica.captured_queries) == 1 and len(on_primary.captured_queries) == 1


@real_replica_db
def test_writes_inside_the_block_go_to_the_primary(replica: BaseDatabaseWrapper) -> None:
    User.objects.create_user("writer", PASSWORD, user_type=User.Type.SENIOR_ADMIN)
    wait_for_replay(replica)
    primary = connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        with replica_reads():
            user = User.objects.get(username="writer")  # from the replica
            user.nickname = "改过"
            user.save(update_fields=["nickname"])
            User.objects.create_user("another", PASSWORD, user_type=User.Type.SENIOR_ADMIN)
            User.objects.filter(username="another").update(nickname="新")
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in _sql(on_replica))
    written = [sql.split()[0].upper() for sql in _sql(on_primary)]
    assert "UPDATE" in written and "INSERT" in written
    assert User.objects.get(username="writer").nickname == "改过"
    assert User.objects.get(username="another").nickname == "新"


@real_replica_db
def test_inside_a_transaction_the_block_reads_the_primary(replica: BaseDatabaseWrapper) -> None:
    """Uncommitted rows exist on the primary only: reading them from the replica would fail."""
    with CaptureQueriesContext(replica) as on_replica, transaction.atomic():
        User.objects.create_user("uncommitted", PASSWORD, user_type=User.Type.SENIOR_ADMIN)
        with replica_reads():
            assert User.objects.filter(username="uncommitted").exists()
    assert on_replica.captured_queries == []


@real_replica_db
def test_the_analytics_page_and_api_read_their_figures_on_the_replica(
    replica: BaseDatabaseWrapper,
    report_catalogue: None,
    data: Personas,  # noqa: F811
) -> None:
    client = data.client_for(data.senior_admin)
    wait_for_replay(replica)
    primary = connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        page = client.get(reverse("analytics:page"), {"period": "2026-10"})
    assert page.status_code == 200
    # 全国营业收入 1,060.0 万元, growth 3.9 %: the figures committed on the primary, read back
    # from the replica (tests/test_analytics_pages.py has the arithmetic).
    html = page.content.decode()
    assert '<td class="num">1,060.0</td>' in html and '<td class="num">3.9</td>' in html
    assert any("analytics_cell" in sql for sql in _sql(on_replica))
    assert not any("analytics_cell" in sql for sql in _sql(on_primary))
    # The session's user comes from the primary (role_required runs before the block).
    assert any("accounts_user" in sql for sql in _sql(on_primary))

    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        api = client.get("/api/v1/stats/aggregates", {"period": "2026-10"})
        completion = client.get("/api/v1/stats/completion", {"period": "2026-10"})
    assert api.status_code == 200 and completion.status_code == 200
    assert round(api.json()["total"]["growth"], 1) == 3.9
    assert any("analytics_cell" in sql for sql in _sql(on_replica))
    assert any("reports_report" in sql for sql in _sql(on_replica))  # 填报情况
    assert not any("analytics_cell" in sql or "reports_report" in sql for sql in _sql(on_primary))


@real_replica_db
def test_the_analysis_report_job_reads_on_the_replica_and_writes_on_the_primary(
    replica: BaseDatabaseWrapper,
    report_catalogue: None,
    data: Personas,  # noqa: F811
) -> None:
    job = Job.objects.create(
        kind=analytics.document.KIND,
        title="运行监测分析报告",
        owner=data.senior_admin,
        params={"period": "2026-10", "region": "", "include_pending": False},
    )
    wait_for_replay(replica)
    primary = connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(primary) as on_primary:
        run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.result_file
    assert any("analytics_cell" in sql for sql in _sql(on_replica))
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in _sql(on_replica))
    assert not any("analytics_cell" in sql for sql in _sql(on_primary))
    assert any(sql.startswith("UPDATE") and "jobs_job" in sql for sql in _sql(on_primary))
