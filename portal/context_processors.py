from __future__ import annotations

from django.http import HttpRequest

from portal.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"navigation": navigation_for(user)}
