"""Every gateway service × every state of the grant behind the call answers exactly as it should: only an active
grant of this system's scenario, within its items and rows and quota, gives an answer from the data."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.catalog.models import Resource
from govshare.datasets import scopes
from govshare.gateway import proxied
from govshare.gateway.provider_services import ProviderServiceInput, register_provider_service
from govshare.identity import services as identity_services
from govshare.sharing import grants
from govshare.testing import gateway
from govshare.testing.gateway import Answer, Consumer
from govshare.testing.provider_api import API_KEY, API_KEY_HEADER, MAPPING, OPERATIONS, ProviderServer
from govshare.testing.share_requests import scenario_with_system
from govshare.testing.sharing import TODAY, issue, make_scenario

ZHANG = "510603199001010011"  # 旌阳区, inside the row filter
OUYANG = "510603199202020022"  # 罗江区, outside it
GRANTED = ["公民身份号码", "姓名", "区县"]


@dataclass
class World:
    people: Resource
    consumer_department: Department
    consumer: Consumer
    monkeypatch: pytest.MonkeyPatch

    def grant(self, **fields: Any) -> Any:
        values: dict[str, Any] = {"items": GRANTED, "row_filter": {"区县": ["旌阳区"]}, **fields}
        return issue(self.people, self.consumer_department, scenario=self.consumer.scenario, **values)

    def on_day(self, day: dt.date) -> None:
        self.monkeypatch.setattr(scopes, "clock", lambda: day)


def call(
    world: World,
    service: str,
    *,
    key: str = ZHANG,
    scenario: int | None = None,
    client: Any = None,
    extra_item: str = "",
) -> Answer:
    body: dict[str, Any] = {"scenario": scenario or world.consumer.scenario.pk, "key": {"公民身份号码": key}}
    if service == "query":
        body = {"scenario": body["scenario"], "filters": {"公民身份号码": key}}
    if service in ("lookup", "query", "call"):
        if extra_item:
            body["items"] = ["姓名", extra_item]
    else:
        body["values"] = {"姓名": "张三丰", **({extra_item: "x"} if extra_item else {})}
    target = client or world.consumer.client
    return target.post(f"/gateway/v1/resources/{world.people.pk}/{service}", body)


def valid(world: World, service: str) -> Answer:
    world.grant()
    return call(world, service)


def no_grant(world: World, service: str) -> Answer:
    return call(world, service)


def expired(world: World, service: str) -> Answer:
    grant = world.grant(valid_until=TODAY + dt.timedelta(days=30))
    world.on_day(grant.valid_until + dt.timedelta(days=1))
    return call(world, service)


def revoked(world: World, service: str) -> Answer:
    grant = world.grant()
    assert call(world, service).status == 200  # cached by the process: the cache must not outlive the revocation
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=world.people.department)
    grants.revoke_grant(grant, actor=reviewer, reason="场景终止")
    return call(world, service)


def lapsed(world: World, service: str) -> Answer:
    world.grant(valid_until=TODAY + dt.timedelta(days=700), review_interval_days=90)
    world.on_day(TODAY + dt.timedelta(days=91))
    return call(world, service)


def wrong_scenario(world: World, service: str) -> Answer:
    world.grant()
    other = make_scenario(world.consumer_department, name="另一个场景")
    other.systems.add(world.consumer.system)
    return call(world, service, scenario=other.pk)


def wrong_system(world: World, service: str) -> Answer:
    world.grant()
    _, system = scenario_with_system(world.consumer_department, name="其他业务")
    credential, secret = gateway.credential_of(system)
    return call(world, service, client=gateway.GatewayClient(token=gateway.system_token(credential, secret)))


def item_outside(world: World, service: str) -> Answer:
    world.grant()
    return call(world, service, extra_item="手机号码")


def row_outside(world: World, service: str) -> Answer:
    world.grant()
    return call(world, service, key=OUYANG)


def quota_exhausted(world: World, service: str) -> Answer:
    world.grant(daily_quota=1)
    assert call(world, service).status == 200
    return call(world, service)


def system_stopped(world: World, service: str) -> Answer:
    world.grant()
    assert call(world, service).status == 200
    admin = testing.make_user(Role.CATALOG_ADMIN, department=world.consumer_department)
    identity_services.deactivate_information_system(world.consumer.system, actor=admin, reason="系统下线")
    return call(world, service)


def lookup_found(answer: Answer) -> bool:
    return answer.status == 200 and answer.json.get("count") == 1


def verified(answer: Answer) -> bool:
    return answer.status == 200 and answer.json.get("result") == "match"


def refused(status: int, code: str) -> Callable[[Answer], bool]:
    return lambda answer: (answer.status, answer.code) == (status, code)


def nothing_found(answer: Answer) -> bool:
    return answer.status == 200 and (answer.json.get("count") == 0 or answer.json.get("result") == "no_record")


CASES: dict[str, tuple[Callable[[World, str], Answer], dict[str, Callable[[Answer], bool]]]] = {
    "valid": (valid, {"lookup": lookup_found, "query": lookup_found, "call": lookup_found, "verify": verified}),
    "no grant": (no_grant, {"*": refused(404, "NO_GRANT")}),
    "expired": (expired, {"*": refused(404, "NO_GRANT")}),
    "revoked": (revoked, {"*": refused(404, "NO_GRANT")}),
    "lapsed": (lapsed, {"*": refused(404, "NO_GRANT")}),
    "wrong scenario": (wrong_scenario, {"*": refused(404, "NO_GRANT")}),
    "wrong system": (wrong_system, {"*": refused(404, "NO_GRANT")}),
    "item outside the grant": (item_outside, {"*": refused(403, "ITEM_NOT_GRANTED")}),
    "row outside the filter": (row_outside, {"*": nothing_found}),
    "quota exhausted": (quota_exhausted, {"*": refused(429, "QUOTA_EXCEEDED")}),
    "system stopped": (system_stopped, {"*": refused(401, "UNAUTHENTICATED")}),
}


def _proxied(people: Resource, request: pytest.FixtureRequest) -> None:
    """`call`: the same resource served by its provider's own API (a real server on 127.0.0.1 with the same rows)."""
    request.getfixturevalue("allow_local_sources")
    server = ProviderServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    request.addfinalizer(server.server_close)
    request.addfinalizer(server.shutdown)
    proxied.forget_breakers()
    admin = testing.make_user(Role.CATALOG_ADMIN, department=people.department)
    data = ProviderServiceInput(
        resource_id=people.pk,
        base_url=server.base_url,
        operations=OPERATIONS,
        mapping=MAPPING,
        auth_kind="header",
        auth_name=API_KEY_HEADER,
        secret=API_KEY,
        timeout_seconds=5.0,
    )
    register_provider_service(data, actor=admin)


