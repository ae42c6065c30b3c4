"""Who may read and who may manage a notice: the one place that decides, for pages and API."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from notices.models import Notice


def readable_notices(user: User) -> QuerySet[Notice]:
    """Notices addressed to the user's type and to a region containing the user's region.
    Administrators also read everything published inside the region they manage."""
    qs = Notice.objects.select_related("region__parent__parent")
    if user.is_senior_admin:
        return qs
    audience = Notice.Audience.ENTERPRISES if user.is_enterprise else Notice.Audience.ADMINS
    region = user.home_region
    region_codes = region.ancestor_codes() if region else []
    addressed = Q(audience__in=[Notice.Audience.ALL, audience]) & (
        Q(region__isnull=True) | Q(region_id__in=region_codes)
    )
    if user.is_local_admin and region is not None:
        addressed |= Q(region__code__startswith=region.prefix)
    return qs.filter(addressed)


def get_readable_notice(user: User, pk: int) -> Notice:
    return get_object_or_404(readable_notices(user), pk=pk)


def manageable_notices(user: User) -> QuerySet[Notice]:
    """National administrators manage every notice; a local administrator those published for
    its own region or a region inside it."""
    qs = Notice.objects.select_related("region__parent__parent", "author")
    if user.is_senior_admin:
        return qs
    if user.is_local_admin and user.region is not None:
        return qs.filter(region__code__startswith=user.region.prefix)
    return qs.none()


def get_manageable_notice(user: User, pk: int) -> Notice:
    return get_object_or_404(manageable_notices(user), pk=pk)
