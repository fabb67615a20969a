"""The grant pages and API as each party uses them: the consumer's 我的授权 with a way to its data, the provider's
view of who uses its data (scenario and system), the reviewer's revoke and confirm, the auditor reading only, the
home reminder of grants due for review."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.identity.models import InformationSystem
from govshare.sharing.models import Grant
from govshare.testing.api import bearer
from govshare.testing.sharing import TODAY, issue, loaded_resource, make_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def resource(provider: Department, tmp_path: Path) -> Resource:
    return loaded_resource(provider, tmp_path)


@pytest.fixture
def grant(resource: Resource, consumer_department: Department, provider_reviewer: User) -> Grant:
    scenario = make_scenario(consumer_department)
    system = InformationSystem.objects.create(
        code="ybj-core", department=consumer_department, name="医保核心业务系统", purpose="参保登记"
    )
    scenario.systems.add(system)
    return issue(resource, consumer_department, scenario=scenario, actor=provider_reviewer)


def _page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_consumer_sees_its_grant_and_reaches_the_masked_data_from_it(grant: Grant, consumer: User) -> None:
    page = _page(consumer)
    listing = page.get("/sharing/grants/?side=consumer").content.decode()
    assert grant.resource.name in listing and grant.scenario.name in listing
    detail = page.get(f"/sharing/grants/{grant.pk}/").content.decode()
    assert f"/datasets/resources/{grant.resource_id}/preview/?grant={grant.pk}" in detail
    assert 'id="revoke"' not in detail and 'id="confirm"' not in detail
    preview = page.get(f"/datasets/resources/{grant.resource_id}/preview/", {"grant": grant.pk}).content.decode()
    assert "510603********0011" in preview and "510603199001010011" not in preview
    assert "按共享授权读取" in preview
    resource_page = page.get(f"/catalog/resources/{grant.resource_id}/").content.decode()
    assert f"?grant={grant.pk}" in resource_page


def test_the_provider_sees_who_uses_its_data_for_which_scenario_through_which_system(
    grant: Grant, provider: Department
) -> None:
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=provider)
    listing = _page(colleague).get("/sharing/grants/?side=provider").content.decode()
    assert "市医保局" in listing and grant.scenario.name in listing and "医保核心业务系统" in listing


def test_the_provider_s_reviewer_confirms_and_revokes_on_the_page(grant: Grant, provider_reviewer: User) -> None:
    page = _page(provider_reviewer)
    detail = page.get(f"/sharing/grants/{grant.pk}/").content.decode()
    assert 'id="revoke"' in detail and 'id="confirm"' in detail
    assert page.post(f"/sharing/grants/{grant.pk}/confirm/", {"note": "仍需使用"}).status_code == 302
    assert page.post(f"/sharing/grants/{grant.pk}/revoke/", {"reason": ""}).status_code == 302
    grant.refresh_from_db()
    assert grant.status == "active"  # no reason, no revocation
    page.post(f"/sharing/grants/{grant.pk}/revoke/", {"reason": "业务已调整"})
    grant.refresh_from_db()
    assert grant.status == "revoked" and grant.revoke_reason == "业务已调整"


def test_the_auditor_reads_every_grant_and_changes_none(grant: Grant) -> None:
    auditor = testing.make_user(Role.AUDITOR)
    page = _page(auditor)
    assert grant.resource.name in page.get("/sharing/grants/?side=all").content.decode()
    detail = page.get(f"/sharing/grants/{grant.pk}/").content.decode()
    assert 'id="revoke"' not in detail
    page.post(f"/sharing/grants/{grant.pk}/revoke/", {"reason": "审计员试图撤销"})
    grant.refresh_from_db()
    assert grant.status == "active"
    refused = Client().post(
        f"/api/sharing/grants/{grant.pk}/revoke",
        json.dumps({"reason": "审计员试图撤销"}),
        content_type="application/json",
        headers=bearer(auditor),
    )
    assert refused.status_code == 403


def test_another_department_gets_404_for_the_grant_page_and_route(grant: Grant) -> None:
    stranger = testing.make_user(Role.CONSUMER, department=testing.make_department("市民政局"))
    assert _page(stranger).get(f"/sharing/grants/{grant.pk}/").status_code == 404
    assert Client().get(f"/api/sharing/grants/{grant.pk}", headers=bearer(stranger)).status_code == 404


def test_the_api_lists_the_consumer_s_grants_with_their_state_and_systems(grant: Grant, consumer: User) -> None:
    answer = Client().get("/api/sharing/grants", {"side": "consumer"}, headers=bearer(consumer))
    assert answer.status_code == 200, answer.content
    [row] = answer.json()["items"]
    assert row["id"] == grant.pk and row["state"] == "有效" and row["active"] is True
    assert row["systems"] == ["医保核心业务系统"]
    assert row["review_due_on"] == (TODAY + dt.timedelta(days=365)).isoformat()


def test_the_provider_s_reviewer_issues_a_grant_over_the_api(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    scenario = make_scenario(consumer_department, name="接口授权场景")
    body = {
        "department_id": consumer_department.pk,
        "scenario_id": scenario.pk,
        "resource_id": resource.pk,
        "items": ["姓名", "区县"],
        "masking": {"姓名": "withhold"},
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
        "daily_quota": 100,
    }
    answer = Client().post(
        "/api/sharing/grants", json.dumps(body), content_type="application/json", headers=bearer(provider_reviewer)
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["masking"] == {"姓名": "withhold"}


def test_the_reviewer_s_home_lists_grants_due_for_review(
    resource: Resource, consumer_department: Department, provider_reviewer: User
) -> None:
    issue(resource, consumer_department, review_interval_days=20, actor=provider_reviewer)
    home = _page(provider_reviewer).get("/").content.decode()
    assert 'id="home-grant-review"' in home and "项授权待复核确认" in home


def test_a_row_filter_the_data_cannot_apply_refuses_with_its_reason_not_an_error(grant: Grant, consumer: User) -> None:
    """An item named by the filter that the loaded version lacks (added to the catalogue after the load): no row
    may be shown, and the page says why."""
    Grant.objects.filter(pk=grant.pk).update(row_filter={"籍贯": ["德阳"]})
    page = _page(consumer).get(f"/datasets/resources/{grant.resource_id}/preview/")
    assert page.status_code == 422 and "籍贯" in page.content.decode()
    answer = Client().get(f"/api/datasets/resources/{grant.resource_id}/dataset/preview", headers=bearer(consumer))
    assert answer.status_code in (400, 422) and "510603" not in answer.content.decode()
