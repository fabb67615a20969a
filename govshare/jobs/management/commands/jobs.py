"""`govshare jobs`: the background jobs on the command line — list them, show one, or follow one with a progress
bar until it ends (the workers of `govshare qcluster` run it)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govshare.jobs import cli
from govshare.jobs.choices import JobStatus
from govshare.jobs.models import Job


class Command(BaseCommand):
    help = "查看后台任务：list 列出最近的任务，show 显示一个任务，watch 以进度条跟踪一个任务直到结束"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="列出最近的后台任务")
        listing.add_argument("--status", choices=JobStatus.values, help="只列出该状态的任务")
        listing.add_argument("--limit", type=int, default=20, help="最多列出多少个，默认 20")
        show = actions.add_parser("show", help="显示一个后台任务的状态、进度和日志")
        show.add_argument("job_id", type=int)
        watch = actions.add_parser("watch", help="以进度条跟踪一个后台任务直到结束")
        watch.add_argument("job_id", type=int)
        watch.add_argument("--no-progress", action="store_true", help="不显示进度条，只输出日志")
        watch.add_argument("--timeout", type=float, help="最多跟踪多少秒")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["status"], options["limit"])
            return
        job = Job.objects.filter(pk=options["job_id"]).first()
        if job is None:
            raise CommandError(f"后台任务 #{options['job_id']} 不存在")
        if action == "show":
            self._show(job)
            return
        ended = cli.follow(
            job, self.stdout, self.stderr._out, show_bar=not options["no_progress"], timeout=options["timeout"]
        )
        self._summary(ended)
        if ended.status == JobStatus.FAILED:
            raise CommandError(ended.error or "任务失败")

    def _list(self, status: str | None, limit: int) -> None:
        if limit < 1:
            raise CommandError("--limit 必须是正整数")
        jobs = Job.objects.order_by("-created_at", "-id")
        if status:
            jobs = jobs.filter(status=status)
        rows = list(jobs[:limit])
        if not rows:
            self.stdout.write("没有后台任务")
        for job in rows:
            percent = job.percent
            figure = f"{percent}%" if percent is not None else f"{job.progress_done} {job.progress_unit}"
            self.stdout.write(
                f"#{job.pk}\t{job.get_status_display()}\t{figure}\t{job.created_at:%Y-%m-%d %H:%M:%S}\t{job.title}"
            )

    def _show(self, job: Job) -> None:
        self._summary(job)
        if job.log:
            self.stdout.write(job.log)

    def _summary(self, job: Job) -> None:
        percent = job.percent
        progress = f"{job.progress_done} {job.progress_unit}"
        if percent is not None:
            progress = f"{percent}%（{job.progress_done}/{job.progress_total} {job.progress_unit}）"
        self.stdout.write(
            f"后台任务 #{job.pk}：{job.title}\n状态：{job.get_status_display()}，进度：{progress}，"
            f"尝试 {job.attempts}/{job.max_attempts}"
        )
        if job.error:
            self.stdout.write(f"错误：{job.error}")
