"""Running a Job: handed to Celery (REDIS_URL set), to a thread of this process (make demo) or
run before returning (tests), by settings.JOB_RUNNER. Handlers register by kind and receive the
job; they report progress with `progress()` and finish by returning a message."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from jobs.models import Job

logger = logging.getLogger("sme.jobs")

Handler = Callable[[Job], str]
HANDLERS: dict[str, Handler] = {}
FAILED_MESSAGE = "处理过程中发生错误，请稍后重试；如仍失败，请联系系统管理员。"


class JobRefused(Exception):
    """A handler's refusal meant for the owner (a region no longer in scope, a bad month): the
    job fails with this message, not with the generic one of an unexpected error."""


def register(kind: str) -> Callable[[Handler], Handler]:
    def decorator(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return decorator


def enqueue(job: Job) -> None:
    """Start the job: inline, now; otherwise once the transaction that created it (if any) has
    committed, so that the worker finds the row."""
    runner = settings.JOB_RUNNER
    if runner == "inline":
        run(job.pk)
    elif runner == "thread":
        transaction.on_commit(
            lambda: threading.Thread(target=_run_in_thread, args=(job.pk,), daemon=True).start()
        )
    else:
        from jobs.tasks import run_job

        transaction.on_commit(lambda: run_job.delay(job.pk))


def _run_in_thread(job_pk: int) -> None:
    try:
        run(job_pk)
    finally:
        close_old_connections()


def run(job_pk: int) -> None:
    """Run a queued job once: a second worker receiving the same job finds it taken."""
    taken = Job.objects.filter(pk=job_pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    if not taken:
        return
    job = Job.objects.get(pk=job_pk)
    try:
        message = HANDLERS[job.kind](job)
    except JobRefused as exc:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, message=str(exc)[:300], finished_at=timezone.now()
        )
        return
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, message=FAILED_MESSAGE, finished_at=timezone.now()
        )
        return
    job.status = Job.Status.DONE
    job.message = message[:300]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Record how far the job is (one UPDATE; the page polls it)."""
    job.done = done
    fields = {"done": done}
    if total is not None:
        job.total = total
        fields["total"] = total
    Job.objects.filter(pk=job.pk).update(**fields)
