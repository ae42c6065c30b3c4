"""A real Celery worker for the fault tests: Celery's own `worker` command on the platform's app
(`celery -A sme worker ARGS`, through app.worker_main, in this process: with --pool=solo the task
runs here, so this process's pid is the worker's), with at most two test-only adjustments made
before it starts, both read from the environment:

- TEST_CLOCK_OFFSET (seconds, may be negative): the worker's clock runs that far from the real
  one, ticking (time_machine, as tests/test_process_killed.py moves its children's clock). The
  test's own clock is moved by the same offset, so that the report month it imports is open
  whatever day the suite runs on, and the heartbeats the worker writes compare with the test's
  `now`; two workers started at different moments keep one clock between them, which the broker's
  visibility timeout (below) depends on.
- TEST_VISIBILITY_TIMEOUT (seconds): the Redis transport's visibility timeout and how often the
  worker looks for messages past it (broker_transport_options; sme.settings has no variable for
  them, and production keeps kombu's defaults: an hour, looked at about every 100 s). A task
  delivered to a worker that died, unacknowledged for longer than this, is then delivered again
  by this worker within about a second of its start.

    python -m tests.celery_worker worker --loglevel=INFO --pool=solo --concurrency=1
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> None:
    offset = os.environ.get("TEST_CLOCK_OFFSET")
    if offset:
        import time_machine

        time_machine.travel(time.time() + float(offset), tick=True).start()

    from sme.celery import app

    visibility = os.environ.get("TEST_VISIBILITY_TIMEOUT")
    if visibility:
        app.conf.broker_transport_options = {
            "visibility_timeout": float(visibility),
            # kombu sweeps every `interval` seconds but scans only every `throttle`-th sweep.
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        }
    app.worker_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
