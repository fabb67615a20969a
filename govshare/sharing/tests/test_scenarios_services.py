"""Application scenarios, step by step: a consumer department registers, submits and retires; the coordinator
approves or rejects with a reason; every step locks, writes its history and audit row and tells the other party.
Attack tests: nobody acts for another department, cites another's system, reviews their own scenario or edits one
they only review."""

from __future__ import annotations

import pytest

from govshare.audit.models import AuditLog
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.identity import services as identity_services
from govshare.notifications.models import Notification
from govshare.sharing import scenarios
from govshare.sharing.choices import ScenarioAction, ScenarioStatus
from govshare.sharing.models import Scenario
from govshare.testing import scenarios as h
from govshare.testing.clock import minutes
from govshare.testing.scenarios import ScenarioWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ScenarioWorld:
    return h.build()


def actions(scenario: Scenario) -> list[str]:
    return list(scenario.events.order_by("at", "pk").values_list("action", flat=True))


def test_a_consumer_registers_a_draft_of_its_department(world: ScenarioWorld) -> None:
    scenario = h.draft(world)
    assert (scenario.status, scenario.department, scenario.created_by) == (
        ScenarioStatus.DRAFT,
        world.ybj,
        world.ybj_consumer,
    )
    assert list(scenario.systems.all()) == [world.ybj_system]
    assert scenario.needed_items == ["公民身份号码", "姓名", "出生日期"]
    assert actions(scenario) == [ScenarioAction.REGISTER]
    row = AuditLog.objects.get(action="sharing.scenario.register")
    assert (row.actor_id, row.object_id) == (world.ybj_consumer.pk, str(scenario.pk))


def test_the_catalogue_administrator_registers_too_but_the_department_reviewer_does_not(world: ScenarioWorld) -> None:
    scenarios.register_scenario(h.scenario_input(world, name="异地就医备案核验"), actor=world.ybj_admin)
    with pytest.raises(PermissionDenied):
        scenarios.register_scenario(h.scenario_input(world, name="另一场景"), actor=world.ybj_reviewer)


def test_needed_items_are_trimmed_and_kept_once(world: ScenarioWorld) -> None:
    scenario = h.draft(world, needed_items=[" 姓名 ", "姓名", "", "公民 身份号码"])
    assert scenario.needed_items == ["姓名", "公民 身份号码"]


def test_a_name_is_unique_within_the_department(world: ScenarioWorld) -> None:
    h.draft(world)
    with pytest.raises(ValidationFailed) as refused:
        h.draft(world)
    assert [p.field for p in refused.value.problems] == ["name"]


def test_attack_a_department_administrator_cannot_register_for_another_department(world: ScenarioWorld) -> None:
    data = h.scenario_input(world, department=world.other, system_ids=[world.other_system.pk])
    with pytest.raises(PermissionDenied):
        scenarios.register_scenario(data, actor=world.ybj_admin)
    assert not Scenario.objects.exists()


def test_attack_a_scenario_cannot_cite_another_departments_system(world: ScenarioWorld) -> None:
    with pytest.raises(ValidationFailed) as refused:
        h.draft(world, system_ids=[world.ybj_system.pk, world.other_system.pk])
    problem = refused.value.problems[0]
    assert problem.field == "systems"
    # The answer is the same as for a system that does not exist: it names neither the system nor its owner.
    assert world.other_system.name not in problem.message and world.other.name not in problem.message
    with pytest.raises(ValidationFailed):
        h.draft(world, system_ids=[2**40])


def test_attack_an_edit_cannot_slip_in_another_departments_system(world: ScenarioWorld) -> None:
    scenario = h.draft(world)
    with pytest.raises(ValidationFailed):
        scenarios.update_scenario(
            scenario, h.scenario_input(world, system_ids=[world.other_system.pk]), actor=world.ybj_consumer
        )
    assert list(scenario.systems.all()) == [world.ybj_system]


def test_a_stopped_system_cannot_serve_a_scenario(world: ScenarioWorld) -> None:
    identity_services.deactivate_information_system(world.ybj_system, actor=world.ybj_admin, reason="下线")
    with pytest.raises(ValidationFailed):
        h.draft(world)


def test_a_draft_may_be_incomplete_but_is_not_submitted_so(world: ScenarioWorld) -> None:
    scenario = h.draft(world, description="", legal_basis="", system_ids=[], needed_items=[])
    with pytest.raises(ValidationFailed) as refused:
        scenarios.submit_scenario(scenario, actor=world.ybj_consumer)
    assert {p.field for p in refused.value.problems} == {"description", "legal_basis", "systems", "needed_items"}
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.DRAFT


