"""Paging past the last page."""

from __future__ import annotations

import pytest

from govshare.accounts.models import Department
from govshare.core.pagination import paginate
from govshare.testing import make_department


@pytest.mark.django_db
def test_a_page_number_beyond_any_database_integer_is_an_empty_page() -> None:
    make_department()
    page = paginate(Department.objects.order_by("pk"), 10**25, 20)
    assert (page.items, page.total, page.page) == ([], 1, 10**25)
