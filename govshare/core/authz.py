"""Who is asking, and may they: the one permission mechanism every app's selectors, services, API and pages use.

A *subject* is whoever asks: a staff member (a `User` of a department), a consumer information system (a machine
client bound to grants), a registered member of the public, or nobody (anonymous). Each app registers one *policy*
per model it owns, answering two questions the same way for every caller:

- `restrict(queryset, subject, action)`: which objects of this kind may the subject act on (reads are scoped in the
  database, so lists, counts and pages agree);
- `permits(subject, action, obj)`: may it act on this one.

`require(subject, action, obj)` is the check services make before a write: an object the subject may not even see
answers 404 (the same answer as a missing one), one it sees but may not change answers 403 with the policy's reason.
Study NetBox's `RestrictedQuerySet.restrict(user, action)`: the same idea, with typed subjects instead of
Django's per-object permissions table.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.db import models
from django.db.models import Q, QuerySet

from govshare.core.errors import NotFound, PermissionDenied

VIEW = "view"


class SubjectKind(enum.StrEnum):
    STAFF = "staff"  # a person of a department, signed in (session, personal token or OAuth token)
    SYSTEM = "system"  # a consumer information system (machine client); never a person
    PUBLIC = "public"  # a registered member of the public (open data)
    ANONYMOUS = "anonymous"  # nobody signed in


@runtime_checkable
class Subject(Protocol):
    """Whoever asks. Staff users, information systems and public users implement it; `ANONYMOUS` is nobody."""

    @property
    def subject_kind(self) -> SubjectKind: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def department_id(self) -> int | None: ...

    def has_role(self, *roles: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AnonymousSubject:
    subject_kind: SubjectKind = SubjectKind.ANONYMOUS
    is_active: bool = False
    department_id: int | None = None

    def has_role(self, *roles: str) -> bool:
        return False


ANONYMOUS = AnonymousSubject()


def subject_of(request: Any) -> Subject:
    """The subject behind a request: its authenticated user if any (Django's AnonymousUser is nobody)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if isinstance(user, Subject) and getattr(user, "is_authenticated", True) and user.is_active:
        return user
    return ANONYMOUS


def is_staff_subject(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


M = TypeVar("M", bound=models.Model)
M_contra = TypeVar("M_contra", bound=models.Model, contravariant=True)


class Policy(Protocol[M_contra]):
    """The rules of one model: the objects a subject may act on, as a filter, and as a check of one object."""

    def scope(self, subject: Subject, action: str) -> Q:
        """The objects `subject` may `action`, as a filter (`NOTHING` for none, `Q()` for all)."""
        ...

    def permits(self, subject: Subject, action: str, obj: M_contra) -> bool:
        """May `subject` `action` this object (the same answer as `scope` gives for it)?"""
        ...

    def refusal(self, subject: Subject, action: str, obj: M_contra) -> str:
        """Why not, in Chinese, for a subject who sees the object but may not do this to it."""
        ...


NOTHING = Q(pk__in=[])

_POLICIES: dict[type[models.Model], Policy[Any]] = {}


class UnknownPolicy(LookupError):
    pass


def register_policy(model: type[M], policy: Policy[M]) -> None:
    """Declare the rules of `model` (once, from the owning app's `AppConfig.ready`)."""
    existing = _POLICIES.get(model)
    if existing is not None and type(existing) is not type(policy):
        raise ValueError(f"{model.__name__} already has the policy {type(existing).__name__}")
    _POLICIES[model] = policy


def policy_for(model: type[M]) -> Policy[M]:
    for klass in model.__mro__:
        policy = _POLICIES.get(klass)  # type: ignore[arg-type]
        if policy is not None:
            return policy
    raise UnknownPolicy(f"没有为 {model.__name__} 登记权限规则")


def restrict(queryset: QuerySet[M], subject: Subject, action: str = VIEW) -> QuerySet[M]:
    """Only the objects of `queryset` that `subject` may `action`; nothing for an inactive subject."""
    if not subject.is_active:
        return queryset.none()
    return queryset.filter(policy_for(queryset.model).scope(subject, action))


def permits(subject: Subject, action: str, obj: models.Model) -> bool:
    if not subject.is_active:
        return False
    return policy_for(type(obj)).permits(subject, action, obj)


def require(subject: Subject, action: str, obj: M, *, not_found: str = "") -> M:
    """`obj` if `subject` may `action` it; 404 when it may not even see it, 403 (with the reason) otherwise."""
    if not permits(subject, VIEW, obj):
        raise NotFound(not_found) if not_found else NotFound()
    if action != VIEW and not permits(subject, action, obj):
        raise PermissionDenied(policy_for(type(obj)).refusal(subject, action, obj))
    return obj


class RestrictedQuerySet(QuerySet[M]):
    """`Model.objects.restrict(subject, action)`: the queryset scoped by the model's registered policy."""

    def restrict(self, subject: Subject, action: str = VIEW) -> QuerySet[M]:
        return restrict(self, subject, action)


# A rule without an object: may the subject do this at all (e.g. read the audit log, review the catalogue)?
_ABILITIES: dict[str, Callable[[Subject], bool]] = {}
_ABILITY_REFUSALS: dict[str, str] = {}


def register_ability(name: str, check: Callable[[Subject], bool], *, refusal: str) -> None:
    _ABILITIES[name] = check
    _ABILITY_REFUSALS[name] = refusal


def can(subject: Subject, ability: str) -> bool:
    check = _ABILITIES.get(ability)
    if check is None:
        raise UnknownPolicy(f"没有登记权限“{ability}”")
    return subject.is_active and check(subject)


def require_ability(subject: Subject, ability: str) -> None:
    if not can(subject, ability):
        raise PermissionDenied(_ABILITY_REFUSALS[ability])
