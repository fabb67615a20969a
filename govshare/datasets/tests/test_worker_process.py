"""Real worker processes: `govshare qcluster` started as a subprocess on the test database, killed with -9 in the
middle of a load, started again; the load must end as if nothing happened (no lost version, no duplicate row).

Run with `pytest -m worker`; on SQLite the test database is then a file (see conftest.py), on PostgreSQL the
worker connects to the test database by name.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.tasks import async_task

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.rules import ItemDraft
from govshare.datasets import loading, services
from govshare.datasets.choices import FINISHED_STATUSES, LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source
from govshare.testing.databases import database_url

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("allow_local_sources"),
]

GOVSHARE = Path(sys.executable).with_name("govshare")
# Short on purpose: a killed worker's load is taken back within seconds, a retry waits one second.
WORKER_SETTINGS = {
    "GOVSHARE_LOAD_HEARTBEAT_SECONDS": "0.5",
    "GOVSHARE_LOAD_STALE_SECONDS": "5",
    "GOVSHARE_LOAD_RETRY_BACKOFF_SECONDS": "1",
    "GOVSHARE_JOB_WORKERS": "1",
}


class ClusterProcess:
    """`govshare qcluster` in its own process group (sentinel, pusher, monitor and workers are all in it)."""

    def __init__(self, data_dir: Path, log_path: Path, extra_env: dict[str, str]) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "GOVSHARE_DATA_DIR": str(data_dir),
            **WORKER_SETTINGS,
            **extra_env,
        }
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(GOVSHARE), "qcluster"], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill_9(self) -> None:
        """SIGKILL to the whole process group: nothing gets to clean up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._wait_group_gone()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._kill_leftovers()
            return
        # SIGTERM to the main process only, as systemd's KillMode=mixed does: it stops the sentinel, which lets
        # the workers finish. (SIGTERM to the whole group kills the sentinel first and the main process hangs.)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self._wait_group_gone()

    def _wait_group_gone(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise AssertionError("qcluster processes survived SIGKILL")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]


@pytest.fixture
def cluster(transactional_db, settings, tmp_path) -> Iterator[ClusterProcess]:  # type: ignore[no-untyped-def]
    """A qcluster on the test database; this process's settings match the worker's short timings."""
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"load_heartbeat_seconds": 0.5, "load_stale_seconds": 5, "load_retry_backoff_seconds": 1}
    )
    process = ClusterProcess(settings.GOVSHARE.data_dir, tmp_path / "qcluster.log", {})
    yield process
    process.stop()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, cluster: ClusterProcess) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; qcluster log:\n{cluster.log()}")


def test_a_real_cluster_runs_a_task_from_the_orm_queue(cluster: ClusterProcess) -> None:
    task_id = async_task("operator.add", 2, 3, task_name="harness-add")
    cluster.start()
    task = wait_for(lambda: Task.objects.filter(id=task_id).first(), 30, "the task's result", cluster)
    assert (task.success, task.result, task.name) == (True, 5, "harness-add")


# --- loads under real workers -------------------------------------------------------------------------------------

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]
MAPPING = [
    source_services.MappingEntry("身份证号", "公民身份号码"),
    source_services.MappingEntry("姓名", "姓名"),
    source_services.MappingEntry("出生日期", "出生日期"),
]
BIG_ROWS = 2_500_000


def people_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("身份证号,姓名,出生日期\n")
        chunk = 100_000
        for start in range(0, rows, chunk):
            out.write(
                "".join(f"5106031990{i:08d},居民{i},1990-01-01\n" for i in range(start, min(rows, start + chunk)))
            )
    return path


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


def make_file_source(department, admin, name: str) -> Source:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, name=name)
    data = source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": "csv"})
    return source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), MAPPING, actor=admin
    )


@pytest.fixture
def file_source(department, admin) -> Source:  # type: ignore[no-untyped-def]
    return make_file_source(department, admin, "常住人口基本信息")


def delta_version(dataset: Dataset) -> int:
    return int(DeltaTable(dataset.table_uri).version())


def delta_rows(dataset: Dataset, version: int) -> int:
    return int(DeltaTable(dataset.table_uri, version=version).to_pyarrow_dataset().count_rows())


