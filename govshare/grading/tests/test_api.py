"""The grading API: every answer for the right and the wrong people (401, 403, 404, 409, 422)."""

from __future__ import annotations

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import services as catalog_services
from govshare.catalog.rules import ItemDraft
from govshare.grading import services
from govshare.testing.api import bearer


def post(user, path: str, payload: dict[str, object]):  # type: ignore[no-untyped-def]
    return Client().post(path, payload, content_type="application/json", headers=bearer(user))


def proposal(resource, **values: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {"resource_id": resource.pk, "to_grade": "important", "to_level": "L3", "reason": "含个人信息", **values}


def pending(resource, user):  # type: ignore[no-untyped-def]
    return services.propose_grading_change(
        resource, to_grade="important", to_level="L3", reason="含个人信息", actor=user
    )


@pytest.mark.django_db
def test_anonymous_callers_get_401(published) -> None:
    assert Client().get("/api/grading/changes").status_code == 401
    response = Client().post("/api/grading/changes", proposal(published), content_type="application/json")
    assert response.status_code == 401


@pytest.mark.django_db
def test_catalogue_admin_proposes(catalog_admin, published) -> None:
    response = post(catalog_admin, "/api/grading/changes", proposal(published))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["resource_code"], body["from_grade"], body["to_level"]) == (
        "pending",
        published.code,
        "general",
        "L3",
    )


@pytest.mark.django_db
def test_another_department_gets_403_on_a_published_entry(outsider, published) -> None:
    response = post(outsider, "/api/grading/changes", proposal(published))
    assert response.status_code == 403
    assert response.json()["detail"] == "只有资源所属部门的目录管理员可以申请调整分级"


@pytest.mark.django_db
def test_another_departments_draft_answers_404(outsider, catalog_admin, department) -> None:
    draft = catalog_services.create_resource(testing.resource_draft(department), actor=catalog_admin)
    assert post(outsider, "/api/grading/changes", proposal(draft)).status_code == 404


@pytest.mark.django_db
def test_a_bad_proposal_answers_422_naming_the_fields(catalog_admin, published) -> None:
    response = post(catalog_admin, "/api/grading/changes", proposal(published, to_level="L9", reason=""))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"to_level", "reason"}


@pytest.mark.django_db
def test_a_second_pending_proposal_answers_409(catalog_admin, published) -> None:
    pending(published, catalog_admin)
    assert post(catalog_admin, "/api/grading/changes", proposal(published)).status_code == 409


@pytest.mark.django_db
def test_security_officer_approves(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    response = post(security_officer, f"/api/grading/changes/{change.pk}/approve", {"note": "同意"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["review_note"]) == ("approved", "同意")
    published.refresh_from_db()
    assert published.grade == "important"


@pytest.mark.django_db
def test_the_proposer_may_not_approve_403(catalog_admin, published) -> None:
    change = pending(published, catalog_admin)
    assert post(catalog_admin, f"/api/grading/changes/{change.pk}/approve", {}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", ["outsider", "platform_admin"])
def test_people_outside_the_change_get_404(request, catalog_admin, published, fixture) -> None:
    change = pending(published, catalog_admin)
    user = request.getfixturevalue(fixture)
    assert Client().get(f"/api/grading/changes/{change.pk}", headers=bearer(user)).status_code == 404
    assert post(user, f"/api/grading/changes/{change.pk}/approve", {}).status_code == 404
    assert post(user, f"/api/grading/changes/{change.pk}/reject", {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_rejecting_needs_a_reason(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    response = post(security_officer, f"/api/grading/changes/{change.pk}/reject", {"reason": " "})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "reason", "message": "驳回必须填写理由"}]
    response = post(security_officer, f"/api/grading/changes/{change.pk}/reject", {"reason": "依据不足"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"


@pytest.mark.django_db
def test_review_queue_is_the_security_officers(catalog_admin, security_officer, published) -> None:
    pending(published, catalog_admin)
    queue = Client().get("/api/grading/review-queue", headers=bearer(security_officer)).json()
    assert queue["total"] == 1
    assert Client().get("/api/grading/review-queue", headers=bearer(catalog_admin)).json()["total"] == 0


@pytest.mark.django_db
def test_the_department_lists_its_changes_with_their_outcome(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    services.reject_grading_change(change, reason="依据不足", actor=security_officer)
    body = Client().get("/api/grading/changes?status=rejected", headers=bearer(catalog_admin)).json()
    assert [(c["id"], c["review_note"]) for c in body["items"]] == [(change.pk, "依据不足")]


@pytest.mark.django_db
def test_resource_grading_names_co_approval_and_masking(department) -> None:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, grade="important", data_level="L3"),
        ItemDraft(name="出生日期", data_type="D"),
    ]
    resource = testing.make_published_resource(department, items=items)
    consumer = testing.make_user(Role.CONSUMER, department=testing.make_department())
    body = Client().get(f"/api/grading/resources/{resource.pk}", headers=bearer(consumer)).json()
    assert body["needs_security_co_approval"] is True
    assert {i["name"]: i["masking_rule"] for i in body["items"]} == {"公民身份号码": "id_number", "出生日期": None}


@pytest.mark.django_db
def test_an_id_beyond_any_database_integer_answers_422(catalog_admin) -> None:
    too_big = 2**64
    payload = {"resource_id": too_big, "to_grade": "core", "to_level": "L4", "reason": "x"}
    response = post(catalog_admin, "/api/grading/changes", payload)
    assert response.status_code == 422
    listing = Client().get(f"/api/grading/changes?resource_id={too_big}", headers=bearer(catalog_admin))
    assert listing.status_code == 422
