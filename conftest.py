from __future__ import annotations

import pytest
from django.core.cache import cache

from govshare.accounts.choices import Role
from govshare.core import testing


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> None:
    """Each test that uses the database starts with an empty cache (the shared cache is a table of the metadata
    database), so API rate-limit and wrong-token counters never carry over from another test."""
    if "_django_db_helper" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        cache.clear()


@pytest.fixture
def department(db):  # type: ignore[no-untyped-def]
    return testing.make_department("市公安局")


@pytest.fixture
def other_department(db):  # type: ignore[no-untyped-def]
    return testing.make_department("市市场监督管理局")


@pytest.fixture
def catalog_admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department, username="gaj_admin")


@pytest.fixture
def platform_admin(db):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.PLATFORM_ADMIN, username="bigdata_admin")


@pytest.fixture
def outsider(other_department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, Role.CONSUMER, department=other_department, username="scj_admin")


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Datasets, uploads and rejects files of a test go to its own directory, never into the source tree's var/."""
    data_dir = tmp_path_factory.mktemp("data")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"data_dir": data_dir})


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Tests marked `worker` start real `govshare qcluster` processes that must open the test database: on SQLite
    it is then a file (pytest-django's default is in memory, invisible to another process)."""
    from django.conf import settings

    if any(item.get_closest_marker("worker") for item in request.session.items):
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("testdb") / "test.sqlite3")
