"""Threat: another account on the machine (a monitoring agent, a shell user, a compromised service) reads the data
directory: the SQLite database, the key files, uploaded reports, dataset tables, rejects files. Files were created
0644 in a 0755 directory. Now the directory is 0700 and everything in it 0600, for new files and, once, for those a
data directory from before holds."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.catalog.rules import ItemDraft
from govshare.core.datadir import PRIVATE_UMASK, SharedDataDir, secure_data_dir
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.testing.live import ROOT, server_env


def _open_entries(root: Path) -> list[str]:
    """Every file or directory under `root` (itself included) that the group or others may read, write or enter."""
    found = []
    for directory, _, files in os.walk(root):
        for name in [".", *files]:
            path = Path(directory, name)
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(f"{oct(stat.S_IMODE(mode))} {path.relative_to(root)}")
    return found


def _govshare(data_dir: Path, *args: str) -> None:
    # Started as an administrator's shell would start it: the usual umask 022.
    subprocess.run(
        [sys.executable, "-m", "govshare", *args],
        env=server_env(data_dir),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
        preexec_fn=lambda: os.umask(0o022),
    )


@pytest.mark.dbindependent
def test_a_new_data_directory_is_private_to_the_platform(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    _govshare(data_dir, "migrate", "-v", "0")
    _govshare(data_dir, "keys", "init")
    _govshare(data_dir, "audit_keys", "init")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert (data_dir / "govshare.sqlite3").exists() and (data_dir / "keys" / "audit-keyring.json").exists()
    assert _open_entries(data_dir) == []


@pytest.mark.dbindependent
def test_a_data_directory_left_readable_is_made_private_at_start_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    (data_dir / "loads" / "7").mkdir(parents=True)
    old = data_dir / "loads" / "7" / "rejects.csv"
    old.write_text("行号,列,原因,原始值\n2,姓名,必填项为空,\n", encoding="utf-8")
    for path in (data_dir, data_dir / "loads", data_dir / "loads" / "7"):
        path.chmod(0o755)
    old.chmod(0o644)
    _govshare(data_dir, "check")
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "loads").stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert _open_entries(data_dir) == []


@pytest.mark.dbindependent
def test_a_shared_directory_such_as_tmp_is_refused_as_the_data_directory_and_left_as_it_was(tmp_path: Path) -> None:
    # A benchmark once pointed GOVSHARE_DATA_DIR at /tmp itself: start-up took /tmp (and all in it) from every other
    # account of the machine. A sticky, world-writable directory is now refused before anything is changed.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "someone-elses.txt").write_text("x", encoding="utf-8")
    (shared / "someone-elses.txt").chmod(0o644)
    with pytest.raises(SharedDataDir, match="公共目录"):
        secure_data_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE((shared / "someone-elses.txt").stat().st_mode) == 0o644
    secure_data_dir(shared / "govshare")  # a directory of its own under it is fine
    assert stat.S_IMODE((shared / "govshare").stat().st_mode) == 0o700


@pytest.mark.django_db
def test_an_upload_and_its_load_leave_nothing_readable_by_others(department: Department, settings) -> None:  # type: ignore[no-untyped-def]
    # This process imported the settings: its umask is the platform's.
    current = os.umask(PRIVATE_UMASK)
    assert current == PRIVATE_UMASK
    owner = testing.make_user(Role.CATALOG_ADMIN, department=department)
    items = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="出生日期", data_type="D")]
    resource = testing.make_published_resource(department, items=items, name="常住人口基本信息")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(i.name, i.name) for i in items], actor=owner)
    client = Client()
    client.force_login(owner)
    csv = "公民身份号码,出生日期\n11010519491231002X,1949-12-31\n440524188001010014,18xx\n".encode()
    # Larger than FILE_UPLOAD_MAX_MEMORY_SIZE: streamed to a temporary file in the data directory first.
    big = csv + b"".join(b"110105195001010018,1950-01-01\n" for _ in range(100_000))
    response = client.post(f"/datasets/sources/{source.pk}/upload/", {"file": SimpleUploadedFile("人口.csv", big)})
    assert response.status_code == 302
    load = Load.objects.get(source=source)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED and load.rows_rejected == 1
    data_dir = Path(settings.GOVSHARE.data_dir)
    assert Path(load.input_path).is_relative_to(data_dir) and Path(load.rejects_path).exists()
    assert any((data_dir / "datasets").rglob("*.parquet"))
    assert _open_entries(data_dir) == [], "readable by other accounts"
