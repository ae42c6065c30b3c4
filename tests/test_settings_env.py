from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from sme.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str
from tests.fresh_settings import fresh_settings


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Yes", True)])
def test_booleans_are_read_strictly(monkeypatch, raw: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_a_malformed_boolean_is_an_error_not_false(monkeypatch, raw: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfiguredEnv):
        env_bool("SOME_FLAG", False)


def test_a_malformed_integer_is_an_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOME_INT", "12a")
    with pytest.raises(ImproperlyConfiguredEnv):
        env_int("SOME_INT", 1)


def test_a_required_string_without_default_is_an_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SOME_SECRET", raising=False)
    with pytest.raises(ImproperlyConfiguredEnv):
        env_str("SOME_SECRET")


def test_lists_are_comma_separated(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SOME_HOSTS", "a.gov.cn, b.gov.cn,,")
    assert env_list("SOME_HOSTS", []) == ["a.gov.cn", "b.gov.cn"]


def test_every_variable_read_by_the_settings_is_in_env_example() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', (root / "sme" / "settings.py").read_text()))
    listed = set(re.findall(r"^([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert read - listed == set()


@pytest.mark.django_db
def test_the_models_have_no_unmigrated_changes() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _settings_with(**env: str) -> dict[str, Any]:
    values = fresh_settings(
        "CACHES", "JOB_RUNNER", "CELERY_BROKER_URL", env=env, without=("REDIS_URL", "JOB_RUNNER")
    )
    return {
        "caches": values["CACHES"],
        "runner": values["JOB_RUNNER"],
        "broker": values["CELERY_BROKER_URL"],
    }


def test_redis_url_gives_the_shared_cache_and_the_celery_broker() -> None:
    configured = _settings_with(REDIS_URL="redis://127.0.0.1:6379/3")
    assert configured["caches"]["default"]["BACKEND"].endswith("RedisCache")  # type: ignore[index]
    assert configured["runner"] == "celery"
    assert configured["broker"] == "redis://127.0.0.1:6379/3"

    embedded = _settings_with()
    # Django's per-process memory cache
    assert embedded["caches"]["default"]["BACKEND"].endswith("LocMemCache")
    assert embedded["runner"] == "thread"


def test_an_unknown_job_runner_is_refused() -> None:
    with pytest.raises(ImproperlyConfiguredEnv, match="JOB_RUNNER"):
        _settings_with(JOB_RUNNER="cron")
