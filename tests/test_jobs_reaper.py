"""No job silently lost when its worker dies: a job taken and then silent for JOB_STALE_AFTER is
failed with a message saying what stands (not before, and not while it reports progress); a task
delivered again for such a job fails it without running the handler twice; a queued job whose task
was lost is sent again; celery beat and `manage.py reap_jobs` do it; a real process killed with
SIGKILL in the middle of a job leaves only its committed chunks; the bulk import interrupted in
the middle keeps exactly its committed chunks, and re-importing the same workbook is safe."""

from __future__ import annotations

import datetime as dt
import os
import select
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jobs.models import Job
from jobs.runner import (
    HANDLERS,
    NEVER_STARTED_MESSAGE,
    interrupted_message,
    progress,
    reap_stale,
    run,
)
from reports.models import Report, ReportEvent
from tests.conftest import Personas, make_admin
from tests.test_bulk_import import bulk_template, enterprises, fill_rows, post

T0 = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 2026-10 is open for reporting
STALE = dt.timedelta(minutes=10)
SECOND = dt.timedelta(seconds=1)


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing of the runner's clean-up runs (it is not an
    Exception, so run() neither fails the job nor records anything)."""


@pytest.fixture(autouse=True)
def stale_after(settings: Any) -> None:
    settings.JOB_STALE_AFTER = STALE


@pytest.fixture
def handlers() -> Any:
    saved = dict(HANDLERS)
    yield HANDLERS
    HANDLERS.clear()
    HANDLERS.update(saved)


def make_job(owner: Any, kind: str = "dies") -> Job:
    return Job.objects.create(kind=kind, title="测试任务", owner=owner)


def dies_after_progress(calls: list[int]) -> Any:
    """A handler that reports 3 of 10 done, then its worker is killed."""

    def handler(job: Job) -> str:
        calls.append(job.pk)
        progress(job, 3, 10)
        raise WorkerKilled

    return handler


def taken_and_killed(personas: Personas, handlers: Any, calls: list[int]) -> Job:
    handlers["dies"] = dies_after_progress(calls)
    job = make_job(personas.zhejiang_admin)
    with pytest.raises(WorkerKilled):
        run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.heartbeat_at == timezone.now()
    return job


def test_a_silent_running_job_is_failed_after_the_stale_period_and_not_before(
    personas: Personas, handlers: Any, caplog: Any
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        job = taken_and_killed(personas, handlers, [])
        clock.move_to(T0 + STALE - SECOND)
        assert reap_stale() == 0
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING
        clock.move_to(T0 + STALE + SECOND)
        with caplog.at_level("WARNING", logger="sme.jobs"):
            assert reap_stale() == 1
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.finished_at == T0 + STALE + SECOND
        assert job.message == interrupted_message(job)
        assert job.message == (
            "处理中断（后台处理进程停止），任务未完成，未生成结果文件。中断前的进度为 3/10；"
            "已完成并保存的部分保持有效，中断时正在处理的部分未生效。请重新提交。"
        )
        assert [r.name for r in caplog.records] == ["sme.jobs"]
        assert f"job {job.pk} (dies" in caplog.records[0].getMessage()
        assert reap_stale() == 0  # once


def test_a_job_that_reports_progress_is_not_reaped(personas: Personas, handlers: Any) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        job = taken_and_killed(personas, handlers, [])
        clock.move_to(T0 + STALE - SECOND)
        progress(job, 5)  # still alive: its heartbeat moves on
        clock.move_to(T0 + STALE + STALE / 2)  # started long ago, last progress 5 minutes ago
        assert reap_stale() == 0
        job.refresh_from_db()
        assert (job.status, job.done, job.total) == (Job.Status.RUNNING, 5, 10)
        clock.move_to(T0 + 2 * STALE)
        assert reap_stale() == 1
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED and "5/10" in job.message


def test_a_task_delivered_again_fails_a_stale_job_without_running_it_twice(
    personas: Personas, handlers: Any
) -> None:
    """Celery (acks_late) delivers the task again when the worker holding it died."""
    from jobs.tasks import run_job

    calls: list[int] = []
    with time_machine.travel(T0, tick=False) as clock:
        job = taken_and_killed(personas, handlers, calls)
        clock.move_to(T0 + STALE / 2)
        run_job.apply(args=[job.pk])  # its worker may still be at it: left alone
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING
        clock.move_to(T0 + STALE + SECOND)
        run_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert calls == [job.pk]  # the handler ran once, when the job was first taken
    assert (job.status, job.message) == (Job.Status.FAILED, interrupted_message(job))
    assert "3/10" in job.message


def test_a_job_reaped_while_only_slow_stops_at_its_next_progress(
    personas: Personas, handlers: Any
) -> None:
    """A worker that went quiet for longer than the stale period but was alive: its owner was
    told what stands, so it must not go on changing data behind that message."""
    after: list[str] = []

    with time_machine.travel(T0, tick=False) as clock:

        def slow(job: Job) -> str:
            progress(job, 1, 3)
            clock.move_to(T0 + STALE + SECOND)
            assert reap_stale() == 1  # celery beat, meanwhile
            progress(job, 2, 3)
            after.append("written after the reaper's message")
            return "完成"

        handlers["slow"] = slow
        job = make_job(personas.zhejiang_admin, "slow")
        run(job.pk)
    job.refresh_from_db()
    assert after == []
    assert job.status == Job.Status.FAILED and "1/3" in job.message


def test_a_queued_job_whose_task_was_lost_is_sent_again_once_per_period(
    personas: Personas, handlers: Any, settings: Any, monkeypatch: Any
) -> None:
    from jobs import tasks

    settings.JOB_RUNNER = "celery"
    sent: list[int] = []
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: sent.append(pk))
    with time_machine.travel(T0, tick=False) as clock:
        job = make_job(personas.zhejiang_admin)  # its task never reached a worker
        clock.move_to(T0 + STALE - SECOND)
        assert reap_stale() == 0 and sent == []
        clock.move_to(T0 + STALE + SECOND)
        assert reap_stale() == 1 and sent == [job.pk]
        clock.move_to(T0 + STALE + STALE / 2)
        assert reap_stale() == 0 and sent == [job.pk]  # sent again at most once per period
        clock.move_to(T0 + 2 * STALE + 2 * SECOND)
        assert reap_stale() == 1 and sent == [job.pk, job.pk]
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED  # never failed: it may only be waiting in a long queue


def test_the_job_sent_again_runs(personas: Personas, handlers: Any, settings: Any) -> None:
    from sme.celery import app

    handlers["lost"] = lambda job: "终于完成"
    settings.JOB_RUNNER = "celery"
    with time_machine.travel(T0, tick=False) as clock:
        job = make_job(personas.zhejiang_admin, "lost")
        clock.move_to(T0 + STALE + SECOND)
        app.conf.task_always_eager = True  # the worker's code, run here
        try:
            assert reap_stale() == 1
        finally:
            app.conf.task_always_eager = False
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.DONE, "终于完成")


def test_without_a_task_queue_a_lost_queued_job_fails_saying_nothing_was_done(
    personas: Personas,
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        job = make_job(personas.zhejiang_admin)  # JOB_RUNNER=inline (thread in make demo)
        clock.move_to(T0 + STALE + SECOND)
        assert reap_stale() == 1
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.FAILED, NEVER_STARTED_MESSAGE)


def test_the_job_pages_show_the_interrupted_message(personas: Personas, handlers: Any) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        job = taken_and_killed(personas, handlers, [])
        clock.move_to(T0 + STALE + SECOND)
        reap_stale()
    job.refresh_from_db()
    client = personas.client_for(personas.zhejiang_admin)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "失败" in page and f'error job-message">{job.message}<' in page
    partial = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in partial  # finished: the page stops polling
    assert job.message in client.get("/jobs/").content.decode()


def test_celery_beat_reaps_every_few_minutes(personas: Personas, handlers: Any) -> None:
    from sme.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["reap-stale-jobs"]
    assert entry["task"] == "jobs.tasks.reap_stale_jobs" and entry["task"] in app.tasks
    assert entry["schedule"] <= django_settings.JOB_STALE_AFTER
    with time_machine.travel(T0, tick=False) as clock:
        taken_and_killed(personas, handlers, [])
        clock.move_to(T0 + STALE + SECOND)
        assert app.tasks[entry["task"]].apply().get() == 1


def test_the_reap_jobs_command(personas: Personas, handlers: Any) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        job = taken_and_killed(personas, handlers, [])
        clock.move_to(T0 + STALE + SECOND)
        out = StringIO()
        call_command("reap_jobs", stdout=out)
        assert (
            out.getvalue().strip()
            == "已处理 1 个超过 10 分钟没有进展的后台任务（明细见日志 sme.jobs）。"
        )
        out = StringIO()
        call_command("reap_jobs", stdout=out)
        assert out.getvalue().strip() == "没有超过 10 分钟没有进展的后台任务。"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


# --- The bulk import: what the message says is true --------------------------------------------


@pytest.mark.usefixtures("reference_data")
def test_an_interrupted_bulk_import_keeps_whole_chunks_and_can_be_imported_again(
    personas: Personas, settings: Any, monkeypatch: Any
) -> None:
    """transfer.bulk commits 100 rows at a time: killed in the middle of the second chunk, the
    first 100 enterprises stay imported (待审核) and none of the second chunk is; the owner is told
    so, and importing the same workbook again imports the rest and refuses the 100 by their
    status, each enterprise imported once."""
    import transfer.bulk

    enterprises(150)  # and the personas' 宁波 enterprise: 151 rows
    saved = transfer.bulk.import_for_enterprise
    calls: list[int] = []

    def killed_at_row_130(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 130:
            raise WorkerKilled
        return saved(*args, **kwargs)

    with time_machine.travel(T0, tick=False) as clock:
        client = personas.client_for(personas.zhejiang_admin)
        content = fill_rows(bulk_template(client))
        settings.JOB_RUNNER = "thread"  # queued only: its thread starts at a commit never made
        post(client, content)
        job = Job.objects.get()
        monkeypatch.setattr(transfer.bulk, "import_for_enterprise", killed_at_row_130)
        with pytest.raises(WorkerKilled):
            run(job.pk)
        monkeypatch.setattr(transfer.bulk, "import_for_enterprise", saved)
        assert Report.objects.count() == 100  # the first chunk; nothing of the second
        assert set(Report.objects.values_list("status", flat=True)) == {"pending"}

        clock.move_to(T0 + STALE + SECOND)
        assert reap_stale() == 1
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert "中断前的进度为 100/151；已完成并保存的部分保持有效" in job.message
        assert "中断时正在处理的部分未生效" in job.message and not job.result_file

        settings.JOB_RUNNER = "inline"
        post(client, content)  # 请重新提交: the same workbook
    again = Job.objects.exclude(pk=job.pk).get()
    assert again.status == Job.Status.DONE, again.message
    assert again.summary == {"新建": 51, "更新": 0, "拒绝": 100}
    assert {p["message"] for p in again.problems} == {
        "该月报表当前状态为「待审核」，不能代为导入上报。"
    }
    assert Report.objects.count() == 151
    assert ReportEvent.objects.filter(action="import").count() == 151  # each imported once


# --- A real process killed with SIGKILL ---------------------------------------------------------

# Run in a child process: a handler that commits a first chunk (a marker row), reports progress,
# writes a second chunk inside a transaction, says so, and sleeps there until it is killed.
CHILD = """
import sys, time
import django
django.setup()
from django.db import connection, transaction
from jobs.models import Job
from jobs.runner import HANDLERS, progress, run

