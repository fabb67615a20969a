"""Jobs on the command line: a progress bar (tqdm, on standard error) and the job's log lines as they come (on
standard output), for a job run in the foreground or one followed while the workers run it."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from tqdm import tqdm

from govshare.jobs.choices import FINISHED_STATUSES
from govshare.jobs.execution import Progress
from govshare.jobs.models import Job
from govshare.jobs.services import run_job_here

POLL_SECONDS = 0.5


class JobDisplay:
    """Moves the bar and prints each new log line once; fed from the heartbeat thread or a polling loop."""

    def __init__(self, job: Job, stdout: Any, bar_file: Any, *, show_bar: bool) -> None:
        self.stdout = stdout
        self.printed = 0
        self._lock = threading.Lock()
        self.bar = tqdm(
            total=job.progress_total,
            unit=job.progress_unit or "项",
            desc=job.title[:20],
            disable=not show_bar,
            file=bar_file,
            dynamic_ncols=True,
        )

    def show(self, done: int, total: int | None, lines: list[str]) -> None:
        with self._lock:
            if total is not None and self.bar.total != total:
                self.bar.total = total
            self.bar.update(max(done - self.bar.n, 0))
            for line in lines[self.printed :]:
                self.bar.clear()
                self.stdout.write(line)
            self.printed = max(self.printed, len(lines))
            self.bar.refresh()

    def progress(self, progress: Progress) -> None:
        self.show(progress.done, progress.total, list(progress.lines))

    def close(self, job: Job) -> None:
        self.show(job.progress_done, job.progress_total, job.log.splitlines())
        self.bar.close()


def run_in_foreground(job: Job, stdout: Any, bar_file: Any, *, show_bar: bool = True) -> Job:
    """Run a queued job in this process with a bar and its log; returns the row as it ended."""
    # The bar follows the heartbeat: beat often in this process.
    beat = min(settings.GOVSHARE.load_heartbeat_seconds, POLL_SECONDS)
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"load_heartbeat_seconds": beat})
    display = JobDisplay(job, stdout, bar_file, show_bar=show_bar)
    try:
        ended = run_job_here(job, on_progress=display.progress)
    finally:
        job.refresh_from_db()
        display.close(job)
    return ended


def follow(job: Job, stdout: Any, bar_file: Any, *, show_bar: bool = True, timeout: float | None = None) -> Job:
    """Follow a job the workers run (its row, as their heartbeats update it) until it ends or `timeout` passes."""
    display = JobDisplay(job, stdout, bar_file, show_bar=show_bar)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            job.refresh_from_db()
            display.show(job.progress_done, job.progress_total, job.log.splitlines())
            if job.status in FINISHED_STATUSES or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(POLL_SECONDS)
    finally:
        display.close(job)
    return job
