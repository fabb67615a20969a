"""The working-day calendar of the real Chinese calendar: deadlines count working days (domain.md §4).

A day is a working day when it is a weekday that is not a holiday (放假), or a weekend day that the State Council
made an adjusted working day (调休上班). Which days those are is not computable: each year's schedule is published
by the State Council (国务院办公厅关于部分节假日安排的通知, usually in October or November of the year before). So
the calendar is data (govshare.core.models): the years the shipped file knows (`data/cn-workdays.tsv`, from the
`chinese-calendar` package, see data/README.md) and the years the platform administrator enters or imports.

Never a guess: a computation that touches a day of a year without a `CalendarYear` row raises `CalendarUnknown`
(with the year), which the caller shows on the request and the platform administrator's home shows ahead of time.

Speed: the whole calendar (every known year) is read in one query, turned into a table of working-day ordinals and
kept in the process; a computation is then a few list look-ups (no query per day, none per request). The process
compares its copy with the database (one small query) at most every RECHECK_SECONDS, so a year entered in another
process is seen within that time; the process that saves a year forgets its copy at once (`forget`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.core.errors import DomainError
from govshare.core.models import CalendarSource, CalendarYear, DayKind, SpecialDay

__all__ = [
    "Calendar",
    "CalendarUnknown",
    "ShippedDay",
    "add_working_days",
    "calendar",
    "forget",
    "is_working_day",
    "known_through",
    "load_shipped_years",
    "missing_years",
    "shipped_days",
    "working_days_between",
]

logger = logging.getLogger(__name__)
RECHECK_SECONDS = 60.0
DATA_PACKAGE = "govshare.core"
DATA_FILE = "data/cn-workdays.tsv"
_UNKNOWN_MESSAGE = gettext_noop("%(year)s 年的节假日安排尚未录入，无法计算工作日期限")


class CalendarUnknown(DomainError):
    """A computation reached a year whose holiday schedule nobody has entered: the deadline cannot be computed.

    409: the request is valid, the platform's reference data is not there yet (the administrator enters the year)."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(_UNKNOWN_MESSAGE % {"year": year}, 409)

    @property
    def text(self) -> str:
        return gettext(_UNKNOWN_MESSAGE) % {"year": self.year}


