"""Loads as background jobs, and the sources' schedules (django-q2 with its ORM broker: the queue is a table of the
metadata database, no extra server).

A load is one kind of job (`LOAD_KIND`, registered with govshare.jobs): its row (`Load`) keeps the state every job
keeps, and the claim, heartbeat, retry with backoff and the recovery of killed workers and lost tasks are the jobs
app's, the same for every kind. What is the loads' own:
- `enqueue_load` puts one task (`datasets.run_load`) in django-q's queue; a `govshare qcluster` worker runs it, and
  `loading.run_load` does the work, reporting into the Load row (the truth users see).
- Each active source with `schedule_enabled` gets one Schedule named `source-<id>` from its resource's update cycle
  (实时 every `load_realtime_minutes`, 每日 … 每年 as cron expressions at night); `sync_source_schedule` keeps
  it in step with the source and `ensure_schedules` (run after every `migrate`) with all of them. Its task,
  `datasets.run_scheduled_load`, is `services.run_scheduled_load`.
- Timeliness: whether a resource's last successful load is within its update cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django_q.models import Schedule

from govshare.catalog.choices import UpdateCycle
from govshare.catalog.models import Resource
from govshare.datasets import notices
from govshare.datasets.models import Dataset, Load
from govshare.jobs import registry
from govshare.jobs.execution import JobKind, enqueue_attempt
from govshare.jobs.execution import schedule_retry as schedule_job_retry
from govshare.jobs.recovery import RecoveryReport, ensure_recovery_schedule, recover_kind
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

__all__ = [
    "LOAD_KIND",
    "RecoveryReport",
    "allowed_age",
    "cycle_schedule",
    "enqueue_load",
    "ensure_schedules",
    "is_timely",
    "recover_stale_loads",
    "run_load_job",
    "schedule_retry",
    "source_schedule_name",
    "sync_source_schedule",
]

logger = logging.getLogger(__name__)

# The tasks' stable names (govshare.jobs.registry): django-q stores these, never a module path.
RUN_LOAD = "datasets.run_load"
RUN_SCHEDULED_LOAD = "datasets.run_scheduled_load"
# The loads-only recovery sweep of earlier releases: a stored schedule or queued task under this name still runs the
# sweep (over every kind) until `ensure_schedules` replaces it.
RECOVER_STALE_LOADS = "datasets.recover_stale_loads"
# Where the tasks were stored by module path (releases before the job registry): the migration datasets.0008 moves
# the schedules to the runner; a task already queued under the old path still runs and is still recognised.
LEGACY_RUN_LOAD_FUNC = "govshare.datasets.jobs.run_load_job"
# Scheduled loads of the slower cycles start at night (local time), spread over the hour by source id.
SCHEDULE_HOUR = 2
_CRON_BY_CYCLE = {
    UpdateCycle.DAILY: "{minute} {hour} * * *",
    UpdateCycle.WEEKLY: "{minute} {hour} * * 1",
    UpdateCycle.MONTHLY: "{minute} {hour} 1 * *",
    UpdateCycle.QUARTERLY: "{minute} {hour} 1 1,4,7,10 *",
    UpdateCycle.HALF_YEARLY: "{minute} {hour} 1 1,7 *",
    UpdateCycle.YEARLY: "{minute} {hour} 1 1 *",
}
# Timeliness: the last successful load must be at most this old. The period of the cycle plus a grace for the
# scheduled run's start time, the load's duration and a retry (about a quarter of the period, 1 day at least for
# the slower cycles); 实时 allows one hour.
_ALLOWED_AGE = {
    UpdateCycle.REALTIME: timedelta(hours=1),
    UpdateCycle.DAILY: timedelta(days=1, hours=6),
    UpdateCycle.WEEKLY: timedelta(days=8),
    UpdateCycle.MONTHLY: timedelta(days=31 + 7),
    UpdateCycle.QUARTERLY: timedelta(days=92 + 14),
    UpdateCycle.HALF_YEARLY: timedelta(days=184 + 30),
    UpdateCycle.YEARLY: timedelta(days=366 + 30),
}


# --- running loads ----------------------------------------------------------------------------------------------

LOAD_KIND = JobKind(
    name="datasets.load",
    model=Load,
    task=RUN_LOAD,
    prefix="load",
    label="归集任务",
    progress_field="progress_bytes",
    audit_prefix="datasets.load",
    exhausted_note="归集失败；上一版本数据保持不变",
    legacy_funcs=frozenset({LEGACY_RUN_LOAD_FUNC}),
    on_failed=notices.load_failed,
)


def enqueue_load(load: Load) -> str:
    """Queue the load for a worker of `govshare qcluster`; returns django-q's task id."""
    return enqueue_attempt(LOAD_KIND, load)


def run_load_job(load_id: int) -> None:
    """Where releases before the job registry queued a load (`LEGACY_RUN_LOAD_FUNC`): a task still waiting under
    that path runs the registered load task."""
    registry.task_function(RUN_LOAD)(load_id)


