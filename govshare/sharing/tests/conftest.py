from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User


@pytest.fixture
def consumer(department: Department) -> User:
    return testing.make_user(Role.CONSUMER, department=department, username="gaj_user")


@pytest.fixture
def provider_admin(other_department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=other_department, username="scj_catalog")


@pytest.fixture
def third_department(db: None) -> Department:
    return testing.make_department("市民政局")


@pytest.fixture
def stranger(third_department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, Role.CONSUMER, department=third_department, username="mzj_admin")


@pytest.fixture
def coordinator(db: None) -> User:
    return testing.make_user(Role.COORDINATOR, username="coordinator")
