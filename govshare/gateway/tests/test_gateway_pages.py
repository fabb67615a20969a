"""The gateway's pages: 我的接口 with each grant's generated API documentation for the consumer department, 调用情况
for the provider, and 按查询键追溯 for the auditor alone — whose search finds every call for a key and leaves the key
nowhere in the trail."""

from __future__ import annotations

import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import serializers
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.audit.services import AuditEntry, record_entries
from govshare.catalog.models import Resource
from govshare.gateway import selectors
from govshare.gateway.handler import with_gateway
from govshare.gateway.services import key_hash
from govshare.gateway.tests.conftest import GRANTED
from govshare.gateway.tracing import TRACE_ACTION
from govshare.sharing.models import Grant
from govshare.testing.gateway import Consumer
from govshare.testing.sharing import TODAY, issue

ZHANG = "510603199001010011"
WITH_X = "51060319900101001X"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


@pytest.fixture
def consumer_user(consumer_department: Department) -> User:
    return testing.make_user(Role.CONSUMER, department=consumer_department)


@pytest.fixture
def provider_reviewer(provider: Department) -> User:
    return testing.make_user(Role.DEPT_REVIEWER, department=provider)


@pytest.fixture
def auditor(db: None) -> User:
    return testing.make_user(Role.AUDITOR)


def lookup(consumer: Consumer, people: Resource, key: str, **extra: Any) -> None:
    consumer.client.lookup(people, {"scenario": consumer.scenario.pk, "key": {"公民身份号码": key}, **extra})


# --- 我的接口 -------------------------------------------------------------------------------------------------------


def test_the_consumer_sees_its_departments_callable_grant(consumer_user: User, grant: Grant) -> None:
    page = text(signed_in(consumer_user).get("/gateway/apis/"))
    assert f"/gateway/apis/{grant.pk}/" in page
    assert grant.scenario.name in page and "区县 ∈ 旌阳区" in page
    assert "户籍地址（地址（保留到区县））" in page


def test_a_grant_whose_scenario_has_no_system_is_not_listed(
    consumer_user: User, people: Resource, consumer_department: Department
) -> None:
    without_system = issue(people, consumer_department)
    assert list(selectors.api_grants(consumer_user)) == []
    assert f"/gateway/apis/{without_system.pk}/" not in text(signed_in(consumer_user).get("/gateway/apis/"))


def test_the_docs_name_the_real_endpoints_keys_and_items(consumer_user: User, people: Resource, grant: Grant) -> None:
    page = text(signed_in(consumer_user).get(f"/gateway/apis/{grant.pk}/"))
    lookup_url = f"http://testserver/gateway/v1/resources/{people.pk}/lookup"
    assert f"curl -s -X POST &#x27;{lookup_url}&#x27;" in page
    assert f"answer = requests.post(&#x27;{lookup_url}&#x27;" in page
    assert "http://testserver/o/token/" in page and "client_credentials" in page
    assert f"/gateway/v1/resources/{people.pk}/verify" in page
    assert "<code>公民身份号码</code>" in page  # the resource's key, within the grant
    assert f"&quot;scenario&quot;: {grant.scenario_id}" in page
    assert "&quot;items&quot;: [\n    &quot;姓名&quot;,\n    &quot;区县&quot;,\n    &quot;户籍地址&quot;\n  ]" in page


def test_the_examples_hold_placeholders_never_data(consumer_user: User, people: Resource, grant: Grant) -> None:
    page = text(signed_in(consumer_user).get(f"/gateway/apis/{grant.pk}/"))
    assert "&lt;公民身份号码&gt;" in page
    for value in (ZHANG, "张三丰", "长江西路", "四川省德阳市"):
        assert value not in page


def test_the_docs_list_the_error_catalogue(consumer_user: User, grant: Grant) -> None:
    page = text(signed_in(consumer_user).get(f"/gateway/apis/{grant.pk}/"))
    for code in ("SCENARIO_REQUIRED", "NO_GRANT", "ITEM_NOT_GRANTED", "QUOTA_EXCEEDED"):
        assert f"<code>{code}</code>" in page


