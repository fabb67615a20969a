"""A fixed clock for tests whose order of events matters: tests never depend on today's date."""

from __future__ import annotations

import datetime as dt

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.datetime:
    """`n` minutes after T0."""
    return T0 + dt.timedelta(minutes=n)
