"""Who reads the audit trail: 三员分立, the auditor alone (not the platform administrator, not the security officer).
Nobody changes it: rows are appended by `services.record_action` in the transaction of what they record."""

from __future__ import annotations

from django.db.models import Q

from govshare.audit.models import AuditLog
from govshare.core.authz import NOTHING, VIEW, Subject, SubjectKind, register_ability, register_policy
from govshare.core.roles import Role

READ_AUDIT_LOG = "audit.read_log"
READ_REFUSED = "只有审计员可以查阅审计日志"


def is_auditor(subject: Subject) -> bool:
    return subject.subject_kind == SubjectKind.STAFF and subject.is_active and subject.has_role(Role.AUDITOR)


class AuditLogPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        return Q() if action == VIEW and is_auditor(subject) else NOTHING

    def permits(self, subject: Subject, action: str, obj: AuditLog) -> bool:
        return action == VIEW and is_auditor(subject)

    def refusal(self, subject: Subject, action: str, obj: AuditLog) -> str:
        return READ_REFUSED if action == VIEW else "审计记录只能追加，不能修改或删除"


def register() -> None:
    register_ability(READ_AUDIT_LOG, is_auditor, refusal=READ_REFUSED)
    register_policy(AuditLog, AuditLogPolicy())
