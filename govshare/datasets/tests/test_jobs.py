"""Background jobs on django-q2's real ORM broker and schedules (no cluster process here; see test_worker_process)."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule
from django_q.tasks import async_task

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.choices import UpdateCycle
from govshare.catalog.rules import ItemDraft
from govshare.datasets import jobs, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.jobs import recovery
from govshare.jobs.registry import RUNNER
from govshare.jobs.runner import run
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

ITEMS = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="姓名", data_type="C", length=50)]
MAPPING = [source_services.MappingEntry("身份证号", "公民身份号码"), source_services.MappingEntry("姓名", "姓名")]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


def front_url() -> str:
    """A 前置库 file where the tests' allowance lets a source read (these tests never open it)."""
    return f"sqlite:///{django_settings.GOVSHARE.source_sqlite_dirs[0] / 'front.sqlite3'}"


def make_source(
    department, admin, *, cycle: str = UpdateCycle.DAILY, kind: str = SourceKind.DATABASE, scheduled: bool = True
) -> Source:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, update_cycle=cycle)
    config = {"url": front_url(), "table": "people"} if kind == SourceKind.DATABASE else {}
    data = source_services.SourceInput(name="前置库", kind=kind, config=config, schedule_enabled=scheduled)
    source = source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), MAPPING, actor=admin
    )
    # register_source syncs the schedule after commit, which a test's rolled-back transaction never reaches.
    jobs.sync_source_schedule(source)
    return source


def queued_tasks() -> list[dict]:
    return [row.task for row in OrmQ.objects.order_by("id")]


def make_load(source: Source, **fields: object) -> Load:
    """A load row in the state a worker left it (the worker itself is what these tests simulate losing)."""
    load = services.request_load(source, actor=None)
    if fields:
        Load.objects.filter(pk=load.pk).update(**fields)
        load.refresh_from_db()
    return load


def dead_load(source: Source, *, attempts: int, silent_for: timedelta, max_attempts: int = 3) -> Load:
    beat = timezone.now() - silent_for
    return make_load(
        source,
        status=LoadStatus.RUNNING,
        attempts=attempts,
        max_attempts=max_attempts,
        claim_token=str(uuid.uuid4()),
        started_at=beat,
        heartbeat_at=beat,
    )


# --- enqueueing -------------------------------------------------------------------------------------------------


def test_enqueue_load_puts_one_task_on_the_orm_queue_naming_load_and_attempt(department, admin) -> None:
    load = make_load(make_source(department, admin))
    OrmQ.objects.all().delete()
    jobs.enqueue_load(load)
    [task] = queued_tasks()
    assert (task["func"], task["args"], task["name"]) == (RUNNER, (jobs.RUN_LOAD, load.pk), f"load-{load.pk}-attempt-1")


def test_requesting_a_load_queues_its_task_once_the_transaction_commits(
    department, admin, django_capture_on_commit_callbacks
) -> None:
    source = make_source(department, admin)
    with django_capture_on_commit_callbacks(execute=True):
        load = services.request_load(source, actor=admin)
        assert OrmQ.objects.count() == 0
    assert [task["args"] for task in queued_tasks()] == [(jobs.RUN_LOAD, load.pk)]


def test_a_load_requested_without_enqueue_queues_no_task(department, admin, django_capture_on_commit_callbacks) -> None:
    source = make_source(department, admin)
    with django_capture_on_commit_callbacks(execute=True):
        load = services.request_load(source, actor=admin, enqueue=False)
    assert OrmQ.objects.count() == 0
    assert load.status == LoadStatus.QUEUED


def test_a_load_requested_without_enqueue_that_nobody_ran_is_queued_by_the_sweep(department, admin) -> None:
    # The synchronous caller died before running it: after QUEUED_WITHOUT_TASK the recovery sweep queues it.
    load = services.request_load(make_source(department, admin), actor=admin, enqueue=False)
    Load.objects.filter(pk=load.pk).update(
        created_at=timezone.now() - recovery.QUEUED_WITHOUT_TASK - timedelta(seconds=1)
    )
    assert jobs.recover_stale_loads().lost == [load.pk]
    assert [task["args"] for task in queued_tasks()] == [(jobs.RUN_LOAD, load.pk)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as in a worker: no enclosing transaction
def test_run_load_job_runs_the_load_to_success(department, admin, tmp_path: Path) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE, scheduled=False)
    path = tmp_path / "people.csv"
    path.write_text("身份证号,姓名\n510603199001010011,张三\n510603199001010029,李四\n", encoding="utf-8")
    load = services.request_load(source, actor=admin, file_path=path)
    run(jobs.RUN_LOAD, load.pk)  # what a worker runs for the queued task
    load.refresh_from_db()
    assert (load.status, load.rows_loaded, load.error) == (LoadStatus.SUCCEEDED, 2, "")


