"""Information systems' 等保 level and hosting, credential rotation with an overlap, and the last use the
inventory shows. The clock is injected (govshare.testing.clock) wherever the outcome depends on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.core.errors import Conflict, ValidationFailed
from govshare.identity import selectors, services
from govshare.identity.choices import CredentialState, Hosting, ProtectionLevel
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.testing.clock import T0, minutes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def system(department: Department, admin: User) -> InformationSystem:
    return services.register_information_system(
        services.SystemInput(
            code="ybj-hx",
            name="参保身份核验系统",
            department=department,
            protection_level=ProtectionLevel.LEVEL_3,
            hosting=Hosting.GOV_CLOUD,
        ),
        actor=admin,
    )


def token_answer(credential: SystemCredential, secret: str) -> tuple[int, dict[str, object]]:
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


def test_a_system_records_its_protection_level_and_hosting(system: InformationSystem) -> None:
    system.refresh_from_db()
    assert (system.protection_level, system.hosting) == ("3", "gov_cloud")
    assert system.get_protection_level_display() == "第三级"


def test_an_unknown_protection_level_or_hosting_is_refused(department: Department, admin: User) -> None:
    data = services.SystemInput(code="x-1", name="某系统", department=department, protection_level="6", hosting="moon")
    with pytest.raises(ValidationFailed) as refused:
        services.register_information_system(data, actor=admin)
    assert {p.field for p in refused.value.problems} == {"protection_level", "hosting"}


def test_an_update_changes_level_and_hosting_and_audits_them(system: InformationSystem, admin: User) -> None:
    data = services.SystemInput(
        code=system.code,
        name=system.name,
        department=system.department,
        protection_level=ProtectionLevel.LEVEL_2,
        hosting=Hosting.SELF_HOSTED,
    )
    services.update_information_system(system, data, actor=admin)
    changes = AuditLog.objects.get(action="identity.system.update").extra["changes"]
    assert changes["protection_level"] == {"from": "3", "to": "2"}
    assert changes["hosting"] == {"from": "gov_cloud", "to": "self_hosted"}


def test_a_stopped_system_keeps_when_and_why(system: InformationSystem, admin: User) -> None:
    services.deactivate_information_system(system, actor=admin, reason="业务并入省平台", now=T0)
    system.refresh_from_db()
    assert (system.deactivated_at, system.deactivate_reason) == (T0, "业务并入省平台")


def test_rotation_issues_a_successor_and_both_work_during_the_overlap(system: InformationSystem, admin: User) -> None:
    old, old_secret = services.issue_system_credential(system, actor=admin)
    old_token = str(token_answer(old, old_secret)[1]["access_token"])
    new, new_secret = services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(days=7))
    assert new_secret != old_secret
    old.refresh_from_db()
    assert old.replaced_by == new and old.state_at(old.created_at) == CredentialState.ROTATING
    # Within the overlap (real time: seven days ahead), both obtain tokens and the old token still speaks.
    assert token_answer(old, old_secret)[0] == 200
    assert token_answer(new, new_secret)[0] == 200
    assert selectors.system_for_access_token(old_token) == system
    row = AuditLog.objects.get(action="identity.credential.rotate")
    assert row.extra["new_client_id"] == new.application.client_id
    assert old_secret not in str(row.extra) and new_secret not in str(row.extra)


def test_a_rotated_out_credential_is_refused_after_the_overlap(system: InformationSystem, admin: User) -> None:
    old, old_secret = services.issue_system_credential(system, actor=admin)
    token = str(token_answer(old, old_secret)[1]["access_token"])
    services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(hours=1), now=T0)
    old.refresh_from_db()
    assert old.expires_at == minutes(60)
    app = old.application_id
    assert selectors.credential_accepts_tokens(app, now=minutes(59))
    assert not selectors.credential_accepts_tokens(app, now=minutes(60))
    assert selectors.system_for_access_token(token, now=minutes(59)) == system
    assert selectors.system_for_access_token(token, now=minutes(61)) is None
    # The token endpoint asks the real clock, already past T0 + 1 h: the old secret obtains nothing.
    assert token_answer(old, old_secret)[0] == 401


def test_the_sweep_revokes_credentials_past_their_overlap_once(system: InformationSystem, admin: User) -> None:
    old, _ = services.issue_system_credential(system, actor=admin)
    new, _ = services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(hours=1), now=T0)
    assert services.end_expired_credentials(now=minutes(30)) == 0
    assert services.end_expired_credentials(now=minutes(90)) == 1
    assert services.end_expired_credentials(now=minutes(120)) == 0
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.revoked_at == minutes(90) and new.revoked_at is None
    assert AuditLog.objects.filter(action="identity.credential.expire").count() == 1


def test_a_zero_overlap_ends_the_old_credential_at_once(system: InformationSystem, admin: User) -> None:
    old, old_secret = services.issue_system_credential(system, actor=admin)
    services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(0))
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert token_answer(old, old_secret)[0] == 401


def test_a_credential_is_rotated_once_and_never_beyond_thirty_days(system: InformationSystem, admin: User) -> None:
    old, _ = services.issue_system_credential(system, actor=admin)
    with pytest.raises(ValidationFailed):
        services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(days=31))
    services.rotate_system_credential(old, actor=admin)
    with pytest.raises(Conflict):
        services.rotate_system_credential(old, actor=admin)


def test_a_token_issue_and_use_record_the_last_use(system: InformationSystem, admin: User) -> None:
    credential, secret = services.issue_system_credential(system, actor=admin)
    assert credential.last_used_at is None
    token = str(token_answer(credential, secret)[1]["access_token"])
    credential.refresh_from_db()
    assert credential.last_used_at is not None
    later = credential.last_used_at + dt.timedelta(minutes=5)
    selectors.system_for_access_token(token, now=later - dt.timedelta(minutes=4, seconds=30))
    credential.refresh_from_db()
    assert credential.last_used_at == later - dt.timedelta(minutes=5)  # within the minute: not written again
    # The token's own lifetime is the real clock's: `later` is within it.
    selectors.system_for_access_token(token, now=later)
    credential.refresh_from_db()
    assert credential.last_used_at == later
    listed = selectors.system_register(admin).get(pk=system.pk)
    assert listed.last_used_at == later  # type: ignore[attr-defined]


def test_the_command_ends_credentials_past_their_overlap(system: InformationSystem, admin: User) -> None:
    import io

    from django.core.management import call_command

    old, _ = services.issue_system_credential(system, actor=admin)
    services.rotate_system_credential(old, actor=admin, overlap=dt.timedelta(hours=1), now=T0)
    out = io.StringIO()
    call_command("end_expired_credentials", stdout=out)  # the real clock is past T0 + 1 h
    old.refresh_from_db()
    assert old.revoked_at is not None and "已吊销 1 个" in out.getvalue()
