"""Synonyms of the catalogue search: a query's everyday words also find the entries that carry the official words
(身份证 → 公民身份号码), on SQLite and PostgreSQL alike (the tests are backend-neutral: CI runs them on both)."""

from __future__ import annotations

from collections.abc import Iterator

import jieba
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog import search, synonyms
from govshare.catalog.models import Resource, SynonymGroup
from govshare.catalog.rules import ItemDraft
from govshare.catalog.search_text import _CJK, domain_words, query_tokens, segment
from govshare.core.errors import ValidationFailed

# Carries 公民身份号码 in an item name only: its name and summary say nothing of identity cards.
MARRIAGE = {
    "name": "民政婚姻登记信息",
    "category_code": "201",
    "summary": "全市结婚登记、离婚登记和补领婚姻证记录。",
    "items": [ItemDraft(name="男方公民身份号码", data_type="C", length=18), ItemDraft(name="登记日期", data_type="D")],
}
# Carries 公民身份号码 in its summary only.
HOUSEHOLD = {
    "name": "居民户籍迁移记录",
    "category_code": "101",
    "summary": "户籍迁入迁出记录，以公民身份号码关联。",
    "items": [ItemDraft(name="迁入日期", data_type="D"), ItemDraft(name="迁出地址", data_type="C", length=200)],
}
# Carries no identity number at all.
WEATHER = {
    "name": "气象观测站点信息",
    "category_code": "202",
    "summary": "全市自动气象站的位置与观测要素。",
    "items": [
        ItemDraft(name="站点编号", data_type="C", length=20),
        ItemDraft(name="海拔高度", data_type="N", length=8),
    ],
}
SOCIAL_INSURANCE = {
    "name": "社会保险参保登记信息",
    "category_code": "202",
    "summary": "职工参加养老、工伤和失业保险的登记记录。",
    "items": [ItemDraft(name="参保日期", data_type="D")],
}
BIRTH = {
    "name": "出生医学证明信息",
    "category_code": "201",
    "summary": "医疗机构签发的新生儿出生医学证明。",
    "items": [ItemDraft(name="新生儿姓名", data_type="C", length=50)],
}


@pytest.fixture(autouse=True)
def _groups_reloaded() -> Iterator[None]:
    """The groups are cached per process: a group a test saved must not outlive its rolled-back transaction."""
    synonyms.forget()
    yield
    synonyms.forget()


@pytest.fixture
def consumer(other_department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CONSUMER, department=other_department)


def publish(department, **fields) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, **fields)


def names(result: search.SearchResult) -> set[str]:
    return {r.name for r in result.items}


def group_holding(word: str) -> SynonymGroup:
    return next(g for g in SynonymGroup.objects.all() if word in g.term_list)


# ---------------------------------------------------------------------------------------------- query time


@pytest.mark.django_db
def test_identity_card_finds_entries_carrying_the_citizen_number_in_an_item_name_or_the_summary(department, consumer):
    for fields in (MARRIAGE, HOUSEHOLD, WEATHER):
        publish(department, **fields)
    result = search.search_resources(consumer, q="身份证")
    assert names(result) == {"民政婚姻登记信息", "居民户籍迁移记录"} and result.total == 2


@pytest.mark.django_db
def test_social_security_finds_social_insurance_entries(department, consumer):
    publish(department, **SOCIAL_INSURANCE)
    publish(department, **WEATHER)
    assert names(search.search_resources(consumer, q="社保")) == {"社会保险参保登记信息"}


@pytest.mark.django_db
def test_birth_certificate_finds_the_birth_medical_certificate_entry(department, consumer):
    publish(department, **BIRTH)
    publish(department, **WEATHER)
    assert names(search.search_resources(consumer, q="出生证明")) == {"出生医学证明信息"}


@pytest.mark.django_db
def test_synonym_clause_is_combined_with_the_other_words_of_the_query(department, consumer):
    publish(department, **MARRIAGE)
    publish(department, **HOUSEHOLD)
    assert names(search.search_resources(consumer, q="身份证 婚姻")) == {"民政婚姻登记信息"}


@pytest.mark.django_db
def test_result_highlights_the_synonyms_of_the_typed_word(department, consumer):
    publish(department, **MARRIAGE)
    result = search.search_resources(consumer, q="身份证")
    assert "身份证" in result.words and "公民身份号码" in result.words


@pytest.mark.django_db
def test_switched_off_group_no_longer_expands(department, consumer, platform_admin):
    publish(department, **MARRIAGE)
    group = group_holding("身份证")
    assert search.search_resources(consumer, q="身份证").total == 1
    synonyms.save_group(group, terms=group.terms, is_active=False, actor=platform_admin)
    assert search.search_resources(consumer, q="身份证").total == 0


@pytest.mark.django_db
def test_group_saved_through_save_group_is_used_by_the_next_search(department, consumer, platform_admin):
    publish(department, **WEATHER)
    assert search.search_resources(consumer, q="天气站").total == 0
    synonyms.save_group(None, terms="天气站/气象站", actor=platform_admin)
    assert names(search.search_resources(consumer, q="天气站")) == {"气象观测站点信息"}


@pytest.mark.django_db
def test_change_in_another_process_is_seen_once_the_cache_expires(department, consumer):
    publish(department, **WEATHER)
    now = [0.0]
    cache = synonyms._Cache(clock=lambda: now[0])
    cache.get()
    # Another process's change reaches this one through the database only (no signal here).
    SynonymGroup.objects.bulk_create([SynonymGroup(terms="天气站/气象站")])
    assert "天气站" not in cache.get().words
    now[0] = synonyms.CACHE_SECONDS + 1
    assert cache.get().words["天气站"] == ("天气站", "气象站")


