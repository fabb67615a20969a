"""The sample file kept from a file source's mapping page, offered there and on the data page as 用样例文件归集.

A sample is personal data (the source's raw rows), so it is kept only as long as it may be useful: it is replaced by
the next sample, goes once loaded (the load keeps its own copy), goes with its source (deleted, or no longer a file
source), and expires `GOVSHARE_SAMPLE_RETENTION_DAYS` after it was kept. The expiry sweep
(`discard_expired_samples`) runs as a django-q Schedule every hour and also removes the samples of sources that no
longer exist (kept by releases that did not delete them with their source).

The file's modification time records when it was kept (set from the `now` given, so the clock can be injected); a
kept sample lives under `<data_dir>/samples/source-<id>/`, one file, owner-only like the rest of the data directory.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django_q.models import Schedule

from govshare.jobs import registry
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

__all__ = [
    "DISCARD_EXPIRED_SAMPLES",
    "SAMPLE_SCHEDULE_NAME",
    "KeptSample",
    "discard_expired_samples",
    "discard_sample",
    "ensure_sample_schedule",
    "keep_sample",
    "kept_sample",
]

logger = logging.getLogger(__name__)

DISCARD_EXPIRED_SAMPLES = "datasets.discard_expired_samples"
SAMPLE_SCHEDULE_NAME = "govshare-discard-expired-samples"
_DIRECTORY = re.compile(r"^source-(\d+)$")


@dataclass(frozen=True)
class KeptSample:
    path: Path
    kept_at: datetime
    expired: bool

    @property
    def name(self) -> str:
        return self.path.name


def _samples_root() -> Path:
    return Path(settings.GOVSHARE.data_dir) / "samples"


def _sample_dir(source_id: int) -> Path:
    return _samples_root() / f"source-{source_id}"


def _retention() -> timedelta:
    return timedelta(days=settings.GOVSHARE.sample_retention_days)


def keep_sample(source: Source, upload: UploadedFile, now: datetime | None = None) -> None:
    """Keep the sample just read on the mapping page (it was checked by content there) so that it can be loaded
    without uploading it again; it replaces an earlier one."""
    directory = _sample_dir(source.pk)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(upload.name or "sample").name)[-120:] or "sample"
    path = directory / name
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    kept_at = (now or timezone.now()).timestamp()
    os.utime(path, (kept_at, kept_at))


def kept_sample(source: Source, now: datetime | None = None) -> KeptSample | None:
    """The sample kept for a file source, expired or not (None when there is none)."""
    if source.kind != SourceKind.FILE:
        return None
    directory = _sample_dir(source.pk)
    files = sorted(directory.iterdir()) if directory.is_dir() else []
    if not files:
        return None
    return _described(files[0], now or timezone.now())


def _described(path: Path, now: datetime) -> KeptSample:
    kept_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
    return KeptSample(path=path, kept_at=kept_at, expired=now - kept_at >= _retention())


def discard_sample(source_id: int) -> None:
    """Forget the source's kept sample, if any."""
    shutil.rmtree(_sample_dir(source_id), ignore_errors=True)


def discard_expired_samples(now: datetime | None = None) -> list[int]:
    """The expiry sweep (the schedule's task): delete expired samples and those of sources that no longer exist or
    are no longer file sources. The ids of the sources whose sample went."""
    root = _samples_root()
    if not root.is_dir():
        return []
    now = now or timezone.now()
    found = {int(match[1]): entry for entry in root.iterdir() if (match := _DIRECTORY.match(entry.name))}
    file_sources = set(Source.objects.filter(pk__in=found, kind=SourceKind.FILE).values_list("pk", flat=True))
    discarded = []
    for source_id, directory in sorted(found.items()):
        files = sorted(directory.iterdir()) if directory.is_dir() else []
        if source_id in file_sources and files and not _described(files[0], now).expired:
            continue
        discard_sample(source_id)
        discarded.append(source_id)
    if discarded:
        logger.info("discarded the kept samples of sources %s", discarded)
    return discarded


def discard_with_source(sender: object, instance: Source, **kwargs: Any) -> None:
    """post_delete of a Source: its sample goes once the deletion commits (a rolled-back deletion keeps it)."""
    source_id = instance.pk
    transaction.on_commit(lambda: discard_sample(source_id))


def discard_when_no_longer_a_file_source(sender: object, source: Source, created: bool, **kwargs: Any) -> None:
    """sources.signals.source_saved: a source changed to another kind has no use for its file sample."""
    if not created and source.kind != SourceKind.FILE:
        source_id = source.pk
        transaction.on_commit(lambda: discard_sample(source_id))


def ensure_sample_schedule() -> None:
    """The expiry sweep every hour (idempotent); the retention is in days, an hour late is of no consequence."""
    Schedule.objects.update_or_create(
        name=SAMPLE_SCHEDULE_NAME,
        defaults={
            **registry.schedule_fields(DISCARD_EXPIRED_SAMPLES),
            "kwargs": repr({"q_options": {"task_name": SAMPLE_SCHEDULE_NAME}}),
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )


def ensure_sample_schedule_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate: once django-q's tables exist."""
    if Schedule._meta.db_table in set(connections[using].introspection.table_names()):
        ensure_sample_schedule()
