"""Sharing's periodic work, each a daily django-q schedule:

- the reminder of grants whose access review or validity ends soon (a grant not re-confirmed lapses on its own at the
  next access; the reminder gives its provider the chance to confirm it);
- the share requests' deadlines: reminders before a stage's deadline, escalation of overdue lines to the coordinator,
  and the deadlines that waited for a year of the working-day calendar to be entered (`requests.follow_deadlines`)."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from govshare.jobs import registry

logger = logging.getLogger(__name__)

REMIND_LAPSING_GRANTS = "sharing.remind_lapsing_grants"
REMIND_SCHEDULE_NAME = "govshare-remind-lapsing-grants"
FOLLOW_REQUEST_DEADLINES = "sharing.follow_request_deadlines"
DEADLINES_SCHEDULE_NAME = "govshare-follow-share-request-deadlines"


def remind_lapsing_grants() -> int:
    from govshare.sharing import grants

    return grants.remind_lapsing()


def follow_request_deadlines() -> dict[str, int]:
    """The daily pass over share requests in review: the counts of deadlines computed, lines reminded and lines
    escalated (kept as the task's result and logged)."""
    from govshare.sharing import requests

    run = requests.follow_deadlines()
    counts = {"computed": run.computed, "reminded": run.reminded, "escalated": run.escalated}
    logger.info(
        "share request deadlines: %(computed)d computed, %(reminded)d reminded, %(escalated)d escalated", counts
    )
    return counts


def ensure_schedule() -> None:
    registry.keep_schedule(REMIND_SCHEDULE_NAME, REMIND_LAPSING_GRANTS, Schedule.DAILY)
    registry.keep_schedule(DEADLINES_SCHEDULE_NAME, FOLLOW_REQUEST_DEADLINES, Schedule.DAILY)


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate."""
    registry.keep_schedule_once_migrated(using, REMIND_SCHEDULE_NAME, REMIND_LAPSING_GRANTS, Schedule.DAILY)
    registry.keep_schedule_once_migrated(using, DEADLINES_SCHEDULE_NAME, FOLLOW_REQUEST_DEADLINES, Schedule.DAILY)
