import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import search, services
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.catalog.search_text import MAX_QUERY_TOKENS, query_tokens
from govshare.catalog.selectors import ResourceFilters
from govshare.core.errors import ValidationFailed

MARRIAGE = {
    "name": "民政婚姻登记信息",
    "category_code": "201",
    "summary": "全市结婚登记、离婚登记和补领婚姻证记录。",
    "share_type": "conditional",
    "share_condition": "用于政务服务婚姻状况核验",
    "items": [
        ItemDraft(name="男方公民身份号码", data_type="C", length=18),
        ItemDraft(name="女方公民身份号码", data_type="C", length=18),
        ItemDraft(name="登记日期", data_type="D"),
    ],
}
HOUSING_FUND = {
    "name": "住房公积金缴存信息",
    "category_code": "202",
    "summary": "职工住房公积金的缴存单位、缴存基数和月缴存额。",
    "share_type": "unconditional",
    "share_condition": "",
    "items": [
        ItemDraft(name="统一社会信用代码", data_type="C", length=18),
        ItemDraft(name="缴存基数", data_type="Y", length=12),
    ],
}


def published(department, actor, publisher, **overrides) -> Resource:
    resource = services.create_resource(testing.resource_draft(department, **overrides), actor=actor)
    services.submit_resource(resource, actor=actor)
    services.publish_resource(resource, actor=publisher)
    return resource


def names(result: search.SearchResult) -> list[str]:
    return [r.name for r in result.items]


def facet(result: search.SearchResult, key: str) -> dict[str, int]:
    return {o.value: o.count for f in result.facets if f.key == key for o in f.options}


