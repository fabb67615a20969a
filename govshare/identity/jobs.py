"""Identity's periodic work: credentials whose rotation overlap has passed are revoked for good every hour (they are
refused from their `expires_at` on whether or not this ran; the sweep replaces their secret and deletes their
tokens, with an audit row each)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from govshare.jobs import registry

END_EXPIRED_CREDENTIALS = "identity.end_expired_credentials"
CREDENTIAL_SCHEDULE_NAME = "govshare-end-expired-credentials"


def end_expired_credentials() -> int:
    from govshare.identity import services

    return services.end_expired_credentials()


def ensure_schedule() -> None:
    registry.keep_schedule(CREDENTIAL_SCHEDULE_NAME, END_EXPIRED_CREDENTIALS, Schedule.HOURLY)


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate."""
    registry.keep_schedule_once_migrated(using, CREDENTIAL_SCHEDULE_NAME, END_EXPIRED_CREDENTIALS, Schedule.HOURLY)
