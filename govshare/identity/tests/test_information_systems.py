"""Information systems (接入系统): a consumer department's machine identity, registered and credentialled by its
department's catalogue administrators or the platform administrator, never a person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.core import authz
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.identity import selectors, services
from govshare.identity.access import MANAGE
from govshare.identity.auth import MACHINE_CLIENT_REFUSED
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.testing.api import bearer_header

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def other_department() -> Department:
    return testing.make_department("市医保局")


@pytest.fixture
def catalog_admin(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department, username="gaj_admin")


@pytest.fixture
def platform_admin() -> User:
    return testing.make_user(Role.PLATFORM_ADMIN, username="platform")


def system_input(department: Department, **overrides: object) -> services.SystemInput:
    values: dict[str, object] = {
        "code": "gaj-hjxt",
        "name": "户籍业务系统",
        "department": department,
        "purpose": "核验办事群众的户籍信息",
        "contact_name": "王工",
        "contact_phone": "13800000000",
    }
    values.update(overrides)
    return services.SystemInput(**values)  # type: ignore[arg-type]


def client_credentials_token(credential: SystemCredential, secret: str) -> tuple[int, dict[str, object]]:
    answer = Client().post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": credential.application.client_id,
            "client_secret": secret,
            "scope": "api",
        },
    )
    return answer.status_code, answer.json()


def test_a_department_catalogue_administrator_registers_a_system_of_the_department(
    department: Department, catalog_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    assert (system.code, system.department_id, system.is_active) == ("gaj-hjxt", department.pk, True)
    row = AuditLog.objects.get(action="identity.system.register")
    assert (row.actor_id, row.object_id) == (catalog_admin.pk, str(system.pk))


def test_an_administrator_of_another_department_cannot_register_a_system_for_it(
    department: Department, other_department: Department
) -> None:
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    with pytest.raises(PermissionDenied):
        services.register_information_system(system_input(department), actor=outsider)
    assert not InformationSystem.objects.exists()


def test_a_consumer_without_the_catalogue_role_cannot_register_one(department: Department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    with pytest.raises(PermissionDenied):
        services.register_information_system(system_input(department), actor=consumer)


def test_the_platform_administrator_registers_for_any_department(
    other_department: Department, platform_admin: User
) -> None:
    system = services.register_information_system(system_input(other_department), actor=platform_admin)
    assert system.department_id == other_department.pk


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("code", "-bad", "系统编码“-bad”"),
        ("code", "有中文", "系统编码“有中文”"),
        ("name", "  ", "系统名称不能为空"),
        ("contact_phone", "12345", "联系电话“12345”"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    department: Department, catalog_admin: User, field: str, value: str, fragment: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.register_information_system(system_input(department, **{field: value}), actor=catalog_admin)
    assert [(p.field, fragment in p.message) for p in refused.value.problems] == [(field, True)]


def test_a_code_is_registered_once_whatever_its_case(department: Department, catalog_admin: User) -> None:
    services.register_information_system(system_input(department), actor=catalog_admin)
    with pytest.raises(ValidationFailed) as refused:
        services.register_information_system(
            system_input(department, code="GAJ-HJXT", name="另一个系统"), actor=catalog_admin
        )
    assert refused.value.problems[0].message == "系统编码“GAJ-HJXT”已被登记"


def test_a_system_is_a_subject_of_its_department_without_any_staff_role(
    department: Department, catalog_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    assert isinstance(system, authz.Subject)
    assert system.subject_kind == authz.SubjectKind.SYSTEM
    assert system.department_id == department.pk
    assert not any(system.has_role(role) for role in Role.values)


def test_its_code_and_department_stay_when_it_is_updated(
    department: Department, other_department: Department, catalog_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    services.update_information_system(
        system, system_input(department, contact_phone="028-12345678"), actor=catalog_admin
    )
    system.refresh_from_db()
    assert system.contact_phone == "028-12345678"
    update = AuditLog.objects.get(action="identity.system.update")
    assert update.extra["changes"] == {"contact_phone": {"from": "13800000000", "to": "028-12345678"}}
    with pytest.raises(ValidationFailed):
        services.update_information_system(system, system_input(other_department), actor=catalog_admin)


def test_an_issued_credential_obtains_a_token_that_speaks_for_the_system(
    department: Department, catalog_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    credential, secret = services.issue_system_credential(system, actor=catalog_admin)
    status, body = client_credentials_token(credential, secret)
    assert status == 200, body
    assert selectors.system_for_access_token(str(body["access_token"])) == system
    assert AuditLog.objects.filter(action="identity.credential.issue", object_id=str(system.pk)).exists()
    assert secret not in str(AuditLog.objects.get(action="identity.credential.issue").extra)


def test_a_system_token_still_opens_no_staff_route(department: Department, catalog_admin: User) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    credential, secret = services.issue_system_credential(system, actor=catalog_admin)
    token = str(client_credentials_token(credential, secret)[1]["access_token"])
    for path in ("/api/accounts/me", "/api/catalog/resources", "/api/audit/logs"):
        answer = Client().get(path, headers=bearer_header(token))
        assert (answer.status_code, answer.json()["detail"]) == (401, MACHINE_CLIENT_REFUSED), path


def test_a_revoked_credential_loses_its_tokens_and_cannot_get_new_ones(
    department: Department, catalog_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    credential, secret = services.issue_system_credential(system, actor=catalog_admin)
    token = str(client_credentials_token(credential, secret)[1]["access_token"])
    services.revoke_system_credential(credential, actor=catalog_admin, now=NOW)
    assert selectors.system_for_access_token(token) is None
    assert client_credentials_token(credential, secret)[0] == 401
    credential.refresh_from_db()
    assert credential.revoked_at == NOW
    with pytest.raises(Conflict):
        services.revoke_system_credential(credential, actor=catalog_admin)


def test_a_stopped_system_has_every_credential_revoked(department: Department, catalog_admin: User) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    first, first_secret = services.issue_system_credential(system, actor=catalog_admin)
    second, second_secret = services.issue_system_credential(system, actor=catalog_admin)
    token = str(client_credentials_token(second, second_secret)[1]["access_token"])
    with pytest.raises(ValidationFailed):
        services.deactivate_information_system(system, actor=catalog_admin, reason=" ")
    services.deactivate_information_system(system, actor=catalog_admin, reason="系统下线", now=NOW)
    assert selectors.system_for_access_token(token) is None
    assert [c.revoked_at for c in SystemCredential.objects.order_by("pk")] == [NOW, NOW]
    assert client_credentials_token(first, first_secret)[0] == 401
    with pytest.raises(Conflict):
        services.issue_system_credential(system, actor=catalog_admin)


def test_staff_of_other_departments_see_no_system_of_the_department(
    department: Department, other_department: Department, catalog_admin: User, platform_admin: User
) -> None:
    system = services.register_information_system(system_input(department), actor=catalog_admin)
    outsider = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    colleague = testing.make_user(Role.CONSUMER, department=department)
    with pytest.raises(NotFound):
        selectors.get_information_system(outsider, system.pk)
    assert list(selectors.information_systems_for(colleague)) == [system]
    assert list(selectors.information_systems_for(platform_admin)) == [system]
    assert list(selectors.information_systems_for(system)) == []  # a system does not list systems
    with pytest.raises(PermissionDenied):
        authz.require(colleague, MANAGE, system)  # sees it, may not manage it
    with pytest.raises(NotFound):
        authz.require(outsider, MANAGE, system)


def test_the_policy_scope_and_the_object_check_agree(
    department: Department, other_department: Department, catalog_admin: User, platform_admin: User
) -> None:
    ours = services.register_information_system(system_input(department), actor=catalog_admin)
    theirs = services.register_information_system(
        system_input(other_department, code="ybj-jsxt", name="结算系统"), actor=platform_admin
    )
    subjects: list[authz.Subject] = [
        catalog_admin,
        platform_admin,
        testing.make_user(Role.CONSUMER, department=department),
        testing.make_user(Role.AUDITOR, username="auditor"),
        ours,
        authz.ANONYMOUS,
    ]
    for subject in subjects:
        for action in (authz.VIEW, MANAGE):
            scoped = set(authz.restrict(InformationSystem.objects.all(), subject, action))
            checked = {system for system in (ours, theirs) if authz.permits(subject, action, system)}
            assert scoped == checked, (subject, action)


def test_calling_addresses_are_kept_in_canonical_form(department: Department, catalog_admin: User) -> None:
    data = system_input(department, allowed_networks="10.1.2.9/24\n\n2001:DB8::/32, 10.1.2.0/24")
    system = services.register_information_system(data, actor=catalog_admin)
    assert system.allowed_networks == "10.1.2.0/24\n2001:db8::/32"


def test_a_calling_address_that_is_not_one_is_refused_with_its_line(
    department: Department, catalog_admin: User
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.register_information_system(
            system_input(department, allowed_networks="10.1.2.0/24\n10.1.2.300"), actor=catalog_admin
        )
    [problem] = refused.value.problems
    assert problem.field == "allowed_networks" and "第 2 行" in problem.message and "10.1.2.300" in problem.message
