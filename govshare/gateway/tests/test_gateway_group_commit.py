"""Calls made at once are recorded together by the process's writer thread (group commit): each still gets its own
admission — the quota is never exceeded, whatever the interleaving — and its own audit row, committed before its
answer leaves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from govshare.accounts.models import Department
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.gateway import recording
from govshare.sharing.models import Grant, GrantUsage
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import issue

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
