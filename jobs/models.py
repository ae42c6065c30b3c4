"""A piece of work that runs in the background (a bulk import, a large export): who asked for it,
how far it is, and what came out. Its files live in the default storage (STORAGES["default"]: a
directory under MEDIA_ROOT, or an S3-compatible bucket) and are served only to the owner, through
jobs.views, never by a URL of the storage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def input_path(job: Job, filename: str) -> str:
    """Where an upload is kept: a name of its own, whatever the caller calls it (the bulk import
    says bulk-<user>.xlsx for every upload). A file system storage would add a suffix to a name
    already taken, but an object store (django-storages' S3Storage) overwrites by default: a
    second upload of the same name would replace the file of a job still waiting in the queue."""
    return f"jobs/in/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename}"


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("类型", max_length=40)
    title = models.CharField("名称", max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="jobs",
        verbose_name="发起人",
    )
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.QUEUED)
    params = models.JSONField("参数", default=dict, blank=True)
    total = models.PositiveIntegerField("总数", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    message = models.CharField("结果说明", max_length=300, blank=True)
    summary = models.JSONField("结果统计", default=dict, blank=True)
    # What went wrong, row by row (the first 500; the result file has them all).
    problems = models.JSONField("问题", default=list, blank=True)
    input_file = models.FileField("上传文件", upload_to=input_path, blank=True)
    input_name = models.CharField("上传文件名", max_length=200, blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/out/%Y/%m/", blank=True)
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # The last sign of life: set when a worker takes the job and at each progress() (one UPDATE),
    # and when the reaper sends a queued job to the queue again. A running job whose heartbeat is
    # older than JOB_STALE_AFTER has lost its worker (killed, out of memory, machine restarted):
    # jobs.runner.reap_stale fails it rather than leave it 处理中 for ever.
    heartbeat_at = models.DateTimeField("最近活动时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            # The reaper's query every few minutes: the unfinished jobs only, a handful among
            # every job ever run.
            models.Index(
                fields=["status"],
                name="job_unfinished",
                condition=Q(status__in=["queued", "running"]),
            ),
        ]
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"

    def __str__(self) -> str:
        return f"{self.title}（{self.get_status_display()}）"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.done * 100 // self.total)
