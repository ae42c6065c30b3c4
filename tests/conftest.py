"""The shared personas of every test: an enterprise of 浙江 宁波, an enterprise of 广东, local
administrators of 浙江, 宁波 and 广东, and a national senior administrator."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import uscc

from accounts import second_factor
from accounts.models import User
from directory.models import Enterprise, Region
from notices.models import Notice
from ops.logs import JsonFormatter, RequestContextFilter

PASSWORD = "Demo@2026"


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Each test starts with nothing cached (the review counts are cached per month)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def jobs_inline(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Background jobs run before the request returns, whatever REDIS_URL says; their files go
    to the test's own directory."""
    settings.JOB_RUNNER = "inline"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def cheap_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["tests.hashers.CheapArgon2PasswordHasher"]


@pytest.fixture
def reference_data(db: None) -> None:
    """Regions, industries, registration types and the size standard. Loaded once per database;
    loaded again after a transactional (browser) test has flushed the tables."""
    if not Region.objects.exists():
        call_command("load_reference_data", verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


def valid_uscc(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


def make_enterprise_user(username: str, name: str, code: str, region_code: str) -> User:
    enterprise = Enterprise.objects.create(
        name=name,
        code_type=Enterprise.CodeType.USCC if len(code) == 18 else Enterprise.CodeType.ORGANIZATION,
        code=code,
        region=Region.objects.get(code=region_code),
        contact_person="杨莎莎",
        contact_phone="0574-86601234",
    )
    return User.objects.create_user(
        username, PASSWORD, user_type=User.Type.ENTERPRISE, enterprise=enterprise
    )


def make_admin(username: str, region_code: str | None) -> User:
    if region_code is None:
        # National administrators also run the Django admin (catalogues, accounts).
        return User.objects.create_user(
            username,
            PASSWORD,
            user_type=User.Type.SENIOR_ADMIN,
            is_staff=True,
            is_superuser=True,
        )
    return User.objects.create_user(
        username,
        PASSWORD,
        user_type=User.Type.LOCAL_ADMIN,
        region=Region.objects.get(code=region_code),
    )


@dataclass
class Personas:
    ningbo_enterprise: User
    guangdong_enterprise: User
    zhejiang_admin: User
    ningbo_admin: User
    guangdong_admin: User
    senior_admin: User

    def client_for(self, user: User) -> Client:
        return force_login(Client(), user)


def force_login(client: Client, user: User) -> Client:
    """client.force_login, with the session marks of a login that went through the second-factor
    rule (an administrator's session without them is ended by SecondFactorMiddleware)."""
    client.force_login(user)
    session = client.session
    session.update(second_factor.forced_login_marks(user))
    session.save()
    return client


def build_personas() -> Personas:
    """The test accounts; the `personas` fixture's, and the access matrix's module-scoped world."""
    return Personas(
        ningbo_enterprise=make_enterprise_user(
            "33029997", "宁波康尔企业", valid_uscc("91330211MA2AFKE01"), "330211"
        ),
        guangdong_enterprise=make_enterprise_user(
            "44010001", "广州明德机械有限公司", valid_uscc("91440106MA5CMD002"), "440106"
        ),
        zhejiang_admin=make_admin("zhejiang", "330000"),
        ningbo_admin=make_admin("ningbo", "330200"),
        guangdong_admin=make_admin("guangdong", "440000"),
        senior_admin=make_admin("admin", None),
    )


LOGIN_PAGE = "/accounts/login/"
CODE_PAGE = "/accounts/login/code/"


def authenticator_code(user: User, binding: bool = False) -> str:
    """What the user's authenticator app shows: the code of the bound device, or (`binding`, or
    nothing bound) of the one being bound. One step ahead when this step's code was used already
    (the platform accepts a code one step either side, each once), so that a test may log in
    twice within 30 seconds."""
    device = None if binding else second_factor.device_of(user)
    device = device or TOTPDevice.objects.filter(user=user, confirmed=False).latest("id")
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    return f"{hotp(device.bin_key, max(now, device.last_t + 1)):06d}"


def log_in_through_pages(client: Client, username: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    """The login page, and its second step where the account has one: the authenticator's code
    (binding the authenticator first where a national administrator has none, as a person would
    from the QR code's key). Returns the last response."""
    response = client.post(LOGIN_PAGE, {"username": username, "password": password, **extra})
    if response.status_code == 302 and response["Location"] == CODE_PAGE:
        user = User.objects.get(username=username)
        client.get(CODE_PAGE)  # shows the binding where there is nothing bound yet
        response = client.post(CODE_PAGE, {"code": authenticator_code(user)})
    return response


def token_request(username: str, password: str = PASSWORD) -> dict[str, str]:
    """The body of POST /api/v1/auth/token for the account: with the authenticator's code where
    it has a second factor (a national administrator with nothing bound binds one first, as it
    would on the web: the API cannot show a QR code)."""
    body = {"username": username, "password": password}
    user = User.objects.filter(username=username).first()
    if user is not None and second_factor.needs_code(user):
        if second_factor.device_of(user) is None:
            device = second_factor.enrolment(user)
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        body["otp_code"] = authenticator_code(user)
    return body


@pytest.fixture
def personas(reference_data: None) -> Personas:
    return build_personas()


def publish_notice(
    author: User,
    title: str,
    *,
    kind: str = Notice.Kind.NOTICE,
    audience: str = Notice.Audience.ALL,
    region: str | None = None,
    published_at: dt.datetime | None = None,
) -> Notice:
    return Notice.objects.create(
        title=title,
        body=f"{title}的正文。",
        kind=kind,
        audience=audience,
        region_id=region,
        author=author,
        published_at=published_at or timezone.now(),
    )


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record that reaches the root logger, as the production handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON log lines json_lines captured."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
