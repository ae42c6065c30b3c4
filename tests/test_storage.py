"""Stateless app servers: uploaded workbooks and job results go only through Django's storage API
(STORAGES["default"]), never a local path, so that an S3-compatible object store is one setting
away (STORAGE_BACKEND). With the default storage held in memory, a bulk import and the analysis
report run end to end through the pages, as their users do, and nothing lands under MEDIA_ROOT;
on a store that writes over a name already taken (S3's default), every upload keeps its own file."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import docx
import pytest
import time_machine
from django.core.files.storage import InMemoryStorage, default_storage
from django.urls import reverse
from openpyxl import load_workbook

from jobs.models import Job
from tests.conftest import Personas
from tests.fresh_settings import fresh_settings
from tests.test_analysis_document import build
from tests.test_bulk_import import bulk_template, enterprises, fill_rows, post

pytestmark = pytest.mark.usefixtures("reference_data")

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 2026-10 is open for reporting


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """The default storage in memory; MEDIA_ROOT an empty directory that must stay empty."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    # The lazy default_storage follows the setting (Django's setting_changed handler).
    assert isinstance(default_storage, InMemoryStorage)
    return root


class OverwritingMemoryStorage(InMemoryStorage):
    """Like django-storages' S3Storage by default (AWS_S3_FILE_OVERWRITE): a name already taken
    is written over, not given a suffix."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name


def nothing_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


def download(client: Any, job: Job) -> bytes:
    response = client.get(reverse("jobs:result", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def default_backend(**env: str) -> str:
    """STORAGES["default"] of sme.settings imported in a fresh interpreter with `env`."""
    return fresh_settings("STORAGES", env=env, without=("STORAGE_BACKEND",))["STORAGES"]["default"][
        "BACKEND"
    ]


def test_the_default_storage_is_one_setting() -> None:
    assert default_backend() == "django.core.files.storage.FileSystemStorage"
    s3 = "storages.backends.s3.S3Storage"  # django-storages, not installed: only the name here
    assert default_backend(STORAGE_BACKEND=s3) == s3


def test_a_bulk_import_uploads_and_returns_its_result_through_the_storage_only(
    personas: Personas, media_root: Path
) -> None:
    enterprises(3)
    client = personas.client_for(personas.zhejiang_admin)
    with time_machine.travel(NOW, tick=False):
        content = fill_rows(bulk_template(client))
        response = post(client, content)
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.DONE, job.message
    assert job.summary == {"新建": 4, "更新": 0, "拒绝": 0}
    # Both files are in the in-memory storage, and the upload is the very file posted.
    for field in (job.input_file, job.result_file):
        assert field.storage is default_storage and default_storage.exists(field.name)
    with job.input_file.open("rb") as kept:
        assert kept.read() == content
    result = load_workbook(io.BytesIO(download(client, job)))
    assert result.active["A1"].value == "2026-10 月报批量导入结果"
    assert nothing_under(media_root) == []


def test_the_analysis_report_is_written_and_downloaded_through_the_storage_only(
    personas: Personas, media_root: Path
) -> None:
    build()
    client = personas.client_for(personas.zhejiang_admin)
    response = client.post(reverse("analytics:report_docx"), {"period": "2026-10"})
    job = Job.objects.get(kind="analysis_report")
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{job.pk}/")
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert default_storage.exists(job.result_file.name)
    word = docx.Document(io.BytesIO(download(client, job)))
    assert word.paragraphs[0].text.startswith("浙江省中小企业生产经营运行监测分析报告")
    assert nothing_under(media_root) == []


def test_two_uploads_of_one_administrator_keep_their_own_files_on_an_overwriting_store(
    personas: Personas, media_root: Path, settings: Any
) -> None:
    """The bulk import names every upload bulk-<user>.xlsx: on an object store that overwrites,
    the second upload would replace the first while its job still waits in the queue."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.test_storage.OverwritingMemoryStorage"},
    }
    settings.JOB_RUNNER = "thread"  # both stay queued: their threads start at a commit never made
    enterprises(2)
    client = personas.client_for(personas.zhejiang_admin)
    with time_machine.travel(NOW, tick=False):
        blank = bulk_template(client)
        filled = fill_rows(blank)
        post(client, filled)
        post(client, blank, dry_run="1")
    first, second = Job.objects.order_by("pk")
    assert first.input_file.name != second.input_file.name
    for job, content in ((first, filled), (second, blank)):
        with job.input_file.open("rb") as kept:
            assert kept.read() == content
    assert nothing_under(media_root) == []