@pytest.mark.django_db
def test_group_added_in_the_admin_is_audited_and_used_by_the_next_search(department, consumer, platform_admin):
    publish(department, **WEATHER)
    client = Client()
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:catalog_synonymgroup_add"), {"terms": "天气站 / 气象站", "note": "群众说法", "is_active": "on"}
    )
    assert response.status_code == 302
    group = SynonymGroup.objects.get(terms="天气站/气象站")
    entry = AuditLog.objects.get(action="catalog.synonym.create")
    assert entry.object_id == str(group.pk) and entry.actor == platform_admin
    assert names(search.search_resources(consumer, q="天气站")) == {"气象观测站点信息"}


@pytest.mark.django_db
def test_group_switched_off_in_the_admin_is_audited_and_no_longer_expands(department, consumer, platform_admin):
    publish(department, **SOCIAL_INSURANCE)
    group = group_holding("社保")
    client = Client()
    client.force_login(platform_admin)
    assert search.search_resources(consumer, q="社保").total == 1
    response = client.post(reverse("admin:catalog_synonymgroup_change", args=[group.pk]), {"terms": group.terms})
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="catalog.synonym.update")
    assert entry.extra["is_active"] is False and entry.object_id == str(group.pk)
    assert search.search_resources(consumer, q="社保").total == 0


@pytest.mark.django_db
def test_admin_add_page_shows_the_chinese_problem_and_saves_nothing(platform_admin):
    client = Client()
    client.force_login(platform_admin)
    before = SynonymGroup.objects.count()
    response = client.post(reverse("admin:catalog_synonymgroup_add"), {"terms": "天气站", "is_active": "on"})
    assert response.status_code == 200 and "一组同义词至少要有两个不同的词" in response.content.decode()
    assert SynonymGroup.objects.count() == before
    assert not AuditLog.objects.filter(action="catalog.synonym.create").exists()


@pytest.mark.django_db
def test_admin_synonym_pages_are_the_platform_administrators_only(catalog_admin):
    client = Client()
    client.force_login(catalog_admin)
    response = client.post(reverse("admin:catalog_synonymgroup_add"), {"terms": "天气站/气象站"})
    assert response.status_code in (302, 403) and not SynonymGroup.objects.filter(terms="天气站/气象站").exists()


# ---------------------------------------------------------------------------------------------- save_group checks


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ("社保/社会保险!", "含有标点或符号"),
        ("社保/<b>社会保险</b>", "含有标点或符号"),
        ("社保/" + "长" * 31, "超过 30 个字"),
        ("社保", "至少要有两个不同的词"),
        ("社保/社保", "至少要有两个不同的词"),
        ("", "至少要有两个不同的词"),
        ("/".join(f"词{n}" for n in range(13)), "至多 12 个词"),
    ],
)
def test_bad_group_is_refused_with_a_chinese_message_on_the_terms_field(terms, message, platform_admin):
    with pytest.raises(ValidationFailed) as caught:
        synonyms.save_group(None, terms=terms, actor=platform_admin)
    assert [p.field for p in caught.value.problems] == ["terms"] and message in caught.value.problems[0].message
    assert not AuditLog.objects.filter(action="catalog.synonym.create").exists()


@pytest.mark.django_db
def test_changing_a_group_is_audited_with_the_words_before(platform_admin):
    group = synonyms.save_group(None, terms="天气站/气象站", actor=platform_admin)
    synonyms.save_group(group, terms="天气站、气象站、气象台", actor=platform_admin)
    entry = AuditLog.objects.get(action="catalog.synonym.update")
    assert entry.extra["before"] == "天气站/气象站" and entry.extra["terms"] == "天气站/气象站/气象台"


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terms=st.one_of(st.text(max_size=600), st.lists(st.text(min_size=1, max_size=35), max_size=14).map("/".join)))
def test_any_text_either_saves_a_group_or_is_refused(terms, platform_admin):
    try:
        group = synonyms.save_group(None, terms=terms, actor=platform_admin)
    except ValidationFailed as refused:
        assert refused.problems and all(p.field == "terms" for p in refused.problems)
    else:
        group.refresh_from_db()
        assert len(group.term_list) >= 2


# ---------------------------------------------------------------------------------------------- any query

OPERATORS = st.sampled_from(
    ['"', "'", "*", "(", ")", "NEAR", "AND", "OR", "NOT", "-", "\\", "^", ":", "{", "}", "+", "_", "\x00", " "]
)
WORDS = st.sampled_from(["身份证", "社保", "出生证明", "公积金", "婚姻", "居民身份证", "near", "and"])
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(OPERATORS, WORDS, st.text(max_size=5)), max_size=40).map("".join),
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE)
def test_search_never_raises_for_any_query_text(q, department, consumer):
    if not Resource.objects.exists():
        publish(department, **MARRIAGE)
    result = search.search_resources(consumer, q=q)
    assert result.total >= len(result.items)


# ---------------------------------------------------------------------------------------------- domain words


@pytest.mark.parametrize("word", ["公民身份号码", "住房公积金"])
def test_domain_word_stays_one_token_in_documents(word):
    assert word in segment(f"全市{word}记录")


def test_query_of_a_domain_word_asks_only_for_tokens_the_default_dictionary_indexes():
    """Entries indexed before a domain word was added (without it as one token) are still found by it."""
    default = jieba.Tokenizer()  # jieba's own dictionary, without the domain words
    default.initialize()
    for word in domain_words():
        indexed = {token.lower() for token in default.cut_for_search(word, HMM=False)} | set(_CJK.findall(word))
        assert set(query_tokens(word)) <= indexed, word
