"""Key rotation as a job (`keys.rotate`): re-encrypt every encrypted value of the metadata database with the active
key, then every dataset whose current version holds values under another key, and report which keys are still in
use. It runs in the foreground of `govshare rotate_keys` (with a progress bar) or on the workers with
`--background`; either way its row, progress and log are on the jobs pages."""

from __future__ import annotations

from typing import Any

from govshare.core import crypto
from govshare.datasets.encryption import DatasetRotation, dataset_key_usage, rotate_datasets
from govshare.datasets.models import shown_version
from govshare.jobs.services import JobContext, JobFailed, register_job
from govshare.keys.rotation import BatchReport, encrypted_columns, rotate_keys

ROTATE_KEYS = "keys.rotate"
TITLE = "密钥轮换：用启用密钥重新加密全部加密值"


def rotate_all_keys(context: JobContext, batch_size: int) -> dict[str, Any]:
    """The job function. Progress counts the metadata database's encrypted values checked; datasets are logged."""
    try:
        ring = crypto.current_key_ring()
        context.log(f"启用密钥：{ring.active.key_id}")
        scanned: dict[str, int] = {}
        context.advance(0, sum(column.count for column in encrypted_columns()))

        def batch_done(batch: BatchReport) -> None:
            context.log(
                f"{batch.place}：第 {batch.batch} 批，已检查 {batch.scanned}/{batch.total} 行，"
                f"本批重新加密 {batch.rewritten} 行（至主键 {batch.last_pk}）"
            )
            scanned[batch.place] = batch.scanned
            context.advance(sum(scanned.values()))

        def dataset_done(result: DatasetRotation) -> None:
            if result.version is not None:
                # Versions as people count them (第 1 版 is Delta's 0); a dataset without a version had none.
                before = f"第 {shown_version(result.from_version)} 版" if result.from_version is not None else "原数据"
                context.log(
                    f"{result.dataset}：{before}已用启用密钥重新加密为新的第 {shown_version(result.version)} 版"
                    f"（{result.rows} 行）{('，' + result.note) if result.note else ''}"
                )
            else:
                context.log(f"{result.dataset}：未生成新版本（{result.note}）")

        usage = rotate_keys(batch_size=batch_size, report=batch_done)
        rotate_datasets(report=dataset_done)
        data = dataset_key_usage()
    except (crypto.KeyRingError, crypto.DecryptionError) as exc:
        raise JobFailed(str(exc)) from None  # a wrong key ring stays wrong at a retry
    in_use = sorted({key_id for counter in [*usage.values(), *data.values()] for key_id in counter})
    retirable = [k for k in ring.key_ids if k not in in_use and k != ring.active.key_id]
    context.log(f"仍在使用的密钥：{'、'.join(in_use) if in_use else '无'}")
    if retirable:
        context.log(f"可以退役的密钥：{'、'.join(retirable)}（govshare keys retire <标识>）")
    return {"active": ring.active.key_id, "in_use": in_use, "retirable": retirable}


def register() -> None:
    register_job(ROTATE_KEYS, rotate_all_keys)
