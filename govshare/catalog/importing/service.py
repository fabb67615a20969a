"""The import service: check the whole file, then create every resource in one transaction through
`services.create_resources`, or nothing with a report; every attempt is kept as an `ImportBatch` with an audit
row. Also the importer's own batches."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import history, services
from govshare.catalog.importing.limits import measure, size_limit_message, sniff_file
from govshare.catalog.importing.reading import parse_workbook
from govshare.catalog.importing.report import ImportProblem, ImportRefused, file_problem, problem_order, stored_report
from govshare.catalog.importing.validation import Validation, merged_report, validate
from govshare.catalog.models import ImportBatch, Resource
from govshare.core.errors import Conflict, DomainError, NotFound, PermissionDenied


class AlreadyImported(Conflict):
    """The same file (by SHA-256) was imported before by this user: importing it again would create a second set
    of identical drafts, so the importer asks first (`confirm=True` imports anyway)."""

    def __init__(self, earlier: ImportBatch) -> None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            gettext("该文件已于 %(when)s 导入过（批次 #%(batch)s），仍要导入吗？") % {"when": when, "batch": earlier.pk}
        )
        self.earlier = earlier


@dataclass
class ImportResult:
    batch: ImportBatch
    problems: list[ImportProblem]
    created: list[Resource] = field(default_factory=list)
    # Seconds spent per phase (read, validate, write), for the page and the benchmark.
    timings: dict[str, float] = field(default_factory=dict)
    # What the import passed over without refusing the file (the template's example rows).
    notes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return self.batch.outcome == ImportBatch.Outcome.IMPORTED


def may_import(user: User) -> bool:
    """Department catalogue administrators and the platform administrator may import."""
    return user.is_platform_admin or user.has_role(Role.CATALOG_ADMIN)


def _check_may_import(actor: User) -> None:
    if not may_import(actor):
        raise PermissionDenied(gettext_noop("只有部门目录管理员和平台管理员可以批量导入目录"))


def refuse_too_large(*, file_name: str, size: int | None, actor: User) -> ImportResult:
    """Record the refusal of an upload that the web layer stopped at the size limit (never read in full)."""
    _check_may_import(actor)
    return _refuse(file_name, size or 0, "", [file_problem(size_limit_message(size))], actor, time.perf_counter())


def import_catalog(
    upload: IO[bytes],
    *,
    file_name: str,
    actor: User,
    declared_size: int | None = None,
    confirm: bool = False,
) -> ImportResult:
    """Check the whole file, then import every resource in one transaction, or nothing with a report.

    A file the user imported before (same SHA-256) raises AlreadyImported unless `confirm`: nothing is recorded
    then, the user is only asked."""
    _check_may_import(actor)
    started = time.perf_counter()
    limit = settings.GOVSHARE.import_max_bytes
    if declared_size is not None and declared_size > limit:
        return _refuse(file_name, declared_size, "", [file_problem(size_limit_message(declared_size))], actor, started)
    size, sha256, head = measure(upload)
    if size > limit:
        return _refuse(file_name, size, "", [file_problem(size_limit_message(None))], actor, started)
    if problem := sniff_file(head):
        return _refuse(file_name, size, sha256, [problem], actor, started)
    if not confirm and (earlier := earlier_import(actor, sha256)) is not None:
        raise AlreadyImported(earlier)
    try:
        parsed = parse_workbook(upload)
    except ImportRefused as refused:
        return _refuse(file_name, size, sha256, refused.problems, actor, started)
    read_at = time.perf_counter()
    # Cell problems and rule problems are reported together, so that one round of corrections fixes the file.
    validation = validate(parsed, actor=actor) if parsed.complete else Validation([], [])
    validated_at = time.perf_counter()
    if parsed.problems or validation.problems:
        problems = merged_report(parsed.problems, validation.problems)
        return _refuse(file_name, size, sha256, problems, actor, started, rows=parsed.resource_rows)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                file_name=file_name[:255],
                file_size=size,
                sha256=sha256,
                uploaded_by=actor,
                outcome=ImportBatch.Outcome.IMPORTED,
                row_count=parsed.resource_rows,
                created_count=len(validation.resolved),
            )
            created = services.create_resources(
                validation.resolved,
                actor=actor,
                batch_note=(history.BATCH_NOTE % {"batch": batch.pk, "file": file_name})[:500],
            )
            batch.duration_ms = int((time.perf_counter() - started) * 1000)
            batch.save(update_fields=["duration_ms"])
            record_action(
                actor,
                "catalog.import.succeed",
                batch,
                file_name=file_name,
                rows=parsed.resource_rows,
                created=len(created),
            )
    except DomainError as exc:  # a code taken meanwhile, a department deactivated meanwhile…
        return _refuse(file_name, size, sha256, [file_problem(str(exc))], actor, started, rows=parsed.resource_rows)
    timings = {
        "read": read_at - started,
        "validate": validated_at - read_at,
        "write": time.perf_counter() - validated_at,
    }
    notes = [note] if (note := parsed.examples_note()) else []
    return ImportResult(batch, [], created, timings, notes)


def _refuse(
    file_name: str,
    size: int,
    sha256: str,
    problems: list[ImportProblem],
    actor: User,
    started: float,
    *,
    rows: int = 0,
) -> ImportResult:
    problems = sorted(problems, key=problem_order)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            file_name=file_name[:255],
            file_size=size,
            sha256=sha256,
            uploaded_by=actor,
            outcome=ImportBatch.Outcome.REFUSED,
            row_count=rows,
            created_count=0,
            problem_count=len(problems),
            report=stored_report(problems),
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        record_action(actor, "catalog.import.refuse", batch, file_name=file_name, problems=len(problems))
    return ImportResult(batch, problems)


def my_batches(user: User) -> QuerySet[ImportBatch]:
    """The user's own import attempts, newest first."""
    return ImportBatch.objects.filter(uploaded_by=user).order_by("-created_at", "-pk")


def earlier_import(user: User, sha256: str) -> ImportBatch | None:
    """The user's latest batch that imported the file with this SHA-256, if any."""
    return my_batches(user).filter(sha256=sha256, outcome=ImportBatch.Outcome.IMPORTED).first()


def created_by_batch(batch: ImportBatch) -> QuerySet[Resource]:
    """The entries a batch created that still exist, by code. The import writes each entry's first version with
    the note "批量导入 #<batch>：<file>", which ties them to the batch without another column."""
    note = history.BATCH_NOTE % {"batch": batch.pk, "file": ""}
    return (
        Resource.objects.filter(versions__number=1, versions__note__startswith=note)
        .select_related("department")
        .order_by("code")
    )


def get_my_batch(user: User, pk: int) -> ImportBatch:
    batch = my_batches(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound(gettext_noop("导入记录不存在或无权访问"))
    return batch
