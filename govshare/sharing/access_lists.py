"""Who may see and change the demand and duty lists (需求清单, 责任清单). The negative list (负面清单) has no rows
of its own: it is the catalogue's published 不予共享 entries, read and changed under the catalogue's rules.

Demands: the demanding department's staff see them, and so does the provider department they are addressed to; the
coordinator (共享协调员) and the platform administrator see all. The demanding department's 使用方 and 目录管理员 edit
and close its own; the provider's 目录管理员, the coordinator and the platform administrator answer them.

Duties: the coordinator and the platform administrator set every department's duties (MANAGE) and see all; a
department's staff see their own department's, and its 目录管理员 links the catalogue entry that fulfils one (FULFIL).
Anyone else: 404, never 403.
"""

from __future__ import annotations

from django.db.models import Q

from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_ability, register_policy
from govshare.core.roles import Role
from govshare.sharing.models import Demand, Duty

EDIT = "edit"  # a demand: change or close it (the demanding department)
ANSWER = "answer"  # a demand: answer it with a resource or ask the holder to catalogue
MANAGE = "manage"  # a duty: change or delete it (the coordinator, the platform administrator)
FULFIL = "fulfil"  # a duty: link the catalogue entry that meets it (the department's catalogue administrators)

CREATE_DEMAND = "sharing.demand.create"
MANAGE_DUTIES = "sharing.duty.manage"

DEMAND_EDITORS_ONLY = "只有需求部门的使用方或目录管理员可以修改本部门的需求"
DEMAND_ANSWER_ONLY = "只有提供部门的目录管理员、共享协调员或平台管理员可以答复需求"
DUTY_MANAGERS_ONLY = "只有共享协调员或平台管理员可以设定责任清单"
DUTY_FULFIL_ONLY = "只有责任部门的目录管理员、共享协调员或平台管理员可以关联目录资源"

DEMAND_EDITOR_ROLES = (Role.CONSUMER, Role.CATALOG_ADMIN)
CITY_WIDE_ROLES = (Role.COORDINATOR, Role.PLATFORM_ADMIN)


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


def city_wide(subject: Subject) -> bool:
    """The coordinator and the platform administrator work on every department's lists."""
    return _staff(subject) and subject.has_role(*CITY_WIDE_ROLES)


def may_create_demand(subject: Subject) -> bool:
    """A department's 使用方 or 目录管理员 registers its own department's demands."""
    return _staff(subject) and subject.department_id is not None and subject.has_role(*DEMAND_EDITOR_ROLES)


class DemandPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        everything = subject.has_role(*CITY_WIDE_ROLES)
        own = subject.department_id
        if action == VIEW:
            if everything:
                return Q()
            return Q(department_id=own) | Q(provider_id=own) if own is not None else NOTHING
        if action == EDIT:
            return Q(department_id=own) if own is not None and subject.has_role(*DEMAND_EDITOR_ROLES) else NOTHING
        if action == ANSWER:
            if everything:
                return Q()
            return Q(provider_id=own) if own is not None and subject.has_role(Role.CATALOG_ADMIN) else NOTHING
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: Demand) -> bool:
        if not _staff(subject):
            return False
        everything = subject.has_role(*CITY_WIDE_ROLES)
        own = subject.department_id
        if action == VIEW:
            return everything or (own is not None and own in (obj.department_id, obj.provider_id))
        if action == EDIT:
            return own is not None and own == obj.department_id and subject.has_role(*DEMAND_EDITOR_ROLES)
        if action == ANSWER:
            return everything or (own is not None and own == obj.provider_id and subject.has_role(Role.CATALOG_ADMIN))
        return False

    def refusal(self, subject: Subject, action: str, obj: Demand) -> str:
        return DEMAND_ANSWER_ONLY if action == ANSWER else DEMAND_EDITORS_ONLY


class DutyPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        if subject.has_role(*CITY_WIDE_ROLES):
            return Q() if action in (VIEW, MANAGE, FULFIL) else NOTHING
        own = subject.department_id
        if own is None:
            return NOTHING
        if action == VIEW or (action == FULFIL and subject.has_role(Role.CATALOG_ADMIN)):
            return Q(department_id=own)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: Duty) -> bool:
        if not _staff(subject):
            return False
        if subject.has_role(*CITY_WIDE_ROLES):
            return action in (VIEW, MANAGE, FULFIL)
        own = subject.department_id
        if own is None or own != obj.department_id:
            return False
        return action == VIEW or (action == FULFIL and subject.has_role(Role.CATALOG_ADMIN))

    def refusal(self, subject: Subject, action: str, obj: Duty) -> str:
        return DUTY_FULFIL_ONLY if action == FULFIL else DUTY_MANAGERS_ONLY


def register() -> None:
    register_policy(Demand, DemandPolicy())
    register_policy(Duty, DutyPolicy())
    register_ability(CREATE_DEMAND, may_create_demand, refusal="只有部门的使用方或目录管理员可以登记本部门的需求")
    register_ability(MANAGE_DUTIES, city_wide, refusal=DUTY_MANAGERS_ONLY)
