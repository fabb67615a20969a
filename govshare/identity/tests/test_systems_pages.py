"""The information-system pages and API: the department manages its systems and credentials (a secret shown once,
never again), the platform administrator and the coordinator read the city-wide inventory, other departments see
nothing (404)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.identity import services
from govshare.identity.api_systems import SECRET_NEEDS_SESSION
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def system(department: Department, admin: User) -> InformationSystem:
    return services.register_information_system(
        services.SystemInput(code="ybj-hx", name="参保身份核验系统", department=department), actor=admin
    )


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_department_registers_a_system_from_the_page(admin: User, department: Department) -> None:
    answer = client_of(admin).post(
        "/systems/new/",
        {
            "code": "ybj-jsxt",
            "name": "医保结算系统",
            "protection_level": "3",
            "hosting": "gov_cloud",
            "contact_phone": "13800000000",
        },
    )
    system = InformationSystem.objects.get(code="ybj-jsxt")
    assert answer.status_code == 302 and answer.headers["Location"] == f"/systems/{system.pk}/"
    assert (system.department, system.protection_level, system.hosting) == (department, "3", "gov_cloud")


def test_a_consumer_sees_the_departments_systems_but_may_not_register(
    system: InformationSystem, department: Department
) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    assert system.name in client_of(consumer).get("/systems/").content.decode()
    assert client_of(consumer).get("/systems/new/").status_code == 404
    detail = client_of(consumer).get(f"/systems/{system.pk}/").content.decode()
    assert f'action="/systems/{system.pk}/credentials/"' not in detail


def test_a_secret_is_shown_once_with_a_copy_button_and_never_again(system: InformationSystem, admin: User) -> None:
    client = client_of(admin)
    answer = client.post(f"/systems/{system.pk}/credentials/")
    credential = SystemCredential.objects.get()
    text = answer.content.decode()
    assert answer.status_code == 200 and "no-store" in answer.headers["Cache-Control"]
    assert credential.application.client_id in text and "data-copy-target" in text
    secret = text.split('id="client-secret" readonly value="')[1].split('"')[0]
    assert len(secret) >= 32
    for page in (f"/systems/{system.pk}/", "/systems/", "/"):
        assert secret not in client.get(page).content.decode()
    api = Client().get(f"/api/identity/systems/{system.pk}/credentials", headers=bearer(admin)).content.decode()
    assert secret not in api and credential.application.client_id in api


def test_rotation_from_the_page_shows_the_new_secret_and_keeps_the_old_one_for_the_overlap(
    system: InformationSystem, admin: User
) -> None:
    old, _ = services.issue_system_credential(system, actor=admin)
    answer = client_of(admin).post(f"/systems/{system.pk}/credentials/{old.pk}/rotate/", {"overlap_days": "3"})
    assert answer.status_code == 200 and "client-secret" in answer.content.decode()
    old.refresh_from_db()
    assert old.replaced_by is not None and old.revoked_at is None and old.expires_at is not None
    detail = client_of(admin).get(f"/systems/{system.pk}/").content.decode()
    assert "轮换过渡期" in detail


def test_revoking_and_stopping_from_the_page(system: InformationSystem, admin: User) -> None:
    credential, _ = services.issue_system_credential(system, actor=admin)
    client_of(admin).post(f"/systems/{system.pk}/credentials/{credential.pk}/revoke/")
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    client_of(admin).post(f"/systems/{system.pk}/deactivate/", {"reason": "业务下线"})
    system.refresh_from_db()
    assert not system.is_active and system.deactivate_reason == "业务下线"


def test_attack_another_department_gets_404_everywhere(system: InformationSystem, other_department: Department) -> None:
    credential, _ = services.issue_system_credential(system, actor=testing.make_user(Role.PLATFORM_ADMIN))
    other = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    client = client_of(other)
    assert system.name not in client.get("/systems/").content.decode()
    for path in (f"/systems/{system.pk}/", f"/systems/{system.pk}/edit/"):
        assert client.get(path).status_code == 404
    for path in (
        f"/systems/{system.pk}/credentials/",
        f"/systems/{system.pk}/credentials/{credential.pk}/rotate/",
        f"/systems/{system.pk}/credentials/{credential.pk}/revoke/",
        f"/systems/{system.pk}/deactivate/",
    ):
        assert client.post(path, {"overlap_days": "7", "reason": "x"}).status_code == 404
    assert SystemCredential.objects.count() == 1
    assert Client().get(f"/api/identity/systems/{system.pk}", headers=bearer(other)).status_code == 404


def test_the_coordinator_reads_the_city_wide_register_without_managing(
    system: InformationSystem, other_department: Department
) -> None:
    other_system = services.register_information_system(
        services.SystemInput(code="zjj-fc", name="房产交易系统", department=other_department),
        actor=testing.make_user(Role.PLATFORM_ADMIN),
    )
    coordinator = testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))
    listed = client_of(coordinator).get("/systems/").content.decode()
    assert system.name in listed and other_system.name in listed and "全市信息系统清单" in listed
    assert "从未使用" in listed
    detail = client_of(coordinator).get(f"/systems/{system.pk}/").content.decode()
    assert f'action="/systems/{system.pk}/credentials/"' not in detail and "停用原因" not in detail
    assert client_of(coordinator).post(f"/systems/{system.pk}/credentials/").status_code == 302
    assert not SystemCredential.objects.exists()
    api = Client().get("/api/identity/systems", headers=bearer(coordinator)).json()
    assert {row["code"] for row in api["items"]} == {"ybj-hx", "zjj-fc"}


def test_the_platform_administrator_registers_for_a_chosen_department(department: Department) -> None:
    platform = testing.make_user(Role.PLATFORM_ADMIN)
    form = client_of(platform).get("/systems/new/").content.decode()
    assert 'name="department"' in form
    client_of(platform).post(
        "/systems/new/",
        {
            "code": "x-sys",
            "name": "某系统",
            "department": department.pk,
            "protection_level": "2",
            "hosting": "self_hosted",
        },
    )
    assert InformationSystem.objects.get(code="x-sys").department == department


def test_the_api_registers_updates_and_issues_with_a_session_only(admin: User, department: Department) -> None:
    headers = bearer(admin)
    payload = {"code": "ybj-api", "name": "接口登记的系统", "protection_level": "2", "hosting": "gov_cloud"}
    created = Client().post(
        "/api/identity/systems", json.dumps(payload), content_type="application/json", headers=headers
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    payload["name"] = "改名后的系统"
    updated = Client().put(
        f"/api/identity/systems/{pk}", json.dumps(payload), content_type="application/json", headers=headers
    )
    assert updated.json()["name"] == "改名后的系统"
    by_token = Client().post(f"/api/identity/systems/{pk}/credentials", headers=headers)
    assert (by_token.status_code, by_token.json()["detail"]) == (403, SECRET_NEEDS_SESSION)
    session = client_of(admin)
    issued = session.post(f"/api/identity/systems/{pk}/credentials")
    assert issued.status_code == 201 and issued.json()["client_secret"]
    listed = session.get(f"/api/identity/systems/{pk}/credentials").json()
    assert "client_secret" not in listed[0]


def test_attack_a_department_administrator_cannot_register_for_another_department_by_api(
    admin: User, other_department: Department
) -> None:
    payload = {"code": "x-api", "name": "越权系统", "department_code": other_department.code}
    answer = Client().post(
        "/api/identity/systems", json.dumps(payload), content_type="application/json", headers=bearer(admin)
    )
    assert answer.status_code == 403
    assert not InformationSystem.objects.filter(code="x-api").exists()
