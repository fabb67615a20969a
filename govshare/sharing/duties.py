"""The duty list (责任清单): what each department must provide, set by the coordinator (共享主管部门) or the platform
administrator, with its legal basis. A duty is met when a published catalogue entry of its department is linked to
it; every other duty is unmet and listed as such (per department and city-wide). The department's catalogue
administrators link the entry that fulfils one of their duties; they cannot change or remove the duty itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext

from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.core.authz import VIEW, Subject, permits, require, require_ability, restrict
from govshare.core.errors import FieldProblem, NotFound, ValidationFailed
from govshare.sharing.access_lists import FULFIL, MANAGE, MANAGE_DUTIES
from govshare.sharing.models import Duty

DUTY_NOT_FOUND = "责任不存在或无权访问"

# A duty is met only by a published entry: a draft or a withdrawn one provides nothing yet.
MET = Q(resource__status=ReviewStatus.PUBLISHED)


@dataclass
class DutyInput:
    department_code: str
    name: str
    legal_basis: str
    description: str = ""
    resource_code: str = ""  # blank: no catalogue entry fulfils it yet


@dataclass(frozen=True)
class DutyFilters:
    department_code: str = ""
    unmet: bool = False
    q: str = ""


# ---------------------------------------------------------------------------------------------- reads


def duties_for(subject: Subject, filters: DutyFilters | None = None) -> QuerySet[Duty]:
    filters = filters or DutyFilters()
    queryset = restrict(Duty.objects.select_related("department", "resource"), subject, VIEW)
    if filters.department_code:
        queryset = queryset.filter(department__code=filters.department_code)
    if filters.unmet:
        queryset = queryset.exclude(MET)
    if filters.q:
        queryset = queryset.filter(
            Q(name__icontains=filters.q) | Q(description__icontains=filters.q) | Q(legal_basis__icontains=filters.q)
        )
    return queryset.order_by("department__code", "name", "pk")


def get_duty(subject: Subject, pk: int) -> Duty:
    duty = duties_for(subject).filter(pk=pk).first()
    if duty is None:
        raise NotFound(DUTY_NOT_FOUND)
    return duty


def is_met(duty: Duty) -> bool:
    return duty.resource is not None and duty.resource.status == ReviewStatus.PUBLISHED


def unmet_by_department(subject: Subject) -> list[dict[str, Any]]:
    """Per department the subject sees: its duties and how many are unmet (most unmet first)."""
    rows = (
        duties_for(subject)
        .order_by()
        .values("department__code", "department__name")
        .annotate(total=Count("pk"), unmet=Count("pk", filter=~MET))
        .order_by("-unmet", "department__code")
    )
    return [dict(row) for row in rows]


def may_manage(subject: Subject) -> bool:
    from govshare.core.authz import can

    return can(subject, MANAGE_DUTIES)


def may_fulfil(subject: Subject, duty: Duty) -> bool:
    return permits(subject, FULFIL, duty)


# ---------------------------------------------------------------------------------------------- checks


def _resource_of(actor: User, department: Department, code: str) -> Resource:
    """The entry of the department with this code that the actor can see (drafts of other departments are not)."""
    resource = restrict(Resource.objects.filter(code=code.strip()), actor, VIEW).first()
    if resource is None:
        raise ValidationFailed(
            [FieldProblem("resource_code", gettext("信息资源“%(code)s”不存在或无权访问") % {"code": code})]
        )
    if resource.department_id != department.pk:
        raise ValidationFailed(
            [
                FieldProblem(
                    "resource_code",
                    gettext("信息资源“%(code)s”不属于责任部门%(department)s")
                    % {"code": code, "department": department.name},
                )
            ]
        )
    return resource


@dataclass
class CheckedDuty:
    department: Department
    name: str
    legal_basis: str
    description: str
    resource: Resource | None


def check_duty(data: DutyInput, *, actor: User, pk: int | None = None) -> CheckedDuty:
    problems: list[FieldProblem] = []
    code = data.department_code.strip()
    department = Department.objects.filter(code=code, is_active=True).first() if code else None
    if not code:
        problems.append(FieldProblem("department_code", gettext("请填写责任部门")))
    elif department is None:
        problems.append(FieldProblem("department_code", gettext("责任部门“%(code)s”不存在") % {"code": code}))
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("name", gettext("请填写应提供的资源名称")))
    elif len(name) > 200:
        problems.append(FieldProblem("name", gettext("资源名称不能超过 200 个字")))
    elif department is not None and Duty.objects.filter(department=department, name=name).exclude(pk=pk or 0).exists():
        problems.append(FieldProblem("name", gettext("该部门已有同名责任“%(name)s”") % {"name": name}))
    basis = data.legal_basis.strip()
    if not basis:
        problems.append(FieldProblem("legal_basis", gettext("请填写依据：法律法规、政策文件或“三定”职责")))
    resource = None
    if department is not None and data.resource_code.strip():
        try:
            resource = _resource_of(actor, department, data.resource_code)
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    assert department is not None
    return CheckedDuty(department, name, basis, data.description.strip(), resource)


def _locked(duty: Duty) -> Duty:
    locked = Duty.objects.select_for_update().filter(pk=duty.pk).first()
    if locked is None:
        raise NotFound(DUTY_NOT_FOUND)
    return locked


# ---------------------------------------------------------------------------------------------- writes


@transaction.atomic
def create_duty(data: DutyInput, *, actor: User) -> Duty:
    require_ability(actor, MANAGE_DUTIES)
    checked = check_duty(data, actor=actor)
    duty = Duty.objects.create(
        department=checked.department,
        name=checked.name,
        legal_basis=checked.legal_basis,
        description=checked.description,
        resource=checked.resource,
        created_by=actor,
    )
    record_action(actor, "sharing.duty.create", duty, department=checked.department.code)
    return duty


def changed_fields(duty: Duty, checked: CheckedDuty) -> list[str]:
    changed = [name for name in ("name", "legal_basis", "description") if getattr(duty, name) != getattr(checked, name)]
    if duty.department_id != checked.department.pk:
        changed.append("department")
    if duty.resource_id != (checked.resource.pk if checked.resource else None):
        changed.append("resource")
    return changed


@transaction.atomic
def update_duty(duty: Duty, data: DutyInput, *, actor: User) -> Duty:
    duty = require(actor, MANAGE, _locked(duty), not_found=DUTY_NOT_FOUND)
    checked = check_duty(data, actor=actor, pk=duty.pk)
    changed = changed_fields(duty, checked)
    if not changed:
        return duty
    duty.department, duty.name, duty.legal_basis = checked.department, checked.name, checked.legal_basis
    duty.description, duty.resource = checked.description, checked.resource
    duty.save()
    record_action(actor, "sharing.duty.update", duty, fields=",".join(changed))
    return duty


@transaction.atomic
def delete_duty(duty: Duty, *, actor: User) -> None:
    duty = require(actor, MANAGE, _locked(duty), not_found=DUTY_NOT_FOUND)
    record_action(actor, "sharing.duty.delete", duty, department=duty.department.code, name=duty.name)
    duty.delete()


@transaction.atomic
def fulfil_duty(duty: Duty, *, resource_code: str, actor: User) -> Duty:
    """Link the department's catalogue entry that meets the duty (a blank code unlinks it)."""
    duty = require(actor, FULFIL, _locked(duty), not_found=DUTY_NOT_FOUND)
    resource = _resource_of(actor, duty.department, resource_code) if resource_code.strip() else None
    if duty.resource_id == (resource.pk if resource else None):
        return duty
    duty.resource = resource
    duty.save(update_fields=["resource", "updated_at"])
    record_action(actor, "sharing.duty.fulfil", duty, resource=resource.code if resource else "")
    return duty
