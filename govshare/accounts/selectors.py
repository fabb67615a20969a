"""Reads of departments and users."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from govshare.accounts.models import ApiToken, Department, User


def department_list(*, search: str = "") -> QuerySet[Department]:
    """Every signed-in user may list departments: the catalogue exists for discovery."""
    queryset = Department.objects.filter(is_active=True).select_related("parent")
    if search:
        queryset = queryset.filter(Q(name__contains=search) | Q(code__iexact=search))
    return queryset.order_by("code")


def departments_overdue_for_maintenance(now: dt.datetime | None = None) -> QuerySet[Department]:
    """Departments whose last full catalogue maintenance is older than the quarterly interval (or never)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.GOVSHARE.maintenance_interval_days)
    return (
        Department.objects.filter(is_active=True)
        .filter(Q(last_full_maintenance_at__isnull=True) | Q(last_full_maintenance_at__lt=cutoff))
        .order_by("last_full_maintenance_at", "code")
    )


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
