"""Lookup by key: the granted items of the key's rows, masked as the grant says, from the version being served."""

from __future__ import annotations

from govshare.catalog.models import Resource
from govshare.sharing.models import Grant
from govshare.testing.gateway import Consumer, GatewayClient

ZHANG = "510603199001010011"  # 旌阳区
OUYANG = "510603199202020022"  # 罗江区: outside the grant's row filter


def test_a_lookup_answers_the_granted_items_of_the_key_masked(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    answer = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}})
    assert answer.status == 200, answer.body
    body = answer.json
    assert (body["resource"], body["scenario"], body["grant"], body["count"]) == (
        people.pk,
        consumer.scenario.pk,
        grant.pk,
        1,
    )
    row = body["rows"][0]
    assert set(row) == {"公民身份号码", "姓名", "区县", "户籍地址"}
    assert row["区县"] == "旌阳区"
    assert row["公民身份号码"] != ZHANG and row["公民身份号码"].startswith("5106")  # masked by its level
    assert row["姓名"] != "张三丰"
    assert "长江西路1号" not in row["户籍地址"]


def test_the_answer_carries_a_request_id_in_body_and_header(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}})
    assert answer.headers["X-Request-Id"] == answer.json["request_id"]
    assert len(answer.json["request_id"]) == 32
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_lower_case_x_in_an_id_number_is_the_upper_case_one(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    answer = consumer.client.lookup(
        people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": "51060319900101001x"}}
    )
    assert (answer.status, answer.json["count"]) == (200, 0)


def test_a_key_outside_the_row_filter_answers_like_a_missing_key(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    outside = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": OUYANG}})
    missing = consumer.client.lookup(
        people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": "510603199909090099"}}
    )
    assert (outside.status, outside.json["count"], outside.json["rows"]) == (200, 0, [])
    assert {k: v for k, v in outside.json.items() if k != "request_id"} == {
        k: v for k, v in missing.json.items() if k != "request_id"
    }


def test_asked_items_narrow_the_answer(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.lookup(
        people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}, "items": ["区县"]}
    )
    assert answer.json["rows"] == [{"区县": "旌阳区"}]


def test_an_item_outside_the_grant_is_refused_by_name(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.lookup(
        people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}, "items": ["区县", "手机号码"]}
    )
    assert (answer.status, answer.code) == (403, "ITEM_NOT_GRANTED")
    assert "手机号码" in answer.json["error"]["message"]


def test_a_key_the_resource_is_not_indexed_by_is_refused_with_the_keys_it_has(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    answer = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"姓名": "张三丰"}})
    assert (answer.status, answer.code) == (400, "KEY_NOT_SUPPORTED")
    assert "公民身份号码" in answer.json["error"]["message"]


def test_a_call_without_a_scenario_is_refused_with_a_clear_message(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    answer = consumer.client.lookup(people, {"key": {"公民身份号码": ZHANG}})
    assert (answer.status, answer.code) == (400, "SCENARIO_REQUIRED")
    assert "应用场景" in answer.json["error"]["message"]


def test_english_messages_on_request(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.post(
        f"/gateway/v1/resources/{people.pk}/lookup", {"key": {"公民身份号码": ZHANG}}, accept_language="en-GB"
    )
    assert answer.json["error"]["message"].startswith("Name the scenario")


def test_no_token_and_a_wrong_token_answer_401(people: Resource, consumer: Consumer, grant: Grant) -> None:
    body = {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}}
    for client in (GatewayClient(), GatewayClient(token="not-a-token")):
        answer = client.lookup(people, body)
        assert (answer.status, answer.code) == (401, "UNAUTHENTICATED")
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_bodies_get_precise_400s(people: Resource, consumer: Consumer, grant: Grant) -> None:
    path = f"/gateway/v1/resources/{people.pk}/lookup"
    cases = {
        b"not json": "JSON",
        b"[1, 2]": "JSON 对象",
        json_bytes({"scenario": "abc", "key": {"公民身份号码": ZHANG}}): "scenario",
        json_bytes({"scenario": 10**30, "key": {"公民身份号码": ZHANG}}): "scenario",
        json_bytes({"scenario": -1, "key": {"公民身份号码": ZHANG}}): "scenario",
        json_bytes({"scenario": "١٢", "key": {"公民身份号码": ZHANG}}): "scenario",
        json_bytes({"scenario": consumer.scenario.pk, "grant": 2**64, "key": {"公民身份号码": ZHANG}}): "grant",
        json_bytes({"scenario": consumer.scenario.pk, "key": "x"}): "key",
        json_bytes({"scenario": consumer.scenario.pk, "key": {"公民身份号码": ""}}): "公民身份号码",
        json_bytes({"scenario": consumer.scenario.pk, "key": {"公民身份号码": "1\u0000"}}): "公民身份号码",
        b"\xff\xfe": "UTF-8",
    }
    for raw, words in cases.items():
        answer = consumer.client.post(path, raw=raw)
        assert (answer.status, answer.code) == (400, "INVALID_REQUEST"), raw
        assert words in answer.json["error"]["message"], raw


def test_a_body_over_the_limit_is_refused_unread(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = consumer.client.post(f"/gateway/v1/resources/{people.pk}/lookup", raw=b"{" + b" " * 70_000 + b"}")
    assert (answer.status, answer.code) == (413, "BODY_TOO_LARGE")


def test_unknown_paths_and_methods(consumer: Consumer) -> None:
    assert consumer.client.post("/gateway/v1/nothing", {}).code == "NOT_FOUND"
    answer = consumer.client.call("GET", "/gateway/v1/resources/1/lookup")
    assert (answer.status, answer.code) == (405, "METHOD_NOT_ALLOWED")


def test_the_error_catalogue_is_served(db: None) -> None:
    answer = GatewayClient().call("GET", "/gateway/v1/errors")
    codes = {entry["code"]: entry["status"] for entry in answer.json["errors"]}
    assert codes["NO_GRANT"] == 404 and codes["QUOTA_EXCEEDED"] == 429 and codes["SCENARIO_REQUIRED"] == 400


def json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=False).encode()


def test_a_system_bound_to_addresses_is_refused_from_elsewhere(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    consumer.system.allowed_networks = "10.1.2.0/24\n2001:db8::/32"
    consumer.system.save(update_fields=["allowed_networks"])
    body = {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}}
    path = f"/gateway/v1/resources/{people.pk}/lookup"
    outside = consumer.client.post(path, body, remote_addr="192.0.2.7")
    assert (outside.status, outside.code) == (403, "ADDRESS_NOT_ALLOWED")
    assert consumer.client.post(path, body, remote_addr="10.1.2.9").status == 200
    assert consumer.client.post(path, body, remote_addr="2001:db8::5").status == 200