def test_the_docs_count_the_calls_of_the_day_and_the_refusals_per_outcome(
    consumer_user: User, people: Resource, consumer: Consumer, grant: Grant
) -> None:
    lookup(consumer, people, ZHANG)
    lookup(consumer, people, ZHANG)
    lookup(consumer, people, ZHANG, items=["手机号码"])
    usage = selectors.daily_calls([grant.pk], TODAY)[grant.pk]
    assert (len(usage), usage[-1].day, usage[-1].calls, usage[0].calls) == (14, TODAY, 2, 0)
    response = signed_in(consumer_user).get(f"/gateway/apis/{grant.pk}/")
    refusals = response.context["refusals"]
    assert (refusals.by_outcome, refusals.capped) == ([("ITEM_NOT_GRANTED", 1)], False)
    assert f"<tr><td>{TODAY:%Y-%m-%d}</td><td>2</td></tr>" in text(response)


def test_the_docs_page_is_not_kept_by_a_cache(consumer_user: User, grant: Grant) -> None:
    response = signed_in(consumer_user).get(f"/gateway/apis/{grant.pk}/")
    assert response.headers["Cache-Control"] == "no-store"


def test_another_departments_grant_answers_404(grant: Grant, db: None) -> None:
    stranger = testing.make_user(Role.CONSUMER, department=testing.make_department("市民政局"))
    assert signed_in(stranger).get(f"/gateway/apis/{grant.pk}/").status_code == 404


def test_the_provider_does_not_read_the_consumers_docs(provider_reviewer: User, grant: Grant) -> None:
    assert signed_in(provider_reviewer).get(f"/gateway/apis/{grant.pk}/").status_code == 404


def test_a_reviewer_without_the_consumer_role_has_no_api_list(consumer_department: Department) -> None:
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=consumer_department)
    assert signed_in(reviewer).get("/gateway/apis/").status_code == 403


# --- 调用情况 -------------------------------------------------------------------------------------------------------


def test_the_provider_sees_who_calls_its_resource(
    provider_reviewer: User, people: Resource, consumer: Consumer, grant: Grant
) -> None:
    lookup(consumer, people, ZHANG)
    response = signed_in(provider_reviewer).get("/gateway/calls/")
    [row] = response.context["rows"]
    assert (row["grant"].pk, row["total"], row["usage"][-1].calls) == (grant.pk, 1, 1)
    page = text(response)
    assert "市医保局" in page and consumer.scenario.name in page and consumer.system.name in page


def test_the_consumer_department_does_not_see_the_providers_calls(consumer_user: User, grant: Grant) -> None:
    assert signed_in(consumer_user).get("/gateway/calls/").status_code == 403


def test_another_provider_sees_none_of_the_calls(grant: Grant, db: None) -> None:
    other = testing.make_user(Role.DEPT_REVIEWER, department=testing.make_department("市民政局"))
    assert signed_in(other).get("/gateway/calls/").context["rows"] == []


# --- 按查询键追溯 ----------------------------------------------------------------------------------------------------


def test_the_auditor_finds_every_call_for_a_key_whatever_the_case_of_its_x(
    auditor: User, people: Resource, consumer: Consumer, grant: Grant
) -> None:
    lookup(consumer, people, WITH_X)
    lookup(consumer, people, WITH_X.lower())
    lookup(consumer, people, ZHANG)
    for asked in (WITH_X, WITH_X.lower(), f"  {WITH_X.lower()} "):
        response = signed_in(auditor).post("/gateway/key-search/", {"key": asked})
        assert response.context["page"].total == 2, asked


