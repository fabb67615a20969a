"""Who sees which scenarios: a department its own; the coordinator and the platform administrator all; anyone
else none (404 for one of them)."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import NotFound
from govshare.sharing import scenario_selectors as selectors
from govshare.testing import scenarios as h
from govshare.testing.scenarios import ScenarioWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ScenarioWorld:
    return h.build()


def test_a_department_sees_only_its_own_scenarios(world: ScenarioWorld) -> None:
    mine = h.draft(world)
    other = h.scenarios.register_scenario(
        h.scenario_input(world, department=world.other, system_ids=[world.other_system.pk]), actor=world.other_admin
    )
    for user in (world.ybj_admin, world.ybj_consumer, world.ybj_reviewer):
        assert list(selectors.scenarios_for(user)) == [mine]
    assert list(selectors.scenarios_for(world.other_consumer)) == [other]


def test_the_coordinator_and_the_platform_administrator_see_every_department(world: ScenarioWorld) -> None:
    mine = h.draft(world)
    other = h.scenarios.register_scenario(
        h.scenario_input(world, department=world.other, system_ids=[world.other_system.pk]), actor=world.other_admin
    )
    for user in (world.coordinator, world.platform):
        assert set(selectors.scenarios_for(user)) == {mine, other}
    assert list(selectors.scenarios_for(world.auditor)) == []


def test_attack_another_departments_consumer_gets_404(world: ScenarioWorld) -> None:
    scenario = h.approved(world)
    assert selectors.get_scenario(world.ybj_reviewer, scenario.pk) == scenario
    for user in (world.other_consumer, world.other_admin, world.auditor):
        with pytest.raises(NotFound):
            selectors.get_scenario(user, scenario.pk)
    with pytest.raises(NotFound):
        selectors.get_scenario(world.ybj_consumer, 2**70)


def test_the_status_filter_and_search(world: ScenarioWorld) -> None:
    draft = h.draft(world, name="异地就医备案核验")
    approved = h.approved(world)
    assert list(selectors.scenarios_for(world.ybj_admin, status="approved")) == [approved]
    assert list(selectors.scenarios_for(world.ybj_admin, search="异地")) == [draft]


def test_the_review_queue_is_the_coordinators_oldest_first(world: ScenarioWorld) -> None:
    first = h.submitted(world, name="第一个")
    second = h.submitted(world, name="第二个")
    h.draft(world, name="草稿")
    assert list(selectors.review_queue(world.coordinator)) == [first, second]
    for user in (world.platform, world.ybj_admin, world.other_admin):
        assert list(selectors.review_queue(user)) == []


def test_citable_scenarios_are_the_departments_approved_ones(world: ScenarioWorld) -> None:
    approved = h.approved(world)
    h.submitted(world, name="待审核的")
    assert list(selectors.citable_scenarios(world.ybj_consumer)) == [approved]
    assert list(selectors.citable_scenarios(world.other_consumer)) == []
    assert list(selectors.citable_scenarios(world.coordinator)) == []
    assert list(selectors.approved_scenarios_of(world.ybj.pk)) == [approved]


def test_selectable_systems_are_the_departments_active_ones(world: ScenarioWorld) -> None:
    assert list(selectors.selectable_systems(world.ybj_consumer)) == [world.ybj_system]
    assert list(selectors.selectable_systems(world.ybj_consumer, world.other.pk)) == []
    assert list(selectors.selectable_systems(world.coordinator, world.ybj.pk)) == []


def test_item_suggestions_come_from_published_shareable_items(world: ScenarioWorld) -> None:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18),
        ItemDraft(name="宗教信仰", data_type="C", length=20, share_type="not_shared"),
    ]
    testing.make_published_resource(world.other, items=items, share_type="conditional")
    author = testing.make_user(Role.CATALOG_ADMIN, department=world.other)
    from govshare.catalog import services as catalog_services

    catalog_services.create_resource(
        testing.resource_draft(
            world.other, name="草稿资源", items=[ItemDraft(name="草稿里的项", data_type="C", length=10)]
        ),
        actor=author,
    )
    names = selectors.item_name_suggestions()
    assert "公民身份号码" in names
    assert "宗教信仰" not in names and "草稿里的项" not in names
    assert selectors.item_name_suggestions(search="身份") == ["公民身份号码"]
