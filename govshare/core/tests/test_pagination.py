"""Paging past the last page."""

from __future__ import annotations

import base64
import json

import pytest

from govshare.accounts.models import Department
from govshare.core.errors import ValidationFailed
from govshare.core.pagination import encode_cursor, paginate, paginate_keyset
from govshare.testing import make_department


@pytest.mark.django_db
def test_a_page_number_beyond_any_database_integer_is_an_empty_page() -> None:
    make_department()
    page = paginate(Department.objects.order_by("pk"), 10**25, 20)
    assert (page.items, page.total, page.page) == ([], 1, 10**25)


def _departments_by_cursor(keys: tuple[str, ...], *, page_size: int, between_pages: list[str]) -> list[int]:
    """Every department id visited by following next_after from the first page; before each further page, one more
    department (named from `between_pages`) is added."""
    queryset = Department.objects.all()
    page = paginate_keyset(queryset, keys=keys, after=None, page=1, page_size=page_size)
    visited = [d.pk for d in page.items]
    while page.next_after is not None and len(visited) < 100:
        if between_pages:
            make_department(between_pages.pop(0))
        page = paginate_keyset(queryset, keys=keys, after=page.next_after, page=None, page_size=page_size)
        visited += [d.pk for d in page.items]
    return visited


@pytest.mark.django_db
def test_paging_by_cursor_visits_every_row_once_while_newer_rows_are_appended() -> None:
    existing = [make_department(f"部门{n}").pk for n in range(10)]

    visited = _departments_by_cursor(("-id",), page_size=3, between_pages=["新部门甲", "新部门乙", "新部门丙"])

    assert visited == sorted(existing, reverse=True)


@pytest.mark.django_db
def test_paging_by_cursor_over_a_key_with_ties_visits_every_row_once() -> None:
    levels = ["city", "county", "township"]
    existing = [make_department(f"部门{n}", level=levels[n % 3]).pk for n in range(11)]
    added = ["新部门甲", "新部门乙"]

    visited = _departments_by_cursor(("level", "-id"), page_size=2, between_pages=list(added))

    assert len(visited) == len(set(visited))
    assert set(existing) <= set(visited)


@pytest.mark.django_db
def test_the_last_page_by_cursor_names_no_next_page() -> None:
    make_department()
    page = paginate_keyset(Department.objects.all(), keys=("-id",), after=None, page=1, page_size=5)
    assert (len(page.items), page.total, page.next_after) == (1, 1, None)


def _cursor_of(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor", ["not base64!", _cursor_of("not a list"), _cursor_of(["x"]), _cursor_of([10**30]), _cursor_of([1, 2])]
)
def test_a_cursor_that_no_page_answered_is_refused_naming_after(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        paginate_keyset(Department.objects.all(), keys=("-id",), after=cursor, page=None, page_size=5)
    assert [problem.field for problem in refused.value.problems] == ["after"]


@pytest.mark.django_db
def test_a_page_number_besides_a_cursor_is_refused() -> None:
    department = make_department()
    cursor = encode_cursor(department, ("-id",))
    with pytest.raises(ValidationFailed) as refused:
        paginate_keyset(Department.objects.all(), keys=("-id",), after=cursor, page=2, page_size=5)
    assert [problem.field for problem in refused.value.problems] == ["page"]
