"""Near-duplicate scoring discounts place names, and the reviewer marks a pair 不是重复."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog import duplicates, places, services, services_duplicates
from govshare.catalog.models import DuplicateCandidate, NotDuplicate, Resource
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, PermissionDenied
from govshare.testing import resource_draft

POPULATION_ITEMS = [
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="居住地址", data_type="C", length=200),
]


@pytest.fixture
def streets(db):  # type: ignore[no-untyped-def]
    """Two street offices (街道办事处), each with its catalogue administrator."""
    first, second = testing.make_department("城北街道办事处"), testing.make_department("雒城街道办事处")
    return (
        testing.make_user(Role.CATALOG_ADMIN, department=first),
        testing.make_user(Role.CATALOG_ADMIN, department=second),
    )


def population(user, name: str) -> Resource:  # type: ignore[no-untyped-def]
    draft = resource_draft(user.department, name=name, items=POPULATION_ITEMS)
    return services.create_resource(draft, actor=user)


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------------------------------------ place names


def test_place_names_at_the_front_are_found_in_canonical_form() -> None:
    found = places.split_places("德阳市旌阳区城北街道辖区实有人口信息")
    assert found.places == {"德阳", "旌阳", "城北"} and found.rest == "辖区实有人口信息"


def test_short_forms_of_region_names_are_places() -> None:
    assert places.split_places("德阳常住人口信息").places == places.split_places("德阳市常住人口信息").places


def test_township_names_are_found_by_their_suffix() -> None:
    assert places.split_places("雒城街道辖区实有人口信息").places == {"雒城"}
    assert places.split_places("城关镇低保户信息").places == {"城关"}
    assert places.split_places("金山社区居民信息").places == {"金山"}


def test_everyday_words_are_not_taken_for_places() -> None:
    for name in ("公安局户籍信息", "城乡居民养老保险", "城镇职工基本医疗保险", "全市乡镇企业名录", "社区矫正人员信息"):
        assert places.split_places(name).places == frozenset(), name


def test_entries_differing_only_by_place_score_below_the_flag_threshold(settings) -> None:
    threshold = settings.GOVSHARE.duplicate_threshold
    name = duplicates.name_similarity("城北街道辖区实有人口信息", "雒城街道辖区实有人口信息")
    # Even with every item the same, the place keeps them apart.
    assert duplicates.NAME_WEIGHT * name + duplicates.ITEM_WEIGHT * 1.0 < threshold


def test_the_same_place_narrowed_is_not_a_different_place() -> None:
    assert duplicates.name_similarity("德阳市城北街道实有人口信息", "城北街道实有人口信息") == 1.0


@pytest.mark.django_db
def test_street_entries_of_two_street_offices_are_not_flagged(streets) -> None:
    north, luocheng = streets
    population(north, "城北街道辖区实有人口信息")
    second = population(luocheng, "雒城街道辖区实有人口信息")
    assert not DuplicateCandidate.objects.filter(resource=second).exists()


@pytest.mark.django_db
def test_true_duplicates_with_the_same_place_still_flag(streets) -> None:
    north, luocheng = streets
    first = population(north, "德阳市实有人口信息")
    second = population(luocheng, "德阳市实有人口数据")
    assert DuplicateCandidate.objects.get(resource=second, similar=first).score == 1.0


@pytest.mark.django_db
def test_true_duplicates_without_places_still_flag(streets) -> None:
    north, luocheng = streets
    first = population(north, "实有人口信息")
    second = population(luocheng, "实有人口基本信息")
    assert DuplicateCandidate.objects.filter(resource=second, similar=first).exists()


PLACES = st.sampled_from(
    ["德阳市", "德阳", "旌阳区", "四川省德阳市", "城北街道", "雒城街道", "中江县城关镇", "金山社区"]
)
# Characters of no place name, no administrative or township suffix: the name holds no place of its own.
NEUTRAL = st.text(alphabet="人口信息登记企业年报户籍医疗保险婚姻低保救助车辆驾驶证照", min_size=1, max_size=12)


@given(place=PLACES, a=NEUTRAL, b=NEUTRAL)
def test_a_place_put_in_front_of_both_names_never_raises_their_score(place: str, a: str, b: str) -> None:
    assert duplicates.name_similarity(place + a, place + b) <= duplicates.name_similarity(a, b)


@given(first=PLACES, second=PLACES, a=NEUTRAL, b=NEUTRAL)
def test_places_put_in_front_of_the_names_never_raise_their_score(first: str, second: str, a: str, b: str) -> None:
    assert duplicates.name_similarity(first + a, second + b) <= duplicates.name_similarity(a, b)


# --------------------------------------------------------------------------- a place or 全市 on one side only


def _flagged_with_every_item_shared(a: str, b: str, threshold: float, *, same_department: bool = False) -> bool:
    name = duplicates.name_similarity(a, b, same_department=same_department)
    return duplicates.NAME_WEIGHT * name + duplicates.ITEM_WEIGHT * 1.0 >= threshold


# (name, other name, same department, listed as near-duplicates when every item is the same)
SCOPES = [
    ("全市实有人口信息", "广汉市实有人口信息", False, False),  # the whole city against one of its districts
    ("全市实有人口信息", "广汉市实有人口信息", True, False),
    ("实有人口信息", "广汉市实有人口信息", False, False),  # a place on one side only: likely different scopes
    ("实有人口信息", "广汉市实有人口信息", True, True),  # one department, the same entry with and without its place
    ("实有人口信息", "广汉市实有人口数据", True, True),  # 信息/数据 are the same generic suffix
    ("户籍人口信息", "广汉市实有人口信息", True, False),  # the rest differs: not the same entry
    ("德阳市全市实有人口信息", "德阳市广汉市实有人口信息", False, False),
    ("全市实有人口信息", "实有人口信息", False, True),  # both the whole jurisdiction
    ("本市实有人口信息", "全市实有人口数据", False, True),
    ("德阳市实有人口信息", "德阳市实有人口数据", False, True),  # the same place on both sides
    ("德阳市城北街道实有人口信息", "城北街道实有人口信息", False, True),  # the same place narrowed
    ("城北街道辖区实有人口信息", "雒城街道辖区实有人口信息", True, False),  # two places
]


@pytest.mark.parametrize(("a", "b", "same_department", "flagged"), SCOPES)
def test_names_of_different_scopes_are_not_near_duplicates(  # type: ignore[no-untyped-def]
    settings, a: str, b: str, same_department: bool, flagged: bool
) -> None:
    threshold = settings.GOVSHARE.duplicate_threshold
    assert _flagged_with_every_item_shared(a, b, threshold, same_department=same_department) is flagged
    assert _flagged_with_every_item_shared(b, a, threshold, same_department=same_department) is flagged


def test_the_whole_jurisdiction_prefix_is_not_compared_as_part_of_the_name() -> None:
    assert duplicates.name_key("全市实有人口信息")[0] == duplicates.name_key("实有人口信息")[0] == "实有人口"


@given(place=PLACES, name=NEUTRAL)
def test_a_place_on_one_side_only_keeps_two_departments_entries_apart(place: str, name: str) -> None:
    assert not _flagged_with_every_item_shared(place + name, name, threshold=0.6)


@given(place=PLACES, name=NEUTRAL, prefix=st.sampled_from(["全市", "全县", "本市", "全省"]))
def test_the_whole_jurisdiction_and_a_named_place_are_different_scopes(place: str, name: str, prefix: str) -> None:
    assert not _flagged_with_every_item_shared(prefix + name, place + name, threshold=0.6, same_department=True)


@given(place=PLACES, name=NEUTRAL)
def test_one_departments_entry_with_and_without_its_place_is_the_same_entry(place: str, name: str) -> None:
    assert duplicates.name_similarity(place + name, name, same_department=True) == 1.0


@pytest.mark.django_db
def test_a_city_wide_entry_and_a_districts_entry_are_not_flagged(streets) -> None:
    north, luocheng = streets
    population(north, "全市实有人口信息")
    second = population(luocheng, "广汉市实有人口信息")
    assert not DuplicateCandidate.objects.filter(resource=second).exists()


@pytest.mark.django_db
def test_two_city_wide_entries_still_flag(streets) -> None:
    north, luocheng = streets
    first = population(north, "全市实有人口信息")
    second = population(luocheng, "实有人口信息")
    assert DuplicateCandidate.objects.get(resource=second, similar=first).score == 1.0


# ------------------------------------------------------------------------------------------------ 不是重复


@pytest.fixture
def flagged(db, catalog_admin, outsider):  # type: ignore[no-untyped-def]
    first = services.create_resource(resource_draft(catalog_admin.department), actor=catalog_admin)
    second = services.create_resource(resource_draft(outsider.department), actor=outsider)
    assert DuplicateCandidate.objects.filter(resource=second, similar=first).exists()
    return first, second


def test_marking_a_pair_not_duplicate_unlists_it_both_ways(flagged, platform_admin) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(second.pk, first.pk, actor=platform_admin)
    assert not DuplicateCandidate.objects.filter(resource__in=flagged, similar__in=flagged).exists()


def test_marking_is_audited_with_both_entries(flagged, platform_admin) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(second.pk, first.pk, actor=platform_admin)
    row = AuditLog.objects.get(action="catalog.duplicate.dismiss")
    assert row.object_id == str(first.pk) and second.code in str(row.extra)


def test_a_marked_pair_is_not_flagged_again_when_an_entry_changes(flagged, platform_admin, outsider) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=platform_admin)
    services.update_resource(second, resource_draft(outsider.department), actor=outsider)
    assert not DuplicateCandidate.objects.filter(resource=second, similar=first).exists()


def test_taking_the_mark_back_lists_the_pair_again_and_is_audited(flagged, platform_admin) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=platform_admin)
    services_duplicates.unmark_not_duplicate(second.pk, first.pk, actor=platform_admin)
    assert DuplicateCandidate.objects.filter(resource=second, similar=first).exists()
    assert not NotDuplicate.objects.exists()
    assert AuditLog.objects.filter(action="catalog.duplicate.restore", object_id=str(first.pk)).count() == 1


def test_a_pair_is_marked_once(flagged, platform_admin) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=platform_admin)
    with pytest.raises(Conflict):
        services_duplicates.mark_not_duplicate(second.pk, first.pk, actor=platform_admin)


def test_attack_a_department_admin_cannot_mark_a_pair(flagged, catalog_admin) -> None:
    first, second = flagged
    with pytest.raises(PermissionDenied):
        services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=catalog_admin)
    assert not NotDuplicate.objects.exists()


def test_attack_the_mark_page_is_404_for_a_department_admin(flagged, catalog_admin) -> None:
    first, second = flagged
    url = reverse("catalog:duplicate_dismiss", args=[first.pk, second.pk])
    assert client_for(catalog_admin).post(url).status_code == 404 and not NotDuplicate.objects.exists()


def test_the_detail_page_shows_who_marked_the_pair_and_offers_to_take_it_back(flagged, platform_admin) -> None:
    first, second = flagged
    client = client_for(platform_admin)
    response = client.post(reverse("catalog:duplicate_dismiss", args=[first.pk, second.pk]))
    assert response["Location"].endswith(f"/catalog/resources/{first.pk}/#duplicates")
    page = client.get(reverse("catalog:detail", args=[first.pk])).content.decode()
    assert "已标记为不是重复" in page and f'由 <span lang="zh-Hans">{platform_admin.username}</span> 于' in page
    assert reverse("catalog:duplicate_restore", args=[first.pk, second.pk]) in page


def test_the_reviewer_sees_the_not_duplicate_button_beside_each_candidate(flagged, platform_admin) -> None:
    first, second = flagged
    page = client_for(platform_admin).get(reverse("catalog:detail", args=[first.pk])).content.decode()
    assert reverse("catalog:duplicate_dismiss", args=[first.pk, second.pk]) in page


def test_the_department_sees_the_mark_but_no_button(flagged, platform_admin, catalog_admin, outsider) -> None:
    first, second = flagged
    services.submit_resource(second, actor=outsider)
    services.publish_resource(second, actor=platform_admin)  # another department's entry it may see
    services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=platform_admin)
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[first.pk])).content.decode()
    assert "已标记为不是重复" in page and "撤销标记" not in page


def test_a_mark_on_an_entry_the_user_may_not_see_is_not_shown(flagged, platform_admin, catalog_admin) -> None:
    first, second = flagged
    services_duplicates.mark_not_duplicate(first.pk, second.pk, actor=platform_admin)
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[first.pk])).content.decode()
    assert second.code not in page and "已标记为不是重复" not in page