def test_a_load_killed_with_sigkill_keeps_the_previous_version_and_is_retried_to_success(
    cluster: ClusterProcess, file_source: Source, department, admin, tmp_path: Path
) -> None:
    other_source = make_file_source(department, admin, "法人基本信息")
    # Version 0: three rows, loaded in this process.
    first = services.request_load(file_source, actor=admin, file_path=people_csv(tmp_path / "v0.csv", 3))
    run_load(first.pk)
    OrmQ.objects.all().delete()  # its queued task: this process ran it
    dataset = Dataset.objects.get(resource=file_source.resource)
    assert (dataset.current_version, delta_rows(dataset, 0)) == (0, 3)

    big = people_csv(tmp_path / "big.csv", BIG_ROWS)
    load = services.request_load(file_source, actor=admin, file_path=big)
    # A second load queued behind it: with one worker busy, the cluster's pusher takes its task into memory.
    behind = services.request_load(other_source, actor=admin, file_path=people_csv(tmp_path / "other.csv", 5))
    assert OrmQ.objects.count() == 2  # queued when the requests committed
    cluster.start()

    def running_with_progress_and_next_task_taken() -> bool:
        row = Load.objects.get(pk=load.pk)
        taken = OrmQ.objects.filter(lock__gt=timezone.now()).count()
        return row.status == LoadStatus.RUNNING and row.progress_bytes > 0 and taken == 2

    wait_for(running_with_progress_and_next_task_taken, 60, "the load running with progress", cluster)
    cluster.kill_9()

    # Killed mid-way: the previous version is current and readable, nothing new became visible.
    dataset.refresh_from_db()
    load.refresh_from_db()
    assert load.status == LoadStatus.RUNNING, "the load ended before the kill: make BIG_ROWS larger"
    assert load.attempts == 1
    assert Load.objects.get(pk=behind.pk).status == LoadStatus.QUEUED
    assert (dataset.current_version, delta_version(dataset), delta_rows(dataset, 0)) == (0, 0, 3)

    # Restarted after the heartbeat went stale (a supervisor restarts it): the load is taken back and finishes.
    wait_for(lambda: loading.load_is_stale(Load.objects.get(pk=load.pk)), 30, "the heartbeat to go stale", cluster)
    cluster.start()
    done = wait_for(
        lambda: (row := Load.objects.get(pk=load.pk)).status in FINISHED_STATUSES and row,
        90,
        "the retried load to finish",
        cluster,
    )
    dataset.refresh_from_db()
    assert (done.status, done.error, done.attempts) == (LoadStatus.SUCCEEDED, "", 2)
    assert (done.rows_read, done.rows_loaded, done.rows_rejected, done.version) == (BIG_ROWS, BIG_ROWS, 0, 1)
    assert (dataset.current_version, dataset.row_count, delta_rows(dataset, 1)) == (1, BIG_ROWS, BIG_ROWS)
    assert delta_rows(dataset, 0) == 3
    assert AuditLog.objects.filter(action="datasets.load.requeue", object_id=str(load.pk)).exists()
    # The load the killed cluster held in memory ran too (django-q alone would present it again after hours).
    other = wait_for(
        lambda: (row := Load.objects.get(pk=behind.pk)).status in FINISHED_STATUSES and row, 30, "the other", cluster
    )
    assert (other.status, other.rows_loaded) == (LoadStatus.SUCCEEDED, 5)


def test_a_source_database_that_is_down_is_retried_by_the_cluster_then_failed_without_a_new_version(
    cluster: ClusterProcess, department, admin, settings, tmp_path: Path
) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"load_max_attempts": 2})
    front = tmp_path / "front.sqlite3"
    with sqlite3.connect(front) as db:
        db.execute("CREATE TABLE people (身份证号 TEXT, 姓名 TEXT, 出生日期 TEXT)")
        db.executemany("INSERT INTO people VALUES (?, ?, ?)", [("510603199001010011", "张三", "1990-01-01")] * 2)
    resource = testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")
    data = source_services.SourceInput(
        name="公安前置库", kind=SourceKind.DATABASE, config={"url": f"sqlite:///{front}", "table": "people"}
    )
    source = source_services.set_mapping(
        source_services.register_source(resource, data, actor=admin), MAPPING, actor=admin
    )
    run_load(services.request_load(source, actor=admin).pk)  # version 0 from the live 前置库
    OrmQ.objects.all().delete()
    # The 前置库 goes down (nothing listens on port 1).
    Source.objects.filter(pk=source.pk).update(
        config={"url": "postgresql+psycopg://gov@127.0.0.1:1/front", "table": "people"}
    )
    load = services.request_load(Source.objects.get(pk=source.pk), actor=admin)
    cluster.start()

    # django-q's scheduler runs every 30 s of the cluster's life: the retry waits for the first or second run.
    done = wait_for(
        lambda: (row := Load.objects.get(pk=load.pk)).status == LoadStatus.FAILED and row,
        150,
        "the load to fail after its retry",
        cluster,
    )
    assert done.attempts == 2 and "前置库" in done.error
    # The second attempt came from the one-off retry schedule, through the cluster's scheduler. The cluster's monitor
    # records a task's result only after the task has returned (and so after the load row says FAILED): wait for it.
    attempts = wait_for(
        lambda: (
            (names := sorted(Task.objects.filter(group=f"load-{load.pk}").values_list("name", flat=True)))[1:] and names
        ),
        30,
        "the second attempt's task result",
        cluster,
    )
    assert attempts == [f"load-{load.pk}-attempt-1", f"load-{load.pk}-attempt-2"]
    assert not Schedule.objects.filter(name__startswith=f"load-{load.pk}-retry").exists()
    dataset = Dataset.objects.get(pk=load.dataset_id)
    assert (dataset.current_version, delta_version(dataset), delta_rows(dataset, 0)) == (0, 0, 2)
