"""`govshare rotate_keys`: re-encrypt every encrypted value of the metadata database with the active key, then
every dataset whose current version holds values under another key (as a new version of its table)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govshare.core import crypto
from govshare.datasets.encryption import DatasetRotation, dataset_key_usage, rotate_datasets
from govshare.keys.rotation import BatchReport, rotate_keys


class Command(BaseCommand):
    help = (
        "用启用密钥重新加密元数据库中的全部加密值（分批、每批一个事务、可中断后重跑）和各数据集的加密列"
        "（生成新版本），并报告仍在使用的密钥"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="每批（每个事务）处理的行数，默认 500")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size 必须是正整数")

        def progress(batch: BatchReport) -> None:
            self.stdout.write(
                f"{batch.place}：第 {batch.batch} 批，已检查 {batch.scanned}/{batch.total} 行，"
                f"本批重新加密 {batch.rewritten} 行（至主键 {batch.last_pk}）"
            )

        def dataset_progress(result: DatasetRotation) -> None:
            if result.version is not None:
                self.stdout.write(
                    f"{result.dataset}：v{result.from_version} 已用启用密钥重新加密为新版本 v{result.version}"
                    f"（{result.rows} 行）{('，' + result.note) if result.note else ''}"
                )
            else:
                self.stdout.write(f"{result.dataset}：未生成新版本（{result.note}）")

        try:
            ring = crypto.current_key_ring()
            self.stdout.write(f"启用密钥：{ring.active.key_id}")
            usage = rotate_keys(batch_size=batch_size, report=progress)
            rotate_datasets(report=dataset_progress)
            data = dataset_key_usage()
        except (crypto.KeyRingError, crypto.DecryptionError) as exc:
            raise CommandError(str(exc)) from None
        in_use = sorted({key_id for counter in [*usage.values(), *data.values()] for key_id in counter})
        self.stdout.write(f"仍在使用的密钥：{'、'.join(in_use) if in_use else '无'}")
        retirable = [k for k in ring.key_ids if k not in in_use and k != ring.active.key_id]
        if retirable:
            self.stdout.write(f"可以退役的密钥：{'、'.join(retirable)}（govshare keys retire <标识>）")
