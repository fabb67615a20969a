"""Reads of departments and users."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from govshare.accounts.choices import SEPARATED_ROLES, Role, RoleGrantStatus
from govshare.accounts.models import ApiToken, Department, RoleGrantRequest, User


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


def department_catalog_admins(department_id: int) -> QuerySet[User]:
    """The active catalogue administrators of a department: who is told what happens to its catalogue and data."""
    return User.objects.filter(is_active=True, department_id=department_id, roles__role=Role.CATALOG_ADMIN).distinct()


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def pending_role_grants() -> QuerySet[RoleGrantRequest]:
    return RoleGrantRequest.objects.filter(status=RoleGrantStatus.PENDING).select_related("user", "proposed_by")


def role_grants_for(user: User, *, decided: int = 50) -> tuple[list[RoleGrantRequest], list[RoleGrantRequest]]:
    """The pending grants and the latest `decided` ones, for a holder of a separated role (none for anyone else)."""
    if not (user.is_active and user.role_set() & SEPARATED_ROLES):
        return [], []
    related = ("user__department", "proposed_by", "decided_by")
    grants = RoleGrantRequest.objects.select_related(*related)
    pending = list(grants.filter(status=RoleGrantStatus.PENDING).order_by("proposed_at", "pk"))
    done = list(grants.exclude(status=RoleGrantStatus.PENDING).order_by("-decided_at", "-pk")[:decided])
    return pending, done


def role_grant_for(user: User, grant_id: int) -> RoleGrantRequest | None:
    """A grant a holder of a separated role may see and decide; None (404) for anyone else."""
    if not (user.is_active and user.role_set() & SEPARATED_ROLES):
        return None
    return RoleGrantRequest.objects.select_related("user", "proposed_by").filter(pk=grant_id).first()
