"""The one permission mechanism: subjects, policies, abilities (govshare.core.authz)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.core import authz
from govshare.core.errors import PermissionDenied
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem

pytestmark = pytest.mark.django_db


def test_anonymous_is_an_inactive_subject_without_roles() -> None:
    assert isinstance(authz.ANONYMOUS, authz.Subject)
    assert (authz.ANONYMOUS.subject_kind, authz.ANONYMOUS.is_active, authz.ANONYMOUS.department_id) == (
        authz.SubjectKind.ANONYMOUS,
        False,
        None,
    )
    assert not authz.ANONYMOUS.has_role(*Role.values)


def test_the_subject_of_a_request_is_its_active_user_or_nobody(department: Department) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert authz.subject_of(request) is authz.ANONYMOUS
    user = testing.make_user(Role.CONSUMER, department=department)
    request.user = user
    assert authz.subject_of(request) == user
    user.is_active = False
    assert authz.subject_of(request) is authz.ANONYMOUS


def test_a_model_without_a_policy_cannot_be_restricted_silently(department: Department) -> None:
    user = testing.make_user(Role.PLATFORM_ADMIN)
    with pytest.raises(authz.UnknownPolicy):
        authz.restrict(Department.objects.all(), user)


def test_an_inactive_subject_reaches_nothing_whatever_its_roles(department: Department) -> None:
    admin = testing.make_user(Role.PLATFORM_ADMIN)
    system = identity_services.register_information_system(
        identity_services.SystemInput(code="gaj-hjxt", name="户籍业务系统", department=department), actor=admin
    )
    admin.is_active = False
    assert list(authz.restrict(InformationSystem.objects.all(), admin)) == []
    assert not authz.permits(admin, authz.VIEW, system)


def test_a_second_different_policy_for_a_model_is_refused() -> None:
    class Other:
        def scope(self, subject: authz.Subject, action: str) -> object:  # pragma: no cover - never called
            return authz.NOTHING

    with pytest.raises(ValueError, match="InformationSystem"):
        authz.register_policy(InformationSystem, Other())  # type: ignore[arg-type]


def test_abilities_answer_for_the_subject_and_refuse_in_chinese(department: Department) -> None:
    auditor = testing.make_user(Role.AUDITOR, username="auditor")
    admin: User = testing.make_user(Role.PLATFORM_ADMIN, username="platform")
    assert authz.can(auditor, "audit.read_log")
    assert not authz.can(admin, "audit.read_log")
    with pytest.raises(PermissionDenied, match="审计员"):
        authz.require_ability(admin, "audit.read_log")
    with pytest.raises(authz.UnknownPolicy):
        authz.can(auditor, "no.such.ability")
