from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, settings

from govshare import testing, testserver_settings
from govshare.accounts.choices import Role
from govshare.core import workdays
from govshare.testing import live
from govshare.testing.http_api import ApiServer, serve

# Property tests check behaviour, not speed (speed is measured in benchmarks/): on a busy machine a slow example or
# slow input generation must not fail them.
settings.register_profile("govshare", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("govshare")


# Django's PBKDF2 (1,000,000 iterations) costs about 0.25 s of CPU a password here, and nearly every test creates
# users (and many sign them in): tests hash new passwords with MD5 instead. What the tests check is the behaviour
# around passwords (lockout, change, reset, sign-in), not the strength of the hash; production keeps Django's
# PBKDF2 (test_production_hashes_passwords_with_pbkdf2), and PBKDF2 hashes made elsewhere still verify. The servers
# the tests start use the same hashers (govshare.testserver_settings).
@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing(django_test_environment: None) -> Iterator[None]:
    # Session-wide, so that module-scoped set-ups (the authorization matrix's world) are covered too.
    with override_settings(PASSWORD_HASHERS=testserver_settings.PASSWORD_HASHERS):
        yield


@pytest.fixture(autouse=True)
def _platform_language() -> Iterator[None]:
    """Each test starts in the platform's default language: a request in English (Accept-Language, the language
    cookie) leaves the thread's language English, and refusals are translated when read (`DomainError.text`)."""
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest) -> None:
    """Each test that uses the database starts with an empty cache (the shared cache is a table of the metadata
    database), so API rate-limit and wrong-token counters never carry over from another test."""
    if "_django_db_helper" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        cache.clear()
        # The working-day calendar kept in the process too: a year another test entered was rolled back.
        workdays.forget()


@pytest.fixture(autouse=True)
def _fresh_served_indexes() -> Iterator[None]:
    """Each test starts without the key indexes a process keeps open (`datasets.serving.served`): another test's
    dataset ids and data directory are not this one's."""
    from govshare.datasets import serving

    serving.forget_served()
    yield
    serving.forget_served()


@pytest.fixture(scope="session", autouse=True)
def _one_migrated_data_dir_per_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Under pytest-xdist the live servers of all processes start from one migrated data directory, made in the
    run's temporary directory (the processes' own are inside it; pytest removes it with old runs)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ[live.SHARED_DIR_VARIABLE] = str(tmp_path_factory.getbasetemp().parent)


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


@pytest.fixture
def allow_local_sources(settings, tmp_path_factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What the tests' own sources need from the connection policy, and no more: 127.0.0.1 (the tests' HTTP APIs,
    PostgreSQL in CI, closed ports), 10.0.0.5 (the private 前置库 server the tests' examples name, never connected
    to) and SQLite files under pytest's temporary directory (whose data directories stay refused). Also in the
    environment, for the worker processes a test starts. Tests of the policy itself run without it
    (govshare/datasets/tests/test_threat_source_reaches_forbidden_targets.py)."""
    hosts = ["127.0.0.1", "10.0.0.5"]
    base = tmp_path_factory.getbasetemp()
    settings.GOVSHARE = settings.GOVSHARE.model_copy(
        update={"source_allowed_hosts": hosts, "source_sqlite_dirs": [base]}
    )
    monkeypatch.setenv("GOVSHARE_SOURCE_ALLOWED_HOSTS", ",".join(hosts))
    monkeypatch.setenv("GOVSHARE_SOURCE_SQLITE_DIRS", str(base))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Tests marked `worker` start real `govshare qcluster` processes that must open the test database: on SQLite
    it is then a file (pytest-django's default is in memory, invisible to another process)."""
    from django.conf import settings

    if any(item.get_closest_marker("worker") for item in request.session.items):
        database = settings.DATABASES["default"]
        if database["ENGINE"] == "django.db.backends.sqlite3":
            database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("testdb") / "test.sqlite3")


# Fixtures through which a test reaches the test database: pytest-django's `db`, `transactional_db`, … all request
# `_django_db_helper`; a fixture of ours that requests `django_db_blocker` (to unblock it for a module- or
# session-scoped set-up) or `django_db_setup` does too.
_DATABASE_FIXTURES = frozenset({"_django_db_helper", "live_server"})
_UNBLOCKING_FIXTURES = frozenset({"django_db_blocker", "django_db_setup"})


