"""The platform administrator keeps the working-day calendar: enters or imports a year's State Council schedule.

The years live in govshare.core (reference data; core imports no app); writing them is the platform administrator's,
with an audit row in the same transaction, so it is done here. Saving a year replaces its special days whole: the
State Council's notice is the unit, and a year half entered would be a guessed calendar. The process's copy of the
calendar is forgotten at once (govshare.core.workdays), and again on commit or on failure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.core import workdays
from govshare.core.errors import FieldProblem, PermissionDenied, ValidationFailed
from govshare.core.models import CalendarSource, CalendarYear, DayKind, SpecialDay

FIRST_YEAR = 2000
LAST_YEAR = 2100
NAME_LENGTH = 100
NOTE_LENGTH = 500
# Most special days one year may hold: the longest years had about 40 (holidays and adjusted days together).
MOST_DAYS = 120


@dataclass(frozen=True)
class DayEntry:
    date: dt.date
    kind: str  # DayKind
    name: str


@dataclass(frozen=True)
class DayProblem:
    """What is wrong with the `index`-th day given (its `field`: date, kind or name)."""

    index: int
    field: str
    message: str


def may_keep_calendar(user: User) -> bool:
    return user.is_active and user.is_platform_admin


def day_problems(year: int, days: Sequence[DayEntry]) -> list[DayProblem]:
    """The rules of one year's schedule, for the form, the import and the service alike."""
    problems: list[DayProblem] = []
    seen: dict[dt.date, int] = {}
    for index, day in enumerate(days):
        if day.date.year != year:
            problems.append(
                DayProblem(index, "date", gettext("%(date)s 不在 %(year)s 年内") % {"date": day.date, "year": year})
            )
        if day.date in seen:
            problems.append(DayProblem(index, "date", gettext("%(date)s 重复填写") % {"date": day.date}))
        seen.setdefault(day.date, index)
        if day.kind not in DayKind.values:
            problems.append(DayProblem(index, "kind", gettext("类型应为“放假”或“调休上班”")))
        elif day.kind == DayKind.WORKDAY and day.date.weekday() < 5:
            problems.append(
                DayProblem(
                    index,
                    "date",
                    gettext("%(date)s 是工作日（周一至周五），调休上班日应为周六或周日") % {"date": day.date},
                )
            )
        name = day.name.strip()
        if not name:
            problems.append(DayProblem(index, "name", gettext("请填写名称，如“国庆节”")))
        elif len(name) > NAME_LENGTH:
            problems.append(DayProblem(index, "name", gettext("名称最长 %(n)s 个字") % {"n": NAME_LENGTH}))
    return problems


def year_problem(year: int) -> str | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return gettext("年份应在 %(first)s 至 %(last)s 之间") % {"first": FIRST_YEAR, "last": LAST_YEAR}
    return None


