"""Who is calling the API, and whether the operation is for them, before anything else is read.

django-ninja runs an operation's `auth=` callables before it parses the path, the query and the
body (ninja.operation.Operation._run_checks, then _get_values). A refusal by role or scope is
therefore made here, in the authentication step, through a gate (api.gates) that each router or
operation names: a persona who must get 403 or 404 gets it whatever the body holds, and never
learns from a 400 what the body should have been. The classes keep their names, which are the
security schemes of the OpenAPI document (../shared/API.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.middleware import password_change_api_message
from accounts.models import User
from accounts.services import user_for_api_token

# Raises HttpError (403 or 404) when the authenticated user may not call the operation.
Gate = Callable[[HttpRequest, User], None]


def _admitted(request: HttpRequest, user: Any, gate: Gate | None) -> Any:
    """The authenticated user, once the gate lets them through (nothing to check without one)."""
    if user and gate is not None:
        gate(request, user)
    return user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token from POST /api/v1/auth/token."""

    def __init__(self, gate: Gate | None = None) -> None:
        super().__init__()
        self.gate = gate

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_api_token(token)
        if user is not None and user.must_change_password:
            # 403, not 401: the token is good, but the administrator must change the password on
            # the web first (accounts.middleware.PasswordExpiryMiddleware does so for sessions).
            raise HttpError(403, password_change_api_message(user))
        if user is not None:
            request.user = user
        return _admitted(request, user, self.gate)


class SessionAuth(NinjaSessionAuth):
    """The browser session (pages calling the API, with CSRF): ninja's own, with a gate. The name
    stays ninja's, so the document's security scheme is the same."""

    def __init__(self, gate: Gate | None = None) -> None:
        super().__init__()
        self.gate = gate

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _admitted(request, super().authenticate(request, key), self.gate)


ApiAuth = list[BearerToken | SessionAuth]


def api_auth(gate: Gate | None = None) -> ApiAuth:
    """Either a token (programs) or the session, then the gate of the router or operation."""
    return [BearerToken(gate), SessionAuth(gate)]


# Every operation that names no gate of its own: any logged-in user.
API_AUTH = api_auth()