def test_submitting_tells_every_coordinator(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    assert (scenario.status, scenario.submitted_by) == (ScenarioStatus.SUBMITTED, world.ybj_consumer)
    told = set(Notification.objects.filter(kind="scenario_review").values_list("recipient_id", flat=True))
    assert told == {world.coordinator.pk, world.second_coordinator.pk}
    assert AuditLog.objects.filter(action="sharing.scenario.submit", object_id=str(scenario.pk)).exists()


def test_the_coordinator_approves_and_the_department_is_told(world: ScenarioWorld) -> None:
    scenario = scenarios.approve_scenario(h.submitted(world), actor=world.coordinator, note="依据充分", now=minutes(5))
    assert (scenario.status, scenario.reviewed_by, scenario.reviewed_at) == (
        ScenarioStatus.APPROVED,
        world.coordinator,
        minutes(5),
    )
    assert scenarios.scenario_is_usable(scenario)
    notice = Notification.objects.get(kind="scenario_decision")
    assert notice.recipient == world.ybj_consumer and "依据充分" in notice.body


def test_a_rejection_needs_a_reason_and_can_be_fixed_and_resubmitted(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    with pytest.raises(ValidationFailed):
        scenarios.reject_scenario(scenario, actor=world.coordinator, reason="  ")
    scenarios.reject_scenario(scenario, actor=world.coordinator, reason="依据未写明条款")
    scenario.refresh_from_db()
    assert (scenario.status, scenario.review_note) == (ScenarioStatus.REJECTED, "依据未写明条款")
    assert not scenarios.scenario_is_usable(scenario)
    assert "依据未写明条款" in Notification.objects.get(kind="scenario_decision").body
    fixed = h.scenario_input(world, legal_basis="《社会保险法》第五十八条第一款")
    scenarios.update_scenario(scenario, fixed, actor=world.ybj_consumer)
    scenarios.submit_scenario(scenario, actor=world.ybj_consumer)
    scenarios.approve_scenario(scenario, actor=world.coordinator)
    assert actions(scenario) == ["register", "submit", "reject", "update", "submit", "approve"]
    reject, update = scenario.events.order_by("at", "pk")[2:4]
    assert (reject.actor, reject.note) == (world.coordinator, "依据未写明条款")
    assert list(update.changes) == ["legal_basis"]


def test_a_submitted_or_approved_scenario_is_not_edited(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    with pytest.raises(Conflict):
        scenarios.update_scenario(scenario, h.scenario_input(world, name="改名"), actor=world.ybj_consumer)
    scenarios.approve_scenario(scenario, actor=world.coordinator)
    with pytest.raises(Conflict):
        scenarios.update_scenario(scenario, h.scenario_input(world, name="改名"), actor=world.ybj_consumer)


def test_attack_a_department_cannot_approve_its_own_scenario(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    for actor in (world.ybj_admin, world.ybj_consumer, world.platform):
        with pytest.raises(PermissionDenied):
            scenarios.approve_scenario(scenario, actor=actor)
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.SUBMITTED


def test_attack_a_coordinator_does_not_review_a_scenario_they_submitted(world: ScenarioWorld) -> None:
    # A coordinator who is also a consumer of their own department (the big-data bureau consumes data too).
    from govshare.accounts import services as account_services
    from govshare.accounts.choices import Role

    account_services.assign_role(world.coordinator, Role.CONSUMER, actor=None)
    bureau = world.coordinator.department
    assert bureau is not None
    own = scenarios.register_scenario(
        h.scenario_input(world, department=bureau, system_ids=[]), actor=world.coordinator
    )
    own.systems.add(
        identity_services.register_information_system(
            identity_services.SystemInput(code="dsj-x", name="大数据局系统", department=bureau),
            actor=world.platform,
        )
    )
    scenarios.submit_scenario(own, actor=world.coordinator)
    with pytest.raises(PermissionDenied):
        scenarios.approve_scenario(own, actor=world.coordinator)
    scenarios.approve_scenario(own, actor=world.second_coordinator)


def test_attack_a_coordinator_cannot_edit_or_submit_a_departments_scenario(world: ScenarioWorld) -> None:
    scenario = h.draft(world)
    with pytest.raises(PermissionDenied):
        scenarios.update_scenario(scenario, h.scenario_input(world, name="协调员改的"), actor=world.coordinator)
    with pytest.raises(PermissionDenied):
        scenarios.submit_scenario(scenario, actor=world.coordinator)
    scenario.refresh_from_db()
    assert scenario.name == "医保参保人员身份核验"


def test_attack_another_department_finds_nothing_to_act_on(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    for step in (
        lambda: scenarios.update_scenario(scenario, h.scenario_input(world), actor=world.other_admin),
        lambda: scenarios.submit_scenario(scenario, actor=world.other_consumer),
        lambda: scenarios.approve_scenario(scenario, actor=world.other_admin),
        lambda: scenarios.retire_scenario(scenario, actor=world.other_admin, reason="x"),
    ):
        with pytest.raises(NotFound):
            step()


def test_the_department_retires_an_approved_scenario_and_the_coordinator_is_told(world: ScenarioWorld) -> None:
    scenario = h.approved(world)
    Notification.objects.all().delete()
    retired: list[int] = []
    scenarios.register_retirement_hook(lambda s, actor: retired.append(s.pk))
    try:
        scenarios.retire_scenario(scenario, actor=world.ybj_admin, reason="业务调整，不再办理")
    finally:
        scenarios._retirement_hooks.clear()
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.RETIRED and not scenarios.scenario_is_usable(scenario)
    assert retired == [scenario.pk]
    told = set(Notification.objects.values_list("recipient_id", flat=True))
    assert told == {world.coordinator.pk, world.second_coordinator.pk}


def test_the_coordinator_retires_one_and_the_department_is_told(world: ScenarioWorld) -> None:
    scenario = h.approved(world)
    Notification.objects.all().delete()
    scenarios.retire_scenario(scenario, actor=world.coordinator, reason="依据已废止")
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [world.ybj_consumer.pk]


def test_only_an_approved_scenario_is_retired_and_a_reason_is_required(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    with pytest.raises(Conflict):
        scenarios.retire_scenario(scenario, actor=world.ybj_admin, reason="不用了")
    scenarios.approve_scenario(scenario, actor=world.coordinator)
    with pytest.raises(ValidationFailed):
        scenarios.retire_scenario(scenario, actor=world.ybj_admin, reason="")
    with pytest.raises(PermissionDenied):
        scenarios.retire_scenario(scenario, actor=world.ybj_reviewer, reason="不用了")


def test_a_scenario_of_a_stopped_department_is_not_usable(world: ScenarioWorld) -> None:
    scenario = h.approved(world)
    world.ybj.is_active = False
    world.ybj.save(update_fields=["is_active"])
    scenario.refresh_from_db()
    assert not scenarios.scenario_is_usable(scenario)
