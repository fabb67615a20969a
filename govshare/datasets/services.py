"""Writes of datasets: the dataset of a resource, load requests and retries, and data-access records (the sources'
own writes are govshare.sources.services).

Every write checks permission, validates with precise Chinese messages and records an audit row in its transaction.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog.models import Resource
from govshare.core.errors import Conflict, DomainError, FieldProblem, NotFound, ValidationFailed
from govshare.core.uploads import check_data_upload
from govshare.dataplane.tables import dataset_table_uri
from govshare.datasets import jobs
from govshare.datasets.choices import LoadStatus
from govshare.datasets.models import Dataset, Load
from govshare.datasets.scopes import ReadScope
from govshare.jobs.choices import UNFINISHED_STATUSES
from govshare.sources.access import can_read_data, require_source_manager
from govshare.sources.choices import FileFormat, LoadMode, SourceKind
from govshare.sources.models import Source

logger = logging.getLogger(__name__)

# --- datasets and loads -----------------------------------------------------------------------------------------


def _require_manager(actor: User, resource: Resource) -> None:
    """Loads are requested and retried by the owning department's catalogue administrators (govshare.sources.access)."""
    require_source_manager(actor, resource, missing=gettext_noop("信息资源不存在或无权访问其数据"))


def on_source_saved(sender: object, *, source: Source, created: bool, **kwargs: object) -> None:
    """A registered source gets its resource's dataset at once; every change re-syncs the source's schedule after
    the commit (the job cluster must not see an uncommitted source)."""
    if created:
        ensure_dataset(source.resource)
    source_pk = source.pk
    transaction.on_commit(lambda: _sync_schedule(source_pk))


def _sync_schedule(source_pk: int) -> None:
    source = Source.objects.select_related("resource").filter(pk=source_pk).first()
    if source is not None:
        jobs.sync_source_schedule(source)


def ensure_dataset(resource: Resource) -> Dataset:
    dataset, created = Dataset.objects.get_or_create(
        resource=resource, defaults={"table_uri": "", "keep_versions": settings.GOVSHARE.dataset_keep_versions}
    )
    if created or not dataset.table_uri:
        dataset.table_uri = dataset_table_uri(dataset.pk)
        Dataset.objects.filter(pk=dataset.pk).update(table_uri=dataset.table_uri)
    return dataset


def _uploads_dir() -> Path:
    return Path(settings.GOVSHARE.data_dir) / "uploads"


def _store_upload(upload: UploadedFile | None, file_path: Path | None, file_format: str) -> tuple[Path, str]:
    """Keep the reported file under the data directory (it is the load's input and its lineage)."""
    limit = settings.GOVSHARE.load_upload_max_bytes
    if upload is not None:
        name, size = Path(upload.name or "upload").name, upload.size or 0
    elif file_path is not None:
        name, size = file_path.name, file_path.stat().st_size
    else:
        raise ValidationFailed([FieldProblem("file", gettext("文件报送须上传数据文件"))])
    # Its size against the setting (the limit named in the message) and its type by content, before it is kept.
    if upload is not None:
        check_data_upload(upload, name=name, size=size, file_format=file_format)
    elif file_path is not None and file_format != FileFormat.XLSX:
        # A named file (`govshare run_load --file`) is judged by content too, so that a workbook is never read as
        # text; a workbook itself is checked by the worker as it opens it (within the zip-bomb limits).
        with file_path.open("rb") as handle:
            check_data_upload(handle, name=name, size=size, file_format=file_format)
    if size > limit:
        raise ValidationFailed(
            [
                FieldProblem(
                    "file",
                    gettext("文件 %(size)s 字节，超过上限 %(limit)s 字节")
                    % {"size": f"{size:,}", "limit": f"{limit:,}"},
                )
            ]
        )
    if size == 0:
        raise ValidationFailed([FieldProblem("file", gettext("上传的文件是空的"))])
    target_dir = _uploads_dir() / uuid.uuid4().hex
    target_dir.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", name)[-120:] or "upload"
    target = target_dir / safe_name
    with target.open("wb") as out:
        if upload is not None:
            for chunk in upload.chunks():
                out.write(chunk)
        elif file_path is not None:
            with file_path.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    return target, name


