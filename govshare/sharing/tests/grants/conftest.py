"""Fixtures of the grant tests: a provider (市公安局) and a consumer department (市医保局), judged on the fixed day."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.datasets import scopes
from govshare.testing.sharing import TODAY


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grants are judged on the fixed clock's day, never on today's date."""
    monkeypatch.setattr(scopes, "clock", lambda: TODAY)


@pytest.fixture
def provider(db: None) -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def consumer_department(db: None) -> Department:
    return testing.make_department("市医保局")


@pytest.fixture
def consumer(consumer_department: Department) -> User:
    return testing.make_user(Role.CONSUMER, department=consumer_department)


@pytest.fixture
def provider_reviewer(provider: Department) -> User:
    return testing.make_user(Role.DEPT_REVIEWER, department=provider)


@pytest.fixture
def coordinator(db: None) -> User:
    return testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))
