"""Parsing the auditor's filters: every input is either a filter or a ValidationFailed naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit import selectors
from govshare.audit.models import AuditLog
from govshare.core.errors import ValidationFailed

FIELDS = ("actor", "action", "object_type", "object_id", "q", "since", "until")


@given(st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=40)))
def test_any_parameters_parse_or_are_refused_by_field(params: dict[str, str]) -> None:
    try:
        filters = selectors.parse_filters(params)
    except ValidationFailed as exc:
        assert exc.status == 422 and exc.problems
        assert {p.field for p in exc.problems} <= set(FIELDS)
    else:
        assert filters.since is None or filters.since.tzinfo is not None
        assert filters.until is None or filters.until.tzinfo is not None


@given(st.dates(min_value=dt.date(2, 1, 1), max_value=dt.date(9998, 12, 30)))
def test_a_date_until_covers_that_whole_day(day: dt.date) -> None:
    filters = selectors.parse_filters({"since": day.isoformat(), "until": day.isoformat()})
    assert filters.since == timezone.make_aware(dt.datetime.combine(day, dt.time()))
    assert filters.until == filters.since + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"since": "2026/11/26"}, "since", "起始时间“2026/11/26”不是有效的日期或时间"),
        ({"until": "2026-02-30"}, "until", "截止时间“2026-02-30”不是有效的日期或时间"),
        ({"since": "2026-11-27", "until": "2026-11-26"}, "until", "截止时间应晚于起始时间"),
        ({"since": "0001-01-01"}, "since", "超出可查询的范围"),
        ({"actor": "a\x00"}, "actor", "空字符"),
    ],
)
def test_bad_filters_name_the_field_and_the_problem(params: dict[str, str], field: str, text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        selectors.parse_filters(params)
    assert caught.value.problems[0].field == field and text in caught.value.problems[0].message


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=20)))
def test_any_accepted_filter_runs_on_the_database(params: dict[str, str]) -> None:
    auditor = testing.make_user(Role.AUDITOR)  # its creation is audited: the log is never empty
    try:
        queryset = selectors.search(auditor, params)
        filters = selectors.parse_filters(params)
    except ValidationFailed:
        return
    found = list(queryset)
    # Every row the database returns satisfies the filters as they read in Python, and no row that does is missed.
    every = list(AuditLog.objects.order_by("-id"))
    if filters.text.isascii():
        assert found == [row for row in every if _matches(row, filters)]
    else:  # case folding beyond ASCII differs between databases: the other filters still hold exactly
        assert set(found) <= {row for row in every if _matches(row, filters, text=False)}


def _matches(row: AuditLog, filters: selectors.AuditFilters, *, text: bool = True) -> bool:
    action_ok = not filters.action or (
        row.action.startswith(filters.action) if filters.action.endswith(".") else row.action == filters.action
    )
    return (
        action_ok
        and (not filters.actor or row.actor_name == filters.actor)
        and (not filters.object_type or row.object_type == filters.object_type)
        and (not filters.object_id or row.object_id == filters.object_id)
        and (not text or not filters.text or filters.text.lower() in row.object_repr.lower())
        and (filters.since is None or row.at >= filters.since)
        and (filters.until is None or row.at < filters.until)
    )
