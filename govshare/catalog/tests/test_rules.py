import pytest

from govshare.catalog.rules import ItemDraft, check_resource_draft
from govshare.testing import resource_draft


@pytest.fixture
def lookups(department):  # type: ignore[no-untyped-def]
    from govshare.catalog.models import Category

    return {"departments": {department.code: department}, "categories": {c.code: c for c in Category.objects.all()}}


def messages(draft, lookups) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.message for p in check_resource_draft(draft, **lookups)]


@pytest.mark.django_db
def test_a_complete_draft_has_no_problems(department, lookups) -> None:
    assert messages(resource_draft(department), lookups) == []


@pytest.mark.django_db
def test_conditional_sharing_requires_conditions(department, lookups) -> None:
    assert "有条件共享的资源必须填写共享条件" in messages(resource_draft(department, share_condition=""), lookups)


@pytest.mark.django_db
def test_not_shared_requires_a_legal_basis_and_implies_not_open(department, lookups) -> None:
    found = messages(
        resource_draft(department, share_type="not_shared", share_condition="", open_type="unconditional"), lookups
    )
    assert "不予共享的资源必须填写法律、行政法规或国家政策依据" in found
    assert "不予共享的资源只能为不予开放" in found


@pytest.mark.django_db
def test_file_format_cannot_be_shared_as_a_table(department, lookups) -> None:
    found = messages(resource_draft(department, format="file", platform_share_type="table"), lookups)
    assert any("电子文件格式的资源应以文件方式共享" in m for m in found)


@pytest.mark.django_db
def test_item_cannot_be_looser_than_its_resource(department, lookups) -> None:
    loose = ItemDraft(name="姓名", data_type="C", length=20, share_type="unconditional")
    draft = resource_draft(department, items=[loose])
    assert "第1个信息项的共享属性不能比资源的共享属性更宽松" in messages(draft, lookups)


@pytest.mark.django_db
def test_mandatory_fields_are_named(department, lookups) -> None:
    found = messages(resource_draft(department, name="", summary="", items=[]), lookups)
    assert {"信息资源名称为必填项", "信息资源摘要为必填项", "信息资源至少应包含一个信息项"} <= set(found)


@pytest.mark.django_db
def test_unknown_enum_value_lists_the_allowed_ones(department, lookups) -> None:
    found = messages(resource_draft(department, update_cycle="hourly"), lookups)
    assert any(m.startswith("更新周期“hourly”无效，可选值：实时") for m in found)


@pytest.mark.django_db
def test_character_item_needs_a_length(department, lookups) -> None:
    draft = resource_draft(department, items=[ItemDraft(name="姓名", data_type="C")])
    assert "第1个信息项为字符型，必须填写数据长度" in messages(draft, lookups)