def test_schedule_retry_makes_a_one_off_schedule_at_the_next_attempt_time(department, admin) -> None:
    at = timezone.now() + timedelta(seconds=60)
    load = make_load(make_source(department, admin), status=LoadStatus.RETRYING, attempts=1, next_attempt_at=at)
    schedule = jobs.schedule_retry(load)
    assert (schedule.schedule_type, schedule.func, schedule.next_run, schedule.repeats) == (
        Schedule.ONCE,
        RUNNER,
        at,
        -1,
    )
    assert schedule.args == repr((jobs.RUN_LOAD, load.pk))
    assert f"load-{load.pk}-attempt-2" in (schedule.kwargs or "")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_load_whose_source_is_down_gets_a_retry_schedule_at_its_backoff(department, admin) -> None:
    source = make_source(department, admin)
    Source.objects.filter(pk=source.pk).update(
        config={"url": "postgresql+psycopg://gov@127.0.0.1:1/front", "table": "t"}
    )
    load = services.request_load(Source.objects.get(pk=source.pk), actor=admin)
    run(jobs.RUN_LOAD, load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.RETRYING and load.next_attempt_at is not None
    schedule = Schedule.objects.get(name=f"load-{load.pk}-retry-1")
    assert (schedule.schedule_type, schedule.next_run, schedule.args) == (
        Schedule.ONCE,
        load.next_attempt_at,
        repr((jobs.RUN_LOAD, load.pk)),
    )


def test_schedule_retry_twice_for_the_same_attempt_keeps_one_schedule(department, admin) -> None:
    at = timezone.now() + timedelta(seconds=60)
    load = make_load(make_source(department, admin), status=LoadStatus.RETRYING, attempts=1, next_attempt_at=at)
    jobs.schedule_retry(load)
    jobs.schedule_retry(load)
    assert Schedule.objects.filter(func=RUNNER, name__startswith=f"load-{load.pk}-retry").count() == 1


# --- recovery of loads whose worker died ----------------------------------------------------------------------


def test_a_running_load_whose_heartbeat_stopped_is_queued_again(department, admin) -> None:
    load = dead_load(make_source(department, admin), attempts=1, silent_for=timedelta(minutes=5))
    OrmQ.objects.all().delete()
    report = jobs.recover_stale_loads()
    load.refresh_from_db()
    assert report.requeued == [load.pk]
    assert (load.status, load.claim_token) == (LoadStatus.RETRYING, "")
    assert "执行进程失联" in load.error and "第 2 次尝试" in load.error
    assert [task["name"] for task in queued_tasks()] == [f"load-{load.pk}-attempt-2"]
    assert AuditLog.objects.filter(action="datasets.load.requeue", object_id=str(load.pk)).exists()


def test_a_dead_load_on_its_last_attempt_fails_with_a_clear_error(department, admin) -> None:
    load = dead_load(make_source(department, admin), attempts=3, silent_for=timedelta(minutes=5))
    OrmQ.objects.all().delete()
    report = jobs.recover_stale_loads()
    load.refresh_from_db()
    assert report.failed == [load.pk]
    assert load.status == LoadStatus.FAILED and load.finished_at is not None
    assert "已达最多尝试次数 3 次" in load.error and "上一版本数据保持不变" in load.error
    assert OrmQ.objects.count() == 0


def test_a_load_with_a_recent_heartbeat_is_left_alone(department, admin) -> None:
    load = dead_load(make_source(department, admin), attempts=1, silent_for=timedelta(seconds=5))
    report = jobs.recover_stale_loads()
    load.refresh_from_db()
    assert report.total == 0
    assert load.status == LoadStatus.RUNNING


def test_a_second_sweep_does_not_queue_the_same_dead_load_again(department, admin) -> None:
    dead_load(make_source(department, admin), attempts=1, silent_for=timedelta(minutes=5))
    OrmQ.objects.all().delete()
    jobs.recover_stale_loads()
    jobs.recover_stale_loads()
    assert OrmQ.objects.count() == 1


def test_a_retry_whose_time_passed_long_ago_without_a_schedule_is_queued_again(department, admin) -> None:
    long_ago = timezone.now() - recovery.RETRY_OVERDUE - timedelta(minutes=1)
    load = make_load(make_source(department, admin), status=LoadStatus.RETRYING, attempts=1, next_attempt_at=long_ago)
    OrmQ.objects.all().delete()
    report = jobs.recover_stale_loads()
    assert report.overdue == [load.pk]
    assert [task["args"] for task in queued_tasks()] == [(jobs.RUN_LOAD, load.pk)]


def test_a_retry_that_still_has_its_schedule_is_left_to_the_scheduler(department, admin) -> None:
    long_ago = timezone.now() - recovery.RETRY_OVERDUE - timedelta(minutes=1)
    load = make_load(make_source(department, admin), status=LoadStatus.RETRYING, attempts=1, next_attempt_at=long_ago)
    jobs.schedule_retry(load)
    assert jobs.recover_stale_loads().total == 0


def test_a_queued_load_whose_task_went_missing_is_queued_again(department, admin) -> None:
    load = make_load(make_source(department, admin), created_at=timezone.now() - timedelta(minutes=2))
    OrmQ.objects.all().delete()
    report = jobs.recover_stale_loads()
    assert report.lost == [load.pk]
    assert [task["args"] for task in queued_tasks()] == [(jobs.RUN_LOAD, load.pk)]


def test_a_queued_load_with_its_task_waiting_in_the_queue_is_left_alone(department, admin) -> None:
    load = make_load(make_source(department, admin), created_at=timezone.now() - timedelta(minutes=2))
    OrmQ.objects.all().delete()
    jobs.enqueue_load(load)
    assert jobs.recover_stale_loads().total == 0
    assert OrmQ.objects.count() == 1


def _taken_by_a_pusher(load: Load, taken_at: datetime) -> None:
    """As django-q's pusher does when it takes a task into its cluster's memory: the row is locked for `retry`."""
    OrmQ.objects.all().delete()
    jobs.enqueue_load(load)
    OrmQ.objects.update(lock=taken_at + timedelta(seconds=Conf.RETRY))


def _before_this_cluster_started() -> datetime:
    return recovery.PROCESS_STARTED_AT - timedelta(minutes=1)


def test_a_queued_load_whose_task_a_killed_cluster_had_taken_is_queued_again_when_a_worker_starts(
    department, admin
) -> None:
    load = make_load(make_source(department, admin))
    _taken_by_a_pusher(load, _before_this_cluster_started())
    assert jobs.recover_stale_loads().total == 0  # the minute sweep cannot tell a live cluster's task from a lost one
    recovery.recover_on_worker_start(proc_name="Process-test")
    unlocked = OrmQ.objects.filter(lock__lte=timezone.now())
    assert [row.task["args"] for row in unlocked] == [(jobs.RUN_LOAD, load.pk)]
    assert AuditLog.objects.filter(action="datasets.load.requeue", object_id=str(load.pk)).count() == 1


def test_a_task_this_clusters_pusher_took_is_left_to_it_when_a_worker_starts(department, admin) -> None:
    load = make_load(make_source(department, admin))
    _taken_by_a_pusher(load, timezone.now())
    recovery.recover_on_worker_start(proc_name="Process-test")
    assert OrmQ.objects.filter(lock__lte=timezone.now()).count() == 0
    assert not AuditLog.objects.filter(action="datasets.load.requeue", object_id=str(load.pk)).exists()


def test_two_workers_starting_together_queue_a_lost_load_once(department, admin) -> None:
    load = make_load(make_source(department, admin))
    _taken_by_a_pusher(load, _before_this_cluster_started())
    stale_view = Load.objects.get(pk=load.pk)
    assert recovery._requeue_queued(jobs.LOAD_KIND, stale_view, timezone.now(), "test") is True
    assert recovery._requeue_queued(jobs.LOAD_KIND, stale_view, timezone.now(), "test") is False
    assert OrmQ.objects.filter(lock__lte=timezone.now()).count() == 1


# --- recurring loads from the update cycle --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "cron"),
    [
        (UpdateCycle.DAILY, "{m} 2 * * *"),
        (UpdateCycle.WEEKLY, "{m} 2 * * 1"),
        (UpdateCycle.MONTHLY, "{m} 2 1 * *"),
        (UpdateCycle.QUARTERLY, "{m} 2 1 1,4,7,10 *"),
        (UpdateCycle.HALF_YEARLY, "{m} 2 1 1,7 *"),
        (UpdateCycle.YEARLY, "{m} 2 1 1 *"),
    ],
)
def test_each_regular_update_cycle_gets_a_cron_schedule_at_night(department, admin, cycle: str, cron: str) -> None:
    source = make_source(department, admin, cycle=cycle)
    schedule = Schedule.objects.get(name=f"source-{source.pk}")
    assert (schedule.schedule_type, schedule.cron) == (Schedule.CRON, cron.format(m=source.pk % 60))
    assert (schedule.func, schedule.args) == (RUNNER, repr((jobs.RUN_SCHEDULED_LOAD, source.pk)))
    local = timezone.localtime(schedule.next_run)
    assert (local.hour, local.minute) == (2, source.pk % 60)
    assert schedule.next_run > timezone.now()


