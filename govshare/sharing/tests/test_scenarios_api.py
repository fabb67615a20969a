"""The scenario API: the same powers and scopes as the pages, with explicit auth on every route."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from govshare.accounts.models import User
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario
from govshare.testing import scenarios as h
from govshare.testing.api import bearer
from govshare.testing.scenarios import ScenarioWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ScenarioWorld:
    return h.build()


def call(user: User, method: str, path: str, body: object = None) -> tuple[int, object]:
    client = Client()
    headers = bearer(user)
    if method == "GET":
        answer = client.get(path, body if isinstance(body, dict) else {}, headers=headers)
    else:
        answer = client.generic(
            method, path, data=json.dumps(body or {}), content_type="application/json", headers=headers
        )
    return answer.status_code, answer.json()


def body(world: ScenarioWorld, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "name": "医保参保人员身份核验",
        "description": "参保登记时核验身份。",
        "legal_basis": "《社会保险法》第五十八条",
        "system_ids": [world.ybj_system.pk],
        "needed_items": ["公民身份号码", "姓名"],
    }
    values.update(overrides)
    return values


def test_register_submit_approve_through_the_api(world: ScenarioWorld) -> None:
    status, created = call(world.ybj_consumer, "POST", "/api/sharing/scenarios", body(world))
    assert status == 201, created
    assert isinstance(created, dict) and created["status"] == "draft" and created["department_code"] == world.ybj.code
    pk = created["id"]
    assert call(world.ybj_consumer, "POST", f"/api/sharing/scenarios/{pk}/submit")[0] == 200
    status, queue = call(world.coordinator, "GET", "/api/sharing/scenarios/review-queue")
    assert status == 200 and isinstance(queue, dict) and [s["id"] for s in queue["items"]] == [pk]
    status, approved = call(world.coordinator, "POST", f"/api/sharing/scenarios/{pk}/approve", {"note": "同意"})
    assert status == 200 and isinstance(approved, dict)
    assert approved["status"] == "approved" and approved["usable"] is True
    assert [e["action"] for e in approved["history"]] == ["register", "submit", "approve"]
    status, citable = call(world.ybj_consumer, "GET", "/api/sharing/scenarios/citable")
    assert isinstance(citable, dict) and [s["id"] for s in citable["items"]] == [pk]


def test_a_rejection_without_a_reason_is_refused(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    status, answer = call(world.coordinator, "POST", f"/api/sharing/scenarios/{scenario.pk}/reject", {"reason": " "})
    assert status == 422, answer
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.SUBMITTED


def test_attack_other_departments_get_404_and_the_department_gets_403_approving(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    for user in (world.other_consumer, world.other_admin, world.auditor):
        assert call(user, "GET", f"/api/sharing/scenarios/{scenario.pk}")[0] == 404
        assert call(user, "POST", f"/api/sharing/scenarios/{scenario.pk}/approve", {})[0] == 404
    assert call(world.ybj_admin, "POST", f"/api/sharing/scenarios/{scenario.pk}/approve", {})[0] == 403
    assert call(world.coordinator, "PUT", f"/api/sharing/scenarios/{scenario.pk}", body(world, name="改"))[0] == 403


def test_attack_citing_another_departments_system_is_refused(world: ScenarioWorld) -> None:
    status, answer = call(
        world.ybj_consumer, "POST", "/api/sharing/scenarios", body(world, system_ids=[world.other_system.pk])
    )
    assert status == 422 and world.other_system.name not in str(answer)
    assert not Scenario.objects.exists()


def test_a_person_without_a_department_cannot_register(world: ScenarioWorld) -> None:
    assert call(world.platform, "POST", "/api/sharing/scenarios", body(world))[0] == 403


def test_item_names_are_offered(world: ScenarioWorld) -> None:
    status, names = call(world.ybj_consumer, "GET", "/api/sharing/scenarios/item-names", {"search": "身份"})
    assert status == 200 and names == []


def test_the_list_refuses_an_unknown_status(world: ScenarioWorld) -> None:
    assert call(world.ybj_consumer, "GET", "/api/sharing/scenarios", {"status": "nonsense"})[0] == 422
