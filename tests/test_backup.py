"""Backup and restore (docs/backup.md): bin/backup-db dumps the test database, bin/restore-db
restores the dump into a database of its own, and every report, report event, audit entry and
indicator value is found there again, row for row; the uploaded files are in the tar beside the
dump. A damaged dump and a restore over a database with tables are refused.

PostgreSQL only (pg_dump cannot read SQLite): skipped on SQLite, a failure instead with
REQUIRE_BACKUP_TEST=true (CI). The data is committed (a transactional test) because pg_dump is
another process and sees only committed rows. The restore goes into a new `sme_backup_<random>`
database, dropped at the end, so the test database stays as it was for the tests after this one.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import time_machine
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from audit.models import AuditEntry
from notices.models import Notice
from reports.basic_info import BasicInfoForm
from reports.models import IndicatorValue, Report, ReportEvent
from reports.services import save_basic_info, save_indicators, submit
from reports.workflow import approve_local, approve_report, return_report
from tests.conftest import Personas
from tests.test_report_services import OCTOBER, basic, flow, indicators

ROOT = Path(__file__).resolve().parent.parent
BACKUP_DB = ROOT / "bin" / "backup-db"
RESTORE_DB = ROOT / "bin" / "restore-db"
NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: the month is 2026-10
REASON = "营业收入与上月差异过大，请核实后重报。"
TIMEOUT = 300  # seconds for one script run; the test database dumps in about one


@pytest.fixture
def postgres() -> None:
    """Skips unless the tests run on PostgreSQL with its client tools; with
    REQUIRE_BACKUP_TEST=true (CI) that is a failure, so that the proof cannot silently vanish."""
    problem = None
    if connection.vendor != "postgresql":
        problem = (
            "backup and restore are pg_dump/pg_restore of PostgreSQL; the tests run on "
            f"{connection.vendor} (set DATABASE_URL=postgres://… to run them)"
        )
    else:
        missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if not shutil.which(tool)]
        if missing:
            problem = f"the PostgreSQL client tools are not installed: {', '.join(missing)}"
    if problem:
        if os.environ.get("REQUIRE_BACKUP_TEST") == "true":
            pytest.fail(f"REQUIRE_BACKUP_TEST=true but {problem}", pytrace=False)
        pytest.skip(problem)


# --- Reaching the server outside Django ----------------------------------------------------------


def database_url(name: str) -> str:
    """DATABASE_URL for the scripts: the test database's server and role, database `name`."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    if auth:
        auth += "@"
    host = quote(s["HOST"] or "", safe="")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"


def connect(name: str) -> psycopg.Connection[Any]:
    """A plain psycopg connection, not Django's: the source and the restored copy are read by the
    same code, so that their rows compare value for value."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        autocommit=True,
    )


def database_exists(name: str) -> bool:
    with connect("postgres") as conn:
        row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None and row[0] == 1


def drop_database(name: str) -> None:
    assert name.startswith("sme_backup_")  # never anything this test did not create
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch_databases() -> Iterator[list[str]]:
    """Names of the databases the test restores into; each is dropped at the end, whatever
    happened."""
    names: list[str] = []
    try:
        yield names
    finally:
        for name in names:
            drop_database(name)


def new_database_name(scratch: list[str]) -> str:
    name = f"sme_backup_{secrets.token_hex(6)}"
    scratch.append(name)
    return name


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("STORAGE_BACKEND", None)  # the local MEDIA_ROOT of the test
    return subprocess.run(
        [str(script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


# --- What must come back -------------------------------------------------------------------------


def snapshot(name: str) -> dict[str, Any]:
    """Every report (all columns: status, version, …), report event, audit entry and indicator
    value of database `name`, the number of values of each report, and the row count of every
    table of the platform."""
    tables = {
        "reports": Report._meta.db_table,
        "events": ReportEvent._meta.db_table,
        "audit": AuditEntry._meta.db_table,
        "values": IndicatorValue._meta.db_table,
    }
    with connect(name) as conn:
        found: dict[str, Any] = {
            key: conn.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()
            for key, table in tables.items()
        }
        found["values_per_report"] = conn.execute(
            f'SELECT report_id, count(*) FROM "{tables["values"]}" GROUP BY report_id ORDER BY 1'
        ).fetchall()
        table_names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        found["row_counts"] = {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for table in table_names
        }
    return found


def submit_october(user: Any, region: str) -> Report:
    """The enterprise's October report, filled and submitted through the step services."""
    save_basic_info(user, OCTOBER, BasicInfoForm.from_json(basic(user.enterprise, region=region)))
    save_indicators(user, OCTOBER, indicators())
    report = Report.objects.get(enterprise_id=user.enterprise_id, period=str(OCTOBER))
    report, _ = submit(user, report)
    return report


def build_data(personas: Personas) -> None:
    """A report submitted and approved at both levels; another submitted, returned and edited
    again; a notice published and changed by an administrator (the audit trail); a file in
    MEDIA_ROOT. All through the services and pages, committed."""
    with time_machine.travel(NOW, tick=False):
        ningbo = submit_october(personas.ningbo_enterprise, "330211")
        approve_local(ningbo, personas.ningbo_admin)
        approve_report(ningbo, personas.senior_admin)
        guangdong = submit_october(personas.guangdong_enterprise, "440106")
        return_report(guangdong, personas.guangdong_admin, REASON, ["indicators.revenue.ytd"])
        save_indicators(
            personas.guangdong_enterprise,
            OCTOBER,
            indicators(gross_output=flow(1100, 9100, 900, 8500)),
        )
        client = personas.client_for(personas.ningbo_admin)
        form = {"kind": "notice", "title": "填报提醒", "body": "请按时填报。", "audience": "all"}
        form = {**form, "region": "330200"}
        created = client.post("/notices/manage/new/", form, REMOTE_ADDR="10.3.3.3")
        assert created.status_code == 302
        notice = Notice.objects.get()
        changed = client.post(f"/notices/manage/{notice.pk}/edit/", {**form, "title": "十月提醒"})
        assert changed.status_code == 302
    default_storage.save("jobs/in/2026/11/backup-proof.xlsx", ContentFile(b"workbook bytes"))


