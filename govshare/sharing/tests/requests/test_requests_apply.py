"""Applying: the cart, what may be asked for, and submission (deadlines in working days, unconditional grants)."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare import testing
from govshare.accounts.calendar_services import DayEntry, save_year
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.core.workdays import add_working_days
from govshare.identity.models import InformationSystem
from govshare.notifications.models import Notification
from govshare.sharing import requests
from govshare.sharing.choices import LineStatus, RequestStatus, ScenarioStatus
from govshare.sharing.models import Scenario, ShareRequestLine
from govshare.testing.share_requests import submitted
from govshare.testing.sharing import TODAY, make_scenario


def test_adding_a_resource_opens_the_cart_with_every_shareable_item(applicant: User, people: Resource) -> None:
    line = requests.add_to_request(applicant, people.pk)

    assert line.request.status == RequestStatus.DRAFT
    assert line.request.created_by == applicant
    assert line.items == ["公民身份号码", "姓名", "手机号码", "区县", "户籍地址"]  # not 宗教信仰 (不予共享)


def test_adding_the_same_resource_again_replaces_its_items(applicant: User, people: Resource) -> None:
    requests.add_to_request(applicant, people.pk)
    line = requests.add_to_request(applicant, people.pk, items=["姓名"])

    assert ShareRequestLine.objects.filter(request=line.request).count() == 1
    assert line.items == ["姓名"]


def test_a_not_shared_resource_cannot_be_requested_and_the_refusal_quotes_its_basis(
    applicant: User, provider: Department
) -> None:
    secret = testing.make_published_resource(
        provider, name="涉密人员名单", share_type="not_shared", share_basis="《保守国家秘密法》第二十八条"
    )

    with pytest.raises(Conflict, match=r"不予共享.*保守国家秘密法"):
        requests.add_to_request(applicant, secret.pk)


def test_a_not_shared_item_cannot_be_asked_for(applicant: User, people: Resource) -> None:
    with pytest.raises(ValidationFailed) as refused:
        requests.add_to_request(applicant, people.pk, items=["姓名", "宗教信仰"])

    assert "宗教信仰" in refused.value.problems[0].message


def test_a_department_does_not_request_its_own_resource(provider: Department, people: Resource) -> None:
    own = testing.make_user(Role.CONSUMER, department=provider)

    with pytest.raises(Conflict, match="本部门"):
        requests.add_to_request(own, people.pk)


def test_only_consumers_apply(applying_department: Department, people: Resource) -> None:
    admin = testing.make_user(Role.CATALOG_ADMIN, department=applying_department)

    with pytest.raises(PermissionDenied):
        requests.add_to_request(admin, people.pk)


def test_submission_names_every_missing_field(applicant: User, people: Resource) -> None:
    cart = requests.add_to_request(applicant, people.pk).request

    with pytest.raises(ValidationFailed) as refused:
        requests.submit_request(applicant, cart, today=TODAY)

    fields = {problem.field for problem in refused.value.problems}
    assert {"scenario_id", "system_id", "purpose", "valid_until"} <= fields
    cart.refresh_from_db()
    assert cart.status == RequestStatus.DRAFT  # nothing lost: still the cart


def test_a_scenario_not_yet_approved_cannot_be_cited(
    applicant: User, applying_department: Department, people: Resource, applicant_system: InformationSystem
) -> None:
    draft = make_scenario(applying_department, name="待审场景", status=ScenarioStatus.SUBMITTED)
    draft.systems.add(applicant_system)

    with pytest.raises(ValidationFailed, match="申请尚不能提交") as refused:
        submitted(applicant, [people], draft, applicant_system)

    assert any("未通过审核" in problem.message for problem in refused.value.problems)


def test_the_system_must_serve_the_scenario(
    applicant: User, applying_department: Department, people: Resource, applicant_scenario: Scenario
) -> None:
    admin = testing.make_user(Role.CATALOG_ADMIN, department=applying_department)
    from govshare.identity import services as identity_services

    other = identity_services.register_information_system(
        identity_services.SystemInput(code="ybj-other", name="医保结算系统", department=applying_department),
        actor=admin,
    )

    with pytest.raises(ValidationFailed) as refused:
        submitted(applicant, [people], applicant_scenario, other)

    assert any("承载系统" in problem.message for problem in refused.value.problems)


def test_a_conditional_line_enters_the_provider_stage_with_ten_working_days(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    request = submitted(applicant, [people], applicant_scenario, applicant_system)

    line = request.lines.get()
    assert request.status == RequestStatus.IN_REVIEW
    assert request.number == f"GX{TODAY:%Y%m%d}{request.pk:06d}"
    assert line.status == LineStatus.IN_REVIEW
    assert line.stage == {"name": "提供部门审核", "reviewer": "provider", "days": 10}
    assert line.due_on == add_working_days(TODAY, 10) == dt.date(2026, 3, 16)


def test_the_deadline_skips_national_day_and_counts_the_adjusted_saturday(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    # Submitted on Monday 2026-09-28: 29, 30 September, then 8, 9, Saturday 10 (调休上班), 12–16 October.
    request = submitted(applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 9, 28))

    assert request.lines.get().due_on == dt.date(2026, 10, 16)  # counting weekdays alone would say 12 October


def test_a_deadline_in_a_year_nobody_entered_is_not_guessed(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    platform_admin = testing.make_user(Role.PLATFORM_ADMIN)

    request = submitted(applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 12, 28))

    line = request.lines.get()
    assert line.due_on is None
    assert "2027" in line.deadline_problem
    assert Notification.objects.filter(recipient=platform_admin, title__contains="2027").exists()
    assert "期限无法计算" in requests.urgency(line, dt.date(2026, 12, 28))


def test_the_waiting_deadline_is_computed_once_the_year_is_entered(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    request = submitted(applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 12, 28))
    platform_admin = testing.make_user(Role.PLATFORM_ADMIN)
    # 2027 as an administrator would enter it (元旦 on Friday 1 January; nothing else matters here).
    save_year(platform_admin, 2027, [DayEntry(dt.date(2027, 1, 1), "holiday", "元旦")])

    run = requests.follow_deadlines(today=dt.date(2026, 12, 29))

    line = request.lines.get()
    assert run.computed == 1
    # 29, 30, 31 December, then 4–8 and 11, 12 January (1 January a holiday, 2 and 3 a weekend).
    assert line.due_on == dt.date(2027, 1, 12)
    assert line.deadline_problem == ""


def test_an_unconditional_resource_is_granted_at_once_by_rule(
    applicant: User, provider: Department, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    open_items = [
        ItemDraft(name="单位名称", data_type="C", length=100),
        ItemDraft(name="地址", data_type="C", length=200),
    ]
    directory = testing.make_published_resource(
        provider, name="办事网点名录", share_type="unconditional", share_condition="", items=open_items
    )

    request = submitted(applicant, [directory], applicant_scenario, applicant_system)

    line = request.lines.get()
    assert line.status == LineStatus.APPROVED
    assert line.grant is not None and line.grant.granted_by is None
    assert line.grant.items == ["单位名称", "地址"]
    assert request.status == RequestStatus.CLOSED
    audit = AuditLog.objects.get(action="sharing.grant.issue", object_id=str(line.grant.pk))
    assert audit.extra["basis"] == "无条件共享"


def test_a_submitted_request_cannot_be_edited(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    request = submitted(applicant, [people], applicant_scenario, applicant_system)

    with pytest.raises(Conflict):
        requests.update_request(applicant, request, requests.RequestInput(purpose="改了"))


def test_another_department_never_sees_the_request(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> None:
    request = submitted(applicant, [people], applicant_scenario, applicant_system)
    stranger = testing.make_user(Role.CONSUMER, department=testing.make_department("市住建局"))

    assert not requests.requests_for(stranger).filter(pk=request.pk).exists()


def test_the_provider_does_not_see_a_cart_but_sees_the_submitted_request_and_its_scenario(
    applicant: User,
    people: Resource,
    applicant_scenario: Scenario,
    applicant_system: InformationSystem,
    provider_reviewer: User,
) -> None:
    from govshare.sharing.scenario_selectors import scenarios_for

    cart = requests.add_to_request(applicant, people.pk).request
    assert not requests.requests_for(provider_reviewer).filter(pk=cart.pk).exists()

    request = submitted(applicant, [people], applicant_scenario, applicant_system)

    assert requests.requests_for(provider_reviewer, side="provider").filter(pk=request.pk).exists()
    assert scenarios_for(provider_reviewer).filter(pk=applicant_scenario.pk).exists()
