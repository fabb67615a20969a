"""The duty list (责任清单): the coordinator sets what each department must provide; a duty is met only by a published
entry of that department; unmet duties are listed per department and city-wide."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.audit.models import AuditLog
from govshare.catalog import services as catalog_services
from govshare.core.errors import NotFound, PermissionDenied, ValidationFailed
from govshare.sharing import duties
from govshare.sharing.models import Duty

pytestmark = pytest.mark.django_db


def _input(department, **overrides: object) -> duties.DutyInput:  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "department_code": department.code,
        "name": "常住人口户籍登记信息",
        "legal_basis": "《户口登记条例》第三条",
        "description": "",
        "resource_code": "",
    }
    values.update(overrides)
    return duties.DutyInput(**values)  # type: ignore[arg-type]


def test_the_coordinator_sets_a_departments_duty_with_an_audit_row(coordinator, department):
    duty = duties.create_duty(_input(department), actor=coordinator)
    assert duty.department == department
    assert AuditLog.objects.filter(action="sharing.duty.create", object_id=str(duty.pk)).exists()


def test_a_department_cannot_set_or_change_duties(catalog_admin, coordinator, department):
    with pytest.raises(PermissionDenied):
        duties.create_duty(_input(department), actor=catalog_admin)
    duty = duties.create_duty(_input(department), actor=coordinator)
    with pytest.raises(PermissionDenied):
        duties.update_duty(duty, _input(department, name="改掉"), actor=catalog_admin)
    with pytest.raises(PermissionDenied):
        duties.delete_duty(duty, actor=catalog_admin)


def test_another_departments_duty_is_not_found(coordinator, department, outsider):
    duty = duties.create_duty(_input(department), actor=coordinator)
    with pytest.raises(NotFound):
        duties.get_duty(outsider, duty.pk)
    with pytest.raises(NotFound):
        duties.fulfil_duty(duty, resource_code="", actor=outsider)


def test_a_duty_is_met_only_by_a_published_entry_of_its_department(coordinator, catalog_admin, department):
    duty = duties.create_duty(_input(department), actor=coordinator)
    draft = catalog_services.create_resource(testing.resource_draft(department, name="草稿资源"), actor=catalog_admin)
    duties.fulfil_duty(duty, resource_code=draft.code, actor=catalog_admin)
    assert list(duties.duties_for(coordinator, duties.DutyFilters(unmet=True))) == [duty]
    published = testing.make_published_resource(department)
    duties.fulfil_duty(duty, resource_code=published.code, actor=catalog_admin)
    assert list(duties.duties_for(coordinator, duties.DutyFilters(unmet=True))) == []
    assert AuditLog.objects.filter(action="sharing.duty.fulfil", object_id=str(duty.pk)).count() == 2


def test_another_departments_entry_cannot_fulfil_a_duty(coordinator, department, other_department):
    duty = duties.create_duty(_input(department), actor=coordinator)
    foreign = testing.make_published_resource(other_department)
    with pytest.raises(ValidationFailed):
        duties.fulfil_duty(duty, resource_code=foreign.code, actor=coordinator)
    assert Duty.objects.get(pk=duty.pk).resource_id is None


def test_unmet_duties_are_counted_per_department(coordinator, department, other_department):
    duties.create_duty(_input(department), actor=coordinator)
    duties.create_duty(_input(department, name="出生医学证明"), actor=coordinator)
    met = testing.make_published_resource(other_department)
    duties.create_duty(_input(other_department, resource_code=met.code), actor=coordinator)
    summary = {row["department__code"]: (row["total"], row["unmet"]) for row in duties.unmet_by_department(coordinator)}
    assert summary == {department.code: (2, 2), other_department.code: (1, 0)}


def test_a_department_sees_only_its_own_duties(coordinator, catalog_admin, department, other_department):
    own = duties.create_duty(_input(department), actor=coordinator)
    duties.create_duty(_input(other_department), actor=coordinator)
    assert list(duties.duties_for(catalog_admin)) == [own]
