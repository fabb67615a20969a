"""GET /api/catalog/search and the browse/search page."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from govshare import testing
from govshare.catalog import services
from govshare.catalog.rules import ItemDraft
from govshare.testing.api import bearer

pytestmark = pytest.mark.django_db

MARRIAGE = {
    "name": "民政婚姻登记信息",
    "category_code": "201",
    "summary": "全市结婚登记、离婚登记和补领婚姻证记录。",
    "items": [ItemDraft(name="男方公民身份号码", data_type="C", length=18)],
}


def publish(department, actor, publisher, **overrides):
    resource = services.create_resource(testing.resource_draft(department, **overrides), actor=actor)
    services.submit_resource(resource, actor=actor)
    services.publish_resource(resource, actor=publisher)
    return resource


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------------------------------------ API


def test_search_answers_items_total_paging_and_facets(catalog_admin, platform_admin, outsider, department):
    publish(department, catalog_admin, platform_admin, **MARRIAGE)
    publish(department, catalog_admin, platform_admin)
    response = Client().get("/api/catalog/search", {"q": "婚姻登记"}, headers=bearer(outsider, scope="read"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [i["name"] for i in body["items"]] == ["民政婚姻登记信息"]
    assert body["total"] == 1 and body["page"] == 1 and body["page_size"] == 20
    facets = {f["key"]: f for f in body["facets"]}
    assert facets["department"]["param"] == "department_code"
    assert facets["department"]["options"] == [{"value": department.code, "label": "市公安局", "count": 1}]
    assert facets["share_type"]["options"][0]["label"] == "有条件共享"


def test_search_filters_by_facet_parameters(catalog_admin, platform_admin, outsider, department):
    publish(department, catalog_admin, platform_admin, **MARRIAGE)
    response = Client().get(
        "/api/catalog/search", {"q": "婚姻", "update_cycle": "monthly"}, headers=bearer(outsider, scope="read")
    )
    assert response.json()["total"] == 0
    response = Client().get(
        "/api/catalog/search", {"q": "婚姻", "update_cycle": "daily"}, headers=bearer(outsider, scope="read")
    )
    assert response.json()["total"] == 1


def test_search_needs_a_signed_in_caller() -> None:
    response = Client().get("/api/catalog/search", {"q": "婚姻"})
    assert response.status_code == 401 and response.json()["detail"] == "未登录或令牌无效"


def test_unknown_sort_answers_422_naming_the_field(outsider):
    response = Client().get(
        "/api/catalog/search", {"q": "婚姻", "sort": "price"}, headers=bearer(outsider, scope="read")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sort"


def test_too_large_page_size_answers_422(outsider):
    response = Client().get("/api/catalog/search", {"page_size": "100000"}, headers=bearer(outsider, scope="read"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "page_size"


@pytest.mark.parametrize("q", ['"婚姻', "婚姻 OR 1=1; --", "NEAR(a b)", "😀", "登" * 5000, "\x00"])
def test_hostile_queries_answer_200(q, outsider):
    response = Client().get("/api/catalog/search", {"q": q}, headers=bearer(outsider, scope="read"))
    assert response.status_code == 200, response.content


# ------------------------------------------------------------------------------------------------ page


def test_page_finds_by_query_and_links_to_the_detail(catalog_admin, platform_admin, outsider, department):
    resource = publish(department, catalog_admin, platform_admin, **MARRIAGE)
    publish(department, catalog_admin, platform_admin)
    response = client_for(outsider).get(reverse("catalog:browse"), {"q": "婚姻登记"})
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("catalog:detail", args=[resource.pk]) in html
    assert "常住人口户籍登记信息" not in html
    assert '“<span lang="zh-Hans">婚姻登记</span>”共找到 1 条' in html


def test_page_facet_link_adds_and_selected_link_removes_the_filter(catalog_admin, platform_admin, outsider, department):
    publish(department, catalog_admin, platform_admin, **MARRIAGE)
    client = client_for(outsider)
    response = client.get(reverse("catalog:browse"), {"q": "婚姻"})
    blocks = {b.key: b for b in response.context["facets"]}
    link = blocks["share_type"].links[0]
    assert link.url == "?q=%E5%A9%9A%E5%A7%BB&share_type=conditional" and not link.selected
    narrowed = client.get(reverse("catalog:browse") + link.url)
    selected = {b.key: b for b in narrowed.context["facets"]}["share_type"].links[0]
    assert selected.selected and selected.url == "?q=%E5%A9%9A%E5%A7%BB"
    assert narrowed.context["result"].total == 1


def test_page_pagination_links_keep_the_query(catalog_admin, platform_admin, outsider, department, settings):
    for n in range(3):
        publish(department, catalog_admin, platform_admin, name=f"第{n}号婚姻登记信息")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"page_size": 2})
    response = client_for(outsider).get(reverse("catalog:browse"), {"q": "婚姻", "sort": "name"})
    assert response.context["next_url"] == "?q=%E5%A9%9A%E5%A7%BB&sort=name&page=2"
    second = client_for(outsider).get(reverse("catalog:browse") + response.context["next_url"])
    assert len(second.context["result"].items) == 1


def test_page_tolerates_a_hand_edited_address(outsider):
    response = client_for(outsider).get(
        reverse("catalog:browse"), {"sort": "drop", "page": "abc", "share_type": "x\x00", "q": "😀"}
    )
    assert response.status_code == 200
    assert "没有找到符合条件的信息资源" in response.content.decode()


def test_page_offers_export_of_the_current_list_when_export_exists(outsider):
    response = client_for(outsider).get(reverse("catalog:browse"), {"q": "婚姻", "share_type": "conditional"})
    try:
        export = reverse("catalog:export")
    except NoReverseMatch:
        assert response.context["export_xlsx"] == ""
        return
    html = response.content.decode()
    assert f"{export}?format=xlsx&amp;q=%E5%A9%9A%E5%A7%BB&amp;share_type=conditional" in html
    assert f"{export}?format=csv&amp;q=%E5%A9%9A%E5%A7%BB&amp;share_type=conditional" in html