def save_year(
    actor: User,
    year: int,
    days: Sequence[DayEntry],
    *,
    note: str = "",
    source: str = CalendarSource.ENTERED,
    file_name: str = "",
) -> CalendarYear:
    """Enter (or replace) the schedule of `year`: its holidays and adjusted working days, all of them."""
    if not may_keep_calendar(actor):
        raise PermissionDenied(gettext_noop("只有平台管理员可以录入节假日安排"))
    problems = []
    if (wrong_year := year_problem(year)) is not None:
        problems.append(FieldProblem("year", wrong_year))
    if len(days) > MOST_DAYS:
        problems.append(FieldProblem("days", gettext("一年最多 %(n)s 个节假日和调休日") % {"n": MOST_DAYS}))
    if len(note) > NOTE_LENGTH:
        problems.append(FieldProblem("note", gettext("说明最长 %(n)s 个字") % {"n": NOTE_LENGTH}))
    problems += [
        FieldProblem(f"days[{p.index}].{p.field}", f"{days[p.index].date}：{p.message}")
        for p in day_problems(year, days)
    ]
    if problems:
        raise ValidationFailed(problems)
    try:
        with transaction.atomic():
            row = CalendarYear.objects.select_for_update().filter(year=year).first()
            before = describe(row) if row is not None else ""
            now = timezone.now()
            if row is None:
                row = CalendarYear(year=year)
            row.source = source
            row.entered_by = actor
            row.entered_at = now
            row.note = note.strip()
            row.save()
            row.special_days.all().delete()
            SpecialDay.objects.bulk_create(
                SpecialDay(calendar_year=row, date=d.date, kind=d.kind, name=d.name.strip()) for d in days
            )
            holidays = sum(1 for d in days if d.kind == DayKind.HOLIDAY)
            details: dict[str, Any] = {
                "year": year,
                "holidays": holidays,
                "workdays": len(days) - holidays,
                "before": before,
            }
            if source == CalendarSource.IMPORTED:
                record_action(actor, "accounts.calendar.import", row, file_name=file_name, **details)
            else:
                record_action(actor, "accounts.calendar.enter", row, **details)
            # This transaction's own computations see the new year at once; other processes within
            # workdays.RECHECK_SECONDS.
            workdays.forget()
            transaction.on_commit(workdays.forget)
    except BaseException:
        workdays.forget()  # a copy read inside the failed transaction held the year that was rolled back
        raise
    return row


def describe(row: CalendarYear) -> str:
    """The year as it stood, for the audit row: its source and its days in brief."""
    days = list(row.special_days.values_list("date", "kind"))
    holidays = sum(1 for _, kind in days if kind == DayKind.HOLIDAY)
    return gettext("%(source)s，放假 %(holidays)s 天、调休上班 %(workdays)s 天") % {
        "source": gettext(row.get_source_display()),
        "holidays": holidays,
        "workdays": len(days) - holidays,
    }


def years() -> QuerySet[CalendarYear]:
    """Every known year with its counts (the calendar is the platform's, not a department's: no scope applies)."""
    return (
        CalendarYear.objects.select_related("entered_by")
        .annotate(
            holidays=Count("special_days", filter=Q(special_days__kind=DayKind.HOLIDAY)),
            workdays=Count("special_days", filter=Q(special_days__kind=DayKind.WORKDAY)),
        )
        .order_by("-year")
    )


def days_of(year: int) -> list[DayEntry]:
    return [
        DayEntry(date, kind, name)
        for date, kind, name in SpecialDay.objects.filter(calendar_year__year=year)
        .order_by("date")
        .values_list("date", "kind", "name")
    ]


@dataclass(frozen=True)
class Span:
    """Consecutive days of the same kind and name: one line of the State Council's notice (国庆节 10-01 … 10-07)."""

    name: str
    kind: str
    first: dt.date
    last: dt.date


def spans(days: Sequence[DayEntry]) -> list[Span]:
    found: list[Span] = []
    for day in sorted(days, key=lambda d: d.date):
        last = found[-1] if found else None
        if (
            last is not None
            and last.kind == day.kind
            and last.name == day.name
            and day.date == last.last + dt.timedelta(days=1)
        ):
            found[-1] = Span(last.name, last.kind, last.first, day.date)
        else:
            found.append(Span(day.name, day.kind, day.date, day.date))
    return found


@dataclass(frozen=True)
class CalendarNotice:
    """Years a deadline may soon reach that nobody has entered: the current one, and from 1 November the next."""

    missing: list[int]
    current_missing: bool


NEXT_YEAR_FROM = (11, 1)  # the State Council usually publishes the next year's schedule in October or November


def calendar_notice(today: dt.date) -> CalendarNotice | None:
    """What the platform administrator must be told on `today` (the caller's clock), or None when all is entered."""
    wanted = [today.year]
    if (today.month, today.day) >= NEXT_YEAR_FROM:
        wanted.append(today.year + 1)
    missing = workdays.missing_years(wanted[0], wanted[-1])
    if not missing:
        return None
    return CalendarNotice(missing, today.year in missing)
