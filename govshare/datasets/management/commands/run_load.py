"""`govshare run_load <load id>`: run one load in the foreground (no job cluster) with a progress bar.

`govshare run_load --source <id> [--file PATH]` first requests a new load of the source (a file source needs the
file). The bar follows the Load row the load reports into (bytes for files, rows for databases and APIs), so it
also follows a load that a `govshare qcluster` worker took first.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from govshare.accounts.models import User
from govshare.core.errors import DomainError
from govshare.datasets import loading, services, serving
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Load, shown_version
from govshare.sources.models import Source

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "在前台运行一个归集任务并显示进度条；或用 --source 先为数据来源发起一次归集。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("load_id", nargs="?", type=int, help="归集任务编号")
        parser.add_argument("--source", type=int, help="为这个数据来源发起一次新的归集")
        parser.add_argument("--file", type=Path, help="文件报送的数据文件（--source 为文件报送时必填）")
        parser.add_argument("--user", help="以该用户的名义发起（默认：系统）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args: Any, **options: Any) -> None:
        # The bar follows the Load row, which the load updates at each heartbeat: beat often in this process.
        heartbeat = min(settings.GOVSHARE.load_heartbeat_seconds, POLL_SECONDS)
        settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"load_heartbeat_seconds": heartbeat})
        load = self._load(options)
        self.stdout.write(f"归集任务 #{load.pk}：{load.source.resource.name} · {load.source.name}")
        worker = threading.Thread(target=_run_in_thread, args=(load.pk,), name=f"run-load-{load.pk}")
        worker.start()
        self._follow(load, worker, show=not options["no_progress"])
        load.refresh_from_db()
        self._report(load)

    def _load(self, options: dict[str, Any]) -> Load:
        if (options["load_id"] is None) == (options["source"] is None):
            raise CommandError("请给出归集任务编号，或用 --source 指定数据来源（二者选一）")
        if options["load_id"] is not None:
            load = Load.objects.select_related("source__resource").filter(pk=options["load_id"]).first()
            if load is None:
                raise CommandError(f"归集任务 #{options['load_id']} 不存在")
            return load
        source = Source.objects.select_related("resource").filter(pk=options["source"]).first()
        if source is None:
            raise CommandError(f"数据来源 #{options['source']} 不存在")
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"用户“{options['user']}”不存在")
        path: Path | None = options["file"]
        if path is not None and not path.is_file():
            raise CommandError(f"文件 {path} 不存在")
        try:
            load = services.request_load(source, actor=actor, file_path=path, enqueue=False)
        except DomainError as exc:
            details = "；".join(problem.message for problem in getattr(exc, "problems", []))
            raise CommandError(f"{exc}{'：' + details if details else ''}") from exc
        return Load.objects.select_related("source__resource").get(pk=load.pk)

    def _follow(self, load: Load, worker: threading.Thread, *, show: bool) -> None:
        by_bytes = bool(load.total_bytes)
        bar = tqdm(
            total=load.total_bytes if by_bytes else None,
            unit="B" if by_bytes else "行",
            unit_scale=by_bytes,
            unit_divisor=1024 if by_bytes else 1000,
            desc="读取",
            disable=not show,
            file=self.stderr._out,
            dynamic_ncols=True,
        )
        try:
            while True:
                worker.join(POLL_SECONDS)
                load.refresh_from_db(fields=["status", "progress_bytes", "heartbeat_at", "attempts", "log"])
                bar.set_postfix_str(_stage(load), refresh=False)
                bar.update(max(load.progress_bytes - bar.n, 0))
                bar.refresh()  # the elapsed time and the stage move even when the bytes do not
                # Done when this attempt ended; a load another live process runs is followed to its end, and one
                # whose process died is taken over once its heartbeat is stale.
                if not worker.is_alive() and load.status != LoadStatus.RUNNING:
                    break
                if not worker.is_alive() and loading.load_is_stale(load):
                    worker = threading.Thread(target=_run_in_thread, args=(load.pk,), name=f"run-load-{load.pk}")
                    worker.start()
            if load.status == LoadStatus.SUCCEEDED and bar.total:
                bar.update(bar.total - bar.n)
        finally:
            bar.close()

    def _report(self, load: Load) -> None:
        status = load.get_status_display()
        if load.status == LoadStatus.SUCCEEDED:
            made = f"生成数据集第 {shown_version(load.version)} 版" if load.version is not None else "未生成新版本"
            self.stdout.write(self.style.SUCCESS(f"状态：{status}，{made}"))
            self.stdout.write(
                f"读取 {load.rows_read:,} 行，写入 {load.rows_loaded:,} 行，拒绝 {load.rows_rejected:,} 行"
                + (f"，删除 {load.rows_deleted:,} 行" if load.rows_deleted else "")
                + (f"，耗时 {load.duration_ms / 1000:.1f} 秒" if load.duration_ms is not None else "")
            )
            if load.rejects_path:
                self.stdout.write(f"拒绝记录文件：{load.rejects_path}")
            return
        if load.status == LoadStatus.RETRYING:
            when = load.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S %Z") if load.next_attempt_at else "稍后"
            self.stdout.write(self.style.WARNING(f"状态：{status}（第 {load.attempts} 次尝试失败）：{load.error}"))
            self.stdout.write(f"将于 {when} 由后台任务（govshare qcluster）重试，或再次运行本命令立即重试。")
            return
        if load.status == LoadStatus.FAILED:
            raise CommandError(f"状态：{status}：{load.error}")
        # QUEUED or RUNNING: another process holds the load and this one stopped following it.
        self.stdout.write(f"状态：{status}（由其他进程执行中）")


def _stage(load: Load) -> str:
    """The status and the load's last log line (without its time), e.g. 运行中 · 开始读取来源（3 个字段）."""
    lines = [line for line in load.log.splitlines() if line.strip()]
    last = lines[-1].split(" ", 1)[-1] if lines else ""
    return f"{load.get_status_display()} · {last[:40]}" if last else load.get_status_display()


def _run_in_thread(load_id: int) -> None:
    try:
        # No job worker is assumed here: the version it makes current is indexed for lookups here too.
        with serving.build_here():
            loading.run_load(load_id)
    finally:
        connection.close()
