"""Kill safety of a dataset's key rotation with a real process: `govshare rotate_keys` killed with -9 while it is
writing the new version's files leaves the current version current and readable; the next run rotates it.

Marked `worker` (like the load kill tests): on SQLite the test database is then a file the subprocess can open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.core import crypto
from govshare.dataplane.encryption import version_key_usage
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import reading, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.testing.databases import database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GOVSHARE = Path(sys.executable).with_name("govshare")
ROWS = 200_000


def test_rotate_keys_killed_while_writing_leaves_the_current_version_and_the_next_run_rotates(
    department, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    owner = testing.make_user(Role.CATALOG_ADMIN, department=department)
    items = [
        ItemDraft(name="编号", data_type="C", length=10),
        ItemDraft(name="手机号码", data_type="C", length=11, at_rest="searchable"),
        ItemDraft(name="住址", data_type="C", length=60, at_rest="encrypted"),
    ]
    resource = testing.make_published_resource(department, items=items, name="联系方式")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(i.name, i.name) for i in items], actor=owner)
    path = tmp_path / "a.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("编号,手机号码,住址\n")
        out.writelines(f"{n:010d},1{3800000000 + n},德阳市长江西路{n % 500}号\n" for n in range(ROWS))
    load = services.request_load(source, actor=owner, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED, load.error
    dataset = Dataset.objects.get(resource=resource)
    table = DatasetTable(dataset.table_uri)
    before = dataset.current_version
    assert before is not None
    files_before = {Path(f).name for f in table.files(before)}
    crypto.add_key(Path(settings.GOVSHARE.data_dir))

    env = {**os.environ, "DATABASE_URL": database_url(), "GOVSHARE_DATA_DIR": str(settings.GOVSHARE.data_dir)}
    env.pop("GOVSHARE_ENCRYPTION_KEYS", None)
    log = (tmp_path / "rotate.log").open("wb")
    process = subprocess.Popen(
        [str(GOVSHARE), "rotate_keys"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    table_dir = Path(dataset.table_uri)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if {p.name for p in table_dir.glob("*.parquet")} - files_before:
                break  # the new version's first file is written: the commit is still to come
            time.sleep(0.02)
        assert process.poll() is None, (tmp_path / "rotate.log").read_text()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()

    assert table.version() == before  # no commit: the written files belong to no version
    dataset.refresh_from_db()
    assert dataset.current_version == before
    assert reading.preview_version(owner, resource, limit=1).rows == [
        ["0000000000", "13800000000", "德阳市长江西路0号"]
    ]

    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115

    dataset.refresh_from_db()
    assert dataset.current_version is not None and dataset.current_version > before
    assert dataset.row_count == ROWS
    assert set(version_key_usage(table, dataset.current_version)) == {crypto.current_key_ring().active.key_id}
    assert reading.preview_version(owner, resource, where={"手机号码": f"1{3800000000 + 12345}"}).rows == [
        [f"{12345:010d}", f"1{3800000000 + 12345}", "德阳市长江西路345号"]
    ]
