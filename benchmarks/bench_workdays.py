"""Benchmark: working-day deadlines for 100,000 requests with govshare.core.workdays, against bare baselines.

    .venv/bin/python benchmarks/bench_workdays.py [--requests 100000] [--database-url postgres://…]

Without --database-url it runs in a temporary SQLite database, migrated (which loads the shipped years 2004–2026).
Requests: random start dates from 2004-01-01 to 2026-11-30 (so that no deadline reaches 2027, which nobody has
entered) and n = 2…20 working days, seed 13. In the same run it times:

- govshare: `add_working_days(start, n)` for every request, the first call reading the calendar (one query);
- the calendar's load alone (`forget()` then `calendar()`), what a process pays once per RECHECK_SECONDS at most
  when a year changes;
- a day-by-day loop over precomputed Python sets of holidays and adjusted working days (the bare baseline; its
  answers must equal govshare's);
- numpy.busday_offset with the same holidays and a Monday–Friday weekmask, vectorised: numpy cannot express a
  Saturday that is a working day, so it is counted how many of its answers are wrong;
- a day-by-day loop asking the database about each day (what "no query per day" avoids), on the first 1,000
  requests only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path


def _setup_django(data_dir: str, database_url: str) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = data_dir
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        _setup_django(data_dir, args.database_url)
        import numpy as np
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from govshare.core import workdays
        from govshare.core.models import DayKind, SpecialDay

        rng = random.Random(13)
        first, last = dt.date(2004, 1, 1).toordinal(), dt.date(2026, 11, 30).toordinal()
        requests = [(dt.date.fromordinal(rng.randint(first, last)), rng.randint(2, 20)) for _ in range(args.requests)]
        count = len(requests)
        rows: list[tuple[str, int, float, int | str, str]] = []

        # govshare, from a cold process copy: the first call reads the calendar.
        workdays.forget()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            ours = [workdays.add_working_days(start, n) for start, n in requests]
            elapsed = time.perf_counter() - started
        rows.append(("govshare add_working_days (cold: includes the load)", count, elapsed, len(queries), "—"))
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            again = [workdays.add_working_days(start, n) for start, n in requests]
            elapsed = time.perf_counter() - started
        rows.append(
            ("govshare add_working_days (warm)", count, elapsed, len(queries), "yes" if again == ours else "NO")
        )
        # A caller with many deadlines at once (a nightly overdue sweep) takes the calendar once.
        held_calendar = workdays.calendar()
        started = time.perf_counter()
        held = [held_calendar.add_working_days(start, n) for start, n in requests]
        elapsed = time.perf_counter() - started
        same = "yes" if held == ours else "NO"
        rows.append(("govshare calendar().add_working_days (calendar held)", count, elapsed, 0, same))

        loads = []
        for _ in range(5):
            workdays.forget()
            started = time.perf_counter()
            workdays.calendar()
            loads.append(time.perf_counter() - started)
        rows.append(("calendar load alone (best of 5)", 1, min(loads), 1, "—"))

        # The bare baseline: precomputed sets, one day at a time.
        holidays = set(SpecialDay.objects.filter(kind=DayKind.HOLIDAY).values_list("date", flat=True))
        adjusted = set(SpecialDay.objects.filter(kind=DayKind.WORKDAY).values_list("date", flat=True))
        one = dt.timedelta(days=1)

        def plain(start: dt.date, n: int) -> dt.date:
            day = start
            while n:
                day += one
                if day in adjusted or (day.weekday() < 5 and day not in holidays):
                    n -= 1
            return day

        started = time.perf_counter()
        bare = [plain(start, n) for start, n in requests]
        elapsed = time.perf_counter() - started
        rows.append(("plain loop over precomputed sets", count, elapsed, 0, "yes" if bare == ours else "NO"))

        # numpy, vectorised; it has no way to make a weekend day a working day.
        holiday_array = np.array(sorted(holidays), dtype="datetime64[D]")
        calendar = np.busdaycalendar(weekmask="1111100", holidays=holiday_array)
        starts = np.array([start for start, _ in requests], dtype="datetime64[D]")
        counts = np.array([n for _, n in requests])
        started = time.perf_counter()
        due = np.busday_offset(starts, counts, roll="forward", busdaycal=calendar)
        elapsed = time.perf_counter() - started
        # busday_offset rolls a non-business start forward first and counts from it: the n-th working day after a
        # working start, the n-th after the next working day otherwise (the same as ours on Monday–Friday calendars).
        due_rolled = np.where(
            np.is_busday(starts, busdaycal=calendar),
            due,
            np.busday_offset(starts, counts - 1, roll="forward", busdaycal=calendar),
        )
        wrong = int((due_rolled != np.array(ours, dtype="datetime64[D]")).sum())
        rows.append(("numpy busday_offset (vectorised, no 调休)", count, elapsed, 0, f"{wrong:,} wrong"))

        # A query per day, on the first 1,000 requests.
        sample = requests[:1000]

        def per_day_query(start: dt.date, n: int) -> dt.date:
            day = start
            while n:
                day += one
                kind = SpecialDay.objects.filter(date=day).values_list("kind", flat=True).first()
                if kind == DayKind.WORKDAY or (kind is None and day.weekday() < 5):
                    n -= 1
            return day

        issued = [0]

        def counted(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            issued[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            started = time.perf_counter()
            slow = [per_day_query(start, n) for start, n in sample]
            elapsed = time.perf_counter() - started
        same = "yes" if slow == ours[: len(sample)] else "NO"
        rows.append(("a query per day (first 1,000 requests)", len(sample), elapsed, issued[0], same))

        print(f"database: {connection.vendor}; requests: {count:,}; years known: 2004–2026")
        print()
        print("| method | requests | total | per request | queries | same answers as govshare |")
        print("|---|---|---|---|---|---|")
        for name, n, seconds, query_count, agrees in rows:
            total = f"{seconds * 1000:,.1f} ms"
            per = f"{seconds / n * 1e6:,.2f} µs"
            queries_text = f"{query_count:,}" if isinstance(query_count, int) else query_count
            print(f"| {name} | {n:,} | {total} | {per} | {queries_text} | {agrees} |")


if __name__ == "__main__":
    main()
