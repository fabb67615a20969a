"""Who sees a job: whoever started it, the catalogue administrators of the department whose work it is, and the
platform administrator (who runs the platform's own work, such as key rotation). Anyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.roles import Role
from govshare.jobs.models import Job


class JobPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if action != VIEW or subject.subject_kind != SubjectKind.STAFF or not subject.is_active:
            return NOTHING
        if subject.has_role(Role.PLATFORM_ADMIN):
            return Q()
        pk = _pk(subject)
        visible = Q(requested_by_id=pk) if pk is not None else NOTHING
        if subject.department_id is not None and subject.has_role(Role.CATALOG_ADMIN):
            visible |= Q(department_id=subject.department_id)
        return visible

    def permits(self, subject: Subject, action: str, obj: Job) -> bool:
        if action != VIEW or subject.subject_kind != SubjectKind.STAFF or not subject.is_active:
            return False
        if subject.has_role(Role.PLATFORM_ADMIN):
            return True
        if obj.requested_by_id is not None and obj.requested_by_id == _pk(subject):
            return True
        return (
            obj.department_id is not None
            and obj.department_id == subject.department_id
            and subject.has_role(Role.CATALOG_ADMIN)
        )

    def refusal(self, subject: Subject, action: str, obj: Job) -> str:
        return "后台任务只能由发起人、所属部门的目录管理员和平台管理员查看"


def _pk(subject: Subject) -> Any:
    return getattr(subject, "pk", None)


def register() -> None:
    register_policy(Job, JobPolicy())
