"""The working-day calendar: deadlines on the real Chinese calendar, and never on a guessed one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from govshare.core import workdays
from govshare.core.models import CalendarSource, CalendarYear, DayKind, SpecialDay
from govshare.core.workdays import Calendar, CalendarUnknown

D = dt.date

# The shipped file alone, without the database: what every property below is checked against.
_YEARS, _DAYS = workdays.shipped_days()
SHIPPED = Calendar.build(_YEARS, {day.date: day.kind for day in _DAYS})


# ---------------------------------------------------------------------------------------------- the shipped data


def test_the_shipped_file_knows_2004_to_2026_and_no_later_year():
    assert (_YEARS.start, _YEARS.stop - 1) == (2004, 2026)
    assert {day.date.year for day in _DAYS} <= set(_YEARS)


def test_2026_is_the_state_councils_notice_of_4_november_2025():
    """国务院办公厅关于2026年部分节假日安排的通知: every adjusted working day and every holiday span."""
    workdays_2026 = sorted(d.date for d in _DAYS if d.date.year == 2026 and d.kind == DayKind.WORKDAY)
    assert workdays_2026 == [
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    spans = {
        "元旦": (D(2026, 1, 1), D(2026, 1, 3)),
        "春节": (D(2026, 2, 15), D(2026, 2, 23)),
        "清明节": (D(2026, 4, 4), D(2026, 4, 6)),
        "劳动节": (D(2026, 5, 1), D(2026, 5, 5)),
        "端午节": (D(2026, 6, 19), D(2026, 6, 21)),
        "中秋节": (D(2026, 9, 25), D(2026, 9, 27)),
        "国庆节": (D(2026, 10, 1), D(2026, 10, 7)),
    }
    holidays_2026 = sorted((d.date, d.name) for d in _DAYS if d.date.year == 2026 and d.kind == DayKind.HOLIDAY)
    expected = sorted(
        (first + dt.timedelta(days=i), name)
        for name, (first, last) in spans.items()
        for i in range((last - first).days + 1)
    )
    assert holidays_2026 == expected


# ---------------------------------------------------------------------------------------------- pinned dates


def test_a_request_of_2026_09_28_with_10_working_days_is_due_on_16_october_across_national_day():
    # 9-29, 9-30, (10-1…10-7 国庆), 10-8, 10-9, 10-10 (Saturday, 调休上班), 10-12 … 10-16.
    assert SHIPPED.add_working_days(D(2026, 9, 28), 10) == D(2026, 10, 16)


def test_the_spring_festival_2026_is_skipped_and_its_adjusted_saturdays_count():
    # 2-13 (1), 2-14 Saturday 调休 (2), (2-15…2-23 春节), 2-24 … 2-27 (6), 2-28 Saturday 调休 (7), 3-2 … 3-4 (10).
    assert SHIPPED.add_working_days(D(2026, 2, 12), 10) == D(2026, 3, 4)
    assert SHIPPED.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_one_working_day_after_a_friday_is_the_monday():
    assert SHIPPED.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)


def test_a_request_made_on_a_weekend_counts_from_the_next_working_day():
    assert SHIPPED.add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 9)


def test_zero_working_days_is_the_day_itself():
    assert SHIPPED.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)


def test_a_negative_number_of_working_days_is_refused():
    with pytest.raises(ValueError):
        SHIPPED.add_working_days(D(2026, 3, 6), -1)


def test_an_adjusted_working_saturday_is_a_working_day_and_the_sunday_after_it_is_not():
    assert SHIPPED.is_working_day(D(2026, 10, 10))
    assert not SHIPPED.is_working_day(D(2026, 10, 11))
    assert SHIPPED.is_working_day(D(2026, 9, 20))  # a Sunday, 调休上班 for 国庆


def test_a_holiday_on_a_weekday_is_not_a_working_day():
    assert not SHIPPED.is_working_day(D(2026, 10, 5))
    assert SHIPPED.is_working_day(D(2026, 10, 8))


def test_working_days_between_a_request_and_its_deadline():
    assert SHIPPED.working_days_between(D(2026, 9, 28), D(2026, 10, 16)) == 10
    assert SHIPPED.working_days_between(D(2026, 10, 16), D(2026, 9, 28)) == -10
    assert SHIPPED.working_days_between(D(2026, 10, 1), D(2026, 10, 1)) == 0
    assert SHIPPED.working_days_between(D(2026, 9, 30), D(2026, 10, 7)) == 0  # 国庆 only


# ---------------------------------------------------------------------------------------------- never a guess


def test_a_deadline_reaching_2027_raises_instead_of_guessing():
    # 12-21 … 12-25 and 12-28 … 12-31 are 9 working days: the 10th would be in 2027, which nobody has entered.
    assert SHIPPED.add_working_days(D(2026, 12, 20), 9) == D(2026, 12, 31)
    with pytest.raises(CalendarUnknown) as raised:
        SHIPPED.add_working_days(D(2026, 12, 20), 10)
    assert raised.value.year == 2027


def test_every_question_about_an_unknown_year_raises():
    with pytest.raises(CalendarUnknown):
        SHIPPED.is_working_day(D(2027, 3, 1))
    with pytest.raises(CalendarUnknown):
        SHIPPED.working_days_between(D(2026, 12, 1), D(2027, 1, 5))
    with pytest.raises(CalendarUnknown) as raised:
        SHIPPED.add_working_days(D(2003, 6, 2), 1)
    assert raised.value.year == 2003


def test_a_gap_between_known_years_is_not_crossed():
    calendar = Calendar.build([2026, 2028], {})
    with pytest.raises(CalendarUnknown) as raised:
        calendar.add_working_days(D(2026, 12, 30), 5)
    assert raised.value.year == 2027


def test_the_refusal_says_which_year_is_missing_in_chinese_and_in_english():
    error = CalendarUnknown(2028)
    assert error.status == 409
    assert str(error) == "2028 年的节假日安排尚未录入，无法计算工作日期限"
    with translation.override("en"):
        assert (
            str(error) == "The holiday schedule of 2028 has not been entered: working-day deadlines cannot be computed"
        )


def test_a_known_year_without_any_special_day_counts_weekends_only():
    calendar = Calendar.build([2030], {})
    assert calendar.add_working_days(D(2030, 1, 4), 1) == D(2030, 1, 7)  # 2030-01-01 is no holiday here


def test_with_no_year_entered_at_all_nothing_is_computed():
    with pytest.raises(CalendarUnknown) as raised:
        Calendar.build([], {}).add_working_days(D(2026, 3, 2), 1)
    assert raised.value.year == 2026


def test_known_through_and_missing_years():
    calendar = Calendar.build([2025, 2026, 2028], {})
    assert calendar.known_through(2025) == 2026
    assert calendar.known_through(2027) is None
    assert calendar.missing_years(2025, 2029) == [2027, 2029]


# ---------------------------------------------------------------------------------------------- properties

_STARTS = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 11, 30))
_COUNTS = st.integers(min_value=1, max_value=20)


@given(_STARTS, _COUNTS)
def test_a_deadline_is_always_a_working_day(start, n):
    assert SHIPPED.is_working_day(SHIPPED.add_working_days(start, n))


@given(_STARTS, _COUNTS)
def test_the_working_days_from_a_request_to_its_deadline_are_n(start, n):
    due = SHIPPED.add_working_days(start, n)
    assert SHIPPED.working_days_between(start, due) == n
    assert due > start


@given(_STARTS, _COUNTS, _COUNTS)
def test_more_working_days_never_give_an_earlier_deadline(start, n, m):
    low, high = sorted((n, m))
    assert SHIPPED.add_working_days(start, low) <= SHIPPED.add_working_days(start, high)


@given(_STARTS, st.integers(min_value=0, max_value=40), _COUNTS)
def test_a_later_request_never_has_an_earlier_deadline(start, days_later, n):
    later = start + dt.timedelta(days=days_later)
    assert SHIPPED.add_working_days(start, n) <= SHIPPED.add_working_days(later, n)


def _counted_day_by_day(start: dt.date, n: int) -> dt.date:
    kinds = {d.date: d.kind for d in _DAYS}
    day = start
    while n:
        day += dt.timedelta(days=1)
        kind = kinds.get(day)
        if kind == DayKind.WORKDAY or (kind is None and day.weekday() < 5):
            n -= 1
    return day


@given(_STARTS, _COUNTS)
def test_a_deadline_is_what_counting_day_by_day_gives(start, n):
    assert SHIPPED.add_working_days(start, n) == _counted_day_by_day(start, n)


@given(_STARTS)
def test_a_day_is_a_working_day_exactly_when_it_is_an_adjusted_workday_or_an_ordinary_weekday(day):
    kinds = {d.date: d.kind for d in _DAYS}
    expected = kinds[day] == DayKind.WORKDAY if day in kinds else day.weekday() < 5
    assert SHIPPED.is_working_day(day) == expected


# ---------------------------------------------------------------------------------------------- from the database


@pytest.mark.django_db
def test_migrate_loads_the_shipped_years_into_the_database():
    assert list(CalendarYear.objects.order_by("year").values_list("year", flat=True)) == list(_YEARS)
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {CalendarSource.SHIPPED}
    assert SpecialDay.objects.count() == len(_DAYS)


@pytest.mark.django_db
def test_the_calendar_read_from_the_database_is_the_shipped_one():
    assert workdays.calendar() == SHIPPED
    assert workdays.add_working_days(D(2026, 9, 28), 10) == D(2026, 10, 16)


@pytest.mark.django_db
def test_100000_deadlines_cost_one_query_in_all():
    starts = [D(2004, 1, 1) + dt.timedelta(days=i % 8300) for i in range(100_000)]
    with CaptureQueriesContext(connection) as first:
        due = [workdays.add_working_days(start, 2 + i % 19) for i, start in enumerate(starts)]
    with CaptureQueriesContext(connection) as again:
        for i, start in enumerate(starts):
            workdays.add_working_days(start, 2 + i % 19)
    assert len(first) == 1  # the whole calendar, once
    assert len(again) == 0
    assert due[0] == SHIPPED.add_working_days(starts[0], 2)


@pytest.mark.django_db
def test_loading_the_shipped_years_again_writes_nothing():
    assert workdays.load_shipped_years() == []


@pytest.mark.django_db
def test_a_year_entered_by_the_administrator_is_never_overwritten_by_the_shipped_file():
    year = CalendarYear.objects.get(year=2026)
    year.source = CalendarSource.ENTERED
    year.save()
    year.special_days.filter(date=D(2026, 10, 10)).delete()
    assert workdays.load_shipped_years() == []
    assert not year.special_days.filter(date=D(2026, 10, 10)).exists()


@pytest.mark.django_db
def test_a_shipped_year_that_differs_from_the_file_is_brought_back_to_it():
    CalendarYear.objects.get(year=2025).special_days.filter(kind=DayKind.WORKDAY).delete()
    assert workdays.load_shipped_years() == [2025]
    assert workdays.calendar() == SHIPPED


@pytest.mark.django_db
def test_a_year_written_by_another_process_is_seen_after_the_recheck_interval(monkeypatch):
    with pytest.raises(CalendarUnknown):
        workdays.is_working_day(D(2027, 3, 1))
    CalendarYear.objects.create(year=2027, source=CalendarSource.ENTERED, entered_at=timezone.now())
    monkeypatch.setattr(workdays, "RECHECK_SECONDS", 0.0)
    assert workdays.is_working_day(D(2027, 3, 1))


@pytest.mark.django_db
def test_within_the_recheck_interval_the_process_asks_the_database_nothing():
    workdays.calendar()
    CalendarYear.objects.create(year=2027, source=CalendarSource.ENTERED, entered_at=timezone.now())
    with CaptureQueriesContext(connection) as queries, pytest.raises(CalendarUnknown):
        workdays.is_working_day(D(2027, 3, 1))
    assert len(queries) == 0


@pytest.mark.django_db
def test_a_deadline_reaching_an_unknown_year_is_logged_for_the_operators_once(caplog):
    workdays._logged.clear()
    for _ in range(3):
        with pytest.raises(CalendarUnknown):
            workdays.add_working_days(D(2026, 12, 31), 1)
    warnings = [r for r in caplog.records if r.name == "govshare.core.workdays" and "2027" in r.getMessage()]
    assert len(warnings) == 1