def test_realtime_sources_load_every_configured_few_minutes(department, admin, settings) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"load_realtime_minutes": 7})
    source = make_source(department, admin, cycle=UpdateCycle.REALTIME)
    schedule = Schedule.objects.get(name=f"source-{source.pk}")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 7)


def test_the_first_weekly_run_is_the_next_monday_night(department, admin) -> None:
    source = make_source(department, admin, cycle=UpdateCycle.WEEKLY)
    Schedule.objects.filter(name=f"source-{source.pk}").delete()
    thursday_noon = datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI)
    schedule = jobs.sync_source_schedule(source, now=thursday_noon)
    assert schedule is not None
    assert timezone.localtime(schedule.next_run) == datetime(2026, 11, 30, 2, source.pk % 60, tzinfo=SHANGHAI)


def test_registering_a_scheduled_source_creates_its_schedule_after_commit(
    department, admin, django_capture_on_commit_callbacks
) -> None:
    resource = testing.make_published_resource(department, items=ITEMS, update_cycle=UpdateCycle.DAILY)
    data = source_services.SourceInput(
        name="前置库", kind=SourceKind.DATABASE, config={"url": front_url(), "table": "t"}, schedule_enabled=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        source = source_services.register_source(resource, data, actor=admin)
    assert Schedule.objects.filter(name=f"source-{source.pk}", args=repr((jobs.RUN_SCHEDULED_LOAD, source.pk))).exists()


def test_irregular_resources_have_no_schedule(department, admin) -> None:
    source = make_source(department, admin, cycle=UpdateCycle.IRREGULAR)
    assert not Schedule.objects.filter(name=f"source-{source.pk}").exists()


def test_file_sources_have_no_schedule_since_a_person_reports_the_file(department, admin) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE)
    assert not Schedule.objects.filter(name=f"source-{source.pk}").exists()


