"""The gateway's background work, django-q tasks and schedules: the hourly watch for unusual use
(`alerts.watch_usage`), the batch comparisons (`batches.run_batch`, queued at each upload) with the hourly sweep of
their expired result files, and the deliveries (`delivery.run_delivery_job`) with the hourly sweep that starts the
due ones."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS
from django_q.models import Schedule

from govshare.jobs import registry

logger = logging.getLogger(__name__)

WATCH_USAGE = "gateway.watch_usage"
WATCH_SCHEDULE_NAME = "govshare-gateway-watch-usage"
RUN_BATCH = "gateway.run_batch"
SWEEP_BATCHES = "gateway.sweep_batches"
SWEEP_SCHEDULE_NAME = "govshare-gateway-sweep-batches"
RUN_DELIVERY = "gateway.run_delivery"
SWEEP_DELIVERIES = "gateway.sweep_deliveries"
SWEEP_DELIVERIES_SCHEDULE_NAME = "govshare-gateway-sweep-deliveries"


def watch_usage() -> int:
    from govshare.gateway import alerts

    raised = alerts.watch_usage()
    if raised:
        logger.warning("gateway: %d alert(s) of unusual use raised", len(raised))
    return len(raised)


def run_batch(batch_id: int) -> str:
    from govshare.gateway import batches

    return batches.run_batch(batch_id)


def sweep_batches() -> int:
    from govshare.gateway import batches

    swept = batches.sweep_batches()
    if swept:
        logger.info("gateway: the files of %d expired comparison batch(es) deleted", swept)
    return swept


def run_delivery(delivery_id: int, manual: bool = False) -> int | None:
    """One run of a delivery (queued by the sweep or by 立即执行): the run's id, None when none started."""
    from govshare.gateway import delivery

    return delivery.run_delivery_job(delivery_id, manual)


def sweep_deliveries() -> int:
    from govshare.gateway import delivery

    return len(delivery.sweep_deliveries())


def ensure_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate."""
    registry.keep_schedule_once_migrated(using, WATCH_SCHEDULE_NAME, WATCH_USAGE, Schedule.HOURLY)
    registry.keep_schedule_once_migrated(using, SWEEP_SCHEDULE_NAME, SWEEP_BATCHES, Schedule.HOURLY)
    registry.keep_schedule_once_migrated(using, SWEEP_DELIVERIES_SCHEDULE_NAME, SWEEP_DELIVERIES, Schedule.HOURLY)
