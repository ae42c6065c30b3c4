"""The production configuration (README "Production"): whitenoise, sessions through Redis, the
gunicorn settings and make serve-prod's refusals. Settings are loaded in a fresh interpreter with
the environment under test, since sme.settings reads it once at import."""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.fresh_settings import fresh_settings

ROOT = Path(__file__).resolve().parent.parent
# Variables of the production set-up that the surrounding environment must not leak into a test.
_CONTROLLED = ("REDIS_URL", "JOB_RUNNER", "STATIC_MANIFEST", "DEBUG", "SESSION_ENGINE")


def _settings_with(**env: str) -> dict[str, Any]:
    values = fresh_settings(
        "STORAGES", "SESSION_ENGINE", "MIDDLEWARE", env=env, without=_CONTROLLED
    )
    return {
        "static": values["STORAGES"]["staticfiles"]["BACKEND"],
        "session": values["SESSION_ENGINE"],
        "middleware": values["MIDDLEWARE"],
    }


def test_static_manifest_uses_whitenoises_compressed_manifest_storage() -> None:
    production = _settings_with(STATIC_MANIFEST="true")
    assert production["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_without_static_manifest_or_in_debug_the_plain_storage_needs_no_collectstatic() -> None:
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert _settings_with()["static"] == plain
    assert _settings_with(STATIC_MANIFEST="true", DEBUG="true")["static"] == plain


def test_whitenoise_comes_right_after_the_security_middleware() -> None:
    middleware = list(settings.MIDDLEWARE)
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    assert middleware[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"


def test_the_tests_get_static_files_from_the_source_folders_without_collectstatic() -> None:
    response = Client().get("/static/css/site.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_with_redis_sessions_are_cached_in_redis_and_kept_in_the_database() -> None:
    with_redis = _settings_with(REDIS_URL="redis://127.0.0.1:6379/3")
    assert with_redis["session"] == "django.contrib.sessions.backends.cached_db"
    assert _settings_with()["session"] == "django.contrib.sessions.backends.db"


def _gunicorn_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 4)
    return runpy.run_path(str(ROOT / "sme" / "gunicorn.conf.py"))


def test_gunicorn_runs_two_workers_per_cpu_plus_one_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conf = _gunicorn_conf(monkeypatch)
    assert conf["workers"] == 9
    assert conf["threads"] == 1
    assert conf["bind"] == "127.0.0.1:8000"
    assert conf["timeout"] == 60
    assert conf["max_requests"] == 1000
    assert conf["max_requests_jitter"]
    assert conf["accesslog"] == "-"
    assert "%(M)s" in conf["access_log_format"]  # type: ignore[operator]


def test_gunicorn_honours_its_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _gunicorn_conf(
        monkeypatch, GUNICORN_WORKERS="3", GUNICORN_THREADS="4", GUNICORN_BIND="0.0.0.0:8011"
    )
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 4, "0.0.0.0:8011")


def test_a_malformed_worker_count_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="GUNICORN_WORKERS"):
        _gunicorn_conf(monkeypatch, GUNICORN_WORKERS="many")


@pytest.mark.parametrize(
    ("env", "message"),
    [({"DATABASE_URL": "postgres://x@127.0.0.1/x"}, "SECRET_KEY"), ({}, "DATABASE_URL")],
)
def test_serve_prod_refuses_to_start_without_its_required_settings(
    env: dict[str, str], message: str
) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    if message == "DATABASE_URL":
        base["SECRET_KEY"] = "x"
    done = subprocess.run(
        [str(ROOT / "bin" / "serve-prod")],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 2
    assert message in done.stderr
