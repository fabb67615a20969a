"""Who may see and act on application scenarios (应用场景).

- A department's own staff see its scenarios; its catalogue administrators and consumers (使用方: the people who
  will apply for data under the scenario, and the administrator who registers the department's systems) register,
  edit, submit and retire them (EDIT).
- The coordinator (共享协调员, Role.COORDINATOR: the 共享主管部门's reviewers, a business role kept apart from the
  platform administrator's technical one) sees every department's, approves or rejects submitted ones (REVIEW) and
  may retire approved ones (RETIRE); never edits them.
- A provider department's staff see (read-only) the scenarios cited by the submitted requests for its resources and
  by the grants on them: a reviewer judges a request by what the data is for.
- The platform administrator sees every department's (read-only).
- Anyone else sees none (404)."""

from __future__ import annotations

from django.db.models import Q

from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.roles import Role
from govshare.sharing.choices import RequestStatus
from govshare.sharing.models import Grant, Scenario, ShareRequest

EDIT = "edit"
REVIEW = "review"
RETIRE = "retire"

EDITORS_ONLY = "只有场景所属部门的目录管理员或使用方可以登记、修改、提交应用场景"
REVIEWERS_ONLY = "只有共享协调员可以审核应用场景"
RETIRERS_ONLY = "只有场景所属部门的目录管理员、使用方或共享协调员可以停用应用场景"
EDITOR_ROLES = (Role.CATALOG_ADMIN, Role.CONSUMER)


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


def sees_every_scenario(subject: Subject) -> bool:
    return _staff(subject) and subject.has_role(Role.PLATFORM_ADMIN, Role.COORDINATOR)


def is_coordinator(subject: Subject) -> bool:
    return _staff(subject) and subject.has_role(Role.COORDINATOR)


def _cited_to_provider(department_id: int) -> Q:
    """The scenarios a provider department is asked to serve: cited by a submitted request for one of its resources,
    or bound to a grant on one."""
    requested = ShareRequest.objects.filter(lines__resource__department_id=department_id).exclude(
        status=RequestStatus.DRAFT
    )
    granted = Grant.objects.filter(resource__department_id=department_id)
    return Q(pk__in=requested.values("scenario_id")) | Q(pk__in=granted.values("scenario_id"))


def may_edit_for(subject: Subject, department_id: int | None) -> bool:
    """May the subject register and edit scenarios of this department?"""
    return (
        _staff(subject)
        and department_id is not None
        and subject.department_id == department_id
        and subject.has_role(*EDITOR_ROLES)
    )


class ScenarioPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        everything = (action == VIEW and sees_every_scenario(subject)) or (
            action in (REVIEW, RETIRE) and is_coordinator(subject)
        )
        if everything:
            return Q()
        if subject.department_id is None:
            return NOTHING
        own = Q(department_id=subject.department_id)
        if action == VIEW:
            return own | _cited_to_provider(subject.department_id)
        if action in (EDIT, RETIRE) and subject.has_role(*EDITOR_ROLES):
            return own
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: Scenario) -> bool:
        if not _staff(subject):
            return False
        if action == VIEW:
            if sees_every_scenario(subject) or subject.department_id == obj.department_id:
                return True
            if subject.department_id is None:
                return False
            return Scenario.objects.filter(_cited_to_provider(subject.department_id), pk=obj.pk).exists()
        if action == EDIT:
            return may_edit_for(subject, obj.department_id)
        if action == REVIEW:
            return is_coordinator(subject)
        if action == RETIRE:
            return is_coordinator(subject) or may_edit_for(subject, obj.department_id)
        return False

    def refusal(self, subject: Subject, action: str, obj: Scenario) -> str:
        return {REVIEW: REVIEWERS_ONLY, RETIRE: RETIRERS_ONLY}.get(action, EDITORS_ONLY)


def register() -> None:
    register_policy(Scenario, ScenarioPolicy())
