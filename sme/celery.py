"""The task queue: Celery with Redis (REDIS_URL) in production. Workers and the scheduler run as

    celery -A sme worker --loglevel=INFO
    celery -A sme beat --loglevel=INFO

Without REDIS_URL nothing needs to run: jobs.runner runs the work in-process (make demo)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sme.settings")

app = Celery("sme")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