def chunks(job):
    with transaction.atomic():
        Job.objects.create(kind="marker", title="第一批", owner_id=job.owner_id, status="done")
    progress(job, 1, 2)
    with transaction.atomic():
        Job.objects.create(kind="marker", title="第二批", owner_id=job.owner_id, status="done")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            print("written", cursor.fetchone()[0], flush=True)
        time.sleep(120)
    return "不应完成"

HANDLERS["chunks"] = chunks
run(int(sys.argv[1]))
"""


def database_url() -> str:
    """The test database (test_…), where the child must read and write."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for_line(child: subprocess.Popen[str], seconds: float) -> str:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], seconds)
    if not ready:
        child.kill()
        pytest.fail(f"the child said nothing within {seconds}s: {child.communicate()[1]}")
    line = child.stdout.readline()
    if not line:
        pytest.fail(f"the child ended: {child.communicate()[1]}")
    return line


def wait_until_disconnected(backend_pid: int, seconds: float = 20) -> None:
    """PostgreSQL rolls back the killed child's transaction when it sees the connection gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend_pid])
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"PostgreSQL backend {backend_pid} still there {seconds}s after the kill")


def killed_while_writing(script: str, *args: str) -> None:
    """Run the application's code in a child process on the test database until it says it has
    written everything inside its transaction; check that transaction is open and uncommitted,
    SIGKILL the child and wait until PostgreSQL has dropped its connection."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sme.settings",
        "DATABASE_URL": database_url(),
        # The child writes where the test reads: the test database only, never a replica.
        "DATABASE_REPLICA_URL": "",
        "SECRET_KEY": "test-only-secret-key",
        "JOB_RUNNER": "inline",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        word, backend_pid = wait_for_line(child, 60).split()
        assert word == "written"
        with connection.cursor() as cursor:
            cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [int(backend_pid)])
            # Stopped inside the transaction, its writes made and not committed.
            assert cursor.fetchone() == ("idle in transaction",)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=20) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdout, child.stderr):
            if stream:
                stream.close()
    wait_until_disconnected(int(backend_pid))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pytest-django's SQLite test database lives in memory: no other process can open it. "
    "Run on PostgreSQL (DATABASE_URL=postgres://…), as CI does.",
)
@pytest.mark.django_db(transaction=True)  # the child must see the job, committed
def test_a_worker_killed_with_sigkill_leaves_only_committed_chunks_and_is_reaped() -> None:
    owner = make_admin("reaper", None)
    job = Job.objects.create(kind="chunks", title="被终止的任务", owner=owner)
    killed_while_writing(CHILD, str(job.pk))

    markers = set(Job.objects.filter(kind="marker").values_list("title", flat=True))
    assert markers == {"第一批"}  # the second chunk's transaction died with the process
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (Job.Status.RUNNING, 1, 2)
    assert job.heartbeat_at is not None

    now = timezone.now()
    assert reap_stale(now) == 0  # its heartbeat is seconds old
    assert reap_stale(now + django_settings.JOB_STALE_AFTER + SECOND) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished_at is not None
    assert "中断前的进度为 1/2" in job.message