@dataclass(frozen=True)
class Calendar:
    """Every known year, as tables over the days from 1 January of the first known year to 31 December of the last
    (day i of the span is ordinal `base + i`).

    `working` holds the working days in order (as dates, so that an answer is a list look-up); `before[i]` counts
    the working days among the first i days of the span; `known_until[i]` is the first day at or after day i whose
    year is not known (the span's length when there is none). Days of an unknown year inside the span count as rest
    days, and every answer first checks that the days it counted lie before `known_until`: an unknown year is never
    crossed, whatever the tables say about it."""

    known: frozenset[int]
    first_year: int
    last_year: int
    base: int  # ordinal of 1 January of first_year
    working: list[dt.date]
    before: list[int]
    known_until: list[int]

    @classmethod
    def build(cls, years: Iterable[int], special: dict[dt.date, str]) -> Calendar:
        known = frozenset(years)
        if not known:
            return cls(known, 0, -1, 0, [], [0], [])
        first, last = min(known), max(known)
        base = dt.date(first, 1, 1).toordinal()
        days = dt.date(last, 12, 31).toordinal() - base + 1
        working: list[dt.date] = []
        before = [0]
        known_until = [0] * days
        for index in range(days):
            day = dt.date.fromordinal(base + index)
            kind = special.get(day)
            if day.year in known and (kind == DayKind.WORKDAY if kind else day.weekday() < 5):
                working.append(day)
            before.append(len(working))
        next_unknown = days
        for index in range(days - 1, -1, -1):
            if dt.date.fromordinal(base + index).year not in known:
                next_unknown = index
            known_until[index] = next_unknown
        return cls(known, first, last, base, working, before, known_until)

    def _unknown(self, index: int) -> CalendarUnknown:
        """The refusal for day `index` of the span (which may lie before or after it)."""
        return CalendarUnknown(dt.date.fromordinal(self.base + index).year)

    def _checked(self, first: int, last: int) -> None:
        """Raise CalendarUnknown unless days first…last of the span all lie in known years."""
        if first < 0:
            raise self._unknown(first)
        if first >= len(self.known_until):
            raise self._unknown(first)
        if last >= self.known_until[first]:
            raise self._unknown(self.known_until[first])

    def is_working_day(self, day: dt.date) -> bool:
        index = day.toordinal() - self.base
        self._checked(index, index)
        return self.before[index + 1] > self.before[index]

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (the day itself is not counted): a request made on `start` with n
        working days to answer is due by the end of that day. n = 0 answers `start` (nothing is counted)."""
        if n <= 0:
            if n < 0:
                raise ValueError("n must not be negative")
            return start
        index = start.toordinal() + 1 - self.base  # the first day counted
        self._checked(index, index)
        wanted = self.before[index] + n - 1
        if wanted >= len(self.working):
            # No n-th working day in the span: the deadline lies in an unknown year, the first one after `start`.
            raise self._unknown(self.known_until[index])
        due = self.working[wanted]
        if due.toordinal() - self.base >= self.known_until[index]:
            raise self._unknown(self.known_until[index])
        return due

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """The working days after `a` up to and including `b` (negative when b is before a): 0 for the same day,
        and n from a request's day to its deadline."""
        if b < a:
            return -self.working_days_between(b, a)
        if a == b:
            return 0
        first, last = a.toordinal() + 1 - self.base, b.toordinal() - self.base
        self._checked(first, last)
        return self.before[last + 1] - self.before[first]

    def known_through(self, year: int) -> int | None:
        """The last year of the unbroken run of known years from `year`, or None when `year` itself is unknown."""
        if year not in self.known:
            return None
        while year + 1 in self.known:
            year += 1
        return year

    def missing_years(self, since: int, until: int) -> list[int]:
        return [year for year in range(since, until + 1) if year not in self.known]


# ---------------------------------------------------------------------------------------------- the process's copy


@dataclass
class _Copy:
    fingerprint: tuple[int, Any]
    checked_at: float
    calendar: Calendar


_lock = threading.Lock()
_copy: _Copy | None = None


def _fingerprint() -> tuple[int, Any]:
    found = CalendarYear.objects.aggregate(count=Count("id"), latest=Max("updated_at"))
    return found["count"], found["latest"]


def _load() -> _Copy:
    """The whole calendar in one query (a year without special days comes back once, with no date)."""
    rows = CalendarYear.objects.values_list("year", "updated_at", "special_days__date", "special_days__kind")
    years: set[int] = set()
    latest = None
    special: dict[dt.date, str] = {}
    for year, updated_at, day, kind in rows:
        if year not in years:
            years.add(year)
            latest = updated_at if latest is None or updated_at > latest else latest
        if day is not None:
            special[day] = kind
    return _Copy((len(years), latest), time.monotonic(), Calendar.build(years, special))


def calendar() -> Calendar:
    """The calendar as this process knows it: read once, checked against the database every RECHECK_SECONDS."""
    global _copy
    copy = _copy
    now = time.monotonic()
    if copy is not None and now - copy.checked_at < RECHECK_SECONDS:
        return copy.calendar
    with _lock:
        if _copy is not None and _copy is not copy:
            return _copy.calendar  # another thread has just read it
        if copy is not None and _fingerprint() == copy.fingerprint:
            copy.checked_at = now
            return copy.calendar
        _copy = _load()
        return _copy.calendar


def forget() -> None:
    """Drop this process's copy: the next computation reads the calendar again (after a year is saved)."""
    global _copy
    with _lock:
        _copy = None


LOG_EVERY_SECONDS = 3600.0
_logged: dict[int, float] = {}


