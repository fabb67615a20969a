"""The daily quota under concurrent accesses: eight readers at once on separate database connections, a quota of
three: exactly three are admitted, whatever the interleaving (one conditional upsert, serialised by the database)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from govshare import testing
from govshare.accounts.choices import Role
from govshare.core.errors import DomainError
from govshare.datasets import scopes
from govshare.sharing.models import GrantUsage
from govshare.testing.sharing import TODAY, issue

# `worker`: the test database is then a file (conftest.py), which separate connections really share.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.worker]


def test_concurrent_accesses_never_pass_the_daily_quota(tmp_path: Path) -> None:
    provider = testing.make_department("市公安局")
    holder = testing.make_department("市医保局")
    consumer = testing.make_user(Role.CONSUMER, department=holder)
    resource = testing.make_published_resource(provider, name="常住人口基本信息")
    item = resource.items.order_by("position").first()
    assert item is not None
    grant = issue(resource, holder, items=[item.name], daily_quota=3)
    scope = scopes.reader_scope(consumer, resource, today=TODAY)
    assert scope.admit is not None
    admit = scope.admit
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def reader() -> None:
        try:
            start.wait()
            try:
                with transaction.atomic():
                    admit()
                result = "admitted"
            except DomainError as exc:
                result = f"refused {exc.status}"
            except Exception as exc:
                result = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["admitted"] * 3 + ["refused 429"] * 5
    assert GrantUsage.objects.get(grant=grant, day=TODAY).accesses == 3
