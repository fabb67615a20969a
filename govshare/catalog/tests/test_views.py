"""The catalogue pages through Django's test client: who sees what, actions, forms and the English switch."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.forms import format_extension, parse_extension
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def draft_of(user) -> Resource:  # type: ignore[no-untyped-def]
    return services.create_resource(resource_draft(user.department), actor=user)


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "企业登记基本信息",
        "category_code": "102",
        "summary": "市场主体登记的基本信息，包括统一社会信用代码、名称、法定代表人和住所。",
        "format": "database",
        "sub_format": "PostgreSQL",
        "share_type": "unconditional",
        "share_method": "platform",
        "platform_share_type": "table",
        "open_type": "not_open",
        "update_cycle": "daily",
        "related_codes": "",
        "extension": "",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
        "items-0-name": "统一社会信用代码",
        "items-0-data_type": "C",
        "items-0-length": "18",
        "items-1-name": "企业名称",
        "items-1-data_type": "C",
        "items-1-length": "200",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------------------------------------ detail


def test_detail_shows_core_metadata_items_and_history_to_the_owner(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    for text in (resource.code, "有条件共享", "用于政务服务身份核验", "公民身份号码", "每日", "版本历史", "提交审核"):
        assert text in page


def test_draft_of_another_department_answers_404(catalog_admin, outsider) -> None:
    resource = draft_of(catalog_admin)
    response = client_for(outsider).get(reverse("catalog:detail", args=[resource.pk]))
    assert response.status_code == 404
    assert "页面不存在或无权访问" in response.content.decode()


def test_published_entry_of_another_department_is_readable_without_history_or_actions(
    catalog_admin, platform_admin, outsider
) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    services.publish_resource(resource, actor=platform_admin)
    page = client_for(outsider).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert resource.name in page
    assert "版本历史" not in page
    assert "下线原因" not in page


def test_version_history_shows_the_field_by_field_difference(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    client = client_for(catalog_admin)
    client.post(
        reverse("catalog:edit", args=[resource.pk]),
        form_data(
            name="常住人口户籍登记信息（2026版）",
            category_code="101",
            share_type="conditional",
            share_condition="用于身份核验",
            platform_share_type="api",
        ),
    )
    page = client.get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert "常住人口户籍登记信息（2026版）" in page
    assert '信息项“<span lang="zh-Hans">企业名称</span>”' in page and "第 2 版" in page


def test_reviewer_sees_near_duplicates_from_other_departments_with_their_score(
    catalog_admin, outsider, platform_admin
) -> None:
    services.create_resource(resource_draft(outsider.department), actor=outsider)
    resource = draft_of(catalog_admin)
    page = client_for(platform_admin).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert "疑似重复资源" in page and "100%" in page


# ------------------------------------------------------------------------------------------------ actions


def test_department_admin_submits_a_draft(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    response = client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "submit"]), follow=True)
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.SUBMITTED
    assert "已提交审核" in response.content.decode()


def test_reject_without_reason_shows_the_chinese_error_and_changes_nothing(catalog_admin, platform_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    response = client_for(platform_admin).post(
        reverse("catalog:action", args=[resource.pk, "reject"]), {"reason": "  "}, follow=True
    )
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.SUBMITTED
    assert "驳回必须填写理由" in response.content.decode()


def test_department_admin_cannot_publish_own_entry(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    response = client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "publish"]), follow=True)
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.SUBMITTED
    assert "只有平台管理员可以发布资源" in response.content.decode()


def test_action_on_an_out_of_scope_resource_answers_404(catalog_admin, outsider) -> None:
    resource = draft_of(catalog_admin)
    response = client_for(outsider).post(reverse("catalog:action", args=[resource.pk, "delete"]))
    assert response.status_code == 404
    assert Resource.objects.filter(pk=resource.pk).exists()


def test_deleting_a_draft_goes_back_to_the_catalogue(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    response = client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "delete"]))
    assert response.status_code == 302 and response["Location"] == reverse("catalog:browse")
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_action_redirects_only_to_a_local_next_url(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    response = client_for(catalog_admin).post(
        reverse("catalog:action", args=[resource.pk, "submit"]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("catalog:detail", args=[resource.pk])


def test_withdrawn_with_reason_then_reopened_by_the_department(catalog_admin, platform_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    services.publish_resource(resource, actor=platform_admin)
    client_for(platform_admin).post(
        reverse("catalog:action", args=[resource.pk, "withdraw"]), {"reason": "数据来源系统停用"}
    )
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.WITHDRAWN
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert "数据来源系统停用" in page and "重新编辑" in page
    client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "reopen"]))
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.DRAFT


def test_unknown_action_answers_404(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    assert client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "approve"])).status_code == 404


# ------------------------------------------------------------------------------------------------ create / edit


def test_create_form_saves_a_draft_with_its_items(catalog_admin) -> None:
    response = client_for(catalog_admin).post(reverse("catalog:create"), form_data())
    resource = Resource.objects.get(name="企业登记基本信息")
    assert response.status_code == 302
    assert resource.department == catalog_admin.department
    assert [i.name for i in resource.items.order_by("position")] == ["统一社会信用代码", "企业名称"]


def test_bad_form_shows_each_chinese_problem_next_to_its_field_and_keeps_the_input(catalog_admin) -> None:
    data = form_data(share_type="conditional", share_condition="", **{"items-1-length": ""})
    response = client_for(catalog_admin).post(reverse("catalog:create"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="error" data-field="share_condition">有条件共享的资源必须填写共享条件</span>' in page
    assert 'data-row="2" data-field="length">第2个信息项为字符型，必须填写数据长度</span>' in page
    assert 'value="企业登记基本信息"' in page and 'value="统一社会信用代码"' in page
    assert not Resource.objects.exists()


def test_deleted_item_rows_are_not_saved(catalog_admin) -> None:
    client_for(catalog_admin).post(reverse("catalog:create"), form_data(**{"items-1-DELETE": "on"}))
    resource = Resource.objects.get()
    assert [i.name for i in resource.items.all()] == ["统一社会信用代码"]


def test_add_item_button_adds_a_row_without_saving(catalog_admin) -> None:
    response = client_for(catalog_admin).post(reverse("catalog:create"), form_data(add_item="1"))
    assert 'name="items-3-name"' in response.content.decode()
    assert not Resource.objects.exists()


def test_consumer_cannot_open_the_create_page(department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    response = client_for(consumer).get(reverse("catalog:create"))
    assert response.status_code == 403
    assert "只有部门目录管理员可以新建资源" in response.content.decode()


def test_edit_page_is_prefilled_and_keeps_the_code(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    page = client_for(catalog_admin).get(reverse("catalog:edit", args=[resource.pk])).content.decode()
    assert resource.code in page and 'value="公民身份号码"' in page


def test_submitted_entry_cannot_be_edited(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    response = client_for(catalog_admin).get(reverse("catalog:edit", args=[resource.pk]), follow=True)
    assert "只有草稿可以修改" in response.content.decode()


# ------------------------------------------------------------------------------------------------ review queue


def test_review_queue_lists_submitted_entries_for_the_platform_admin(catalog_admin, platform_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    page = client_for(platform_admin).get(reverse("catalog:review_queue")).content.decode()
    assert resource.name in page and "1 条资源待审核" in page


def test_review_queue_shows_the_best_duplicate_score(catalog_admin, outsider, platform_admin) -> None:
    services.create_resource(resource_draft(outsider.department), actor=outsider)
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    page = client_for(platform_admin).get(reverse("catalog:review_queue")).content.decode()
    assert f'href="/catalog/resources/{resource.pk}/#duplicates">100%</a>' in page


def test_review_queue_filters_by_department(catalog_admin, outsider, platform_admin) -> None:
    ours = draft_of(catalog_admin)
    theirs = services.create_resource(resource_draft(outsider.department, name="企业年报信息"), actor=outsider)
    services.submit_resource(ours, actor=catalog_admin)
    services.submit_resource(theirs, actor=outsider)
    url = reverse("catalog:review_queue") + f"?department={outsider.department.code}"
    page = client_for(platform_admin).get(url).content.decode()
    assert "企业年报信息" in page and ours.name not in page.split("<tbody>")[1]
    assert f"{catalog_admin.department.name}（1）" in page


def test_review_queue_is_not_there_for_a_department_admin(catalog_admin) -> None:
    assert client_for(catalog_admin).get(reverse("catalog:review_queue")).status_code == 404


def test_publishing_from_the_queue_returns_to_the_queue(catalog_admin, platform_admin) -> None:
    resource = draft_of(catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    queue = reverse("catalog:review_queue")
    response = client_for(platform_admin).post(
        reverse("catalog:action", args=[resource.pk, "publish"]), {"next": queue}
    )
    resource.refresh_from_db()
    assert response["Location"] == queue and resource.status == ReviewStatus.PUBLISHED


# ------------------------------------------------------------------------------------------------ maintenance


def test_maintenance_page_marks_departments_never_maintained_as_overdue(catalog_admin, other_department) -> None:
    page = client_for(catalog_admin).get(reverse("catalog:maintenance")).content.decode()
    assert other_department.name in page and "从未维护" in page and "2 个部门已逾期" in page


def test_department_admin_confirms_maintenance(catalog_admin) -> None:
    client_for(catalog_admin).post(reverse("catalog:maintenance"))
    catalog_admin.department.refresh_from_db()
    assert catalog_admin.department.last_full_maintenance_at is not None


def test_consumer_cannot_confirm_maintenance(department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    assert client_for(consumer).post(reverse("catalog:maintenance")).status_code == 403


# ------------------------------------------------------------------------------------------------ layout, language


def test_navigation_follows_the_roles(catalog_admin, platform_admin) -> None:
    admin_page = client_for(catalog_admin).get(reverse("catalog:maintenance")).content.decode()
    platform_page = client_for(platform_admin).get(reverse("catalog:maintenance")).content.decode()
    assert "新建资源" in admin_page and "审核队列" not in admin_page and "部门目录管理员" in admin_page
    assert "审核队列" in platform_page and "后台管理" in platform_page


def test_anonymous_visitor_is_sent_to_login() -> None:
    response = Client().get(reverse("catalog:maintenance"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_language_switch_renders_english(catalog_admin) -> None:
    resource = draft_of(catalog_admin)
    client = client_for(catalog_admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert "Version history" in page and "Conditional sharing" in page
    assert "版本历史" not in page


def test_english_navigation_and_choice_labels(platform_admin) -> None:
    client = client_for(platform_admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("catalog:review_queue")).content.decode()
    assert "Review queue" in page and "Platform administrator" in page and "Log out" in page


def test_detail_page_queries_do_not_grow_with_items_and_versions(catalog_admin, platform_admin) -> None:
    small = draft_of(catalog_admin)
    many_items = [ItemDraft(name=f"字段{n}", data_type="C", length=20) for n in range(40)]
    large = services.create_resource(resource_draft(catalog_admin.department, items=many_items), actor=catalog_admin)
    services.submit_resource(large, actor=catalog_admin)
    services.reject_resource(large, reason="请补充信息项说明", actor=platform_admin)
    services.submit_resource(large, actor=catalog_admin)
    services.publish_resource(large, actor=platform_admin)
    client = client_for(catalog_admin)
    counts = []
    for resource in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("catalog:detail", args=[resource.pk])).status_code == 200
        counts.append(len(queries))
    # Session, user, roles, the entry, its items and versions, its open change request, the panels (the duplicates
    # panel: candidates and 不是重复 marks), and the header's counts (unread messages; the department's rejected
    # entries for its catalogue administrator).
    assert counts[0] == counts[1] and counts[1] <= 14, counts


LINE_BREAKS = "=\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.text(st.characters(blacklist_characters=LINE_BREAKS), min_size=1).map(str.strip).filter(bool),
        st.text(st.characters(blacklist_characters=LINE_BREAKS[1:])).map(str.strip),
        max_size=5,
    )
)
def test_extension_metadata_round_trips_through_its_text_form(extension: dict[str, str]) -> None:
    assert parse_extension(format_extension(dict(extension))) == extension


def test_extension_line_without_equals_sign_is_refused_naming_the_line() -> None:
    with pytest.raises(ValidationError, match="第2行应为“名称=值”"):
        parse_extension("来源系统=人口库\n无等号")


def test_failed_login_keeps_the_account_and_says_why_in_chinese(catalog_admin) -> None:
    response = Client().post(reverse("login"), {"username": "gaj_admin", "password": "wrong-password"})
    page = response.content.decode()
    assert "账号或密码错误" in page and 'value="gaj_admin"' in page


def test_browse_page_facets_and_sorts_are_english(catalog_admin) -> None:
    draft_of(catalog_admin)
    client = client_for(catalog_admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("catalog:browse"), {"q": "人口"}).content.decode()
    assert "Relevance" in page and "Format" in page and "Sub-class" in page
    assert "相关度" not in page and "资源格式" not in page
