"""Reliability (issue 8): the database server restarts while the application is under load. During
the outage every request either succeeds or gets the clean 503 (the page with its message, the
API's JSON), none a 500, none hangs or has its connection reset, and /healthz says 503; once the
server is back every request succeeds again within seconds, served by the same gunicorn workers
(no restart of the application); and every save that was acknowledged is in the database, once.

The shared PostgreSQL server of the tests (and the replica streaming from it) must not be
restarted, so the test makes a throwaway cluster of its own: initdb into a fresh directory, on a
free port, trust authentication, fsync off (nothing here is about the disk: a fast shutdown
writes everything out). As root (CI) the server runs as the postgres user, as bin/pg-replica
does. It migrates a database there, adds a few enterprise users with a month begun, and runs the
application as production does: gunicorn with sme/gunicorn.conf.py, 2 workers, persistent
connections (DATABASE_CONN_MAX_AGE=60) with health checks, `connect_timeout=2`.

Load: one thread per enterprise user (logged in through the login page) opens its step 1, saves
it with a value of its own (CSRF token and version from the page), reads its month through the
API and probes /healthz, a few times a second — paced so that no worker reaches gunicorn's
max_requests and restarts for that reason. Meanwhile the server is stopped (`pg_ctl stop -m fast`:
open connections are terminated) and started again once the outage has been seen by pages, API
and health check alike.

PostgreSQL only, like tests/test_process_killed.py: skipped on SQLite, or without the PostgreSQL
binaries or the postgres user, except where REQUIRE_FAULT_TESTS=true (CI's PostgreSQL run), where
that is a failure, so that the proof cannot silently vanish."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.db import connection

from loadtest.clerk import Forms
from ops.outage import MESSAGE, RETRY_AFTER_SECONDS
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "sme_h1_restart"
CLERKS = 3
GUNICORN_CONF = "sme/gunicorn.conf.py"  # production's, as bin/serve-prod runs it
# Between two rounds of a clerk (4 requests): some 25 requests a second in all, a few hundred in
# a run, well below the 1000 after which gunicorn replaces a worker (max_requests).
PACE_SECONDS = 0.25
REQUEST_TIMEOUT = (5, 20)  # connect, read: a request slower than this counts as hung
STARTUP_SECONDS = 90
OUTAGE_SECONDS = 2.5  # the server stays down at least this long, the load still running
OUTAGE_LIMIT_SECONDS = 30  # to see the outage from pages, API and health check
RECOVERY_LIMIT_SECONDS = 10  # "within a few seconds": from the server accepting connections
STEADY_SECONDS = 3  # all well for this long after the last failure: recovered

# A few enterprises with their month begun (step 1 saved), as the application's own services
# make them; prints the month and the accounts.
SEED = """
import json
import sys
import django
django.setup()
from reports.basic_info import BasicInfoForm
from reports.periods import current_report_month
from reports.services import save_basic_info
from tests.conftest import make_enterprise_user, valid_uscc
from tests.test_report_services import basic

period = current_report_month()
users = []
for i in range(int(sys.argv[1])):
    user = make_enterprise_user(
        f"3302{9900 + i}", f"宁波重启测试企业{i}", valid_uscc(f"91330211MA2AFR{i:03d}"), "330211"
    )
    save_basic_info(user, period, BasicInfoForm.from_json(basic(user.enterprise)))
    users.append({"username": user.username, "enterprise_id": user.enterprise_id})
