"""Every call is audited before its answer leaves — who, which system, scenario, grant, resource, items, rows,
latency, outcome and request id — and the trail holds no key and no value: the key only as a keyed hash, by which
the auditor finds every call that asked for it."""

from __future__ import annotations

import json
import logging

import pytest
from django.core import serializers

from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.gateway.services import key_hash_candidates
from govshare.sharing.models import Grant
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import SECRET_VALUES

ZHANG = "510603199001010011"


def gateway_rows() -> list[AuditLog]:
    return list(AuditLog.objects.filter(action__startswith="gateway.").order_by("id"))


def test_a_lookup_writes_one_audit_row_naming_the_call(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}})
    [row] = gateway_rows()
    assert (row.action, row.actor_id, row.actor_name) == ("gateway.call.lookup", None, f"system:{consumer.system.code}")
    assert row.object_type == "gateway.key" and row.object_id in key_hash_candidates(ZHANG)
    extra = row.extra
    assert extra["request_id"] == answer.json["request_id"]
    assert (extra["system"], extra["scenario"], extra["grant"], extra["resource"]) == (
        consumer.system.code,
        consumer.scenario.pk,
        grant.pk,
        people.pk,
    )
    assert (extra["items"], extra["rows"], extra["outcome"]) == (sorted(grant.items), 1, "OK")
    assert extra["latency_ms"] > 0


def test_the_auditor_finds_every_call_for_a_key_whatever_its_case(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    key = "51060319900101001X"
    for asked in (key, key.lower(), ZHANG):
        consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": asked}})
    found = AuditLog.objects.filter(object_type="gateway.key", object_id__in=key_hash_candidates(key.lower()))
    assert found.count() == 2


def test_refused_calls_are_audited_with_their_outcome(people: Resource, consumer: Consumer, grant: Grant) -> None:
    consumer.client.lookup(people, {"scenario": consumer.scenario.pk + 1000, "key": {"公民身份号码": ZHANG}})
    consumer.client.lookup(people, {"key": {"公民身份号码": ZHANG}})
    outcomes = [row.extra["outcome"] for row in gateway_rows()]
    assert outcomes == ["NO_GRANT", "SCENARIO_REQUIRED"]


def test_no_key_and_no_value_ever_reaches_the_audit_trail(people: Resource, consumer: Consumer, grant: Grant) -> None:
    scenario = consumer.scenario.pk
    for key in (ZHANG, "510603199202020022", "510603199909090099"):
        consumer.client.lookup(people, {"scenario": scenario, "key": {"公民身份号码": key}})
        consumer.client.verify(
            people, {"scenario": scenario, "key": {"公民身份号码": key}, "values": {"姓名": "张三丰"}}
        )
        consumer.client.lookup(people, {"scenario": scenario + 1000, "key": {"公民身份号码": key}})
        consumer.client.lookup(people, {"scenario": scenario, "key": {"公民身份号码": key}, "items": ["手机号码"]})
    trail = serializers.serialize("json", AuditLog.objects.all())
    text = json.dumps(json.loads(trail), ensure_ascii=False)
    for secret in (*SECRET_VALUES, "510603199909090099", "5106031990"):
        assert secret not in text
    assert len(gateway_rows()) == 12


def test_verification_answers_per_item_and_never_a_value(people: Resource, consumer: Consumer, grant: Grant) -> None:
    body = {
        "scenario": consumer.scenario.pk,
        "key": {"公民身份号码": ZHANG},
        "values": {"姓名": "张三丰", "区县": "罗江区"},
    }
    answer = consumer.client.verify(people, body)
    assert (answer.json["result"], answer.json["items"]) == ("mismatch", {"姓名": "match", "区县": "mismatch"})
    assert "旌阳区" not in answer.body.decode() and "张三丰" not in answer.body.decode()
    missing = consumer.client.verify(people, {**body, "key": {"公民身份号码": "510603199909090099"}})
    assert (missing.json["result"], missing.json["items"]) == ("no_record", {"姓名": "no_record", "区县": "no_record"})


def test_no_key_and_no_value_reaches_a_log_line_or_an_error_text(
    people: Resource, consumer: Consumer, grant: Grant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scenario = consumer.scenario.pk
    texts = []
    for key in (ZHANG, "510603199202020022"):
        for body in (
            {"scenario": scenario, "key": {"公民身份号码": key}},
            {"scenario": scenario, "key": {"公民身份号码": key}, "items": ["手机号码"]},
            {"scenario": scenario + 1000, "key": {"公民身份号码": key}},
            {"scenario": scenario, "key": {"姓名": "张三丰"}},
            {"scenario": scenario, "key": {"公民身份号码": key}, "values": {"姓名": "张三丰"}},
        ):
            answer = consumer.client.lookup(people, body)
            if answer.status != 200:
                texts.append(answer.body.decode())
    for secret in SECRET_VALUES:
        assert secret not in caplog.text
        assert all(secret not in text for text in texts)
