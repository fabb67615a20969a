"""Issuing, revoking and confirming grants: who may, what is validated, what is recorded; and the rules that decide
whether a grant is active on a day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound, PermissionDenied, ValidationFailed
from govshare.core.masking import MaskRule
from govshare.notifications.models import Notification
from govshare.sharing import grants
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Grant, Scenario
from govshare.testing.sharing import TODAY, issue, loaded_resource, make_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource(provider: Department) -> Resource:
    from govshare.testing.sharing import PEOPLE_ITEMS

    return testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口基本信息")


def _input(resource: Resource, consumer_department: Department, **fields: object) -> grants.GrantInput:
    scenario = make_scenario(consumer_department, name=f"核验场景{Scenario.objects.count() + 1}")
    values: dict[str, object] = {
        "department_id": consumer_department.pk,
        "scenario_id": scenario.pk,
        "resource_id": resource.pk,
        "items": ["公民身份号码", "姓名"],
        "valid_from": TODAY,
        "valid_until": TODAY + dt.timedelta(days=180),
        **fields,
    }
    return grants.GrantInput(**values)  # type: ignore[arg-type]


def _problems(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return " ".join(problem.message for problem in exc.value.problems)


# --- grant_is_active ----------------------------------------------------------------------------------------------


def test_a_grant_is_active_from_its_first_to_its_last_day(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    grant = issue(resource, consumer_department, actor=provider_reviewer)
    assert not grants.grant_is_active(grant, TODAY - dt.timedelta(days=1))
    assert grants.grant_is_active(grant, TODAY)
    assert grants.grant_is_active(grant, grant.valid_until)
    assert not grants.grant_is_active(grant, grant.valid_until + dt.timedelta(days=1))


def test_a_grant_lapses_when_its_access_review_is_overdue(resource: Resource, consumer_department: Department) -> None:
    grant = issue(resource, consumer_department, review_interval_days=90)
    assert grants.review_due_on(grant) == TODAY + dt.timedelta(days=90)
    assert grants.grant_is_active(grant, TODAY + dt.timedelta(days=90))
    assert grants.grant_state(grant, TODAY + dt.timedelta(days=91)) == grants.GrantState.LAPSED


def test_confirming_a_grant_restarts_its_review_period(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    grant = issue(resource, consumer_department, review_interval_days=90)
    later = TODAY + dt.timedelta(days=80)
    grants.confirm_grant(grant, actor=provider_reviewer, today=later)
    grant.refresh_from_db()
    assert grant.last_confirmed_on == later
    assert grants.grant_is_active(grant, TODAY + dt.timedelta(days=120))
    assert AuditLog.objects.filter(action="sharing.grant.confirm", object_id=str(grant.pk)).exists()


def test_a_grant_of_a_scenario_no_longer_approved_is_not_active(
    resource: Resource, consumer_department: Department
) -> None:
    grant = issue(resource, consumer_department)
    grant.scenario.status = ScenarioStatus.RETIRED
    assert grants.grant_state(grant, TODAY) == grants.GrantState.SCENARIO


# --- masking: stricter, never looser -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("default", "rule", "allowed"),
    [
        (MaskRule.ID_NUMBER, MaskRule.ID_NUMBER, True),
        (MaskRule.ID_NUMBER, MaskRule.WITHHOLD, True),
        (None, MaskRule.TEXT, True),
        (MaskRule.NAME, MaskRule.TEXT, False),  # 张*丰 shows a character the surname rule hides
        (MaskRule.WITHHOLD, MaskRule.ID_NUMBER, False),
        (MaskRule.ID_NUMBER, None, False),
    ],
)
def test_a_grant_s_masking_is_at_least_as_strict_as_the_default(default, rule, allowed) -> None:  # type: ignore[no-untyped-def]
    assert grants.at_least_as_strict(default, rule) is allowed


def test_masking_looser_than_the_grade_is_refused(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    data = _input(resource, consumer_department, masking={"姓名": MaskRule.TEXT})
    with pytest.raises(ValidationFailed) as refused:
        grants.issue_grant(data, actor=provider_reviewer, today=TODAY)
    assert "宽松" in _problems(refused)


# --- issuing: what is validated --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"items": ["宗教信仰"]}, "不予共享"),
        ({"items": ["籍贯"]}, "不在该资源中"),
        ({"items": []}, "至少"),
        ({"row_filter": {"籍贯": ["德阳"]}}, "行过滤所依据的信息项“籍贯”"),
        ({"row_filter": {"区县": []}}, "非空"),
        ({"masking": {"手机号码": "withhold"}}, "不在授权范围内"),
        ({"masking": {"姓名": "blur"}}, "无效"),
        ({"valid_until": TODAY - dt.timedelta(days=1)}, "截止日期"),
        ({"daily_quota": 0}, "每日调用上限"),
        ({"review_interval_days": 0}, "复核周期"),
    ],
)
def test_an_invalid_grant_is_refused_with_the_reason(  # type: ignore[no-untyped-def]
    resource, consumer_department, provider_reviewer, fields, expected
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        grants.issue_grant(_input(resource, consumer_department, **fields), actor=provider_reviewer, today=TODAY)
    assert expected in _problems(refused)
    assert not Grant.objects.exists()


def test_a_not_shared_resource_is_never_granted(
    provider: Department, consumer_department: Department, provider_reviewer: User
) -> None:
    secret = testing.make_published_resource(
        provider, share_type="not_shared", share_basis="《中华人民共和国国家安全法》", name="涉密人员信息"
    )
    data = _input(secret, consumer_department, items=[secret.items.first().name])  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed) as refused:
        grants.issue_grant(data, actor=provider_reviewer, today=TODAY)
    assert "不予共享" in _problems(refused)


def test_a_grant_cites_an_approved_scenario_of_the_consumer_department(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    draft = make_scenario(consumer_department, name="草稿场景", status=ScenarioStatus.DRAFT)
    with pytest.raises(ValidationFailed) as refused:
        data = dataclasses.replace(_input(resource, consumer_department), scenario_id=draft.pk)
        grants.issue_grant(data, actor=provider_reviewer, today=TODAY)
    assert "未通过审核" in _problems(refused)
    foreign = make_scenario(testing.make_department("市民政局"), name="他人场景")
    with pytest.raises(ValidationFailed) as refused:
        data = dataclasses.replace(_input(resource, consumer_department), scenario_id=foreign.pk)
        grants.issue_grant(data, actor=provider_reviewer, today=TODAY)
    assert "不属于使用部门" in _problems(refused)


def test_issuing_is_audited_and_told_to_the_consumer_department(
    resource: Resource, consumer_department: Department, consumer: User, provider_reviewer: User
) -> None:
    grant = grants.issue_grant(_input(resource, consumer_department), actor=provider_reviewer, today=TODAY)
    row = AuditLog.objects.get(action="sharing.grant.issue")
    assert row.object_id == str(grant.pk) and row.actor_id == provider_reviewer.pk
    assert Notification.objects.filter(recipient=consumer, kind="share_grant").exists()
    assert grant.last_confirmed_on == TODAY


# --- who may ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("roles", [(Role.CONSUMER,), (Role.CATALOG_ADMIN,), (Role.PLATFORM_ADMIN,), (Role.AUDITOR,)])
def test_only_the_provider_s_reviewer_or_the_coordinator_may_issue(  # type: ignore[no-untyped-def]
    resource, consumer_department, provider, roles
) -> None:
    department = None if roles[0] in (Role.PLATFORM_ADMIN, Role.AUDITOR) else provider
    with pytest.raises(PermissionDenied):
        grants.issue_grant(
            _input(resource, consumer_department), actor=testing.make_user(*roles, department=department), today=TODAY
        )


def test_another_department_s_reviewer_may_not_issue(resource: Resource, consumer_department: Department) -> None:
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=consumer_department)
    with pytest.raises(PermissionDenied):
        grants.issue_grant(_input(resource, consumer_department), actor=reviewer, today=TODAY)


def test_the_coordinator_may_issue_and_revoke(
    resource: Resource, consumer_department: Department, coordinator: User
) -> None:
    grant = grants.issue_grant(_input(resource, consumer_department), actor=coordinator, today=TODAY)
    grants.revoke_grant(grant, actor=coordinator, reason="协调员裁定停止共享")
    grant.refresh_from_db()
    assert grant.status == "revoked" and grant.revoked_by == coordinator


def test_a_consumer_may_not_revoke_its_own_grant_and_an_outsider_does_not_see_it(
    resource: Resource, consumer_department: Department, consumer: User
) -> None:
    grant = issue(resource, consumer_department)
    with pytest.raises(PermissionDenied):
        grants.revoke_grant(grant, actor=consumer, reason="不想要了")
    outsider = testing.make_user(Role.DEPT_REVIEWER, department=testing.make_department("市民政局"))
    with pytest.raises(NotFound):
        grants.revoke_grant(grant, actor=outsider, reason="越权撤销")
    with pytest.raises(NotFound):
        grants.get_grant(outsider, grant.pk)


def test_revoking_needs_a_reason(resource: Resource, consumer_department: Department, provider_reviewer: User) -> None:
    grant = issue(resource, consumer_department)
    with pytest.raises(ValidationFailed):
        grants.revoke_grant(grant, actor=provider_reviewer, reason="  ")
    grant.refresh_from_db()
    assert grant.status == "active"


def test_the_coordinator_may_not_confirm_the_provider_s_review(
    resource: Resource, consumer_department: Department, coordinator: User
) -> None:
    grant = issue(resource, consumer_department)
    with pytest.raises(PermissionDenied):
        grants.confirm_grant(grant, actor=coordinator, today=TODAY)


def test_each_party_sees_the_grants_that_concern_it(
    resource: Resource, consumer_department: Department, consumer: User, provider_reviewer: User, coordinator: User
) -> None:
    grant = issue(resource, consumer_department)
    auditor = testing.make_user(Role.AUDITOR)
    stranger = testing.make_user(Role.CONSUMER, department=testing.make_department("市民政局"))
    assert list(grants.grants_for(consumer, side="consumer")) == [grant]
    assert list(grants.grants_for(consumer, side="provider")) == []
    assert list(grants.grants_for(provider_reviewer, side="provider")) == [grant]
    assert list(grants.grants_for(coordinator)) == [grant]
    assert list(grants.grants_for(auditor)) == [grant]
    assert list(grants.grants_for(stranger)) == []


# --- reminders --------------------------------------------------------------------------------------------------


def test_the_parties_are_told_once_when_a_grant_is_about_to_lapse(
    resource: Resource, consumer_department: Department, consumer: User, provider_reviewer: User
) -> None:
    grant = issue(resource, consumer_department, review_interval_days=60, actor=provider_reviewer)
    assert grants.remind_lapsing(TODAY) == 0
    soon = TODAY + dt.timedelta(days=40)
    assert grants.remind_lapsing(soon) == 1
    assert grants.remind_lapsing(soon + dt.timedelta(days=1)) == 0
    told = Notification.objects.filter(title__startswith="共享授权即将失效")
    assert {row.recipient_id for row in told} == {consumer.pk, provider_reviewer.pk}
    assert grants.due_for_review(provider_reviewer, soon) == [grant]
    assert grants.due_for_review(consumer, soon) == []


def test_a_loaded_resource_is_granted_with_the_test_factory(
    provider: Department, consumer_department: Department, tmp_path: Path
) -> None:
    """The shared factory's resource (used by the threat tests) holds data and a grant reads it."""
    loaded = loaded_resource(provider, tmp_path)
    grant = issue(loaded, consumer_department)
    assert grants.grant_is_active(grant, TODAY)


def test_the_daily_command_reminds_the_parties(
    resource: Resource, consumer_department: Department, consumer: User
) -> None:
    import io

    from django.core.management import call_command

    issue(resource, consumer_department, review_interval_days=10)
    out = io.StringIO()
    call_command("remind_lapsing_grants", stdout=out)
    assert "已提醒 1 项" in out.getvalue()
    assert Notification.objects.filter(recipient=consumer, title__startswith="共享授权即将失效").exists()
