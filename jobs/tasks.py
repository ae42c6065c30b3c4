"""The Celery tasks of background jobs: running one, and (celery beat, sme.settings
CELERY_BEAT_SCHEDULE) failing those whose worker died."""

from __future__ import annotations

from celery import shared_task

from jobs.runner import reap_stale, run
from ops.logs import bind, unbind


@shared_task(name="jobs.tasks.run_job", acks_late=True)
def run_job(job_pk: int) -> None:
    # The job's log lines carry "job-<id>" where a request's carry its request id (ops.logs);
    # undone after, since a worker process runs one task after another in the same thread.
    token = bind(f"job-{job_pk}")
    try:
        run(job_pk)
    finally:
        unbind(token)


@shared_task(name="jobs.tasks.reap_stale_jobs")
def reap_stale_jobs() -> int:
    """Running jobs without a sign of life for JOB_STALE_AFTER: failed with a message; queued
    ones unstarted for as long: sent to the queue again (jobs.runner.reap_stale)."""
    return reap_stale()