def request_load(
    source: Source,
    *,
    actor: User | None,
    upload: UploadedFile | None = None,
    file_path: Path | None = None,
    mode: str | None = None,
    enqueue: bool = True,
) -> Load:
    """Queue a load of the source into the resource's dataset. `actor` None is the scheduler.

    `enqueue=False` is for a caller that runs the load itself at once (`govshare run_load --source`, the demo data):
    no django-q task is queued for it. Should that caller die before the load starts, the recovery sweep queues it
    (a QUEUED load without a task, `govshare.jobs.recovery.QUEUED_WITHOUT_TASK`)."""
    if actor is not None:
        _require_manager(actor, source.resource)
    if not source.is_active:
        raise Conflict(gettext_noop("数据来源已停用，请先启用"))
    if not source.mapping:
        raise Conflict(gettext_noop("请先确认字段映射，再发起归集"))
    mode = mode or source.load_mode
    if mode not in LoadMode.values:
        raise ValidationFailed([FieldProblem("mode", gettext("加载方式只能是 全量、按水位追加 或 按主键合并"))])
    if mode == LoadMode.UPSERT and not source.key_items:
        raise ValidationFailed([FieldProblem("mode", gettext("按主键合并须先在数据来源中指定主键信息项"))])
    input_path, input_name = "", ""
    if source.kind == SourceKind.FILE:
        stored, input_name = _store_upload(upload, file_path, source.config.get("format") or FileFormat.CSV)
        input_path = str(stored)
    with transaction.atomic():
        dataset = ensure_dataset(source.resource)
        load = Load.objects.create(
            dataset=dataset,
            source=source,
            mode=mode,
            engine=settings.GOVSHARE.data_engine,
            input_path=input_path,
            input_name=input_name,
            requested_by=actor,
            max_attempts=settings.GOVSHARE.load_max_attempts,
            total_bytes=Path(input_path).stat().st_size if input_path else None,
        )
        record_action(actor, "datasets.load.request", load, source=source.pk, mode=mode, resource=source.resource.code)
        if enqueue:
            transaction.on_commit(lambda: _enqueue(load))
    return load


def retry_load(load: Load, *, actor: User) -> Load:
    """A failed load is queued again (a new attempt budget); its input file is still on disk."""
    _require_manager(actor, load.dataset.resource)
    if load.status != LoadStatus.FAILED:
        raise Conflict(gettext_noop("只有失败的归集任务可以重试"))
    with transaction.atomic():
        updated = Load.objects.filter(pk=load.pk, status=LoadStatus.FAILED).update(
            status=LoadStatus.QUEUED,
            attempts=0,
            error="",
            claim_token="",
            next_attempt_at=None,
            finished_at=None,
        )
        if not updated:
            raise Conflict(gettext_noop("归集任务状态已变化，请刷新"))
        load.refresh_from_db()
        record_action(actor, "datasets.load.retry", load)
        transaction.on_commit(lambda: _enqueue(load))
    return load


def _enqueue(load: Load) -> None:
    jobs.enqueue_load(load)


def run_scheduled_load(source_id: int) -> int | None:
    """The task of a source's schedule (`datasets.run_scheduled_load`): request a load as the system (requested_by
    empty), unless the source is switched off or one of its loads is still queued or running. Returns the new
    load's id."""
    source = Source.objects.select_related("resource").filter(pk=source_id).first()
    if source is None or not source.is_active or not source.schedule_enabled:
        return None
    unfinished = Load.objects.filter(source=source, status__in=UNFINISHED_STATUSES)
    if unfinished.exists():
        logger.info("scheduled load of source %s skipped: load %s is not finished", source_id, unfinished.first())
        return None
    try:
        load = request_load(source, actor=None)
    except DomainError as exc:
        logger.warning("scheduled load of source %s not requested: %s", source_id, exc)
        return None
    return load.pk


def record_data_access(
    actor: User,
    dataset: Dataset,
    *,
    action: str,
    version: int | None,
    export_format: str = "",
    rows: int | None = None,
    purpose: str = "",
    scope: ReadScope | None = None,
) -> None:
    """Every preview and download is recorded, committed before the first byte of the answer is sent. A reader
    with a scope of its own (a grant's) is admitted by it in the same transaction (the grant checked again, its
    daily quota counted); anyone else must be able to read the department's data."""
    if scope is not None and scope.reader.pk != actor.pk:
        raise NotFound(gettext_noop("信息资源不存在或无权访问其数据"))
    if (scope is None or scope.admit is None) and not can_read_data(actor, dataset.resource):
        raise NotFound(gettext_noop("信息资源不存在或无权访问其数据"))
    with transaction.atomic():
        if scope is not None and scope.admit is not None:
            scope.admit()
        record_action(
            actor,
            action,
            dataset,
            resource=dataset.resource.code,
            version=version,
            format=export_format,
            rows=rows,
            purpose=scope.purpose if scope is not None else purpose,
            **(dict(scope.basis) if scope is not None else {}),
        )
