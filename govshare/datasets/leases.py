"""Leases on dataset versions: a version being read (a streamed download, later a delivery or a quality run) is
not vacuumed while its reader holds it, even when loads meanwhile make `keep_versions` newer versions.

A lease is a row with an expiry, not a lock: a process killed mid-read leaves a lease that simply expires
(settings.GOVSHARE.version_lease_seconds), so no version is pinned forever. A long reader renews its lease as it
goes (`LeasedStream` does so for downloads). Vacuum (`vacuum_dataset`) hands the data plane the numbers of the
unexpired leases; the data plane knows nothing of leases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone

from govshare.dataplane.tables import DatasetTable
from govshare.datasets.models import Dataset, VersionLease

__all__ = [
    "LeasedStream",
    "acquire",
    "hold_version",
    "leased_versions",
    "release",
    "renew",
    "vacuum_dataset",
]

Clock = Callable[[], dt.datetime]


def _seconds(seconds: int | None) -> int:
    return seconds if seconds is not None else settings.GOVSHARE.version_lease_seconds


def acquire(
    dataset: Dataset, number: int, *, holder: str, seconds: int | None = None, now: dt.datetime | None = None
) -> VersionLease:
    """Hold version `number` of the dataset for `seconds` (the setting by default) from `now`."""
    now = now or timezone.now()
    return VersionLease.objects.create(
        dataset=dataset,
        number=number,
        holder=holder[:100],
        acquired_at=now,
        expires_at=now + dt.timedelta(seconds=_seconds(seconds)),
    )


def renew(lease: VersionLease, *, seconds: int | None = None, now: dt.datetime | None = None) -> VersionLease:
    """Push the lease's expiry to `seconds` after `now`. A lease removed meanwhile (expired and cleaned up) is
    taken again: the reader is still reading."""
    now = now or timezone.now()
    lease.expires_at = now + dt.timedelta(seconds=_seconds(seconds))
    if lease.pk is None or not VersionLease.objects.filter(pk=lease.pk).update(expires_at=lease.expires_at):
        lease.pk = None
        lease.save(force_insert=True)
    return lease


def release(lease: VersionLease) -> None:
    """The reader is done: vacuum may take the version (releasing twice is harmless)."""
    if lease.pk is not None:
        VersionLease.objects.filter(pk=lease.pk).delete()


@contextmanager
def hold_version(
    dataset: Dataset, number: int, *, holder: str, seconds: int | None = None, now: dt.datetime | None = None
) -> Iterator[VersionLease]:
    """`acquire` for the block, `release` however it ends."""
    lease = acquire(dataset, number, holder=holder, seconds=seconds, now=now)
    try:
        yield lease
    finally:
        release(lease)


def leased_versions(dataset: Dataset, now: dt.datetime | None = None) -> set[int]:
    """The versions of the dataset under an unexpired lease at `now` (expired leases pin nothing)."""
    now = now or timezone.now()
    return set(
        VersionLease.objects.filter(dataset=dataset, expires_at__gt=now).values_list("number", flat=True).distinct()
    )


def vacuum_dataset(dataset: Dataset, table: DatasetTable, *, now: dt.datetime | None = None) -> None:
    """Housekeeping after a new version: vacuum to the dataset's `keep_versions`, sparing the leased versions.
    Like `vacuum_after_commit`, a failure of the vacuum is logged, never raised."""
    now = now or timezone.now()
    # Leases left by killed processes: they pin nothing, so they are only clutter.
    VersionLease.objects.filter(dataset=dataset, expires_at__lte=now).delete()
    table.vacuum_after_commit(dataset.keep_versions, also_keep=leased_versions(dataset, now))


class LeasedStream:
    """The chunks of a streamed read holding a lease: renewed while the chunks are read (once half of it has run
    out), released when they are exhausted or the stream is closed (Django closes a response's iterator when the
    response ends, read or not). A killed process releases nothing: its lease expires."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        lease: VersionLease,
        *,
        seconds: int | None = None,
        clock: Clock = timezone.now,
    ) -> None:
        self._chunks = iter(chunks)
        self.lease = lease
        self._seconds = _seconds(seconds)
        self._clock = clock
        self._released = False

    def __iter__(self) -> LeasedStream:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except BaseException:
            self.close()
            raise
        now = self._clock()
        if not self._released and now >= self.lease.expires_at - dt.timedelta(seconds=self._seconds / 2):
            renew(self.lease, seconds=self._seconds, now=now)
        return chunk

    def close(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            release(self.lease)
