"""Who may see and act on share requests (共享申请).

VIEW a request: the staff of the applying department (its drafts too); once submitted, the staff of every department
whose resource it asks for (a provider sees what is asked of it and why); the coordinator, the platform
administrator and the auditor (read-only). Everyone else: 404.

Acting: APPLY (add to the cart, edit, submit, withdraw, dispute) is the applying department's users with the consumer
role. DECIDE a line in review: at a coordinator stage the coordinator; at the provider stage the provider
department's 部门审核员, and the coordinator once the line is overdue and escalated to it. ARBITRATE a dispute: the
coordinator. A coordinator never arbitrates a line it decided itself (the other coordinator does)."""

from __future__ import annotations

from django.db.models import Q

from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_policy
from govshare.core.roles import Role
from govshare.sharing.choices import LineStatus, RequestStatus, StageReviewer
from govshare.sharing.models import ShareRequest, ShareRequestLine

APPLY = "apply"
DECIDE = "decide"
ARBITRATE = "arbitrate"
APPLICANTS_ONLY = "只有申请部门的数据使用人员可以办理本部门的共享申请"
DECIDERS_ONLY = "该申请当前环节不由您审核"
ARBITERS_ONLY = "只有共享协调员可以仲裁异议"
SELF_ARBITRATION = "不能仲裁本人作出的决定：请由其他共享协调员仲裁"


def _staff(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active


def _sees_all(subject: Subject) -> bool:
    return subject.has_role(Role.COORDINATOR, Role.PLATFORM_ADMIN, Role.AUDITOR)


def may_apply(subject: Subject, department_id: int | None) -> bool:
    return (
        _staff(subject)
        and department_id is not None
        and subject.department_id == department_id
        and (subject.has_role(Role.CONSUMER))
    )


def stage_reviewer(line: ShareRequestLine) -> str | None:
    stage = line.stage
    return str(stage["reviewer"]) if stage is not None else None


def may_decide(subject: Subject, line: ShareRequestLine) -> bool:
    """Whether the subject decides the line's current stage now."""
    if not _staff(subject) or line.status != LineStatus.IN_REVIEW:
        return False
    reviewer = stage_reviewer(line)
    if reviewer == StageReviewer.COORDINATOR:
        return subject.has_role(Role.COORDINATOR)
    if reviewer == StageReviewer.PROVIDER:
        if subject.has_role(Role.COORDINATOR) and line.escalated_at is not None:
            return True
        return subject.has_role(Role.DEPT_REVIEWER) and subject.department_id == line.resource.department_id
    return False


class ShareRequestPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        department = subject.department_id
        if action == VIEW:
            if _sees_all(subject):
                return ~Q(status=RequestStatus.DRAFT) | Q(department_id=department or 0)
            if department is None:
                return NOTHING
            provider = Q(lines__resource__department_id=department) & ~Q(status=RequestStatus.DRAFT)
            return Q(department_id=department) | Q(pk__in=ShareRequest.objects.filter(provider).values("pk"))
        if action == APPLY and department is not None and subject.has_role(Role.CONSUMER):
            return Q(department_id=department)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: ShareRequest) -> bool:
        if not _staff(subject):
            return False
        department = subject.department_id
        own = department is not None and department == obj.department_id
        if action == VIEW:
            if own:
                return True
            if obj.status == RequestStatus.DRAFT:
                return False
            if _sees_all(subject):
                return True
            return department is not None and obj.lines.filter(resource__department_id=department).exists()
        if action == APPLY:
            return may_apply(subject, obj.department_id)
        return False

    def refusal(self, subject: Subject, action: str, obj: ShareRequest) -> str:
        return APPLICANTS_ONLY


class ShareRequestLinePolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        if not _staff(subject):
            return NOTHING
        department = subject.department_id
        submitted = ~Q(request__status=RequestStatus.DRAFT)
        if action == VIEW:
            if _sees_all(subject):
                return submitted | Q(request__department_id=department or 0)
            if department is None:
                return NOTHING
            return Q(request__department_id=department) | (Q(resource__department_id=department) & submitted)
        if action == DECIDE:
            in_review = Q(status=LineStatus.IN_REVIEW)
            if subject.has_role(Role.COORDINATOR):
                # Stage kinds live in the line's snapshot: the selector narrows by `may_decide` per line.
                return in_review
            if subject.has_role(Role.DEPT_REVIEWER) and department is not None:
                return in_review & Q(resource__department_id=department)
            return NOTHING
        if action == ARBITRATE and subject.has_role(Role.COORDINATOR):
            return Q(status=LineStatus.DISPUTED)
        return NOTHING

    def permits(self, subject: Subject, action: str, obj: ShareRequestLine) -> bool:
        if not _staff(subject):
            return False
        department = subject.department_id
        if action == VIEW:
            if department is not None and department == obj.request.department_id:
                return True
            if obj.request.status == RequestStatus.DRAFT:
                return False
            return _sees_all(subject) or (department is not None and department == obj.resource.department_id)
        if action == DECIDE:
            return may_decide(subject, obj)
        if action == ARBITRATE:
            return subject.has_role(Role.COORDINATOR) and obj.status == LineStatus.DISPUTED
        return False

    def refusal(self, subject: Subject, action: str, obj: ShareRequestLine) -> str:
        return ARBITERS_ONLY if action == ARBITRATE else DECIDERS_ONLY


def register() -> None:
    register_policy(ShareRequest, ShareRequestPolicy())
    register_policy(ShareRequestLine, ShareRequestLinePolicy())
