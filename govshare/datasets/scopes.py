"""Read scopes: what one reader gets of a dataset, and the registry through which apps above datasets (sharing's
grants, later open data) give readers outside the owning department a scope.

Datasets sits below sharing in the layers, so it cannot look grants up itself: sharing registers a *scope provider*
from its AppConfig.ready. `reader_scope` is the one decision every preview, download and export takes: the staff
scope for whoever may read the department's data (its own staff, the platform administrator), else the first scope
a provider answers, else 404 — the same answer as a resource that does not exist, so that a reader without a scope
learns nothing about the data (not even whether a key is in it). Providers are asked at every access with the
date of `clock()`, so that a revocation, an expiry or a missed access review takes effect on the very next read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.errors import DomainError, NotFound
from govshare.core.masking import masking_rule_for
from govshare.datasets import selectors
from govshare.sources.access import can_read_data

__all__ = [
    "NO_SCOPE",
    "AccessRefused",
    "ReadScope",
    "ScopeProvider",
    "clock",
    "default_masking",
    "masking_rules",
    "reader_scope",
    "register_scope_provider",
    "registered_providers",
    "staff_scope",
]

# The answer to a reader without a scope: word for word what the catalogue answers for a resource that does not
# exist, so neither the status nor the text tells the two apart.
NO_SCOPE = "信息资源不存在或无权访问"


@dataclass(frozen=True)
class ReadScope:
    """What one reader gets of a dataset, decided before any row is read: which items (None: all), which rows
    (`rows_where`: item → the values it may hold), the masking rule of each item, and the purpose the audit row
    records. Every preview, download and export goes through `reading.open_version` with one; the department's own
    staff, the platform administrator, a grant's consumer and (to come) the open-data portal differ only in their
    scope.

    `basis`: details the audit row of each access records besides the purpose (a grant's id). `admit`: called in
    the transaction that records the access, just before the audit row is written; it raises (NotFound, a refusal)
    when the access may no longer happen (the grant was revoked meanwhile, the daily quota is used up)."""

    reader: User
    masking: Mapping[str, str] = field(default_factory=dict)
    items: frozenset[str] | None = None
    rows_where: Mapping[str, frozenset[str]] = field(default_factory=dict)
    purpose: str = ""
    basis: Mapping[str, Any] = field(default_factory=dict)
    admit: Callable[[], None] | None = field(default=None, compare=False)

    @property
    def whole_rows(self) -> bool:
        """Whether the reader sees every row of the version (its row count may then be shown)."""
        return not self.rows_where


# (user, resource, today, choice) → the user's scope on the resource, or None. `choice`: what the reader asked for
# when a provider may hold several scopes (a grant's id), "" for the provider's own deterministic pick.
ScopeProvider = Callable[[User, Resource, dt.date, str], ReadScope | None]
_providers: dict[str, ScopeProvider] = {}

# The date grants are judged on. Tests set it (govshare.testing.clock); the platform uses the local date.
clock: Callable[[], dt.date] = timezone.localdate


def register_scope_provider(key: str, provider: ScopeProvider) -> None:
    """Register an app's provider (from its AppConfig.ready). The same provider again changes nothing; another
    under a key already taken is refused."""
    known = _providers.get(key)
    if known is not None and known is not provider:
        raise ValueError(f"a scope provider {key!r} is already registered")
    _providers[key] = provider


def registered_providers() -> list[str]:
    return sorted(_providers)


def default_masking(resource: Resource) -> dict[str, str]:
    """The masking a reader outside the owning department gets by default: each item's rule from its grade and
    level (domain.md §7)."""
    return {item.name: rule for item in selectors.field_dictionary(resource) if (rule := masking_rule_for(item))}


def masking_rules(user: User, resource: Resource) -> dict[str, str]:
    """The masking each column gets in this user's copy: none for the owning department; for anyone else the rule
    of the item's grade and level (a grant may make it stricter, never looser)."""
    if user.department_id is not None and user.department_id == resource.department_id:
        return {}
    return default_masking(resource)


def staff_scope(user: User, resource: Resource) -> ReadScope:
    """A staff member's scope: every item and row; unmasked for the owning department, masked by the items' grade
    and level for the platform administrator."""
    purpose = "本部门数据" if user.department_id == resource.department_id else "平台管理"
    return ReadScope(reader=user, masking=masking_rules(user, resource), purpose=purpose)


def reader_scope(user: User, resource: Resource, *, today: dt.date | None = None, choice: str = "") -> ReadScope:
    """The user's scope on the resource's data: the staff scope when the user may read the department's data, else
    the first scope a registered provider gives (judged on `today`, by default `clock()`), else NotFound with the
    catalogue's own answer for a missing resource."""
    if can_read_data(user, resource):
        return staff_scope(user, resource)
    if user.is_authenticated and user.is_active:
        day = today if today is not None else clock()
        for key in sorted(_providers):
            scope = _providers[key](user, resource, day, choice)
            if scope is not None:
                return scope
    raise NotFound(NO_SCOPE)


class AccessRefused(DomainError):
    """A scope's reader may not read now although the scope exists (a grant's daily quota is used up): the status
    says why (429), the message what to do."""

    def __init__(self, message: str, status: int = 429) -> None:
        super().__init__(message, status)