def schedule_retry(load: Load) -> Schedule:
    """A one-off django-q Schedule that runs the load again at its `next_attempt_at` (the backoff)."""
    return schedule_job_retry(LOAD_KIND, load)


def recover_stale_loads(now: datetime | None = None, *, at_worker_start: bool = False) -> RecoveryReport:
    """The jobs app's recovery sweep over loads alone (`govshare.jobs.recovery.recover_kind`)."""
    return recover_kind(LOAD_KIND, now, at_worker_start=at_worker_start)


# --- schedules --------------------------------------------------------------------------------------------------


def source_schedule_name(source: Source) -> str:
    return f"source-{source.pk}"


@dataclass(frozen=True)
class CycleSchedule:
    schedule_type: str
    minutes: int | None = None
    cron: str | None = None


def cycle_schedule(update_cycle: str, source_id: int) -> CycleSchedule | None:
    """The django-q schedule of a resource's update cycle; None for 不定期 (loads are requested by hand)."""
    if update_cycle == UpdateCycle.REALTIME:
        return CycleSchedule(Schedule.MINUTES, minutes=settings.GOVSHARE.load_realtime_minutes)
    template = _CRON_BY_CYCLE.get(UpdateCycle(update_cycle)) if update_cycle in UpdateCycle.values else None
    if template is None:
        return None
    return CycleSchedule(Schedule.CRON, cron=template.format(minute=source_id % 60, hour=SCHEDULE_HOUR))


def _first_run(plan: CycleSchedule, now: datetime) -> datetime:
    if plan.cron:
        from croniter import croniter

        local_next: datetime = croniter(plan.cron, timezone.localtime(now)).get_next(datetime)
        return local_next
    return now + timedelta(minutes=plan.minutes or 1)


def sync_source_schedule(source: Source, now: datetime | None = None) -> Schedule | None:
    """Create, update or delete the source's recurring load (`source-<id>`). Only active database and API sources
    with `schedule_enabled` and a regular update cycle are scheduled (a file is reported by a person)."""
    name = source_schedule_name(source)
    cycle = Resource.objects.filter(pk=source.resource_id).values_list("update_cycle", flat=True).first()
    plan = cycle_schedule(cycle, source.pk) if cycle else None
    wanted = source.is_active and source.schedule_enabled and source.kind != SourceKind.FILE and plan is not None
    if not wanted or plan is None:
        Schedule.objects.filter(name=name).delete()
        return None
    existing = Schedule.objects.filter(name=name).first()
    same = (
        existing is not None
        and existing.schedule_type == plan.schedule_type
        and existing.minutes == plan.minutes
        and (existing.cron or None) == plan.cron
        and (existing.func, existing.args) == tuple(registry.schedule_fields(RUN_SCHEDULED_LOAD, source.pk).values())
    )
    if existing is not None and same:
        return existing
    schedule = existing or Schedule(name=name)
    fields = registry.schedule_fields(RUN_SCHEDULED_LOAD, source.pk)
    schedule.func, schedule.args = fields["func"], fields["args"]
    schedule.kwargs = repr({"q_options": {"task_name": f"{name}-scheduled-load", "group": name}})
    schedule.schedule_type = plan.schedule_type
    schedule.minutes = plan.minutes
    schedule.cron = plan.cron
    schedule.repeats = -1
    first_run = _first_run(plan, now or timezone.now())
    if schedule.pk is None:
        # django-q2's Schedule.save() replaces a new cron schedule's next_run with one computed from the wall clock;
        # the first run must follow from the `now` given, so it is set again once the row exists.
        schedule.save()
    schedule.next_run = first_run
    schedule.save()
    return schedule


def ensure_schedules() -> None:
    """The recovery sweep every minute, and every source's schedule as its settings say (idempotent)."""
    ensure_recovery_schedule()
    kept: set[str] = set()
    for source in Source.objects.all():
        if sync_source_schedule(source) is not None:
            kept.add(source_schedule_name(source))
    Schedule.objects.filter(name__startswith="source-").exclude(name__in=kept).delete()


def ensure_schedules_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once the tables exist (a partial migrate may leave django-q's or ours missing)."""
    tables = set(connections[using].introspection.table_names())
    if Schedule._meta.db_table in tables and Load._meta.db_table in tables and Source._meta.db_table in tables:
        ensure_schedules()


# --- timeliness -------------------------------------------------------------------------------------------------


def allowed_age(update_cycle: str) -> timedelta | None:
    """How old the last successful load may be for the resource to count as timely (None: 不定期)."""
    if update_cycle not in UpdateCycle.values:
        return None
    return _ALLOWED_AGE.get(UpdateCycle(update_cycle))


def is_timely(resource: Resource, now: datetime | None = None) -> bool | None:
    """Whether the last successful load is within the update cycle; None when the cycle is 不定期 or no load ever
    succeeded (nothing to judge)."""
    limit = allowed_age(resource.update_cycle)
    if limit is None:
        return None
    last = Dataset.objects.filter(resource=resource).values_list("last_success_at", flat=True).first()
    if last is None:
        return None
    return (now or timezone.now()) - last <= limit
