from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from accounts.middleware import password_expired_api_message
from accounts.models import User
from accounts.services import user_for_api_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token from POST /api/v1/auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_api_token(token)
        if user is not None and user.password_expired:
            # 403, not 401: the token is good, but the administrator must change the password on
            # the web first (accounts.middleware.PasswordExpiryMiddleware does so for sessions).
            raise HttpError(403, password_expired_api_message())
        if user is not None:
            request.user = user
        return user


# Either a token (programs) or the browser session (pages calling the API, with CSRF).
API_AUTH = [BearerToken(), django_auth]
