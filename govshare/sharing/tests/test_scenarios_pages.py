"""The scenario pages: the department's list, form and detail with history; the coordinator's queue, home section
and header count. Out-of-scope scenarios answer 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from govshare.accounts.models import User
from govshare.sharing.choices import ScenarioStatus
from govshare.sharing.models import Scenario
from govshare.testing import scenarios as h
from govshare.testing.scenarios import ScenarioWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ScenarioWorld:
    return h.build()


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_filters_by_status_and_pages(world: ScenarioWorld, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"page_size": 2})
    for n in range(3):
        h.draft(world, name=f"草稿场景{n}")
    h.approved(world)
    page = client_of(world.ybj_consumer).get("/sharing/scenarios/", {"status": "draft"})
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("草稿场景") == 2 and "医保参保人员身份核验" not in text
    second = client_of(world.ybj_consumer).get("/sharing/scenarios/", {"status": "draft", "page": "2"}).content.decode()
    assert second.count("草稿场景") == 1
    approved = client_of(world.ybj_consumer).get("/sharing/scenarios/", {"status": "approved"}).content.decode()
    assert "医保参保人员身份核验" in approved


def test_the_form_registers_with_a_picked_item_and_submits(world: ScenarioWorld) -> None:
    form = client_of(world.ybj_consumer).get("/sharing/scenarios/new/")
    assert form.status_code == 200 and world.ybj_system.name in form.content.decode()
    assert world.other_system.name not in form.content.decode()
    answer = client_of(world.ybj_consumer).post(
        "/sharing/scenarios/new/",
        {
            "name": "医保参保人员身份核验",
            "description": "参保登记时核验身份。",
            "legal_basis": "《社会保险法》",
            "systems": [world.ybj_system.pk],
            "needed_items": "公民身份号码\n姓名",
            "pick_item": "出生日期",
            "then": "submit",
        },
    )
    scenario = Scenario.objects.get()
    assert answer.status_code == 302 and answer.headers["Location"] == f"/sharing/scenarios/{scenario.pk}/"
    assert scenario.needed_items == ["公民身份号码", "姓名", "出生日期"]
    assert scenario.status == ScenarioStatus.SUBMITTED


def test_attack_the_form_refuses_another_departments_system(world: ScenarioWorld) -> None:
    answer = client_of(world.ybj_consumer).post(
        "/sharing/scenarios/new/",
        {"name": "越权场景", "systems": [world.other_system.pk], "needed_items": "姓名", "then": "save"},
    )
    assert answer.status_code == 200  # the form again, with the error
    assert not Scenario.objects.exists()


def test_the_detail_shows_the_history_with_who_when_and_why(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    h.scenarios.reject_scenario(scenario, actor=world.coordinator, reason="依据未写明条款")
    text = client_of(world.ybj_consumer).get(f"/sharing/scenarios/{scenario.pk}/").content.decode()
    for expected in ("登记", "提交审核", "驳回", "依据未写明条款", world.coordinator.full_name, "重新提交审核"):
        assert expected in text


def test_attack_another_departments_pages_answer_404(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    for user in (world.other_consumer, world.other_admin, world.auditor):
        client = client_of(user)
        assert client.get(f"/sharing/scenarios/{scenario.pk}/").status_code == 404
        assert client.get(f"/sharing/scenarios/{scenario.pk}/edit/").status_code == 404
        assert client.post(f"/sharing/scenarios/{scenario.pk}/approve/").status_code == 404


def test_attack_a_coordinator_is_sent_back_from_the_edit_form(world: ScenarioWorld) -> None:
    scenario = h.draft(world)
    answer = client_of(world.coordinator).post(
        f"/sharing/scenarios/{scenario.pk}/edit/", {"name": "协调员改的", "then": "save"}
    )
    assert answer.status_code == 302
    scenario.refresh_from_db()
    assert scenario.name == "医保参保人员身份核验"


def test_the_coordinator_reviews_from_the_queue(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    coordinator = client_of(world.coordinator)
    queue = coordinator.get("/sharing/scenarios/review/").content.decode()
    assert scenario.name in queue
    detail = coordinator.get(f"/sharing/scenarios/{scenario.pk}/").content.decode()
    assert "驳回理由（必填）" in detail
    refused = coordinator.post(f"/sharing/scenarios/{scenario.pk}/reject/", {"reason": ""}, follow=True)
    assert "请填写驳回理由" in refused.content.decode()
    coordinator.post(f"/sharing/scenarios/{scenario.pk}/approve/", {"note": "同意"})
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.APPROVED


def test_the_queue_is_the_coordinators_only(world: ScenarioWorld) -> None:
    for user in (world.platform, world.ybj_admin):
        assert client_of(user).get("/sharing/scenarios/review/").status_code == 404


def test_the_coordinators_home_and_header_count_what_waits(world: ScenarioWorld) -> None:
    h.submitted(world, name="待审核场景甲")
    h.submitted(world, name="待审核场景乙")
    home = client_of(world.coordinator).get("/").content.decode()
    assert "应用场景待审核" in home and "待审核场景甲" in home
    assert 'nav-count">2<' in home
    assert "应用场景待审核" not in client_of(world.ybj_admin).get("/").content.decode()


def test_the_department_home_lists_its_rejected_scenarios(world: ScenarioWorld) -> None:
    scenario = h.submitted(world)
    h.scenarios.reject_scenario(scenario, actor=world.coordinator, reason="缺少依据条款")
    home = client_of(world.ybj_admin).get("/").content.decode()
    assert "被驳回的应用场景" in home and "缺少依据条款" in home


def test_the_system_page_lists_the_scenarios_it_serves(world: ScenarioWorld) -> None:
    h.approved(world)
    page = client_of(world.ybj_admin).get(f"/systems/{world.ybj_system.pk}/").content.decode()
    assert "承载的应用场景" in page and "医保参保人员身份核验" in page


def test_the_retire_form_is_for_the_department_and_the_coordinator(world: ScenarioWorld) -> None:
    scenario = h.approved(world)
    assert "停用原因（必填）" in client_of(world.ybj_admin).get(f"/sharing/scenarios/{scenario.pk}/").content.decode()
    assert (
        "停用原因（必填）" not in client_of(world.platform).get(f"/sharing/scenarios/{scenario.pk}/").content.decode()
    )
    client_of(world.coordinator).post(f"/sharing/scenarios/{scenario.pk}/retire/", {"reason": "依据废止"})
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.RETIRED


def test_the_scenario_pages_read_in_english(world: ScenarioWorld) -> None:
    from govshare.testing.english import chinese_in

    scenario = h.submitted(world)
    data = [scenario.name, scenario.description, scenario.legal_basis, world.ybj.name, world.ybj_system.name]
    data += [*scenario.needed_items, world.ybj_consumer.full_name, world.coordinator.full_name, "市大数据局"]
    for user, path in (
        (world.ybj_consumer, "/sharing/scenarios/"),
        (world.ybj_consumer, f"/sharing/scenarios/{scenario.pk}/"),
        (world.ybj_consumer, f"/sharing/scenarios/{scenario.pk}/edit/"),
        (world.ybj_consumer, "/sharing/scenarios/new/"),
        (world.coordinator, "/sharing/scenarios/review/"),
        (world.coordinator, f"/systems/{world.ybj_system.pk}/"),
        (world.coordinator, "/systems/"),
    ):
        page = client_of(user).get(path, headers={"accept-language": "en"}, follow=True)
        main = page.content.decode().split("<main>")[1].split("</main>")[0]
        departments = [d.name for d in (world.ybj, world.other)] + ["市大数据局", world.other_system.name]
        known = sorted(data + departments, key=len, reverse=True)  # longest first: a name inside another stays whole
        left = main
        for value in known:
            left = left.replace(value, "")
        assert chinese_in([main], user_data=known) == [], (
            path,
            re.findall(r"[^<>]{0,30}[\u4e00-\u9fff]+[^<>]{0,30}", left),
        )
