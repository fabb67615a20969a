"""The gateway's periodic work: the hourly watch for unusual use (`alerts.watch_usage`), a django-q schedule."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from govshare.jobs import registry

logger = logging.getLogger(__name__)

WATCH_USAGE = "gateway.watch_usage"
WATCH_SCHEDULE_NAME = "govshare-gateway-watch-usage"


def watch_usage() -> int:
    from govshare.gateway import alerts

    raised = alerts.watch_usage()
    if raised:
        logger.warning("gateway: %d alert(s) of unusual use raised", len(raised))
    return len(raised)


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate."""
    registry.keep_schedule_once_migrated(using, WATCH_SCHEDULE_NAME, WATCH_USAGE, Schedule.HOURLY)