@pytest.mark.django_db
def test_marriage_registration_query_finds_the_civil_affairs_entry(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    published(department, catalog_admin, platform_admin)
    result = search.search_resources(outsider, q="婚姻登记")
    assert names(result) == ["民政婚姻登记信息"] and result.total == 1


@pytest.mark.django_db
def test_housing_fund_query_finds_the_contribution_entry(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    assert names(search.search_resources(outsider, q="公积金")) == ["住房公积金缴存信息"]


@pytest.mark.django_db
def test_item_name_alone_finds_the_resource(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    assert "信用" not in HOUSING_FUND["summary"]
    assert names(search.search_resources(outsider, q="统一社会信用代码")) == ["住房公积金缴存信息"]


@pytest.mark.django_db
def test_single_character_query_finds_words_containing_it(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    assert names(search.search_resources(outsider, q="姻")) == ["民政婚姻登记信息"]


@pytest.mark.django_db
def test_every_token_is_required(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    assert search.search_resources(outsider, q="婚姻 公积金").total == 0


@pytest.mark.django_db
def test_drafts_of_other_departments_are_never_found(catalog_admin, outsider, department):
    services.create_resource(testing.resource_draft(department, **MARRIAGE), actor=catalog_admin)
    result = search.search_resources(outsider, q="婚姻登记")
    assert result.total == 0 and result.items == []
    assert all(not f.options for f in result.facets)
    assert list(search.search_resource_ids(outsider, "婚姻登记")) == []


@pytest.mark.django_db
def test_own_department_and_platform_admin_find_the_draft(catalog_admin, platform_admin, department):
    services.create_resource(testing.resource_draft(department, **MARRIAGE), actor=catalog_admin)
    assert names(search.search_resources(catalog_admin, q="婚姻登记")) == ["民政婚姻登记信息"]
    assert names(search.search_resources(platform_admin, q="婚姻登记")) == ["民政婚姻登记信息"]


@pytest.mark.django_db
def test_edited_and_deleted_drafts_leave_the_index(catalog_admin, department):
    resource = services.create_resource(testing.resource_draft(department, **MARRIAGE), actor=catalog_admin)
    services.update_resource(
        resource, testing.resource_draft(department, **HOUSING_FUND | {"category_code": "201"}), actor=catalog_admin
    )
    assert search.search_resources(catalog_admin, q="婚姻").total == 0
    assert search.search_resources(catalog_admin, q="公积金").total == 1
    services.delete_resource(Resource.objects.get(pk=resource.pk), actor=catalog_admin)
    assert search.search_resources(catalog_admin, q="公积金").total == 0


@pytest.mark.django_db
def test_facets_count_the_query_under_the_other_filters(catalog_admin, platform_admin, outsider, department):
    other_admin = testing.make_user(Role.CATALOG_ADMIN, department=outsider.department)
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    published(
        department,
        catalog_admin,
        platform_admin,
        **MARRIAGE | {"name": "婚姻登记档案目录", "format": "file", "platform_share_type": "file"},
    )
    published(outsider.department, other_admin, platform_admin, **HOUSING_FUND | {"name": "婚姻登记补贴"})
    result = search.search_resources(outsider, q="婚姻登记", filters=ResourceFilters(share_type="conditional"))
    assert result.total == 2
    # The share facet ignores its own filter; the others respect it.
    assert facet(result, "share_type") == {"conditional": 2, "unconditional": 1}
    assert facet(result, "department") == {department.code: 2}
    assert facet(result, "format") == {"database": 1, "file": 1}
    assert facet(result, "category_class") == {"2": 2} and facet(result, "category_item") == {"201": 2}
    labels = {o.value: o.label for f in result.facets for o in f.options}
    assert labels["conditional"] == "有条件共享" and labels[department.code] == "市公安局"


@pytest.mark.django_db
def test_category_filter_narrows_by_class_prefix(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    result = search.search_resources(outsider, filters=ResourceFilters(category_code="202"))
    assert names(result) == ["住房公积金缴存信息"]
    assert facet(result, "category_item") == {"201": 1, "202": 1}


@pytest.mark.django_db
def test_total_matches_the_export_queryset(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    services.create_resource(testing.resource_draft(department, name="婚姻登记草稿"), actor=catalog_admin)
    filters = ResourceFilters(department_code=department.code)
    for user in (outsider, catalog_admin):
        result = search.search_resources(user, q="登记", filters=filters)
        assert result.total == search.matching_resources(user, q="登记", filters=filters).count()


@pytest.mark.django_db
def test_relevance_puts_the_closer_match_first(catalog_admin, platform_admin, outsider, department):
    published(
        department,
        catalog_admin,
        platform_admin,
        **HOUSING_FUND
        | {"name": "社保缴费明细", "summary": "社会保险缴费记录，含公积金代扣标记及其他大量无关的说明文字。"},
    )
    published(department, catalog_admin, platform_admin, **HOUSING_FUND)
    assert names(search.search_resources(outsider, q="公积金"))[0] == "住房公积金缴存信息"


@pytest.mark.django_db
def test_sorting_by_name_and_paging(catalog_admin, platform_admin, outsider, department):
    for name in ("丙类登记信息", "甲类登记信息", "乙类登记信息"):
        published(department, catalog_admin, platform_admin, name=name)
    expected = sorted(["丙类登记信息", "甲类登记信息", "乙类登记信息"])
    first = search.search_resources(outsider, q="登记", sort="name", page=1, page_size=2)
    second = search.search_resources(outsider, q="登记", sort="name", page=2, page_size=2)
    assert names(first) + names(second) == expected
    assert first.total == 3 and first.pages == 2 and first.has_next and not second.has_next
    assert search.search_resources(outsider, q="登记", page=9, page_size=2).items == []


@pytest.mark.django_db
@pytest.mark.parametrize("sort", list(search.SORTS))
def test_every_sort_answers(sort, catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    assert search.search_resources(outsider, q="婚姻", sort=sort).total == 1
    assert search.search_resources(outsider, sort=sort).total == 1


@pytest.mark.django_db
def test_unknown_sort_is_refused_in_chinese(outsider):
    with pytest.raises(ValidationFailed) as caught:
        search.search_resources(outsider, q="婚姻", sort="id; drop table x")
    assert caught.value.problems[0].field == "sort" and "排序方式" in caught.value.problems[0].message


@pytest.mark.django_db
def test_query_of_symbols_only_finds_nothing(catalog_admin, platform_admin, outsider, department):
    published(department, catalog_admin, platform_admin, **MARRIAGE)
    assert search.search_resources(outsider, q="😀 ！？").total == 0
    assert search.search_resources(outsider, q="   ").total == 1


@given(st.text(max_size=400))
def test_query_tokens_are_word_characters_only(text):
    tokens = query_tokens(text)
    assert len(tokens) <= MAX_QUERY_TOKENS
    assert all(re.fullmatch(r"\w+", token) for token in tokens)


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            '"',
            "'",
            "婚姻 OR 1=1",
            "NEAR(婚姻 登记)",
            "婚姻*",
            "-登记",
            "^婚姻",
            "a AND NOT b",
            "'); DROP TABLE catalog_resource; --",
            "婚姻\x00登记",
            "😀👍",
            "_",
            "登记" * 500,
            "％；：“”",
        ]
    ),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE, share=st.text(max_size=20))
def test_any_input_answers_without_error(q, share, catalog_admin, platform_admin, outsider, department):
    if not Resource.objects.exists():
        published(department, catalog_admin, platform_admin, **MARRIAGE)
    result = search.search_resources(outsider, q=q, filters=ResourceFilters(share_type=share, department_code=share))
    assert result.total >= len(result.items)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="FTS5 triggers exist on SQLite only")
def test_dropped_index_triggers_are_restored_and_the_index_rebuilt(catalog_admin, department):
    with connection.cursor() as cursor:
        for name in search.SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    services.create_resource(testing.resource_draft(department, **MARRIAGE), actor=catalog_admin)
    assert search.search_resources(catalog_admin, q="婚姻").total == 0
    assert search.ensure_search_index(connection) is True
    assert search.search_resources(catalog_admin, q="婚姻").total == 1
    assert search.ensure_search_index(connection) is False


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL only")
def test_postgres_query_uses_the_functional_gin_index(catalog_admin, platform_admin, department):
    services.create_resource(testing.resource_draft(department, **MARRIAGE), actor=catalog_admin)
    queryset = search.matching_resources(platform_admin, q="婚姻登记").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = queryset.explain()
        cursor.execute("RESET enable_seqscan")
    assert "catalog_resource_search_gin" in plan
    assert queryset.count() == 1


def _index_objects() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'catalog_resource_fts%'")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = 'catalog_resource_search_gin'")
        return {row[0] for row in cursor.fetchall()}


# serialized_rollback: the flush after this test then leaves content types alone; otherwise post_migrate
# re-creates them under new ids and a later serialized_rollback test cannot restore its snapshot.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_search_index_migration_is_reversible():
    try:
        MigrationExecutor(connection).migrate([("catalog", "0003_import_batches_and_duplicate_candidates")])
        assert _index_objects() == set()
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _index_objects()
    assert ("catalog", "0004_full_text_search_index") in MigrationExecutor(connection).loader.applied_migrations


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_results(
    catalog_admin, platform_admin, outsider, department, django_assert_num_queries
):
    for n in range(4):
        published(department, catalog_admin, platform_admin, name=f"第{n}批婚姻登记信息")
    search.search_resources(outsider, q="婚姻")  # jieba's dictionary is loaded outside the count
    # The statement with total, facets and page ids; the page's rows; department and class labels.
    with django_assert_num_queries(4):
        result = search.search_resources(outsider, q="婚姻", page_size=3)
        assert [r.department.name for r in result.items] == ["市公安局"] * 3
        assert [r.category.code for r in result.items] == ["101"] * 3