def _logged_unknown(error: CalendarUnknown) -> CalendarUnknown:
    """Tell the operators too (once an hour per year and process): a deadline needed a year nobody entered."""
    now = time.monotonic()
    if now - _logged.get(error.year, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
        _logged[error.year] = now
        logger.warning("a working-day deadline reached %s, whose holiday schedule has not been entered", error.year)
    return error


def add_working_days(start: dt.date, n: int) -> dt.date:
    try:
        return calendar().add_working_days(start, n)
    except CalendarUnknown as error:
        raise _logged_unknown(error) from None


def working_days_between(a: dt.date, b: dt.date) -> int:
    try:
        return calendar().working_days_between(a, b)
    except CalendarUnknown as error:
        raise _logged_unknown(error) from None


def is_working_day(day: dt.date) -> bool:
    try:
        return calendar().is_working_day(day)
    except CalendarUnknown as error:
        raise _logged_unknown(error) from None


def known_through(year: int) -> int | None:
    return calendar().known_through(year)


def missing_years(since: int, until: int) -> list[int]:
    return calendar().missing_years(since, until)


# ---------------------------------------------------------------------------------------------- the shipped years


@dataclass(frozen=True)
class ShippedDay:
    date: dt.date
    kind: str
    name: str


_YEARS = re.compile(r"^# years: (\d{4})-(\d{4})$", re.MULTILINE)
_ROW = re.compile(r"^(\d{4}-\d\d-\d\d)\t(holiday|workday)\t([^\t\r\n]+)\r?$", re.MULTILINE)


def shipped_days() -> tuple[range, list[ShippedDay]]:
    """The years the shipped file knows and their special days."""
    text = files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    span = _YEARS.search(text)
    if span is None:
        raise ValueError(f"{DATA_FILE} does not say which years it knows (# years: …)")
    years = range(int(span.group(1)), int(span.group(2)) + 1)
    days = [ShippedDay(dt.date.fromisoformat(d), kind, name) for d, kind, name in _ROW.findall(text)]
    return years, days


def load_shipped_years(using: str = "default") -> list[int]:
    """Add the years of the shipped file that the database lacks, and bring years still marked 随包数据 up to the
    file (a newer package may correct one). A year the administrator entered or imported is never touched.
    Answers the years written. Run after every migrate (govshare.core.apps), so a deployment gets a regenerated file."""
    if CalendarYear._meta.db_table not in connections[using].introspection.table_names():
        return []  # core's tables are not there (migrated back to zero)
    years, days = shipped_days()
    by_year: dict[int, list[ShippedDay]] = {year: [] for year in years}
    for day in days:
        by_year[day.date.year].append(day)
    written: list[int] = []
    with transaction.atomic(using=using):
        existing = {row.year: row for row in CalendarYear.objects.using(using).filter(year__in=list(years))}
        stored: dict[int, set[tuple[dt.date, str, str]]] = {}
        for year, date, kind, name in (
            SpecialDay.objects.using(using)
            .filter(calendar_year__year__in=list(years))
            .values_list("calendar_year__year", "date", "kind", "name")
        ):
            stored.setdefault(year, set()).add((date, kind, name))
        now = timezone.now()
        for year, wanted in by_year.items():
            row = existing.get(year)
            shipped = {(d.date, d.kind, d.name) for d in wanted}
            if row is not None and (row.source != CalendarSource.SHIPPED or stored.get(year, set()) == shipped):
                continue
            if row is None:
                row = CalendarYear.objects.using(using).create(
                    year=year, source=CalendarSource.SHIPPED, entered_at=now, note=_shipped_note()
                )
            else:
                row.special_days.all().delete()
                row.save(update_fields=["updated_at"])
            SpecialDay.objects.using(using).bulk_create(
                SpecialDay(calendar_year=row, date=d.date, kind=d.kind, name=d.name) for d in wanted
            )
            written.append(year)
    if written:
        forget()
    return written


def _shipped_note() -> str:
    text = files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    first = text.split("\n", 1)[0].lstrip("# ").split(":", 1)[0]
    return f"{DATA_FILE}（{first}）"
