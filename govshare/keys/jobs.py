"""Key rotation as a job (`keys.rotate`): re-encrypt every encrypted value of the metadata database with the active
key, then every dataset whose current version holds values under another key, and report which keys are still in
use. It runs in the foreground of `govshare rotate_keys` (with a progress bar) or on the workers with
`--background`; either way its row, progress and log are on the jobs pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from govshare.core import crypto
from govshare.core.text import join_names
from govshare.datasets.encryption import DATASET_LABEL, DatasetRotation, dataset_key_usage, rotate_datasets
from govshare.datasets.log_lines import counted_from_one
from govshare.datasets.models import shown_version
from govshare.jobs import logs
from govshare.jobs.services import JobContext, JobFailed, register_job
from govshare.keys.rotation import BatchReport, encrypted_columns, rotate_keys

ROTATE_KEYS = "keys.rotate"
TITLE = gettext_noop("密钥轮换：用启用密钥重新加密全部加密值")

# The lines the job writes into its log (in the platform's language), said again in the reader's (govshare.jobs.logs).
ACTIVE_KEY = gettext_noop("启用密钥：%(key)s")
BATCH_DONE = gettext_noop(
    "%(place)s：第 %(batch)d 批，已检查 %(scanned)d/%(total)d 行，本批重新加密 %(rewritten)d 行（至主键 %(last)s）"
)
# Versions as people count them, from 1 (第 1 版 is Delta's version 0).
DATASET_ROTATED_NOTE = gettext_noop(
    "%(dataset)s：第 %(base)d 版已用启用密钥重新加密为新的第 %(version)d 版（%(rows)d 行），%(note)s"
)
DATASET_ROTATED = gettext_noop("%(dataset)s：第 %(base)d 版已用启用密钥重新加密为新的第 %(version)d 版（%(rows)d 行）")
DATASET_FIRST_NOTE = gettext_noop(
    "%(dataset)s：原数据已用启用密钥重新加密为新的第 %(version)d 版（%(rows)d 行），%(note)s"
)
DATASET_FIRST = gettext_noop("%(dataset)s：原数据已用启用密钥重新加密为新的第 %(version)d 版（%(rows)d 行）")
DATASET_SKIPPED = gettext_noop("%(dataset)s：未生成新版本（%(note)s）")
KEYS_IN_USE = gettext_noop("仍在使用的密钥：%(keys)s")
RETIRABLE = gettext_noop("可以退役的密钥：%(keys)s（govshare keys retire <标识>）")
NONE = gettext_noop("无")


def _names(stored: str) -> str:
    """A stored list of key ids (甲、乙, or 无) as the reader lists them."""
    return gettext(NONE) if stored == NONE else join_names(stored.split("、"))


LOG_LINES = (
    logs.sentence(ACTIVE_KEY),
    logs.sentence(BATCH_DONE),
    logs.sentence(DATASET_ROTATED_NOTE, dataset=logs.readable_text, note=logs.readable_text),
    logs.sentence(DATASET_ROTATED, dataset=logs.readable_text),
    logs.sentence(DATASET_FIRST_NOTE, dataset=logs.readable_text, note=logs.readable_text),
    logs.sentence(DATASET_FIRST, dataset=logs.readable_text),
    # Lines stored by earlier releases, which wrote Delta's numbers (v0): said as the lines now say them.
    logs.line(
        r"(?P<dataset>.*?)：v(?P<base>\d+) 已用启用密钥重新加密为新版本 v(?P<version>\d+)"
        r"（(?P<rows>\d+) 行），(?P<note>.*)",
        DATASET_ROTATED_NOTE,
        dataset=logs.readable_text,
        base=counted_from_one,
        version=counted_from_one,
        note=logs.readable_text,
    ),
    logs.line(
        r"(?P<dataset>.*?)：v(?P<base>\d+) 已用启用密钥重新加密为新版本 v(?P<version>\d+)（(?P<rows>\d+) 行）",
        DATASET_ROTATED,
        dataset=logs.readable_text,
        base=counted_from_one,
        version=counted_from_one,
    ),
    logs.sentence(DATASET_SKIPPED, dataset=logs.readable_text, note=logs.readable_text),
    logs.sentence(KEYS_IN_USE, keys=_names),
    logs.sentence(RETIRABLE, keys=_names),
    # Last: a dataset's name inside the lines above (a whole line starting so is one of them).
    logs.sentence(DATASET_LABEL),
)


def rotate_all_keys(context: JobContext, batch_size: int) -> dict[str, Any]:
    """The job function. Progress counts the metadata database's encrypted values checked; datasets are logged."""
    try:
        ring = crypto.current_key_ring()
        context.log(gettext(ACTIVE_KEY) % {"key": ring.active.key_id})
        scanned: dict[str, int] = {}
        context.advance(0, sum(column.count for column in encrypted_columns()))

        def batch_done(batch: BatchReport) -> None:
            values = {"batch": batch.batch, "scanned": batch.scanned, "total": batch.total}
            context.log(
                gettext(BATCH_DONE)
                % {**values, "place": batch.place, "rewritten": batch.rewritten, "last": batch.last_pk}
            )
            scanned[batch.place] = batch.scanned
            context.advance(sum(scanned.values()))

        def dataset_done(result: DatasetRotation) -> None:
            if result.version is not None:
                # Versions as people count them (第 1 版 is Delta's 0); a dataset without a version had none.
                base = shown_version(result.from_version) if result.from_version is not None else 0
                values = {"dataset": result.dataset, "base": base, "version": shown_version(result.version)}
                message = DATASET_ROTATED_NOTE if result.note else DATASET_ROTATED
                if result.from_version is None:
                    message = DATASET_FIRST_NOTE if result.note else DATASET_FIRST
                context.log(gettext(message) % {**values, "rows": result.rows, "note": gettext(result.note)})
            else:
                context.log(gettext(DATASET_SKIPPED) % {"dataset": result.dataset, "note": gettext(result.note)})

        usage = rotate_keys(batch_size=batch_size, report=batch_done)
        rotate_datasets(report=dataset_done)
        data = dataset_key_usage()
    except (crypto.KeyRingError, crypto.DecryptionError) as exc:
        raise JobFailed(str(exc)) from None  # a wrong key ring stays wrong at a retry
    in_use = sorted({key_id for counter in [*usage.values(), *data.values()] for key_id in counter})
    retirable = [k for k in ring.key_ids if k not in in_use and k != ring.active.key_id]
    context.log(gettext(KEYS_IN_USE) % {"keys": join_names(in_use) if in_use else gettext(NONE)})
    if retirable:
        context.log(gettext(RETIRABLE) % {"keys": join_names(retirable)})
    return {"active": ring.active.key_id, "in_use": in_use, "retirable": retirable}


def register() -> None:
    register_job(ROTATE_KEYS, rotate_all_keys)
    logs.register(*LOG_LINES)
