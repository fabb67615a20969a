"""Sharing's periodic work: the daily reminder of grants whose access review or validity ends soon (a grant not
re-confirmed lapses on its own at the next access; the reminder gives its provider the chance to confirm it)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from govshare.jobs import registry

REMIND_LAPSING_GRANTS = "sharing.remind_lapsing_grants"
REMIND_SCHEDULE_NAME = "govshare-remind-lapsing-grants"


def remind_lapsing_grants() -> int:
    from govshare.sharing import grants

    return grants.remind_lapsing()


def ensure_schedule() -> None:
    registry.keep_schedule(REMIND_SCHEDULE_NAME, REMIND_LAPSING_GRANTS, Schedule.DAILY)


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate."""
    registry.keep_schedule_once_migrated(using, REMIND_SCHEDULE_NAME, REMIND_LAPSING_GRANTS, Schedule.DAILY)
