"""Calls proxied to a provider's own HTTP API (a real server on 127.0.0.1): only granted items leave, masked; the
provider's credentials reach the provider and nothing else; a dead or slow provider answers 502/504 and opens the
circuit breaker, which then answers 503 at once without calling it, and lets one trial through after its cool-down."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.core import crypto
from govshare.gateway import proxied
from govshare.gateway.models import ProviderService
from govshare.gateway.provider_services import ProviderServiceInput, register_provider_service
from govshare.sharing.models import Grant
from govshare.testing.gateway import Answer, Consumer
from govshare.testing.http_api import serve
from govshare.testing.provider_api import API_KEY, API_KEY_HEADER, ERROR_TEXT, MAPPING, OPERATIONS, ProviderServer
from govshare.testing.sharing import PEOPLE_ITEMS, issue

ZHANG = "510603199001010011"  # 旌阳区
OUYANG = "510603199202020022"  # 罗江区: outside the grant's row filter
GRANTED = ["公民身份号码", "姓名", "区县", "户籍地址"]  # not 手机号码, which the provider answers too


@pytest.fixture(autouse=True)
def _closed_breakers() -> Iterator[None]:
    proxied.forget_breakers()
    yield
    proxied.forget_breakers()


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    yield from serve(ProviderServer())


@pytest.fixture
def proxied_resource(provider: Department) -> Resource:
    return testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口（部门接口）")


@pytest.fixture
def service(proxied_resource: Resource, server: ProviderServer, allow_local_sources: None) -> ProviderService:
    admin = testing.make_user(Role.CATALOG_ADMIN, department=proxied_resource.department)
    data = ProviderServiceInput(
        resource_id=proxied_resource.pk,
        base_url=server.base_url,
        operations=OPERATIONS,
        mapping=MAPPING,
        auth_kind="header",
        auth_name=API_KEY_HEADER,
        secret=API_KEY,
        timeout_seconds=1.0,
    )
    return register_provider_service(data, actor=admin)


@pytest.fixture
def proxy_grant(proxied_resource: Resource, consumer_department: Department, consumer: Consumer) -> Grant:
    return issue(
        proxied_resource,
        consumer_department,
        scenario=consumer.scenario,
        items=GRANTED,
        row_filter={"区县": ["旌阳区"]},
    )


def call(consumer: Consumer, resource: Resource, key: str = ZHANG, **extra: object) -> Answer:
    body = {"scenario": consumer.scenario.pk, "key": {"公民身份号码": key}, **extra}
    return consumer.client.post(f"/gateway/v1/resources/{resource.pk}/call", body)


def audit_text() -> str:
    rows = AuditLog.objects.values_list("action", "object_type", "object_id", "object_repr", "extra")
    return json.dumps([list(row) for row in rows], ensure_ascii=False, default=str)


def test_a_proxied_call_answers_the_granted_items_masked_and_sends_the_providers_key_to_the_provider_only(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    server: ProviderServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = call(consumer, proxied_resource)
    assert answer.status == 200, answer.body
    body = answer.json
    assert (body["grant"], body["count"], body["operation"]) == (proxy_grant.pk, 1, "person")
    row = body["rows"][0]
    assert set(row) == set(GRANTED)  # 手机号码 came from the provider, outside the grant: dropped
    assert row["区县"] == "旌阳区"
    assert row["公民身份号码"] != ZHANG and row["公民身份号码"].startswith("5106")
    assert row["姓名"] != "张三丰" and "长江西路1号" not in row["户籍地址"]
    # The provider got its key; nothing it sent or was sent leaves to the consumer, the log or the audit trail.
    [(method, path, headers)] = server.requests
    assert (method, path, headers[API_KEY_HEADER]) == ("GET", f"/people/{ZHANG}", API_KEY)
    outward = answer.body.decode() + json.dumps(answer.headers)
    for secret in (API_KEY, "13812345678", "张三丰", "db01.gaj.internal", str(server.server_address[1])):
        assert secret not in outward
    for text in (audit_text(), caplog.text):
        assert API_KEY not in text and ZHANG not in text and "张三丰" not in text
    entry = AuditLog.objects.get(action="gateway.call.proxy")
    assert (entry.object_type, entry.extra["outcome"], entry.extra["rows"]) == ("gateway.key", "OK", 1)
    assert entry.extra["items"] == sorted(GRANTED)


def test_the_stored_credential_is_encrypted_and_the_registration_audit_names_it_only_as_set(
    service: ProviderService,
) -> None:
    stored = ProviderService.objects.get(pk=service.pk).secret
    assert API_KEY not in stored and stored.startswith(crypto.PREFIX + ":")
    assert API_KEY not in audit_text()
    assert AuditLog.objects.get(action="gateway.provider.register").extra["credential"] == "已设置"


def test_an_item_outside_the_grant_is_refused_before_the_provider_is_called(
    proxied_resource: Resource, service: ProviderService, proxy_grant: Grant, consumer: Consumer, server: ProviderServer
) -> None:
    answer = call(consumer, proxied_resource, items=["姓名", "手机号码"])
    assert (answer.status, answer.code) == (403, "ITEM_NOT_GRANTED")
    assert server.requests == []


def test_a_record_outside_the_row_filter_is_dropped(
    proxied_resource: Resource, service: ProviderService, proxy_grant: Grant, consumer: Consumer
) -> None:
    answer = call(consumer, proxied_resource, key=OUYANG)
    assert (answer.status, answer.json["count"], answer.json["rows"]) == (200, 0, [])
    assert "欧阳娜娜" not in answer.body.decode()


def test_without_a_grant_the_answer_is_the_lookups_no_grant_and_the_provider_is_not_called(
    proxied_resource: Resource, service: ProviderService, consumer: Consumer, server: ProviderServer
) -> None:
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (404, "NO_GRANT")
    assert server.requests == []


def test_a_resource_without_a_provider_service_answers_not_proxied(
    proxied_resource: Resource, proxy_grant: Grant, consumer: Consumer
) -> None:
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (404, "NOT_PROXIED")


def test_a_provider_error_answers_502_without_its_text_and_is_audited_and_counted(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    server: ProviderServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.mode = "error"
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (502, "PROVIDER_UNAVAILABLE")
    for text in (answer.body.decode(), caplog.text, audit_text()):
        assert "ORA-00942" not in text and "db01" not in text and ZHANG not in text
    assert ERROR_TEXT not in caplog.text
    entry = AuditLog.objects.get(action="gateway.call.proxy")
    assert (entry.extra["outcome"], entry.extra["ok"]) == ("PROVIDER_UNAVAILABLE", False)
    service.refresh_from_db()
    assert (service.consecutive_failures, service.last_failure_code) == (1, "PROVIDER_UNAVAILABLE")
    assert service.last_failure_at is not None


def test_an_answer_that_is_no_json_answers_502(
    proxied_resource: Resource, service: ProviderService, proxy_grant: Grant, consumer: Consumer, server: ProviderServer
) -> None:
    server.mode = "badjson"
    assert (call(consumer, proxied_resource).status, call(consumer, proxied_resource).code) == (
        502,
        "PROVIDER_UNAVAILABLE",
    )


def test_a_refused_connection_answers_502(
    proxied_resource: Resource, service: ProviderService, proxy_grant: Grant, consumer: Consumer
) -> None:
    closed = ProviderServer()
    port = closed.server_address[1]
    closed.server_close()  # nothing listens on the port any more
    ProviderService.objects.filter(pk=service.pk).update(base_url=f"http://127.0.0.1:{port}")
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (502, "PROVIDER_UNAVAILABLE")


def test_a_slow_provider_answers_504_within_its_timeout(
    proxied_resource: Resource, service: ProviderService, proxy_grant: Grant, consumer: Consumer, server: ProviderServer
) -> None:
    server.mode, server.delay = "slow", 5.0
    started = time.monotonic()
    answer = call(consumer, proxied_resource)
    elapsed = time.monotonic() - started
    assert (answer.status, answer.code) == (504, "PROVIDER_TIMEOUT")
    assert "1" in answer.json["error"]["message"]
    assert 0.9 <= elapsed < 2.0  # the service's timeout is 1 s


def test_the_breaker_opens_after_consecutive_failures_answers_503_fast_then_lets_one_trial_through(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    server: ProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(proxied, "BREAKER_FAILURES", 3)
    monkeypatch.setattr(proxied, "BREAKER_COOLDOWN_SECONDS", 0.5)
    server.mode = "error"
    for _ in range(3):
        assert call(consumer, proxied_resource).code == "PROVIDER_UNAVAILABLE"
    assert len(server.requests) == 3
    assert proxied.breaker_state(service.pk) == "open"
    started = time.monotonic()
    refused = [call(consumer, proxied_resource) for _ in range(5)]
    assert {(answer.status, answer.code) for answer in refused} == {(503, "PROVIDER_CIRCUIT_OPEN")}
    assert time.monotonic() - started < 1.0
    assert len(server.requests) == 3  # the provider was not called while the breaker was open
    service.refresh_from_db()
    assert service.circuit_opened_at is not None and service.consecutive_failures == 3
    outcomes = list(AuditLog.objects.filter(action="gateway.call.proxy").values_list("extra__outcome", flat=True))
    assert outcomes.count("PROVIDER_CIRCUIT_OPEN") == 5

    time.sleep(0.6)  # the cool-down: half-open, one trial goes through
    assert proxied.breaker_state(service.pk) == "half_open"
    server.mode = "ok"
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.json["count"]) == (200, 1)
    assert len(server.requests) == 4
    assert proxied.breaker_state(service.pk) == "closed"
    service.refresh_from_db()
    assert (service.consecutive_failures, service.recovered_at is not None) == (0, True)


def test_a_failed_trial_opens_the_breaker_again(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    server: ProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(proxied, "BREAKER_FAILURES", 2)
    monkeypatch.setattr(proxied, "BREAKER_COOLDOWN_SECONDS", 0.3)
    server.mode = "error"
    for _ in range(2):
        call(consumer, proxied_resource)
    time.sleep(0.4)
    assert call(consumer, proxied_resource).code == "PROVIDER_UNAVAILABLE"  # the trial
    assert call(consumer, proxied_resource).code == "PROVIDER_CIRCUIT_OPEN"
    assert len(server.requests) == 3


def test_the_breaker_admits_one_trial_at_a_time() -> None:
    breaker = proxied.CircuitBreaker()
    for now in range(proxied.BREAKER_FAILURES):
        breaker.failed(float(now))
    assert breaker.before(10.0) > 0  # open
    later = 10.0 + proxied.BREAKER_COOLDOWN_SECONDS
    assert breaker.before(later) == 0  # the trial
    assert breaker.before(later) > 0  # a second caller while the trial is in flight
    assert breaker.succeeded() and breaker.before(later) == 0


def test_failures_spread_beyond_the_window_do_not_open_the_breaker() -> None:
    breaker = proxied.CircuitBreaker()
    for n in range(proxied.BREAKER_FAILURES * 2):
        assert not breaker.failed(n * proxied.BREAKER_WINDOW_SECONDS / 2)


def test_the_consumers_api_docs_show_the_proxied_call_with_curl_and_python(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    consumer_department: Department,
    client: Client,
) -> None:
    client.force_login(testing.make_user(Role.CONSUMER, department=consumer_department))
    page = client.get(f"/gateway/apis/{proxy_grant.pk}/").content.decode()
    assert f"/gateway/v1/resources/{proxied_resource.pk}/call" in page
    assert "curl -s -X POST" in page and "requests.post(" in page and "person" in page
    assert API_KEY not in page and service.base_url not in page  # the provider's API stays the provider's


def test_the_provider_sees_who_called_its_api(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    client: Client,
    server: ProviderServer,
) -> None:
    assert call(consumer, proxied_resource).status == 200
    server.mode = "error"
    assert call(consumer, proxied_resource).status == 502
    client.force_login(testing.make_user(Role.DEPT_REVIEWER, department=proxied_resource.department))
    page = client.get(f"/gateway/providers/{service.pk}/").content.decode()
    assert consumer.system.code in page and "PROVIDER_UNAVAILABLE" in page and "OK" in page
    assert ZHANG not in page and "张三丰" not in page
    calls = client.get("/gateway/calls/").content.decode()
    assert proxied_resource.name in calls


def test_a_spent_quota_is_refused_without_calling_the_provider(
    proxied_resource: Resource,
    service: ProviderService,
    consumer: Consumer,
    consumer_department: Department,
    server: ProviderServer,
) -> None:
    issue(proxied_resource, consumer_department, scenario=consumer.scenario, items=GRANTED, daily_quota=1)
    assert call(consumer, proxied_resource).status == 200
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (429, "QUOTA_EXCEEDED")
    assert len(server.requests) == 1


def test_an_address_no_longer_allowed_is_refused_at_call_time_without_reaching_it(
    proxied_resource: Resource,
    service: ProviderService,
    proxy_grant: Grant,
    consumer: Consumer,
    server: ProviderServer,
    settings: Any,
) -> None:
    """The base URL is judged again at every call (a name may resolve elsewhere by then; an allowance may end)."""
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_allowed_hosts": []})
    answer = call(consumer, proxied_resource)
    assert (answer.status, answer.code) == (502, "PROVIDER_UNAVAILABLE")
    assert server.requests == []
