"""Reading the audit log: only the auditor (审计员) reads it; filters, paging and the CSV export share one query."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from govshare.audit import actions
from govshare.audit.access import READ_AUDIT_LOG, READ_REFUSED
from govshare.audit.models import AuditLog
from govshare.core.authz import VIEW, Subject, can, restrict
from govshare.core.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from govshare.core.tabular import csv as tabular_csv

EXPORT_CHUNK = 2000
# The stored columns first (as hashed into the chain), then the same row in words.
CSV_HEADERS = (
    "记录编号", "时间", "操作人账号", "操作", "对象类型", "对象标识", "对象", "详情", "链序号", "SM3 哈希",
    "操作名称", "结果", "说明",
)  # fmt: skip


def can_read_audit_log(user: Subject) -> bool:
    return can(user, READ_AUDIT_LOG)


def audit_log_for(user: Subject) -> QuerySet[AuditLog]:
    """Every audit row, for the auditor; anyone else is refused (403: the whole log is outside their remit)."""
    if not can_read_audit_log(user):
        raise PermissionDenied(READ_REFUSED)
    return restrict(AuditLog.objects.order_by("-id"), user, VIEW)


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # account name, exact
    action: str = ""  # a code (with its aliases), or an app's prefix ending in "." (e.g. "catalog.")
    object_type: str = ""
    object_id: str = ""
    text: str = ""  # part of the object's name
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def _parse_time(name: str, label: str, value: str, *, end: bool) -> tuple[dt.datetime | None, FieldProblem | None]:
    value = value.strip()
    if not value:
        return None, None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        message = f"{label}“{value}”不是有效的日期或时间，应写作 2026-11-26 或 2026-11-26T08:30"
        return None, FieldProblem(name, message)
    date_only = len(value) <= 10
    try:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        parsed.astimezone(dt.UTC)  # the database compares in UTC
    except OverflowError:
        return None, FieldProblem(name, f"{label}“{value}”超出可查询的范围（公元 1 年至 9999 年）")
    if end and date_only:
        try:
            parsed += dt.timedelta(days=1)  # "until 2026-11-26" includes that whole day
        except OverflowError:
            return None, None  # until the end of time: no upper bound
    return parsed, None


def parse_filters(params: Mapping[str, str]) -> AuditFilters:
    """Filters from query parameters; a bad date is refused with the field and the accepted forms named."""
    for name, value in params.items():
        if "\x00" in value:
            raise ValidationFailed([FieldProblem(name, "筛选条件不能包含空字符（NUL）")], "审计日志筛选条件有误")
    since, since_problem = _parse_time("since", "起始时间", params.get("since", ""), end=False)
    until, until_problem = _parse_time("until", "截止时间", params.get("until", ""), end=True)
    problems = [p for p in (since_problem, until_problem) if p is not None]
    if since is not None and until is not None and since >= until:
        problems.append(FieldProblem("until", "截止时间应晚于起始时间"))
    if problems:
        raise ValidationFailed(problems, "审计日志筛选条件有误")
    return AuditFilters(
        actor=params.get("actor", "").strip(),
        action=params.get("action", "").strip(),
        object_type=params.get("object_type", "").strip(),
        object_id=params.get("object_id", "").strip(),
        text=params.get("q", "").strip(),
        since=since,
        until=until,
    )


def apply_filters(queryset: QuerySet[AuditLog], filters: AuditFilters) -> QuerySet[AuditLog]:
    if filters.actor:
        queryset = queryset.filter(actor_name=filters.actor)
    if filters.action:
        # A code matches the rows written under its old codes too (rows are never rewritten: renamed codes are aliases).
        matched = Q(action__in=actions.codes_for(filters.action))
        if actions.is_prefix_filter(filters.action):
            matched |= Q(action__startswith=filters.action)
        queryset = queryset.filter(matched)
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.object_id:
        queryset = queryset.filter(object_id=filters.object_id)
    if filters.text:
        queryset = queryset.filter(object_repr__icontains=filters.text)
    if filters.since is not None:
        queryset = queryset.filter(at__gte=filters.since)
    if filters.until is not None:
        queryset = queryset.filter(at__lt=filters.until)
    return queryset


def search(user: Subject, params: Mapping[str, str]) -> QuerySet[AuditLog]:
    """The auditor's filtered log, newest first."""
    return apply_filters(audit_log_for(user), parse_filters(params))


