"""The demand list (需求清单): a department registers what it needs; the provider or the coordinator answers it with a
published resource or asks the holder to catalogue it; nobody outside the two departments learns it exists."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.audit.models import AuditLog
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.notifications.models import Notification
from govshare.sharing import demands
from govshare.sharing.choices import DemandStatus
from govshare.sharing.models import Demand, Scenario

pytestmark = pytest.mark.django_db


def _input(**overrides: object) -> demands.DemandInput:
    values: dict[str, object] = {
        "title": "企业登记信息核验",
        "description": "办理企业开办时核验营业执照信息",
        "needed_items": ["统一社会信用代码", "企业名称", "统一社会信用代码"],
        "provider_code": "",
        "scenario_id": None,
    }
    values.update(overrides)
    return demands.DemandInput(**values)  # type: ignore[arg-type]


def test_a_consumer_registers_a_demand_of_its_own_department_with_an_audit_row(consumer, other_department):
    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    assert demand.department_id == consumer.department_id
    assert demand.provider_id == other_department.pk
    assert demand.needed_items == ["统一社会信用代码", "企业名称"]
    assert demand.status == DemandStatus.OPEN
    assert AuditLog.objects.filter(action="sharing.demand.create", object_id=str(demand.pk)).exists()


def test_a_demand_may_cite_only_its_own_departments_scenarios(consumer, other_department):
    foreign = Scenario.objects.create(department=other_department, name="他部门场景", description="x", legal_basis="y")
    with pytest.raises(ValidationFailed) as refused:
        demands.create_demand(_input(scenario_id=foreign.pk), actor=consumer)
    assert [p.field for p in refused.value.problems] == ["scenario_id"]
    own = Scenario.objects.create(department=consumer.department, name="企业开办", description="x", legal_basis="y")
    assert demands.create_demand(_input(scenario_id=own.pk), actor=consumer).scenario == own


def test_an_account_without_a_department_role_cannot_register_demands(coordinator, platform_admin):
    for actor in (coordinator, platform_admin):
        with pytest.raises(PermissionDenied):
            demands.create_demand(_input(), actor=actor)


def test_another_departments_demand_is_not_found_for_reading_or_editing(consumer, stranger):
    demand = demands.create_demand(_input(), actor=consumer)
    with pytest.raises(NotFound):
        demands.get_demand(stranger, demand.pk)
    with pytest.raises(NotFound):
        demands.update_demand(demand, _input(title="改掉"), actor=stranger)
    assert Demand.objects.get(pk=demand.pk).title == "企业登记信息核验"


def test_the_provider_sees_a_demand_addressed_to_it_but_may_not_edit_it(consumer, provider_admin, other_department):
    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    assert demands.get_demand(provider_admin, demand.pk) == demand
    with pytest.raises(PermissionDenied):
        demands.update_demand(demand, _input(title="改掉"), actor=provider_admin)


def test_the_provider_answers_with_a_published_resource_and_the_consumer_is_told(
    consumer, provider_admin, other_department
):
    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    resource = testing.make_published_resource(other_department, name="企业登记信息")
    demands.answer_demand(demand, resource=resource, note="可申请共享", actor=provider_admin)
    demand.refresh_from_db()
    assert (demand.status, demand.resource_id, demand.answer_note) == (DemandStatus.ANSWERED, resource.pk, "可申请共享")
    assert Notification.objects.filter(recipient=consumer, link=f"/sharing/demands/{demand.pk}/").exists()
    assert AuditLog.objects.filter(action="sharing.demand.answer", object_id=str(demand.pk)).exists()


def test_a_draft_resource_is_no_answer(consumer, provider_admin, other_department):
    from govshare.catalog import services as catalog_services

    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    draft = catalog_services.create_resource(testing.resource_draft(other_department), actor=provider_admin)
    with pytest.raises(ValidationFailed):
        demands.answer_demand(demand, resource=draft, actor=provider_admin)
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.OPEN


def test_asking_to_catalogue_notifies_the_providers_catalogue_administrators(consumer, coordinator, other_department):
    from govshare.accounts.choices import Role

    holder = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    demand = demands.create_demand(_input(), actor=consumer)
    with pytest.raises(ValidationFailed):  # no provider yet: the coordinator names one
        demands.ask_to_catalogue(demand, actor=coordinator)
    demands.ask_to_catalogue(demand, provider_code=other_department.code, note="请编目", actor=coordinator)
    demand.refresh_from_db()
    assert demand.status == DemandStatus.CATALOGUE_REQUESTED and demand.provider_id == other_department.pk
    assert Notification.objects.filter(recipient=holder).count() == 1
    row = AuditLog.objects.get(action="sharing.demand.ask_catalogue", object_id=str(demand.pk))
    assert row.extra["recipients"] == 1


def test_a_department_that_is_neither_side_may_not_answer(consumer, stranger, other_department):
    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    resource = testing.make_published_resource(other_department)
    with pytest.raises(NotFound):
        demands.answer_demand(demand, resource=resource, actor=stranger)


def test_an_answered_demand_is_no_longer_edited_and_a_closed_one_no_longer_answered(
    consumer, provider_admin, other_department
):
    demand = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    resource = testing.make_published_resource(other_department)
    demands.answer_demand(demand, resource=resource, actor=provider_admin)
    with pytest.raises(Conflict):
        demands.update_demand(demand, _input(title="改掉"), actor=consumer)
    demands.close_demand(demand, reason="已满足", actor=consumer)
    with pytest.raises(Conflict):
        demands.answer_demand(demand, resource=resource, actor=provider_admin)


def test_filters_narrow_the_list_to_a_side_and_a_status(consumer, provider_admin, other_department):
    mine = demands.create_demand(_input(provider_code=other_department.code), actor=consumer)
    theirs = demands.create_demand(
        _input(title="户籍核验", provider_code=consumer.department.code), actor=provider_admin
    )
    assert list(demands.demands_for(consumer, demands.DemandFilters(side="own"))) == [mine]
    assert list(demands.demands_for(consumer, demands.DemandFilters(side="received"))) == [theirs]
    assert list(demands.demands_for(consumer, demands.DemandFilters(status=DemandStatus.CLOSED))) == []
