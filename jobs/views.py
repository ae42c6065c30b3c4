"""/jobs/: the caller's own background jobs, a progress page that polls itself (htmx) and the
download of the result. A job is its owner's only: anyone else gets 404."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from jobs.models import Job
from lib.access import login_required


def get_own_job(user: object, pk: int) -> Job:
    job = Job.objects.filter(pk=pk, owner=user).first()
    if job is None:
        raise Http404("任务不存在。")
    return job


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(owner=request.user)[:50]
    return render(request, "jobs/list.html", {"jobs": jobs})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_own_job(request.user, pk)
    template = "jobs/_progress.html" if request.htmx else "jobs/detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})


@login_required
def job_result(request: HttpRequest, pk: int) -> FileResponse:
    job = get_own_job(request.user, pk)
    if not job.result_file:
        raise Http404("该任务没有结果文件。")
    return FileResponse(
        job.result_file.open("rb"), as_attachment=True, filename=job.result_name or "result.xlsx"
    )