def test_the_trace_names_each_calls_system_service_outcome_and_request(
    auditor: User, people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    issue(people, consumer_department, scenario=consumer.scenario, items=GRANTED, daily_quota=1)
    body = {"scenario": consumer.scenario.pk, "key": {"公民身份号码": ZHANG}}
    answer = consumer.client.lookup(people, body)
    refused = consumer.client.verify(people, {**body, "values": {"姓名": "张三丰"}})
    response = signed_in(auditor).post("/gateway/key-search/", {"key": ZHANG})
    newest, oldest = response.context["page"].items
    assert (newest.action, newest.extra["request_id"]) == ("gateway.call.verify", refused.json["request_id"])
    assert newest.extra["outcome"] == "QUOTA_EXCEEDED"
    assert (oldest.extra["request_id"], oldest.extra["rows"], oldest.extra["ok"]) == (
        answer.json["request_id"],
        1,
        True,
    )
    page = text(response)
    assert consumer.system.code in page and answer.json["request_id"] in page and "QUOTA_EXCEEDED" in page


def test_the_key_never_reaches_the_audit_trail_after_a_search(
    auditor: User, people: Resource, consumer: Consumer, grant: Grant
) -> None:
    lookup(consumer, people, ZHANG)
    signed_in(auditor).post("/gateway/key-search/", {"key": ZHANG})
    [search] = AuditLog.objects.filter(action=TRACE_ACTION)
    assert (search.actor_id, search.extra["found"]) == (auditor.pk, 1)
    trail = json.dumps(json.loads(serializers.serialize("json", AuditLog.objects.all())), ensure_ascii=False)
    assert ZHANG not in trail and "5106031990" not in trail


def test_the_trace_page_is_not_kept_by_a_cache(auditor: User, db: None) -> None:
    response = signed_in(auditor).post("/gateway/key-search/", {"key": ZHANG})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_an_empty_key_is_refused_with_a_reason_and_not_searched(auditor: User) -> None:
    response = signed_in(auditor).post("/gateway/key-search/", {"key": "   "})
    assert response.context["problems"] == ["请输入查询键，例如公民身份号码"]
    assert not AuditLog.objects.filter(action=TRACE_ACTION).exists()


def test_an_overlong_key_is_refused_with_a_reason(auditor: User) -> None:
    response = signed_in(auditor).post("/gateway/key-search/", {"key": "1" * 201})
    assert response.context["problems"] == ["查询键应为 1–200 个字符的文本"]


def test_a_key_of_several_items_is_found_from_its_values_in_any_order(auditor: User, people: Resource) -> None:
    """The hash follows the resource's key items' order (姓名, then 出生日期 here), which the auditor need not know."""
    with transaction.atomic():
        record_entries(
            [
                AuditEntry(
                    "system:ybj-hy",
                    "gateway.call.lookup",
                    "gateway.key",
                    key_hash(("张三", "1990-01-01")),
                    f"信息资源 {people.pk}",
                    {"request_id": "r1", "system": "ybj-hy", "resource": people.pk, "rows": 1, "ok": True},
                )
            ]
        )
    for typed in ("张三\n1990-01-01", "1990-01-01\r\n 张三 \n\n"):
        response = signed_in(auditor).post("/gateway/key-search/", {"key": typed})
        assert response.context["page"].total == 1, typed
    response = signed_in(auditor).post("/gateway/key-search/", {"key": "张三"})
    assert response.context["page"].total == 0


def test_a_key_of_more_than_four_values_is_refused_with_a_reason(auditor: User) -> None:
    response = signed_in(auditor).post("/gateway/key-search/", {"key": "1\n2\n3\n4\n5"})
    assert response.context["problems"] == ["由多个信息项组成的查询键最多 4 个值，每行一个"]


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER])
def test_only_the_auditor_may_trace_a_key(role: str, db: None) -> None:
    client = signed_in(testing.make_user(role))
    assert client.get("/gateway/key-search/").status_code == 403
    assert client.post("/gateway/key-search/", {"key": ZHANG}).status_code == 403
    assert not AuditLog.objects.filter(action=TRACE_ACTION).exists()


def test_the_audit_log_links_the_auditor_to_the_trace(auditor: User) -> None:
    assert 'href="/gateway/key-search/"' in text(signed_in(auditor).get("/audit/"))


# --- where the pages are served -------------------------------------------------------------------------------


def _through_platform(path: str) -> tuple[str, dict[str, str]]:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.update(status=status, headers=dict(headers))

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80"}
    setup_testing_defaults(environ)
    b"".join(with_gateway(WSGIHandler())(environ, start_response))
    return str(started["status"]), started["headers"]


def test_the_pages_are_djangos_and_the_service_the_gateways(db: None) -> None:
    status, headers = _through_platform("/gateway/apis/")
    assert status.startswith("302") and "/login/" in headers["Location"]
    status, headers = _through_platform("/gateway/v1/errors")
    assert status.startswith("200") and "X-Request-Id" in headers


def test_the_navigation_offers_the_consumer_its_apis(consumer_user: User) -> None:
    assert 'href="/gateway/apis/"' in text(signed_in(consumer_user).get("/"))
