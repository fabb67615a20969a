"""Reads behind the gateway's pages, each scoped to who asks.

我的接口 (consumer side): the grants the user's department holds whose scenario has an information system to call
with, for the department's 使用方 and 部门目录管理员. 调用情况 (provider side): the same kind of grants on the
department's resources, for its 部门审核员 and 部门目录管理员. 按查询键追溯: the gateway calls that asked for a key,
for the auditor alone (三员分立: not the platform administrator). A grant outside the user's side answers NotFound
(404), whether it exists or not.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext

from govshare.accounts.models import User
from govshare.audit import selectors as audit_selectors
from govshare.audit.models import AuditLog
from govshare.catalog.choices import PlatformShareType, ReviewStatus, ShareMethod
from govshare.catalog.models import Resource
from govshare.core.errors import FieldProblem, NotFound, ValidationFailed
from govshare.core.roles import Role
from govshare.datasets import serving
from govshare.datasets.selectors import dataset_id_of
from govshare.gateway.models import ProviderService
from govshare.gateway.services import KEY_VALUES_MAX, key_hash_candidates
from govshare.identity.models import InformationSystem
from govshare.sharing import grants
from govshare.sharing.models import Grant, GrantUsage

CALL_ACTIONS = ("gateway.call.lookup", "gateway.call.verify", "gateway.call.proxy")
USAGE_DAYS = 14  # calls per day shown for a grant
REFUSAL_DAYS = 7  # refusals per outcome counted for a grant
REFUSAL_SCAN_LIMIT = 10_000  # refusal rows read at most for one grant's figures
KEY_MAX_LENGTH = 200  # what the gateway accepts for one key value
NOT_FOUND = "接口不存在或无权访问"
PROVIDER_NOT_FOUND = "提供部门接口不存在或无权访问"

CONSUMER_ROLES = (Role.CONSUMER, Role.CATALOG_ADMIN)
PROVIDER_ROLES = (Role.DEPT_REVIEWER, Role.CATALOG_ADMIN)


def _staff_of_department(user: User) -> bool:
    return user.is_active and user.department_id is not None


def may_use_apis(user: User) -> bool:
    """我的接口: the consumer department's 使用方 and 部门目录管理员."""
    return _staff_of_department(user) and user.has_role(*CONSUMER_ROLES)


def may_see_calls(user: User) -> bool:
    """调用情况: the providing department's 部门审核员 and 部门目录管理员."""
    return _staff_of_department(user) and user.has_role(*PROVIDER_ROLES)


def may_trace_keys(user: User) -> bool:
    """按查询键追溯: whoever reads the audit log (the auditor; not the platform administrator)."""
    return audit_selectors.can_read_audit_log(user)


def _with_systems(queryset: QuerySet[Grant]) -> QuerySet[Grant]:
    """Grants whose scenario has at least one information system (only those can be called through the gateway)."""
    return queryset.filter(scenario__systems__isnull=False).distinct().prefetch_related("scenario__systems")


def api_grants(user: User) -> QuerySet[Grant]:
    """The grants the user's department holds that a system can call, newest first (none for other roles)."""
    if not may_use_apis(user):
        return Grant.objects.none()
    return _with_systems(grants.grants_for(user, side="consumer"))


