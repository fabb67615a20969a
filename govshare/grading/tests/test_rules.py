"""Grading rules in govshare.catalog.rules: 核心/L4 never opened, L3/L2 not opened unconditionally, items never
looser than their resource, blank values defaulted, and who needs the security officer's co-approval."""

from __future__ import annotations

import pytest

from govshare.catalog import history, services
from govshare.catalog.models import Category
from govshare.catalog.rules import ItemDraft, check_resource_draft, needs_security_co_approval, tightened_open_type
from govshare.core.errors import ValidationFailed
from govshare.testing import make_published_resource, resource_draft


@pytest.fixture
def lookups(department):  # type: ignore[no-untyped-def]
    return {"departments": {department.code: department}, "categories": {c.code: c for c in Category.objects.all()}}


def problems(draft, lookups) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p.field: p.message for p in check_resource_draft(draft, **lookups)}


def open_draft(department, **overrides):  # type: ignore[no-untyped-def]
    values = {"open_type": "conditional", "open_condition": "依申请开放，脱敏后提供"}
    values.update(overrides)
    return resource_draft(department, **values)


@pytest.mark.django_db
def test_core_data_is_never_opened(department, lookups) -> None:
    found = problems(open_draft(department, grade="core"), lookups)
    assert found == {"open_type": "资源的数据级别为“核心”，开放属性只能为“不予开放”（现为“有条件开放”）"}


@pytest.mark.django_db
def test_l4_data_is_never_opened(department, lookups) -> None:
    found = problems(open_draft(department, data_level="L4"), lookups)
    assert found == {"open_type": "资源的敏感级别为“L4 敏感”，开放属性只能为“不予开放”（现为“有条件开放”）"}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["L2", "L3"])
def test_l2_and_l3_are_not_opened_unconditionally(department, lookups, level) -> None:
    found = problems(resource_draft(department, open_type="unconditional", data_level=level), lookups)
    assert found["open_type"].startswith(f"资源的敏感级别为“{level} ")
    assert "不能“无条件开放”：L3、L2 级数据只能依申请开放（有条件开放），并经脱敏后提供" in found["open_type"]


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["L2", "L3"])
def test_l2_and_l3_may_be_opened_on_application(department, lookups, level) -> None:
    assert problems(open_draft(department, data_level=level, grade="important"), lookups) == {}


@pytest.mark.django_db
def test_l1_general_data_may_be_opened_unconditionally(department, lookups) -> None:
    assert problems(resource_draft(department, open_type="unconditional", data_level="L1"), lookups) == {}


@pytest.mark.django_db
def test_unknown_grade_and_level_list_the_allowed_ones(department, lookups) -> None:
    found = problems(resource_draft(department, grade="secret", data_level="L5"), lookups)
    assert found["grade"] == "数据级别“secret”无效，可选值：核心、重要、一般"
    assert found["data_level"] == "敏感级别“L5”无效，可选值：L4 敏感、L3 较敏感、L2 低敏感、L1 不敏感"


@pytest.mark.django_db
def test_item_grade_may_not_be_looser_than_its_resource(department, lookups) -> None:
    item = ItemDraft(name="姓名", data_type="C", length=50, grade="general")
    found = problems(resource_draft(department, grade="important", items=[item]), lookups)
    assert found == {"items[1].grade": "第1个信息项“姓名”的数据级别“一般”不能比资源的数据级别“重要”更宽松"}


@pytest.mark.django_db
def test_item_level_may_not_be_looser_than_its_resource(department, lookups) -> None:
    item = ItemDraft(name="姓名", data_type="C", length=50, data_level="L1")
    found = problems(resource_draft(department, data_level="L3", items=[item]), lookups)
    assert found == {
        "items[1].data_level": "第1个信息项“姓名”的敏感级别“L1 不敏感”不能比资源的敏感级别“L3 较敏感”更宽松"
    }


@pytest.mark.django_db
def test_a_stricter_item_must_not_be_opened(department, lookups) -> None:
    item = ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L4")
    found = problems(open_draft(department, data_level="L2", items=[item]), lookups)
    message = "第1个信息项“公民身份号码”的敏感级别为“L4 敏感”，开放属性只能为“不予开放”（现为“有条件开放”）"
    assert found == {"items[1].open_type": message}


@pytest.mark.django_db
def test_a_stricter_item_closed_itself_is_consistent(department, lookups) -> None:
    item = ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L4", grade="core", open_type="not_open")
    assert problems(open_draft(department, data_level="L2", items=[item]), lookups) == {}


