"""Reliability (issue 8): a real Celery worker killed with SIGKILL in the middle of a 批量导入
leaves only whole committed chunks; its job is failed by the reaper with a message saying how
far it got, which its owner sees on the job pages; and the task that Redis delivers again
(acks_late) to another worker does not run the job a second time. Never silently lost.

What is real: PostgreSQL (pytest's test database, which the workers reach through
DATABASE_URL); Redis (a database of its own, BROKER, flushed before and after); the upload through
the 批量导入 page, and the job enqueued the production way (jobs.runner.enqueue, JOB_RUNNER=celery,
sent after the request's commit); two Celery workers, each Celery's own `worker` command on the
platform's app and settings (tests/celery_worker.py), with --pool=solo --concurrency=1 so that
the task runs in the worker process itself, which is what receives the SIGKILL; the bulk-import
handler, the reaper (jobs.runner.reap_stale) and the job pages. Nothing is slowed down: the
worker needs about a second per chunk of 100 rows here, so a workbook of ROWS enterprises leaves
seconds to kill it once a first chunk is committed and while a later one is being written (its
PostgreSQL backend holds a transaction that has written).

What is not as in production: the clocks of the test and of the workers all run from 2026-11-10,
by one offset (the report month 2026-10 of the whole suite is open then, whatever day the suite
runs); the reaper is called with its time as argument (`now` + JOB_STALE_AFTER + 1 s) instead of
being waited for; and the second worker has a visibility timeout of 1 s instead of kombu's hour,
so that Redis delivers the killed worker's unacknowledged task again as that worker starts. In
production that delivery comes an hour later, long after the reaper (JOB_STALE_AFTER, 10 minutes)
has failed the job: the order this test follows.

PostgreSQL and Redis only: pytest-django's SQLite test database lives in memory, where no worker
process can open it, and without Redis there is no broker. The test is skipped then, except where
REQUIRE_FAULT_TESTS=true (CI's PostgreSQL run), where that is a failure, so that the proof cannot
silently vanish."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from analytics.cube import verify as cube_verify
from jobs.models import Job
from jobs.runner import interrupted_message, reap_stale
from reports.models import Report, ReportEvent
from tests.browser_support import restore_catalogue
from tests.conftest import Personas
from tests.test_bulk_import import bulk_template, enterprises, fill_rows, post
from tests.test_jobs_reaper import database_url, wait_until_disconnected
from transfer.bulk import CHUNK

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/11"  # a database of its own: no other worker sees the queue
NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: 2026-10 is open
ROWS = 600  # enterprises in the workbook (the personas' 宁波 one among them): 6 chunks
SECOND = dt.timedelta(seconds=1)
WAIT = 30.0  # seconds: the longest any single step may take before the test gives up


@pytest.fixture(autouse=True)
def on_postgres_with_redis() -> None:
    problems = []
    if connection.vendor != "postgresql":
        problems.append(
            "pytest-django's SQLite test database lives in memory: no worker process can open "
            "it. Run on PostgreSQL (DATABASE_URL=postgres://…), as CI does."
        )
    client = redis.Redis.from_url(BROKER, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        problems.append(f"no Redis at {BROKER} for the Celery broker ({exc}).")
    finally:
        client.close()
    if not problems:
        return
    problem = " ".join(problems)
    if os.environ.get("REQUIRE_FAULT_TESTS") == "true":
        pytest.fail(f"REQUIRE_FAULT_TESTS=true but {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
def clock_offset(on_postgres_with_redis: None) -> Iterator[float]:
    """The test's clock runs from NOW, ticking; the workers get the same offset from the real
    clock (tests/celery_worker.py), so that every process agrees on the time."""
    offset = NOW.timestamp() - time.time()
    with time_machine.travel(NOW, tick=True):
        yield offset


@pytest.fixture
def catalogue(on_postgres_with_redis: None, reference_data: None) -> None:
    """The indicator catalogue and rules come from data migrations, which a transactional test
    before this one has flushed away."""
    restore_catalogue()


@pytest.fixture
def broker(on_postgres_with_redis: None) -> Iterator[redis.Redis]:
    """The private Redis database, empty, and this process's Celery app publishing to it (as a
    web process with REDIS_URL=BROKER would). The app makes its producer pool from broker_url
    once per process: it is dropped here, and again after, so that later tests publish where
    their settings say."""
    from sme.celery import app

    def drop_producer_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    saved = app.conf.broker_url
    app.conf.broker_url = BROKER
    drop_producer_pools()
    try:
        yield client
    finally:
        app.conf.broker_url = saved
        drop_producer_pools()
        client.flushdb()
        client.close()


class Workers:
    """Celery workers started as production starts one (`celery -A sme worker`), each a process
    of its own pointed at the test database and the private broker, its output in a file."""

    def __init__(self, directory: Path, clock_offset: float, media_root: str) -> None:
        self.directory = directory
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sme.settings",
            "DATABASE_URL": database_url(),
            # The workers write where the test reads: the test database only, never a replica.
            "DATABASE_REPLICA_URL": "",
            "SECRET_KEY": "test-only-secret-key",
            "DEBUG": "false",
            "REDIS_URL": BROKER,
            "JOB_RUNNER": "celery",
            "MEDIA_ROOT": media_root,  # where the page saved the upload
            "TEST_CLOCK_OFFSET": str(clock_offset),
        }
        self.started: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
        self.logs: dict[int, Path] = {}

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        path = self.directory / f"{name}.log"
        log = path.open("wb")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.celery_worker",
                "worker",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
                "--pool=solo",
                "--concurrency=1",
            ],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,  # to a file: a pipe nobody reads could block the worker
        )
        self.started.append((worker, log))
        self.logs[worker.pid] = path
        return worker

    def log(self, worker: subprocess.Popen[bytes]) -> str:
        return self.logs[worker.pid].read_text(errors="replace")

    def stop_all(self) -> None:
        for worker, log in self.started:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            log.close()


@pytest.fixture
def workers(tmp_path: Path, clock_offset: float, settings: Any) -> Iterator[Workers]:
    started = Workers(tmp_path, clock_offset, str(settings.MEDIA_ROOT))
    try:
        yield started
    finally:
        started.stop_all()


def poll(what: str, check: Callable[[], Any], log: Callable[[], str], seconds: float = WAIT) -> Any:
    """check()'s first true value, asked every 50 ms; after `seconds`, a failure naming `what`
    with the worker's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what}: not within {seconds}s. The worker's log:\n{log()}")


