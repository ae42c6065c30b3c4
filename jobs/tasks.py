"""The Celery tasks of background jobs: running one, and (celery beat, sme.settings
CELERY_BEAT_SCHEDULE) failing those whose worker died."""

from __future__ import annotations

from celery import shared_task

from jobs.runner import reap_stale, run


@shared_task(name="jobs.tasks.run_job", acks_late=True)
def run_job(job_pk: int) -> None:
    run(job_pk)


@shared_task(name="jobs.tasks.reap_stale_jobs")
def reap_stale_jobs() -> int:
    """Running jobs without a sign of life for JOB_STALE_AFTER: failed with a message; queued
    ones unstarted for as long: sent to the queue again (jobs.runner.reap_stale)."""
    return reap_stale()