print(json.dumps({"period": str(period), "users": users}))
"""


def unavailable(problem: str) -> None:
    if os.environ.get("REQUIRE_FAULT_TESTS") == "true":
        pytest.fail(f"REQUIRE_FAULT_TESTS=true but {problem}", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(autouse=True)
def on_postgres() -> None:
    if connection.vendor != "postgresql":
        unavailable(
            "a PostgreSQL server's restart is tested in the suite's PostgreSQL run "
            "(DATABASE_URL=postgres://…), as CI does."
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def pg(as_owner: list[str], binary: str, *args: str) -> list[str]:
    """A PostgreSQL program's command line, run as the cluster's owner."""
    return [*as_owner, str(PG_BIN / binary), *args]


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds}s: {what}")
        time.sleep(0.05)


@dataclass
class Cluster:
    """A PostgreSQL server of this test's own, which it may stop and start."""

    directory: Path
    port: int
    as_owner: list[str]  # the command prefix that runs the binaries as the cluster's owner

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def pg_ctl(self, *args: str) -> None:
        log = self.directory / "server.log"
        run(pg(self.as_owner, "pg_ctl", "-D", str(self.directory), "-l", str(log), "-w", *args))

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self) -> None:
        # Fast: open connections are terminated ("terminating connection due to administrator
        # command"), as in a restart for an upgrade or a fail-over.
        self.pg_ctl("-m", "fast", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    for binary in ("initdb", "pg_ctl", "createdb"):
        if not (PG_BIN / binary).is_file():
            unavailable(f"no PostgreSQL binaries in {PG_BIN} (initdb, pg_ctl; PG_BIN to change)")
    as_owner: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("running as root without a postgres user to run the server as")
        if shutil.which("runuser") is None:
            unavailable("running as root without runuser to run the server as postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    # Not under pytest's tmp_path: its parents are root's own (0700), closed to postgres.
    directory = Path(tempfile.mkdtemp(prefix="sme-pg-restart-"))
    if owner is not None:
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    server = Cluster(directory, free_port(), as_owner)
    started = False
    try:
        initdb = "-U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync".split()
        run(pg(as_owner, "initdb", "-D", str(directory), *initdb))
        with (directory / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {server.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{directory}'\n"
                "fsync = off\nfull_page_writes = off\nmax_connections = 40\n"
            )
        started = True  # or half-started: stopped all the same at the end
        server.start()
        createdb = f"-h 127.0.0.1 -p {server.port} -U postgres {DATABASE}".split()
        run(pg([], "createdb", *createdb))
        yield server
    finally:
        if started:
            subprocess.run(
                pg(as_owner, "pg_ctl", "-D", str(directory), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)


def app_env(cluster: Cluster) -> dict[str, str]:
    """Production's settings (README "Production"), on the throwaway cluster. No Redis: the
    sessions are then read from the database on every request, the harder case; the cache is
    per process. No replica: the shared one follows the shared server, not this one."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sme.settings",
        "DATABASE_URL": f"{cluster.url}?connect_timeout=2",
        "DATABASE_REPLICA_URL": "",
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": "",
        "SECRET_KEY": "test-only-secret-key-for-the-restart-test",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_FORMAT": "json",
        "JOB_RUNNER": "thread",
        # The plain static storage: production's manifest needs collectstatic, which has nothing
        # to do with a database restart and would only slow the test down.
        "STATIC_MANIFEST": "false",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "1",
    }


@dataclass
class Seeded:
    period: str
    users: list[dict[str, Any]]


@pytest.fixture
def seeded(cluster: Cluster) -> Seeded:
    env = app_env(cluster)
    manage = [sys.executable, "manage.py"]
    run([*manage, "migrate", "--noinput"], env=env)
    run([*manage, "load_reference_data"], env=env)
    out = json.loads(run([sys.executable, "-c", SEED, str(CLERKS)], env=env).splitlines()[-1])
    return Seeded(out["period"], out["users"])


@dataclass
class App:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def booted_workers(self) -> set[int]:
        return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.errors())}

    def errors(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def app(cluster: Cluster, seeded: Seeded, tmp_path: Path) -> Iterator[App]:
    port = free_port()
    env = {**app_env(cluster), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = tmp_path / "gunicorn.log"
    # A file, not a pipe (a full pipe would block the server), appended to: master and workers
    # write whole lines to it at once.
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "sme.wsgi", "-c", GUNICORN_CONF],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = App(f"http://127.0.0.1:{port}", process, log)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gunicorn ended: {server.errors()[-3000:]}")
            try:
                probe = local_session().get(f"{server.base}/healthz", timeout=2)
                return probe.status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, STARTUP_SECONDS, "gunicorn answering /healthz")
        wait_until(lambda: len(server.booted_workers()) == 2, 30, "both workers booted")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- The load -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # page, save, api, healthz
    started: float
    ended: float
    verdict: str  # ok, outage, or what was wrong


@dataclass
class Clerk:
    """One logged-in enterprise user of the load, and what each request answered."""

    base: str
    username: str
    period: str
    outcomes: list[Outcome] = field(default_factory=list)
    saved: list[int] = field(default_factory=list)  # rounds whose save was acknowledged
    unsure: list[int] = field(default_factory=list)  # rounds whose save was answered 503
    http: requests.Session = field(default_factory=lambda: local_session())

    @property
    def path(self) -> str:
        return f"/reports/{self.period}/basic/"

    def login(self) -> None:
        page = self.http.get(f"{self.base}/accounts/login/", timeout=REQUEST_TIMEOUT)
        form = Forms(page.text).form_with("username")
        assert form is not None, page.text[:500]
        response = self.http.post(
            f"{self.base}/accounts/login/",
            data=form.data(username=self.username, password=PASSWORD),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        assert response.status_code == 302, response.text[:500]

    def request(
        self, kind: str, method: str, url: str, judge: Callable[[requests.Response], str], **kw: Any
    ) -> tuple[str, requests.Response | None]:
        started = time.monotonic()
        response: requests.Response | None = None
        try:
            response = self.http.request(
                method, url, allow_redirects=False, timeout=REQUEST_TIMEOUT, **kw
            )
            verdict = judge(response)
        except requests.RequestException as exc:  # hung, reset, refused: never acceptable
            verdict = f"{type(exc).__name__}: {exc}"
        self.outcomes.append(Outcome(kind, started, time.monotonic(), verdict))
        return verdict, response

    def round(self, number: int) -> None:
        page = f"{self.base}{self.path}"
        verdict, response = self.request("page", "GET", page, page_verdict(200))
        if verdict == "ok" and response is not None:
            form = Forms(response.text).form_with("main_business")
            if form is None:
                self.outcomes[-1].verdict = "step 1 without its form"
            else:
                verdict, _ = self.request(
                    "save",
                    "POST",
                    page,
                    saved_verdict(self.path),
                    data=form.data(main_business=main_business(number), action="save"),
                )
                if verdict == "ok":
                    self.saved.append(number)
                elif verdict == "outage":
                    self.unsure.append(number)
        api = f"{self.base}/api/v1/reports/{self.period}"
        self.request("api", "GET", api, api_verdict)
        self.request("healthz", "GET", f"{self.base}/healthz", healthz_verdict)

    def work(self, stop: threading.Event) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            self.round(number)
            stop.wait(PACE_SECONDS)


def local_session() -> requests.Session:
    """A client that talks to 127.0.0.1 directly, whatever proxy the environment names."""
    session = requests.Session()
    session.trust_env = False
    return session


def main_business(number: int) -> str:
    """Step 1's 主营业务 as saved in round `number`: each save of a clerk writes its own value."""
    return f"机械零部件制造（第{number}轮）"


def outage_headers_ok(response: requests.Response) -> bool:
    return response.headers.get("Retry-After") == str(RETRY_AFTER_SECONDS)


def page_verdict(expected: int) -> Callable[[requests.Response], str]:
    def judge(response: requests.Response) -> str:
        if response.status_code == expected:
            return "ok"
        if response.status_code == 503 and outage_headers_ok(response):
            if MESSAGE in response.text:
                return "outage"
        return f"page {response.status_code}: {response.text[:200]!r}"

    return judge


def saved_verdict(path: str) -> Callable[[requests.Response], str]:
    """The save is acknowledged by the redirect back to the step (保存 stays on it)."""

    def judge(response: requests.Response) -> str:
        if response.status_code == 302 and response.headers.get("Location") == path:
            return "ok"
        if response.status_code == 503:
            return page_verdict(302)(response)
        return f"save {response.status_code}: {response.text[:200]!r}"

    return judge


def api_verdict(response: requests.Response) -> str:
    if response.status_code == 200 and "version" in response.json():
        return "ok"
    if response.status_code == 503 and outage_headers_ok(response):
        if response.json() == {"detail": MESSAGE}:
            return "outage"
    return f"api {response.status_code}: {response.text[:200]!r}"


def healthz_verdict(response: requests.Response) -> str:
    if response.status_code == 200:
        return "ok"
    if response.status_code == 503 and response.json()["checks"]["database"] != "ok":
        return "outage"
    return f"healthz {response.status_code}: {response.text[:200]!r}"


def seen(clerks: list[Clerk], kind: str, verdict: str, since: float = 0.0) -> int:
    return sum(
        1
        for clerk in clerks
        for o in list(clerk.outcomes)
        if o.kind == kind and o.verdict == verdict and o.started >= since
    )


def last_failure(clerks: list[Clerk]) -> float:
    return max(
        (o.ended for clerk in clerks for o in list(clerk.outcomes) if o.verdict != "ok"),
        default=0.0,
    )


def stored(cluster: Cluster, enterprise_id: int, period: str) -> tuple[int, str]:
    with psycopg.connect(cluster.url, connect_timeout=5) as db:
        row = db.execute(
            "SELECT version, basic_info->>'main_business' FROM reports_report"
            " WHERE enterprise_id = %s AND period = %s",
            [enterprise_id, period],
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


# --- The test -------------------------------------------------------------------------------------


def test_a_database_restart_under_load_fails_cleanly_and_recovers_without_restarting_the_app(
    cluster: Cluster, seeded: Seeded, app: App
) -> None:
    began = time.monotonic()
    workers = app.booted_workers()
    before = {
        u["enterprise_id"]: stored(cluster, u["enterprise_id"], seeded.period) for u in seeded.users
    }
    clerks = [Clerk(app.base, user["username"], seeded.period) for user in seeded.users]
    for clerk in clerks:
        clerk.login()
    stop = threading.Event()
    threads = [threading.Thread(target=c.work, args=(stop,), daemon=True) for c in clerks]
    for thread in threads:
        thread.start()
    try:
        # Warm: every clerk has saved; the workers hold connections the restart will break.
        wait_until(lambda: all(len(c.saved) >= 2 for c in clerks), 60, "saves before the outage")

        stopped = time.monotonic()
        cluster.stop()
        wait_until(
            lambda: (
                time.monotonic() - stopped >= OUTAGE_SECONDS
                and all(
                    seen(clerks, kind, "outage", stopped) >= 1
                    for kind in ("page", "api", "healthz")
                )
            ),
            OUTAGE_LIMIT_SECONDS,
            "the outage seen by pages, the API and /healthz",
        )
        cluster.start()
        back = time.monotonic()

        def recovered() -> bool:
            now = time.monotonic()
            return now - max(last_failure(clerks), back) >= STEADY_SECONDS and all(
                seen([c], "save", "ok", back) >= 2 for c in clerks
            )

        wait_until(recovered, RECOVERY_LIMIT_SECONDS + STEADY_SECONDS + 20, "all well again")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    outcomes = [o for clerk in clerks for o in clerk.outcomes]
    # (a) Nothing but successes and the clean 503: no 500, no other status, no hung request, no
    # reset connection. And the outage was real.
    wrong = sorted({o.verdict for o in outcomes} - {"ok", "outage"})
    assert wrong == [], wrong[:10]
    assert seen(clerks, "page", "outage") and seen(clerks, "api", "outage")
    assert seen(clerks, "healthz", "outage")
    assert max(o.ended - o.started for o in outcomes) < REQUEST_TIMEOUT[1]
    # (b) Back within seconds of the server, with the same worker processes: no worker was
    # booted after the first two, both still run under the same master.
    assert last_failure(clerks) - back < RECOVERY_LIMIT_SECONDS
    assert app.booted_workers() == workers
    assert app.process.poll() is None
    for pid in workers:
        os.kill(pid, 0)  # still there
    errors = app.errors()
    assert "WORKER TIMEOUT" not in errors and "Autorestarting" not in errors
    # Each clean 503 logged once, at error level, by ops.outage; nothing else logged as an error
    # but the health check's own 503s.
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    bad = [
        line
        for line in lines
        if line["level"] in ("ERROR", "CRITICAL")
        and line["logger"] != "sme.ops"
        and line["message"] != "Service Unavailable: /healthz"
    ]
    assert bad == []
    outage_lines = [line for line in lines if line["logger"] == "sme.ops"]
    assert all(line["level"] == "ERROR" and line["request_id"] != "-" for line in outage_lines)
    assert len(outage_lines) == sum(o.verdict == "outage" and o.kind != "healthz" for o in outcomes)
    # (c) Every acknowledged save is stored, once: each save moves the version by one; a save
    # answered with the 503 may or may not have been committed (the message says so), never twice.
    for user, clerk in zip(seeded.users, clerks, strict=True):
        version_before, _ = before[user["enterprise_id"]]
        version, business = stored(cluster, user["enterprise_id"], seeded.period)
        acknowledged, unsure = len(clerk.saved), len(clerk.unsure)
        assert version_before + acknowledged <= version <= version_before + acknowledged + unsure
        # What step 1 holds is the last acknowledged save, or a later one answered with the 503.
        later = [main_business(n) for n in clerk.unsure if n > clerk.saved[-1]]
        assert business in [main_business(clerk.saved[-1]), *later]
    print(
        f"restart test: {len(outcomes)} requests, "
        f"{sum(o.verdict == 'outage' for o in outcomes)} clean 503s, "
        f"recovered {max(0.0, last_failure(clerks) - back):.1f}s after the server was back, "
        f"{time.monotonic() - began:.1f}s under load"
    )