def backends_of_others() -> dict[int, bool]:
    """The other PostgreSQL sessions on the test database (the worker's), each with whether it
    holds a transaction that has written something (an xid is assigned at the first write)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_xid IS NOT NULL FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return dict(cursor.fetchall())


def unacknowledged(broker: redis.Redis) -> list[tuple[str, str, list[Any]]]:
    """The tasks Redis holds as delivered to a worker and not acknowledged: (task id, task name,
    arguments). kombu keeps each as [message, exchange, routing key] in the `unacked` hash."""
    tasks = []
    for raw in broker.hvals("unacked"):
        message = json.loads(raw)[0]
        args = json.loads(base64.b64decode(message["body"]))[0]
        tasks.append((message["headers"]["id"], message["headers"]["task"], args))
    return tasks


def import_state() -> dict[str, Any]:
    """What the bulk import has written: the reports, their import events, their statuses."""
    return {
        "reports": Report.objects.count(),
        "events": ReportEvent.objects.filter(action="import").count(),
        "statuses": set(Report.objects.values_list("status", flat=True)),
    }


@pytest.mark.usefixtures("catalogue")
@pytest.mark.django_db(transaction=True)  # the workers see only what is committed
def test_a_celery_worker_killed_in_the_middle_of_a_bulk_import(
    personas: Personas, settings: Any, broker: redis.Redis, workers: Workers
) -> None:
    enterprises(ROWS - 1)  # and the personas' 宁波 enterprise
    killed = workers.start("killed")  # it starts while the workbook is being made
    client = personas.client_for(personas.zhejiang_admin)
    content = fill_rows(bulk_template(client))
    settings.JOB_RUNNER = "celery"
    assert post(client, content).status_code == 302  # to the job's page
    job = Job.objects.get()

    # Running, a first chunk committed and reported, a later one (not the last) being written:
    # kill it there.
    def in_the_middle() -> dict[int, bool] | None:
        job.refresh_from_db()
        if job.status in (Job.Status.DONE, Job.Status.FAILED) or killed.poll() is not None:
            pytest.fail(f"the job ended before the kill ({job.message}):\n{workers.log(killed)}")
        if job.status != Job.Status.RUNNING or not CHUNK <= job.done < ROWS - CHUNK:
            return None
        backends = backends_of_others()
        return backends if any(backends.values()) else None

    backends = poll("the worker writing a later chunk", in_the_middle, lambda: workers.log(killed))
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=20) == -signal.SIGKILL
    for backend in backends:
        wait_until_disconnected(backend)

    # Only whole chunks: each a transaction, the one being written rolled back with the
    # connection; every report saved has its audit entry, and the aggregate matches them.
    after_kill = import_state()
    job.refresh_from_db()
    assert (job.status, job.total) == (Job.Status.RUNNING, ROWS)  # nothing else knows yet
    assert after_kill["reports"] % CHUNK == 0 and 0 < after_kill["reports"] < ROWS
    # The progress recorded is the last committed chunk's, or the one before if the worker died
    # between a chunk's commit and its progress().
    assert after_kill["reports"] - job.done in (0, CHUNK)
    assert after_kill["events"] == after_kill["reports"]
    assert after_kill["statuses"] == {Report.Status.PENDING}
    assert cube_verify(["2026-10"]) == []

    # The reaper: not while the heartbeat is fresh; after JOB_STALE_AFTER, failed with the
    # progress before the interruption.
    now = timezone.now()
    assert reap_stale(now) == 0
    assert reap_stale(now + django_settings.JOB_STALE_AFTER + SECOND) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and not job.result_file
    assert job.message == interrupted_message(job)
    assert f"中断前的进度为 {job.done}/{ROWS}；已完成并保存的部分保持有效" in job.message

    # Visible to its owner: the job's page (stopped polling) and the list of their jobs.
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert '<strong class="job-status">失败</strong>' in page
    assert f'error job-message">{job.message}<' in page and "hx-trigger" not in page
    listing = client.get("/jobs/").content.decode()
    assert f"<td>失败</td><td>{job.percent}%</td><td>{job.message}</td>" in listing

    # The killed worker's task is still in Redis, delivered and never acknowledged (acks_late).
    [(task_id, task, args)] = unacknowledged(broker)
    assert (task, args) == ("jobs.tasks.run_job", [job.pk]) and broker.llen("celery") == 0

    # A second worker on the same broker: Redis delivers the task again, the worker runs it and
    # acknowledges it, and the job is left as the reaper left it.
    reaped = (job.status, job.message, job.done, job.finished_at)
    second = workers.start("second", TEST_VISIBILITY_TIMEOUT="1")
    poll(
        "the task delivered again and acknowledged",
        lambda: (
            f"Task jobs.tasks.run_job[{task_id}] succeeded" in workers.log(second)
            and not broker.hlen("unacked")
            and not broker.llen("celery")
        ),
        lambda: workers.log(second),
    )
    second.send_signal(signal.SIGTERM)  # a warm shutdown, as the service manager stops it
    assert second.wait(timeout=20) == 0
    job.refresh_from_db()
    assert (job.status, job.message, job.done, job.finished_at) == reaped  # failed, not run
    assert import_state() == after_kill  # no chunk written twice, nothing more written
    assert cube_verify(["2026-10"]) == []
