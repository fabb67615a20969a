"""Writing notifications: `notify` puts one row per recipient in their inbox (one bulk insert, inside the caller's
transaction) and e-mails them once that transaction has committed; `mark_read` and `mark_all_read` for the
recipient.

A notification follows from the caller's own action, which writes its audit row in the same transaction; reading
one's own notifications is not audited. E-mails carry only what the caller passes (title, body, link)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone

from govshare.accounts.models import User
from govshare.core.authz import require, restrict
from govshare.notifications.access import MARK_READ, NOT_FOUND
from govshare.notifications.choices import EMAILED_BY_DEFAULT, NotificationKind
from govshare.notifications.models import Notification

logger = logging.getLogger(__name__)

TITLE_MAX = Notification._meta.get_field("title").max_length or 200
LINK_MAX = Notification._meta.get_field("link").max_length or 500
TARGET_KEY_MAX = Notification._meta.get_field("target_key").max_length or 100
EMAIL_FOOTER = "此邮件由 govshare 政务数据共享交换平台自动发送，请勿回复。全部通知见平台的“消息”页面。"


@dataclass(frozen=True)
class _Mail:
    address: str
    subject: str
    body: str


def is_site_path(link: str) -> bool:
    """A path on this site (`/catalog/12/`): no scheme, no host, no protocol-relative `//host`."""
    return (
        link.startswith("/") and not link.startswith("//") and "\\" not in link and not any(c.isspace() for c in link)
    )


def _check(kind: str, title: str, link: str, target_key: str) -> None:
    # The caller's mistakes, not the user's: notifications are written by code.
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not title.strip() or len(title) > TITLE_MAX or "\n" in title or "\r" in title:
        raise ValueError(f"a notification title is one line of 1 to {TITLE_MAX} characters")
    if link and (len(link) > LINK_MAX or not is_site_path(link)):
        raise ValueError(f"a notification link is a path on the site (/…), at most {LINK_MAX} characters: {link!r}")
    if len(target_key) > TARGET_KEY_MAX:
        raise ValueError(f"a notification's target key has at most {TARGET_KEY_MAX} characters")


def _target(target: models.Model | str | None) -> tuple[ContentType | None, str]:
    if target is None:
        return None, ""
    if isinstance(target, str):
        return None, target
    if target.pk is None:
        raise ValueError("a notification's target must be saved")
    return ContentType.objects.get_for_model(target), str(target.pk)


def _mail_text(title: str, body: str, link: str) -> str:
    parts = [body.strip()] if body.strip() else [title]
    site = settings.GOVSHARE.site_url
    if link and site:
        parts.append(site.rstrip("/") + link)
    parts.append("—\n" + EMAIL_FOOTER)
    return "\n\n".join(parts)


def _send(mails: list[_Mail]) -> None:
    """Runs after the commit: a mail server that is down loses the e-mails (logged, without addresses), never the
    notifications, which are already in the inboxes."""
    messages = [EmailMessage(mail.subject, mail.body, to=[mail.address]) for mail in mails]
    try:
        get_connection().send_messages(messages)
    except Exception as exc:  # any failure of the mail server or the backend
        logger.warning("notification e-mail not sent (%d messages): %s", len(messages), type(exc).__name__)


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    target: models.Model | str | None = None,
    send_email: bool | None = None,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Put a notification in each recipient's inbox (each user once) and return the rows.

    `link` is a path on the site (`/catalog/12/`); `target` the object it is about (a saved model instance) or a
    string key for something that is not a row. `send_email`: None e-mails the kinds that do so by default
    (choices.EMAILED_BY_DEFAULT), True or False decides for this call. An e-mail goes only to active recipients
    with an address, only when the platform allows it (setting `email_notifications`), and only after the caller's
    transaction commits: a rolled-back action sends nothing."""
    _check(kind, title, link, target if isinstance(target, str) else "")
    target_type, target_key = _target(target)
    created = now or timezone.now()
    unique: dict[int, User] = {}
    for user in recipients:
        unique.setdefault(user.pk, user)
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            title=title,
            body=body,
            link=link,
            target_type=target_type,
            target_key=target_key,
            created=created,
        )
        for user in unique.values()
    ]
    wanted = kind in EMAILED_BY_DEFAULT if send_email is None else send_email
    mails = (
        [
            _Mail(user.email, f"[govshare] {title}", _mail_text(title, body, link))
            for user in unique.values()
            if user.email and user.is_active
        ]
        if wanted and settings.GOVSHARE.email_notifications
        else []
    )
    with transaction.atomic():
        created_rows = Notification.objects.bulk_create(rows)
        if mails:
            transaction.on_commit(lambda: _send(mails))
    return created_rows


def mark_read(notification: Notification, *, actor: User) -> Notification:
    """Mark one of the actor's own notifications read (again: nothing changes); another user's answers 404."""
    require(actor, MARK_READ, notification, not_found=NOT_FOUND)
    if notification.read_at is None:
        read_at = timezone.now()
        with transaction.atomic():
            # Conditional: a notification read in another tab meanwhile keeps its first read time.
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=read_at)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    with transaction.atomic():
        unread = restrict(Notification.objects.filter(read_at__isnull=True), actor, MARK_READ)
        return unread.update(read_at=timezone.now())
