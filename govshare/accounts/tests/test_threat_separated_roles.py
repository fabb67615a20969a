"""Attack: 三员分立 held per account only. The platform administrator creates an "auditor2" with a password it knows,
swaps its own role to 审计员 in one admin save (the stale role cache), or resets the real auditor's password or
second factor, and so reads the audit trail or decides gradings as someone else.

Granting 审计员 or 安全管理员 is now a two-person act (a 平台管理员 proposes, a holder of the third separated role
confirms; never the proposer), no separated role administers another's credentials or roles, and the first holders
come from the operator's command on the server."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from govshare import testing
from govshare.accounts import services
from govshare.accounts.choices import Role, RoleGrantStatus
from govshare.accounts.models import RoleGrantRequest, User
from govshare.audit.models import AuditLog
from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.identity import services as identity_services
from govshare.identity.models import PasswordChangeRequired, TOTPDevice

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Chosen-By-Me-2026"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def user_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": "auditor2",
        "full_name": "审计员乙",
        "email": "",
        "department": "",
        "is_active": "on",
        "roles": [],
        "new_password": "Admin-Knows-This-2026",
    }
    data.update(overrides)
    return data


def change_form(user: User, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(services.held_roles(user)),
        "new_password": "",
    }
    return user_form(**{**values, **overrides})


def decide(user: User, grant: RoleGrantRequest, decision: str, **extra: str) -> str:
    answer = client_for(user).post(
        f"/account/role-grants/{grant.pk}/decide/", {"decision": decision, **extra}, follow=True
    )
    assert answer.status_code == 200
    return answer.content.decode()


@pytest.fixture
def officer(db: Any) -> User:
    return testing.make_user(Role.SECURITY_OFFICER, username="security")


@pytest.fixture
def auditor(db: Any) -> User:
    return testing.make_user(Role.AUDITOR, username="auditor")


# ------------------------------------------------------------------------------------------ auditor2


def test_an_auditor_created_by_the_administrator_is_only_a_pending_grant(platform_admin, officer) -> None:  # type: ignore[no-untyped-def]
    answer = client_for(platform_admin).post("/admin/accounts/user/add/", user_form(roles=[Role.AUDITOR]), follow=True)
    assert "须由安全管理员在“三员授权”页面" in answer.content.decode()
    auditor2 = User.objects.get(username="auditor2")
    assert services.held_roles(auditor2) == frozenset()
    grant = RoleGrantRequest.objects.get(user=auditor2)
    assert (grant.role, grant.status, grant.proposed_by) == (Role.AUDITOR, RoleGrantStatus.PENDING, platform_admin)
    assert client_for(auditor2).get("/api/audit/logs").status_code == 403
    assert AuditLog.objects.filter(action="accounts.role_grant.propose", actor=platform_admin).exists()


def test_the_grant_waits_for_the_person_to_replace_the_administrators_password(platform_admin, officer) -> None:  # type: ignore[no-untyped-def]
    client_for(platform_admin).post("/admin/accounts/user/add/", user_form(roles=[Role.AUDITOR]))
    auditor2 = User.objects.get(username="auditor2")
    grant = RoleGrantRequest.objects.get(user=auditor2)
    page = decide(officer, grant, "confirm")
    assert "仍在使用管理员设置的临时密码" in page
    assert services.held_roles(auditor2) == frozenset()
    identity_services.change_own_password(auditor2, "Admin-Knows-This-2026", NEW_PASSWORD)
    decide(officer, grant, "confirm")
    assert services.held_roles(auditor2) == {Role.AUDITOR}
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by) == (RoleGrantStatus.CONFIRMED, officer)
    assigned = AuditLog.objects.get(action="accounts.role.assign", object_id=str(auditor2.pk))
    assert (assigned.actor, assigned.extra["proposed_by"]) == (officer, platform_admin.username)
    assert AuditLog.objects.filter(action="accounts.role_grant.confirm", actor=officer).exists()
    assert client_for(auditor2).get("/api/audit/logs").status_code == 200


def test_without_a_security_officer_the_web_refuses_and_names_the_command(platform_admin) -> None:  # type: ignore[no-untyped-def]
    answer = client_for(platform_admin).post("/admin/accounts/user/add/", user_form(roles=[Role.AUDITOR]))
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "尚无在任的安全管理员" in page and "govshare separated_roles grant auditor2 auditor" in page
    assert not User.objects.filter(username="auditor2").exists()


@pytest.mark.parametrize("decider", ["proposer", "second_platform_admin", "auditor", "the_account"])
def test_only_a_security_officer_other_than_the_proposer_confirms_an_auditor(
    platform_admin, officer, auditor, department, decider: str
) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    actor = {
        "proposer": platform_admin,
        "second_platform_admin": testing.make_user(Role.PLATFORM_ADMIN),
        "auditor": auditor,
        "the_account": candidate,
    }[decider]
    with pytest.raises((PermissionDenied, Conflict)):
        services.confirm_role_grant(grant, actor=actor)
    assert services.held_roles(candidate) == {Role.CONSUMER}
    assert RoleGrantRequest.objects.get(pk=grant.pk).status == RoleGrantStatus.PENDING


def test_the_page_refuses_the_proposer_with_the_reason(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    assert "只有安全管理员可以确认或拒绝授予审计员的申请" in decide(platform_admin, grant, "confirm")
    assert services.held_roles(candidate) == {Role.CONSUMER}


def test_a_security_officer_is_confirmed_by_the_auditor(platform_admin, auditor, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.SECURITY_OFFICER, actor=platform_admin)
    services.confirm_role_grant(grant, actor=auditor)
    assert Role.SECURITY_OFFICER in services.held_roles(candidate)


def test_a_rejected_grant_grants_nothing(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    assert "拒绝时请写明理由" in decide(officer, grant, "reject", reason=" ")
    decide(officer, grant, "reject", reason="未核实本人身份")
    grant.refresh_from_db()
    assert (grant.status, grant.reason) == (RoleGrantStatus.REJECTED, "未核实本人身份")
    with pytest.raises(Conflict):
        services.confirm_role_grant(grant, actor=officer)
    assert services.held_roles(candidate) == {Role.CONSUMER}


def test_a_grant_proposed_by_a_former_administrator_cannot_be_confirmed(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    services.revoke_role(platform_admin, Role.PLATFORM_ADMIN, actor=None)
    with pytest.raises(Conflict, match="申请人已不再是在任的平台管理员"):
        services.confirm_role_grant(grant, actor=officer)


def test_tokens_issued_before_the_grant_do_not_gain_the_role(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    _, raw = services.create_api_token(candidate, name="早先的令牌", scope="write", actor=candidate)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    services.confirm_role_grant(grant, actor=officer)
    assert Client().get("/api/audit/logs", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_an_administrator_cannot_grant_a_separated_role_directly(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    for role in (Role.AUDITOR, Role.SECURITY_OFFICER):
        with pytest.raises(PermissionDenied, match="须两人办理"):
            services.assign_role(candidate, role, actor=platform_admin)
    assert services.held_roles(candidate) == {Role.CONSUMER}


# ------------------------------------------------------------------------------------------ swapping one's own role


def test_the_administrator_cannot_swap_its_own_role_to_auditor_in_one_save(platform_admin, officer) -> None:  # type: ignore[no-untyped-def]
    data = change_form(platform_admin, roles=[Role.AUDITOR])
    answer = client_for(platform_admin).post(f"/admin/accounts/user/{platform_admin.pk}/change/", data)
    assert answer.status_code == 200
    assert "不能撤销自己的平台管理员角色" in answer.content.decode()
    assert services.held_roles(platform_admin) == {Role.PLATFORM_ADMIN}
    assert not RoleGrantRequest.objects.exists()


def test_a_stale_role_cache_gives_no_power(platform_admin, department) -> None:  # type: ignore[no-untyped-def]
    """The acting instance still caches 平台管理员 after the role was taken away (as the admin's request.user did
    within one save): every check reads the roles held now."""
    assert platform_admin.is_platform_admin  # cached on this instance
    services.revoke_role(User.objects.get(pk=platform_admin.pk), Role.PLATFORM_ADMIN, actor=None)
    target = testing.make_user(department=department)
    with pytest.raises(PermissionDenied):
        services.assign_role(target, Role.CATALOG_ADMIN, actor=platform_admin)
    with pytest.raises(PermissionDenied):
        services.propose_role_grant(target, Role.AUDITOR, actor=platform_admin)
    with pytest.raises(PermissionDenied):
        services.set_user_password(target, NEW_PASSWORD, actor=platform_admin)


def test_no_account_ever_holds_two_separated_roles_in_one_save(platform_admin, officer) -> None:  # type: ignore[no-untyped-def]
    other_admin = testing.make_user(Role.PLATFORM_ADMIN, username="admin2")
    data = change_form(other_admin, roles=[Role.PLATFORM_ADMIN, Role.AUDITOR])
    answer = client_for(platform_admin).post(f"/admin/accounts/user/{other_admin.pk}/change/", data)
    assert "三员分立" in answer.content.decode()
    assert services.held_roles(other_admin) == {Role.PLATFORM_ADMIN}
    assert not RoleGrantRequest.objects.exists()


# ------------------------------------------------------------------------------------------ the auditor's credentials


@pytest.fixture(params=["auditor", "security"])
def separated(request: pytest.FixtureRequest, db: Any) -> User:
    role = Role.AUDITOR if request.param == "auditor" else Role.SECURITY_OFFICER
    return testing.make_user(role, username=request.param)


def test_the_administrator_cannot_reset_their_password_in_the_back_office(platform_admin, separated) -> None:  # type: ignore[no-untyped-def]
    data = change_form(separated, new_password="Admin-Knows-This-2026")
    answer = client_for(platform_admin).post(f"/admin/accounts/user/{separated.pk}/change/", data)
    assert answer.status_code == 200
    assert "三员分立：不能管理" in answer.content.decode()
    separated.refresh_from_db()
    assert separated.check_password(testing.TEST_PASSWORD)
    assert not PasswordChangeRequired.objects.filter(user=separated).exists()


def test_the_administrator_cannot_reset_their_second_factor(platform_admin, separated) -> None:  # type: ignore[no-untyped-def]
    TOTPDevice.objects.create(user=separated, name="验证器应用", confirmed=True)
    data = {"action": "reset_second_factor", "_selected_action": [separated.pk]}
    answer = client_for(platform_admin).post("/admin/accounts/user/", data, follow=True)
    assert "三员分立：不能管理" in answer.content.decode()
    assert TOTPDevice.objects.filter(user=separated).exists()
    with pytest.raises(PermissionDenied):
        identity_services.reset_second_factor(separated, actor=platform_admin)


def test_the_administrator_cannot_set_their_password_through_the_services(platform_admin, separated) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        identity_services.set_temporary_password(separated, "Admin-Knows-This-2026", actor=platform_admin)
    with pytest.raises(PermissionDenied):
        services.set_user_password(separated, "Admin-Knows-This-2026", actor=platform_admin)
    separated.refresh_from_db()
    assert separated.check_password(testing.TEST_PASSWORD)


def test_the_administrator_cannot_revoke_their_tokens(platform_admin, separated) -> None:  # type: ignore[no-untyped-def]
    token, raw = services.create_api_token(separated, name="脚本", scope="read", actor=separated)
    data = {"action": "revoke_tokens", "_selected_action": [token.pk]}
    client_for(platform_admin).post("/admin/accounts/apitoken/", data)
    assert services.user_for_token(raw) == separated


def test_the_administrator_cannot_change_their_roles_or_deactivate_them(platform_admin, separated, department) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.assign_role(separated, Role.CONSUMER, actor=platform_admin)
    held = next(iter(services.held_roles(separated)))
    with pytest.raises(PermissionDenied):
        services.revoke_role(separated, held, actor=platform_admin)
    data = change_form(separated)
    data.pop("is_active")
    answer = client_for(platform_admin).post(f"/admin/accounts/user/{separated.pk}/change/", data)
    assert "启用状态" in answer.content.decode()
    separated.refresh_from_db()
    assert separated.is_active and services.held_roles(separated) == {held}


def test_their_profile_stays_editable_by_the_administrator(platform_admin, separated) -> None:  # type: ignore[no-untyped-def]
    data = change_form(separated, full_name="改名后")
    assert client_for(platform_admin).post(f"/admin/accounts/user/{separated.pk}/change/", data).status_code == 302
    separated.refresh_from_db()
    assert separated.full_name == "改名后"


def test_they_change_their_own_password(separated) -> None:  # type: ignore[no-untyped-def]
    identity_services.change_own_password(separated, testing.TEST_PASSWORD, NEW_PASSWORD)
    separated.refresh_from_db()
    assert separated.check_password(NEW_PASSWORD)


def test_one_separated_role_cannot_administer_another(officer, auditor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        identity_services.reset_second_factor(auditor, actor=officer)
    with pytest.raises(PermissionDenied):
        services.set_user_password(officer, NEW_PASSWORD, actor=auditor)


# ------------------------------------------------------------------------------------------ the role grants page


def test_the_role_grants_page_is_for_the_separated_roles_only(platform_admin, officer, auditor, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    for user in (platform_admin, officer, auditor):
        assert client_for(user).get("/account/role-grants/").status_code == 200
    assert client_for(catalog_admin).get("/account/role-grants/").status_code == 404


def test_the_administrator_withdraws_a_proposal(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    grant = services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    decide(platform_admin, grant, "cancel")
    assert RoleGrantRequest.objects.get(pk=grant.pk).status == RoleGrantStatus.CANCELLED
    assert AuditLog.objects.filter(action="accounts.role_grant.cancel", actor=platform_admin).exists()


# ------------------------------------------------------------------------------------------ the operator


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("separated_roles", *args, stdout=out)
    return out.getvalue()


def test_the_operator_names_the_first_holders_on_the_server(db) -> None:  # type: ignore[no-untyped-def]
    printed = run("grant", "first_auditor", "auditor", "--create", "--full-name", "何文博")
    auditor = User.objects.get(username="first_auditor")
    assert services.held_roles(auditor) == {Role.AUDITOR}
    password = printed.rsplit("：", 1)[1].strip()
    assert auditor.check_password(password)
    assert PasswordChangeRequired.objects.filter(user=auditor).exists()
    row = AuditLog.objects.get(action="accounts.role.assign", object_id=str(auditor.pk))
    assert row.actor is None
    run("grant", "security", "安全管理员", "--create")
    listing = run("list")
    assert "审计员：first_auditor" in listing and "安全管理员：security" in listing


def test_the_operator_keeps_the_separation_of_duties(platform_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="三员分立"):
        run("grant", platform_admin.username, "auditor")
    with pytest.raises(CommandError, match="不是三员角色"):
        run("grant", platform_admin.username, "catalog_admin")
    with pytest.raises(CommandError, match="加上 --create"):
        run("grant", "nobody", "auditor")


def test_the_operator_resets_what_the_administrator_may_not(auditor) -> None:  # type: ignore[no-untyped-def]
    TOTPDevice.objects.create(user=auditor, name="验证器应用", confirmed=True)
    password = run("reset-password", "auditor").rsplit("：", 1)[1].strip()
    auditor.refresh_from_db()
    assert auditor.check_password(password)
    assert "已重置" in run("reset-second-factor", "auditor")
    assert not TOTPDevice.objects.filter(user=auditor).exists()
    run("revoke", "auditor", "auditor")
    assert services.held_roles(auditor) == frozenset()


def test_the_demo_city_gets_its_security_officer_and_auditor_from_the_operator_path(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo_data", "--resources", "20", "--departments", "2", stdout=io.StringIO())
    for username, role in (("security", Role.SECURITY_OFFICER), ("auditor", Role.AUDITOR)):
        user = User.objects.get(username=username)
        assert services.held_roles(user) == {role}
        assert AuditLog.objects.get(action="accounts.role.assign", object_id=str(user.pk)).actor is None
    assert not RoleGrantRequest.objects.exists()


def test_a_grant_needs_an_active_account_and_a_separated_role(platform_admin, officer, department) -> None:  # type: ignore[no-untyped-def]
    candidate = testing.make_user(Role.CONSUMER, department=department)
    with pytest.raises(ValidationFailed):
        services.propose_role_grant(candidate, Role.CATALOG_ADMIN, actor=platform_admin)
    services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
    with pytest.raises(Conflict, match="正等待安全管理员确认"):
        services.propose_role_grant(candidate, Role.AUDITOR, actor=platform_admin)
