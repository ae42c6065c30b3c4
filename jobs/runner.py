"""Running a Job: handed to Celery (REDIS_URL set), to a thread of this process (make demo) or
run before returning (tests), by settings.JOB_RUNNER. Handlers register by kind and receive the
job; they report progress with `progress()` and finish by returning a message.

No job is silently lost when its worker dies (killed, out of memory, a restart): taking the job
and every `progress()` set its heartbeat, and `reap_stale()` (celery beat every 5 minutes, or
`manage.py reap_jobs`) fails a running job whose heartbeat is older than settings.JOB_STALE_AFTER,
with a message saying what stands, instead of leaving it 处理中 for ever."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.models import Job

logger = logging.getLogger("sme.jobs")

Handler = Callable[[Job], str]
HANDLERS: dict[str, Handler] = {}
FAILED_MESSAGE = "处理过程中发生错误，请稍后重试；如仍失败，请联系系统管理员。"
# A running job whose worker died. True of every handler: each writes to the database in
# transactions (the bulk import commits a chunk of 100 rows at a time, each row all or nothing), so
# what was committed stays and the transaction open when the worker died was rolled back by the
# database; the result file is saved last. The progress shown is the last one recorded: the work
# saved may run a little past it (a chunk committed just before its progress() was).
INTERRUPTED_MESSAGE = (
    "处理中断（后台处理进程停止），任务未完成{no_file}。{progress}"
    "已完成并保存的部分保持有效，中断时正在处理的部分未生效。请重新提交。"
)
# A queued job that was never taken (nothing done) and cannot be sent again (no task queue).
NEVER_STARTED_MESSAGE = "未能开始处理（后台处理进程停止），没有做任何处理，请重新提交。"


class JobRefused(Exception):
    """A handler's refusal meant for the owner (a region no longer in scope, a bad month): the
    job fails with this message, not with the generic one of an unexpected error."""


class JobInterrupted(Exception):
    """Raised by progress() once the job is no longer running: the reaper took it for dead (no
    progress for JOB_STALE_AFTER) and told its owner what stands. The handler stops there, so
    that it does not go on changing data behind that message."""


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
    now = timezone.now()
    taken = Job.objects.filter(pk=job_pk, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not taken:
        # Celery delivers the task again when the worker that had it died before acknowledging
        # it (acks_late). If the job has shown no sign of life since, that worker is gone: fail
        # the job as the reaper would (running it again could redo half-done work). If it has,
        # its worker is alive and still at it.
        if not _fail_stale_running(Job.objects.filter(pk=job_pk), now):
            # An operator reading the worker's log sees why the task did nothing.
            logger.info("job %s delivered again: already taken or finished, not run again", job_pk)
        return
    job = Job.objects.get(pk=job_pk)
    try:
        message = HANDLERS[job.kind](job)
    except JobRefused as exc:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED, message=str(exc)[:300], finished_at=timezone.now()
        )
        return
    except JobInterrupted:
        logger.warning("job %s (%s) stopped: it had been failed as stale", job.pk, job.kind)
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
    """Record how far the job is, and that it is alive (one UPDATE; the page polls it). Raises
    JobInterrupted if the job is no longer running (failed by the reaper)."""
    job.done = done
    fields: dict[str, object] = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        job.total = total
        fields["total"] = total
    if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields):
        raise JobInterrupted(job.pk)


# --- Jobs whose worker died --------------------------------------------------------------------


def reap_stale(now: dt.datetime | None = None) -> int:
    """Fail every running job without a sign of life for settings.JOB_STALE_AFTER, and deal
    with every queued job unstarted for as long; returns how many jobs it failed or re-sent."""
    now = now or timezone.now()
    return _fail_stale_running(Job.objects.all(), now) + _resend_stale_queued(now)


def interrupted_message(job: Job) -> str:
    """The owner's message for a running job whose worker died: what stands, what does not."""
    return INTERRUPTED_MESSAGE.format(
        no_file="" if job.result_file else "，未生成结果文件",
        progress=f"中断前的进度为 {job.done}/{job.total}；" if job.total else "",
    )[:300]


def _fail_stale_running(jobs: QuerySet[Job], now: dt.datetime) -> int:
    cutoff = now - settings.JOB_STALE_AFTER
    stale = (
        jobs.filter(status=Job.Status.RUNNING)
        .alias(last_seen=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_seen__lt=cutoff)
    )
    failed = 0
    for job in stale:  # a handful at most; each says its own progress
        # Only if the heartbeat is still the one judged stale: a worker that reports progress
        # meanwhile keeps its job.
        changed = Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, heartbeat_at=job.heartbeat_at
        ).update(status=Job.Status.FAILED, message=interrupted_message(job), finished_at=now)
        if changed:
            failed += 1
            logger.warning(
                "job %s (%s, owner %s) failed as stale: no sign of life since %s, done %s/%s",
                job.pk,
                job.kind,
                job.owner_id,
                job.heartbeat_at or job.started_at,
                job.done,
                job.total,
            )
    return failed


def _resend_stale_queued(now: dt.datetime) -> int:
    """A queued job never taken has done nothing, so it is safe to run. Under Celery its task
    was lost (the broker's data flushed or lost) or is still waiting behind a long queue: send it
    again, at most once per stale period; the extra delivery finds the job taken and does nothing.
    Without a task queue (thread, inline) whatever would have run it is gone, and this process
    (manage.py reap_jobs) ends before a thread of its own could finish: fail it."""
    cutoff = now - settings.JOB_STALE_AFTER
    stale = (
        Job.objects.filter(status=Job.Status.QUEUED)
        .alias(last_seen=Coalesce("heartbeat_at", "created_at"))
        .filter(last_seen__lt=cutoff)
    )
    handled = 0
    for job in stale:
        unchanged = Job.objects.filter(
            pk=job.pk, status=Job.Status.QUEUED, heartbeat_at=job.heartbeat_at
        )
        if settings.JOB_RUNNER == "celery":
            if unchanged.update(heartbeat_at=now):
                from jobs.tasks import run_job

                run_job.delay(job.pk)
                handled += 1
                logger.warning(
                    "job %s (%s, owner %s) queued since %s and not started: sent again",
                    job.pk,
                    job.kind,
                    job.owner_id,
                    job.heartbeat_at or job.created_at,
                )
        elif unchanged.update(
            status=Job.Status.FAILED, message=NEVER_STARTED_MESSAGE, finished_at=now
        ):
            handled += 1
            logger.warning(
                "job %s (%s, owner %s) queued since %s and never started: failed",
                job.pk,
                job.kind,
                job.owner_id,
                job.created_at,
            )
    return handled