@pytest.mark.django_db
def test_blank_grades_default_to_general_l2_and_items_follow_the_resource(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    assert (resource.grade, resource.data_level) == ("general", "L2")
    assert {(i.grade, i.data_level) for i in resource.items.all()} == {("general", "L2")}


@pytest.mark.django_db
def test_a_blank_level_of_an_unconditionally_open_entry_is_l1(catalog_admin, department) -> None:
    draft = resource_draft(department, open_type="unconditional", share_type="unconditional", share_condition="")
    resource = services.create_resource(draft, actor=catalog_admin)
    assert resource.data_level == "L1"


@pytest.mark.django_db
def test_the_api_service_refuses_an_opened_core_entry(catalog_admin, department) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.create_resource(open_draft(department, grade="core"), actor=catalog_admin)
    assert [p.field for p in caught.value.problems] == ["open_type"]


@pytest.mark.django_db
def test_grades_are_recorded_in_the_version_history(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.update_resource(
        resource, resource_draft(department, grade="important", data_level="L3"), actor=catalog_admin
    )
    latest = resource.versions.order_by("-number")[0]
    changes = {c["label"]: (c["old"], c["new"]) for c in latest.changes}
    assert changes["数据级别"] == ("一般", "重要") and changes["敏感级别"] == ("L2 低敏感", "L3 较敏感")


@pytest.mark.django_db
def test_published_entries_grades_are_not_edited_directly(catalog_admin, platform_admin, department) -> None:
    resource = make_published_resource(department)
    services.withdraw_resource(resource, reason="调整", actor=platform_admin)
    services.reopen_resource(resource, actor=catalog_admin)
    with pytest.raises(ValidationFailed) as caught:
        services.update_resource(resource, resource_draft(department, grade="important"), actor=catalog_admin)
    [problem] = caught.value.problems
    assert problem.field == "grade"
    assert problem.message == (
        "资源已发布过，数据级别不能直接从“一般”改为“重要”：请在资源页面提交“分级调整申请”，由安全管理员审核后生效"
    )


@pytest.mark.django_db
def test_a_reopened_entry_keeps_its_grades_when_the_edit_leaves_them_blank(catalog_admin, platform_admin, department):  # type: ignore[no-untyped-def]
    resource = make_published_resource(department, grade="important", data_level="L3")
    services.withdraw_resource(resource, reason="调整", actor=platform_admin)
    services.reopen_resource(resource, actor=catalog_admin)
    updated = services.update_resource(resource, resource_draft(department, summary="新摘要"), actor=catalog_admin)
    assert (updated.grade, updated.data_level) == ("important", "L3")


@pytest.mark.django_db
def test_important_data_needs_the_security_officers_co_approval(department) -> None:
    assert needs_security_co_approval(make_published_resource(department, grade="important"))


@pytest.mark.django_db
def test_general_data_with_an_important_item_needs_it_only_for_that_item(department) -> None:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, grade="important"),
        ItemDraft(name="出生日期", data_type="D"),
    ]
    resource = make_published_resource(department, items=items)
    by_name = {item.name: item for item in resource.items.all()}
    assert needs_security_co_approval(resource)
    assert needs_security_co_approval(resource, [by_name["公民身份号码"]])
    assert not needs_security_co_approval(resource, [by_name["出生日期"]])


@pytest.mark.django_db
def test_general_data_needs_no_co_approval(department) -> None:
    assert not needs_security_co_approval(make_published_resource(department))


def test_tightened_open_type() -> None:
    assert tightened_open_type("unconditional", "general", "L4") == "not_open"
    assert tightened_open_type("conditional", "core", "L1") == "not_open"
    assert tightened_open_type("unconditional", "important", "L3") == "conditional"
    assert tightened_open_type("unconditional", "general", "L1") == "unconditional"
    assert tightened_open_type("not_open", "general", "L1") == "not_open"


@pytest.mark.django_db
def test_a_reopened_entry_keeps_a_stricter_items_grade_when_the_edit_leaves_it_blank(
    catalog_admin, platform_admin, department
) -> None:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, grade="important"),
        ItemDraft(name="出生日期", data_type="D"),
    ]
    resource = make_published_resource(department, items=items)
    services.withdraw_resource(resource, reason="调整", actor=platform_admin)
    services.reopen_resource(resource, actor=catalog_admin)
    blank = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="出生日期", data_type="D")]
    services.update_resource(resource, resource_draft(department, items=blank), actor=catalog_admin)
    assert dict(resource.items.values_list("name", "grade")) == {"公民身份号码": "important", "出生日期": "general"}


@pytest.mark.django_db
def test_a_reopened_entrys_item_grade_is_not_edited_directly(catalog_admin, platform_admin, department) -> None:
    resource = make_published_resource(department)
    services.withdraw_resource(resource, reason="调整", actor=platform_admin)
    services.reopen_resource(resource, actor=catalog_admin)
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L3"),
        ItemDraft(name="姓名", data_type="C", length=50),
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.update_resource(resource, resource_draft(department, items=items), actor=catalog_admin)
    assert [p.field for p in caught.value.problems] == ["items[1].data_level"]
    assert "信息项“公民身份号码”已发布过" in caught.value.problems[0].message


def test_a_snapshot_from_before_grading_shows_no_grade_change() -> None:
    before = {"name": "甲", "items": [{"name": "姓名", "data_type": "C"}]}
    after = {
        "name": "甲",
        "grade": "general",
        "data_level": "L2",
        "items": [{"name": "姓名", "data_type": "C", "grade": "general", "data_level": "L2"}],
    }
    assert history.diff(before, after) == []
