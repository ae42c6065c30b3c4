"""gunicorn settings for production: `gunicorn sme.wsgi -c sme/gunicorn.conf.py` (make serve-prod).

gunicorn reads this file before Django starts, so the environment is read here with os.environ;
.env.example lists the variables. A malformed number is an error, never a default."""

from __future__ import annotations

import multiprocessing
import os


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


bind = os.environ.get("GUNICORN_BIND", "").strip() or "127.0.0.1:8000"
# The usual sizing for synchronous workers: while one worker waits on PostgreSQL or Redis another
# uses the core, so about two per core, plus one.
workers = _int_env("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _int_env("GUNICORN_THREADS", 1)
# The slowest requests (an Excel export, a template download) finish well within a minute; a
# bulk import or a Word report is a background job, never a request.
timeout = 60
graceful_timeout = 30
# Restart a worker after about 1000 requests (jittered, so that they do not all restart at once):
# bounds the memory a long-lived worker can accumulate.
max_requests = 1000
max_requests_jitter = 100

# No management socket ($HOME/.gunicorn/gunicorn.ctl): unused here, and two servers on one machine
# would share its path.
control_socket_disable = True

# Access log on standard output, with the time taken (%(M)s: milliseconds) and the request id
# (X-Request-ID, ops.middleware) that the JSON log lines of the same request carry; errors on
# stderr.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
