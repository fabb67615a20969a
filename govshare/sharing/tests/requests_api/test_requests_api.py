"""Share requests over the API: the whole way from the cart to the grant, with the scopes and powers of the policy
(404 outside one's scope, 403 where one sees but may not act) and the errors of the project's error handling."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from govshare.accounts.models import User
from govshare.datasets import scopes
from govshare.sharing.choices import LineStatus, RequestStatus
from govshare.sharing.models import Grant, ShareRequestLine
from govshare.sharing.tests.requests_api.conftest import RequestWorld
from govshare.testing.api import bearer
from govshare.testing.sharing import TODAY

pytestmark = pytest.mark.django_db

BASE = "/api/sharing/requests"
ASKED = ["公民身份号码", "姓名", "区县"]

Call = Callable[..., tuple[int, Any]]


@pytest.fixture
def http() -> Call:
    """`http(user, method, path, body)` → (status, JSON answer), with a personal API token of the user."""
    headers: dict[int, dict[str, str]] = {}

    def call(user: User, method: str, path: str, body: object = None) -> tuple[int, Any]:
        if user.pk not in headers:
            headers[user.pk] = bearer(user)
        client = Client()
        if method == "GET":
            answer = client.get(path, body if isinstance(body, dict) else {}, headers=headers[user.pk])
        else:
            data = json.dumps(body if body is not None else {})
            answer = client.generic(method, path, data=data, content_type="application/json", headers=headers[user.pk])
        return answer.status_code, answer.json()

    return call


def filled_cart(http: Call, w: RequestWorld) -> dict[str, Any]:
    """The applicant's cart with the provider's resource, filled in and ready to submit."""
    status, cart = http(
        w.applicant_consumer, "POST", f"{BASE}/cart/lines", {"resource_id": w.resource.pk, "items": ASKED}
    )
    assert status == 201, cart
    details = {
        "scenario_id": w.scenario.pk,
        "system_id": w.system.pk,
        "purpose": "参保登记时核验参保人身份",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=365)).isoformat(),
    }
    status, cart = http(w.applicant_consumer, "PUT", f"{BASE}/{cart['id']}", details)
    assert status == 200, cart
    return cart  # type: ignore[no-any-return]


def submitted_line(http: Call, w: RequestWorld) -> dict[str, Any]:
    cart = filled_cart(http, w)
    status, submitted = http(w.applicant_consumer, "POST", f"{BASE}/{cart['id']}/submit")
    assert status == 200, submitted
    return submitted["lines"][0]  # type: ignore[no-any-return]


def refused_line(http: Call, w: RequestWorld) -> dict[str, Any]:
    line = submitted_line(http, w)
    status, answer = http(
        w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/refuse", {"reason": "该场景无需户籍信息"}
    )
    assert status == 200, answer
    return line


def two_coordinator_stages(http: Call, w: RequestWorld) -> None:
    stages = [
        {"name": "合规审查", "reviewer": "coordinator", "working_days": 3},
        {"name": "安全审查", "reviewer": "coordinator", "working_days": 3},
        {"name": "提供部门审核", "reviewer": "provider", "working_days": 10},
    ]
    status, answer = http(w.coordinator, "PUT", f"{BASE}/stages", stages)
    assert status == 200, answer


# ------------------------------------------------------------------------------------------ the whole way


def test_apply_submit_and_the_provider_approves_a_part_which_issues_the_grant(
    http: Call, share_world: RequestWorld
) -> None:
    w = share_world
    line = submitted_line(http, w)
    assert line["status"] == "review" and line["stage_name"] == "提供部门审核"
    assert line["urgency"] == "剩余 10 个工作日" and line["deadline_problem"] == ""

    status, queue = http(w.provider_reviewer, "GET", f"{BASE}/review-queue")
    assert status == 200 and [(q["id"], q["may_decide"]) for q in queue["items"]] == [(line["id"], True)]

    decision = {"items": ["公民身份号码", "姓名"], "reason": "区县不在场景所需范围内", "conditions": "仅用于核验"}
    status, answer = http(w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/approve", decision)
    assert status == 200, answer
    decided = answer["lines"][0]
    assert decided["status"] == "partial" and decided["approved_items"] == ["公民身份号码", "姓名"]
    assert answer["status"] == "closed"
    grant = Grant.objects.get(pk=decided["grant_id"])
    assert (grant.department_id, grant.resource_id, grant.items) == (w.applicant.pk, w.resource.pk, decision["items"])
    status, seen = http(w.applicant_consumer, "GET", f"/api/sharing/grants/{grant.pk}")
    assert status == 200 and seen["conditions"] == "仅用于核验"


def test_the_request_shows_its_history_to_the_applicant(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    status, answer = http(w.applicant_consumer, "GET", f"{BASE}/{line['request_id']}")
    assert status == 200 and answer["number"] and answer["status"] == "review"
    assert [event["action"] for event in answer["history"]] == ["add", "edit", "submit"]


def test_the_cart_is_null_until_a_resource_is_added_and_empty_once_it_is_removed(
    http: Call, share_world: RequestWorld
) -> None:
    w = share_world
    assert http(w.applicant_consumer, "GET", f"{BASE}/cart") == (200, None)
    status, cart = http(w.applicant_consumer, "POST", f"{BASE}/cart/lines", {"resource_id": w.resource.pk})
    assert status == 201 and cart["status"] == "draft"
    assert cart["lines"][0]["items"] == ["公民身份号码", "姓名", "手机号码", "区县", "户籍地址"]  # not 宗教信仰
    status, answer = http(w.applicant_consumer, "DELETE", f"{BASE}/cart/lines/{cart['lines'][0]['id']}")
    assert status == 200 and answer["lines"] == []
    status, answer = http(w.applicant_consumer, "GET", f"{BASE}/cart")
    assert status == 200 and answer["id"] == cart["id"] and answer["lines"] == []


def test_an_incomplete_request_is_not_submitted_and_each_missing_field_is_named(
    http: Call, share_world: RequestWorld
) -> None:
    w = share_world
    _, cart = http(w.applicant_consumer, "POST", f"{BASE}/cart/lines", {"resource_id": w.resource.pk})
    status, answer = http(w.applicant_consumer, "POST", f"{BASE}/{cart['id']}/submit")
    assert status == 422
    assert {"scenario_id", "system_id", "purpose", "valid_until"} <= {e["field"] for e in answer["errors"]}


def test_lists_show_the_applicant_its_own_requests_and_the_provider_those_asking_its_data(
    http: Call, share_world: RequestWorld
) -> None:
    w = share_world
    line = submitted_line(http, w)
    status, mine = http(w.applicant_consumer, "GET", BASE, {"side": "mine"})
    assert status == 200 and [r["id"] for r in mine["items"]] == [line["request_id"]] and mine["total"] == 1
    status, asked = http(w.provider_reviewer, "GET", BASE, {"side": "provider"})
    assert status == 200 and [r["id"] for r in asked["items"]] == [line["request_id"]]
    assert http(w.provider_reviewer, "GET", BASE, {"side": "mine"})[1]["items"] == []
    assert http(w.applicant_consumer, "GET", BASE, {"side": "theirs"})[0] == 422


# ------------------------------------------------------------------------------------------ refusals


def test_a_refusal_without_a_reason_answers_422_naming_the_field(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    status, answer = http(w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/refuse", {"reason": "  "})
    assert status == 422
    assert answer["errors"] == [{"field": "reason", "message": "请填写拒绝理由"}]
    assert ShareRequestLine.objects.get(pk=line["id"]).status == LineStatus.IN_REVIEW


def test_another_departments_request_and_its_lines_answer_404(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    assert http(w.stranger, "GET", f"{BASE}/{line['request_id']}")[0] == 404
    assert http(w.stranger, "POST", f"{BASE}/{line['request_id']}/withdraw", {"reason": "不要了"})[0] == 404
    assert http(w.stranger, "POST", f"{BASE}/lines/{line['id']}/approve", {"items": ASKED})[0] == 404
    assert http(w.stranger, "POST", f"{BASE}/lines/{line['id']}/dispute", {"reason": "异议"})[0] == 404
    assert http(w.stranger, "GET", BASE)[1]["items"] == []
    assert ShareRequestLine.objects.get(pk=line["id"]).status == LineStatus.IN_REVIEW


def test_anothers_cart_line_answers_404(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    _, cart = http(w.applicant_consumer, "POST", f"{BASE}/cart/lines", {"resource_id": w.resource.pk})
    line_id = cart["lines"][0]["id"]
    assert http(w.provider_reviewer, "DELETE", f"{BASE}/cart/lines/{line_id}")[0] == 404  # a draft: not theirs yet
    assert ShareRequestLine.objects.filter(pk=line_id).exists()


def test_the_applicant_cannot_decide_its_own_line(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    for user in (w.applicant_consumer, w.applicant_reviewer):
        status, answer = http(user, "POST", f"{BASE}/lines/{line['id']}/approve", {"items": ASKED})
        assert status == 403, answer
        assert answer["detail"] == "该申请当前环节不由您审核"
    assert ShareRequestLine.objects.get(pk=line["id"]).grant_id is None


def test_a_line_decided_by_someone_else_meanwhile_answers_409(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    assert http(w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/approve", {"items": ASKED})[0] == 200
    status, answer = http(w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/refuse", {"reason": "不同意"})
    assert status == 409 and "已由他人处理" in answer["detail"]
    assert Grant.objects.count() == 1


# ------------------------------------------------------------------------------------------ stages


def test_a_decision_for_a_stage_already_passed_answers_409(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    two_coordinator_stages(http, w)
    line = submitted_line(http, w)
    assert (line["stage_index"], line["stage_name"]) == (0, "合规审查")
    status, answer = http(w.coordinator, "POST", f"{BASE}/lines/{line['id']}/pass", {"stage_index": 0})
    assert status == 200 and answer["lines"][0]["stage_name"] == "安全审查"
    status, answer = http(w.second_coordinator, "POST", f"{BASE}/lines/{line['id']}/pass", {"stage_index": 0})
    assert status == 409 and answer["detail"] == "该申请已进入下一环节，请刷新后再办理"
    assert ShareRequestLine.objects.get(pk=line["id"]).stage_index == 1


def test_the_provider_waits_for_the_coordinators_stage(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    two_coordinator_stages(http, w)
    line = submitted_line(http, w)
    assert http(w.provider_reviewer, "GET", f"{BASE}/review-queue")[1]["items"] == []
    assert http(w.provider_reviewer, "POST", f"{BASE}/lines/{line['id']}/approve", {"items": ASKED})[0] == 403


def test_review_stages_are_the_coordinators_to_set_and_checked(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    provider_only = [{"name": "提供部门审核", "reviewer": "provider", "working_days": 5}]
    assert http(w.applicant_consumer, "PUT", f"{BASE}/stages", provider_only)[0] == 403
    status, answer = http(
        w.coordinator, "PUT", f"{BASE}/stages", [{"name": "合规审查", "reviewer": "coordinator", "working_days": 3}]
    )
    assert status == 422 and {e["field"] for e in answer["errors"]} == {"stages"}
    assert http(w.coordinator, "PUT", f"{BASE}/stages", provider_only)[0] == 200
    assert http(w.applicant_consumer, "GET", f"{BASE}/stages") == (
        200,
        [{"name": "提供部门审核", "reviewer": "provider", "working_days": 5}],
    )


def test_an_overdue_line_is_listed_for_the_coordinator_with_its_lateness(
    http: Call, share_world: RequestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = share_world
    line = submitted_line(http, w)  # due 2026-03-16, ten working days after 2026-03-02
    monkeypatch.setattr(scopes, "clock", lambda: dt.date(2026, 3, 18))
    status, answer = http(w.coordinator, "GET", f"{BASE}/overdue")
    assert status == 200 and [(o["id"], o["urgency"]) for o in answer["overdue"]] == [(line["id"], "已逾期 2 个工作日")]
    assert http(w.applicant_consumer, "GET", f"{BASE}/overdue") == (200, {"overdue": [], "disputed": []})


# ------------------------------------------------------------------------------------------ disputes


def test_a_disputed_refusal_is_overruled_by_a_coordinator_which_issues_the_grant(
    http: Call, share_world: RequestWorld
) -> None:
    w = share_world
    line = refused_line(http, w)
    status, answer = http(w.applicant_consumer, "POST", f"{BASE}/lines/{line['id']}/dispute", {"reason": "条例有规定"})
    assert status == 200 and answer["lines"][0]["status"] == "disputed"
    status, listed = http(w.coordinator, "GET", f"{BASE}/overdue")
    assert [d["id"] for d in listed["disputed"]] == [line["id"]]
    assert (
        http(w.applicant_consumer, "POST", f"{BASE}/lines/{line['id']}/arbitrate", {"uphold": False, "note": "改"})[0]
        == 403
    )
    verdict = {"uphold": False, "note": "依条例应予共享", "items": ["公民身份号码"]}
    status, answer = http(w.coordinator, "POST", f"{BASE}/lines/{line['id']}/arbitrate", verdict)
    assert status == 200, answer
    arbitrated = answer["lines"][0]
    assert arbitrated["status"] == "partial" and arbitrated["arbitration_note"] == "依条例应予共享"
    assert Grant.objects.get(pk=arbitrated["grant_id"]).items == ["公民身份号码"]
    assert answer["status"] == RequestStatus.CLOSED


def test_a_decision_is_disputed_only_once(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = refused_line(http, w)
    http(w.applicant_consumer, "POST", f"{BASE}/lines/{line['id']}/dispute", {"reason": "条例有规定"})
    http(w.coordinator, "POST", f"{BASE}/lines/{line['id']}/arbitrate", {"uphold": True, "note": "维持"})
    status, answer = http(w.applicant_consumer, "POST", f"{BASE}/lines/{line['id']}/dispute", {"reason": "再议"})
    assert status == 409 and "不能再次提出" in answer["detail"]


def test_withdrawal_stops_the_lines_in_review(http: Call, share_world: RequestWorld) -> None:
    w = share_world
    line = submitted_line(http, w)
    status, answer = http(w.applicant_consumer, "POST", f"{BASE}/{line['request_id']}/withdraw", {"reason": "不再需要"})
    assert status == 200 and answer["status"] == "withdrawn" and answer["lines"][0]["status"] == "withdrawn"
    assert http(w.provider_reviewer, "GET", f"{BASE}/review-queue")[1]["items"] == []
