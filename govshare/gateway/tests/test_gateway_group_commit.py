"""Calls made at once are recorded together by the process's writer thread (group commit): each still gets its own
admission — the quota is never exceeded, whatever the interleaving — and its own audit row, committed before its
answer leaves."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from govshare.accounts.models import Department
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.gateway import recording
from govshare.gateway.callers import caller_for_token
from govshare.sharing.choices import GrantStatus
from govshare.sharing.models import Grant, GrantUsage
from govshare.sharing.system_grants import CallRefusal
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import TODAY, issue

from .conftest import GRANTED

ZHANG = "510603199001010011"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_calls_share_commits_but_each_is_admitted_and_audited(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant: Grant = issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED, daily_quota=12)
    body = {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}}

    def one_call(_: int) -> tuple[int, str, str]:
        try:
            answer = consumer.client.lookup(people, body)
            return answer.status, answer.code, answer.json["request_id"]
        finally:
            connection.close()

    # One call first: the process then knows the token, the grant and the index, so the calls at once touch the
    # database only through the writer (the test database is SQLite in memory, whose shared cache locks tables
    # without waiting; a deployment's file database waits).
    warm = consumer.client.lookup(people, body)
    assert warm.status == 200
    first = warm.json["request_id"]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(one_call, range(30)))
    finally:
        recording.stop_writer()  # its connection would keep the test database from being dropped
    assert sorted(status for status, _, _ in answers) == [200] * 11 + [429] * 19
    rows = AuditLog.objects.filter(action="gateway.call.lookup").exclude(extra__request_id=first)
    assert rows.count() == 30
    assert {row.extra["request_id"]: row.extra["outcome"] for row in rows} == {
        request_id: code for _, code, request_id in answers
    }
    assert GrantUsage.objects.get(grant=grant).accesses == 12


def _batch(consumer: Consumer, grant: Grant, size: int) -> list[recording.Pending]:
    caller = caller_for_token(consumer.client.token, timezone.now())
    assert caller is not None
    now = dt.datetime.combine(TODAY, dt.time(10), tzinfo=dt.UTC)
    return [
        recording.Pending(
            recording.Call(
                request_id=f"r{i}", caller=caller, service="lookup", resource_id=grant.resource_id, grant_id=grant.pk
            ),
            "OK",
            admit=True,
            today=TODAY,
            now=now,
        )
        for i in range(size)
    ]


@pytest.mark.django_db
def test_a_batch_on_one_grant_is_counted_at_once_when_the_quota_has_room(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant: Grant = issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED, daily_quota=10)
    batch = _batch(consumer, grant, 6)
    with transaction.atomic():
        recording._write(batch)
    assert [pending.outcome for pending in batch] == ["OK"] * 6
    assert GrantUsage.objects.get(grant=grant).accesses == 6


@pytest.mark.django_db
def test_a_batch_beyond_the_quota_admits_exactly_the_calls_within_it(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant: Grant = issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED, daily_quota=10)
    with transaction.atomic():
        recording._write(_batch(consumer, grant, 6))
        batch = _batch(consumer, grant, 6)
        recording._write(batch)
    assert [pending.outcome for pending in batch] == ["OK"] * 4 + ["QUOTA_EXCEEDED"] * 2
    assert [pending.refusal for pending in batch][-1] == CallRefusal.QUOTA
    assert GrantUsage.objects.get(grant=grant).accesses == 10
    audited = AuditLog.objects.filter(extra__request_id__in=["r4", "r5"]).values_list("extra__outcome", flat=True)
    assert "OK" in audited and "QUOTA_EXCEEDED" in audited


@pytest.mark.django_db
def test_a_batch_on_a_revoked_grant_is_refused_whole_and_not_counted(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant: Grant = issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED)
    batch = _batch(consumer, grant, 5)
    Grant.objects.filter(pk=grant.pk).update(status=GrantStatus.REVOKED)
    with transaction.atomic():
        recording._write(batch)
    assert {pending.outcome for pending in batch} == {"NO_GRANT"}
    assert {pending.refusal for pending in batch} == {CallRefusal.GONE}
    assert not GrantUsage.objects.filter(grant=grant).exists()


def test_the_writers_of_two_processes_take_turns_on_a_sqlite_file(tmp_path: Path) -> None:
    """A writer waits for another process's writer on the lock beside the database, and goes on the moment it ends."""
    database = tmp_path / "govshare.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(database)!r} + '.writers', os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(1.0)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with recording._Turns(str(database))():
            waited = time.monotonic() - started
    finally:
        holder.wait(timeout=10)
    assert 0.5 < waited < 5.0