def test_switching_the_schedule_off_deletes_it(department, admin, django_capture_on_commit_callbacks) -> None:
    source = make_source(department, admin)
    assert Schedule.objects.filter(name=f"source-{source.pk}").exists()
    with django_capture_on_commit_callbacks(execute=True):
        source_services.set_source_active(source, False, actor=admin)
    assert not Schedule.objects.filter(name=f"source-{source.pk}").exists()


def test_a_scheduled_run_requests_a_load_as_the_system(department, admin) -> None:
    source = make_source(department, admin)
    load_id = services.run_scheduled_load(source.pk)
    assert load_id is not None
    load = Load.objects.get(pk=load_id)
    assert (load.source_id, load.requested_by, load.status) == (source.pk, None, LoadStatus.QUEUED)


def test_a_scheduled_run_is_skipped_while_the_previous_load_is_unfinished(department, admin) -> None:
    source = make_source(department, admin)
    make_load(source, status=LoadStatus.RUNNING, heartbeat_at=timezone.now())
    assert services.run_scheduled_load(source.pk) is None
    assert Load.objects.filter(source=source).count() == 1


def test_ensure_schedules_keeps_one_recovery_sweep_and_drops_schedules_of_deleted_sources(department, admin) -> None:
    Schedule.objects.create(name="source-999999", func=RUNNER, schedule_type=Schedule.DAILY)
    jobs.ensure_schedules()
    jobs.ensure_schedules()
    sweep = Schedule.objects.get(name=recovery.RECOVER_SCHEDULE_NAME)
    assert (sweep.func, sweep.args, sweep.schedule_type, sweep.minutes) == (
        RUNNER,
        repr((recovery.RECOVER_STALE_JOBS,)),
        Schedule.MINUTES,
        1,
    )
    assert not Schedule.objects.filter(name="source-999999").exists()


def test_migrate_leaves_the_recovery_sweep_scheduled() -> None:
    assert Schedule.objects.filter(name=recovery.RECOVER_SCHEDULE_NAME, func=RUNNER).count() == 1


# --- timeliness -------------------------------------------------------------------------------------------------


def _loaded(department, cycle: str, age: timedelta | None):  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, update_cycle=cycle)
    last = None if age is None else timezone.now() - age
    Dataset.objects.create(resource=resource, table_uri="unused", last_success_at=last)
    return resource