# --- The tests -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_new_database_holds_everything(
    postgres: None, personas: Personas, scratch_databases: list[str], tmp_path: Path
) -> None:
    build_data(personas)
    source_name = connection.settings_dict["NAME"]
    source = snapshot(source_name)
    statuses = set(Report.objects.values_list("status", flat=True))
    assert statuses == {Report.Status.APPROVED, Report.Status.RETURNED}
    assert len(source["events"]) >= 6 and len(source["audit"]) >= 2
    assert len(source["values_per_report"]) == 2

    # backup-db, with an older dump of the same database and BACKUP_KEEP=1: the old one goes.
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / f"{source_name}-20000101T000000Z"
    for suffix in (".dump", ".dump.sha256", ".media.tar"):
        Path(f"{old}{suffix}").write_text("old")
    (backups / "notes.txt").write_text("not a backup")
    made = run(
        BACKUP_DB,
        DATABASE_URL=database_url(source_name),
        BACKUP_DIR=str(backups),
        BACKUP_KEEP="1",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    assert made.returncode == 0, made.stderr
    dumps = sorted(backups.glob("*.dump"))
    assert len(dumps) == 1 and dumps[0].name != f"{old.name}.dump", made.stdout
    dump = dumps[0]
    assert sorted(p.name for p in backups.iterdir() if not p.name.startswith(".")) == sorted(
        [dump.name, f"{dump.name}.sha256", f"{dump.stem}.media.tar", "notes.txt"]
    )
    assert not list(backups.glob("*.partial"))
    with tarfile.open(backups / f"{dump.stem}.media.tar") as tar:
        assert "./jobs/in/2026/11/backup-proof.xlsx" in tar.getnames()
    assert snapshot(source_name) == source  # the dump changed nothing

    # The "wipe": a restore into a database that does not exist yet, created by restore-db.
    target = new_database_name(scratch_databases)
    restored = run(RESTORE_DB, str(dump), DATABASE_URL=database_url(target))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "schema matches" in restored.stdout
    copy = snapshot(target)
    for key in ("reports", "events", "audit", "values", "values_per_report", "row_counts"):
        assert copy[key] == source[key], key

    # Restoring again over it without --force is refused, and the copy is left as it was.
    again = run(RESTORE_DB, str(dump), DATABASE_URL=database_url(target))
    assert again.returncode == 1
    assert "refusing to restore" in again.stderr and "--force" in again.stderr
    assert snapshot(target) == copy

    # With --force the database is dropped, created empty and restored: the same rows again.
    forced = run(RESTORE_DB, "--force", str(dump), DATABASE_URL=database_url(target))
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "dropping the database" in forced.stdout
    assert snapshot(target) == source

    # A damaged copy of the dump (one byte changed) is refused before any database is made.
    damaged_dir = tmp_path / "damaged"
    damaged_dir.mkdir()
    damaged = damaged_dir / dump.name
    shutil.copy(dump, damaged)
    shutil.copy(f"{dump}.sha256", f"{damaged}.sha256")
    content = bytearray(damaged.read_bytes())
    content[len(content) // 2] ^= 0xFF
    damaged.write_bytes(bytes(content))
    elsewhere = new_database_name(scratch_databases)
    refused = run(RESTORE_DB, str(damaged), DATABASE_URL=database_url(elsewhere))
    assert refused.returncode == 1
    assert "checksum mismatch" in refused.stderr
    assert not database_exists(elsewhere)

    # A dump without its checksum file is refused too.
    os.remove(f"{damaged}.sha256")
    unchecked = run(RESTORE_DB, str(damaged), DATABASE_URL=database_url(elsewhere))
    assert unchecked.returncode == 1 and "checksum" in unchecked.stderr
    assert not database_exists(elsewhere)


def test_a_failed_dump_leaves_no_file(
    postgres: None, scratch_databases: list[str], tmp_path: Path
) -> None:
    missing = new_database_name(scratch_databases)  # never created
    failed = run(BACKUP_DB, DATABASE_URL=database_url(missing), BACKUP_DIR=str(tmp_path))
    assert failed.returncode == 1
    assert "no backup was written" in failed.stderr
    assert [p.name for p in tmp_path.iterdir()] == [".backup-db.lock"]


@pytest.mark.parametrize("url", ["sqlite:///var/db.sqlite3", "mysql://root@127.0.0.1/sme"])
def test_only_postgresql_is_backed_up_or_restored(tmp_path: Path, url: str) -> None:
    backups = tmp_path / "backups"
    refused = run(BACKUP_DB, DATABASE_URL=url, BACKUP_DIR=str(backups))
    assert refused.returncode == 2
    assert "not a PostgreSQL database" in refused.stderr
    assert not backups.exists()
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"")
    refused = run(RESTORE_DB, str(dump), DATABASE_URL=url)
    assert refused.returncode == 2
    assert "not a PostgreSQL database" in refused.stderr
