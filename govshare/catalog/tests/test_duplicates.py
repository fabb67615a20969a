import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.catalog import duplicates, services
from govshare.catalog.models import DuplicateCandidate
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft

MARRIAGE_ITEMS = [
    ItemDraft(name="男方姓名", data_type="C", length=50),
    ItemDraft(name="女方姓名", data_type="C", length=50),
    ItemDraft(name="登记日期", data_type="D"),
    ItemDraft(name="登记机关", data_type="C", length=100),
]


@pytest.fixture
def civil_affairs(db):  # type: ignore[no-untyped-def]
    city = testing.make_department("市民政局")
    district = testing.make_department("旌阳区民政局", level="county")
    return (
        city,
        district,
        testing.make_user(Role.CATALOG_ADMIN, department=city),
        testing.make_user(Role.CATALOG_ADMIN, department=district),
    )


def marriage(department, name: str = "婚姻登记信息", items=None):  # type: ignore[no-untyped-def]
    return resource_draft(
        department, name=name, category_code="203", summary="婚姻登记记录", items=items or MARRIAGE_ITEMS
    )


@pytest.mark.django_db
def test_same_entry_in_two_departments_is_listed_with_its_score(civil_affairs) -> None:
    city, district, city_admin, district_admin = civil_affairs
    first = services.create_resource(marriage(city), actor=city_admin)
    second = services.create_resource(marriage(district, "婚姻登记数据"), actor=district_admin)
    found = DuplicateCandidate.objects.get(resource=second, similar=first)
    assert found.name_score == 1.0 and found.item_score == 1.0 and found.score == 1.0
    assert DuplicateCandidate.objects.filter(resource=first, similar=second).exists()


@pytest.mark.django_db
def test_unrelated_entries_are_not_duplicates(civil_affairs) -> None:
    city, district, city_admin, district_admin = civil_affairs
    services.create_resource(marriage(city), actor=city_admin)
    other = services.create_resource(
        resource_draft(district, name="低保救助对象信息", category_code="203"), actor=district_admin
    )
    assert not DuplicateCandidate.objects.filter(resource=other).exists()


@pytest.mark.django_db
def test_entries_of_the_same_department_are_not_listed(civil_affairs) -> None:
    city, _, city_admin, _ = civil_affairs
    services.create_resource(marriage(city), actor=city_admin)
    again = services.create_resource(marriage(city, "婚姻登记信息表"), actor=city_admin)
    assert not DuplicateCandidate.objects.filter(resource=again).exists()


@pytest.mark.django_db
def test_bulk_import_path_finds_the_same_duplicates(civil_affairs) -> None:
    city, district, city_admin, district_admin = civil_affairs
    first = services.create_resource(marriage(city), actor=city_admin)
    drafts = [marriage(district, f"办件记录{n}") for n in range(60)] + [marriage(district, "婚姻登记情况")]
    resolved, problems = services.resolve_drafts(drafts)
    assert not any(problems)
    created = services.create_resources(resolved, actor=district_admin)
    assert DuplicateCandidate.objects.filter(resource=created[-1], similar=first).exists()


@pytest.mark.django_db
def test_consumer_sees_only_duplicates_it_may_see(civil_affairs) -> None:
    city, district, city_admin, district_admin = civil_affairs
    first = services.create_resource(marriage(city), actor=city_admin)
    second = services.create_resource(marriage(district), actor=district_admin)
    platform_admin = testing.make_user(Role.PLATFORM_ADMIN)
    for user, expected in ((platform_admin, [first.pk]), (district_admin, [])):
        _, raw = account_services.create_api_token(user, name="t", scope="read", actor=user)
        response = Client().get(
            f"/api/catalog/resources/{second.pk}/duplicates", headers={"Authorization": f"Bearer {raw}"}
        )
        assert response.status_code == 200
        assert [row["id"] for row in response.json()] == expected


@given(st.text(max_size=40), st.text(max_size=40))
def test_name_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    score = duplicates.name_similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert score == duplicates.name_similarity(b, a)


def test_generic_suffixes_do_not_count() -> None:
    assert duplicates.normalise_name("婚姻登记 信息表") == "婚姻登记"
    assert duplicates.name_similarity("婚姻登记信息", "婚姻登记数据") == 1.0
