"""Background jobs: run once, failures kept with a message for the owner, the Celery path, and
the progress partial the page polls."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.models import Job
from jobs.runner import FAILED_MESSAGE, HANDLERS, enqueue, progress, run
from tests.conftest import Personas


@pytest.fixture
def handlers() -> Any:
    saved = dict(HANDLERS)
    yield HANDLERS
    HANDLERS.clear()
    HANDLERS.update(saved)


def make_job(personas: Personas, kind: str) -> Job:
    return Job.objects.create(kind=kind, title="测试任务", owner=personas.zhejiang_admin)


def test_a_job_runs_once_and_keeps_its_message(personas: Personas, handlers: Any) -> None:
    calls = []

    def count(job: Job) -> str:
        calls.append(job.pk)
        progress(job, 5, 10)
        return "完成 5 条"

    handlers["count"] = count
    job = make_job(personas, "count")
    run(job.pk)
    run(job.pk)  # a second delivery of the same job finds it taken
    job.refresh_from_db()
    assert calls == [job.pk]
    assert (job.status, job.message, job.done, job.total) == ("done", "完成 5 条", 5, 10)
    assert job.percent == 100 and job.finished_at is not None


def test_a_failing_job_says_so_without_the_details(personas: Personas, handlers: Any) -> None:
    def broken(job: Job) -> str:
        raise RuntimeError("secret internals")

    handlers["broken"] = broken
    job = make_job(personas, "broken")
    run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.message) == ("failed", FAILED_MESSAGE)
    page = personas.client_for(personas.zhejiang_admin).get(f"/jobs/{job.pk}/")
    assert FAILED_MESSAGE in page.content.decode()
    assert "secret" not in page.content.decode()


def test_with_a_broker_the_job_goes_to_celery(
    personas: Personas, handlers: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from sme.celery import app

    handlers["count"] = lambda job: "经由 Celery"
    settings.JOB_RUNNER = "celery"
    app.conf.task_always_eager = True  # the worker's code, run here
    try:
        job = make_job(personas, "count")
        with django_capture_on_commit_callbacks(execute=True):
            enqueue(job)
    finally:
        app.conf.task_always_eager = False
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", "经由 Celery")


def test_the_progress_partial_polls_until_the_job_is_finished(personas: Personas) -> None:
    job = make_job(personas, "count")
    client = personas.client_for(personas.zhejiang_admin)
    partial = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in partial and "<html" not in partial
    Job.objects.filter(pk=job.pk).update(status="done", message="好了")
    partial = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in partial and "好了" in partial
    assert personas.client_for(personas.guangdong_admin).get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get("/jobs/").status_code == 200
