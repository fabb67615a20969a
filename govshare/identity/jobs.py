"""Identity's periodic work: credentials whose rotation overlap has passed are revoked for good every hour (they are
refused from their `expires_at` on whether or not this ran; the sweep replaces their secret and deletes their
tokens, with an audit row each)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django_q.models import Schedule

from govshare.jobs import registry

END_EXPIRED_CREDENTIALS = "identity.end_expired_credentials"
CREDENTIAL_SCHEDULE_NAME = "govshare-end-expired-credentials"


def end_expired_credentials() -> int:
    from govshare.identity import services

    return services.end_expired_credentials()


def ensure_schedule() -> None:
    """Every hour (idempotent)."""
    Schedule.objects.update_or_create(
        name=CREDENTIAL_SCHEDULE_NAME,
        defaults={
            **registry.schedule_fields(END_EXPIRED_CREDENTIALS),
            "kwargs": repr({"q_options": {"task_name": CREDENTIAL_SCHEDULE_NAME}}),
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once django-q's tables exist."""
    if Schedule._meta.db_table in set(connections[using].introspection.table_names()):
        ensure_schedule()
