"""Deciding: stages, item-by-item approval issuing the grant, refusals with reasons, reminders and escalation,
disputes and arbitration, and the history of every step."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.identity.models import InformationSystem
from govshare.notifications.models import Notification
from govshare.sharing import requests
from govshare.sharing.choices import GrantStatus, LineStatus, RequestAction, RequestStatus, StageReviewer
from govshare.sharing.models import Grant, Scenario, ShareRequest, ShareRequestLine
from govshare.testing.share_requests import submitted
from govshare.testing.sharing import TODAY


@pytest.fixture
def request_(
    applicant: User, people: Resource, applicant_scenario: Scenario, applicant_system: InformationSystem
) -> ShareRequest:
    return submitted(
        applicant, [people], applicant_scenario, applicant_system, items=["公民身份号码", "姓名", "手机号码"]
    )


@pytest.fixture
def line(request_: ShareRequest) -> ShareRequestLine:
    return request_.lines.get()


def _grant(pk: int | None) -> Grant:
    assert pk is not None, "no grant was issued"
    return Grant.objects.get(pk=pk)


def _with_compliance_check(coordinator: User) -> None:
    requests.set_review_stages(
        coordinator,
        [
            requests.StageInput("合规审查", StageReviewer.COORDINATOR, 2),
            requests.StageInput("提供部门审核", StageReviewer.PROVIDER, 10),
        ],
    )


def test_approving_every_item_issues_the_grant_and_closes_the_request(
    line: ShareRequestLine, provider_reviewer: User, applicant: User
) -> None:
    decided = requests.approve_line(provider_reviewer, line, requests.Decision(items=list(line.items)), today=TODAY)

    assert decided.status == LineStatus.APPROVED
    grant = _grant(decided.grant_id)
    assert grant.items == ["公民身份号码", "姓名", "手机号码"]
    assert grant.scenario == line.request.scenario
    assert grant.source_note == f"共享申请 {line.request.number}"
    assert ShareRequest.objects.get(pk=line.request_id).status == RequestStatus.CLOSED
    assert Notification.objects.filter(recipient=applicant, title__startswith="共享申请同意").exists()


def test_a_partial_approval_needs_the_reason_for_the_rest(line: ShareRequestLine, provider_reviewer: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        requests.approve_line(provider_reviewer, line, requests.Decision(items=["姓名"]), today=TODAY)

    assert refused.value.problems[0].field == "reason"
    assert not Grant.objects.exists()


def test_a_partial_approval_grants_only_the_approved_items_with_its_terms(
    line: ShareRequestLine, provider_reviewer: User
) -> None:
    decision = requests.Decision(
        items=["公民身份号码", "姓名"],
        reason="手机号码不属于核验所需",
        conditions="仅用于参保核验，不得留存",
        masking={"姓名": "withhold"},
        daily_quota=500,
    )

    decided = requests.approve_line(provider_reviewer, line, decision, today=TODAY)

    assert decided.status == LineStatus.PARTIAL
    assert decided.refusal_reason == "手机号码不属于核验所需"
    grant = _grant(decided.grant_id)
    assert (grant.items, grant.masking, grant.daily_quota) == (["公民身份号码", "姓名"], {"姓名": "withhold"}, 500)
    assert grant.conditions == "仅用于参保核验，不得留存"


def test_an_item_not_asked_for_cannot_be_approved(line: ShareRequestLine, provider_reviewer: User) -> None:
    with pytest.raises(ValidationFailed, match="审核意见有误"):
        requests.approve_line(provider_reviewer, line, requests.Decision(items=["户籍地址"]), today=TODAY)


def test_a_refusal_needs_a_reason(line: ShareRequestLine, provider_reviewer: User) -> None:
    with pytest.raises(ValidationFailed):
        requests.refuse_line(provider_reviewer, line, reason="   ")

    assert ShareRequestLine.objects.get(pk=line.pk).status == LineStatus.IN_REVIEW


def test_a_refusal_tells_the_applicant_why(line: ShareRequestLine, provider_reviewer: User, applicant: User) -> None:
    requests.refuse_line(provider_reviewer, line, reason="该场景无需户籍数据")

    refused = ShareRequestLine.objects.get(pk=line.pk)
    assert (refused.status, refused.refusal_reason) == (LineStatus.REFUSED, "该场景无需户籍数据")
    assert Notification.objects.filter(recipient=applicant, body__contains="该场景无需户籍数据").exists()


def test_the_second_decision_on_a_line_is_refused(line: ShareRequestLine, provider: object) -> None:
    first = testing.make_user(Role.DEPT_REVIEWER, department=line.resource.department)
    second = testing.make_user(Role.DEPT_REVIEWER, department=line.resource.department)
    requests.approve_line(first, line, requests.Decision(items=list(line.items)), today=TODAY)

    with pytest.raises(Conflict, match="已由他人处理"):
        requests.refuse_line(second, line, reason="晚到的拒绝")

    assert Grant.objects.count() == 1


def test_a_reviewer_of_another_department_cannot_see_the_line(line: ShareRequestLine) -> None:
    stranger = testing.make_user(Role.DEPT_REVIEWER, department=testing.make_department("市住建局"))

    with pytest.raises(NotFound):
        requests.approve_line(stranger, line, requests.Decision(items=list(line.items)), today=TODAY)


def test_the_applicant_cannot_approve_its_own_request(line: ShareRequestLine, applicant: User) -> None:
    with pytest.raises(PermissionDenied):
        requests.approve_line(applicant, line, requests.Decision(items=list(line.items)), today=TODAY)


def test_the_compliance_check_comes_before_the_provider(
    coordinator: User,
    applicant: User,
    people: Resource,
    applicant_scenario: Scenario,
    applicant_system: InformationSystem,
    provider_reviewer: User,
) -> None:
    _with_compliance_check(coordinator)
    line = submitted(applicant, [people], applicant_scenario, applicant_system).lines.get()
    assert line.due_on == dt.date(2026, 3, 4)  # 2 working days after Monday 2 March

    with pytest.raises(PermissionDenied):
        requests.approve_line(provider_reviewer, line, requests.Decision(items=list(line.items)), today=TODAY)
    with pytest.raises(Conflict, match="前置环节"):
        requests.approve_line(coordinator, line, requests.Decision(items=list(line.items)), today=TODAY)

    passed = requests.pass_stage(coordinator, line, note="依据充分", today=dt.date(2026, 3, 3))

    assert passed.stage == {"name": "提供部门审核", "reviewer": "provider", "days": 10}
    assert passed.due_on == dt.date(2026, 3, 17)
    assert requests.review_queue(provider_reviewer) == [passed]


def test_a_decision_made_on_a_stale_page_does_not_act_on_the_next_stage(
    coordinator: User,
    applicant: User,
    people: Resource,
    applicant_scenario: Scenario,
    applicant_system: InformationSystem,
) -> None:
    _with_compliance_check(coordinator)
    line = submitted(applicant, [people], applicant_scenario, applicant_system).lines.get()
    requests.pass_stage(coordinator, line, stage_index=0, today=TODAY)
    other = testing.make_user(Role.COORDINATOR, department=coordinator.department)

    with pytest.raises(Conflict, match="下一环节"):
        requests.pass_stage(other, line, stage_index=0, today=TODAY)


def test_stages_must_end_with_the_provider_and_only_the_coordinator_sets_them(
    coordinator: User, provider_reviewer: User
) -> None:
    wrong = [requests.StageInput("提供部门审核", "provider", 10), requests.StageInput("复核", "coordinator", 2)]
    with pytest.raises(ValidationFailed, match="审核环节设置有误"):
        requests.set_review_stages(coordinator, wrong)
    with pytest.raises(PermissionDenied):
        requests.set_review_stages(provider_reviewer, [requests.StageInput("提供部门审核", "provider", 5)])


def test_the_deciders_are_reminded_once_two_working_days_before_the_deadline(
    line: ShareRequestLine, provider_reviewer: User
) -> None:
    assert line.due_on == dt.date(2026, 3, 16)
    assert requests.follow_deadlines(today=dt.date(2026, 3, 11)).reminded == 0  # three working days left

    assert requests.follow_deadlines(today=dt.date(2026, 3, 12)).reminded == 1
    assert requests.follow_deadlines(today=dt.date(2026, 3, 13)).reminded == 0

    assert Notification.objects.filter(recipient=provider_reviewer, title__startswith="共享申请即将到期").count() == 1


def test_an_overdue_line_is_escalated_once_and_the_coordinator_may_then_decide(
    line: ShareRequestLine, coordinator: User
) -> None:
    with pytest.raises(PermissionDenied):
        requests.refuse_line(coordinator, line, reason="尚未逾期")

    assert requests.follow_deadlines(today=dt.date(2026, 3, 17)).escalated == 1
    assert requests.follow_deadlines(today=dt.date(2026, 3, 18)).escalated == 0

    assert requests.overdue_lines(coordinator, dt.date(2026, 3, 18)) == [ShareRequestLine.objects.get(pk=line.pk)]
    assert "逾期 2 个工作日" in requests.urgency(ShareRequestLine.objects.get(pk=line.pk), dt.date(2026, 3, 18))
    decided = requests.approve_line(
        coordinator, line, requests.Decision(items=["姓名"], reason="仅需姓名"), today=TODAY
    )
    assert decided.status == LineStatus.PARTIAL


def test_the_review_queue_puts_the_most_urgent_first(
    applicant: User,
    people: Resource,
    applicant_scenario: Scenario,
    applicant_system: InformationSystem,
    provider_reviewer: User,
) -> None:
    later = submitted(applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 3, 5)).lines.get()
    sooner = submitted(applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 3, 3)).lines.get()
    unknown = submitted(
        applicant, [people], applicant_scenario, applicant_system, today=dt.date(2026, 12, 28)
    ).lines.get()

    assert requests.review_queue(provider_reviewer) == [unknown, sooner, later]


def test_a_refusal_may_be_disputed_once_and_the_coordinator_overrules_it(
    line: ShareRequestLine, provider_reviewer: User, applicant: User, coordinator: User
) -> None:
    requests.refuse_line(provider_reviewer, line, reason="不符合最小必要原则")
    requests.dispute_line(applicant, line, reason="《社会保险法》要求核验身份")
    assert ShareRequest.objects.get(pk=line.request_id).status == RequestStatus.IN_REVIEW

    decided = requests.arbitrate_line(coordinator, line, uphold=False, note="依据充分，同意", today=TODAY)

    assert decided.status == LineStatus.APPROVED
    assert _grant(decided.grant_id).items == list(line.items)
    with pytest.raises(Conflict):
        requests.dispute_line(applicant, line, reason="再次异议")


def test_upholding_a_partial_approval_keeps_its_grant(
    line: ShareRequestLine, provider_reviewer: User, applicant: User, coordinator: User
) -> None:
    partial = requests.approve_line(
        provider_reviewer, line, requests.Decision(items=["姓名"], reason="最小必要"), today=TODAY
    )
    requests.dispute_line(applicant, line, reason="还需要身份号码")

    upheld = requests.arbitrate_line(coordinator, line, uphold=True, note="维持，最小必要")

    assert upheld.status == LineStatus.PARTIAL and upheld.grant_id == partial.grant_id
    assert _grant(partial.grant_id).status == GrantStatus.ACTIVE


def test_overruling_a_partial_approval_replaces_its_grant(
    line: ShareRequestLine, provider_reviewer: User, applicant: User, coordinator: User
) -> None:
    partial = requests.approve_line(
        provider_reviewer, line, requests.Decision(items=["姓名"], reason="最小必要"), today=TODAY
    )
    requests.dispute_line(applicant, line, reason="还需要身份号码")

    overruled = requests.arbitrate_line(coordinator, line, uphold=False, note="同意全部", today=TODAY)

    assert _grant(partial.grant_id).status == GrantStatus.REVOKED
    assert _grant(overruled.grant_id).items == list(line.items)


def test_a_coordinator_does_not_arbitrate_its_own_decision(
    line: ShareRequestLine, coordinator: User, applicant: User
) -> None:
    requests.follow_deadlines(today=dt.date(2026, 3, 17))  # escalated: the coordinator decides
    requests.refuse_line(coordinator, line, reason="逾期后协调员拒绝")
    requests.dispute_line(applicant, line, reason="异议")

    with pytest.raises(PermissionDenied, match="本人"):
        requests.arbitrate_line(coordinator, line, uphold=True, note="维持")


def test_only_the_applicant_disputes(line: ShareRequestLine, provider_reviewer: User) -> None:
    requests.refuse_line(provider_reviewer, line, reason="不符合")

    with pytest.raises(PermissionDenied):
        requests.dispute_line(provider_reviewer, line, reason="自己对自己有异议")


def test_withdrawing_stops_the_lines_in_review(
    request_: ShareRequest, applicant: User, provider_reviewer: User
) -> None:
    requests.withdraw_request(applicant, request_, reason="业务调整")

    line = request_.lines.get()
    assert line.status == LineStatus.WITHDRAWN
    assert requests.review_queue(provider_reviewer) == []
    with pytest.raises(Conflict):
        requests.approve_line(provider_reviewer, line, requests.Decision(items=list(line.items)), today=TODAY)


def test_the_history_keeps_who_did_what_and_why(line: ShareRequestLine, provider_reviewer: User) -> None:
    requests.refuse_line(provider_reviewer, line, reason="不符合最小必要原则")

    steps = [(event.action, event.note) for event in requests.history(line.request)]
    assert [action for action, _ in steps] == [
        RequestAction.ADD,
        RequestAction.EDIT,
        RequestAction.SUBMIT,
        RequestAction.REFUSE,
    ]
    assert steps[-1][1] == "不符合最小必要原则"
    last = requests.history(line.request).last()
    assert last is not None and last.actor_name == (provider_reviewer.full_name or provider_reviewer.username)