@pytest.mark.parametrize("service", ["lookup", "verify", "query", "call"])
@pytest.mark.parametrize("case", list(CASES))
def test_gateway_matrix(
    case: str,
    service: str,
    people: Resource,
    consumer_department: Department,
    consumer: Consumer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if service == "call":
        _proxied(people, request)
    arrange, expected = CASES[case]
    world = World(people, consumer_department, consumer, monkeypatch)
    answer = arrange(world, service)
    check = expected.get(service, expected.get("*"))
    assert check is not None and check(answer), (case, service, answer.status, answer.body.decode())


def test_without_a_grant_an_existing_key_and_a_missing_one_answer_alike_in_the_same_time(
    people: Resource, consumer: Consumer
) -> None:
    """No grant: the refusal comes before the key is looked at, so neither the answer nor its time tells whether
    the key is in the resource (medians of interleaved calls; the bound is generous for a busy machine)."""
    import statistics
    import time

    times: dict[str, list[float]] = {ZHANG: [], "510603199909090099": []}
    bodies: dict[str, bytes] = {}
    order = list(times)
    for _ in range(60):
        order.reverse()  # neither key is always the first of a pair
        for key in order:
            started = time.perf_counter()
            answer = consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": key}})
            times[key].append(time.perf_counter() - started)
            assert (answer.status, answer.code) == (404, "NO_GRANT")
            bodies[key] = answer.json["error"]["message"].encode()
    assert bodies[ZHANG] == bodies["510603199909090099"]
    existing, missing = (statistics.median(values) for values in times.values())
    assert abs(existing - missing) < max(0.002, 0.5 * min(existing, missing))