def get_row(user: Subject, row_id: int) -> AuditLog:
    row = audit_log_for(user).filter(pk=row_id).first()
    if row is None:
        raise NotFound("审计记录不存在")
    return row


def action_names() -> list[str]:
    """The actions that occur in the log, for the filter's choice list."""
    return list(AuditLog.objects.order_by("action").values_list("action", flat=True).distinct())


@dataclass(frozen=True)
class LogLine:
    """A row as the auditor reads it: the action and its result in words, the object by its name, the details as a
    sentence."""

    row: AuditLog
    action_code: str  # the current code of its action (rows keep the code they were written with)
    action_label: str
    outcome: actions.Outcome
    object_type_label: str
    details: str


def log_lines(rows: list[AuditLog]) -> list[LogLine]:
    return [
        LogLine(
            row=row,
            action_code=actions.info(row.action).code,
            action_label=actions.label(row.action),
            outcome=actions.outcome(row.action, row.extra),
            object_type_label=actions.object_type_label(row.object_type),
            details=actions.describe(row.action, row.extra),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class QuickRange:
    key: str
    since: dt.date
    until: dt.date  # inclusive, as the filter's “截止时间（含当天）”


def quick_ranges(today: dt.date) -> list[QuickRange]:
    """今天, 近7天 (today and the six days before), 本月 (from the first of the month), counted from `today` (the
    platform's local date, from the caller's clock)."""
    return [
        QuickRange("today", today, today),
        QuickRange("7d", today - dt.timedelta(days=6), today),
        QuickRange("month", today.replace(day=1), today),
    ]


def csv_lines(queryset: QuerySet[AuditLog]) -> Iterator[str]:
    """UTF-8 text with a BOM (Excel opens it as UTF-8), one audit row per line, times in the platform's zone; text
    that a spreadsheet would read as a formula gets a leading apostrophe (`govshare.core.tabular.csv`)."""
    return tabular_csv.csv_lines(CSV_HEADERS, (_csv_row(row) for row in queryset.iterator(chunk_size=EXPORT_CHUNK)))


def _csv_row(row: AuditLog) -> tuple[object, ...]:
    return (
        row.pk,
        timezone.localtime(row.at).isoformat(timespec="seconds"),
        row.actor_name,
        row.action,
        row.object_type,
        row.object_id,
        row.object_repr,
        json.dumps(row.extra, ensure_ascii=False, sort_keys=True),
        "" if row.seq is None else row.seq,
        row.row_hash,
        actions.label(row.action),
        actions.outcome(row.action, row.extra).label,
        actions.describe(row.action, row.extra),
    )


VERIFY_ACTION = "audit.chain.verify"  # the audit row of a chain check made on the site, the API or the command
# Where a check was run (its row's `origin`, stored in the platform's language and shown in the reader's). Rows
# recorded before origins were written have none.
ORIGIN_WEB = gettext_noop("网页")
ORIGIN_API = gettext_noop("API")
ORIGIN_CLI = gettext_noop("命令行")


def latest_chain_check(user: Subject) -> AuditLog | None:
    """The latest verification of the chain recorded in the trail (its result in `extra["ok"]`, when, by whom), for
    the auditor; None when none was made. Anyone else is refused as for the log."""
    # Checks recorded before the code was renamed (audit.verify) count too: stored rows keep their code.
    return audit_log_for(user).filter(action__in=actions.codes_for(VERIFY_ACTION)).first()


def distinct_objects(actor_name: str, object_type: str, start: dt.datetime, end: dt.datetime) -> int:
    """How many distinct objects of a type one actor's rows name in [start, end): counted, never read (the
    gateway's alert of a system asking for many keys). Unscoped: for the platform's own watch, not for people."""
    rows = AuditLog.objects.filter(actor_name=actor_name, at__gte=start, at__lt=end, object_type=object_type)
    return rows.values("object_id").distinct().count()
