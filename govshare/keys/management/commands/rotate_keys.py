"""`govshare rotate_keys`: re-encrypt every encrypted value of the metadata database with the active key, then
every dataset whose current version holds values under another key (as a new version of its table). It runs as the
job `keys.rotate`: in the foreground with a progress bar, or on the workers with `--background`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govshare.jobs import cli
from govshare.jobs.choices import JobStatus
from govshare.jobs.services import start_job
from govshare.keys.jobs import ROTATE_KEYS, TITLE


class Command(BaseCommand):
    help = (
        "用启用密钥重新加密元数据库中的全部加密值（分批、每批一个事务、可中断后重跑）和各数据集的加密列"
        "（生成新版本），并报告仍在使用的密钥"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="每批（每个事务）处理的行数，默认 500")
        parser.add_argument(
            "--background", action="store_true", help="交给后台任务进程运行，只输出任务编号（govshare jobs watch 跟踪）"
        )
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数")
        background: bool = options["background"]
        job = start_job(ROTATE_KEYS, batch_size, title=TITLE, unit="行", max_attempts=1, enqueue=background)
        if background:
            self.stdout.write(f"已排队：后台任务 #{job.pk}（govshare jobs watch {job.pk} 跟踪进度）")
            return
        ended = cli.run_in_foreground(job, self.stdout, self.stderr._out, show_bar=not options["no_progress"])
        if ended.status != JobStatus.SUCCEEDED:
            raise CommandError(ended.error or "密钥轮换未完成")