def get_api_grant(user: User, grant_id: int) -> Grant:
    grant = api_grants(user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound(NOT_FOUND)
    return grant


def called_grants(user: User) -> QuerySet[Grant]:
    """The grants on the user's department's resources that a system can call, newest first."""
    if not may_see_calls(user):
        return Grant.objects.none()
    return _with_systems(grants.grants_for(user, side="provider"))


def calling_systems(grant: Grant) -> list[InformationSystem]:
    """The systems that may call through the grant: its scenario's active systems of the scenario's department
    (what `sharing.system_grants.system_grant` admits). Uses the prefetched systems when there are."""
    return [
        system
        for system in grant.scenario.systems.all()
        if system.is_active and system.department_id == grant.scenario.department_id
    ]


def lookup_keys(grant: Grant, granted: frozenset[str]) -> list[tuple[str, ...]] | None:
    """The keys the grant's resource can be looked up by (its key index), those within the granted items; None when
    the resource's data cannot be looked up yet (not loaded, or no index)."""
    dataset_id = dataset_id_of(grant.resource_id)
    version = serving.served(dataset_id) if dataset_id is not None else None
    if version is None:
        return None
    return [tuple(key) for key in version.key_items if set(key) <= granted]


# ---------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class DayCount:
    day: dt.date
    calls: int


def daily_calls(grant_ids: list[int], today: dt.date, *, days: int = USAGE_DAYS) -> dict[int, list[DayCount]]:
    """Per grant, its counted accesses (GrantUsage: gateway calls and its users' reads) on each of the last `days`
    days up to `today`, oldest first, zeros included. One query for all the grants."""
    first = today - dt.timedelta(days=days - 1)
    counted: dict[tuple[int, dt.date], int] = {
        (grant_id, day): accesses
        for grant_id, day, accesses in GrantUsage.objects.filter(
            grant_id__in=grant_ids, day__gte=first, day__lte=today
        ).values_list("grant_id", "day", "accesses")
    }
    span = [first + dt.timedelta(days=n) for n in range(days)]
    return {grant_id: [DayCount(day, counted.get((grant_id, day), 0)) for day in span] for grant_id in grant_ids}


@dataclass(frozen=True)
class Refusals:
    by_outcome: list[tuple[str, int]]  # most frequent first
    total: int
    capped: bool  # REFUSAL_SCAN_LIMIT rows were read: the figures are a lower bound


def refusals(grant: Grant, systems: list[InformationSystem], now: dt.datetime, *, days: int = REFUSAL_DAYS) -> Refusals:
    """The grant's refused gateway calls of the last `days` days, counted per outcome.

    Cost: the audit log is read through its (actor_name, at) index — the calls of the grant's systems in the
    window — and each such row's JSON details are filtered for the grant and a refusal; at most
    REFUSAL_SCAN_LIMIT refusals are read (the figures are then marked as a lower bound). Refusals decided before a
    grant was chosen (no scenario named, no grant for it) name no grant and are not counted here.
    """
    if not systems:
        return Refusals([], 0, capped=False)
    outcomes = list(
        AuditLog.objects.filter(
            actor_name__in=[f"system:{system.code}" for system in systems],
            at__gte=now - dt.timedelta(days=days),
            at__lte=now,
            action__in=CALL_ACTIONS,
            extra__grant=grant.pk,
            extra__ok=False,
        ).values_list("extra__outcome", flat=True)[:REFUSAL_SCAN_LIMIT]
    )
    counts = Counter(str(outcome) for outcome in outcomes)
    return Refusals(counts.most_common(), len(outcomes), capped=len(outcomes) >= REFUSAL_SCAN_LIMIT)


# ---------------------------------------------------------------------------------------------- tracing a key


def clean_key(value: str) -> list[str]:
    """A key as the auditor typed it, checked: one value, or the values of a key of several items one per line (the
    gateway's own normalisation is `key_hash_candidates`)."""
    values = [line.strip() for line in value.splitlines() if line.strip()]
    if not values:
        raise ValidationFailed([FieldProblem("key", gettext("请输入查询键，例如公民身份号码"))])
    if len(values) > KEY_VALUES_MAX:
        message = gettext("由多个信息项组成的查询键最多 %(count)s 个值，每行一个") % {"count": KEY_VALUES_MAX}
        raise ValidationFailed([FieldProblem("key", message)])
    if any(len(one) > KEY_MAX_LENGTH or "\x00" in one for one in values):
        message = gettext("查询键应为 1–%(length)s 个字符的文本") % {"length": KEY_MAX_LENGTH}
        raise ValidationFailed([FieldProblem("key", message)])
    return values


def calls_for_key(user: User, key: str) -> QuerySet[AuditLog]:
    """Every gateway call that asked for the key (by its keyed hash under every key of the ring), newest first;
    PermissionDenied for anyone but the auditor. Uses the audit log's (object_type, object_id) index."""
    return (
        audit_selectors.audit_log_for(user)
        .filter(object_type="gateway.key", object_id__in=key_hash_candidates(clean_key(key)), action__in=CALL_ACTIONS)
        .order_by("-at", "-id")
    )


__all__ = [
    "CALL_ACTIONS",
    "DayCount",
    "Refusals",
    "active_provider_service",
    "api_grants",
    "called_grants",
    "calling_systems",
    "calls_for_key",
    "calls_today",
    "clean_key",
    "daily_calls",
    "get_api_grant",
    "get_provider_service",
    "lookup_keys",
    "may_see_calls",
    "may_see_provider_services",
    "may_trace_keys",
    "may_use_apis",
    "provider_services",
    "proxied_calls",
    "proxied_resource_ids",
    "refusals",
    "registrable_resources",
]


# ---------------------------------------------------------------------------------------------- provider services


def may_see_provider_services(user: User) -> bool:
    """提供部门接口: the providing department's 部门目录管理员 and 部门审核员, and the platform administrator."""
    return user.is_active and (user.has_role(Role.PLATFORM_ADMIN) or may_see_calls(user))


def provider_services(user: User) -> QuerySet[ProviderService]:
    """The provider services on the user's department's resources (every one for the platform administrator)."""
    if not may_see_provider_services(user):
        return ProviderService.objects.none()
    services = ProviderService.objects.select_related("resource").order_by("-id")
    if user.has_role(Role.PLATFORM_ADMIN) or user.department_id is None:
        return services if user.has_role(Role.PLATFORM_ADMIN) else services.none()
    return services.filter(resource__department_id=user.department_id)


def get_provider_service(user: User, service_id: int) -> ProviderService:
    service = provider_services(user).filter(pk=service_id).first() if 0 < service_id < 2**63 else None
    if service is None:
        raise NotFound(PROVIDER_NOT_FOUND)
    return service


def registrable_resources(user: User) -> QuerySet[Resource]:
    """The published resources shared by 接口 that the user may register a provider service on and that have none."""
    resources = Resource.objects.filter(
        status=ReviewStatus.PUBLISHED,
        share_method=ShareMethod.PLATFORM,
        platform_share_type=PlatformShareType.API,
        provider_service__isnull=True,
    ).order_by("code")
    if not user.is_active:
        return resources.none()
    if user.has_role(Role.PLATFORM_ADMIN):
        return resources
    if user.department_id is None or not user.has_role(Role.CATALOG_ADMIN):
        return resources.none()
    return resources.filter(department_id=user.department_id)


def proxied_resource_ids(resource_ids: list[int]) -> set[int]:
    """Which of the resources are served by their provider's own API (an active provider service)."""
    return set(
        ProviderService.objects.filter(resource_id__in=resource_ids, is_active=True).values_list(
            "resource_id", flat=True
        )
    )


def active_provider_service(resource_id: int) -> ProviderService | None:
    """The gateway's call path: the resource's provider service, if registered and active."""
    return ProviderService.objects.filter(resource_id=resource_id, is_active=True).first()


@dataclass(frozen=True)
class ProxiedCall:
    at: dt.datetime
    system: str
    scenario: object
    grant: object
    outcome: str
    rows: object
    latency_ms: object


def proxied_calls(service: ProviderService, *, limit: int = 20) -> list[ProxiedCall]:
    """The latest calls proxied to the service's API (who, under which scenario and grant, with what outcome),
    newest first; from the audit trail, which holds no key and no value."""
    entries = AuditLog.objects.filter(action="gateway.call.proxy", extra__resource=service.resource_id).order_by(
        "-at", "-id"
    )[:limit]
    return [
        ProxiedCall(
            at=entry.at,
            system=str(entry.extra.get("system", "")),
            scenario=entry.extra.get("scenario"),
            grant=entry.extra.get("grant"),
            outcome=str(entry.extra.get("outcome", "")),
            rows=entry.extra.get("rows"),
            latency_ms=entry.extra.get("latency_ms"),
        )
        for entry in entries
    ]


def calls_today(grant_id: int, today: dt.date) -> int:
    """The grant's counted accesses of the day (what its daily quota is held against)."""
    usage = GrantUsage.objects.filter(grant_id=grant_id, day=today).values_list("accesses", flat=True).first()
    return int(usage or 0)
