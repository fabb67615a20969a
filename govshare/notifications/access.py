"""Who may see and mark a notification (the policy registered with govshare.core.authz): its recipient alone, for
every action. Anyone else, the platform administrator included, and every information system see none (404)."""

from __future__ import annotations

from django.db.models import Q

from govshare.accounts.models import User
from govshare.core.authz import NOTHING, Subject, SubjectKind, register_policy
from govshare.notifications.models import Notification

MARK_READ = "mark_read"
NOT_FOUND = "消息不存在或无权访问"


def _person(subject: Subject) -> User | None:
    if isinstance(subject, User) and subject.subject_kind == SubjectKind.STAFF and subject.is_active:
        return subject
    return None


class NotificationPolicy:
    def scope(self, subject: Subject, action: str) -> Q:
        person = _person(subject)
        return Q(recipient_id=person.pk) if person is not None else NOTHING

    def permits(self, subject: Subject, action: str, obj: Notification) -> bool:
        person = _person(subject)
        return person is not None and obj.recipient_id == person.pk

    def refusal(self, subject: Subject, action: str, obj: Notification) -> str:
        return NOT_FOUND  # never shown: whoever may not act on a notification does not see it either


def register() -> None:
    register_policy(Notification, NotificationPolicy())