@pytest.mark.parametrize(
    ("cycle", "fresh", "late"),
    [
        (UpdateCycle.REALTIME, timedelta(minutes=50), timedelta(minutes=70)),
        (UpdateCycle.DAILY, timedelta(hours=29), timedelta(hours=31)),
        (UpdateCycle.WEEKLY, timedelta(days=7, hours=20), timedelta(days=8, hours=1)),
        (UpdateCycle.MONTHLY, timedelta(days=37), timedelta(days=39)),
        (UpdateCycle.QUARTERLY, timedelta(days=105), timedelta(days=107)),
        (UpdateCycle.HALF_YEARLY, timedelta(days=213), timedelta(days=215)),
        (UpdateCycle.YEARLY, timedelta(days=395), timedelta(days=397)),
    ],
)
def test_timeliness_follows_the_update_cycle(department, cycle: str, fresh: timedelta, late: timedelta) -> None:
    assert jobs.is_timely(_loaded(department, cycle, fresh)) is True
    assert jobs.is_timely(_loaded(department, cycle, late)) is False


def test_timeliness_is_unknown_for_irregular_resources_and_before_any_load(department) -> None:
    assert jobs.is_timely(_loaded(department, UpdateCycle.IRREGULAR, timedelta(days=999))) is None
    assert jobs.is_timely(_loaded(department, UpdateCycle.DAILY, None)) is None
    never = testing.make_published_resource(department, items=ITEMS, update_cycle=UpdateCycle.DAILY)
    assert jobs.is_timely(never) is None


# --- the run_load command -----------------------------------------------------------------------------------------


def _people_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("身份证号,姓名\n510603199001010011,张三\n510603199001010029,李四\n,无号码\n", encoding="utf-8")
    return path


def _command(*args: object) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_load", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_load_command_runs_a_load_in_the_foreground_and_reports_in_chinese(department, admin, tmp_path) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE, scheduled=False)
    Source.objects.filter(pk=source.pk).update(key_items=["公民身份号码"])
    load = services.request_load(source, actor=admin, file_path=_people_file(tmp_path))
    output = _command(load.pk, "--no-progress")
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED
    assert "状态：成功，生成数据集第 1 版" in output
    assert "读取 3 行，写入 2 行，拒绝 1 行" in output
    assert f"拒绝记录文件：{load.rejects_path}" in output


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_load_command_shows_a_progress_bar_of_the_bytes_read(department, admin, tmp_path) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE, scheduled=False)
    path = _people_file(tmp_path)
    load = services.request_load(source, actor=admin, file_path=path)
    err = io.StringIO()
    call_command("run_load", str(load.pk), stdout=io.StringIO(), stderr=err)
    final = err.getvalue().split("\r")[-1]
    size = path.stat().st_size
    assert "读取: 100%" in final and f"{size}.0/{size}.0" in final
    assert "成功 · 已提交数据集第 1 版" in final


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_load_command_requests_a_load_of_a_file_source_first(department, admin, tmp_path) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE, scheduled=False)
    output = _command("--source", source.pk, "--file", _people_file(tmp_path), "--no-progress")
    load = Load.objects.get(source=source)
    assert (load.status, load.requested_by, load.rows_loaded) == (LoadStatus.SUCCEEDED, None, 3)
    assert f"归集任务 #{load.pk}" in output
    # It ran here, in the foreground: no django-q task was left behind to find it finished.
    assert OrmQ.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_run_load_command_fails_with_the_loads_error(department, admin, tmp_path) -> None:
    source = make_source(department, admin, kind=SourceKind.FILE, scheduled=False)
    path = tmp_path / "other.csv"
    path.write_text("编号,名称\n1,甲\n", encoding="utf-8")
    load = services.request_load(source, actor=admin, file_path=path)
    with pytest.raises(CommandError, match="状态：失败：来源中缺少已映射的字段：身份证号、姓名"):
        _command(load.pk, "--no-progress")


def test_run_load_command_needs_a_load_or_a_source() -> None:
    with pytest.raises(CommandError, match="二者选一"):
        _command()
    with pytest.raises(CommandError, match="归集任务 #424242 不存在"):
        _command(424242)


def test_a_load_task_queued_by_module_path_before_the_registry_still_counts_as_queued(department, admin) -> None:
    load = make_load(make_source(department, admin))
    OrmQ.objects.all().delete()
    async_task(jobs.LEGACY_RUN_LOAD_FUNC, load.pk, task_name=f"load-{load.pk}-attempt-1")
    Load.objects.filter(pk=load.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert jobs.recover_stale_loads().lost == []  # not queued twice: its task is waiting
    jobs.run_load_job(load.pk)  # and the old path still runs it (an attempt was made)
    assert Load.objects.get(pk=load.pk).attempts == 1