def _reaches_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None or item.get_closest_marker("postgresql") is not None:
        return True
    if _DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for definitions in info.name2fixturedefs.values() if info is not None else ():
        for definition in definitions:
            if definition.func.__module__.startswith("pytest_django"):
                continue  # its autouse fixtures request django_db_blocker only to keep the database blocked
            if _UNBLOCKING_FIXTURES.intersection(definition.argnames):
                return True
    return False


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `dbindependent` every test that cannot touch the test database: it has no `django_db` marker and uses
    no fixture that reaches the database (above), so pytest-django refuses it any query ("Database access not
    allowed"). Such a test (parsers, validators, masking, crypto, readers, hypothesis properties, and the live-server
    tests, whose server is another process on its own SQLite database whatever DATABASE_URL says) gives the same
    answer on SQLite and on PostgreSQL, so .ci/run's PostgreSQL pass skips it with `-m "not dbindependent"`. A test
    that reads DATABASE_URL to reach the PostgreSQL server itself (a PostgreSQL 前置库) is marked `postgresql`."""
    for item in items:
        if not _reaches_database(item):
            item.add_marker(pytest.mark.dbindependent)


# What makes a test file take long: it starts other processes (live servers, browsers, workers, command-line runs),
# runs Spark, or runs transactional tests (migrations back and forth, serialized rollback).
_LONG_MARKERS = frozenset({"browser", "schemathesis", "worker", "spark"})


def _takes_long(item: pytest.Item) -> bool:
    if _LONG_MARKERS.intersection(mark.name for mark in item.iter_markers()):
        return True
    database = item.get_closest_marker("django_db")
    if database is not None and database.kwargs.get("transaction"):
        return True
    module = getattr(item, "module", None)
    return any(name in vars(module) for name in ("subprocess", "live_server", "govshare_command")) if module else False


def _transactional(item: pytest.Item) -> bool:
    """Whether pytest-django runs the test as a TransactionTestCase, which empties the test database afterwards."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    transactional = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
    return bool(transactional.intersection(getattr(item, "fixturenames", ())))


_EMPTIED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures open its transaction
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A transactional test leaves the test database empty, and a migration test (MigrationExecutor, without
    migrate's post_migrate) that rebuilt the resource table leaves SQLite's search index without its triggers: a
    test in a transaction after them finds the index and the rows the migrations seed (categories, the working-day
    calendar, content types) again. In one process pytest-django runs the transactional tests last; under
    pytest-xdist a process runs whole files, one after another, so a file's transactional tests may come before
    another file's other tests."""
    if item.config.stash.get(_EMPTIED, False) and _reaches_database(item) and not _transactional(item):
        from django.db import connections
        from pytest_django.plugin import blocking_manager_key

        from govshare.catalog.search import ensure_search_index

        with item.config.stash[blocking_manager_key].unblock():
            for connection in connections.all(initialized_only=True):
                ensure_search_index(connection)
                contents = getattr(connection, "_test_serialized_contents", None)
                if contents:
                    connection.creation.deserialize_db_from_string(contents)
        item.config.stash[_EMPTIED] = False


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _transactional(item):
        item.config.stash[_EMPTIED] = True


class _LongFilesFirst:
    @pytest.hookimpl(trylast=True)  # after pytest-django's order (transactional tests last) and deselection
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        items[:] = _long_files_first(items)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        config.pluginmanager.register(_LongFilesFirst(), "govshare-long-files-first")


def _long_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """Under pytest-xdist (scripts/test: `--dist loadfile --no-loadscope-reorder`) each test file goes to one
    process as a whole, in the order of the collection: the files that take long come first, so that the processes
    finish together instead of one of them running the upgrade or a browser file alone at the end. Within a file the
    order stays. Every process collects the same order (xdist checks it). A file's transactional tests may then come
    before other files' tests: pytest_runtest_setup (above) puts the seeded rows back for those."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    ordered = sorted(files.values(), key=lambda tests: not any(_takes_long(test) for test in tests))
    return [item for tests in ordered for item in tests]


@pytest.fixture
def api() -> Iterator[ApiServer]:
    """A real HTTP API on 127.0.0.1 serving paged records and faults (see govshare.testing.http_api)."""
    yield from serve(ApiServer())
