from __future__ import annotations

from celery import shared_task

from jobs.runner import run


@shared_task(name="jobs.tasks.run_job", acks_late=True)
def run_job(job_pk: int) -> None:
    run(job_pk)
