import pytest

from govshare import testing
from govshare.accounts import services
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied, ValidationFailed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER),
        (Role.PLATFORM_ADMIN, Role.AUDITOR),
        (Role.SECURITY_OFFICER, Role.AUDITOR),
        (Role.AUDITOR, Role.PLATFORM_ADMIN),
    ],
)
def test_no_account_holds_two_of_the_three_separated_roles(first: str, second: str) -> None:
    user = testing.make_user(first)
    with pytest.raises(ValidationFailed) as raised:
        services.assign_role(user, second, actor=None)
    assert "三员分立" in str(raised.value)
    assert set(user.roles.values_list("role", flat=True)) == {first}


@pytest.mark.django_db
def test_creating_a_user_with_two_separated_roles_creates_nothing() -> None:
    with pytest.raises(ValidationFailed):
        testing.make_user(Role.PLATFORM_ADMIN, Role.AUDITOR, username="both")
    from govshare.accounts.models import User

    assert not User.objects.filter(username="both").exists()


@pytest.mark.django_db
def test_a_separated_role_combines_with_ordinary_roles(department) -> None:
    user = testing.make_user(Role.SECURITY_OFFICER, Role.CONSUMER, department=department)
    assert user.role_set() == {Role.SECURITY_OFFICER, Role.CONSUMER}


@pytest.mark.django_db
def test_role_assignment_is_audited(department) -> None:
    user = testing.make_user(department=department)
    services.assign_role(user, Role.CONSUMER, actor=None)
    assert AuditLog.objects.filter(action="accounts.role.assign", object_id=str(user.pk)).exists()


@pytest.mark.django_db
def test_only_the_platform_administrator_assigns_roles(catalog_admin, department) -> None:
    user = testing.make_user(department=department)
    with pytest.raises(PermissionDenied):
        services.assign_role(user, Role.CONSUMER, actor=catalog_admin)


@pytest.mark.django_db
def test_department_code_must_be_a_valid_credit_code() -> None:
    with pytest.raises(ValidationFailed) as raised:
        services.create_department(
            services.DepartmentInput(code="11510600000000011", name="错误部门", level="city"), actor=None
        )
    assert "部门代码无效" in str(raised.value)


@pytest.mark.django_db
def test_api_token_is_stored_as_a_digest_and_authenticates(catalog_admin) -> None:
    token, raw = services.create_api_token(catalog_admin, name="脚本", scope="write", actor=catalog_admin)
    assert raw not in token.digest
    assert services.user_for_token(raw) == catalog_admin
    services.revoke_api_token(token, actor=catalog_admin)
    assert services.user_for_token(raw) is None
