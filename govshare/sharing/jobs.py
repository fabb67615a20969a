"""Sharing's periodic work: the daily reminder of grants whose access review or validity ends soon (a grant not
re-confirmed lapses on its own at the next access; the reminder gives its provider the chance to confirm it)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django_q.models import Schedule

from govshare.jobs import registry

REMIND_LAPSING_GRANTS = "sharing.remind_lapsing_grants"
REMIND_SCHEDULE_NAME = "govshare-remind-lapsing-grants"


def remind_lapsing_grants() -> int:
    from govshare.sharing import grants

    return grants.remind_lapsing()


def ensure_schedule() -> None:
    """Once a day (idempotent); each grant is reminded once per review cycle, so a run more or less changes nothing."""
    Schedule.objects.update_or_create(
        name=REMIND_SCHEDULE_NAME,
        defaults={
            **registry.schedule_fields(REMIND_LAPSING_GRANTS),
            "kwargs": repr({"q_options": {"task_name": REMIND_SCHEDULE_NAME}}),
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
        },
    )


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once django-q's tables exist."""
    if Schedule._meta.db_table in set(connections[using].introspection.table_names()):
        ensure_schedule()
