"""The lists' files: each list exports to .xlsx and imports the file it exported; an import is whole-file-or-nothing
with the report every import gives (工作表 / 行 / 列 / 问题). Importing the negative list never changes a published
entry: a row that would change its share attribute becomes a draft change request of the catalogue."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.choices import RevisionState, ShareType
from govshare.catalog.models import Resource, ResourceRevision
from govshare.sharing import demands, duties, lists_io, negative
from govshare.sharing.list_files import ListLayout, write_xlsx
from govshare.sharing.models import Demand, Duty

pytestmark = pytest.mark.django_db

BASIS = "《中华人民共和国国家安全法》第五十一条"


def _exported(layout: ListLayout, rows) -> io.BytesIO:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    write_xlsx(layout, rows, buffer)
    buffer.seek(0)
    return buffer


def _edited(data: io.BytesIO, layout: ListLayout, changes: dict[tuple[int, str], str]) -> io.BytesIO:
    """The exported file with cells changed: (row, header) → value (row 2 is the first data row)."""
    book = load_workbook(data)
    sheet = book[layout.name]
    headers = [str(c.value).rstrip("*") for c in sheet[1]]
    for (row, header), value in changes.items():
        sheet.cell(row=row, column=headers.index(header) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _sheet(layout: ListLayout, rows: list[list[object]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.title = layout.name
    sheet.append([c.header for c in layout.columns])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


# ---------------------------------------------------------------------------------------------- negative list


@pytest.fixture
def shared(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, name="企业信用信息")


@pytest.fixture
def unshared(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(
        department,
        name="涉密档案目录",
        share_type="not_shared",
        share_condition="",
        share_basis=BASIS,
        share_method="",
        platform_share_type="",
    )


def test_the_negative_list_is_the_catalogues_published_not_shared_entries(consumer, shared, unshared):
    assert list(negative.negative_list(consumer)) == [unshared]


def test_the_exported_negative_list_imports_back_with_nothing_changed(catalog_admin, unshared):
    data = _exported(lists_io.NEGATIVE_LAYOUT, lists_io.negative_rows(negative.negative_list(catalog_admin)))
    result = lists_io.import_negative(data, file_name="负面清单.xlsx", actor=catalog_admin)
    assert result.imported, result.problems
    assert (result.outcome.unchanged, result.outcome.created) == (1, 0)
    assert not ResourceRevision.objects.exists()


def test_a_row_that_unshares_an_entry_becomes_a_draft_change_request_not_a_change(catalog_admin, shared):
    data = _sheet(lists_io.NEGATIVE_LAYOUT, [[shared.code, "", "", "不予共享", BASIS, ""]])
    result = lists_io.import_negative(data, file_name="负面清单.xlsx", actor=catalog_admin)
    assert result.imported, result.problems
    shared.refresh_from_db()
    assert shared.share_type == ShareType.CONDITIONAL  # the published entry is as it was
    revision = ResourceRevision.objects.get(resource=shared)
    assert revision.state == RevisionState.DRAFT
    assert (revision.content["share_type"], revision.content["share_basis"]) == ("not_shared", BASIS)
    assert {item["share_type"] for item in revision.content["items"]} == {"not_shared"}
    assert result.outcome.follow_up[0][1] == f"/catalog/resources/{shared.pk}/revision/"


def test_a_consumer_importing_a_list_that_would_unshare_an_entry_changes_nothing(consumer, outsider, shared):
    version = shared.version
    for actor in (consumer, outsider):
        data = _sheet(lists_io.NEGATIVE_LAYOUT, [[shared.code, "", "", "不予共享", BASIS, ""]])
        result = lists_io.import_negative(data, file_name="负面清单.xlsx", actor=actor)
        assert not result.imported
        assert result.problems[0].row == 2 and result.problems[0].letter == "A"
    shared.refresh_from_db()
    assert (shared.share_type, shared.share_basis, shared.version) == ("conditional", "", version)
    assert not ResourceRevision.objects.exists()
    assert AuditLog.objects.filter(action="sharing.list.import_refuse").count() == 2


def test_a_negative_row_edits_an_open_draft_change_request_and_keeps_its_other_changes(
    catalog_admin, department, shared
):
    from govshare.catalog import revisions

    revisions.save_revision(shared, testing.resource_draft(department, name="企业信用信息（新）"), actor=catalog_admin)
    data = _sheet(lists_io.NEGATIVE_LAYOUT, [[shared.code, "", "", "不予共享", BASIS, ""]])
    result = lists_io.import_negative(data, file_name="负面清单.xlsx", actor=catalog_admin)
    assert result.imported and result.outcome.updated == 1
    revision = ResourceRevision.objects.get(resource=shared)
    assert (revision.content["name"], revision.content["share_type"]) == ("企业信用信息（新）", "not_shared")


def test_a_submitted_change_request_refuses_the_whole_file(catalog_admin, department, shared, unshared):
    from govshare.catalog import revisions

    revisions.save_revision(shared, testing.resource_draft(department, name="改名"), actor=catalog_admin)
    revisions.submit_revision(shared, actor=catalog_admin)
    rows = [[unshared.code, "", "", "不予共享", "新的依据", ""], [shared.code, "", "", "不予共享", BASIS, ""]]
    result = lists_io.import_negative(_sheet(lists_io.NEGATIVE_LAYOUT, rows), file_name="x.xlsx", actor=catalog_admin)
    assert [p.row for p in result.problems] == [3]
    assert not ResourceRevision.objects.filter(resource=unshared).exists()  # row 2 was rolled back with the file


def test_a_negative_row_must_say_not_shared(catalog_admin, unshared):
    rows = [[unshared.code, "", "", "有条件共享", BASIS, ""]]
    result = lists_io.import_negative(_sheet(lists_io.NEGATIVE_LAYOUT, rows), file_name="x.xlsx", actor=catalog_admin)
    assert [(p.row, p.letter) for p in result.problems] == [(2, "D")]


def test_another_departments_draft_is_reported_as_unknown(catalog_admin, other_department):
    from govshare.catalog import services as catalog_services

    owner = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    draft = catalog_services.create_resource(testing.resource_draft(other_department), actor=owner)
    rows = [[draft.code, "", "", "不予共享", BASIS, ""]]
    result = lists_io.import_negative(_sheet(lists_io.NEGATIVE_LAYOUT, rows), file_name="x.xlsx", actor=catalog_admin)
    assert "不存在或无权访问" in result.problems[0].message


# ---------------------------------------------------------------------------------------------- demands and duties


def test_exported_demands_import_back_unchanged_and_an_edited_row_updates(consumer):
    demands.create_demand(
        demands.DemandInput(title="企业核验", description="开办核验", needed_items=["企业名称", "法定代表人"]),
        actor=consumer,
    )
    exported = _exported(lists_io.DEMAND_LAYOUT, lists_io.demand_rows(demands.demands_for(consumer)))
    result = lists_io.import_demands(exported, file_name="需求清单.xlsx", actor=consumer)
    assert result.imported and result.outcome.unchanged == 1
    exported.seek(0)
    edited = _edited(exported, lists_io.DEMAND_LAYOUT, {(2, "需求描述"): "开办与变更核验", (3, "需求名称"): "新需求"})
    edited = _edited(edited, lists_io.DEMAND_LAYOUT, {(3, "需求描述"): "新的描述"})
    result = lists_io.import_demands(edited, file_name="需求清单.xlsx", actor=consumer)
    assert result.imported, result.problems
    assert (result.outcome.updated, result.outcome.created) == (1, 1)
    assert Demand.objects.get(title="企业核验").description == "开办与变更核验"


def test_a_demand_file_with_one_bad_row_imports_nothing_and_names_the_cell(consumer):
    rows = [["好的需求", "", "描述", "", "", "", "", "", ""], ["坏的需求", "", "", "", "不存在的部门", "", "", "", ""]]
    result = lists_io.import_demands(_sheet(lists_io.DEMAND_LAYOUT, rows), file_name="x.xlsx", actor=consumer)
    assert not result.imported
    assert sorted((p.row, p.letter) for p in result.problems) == [(3, "C"), (3, "E")]
    assert not Demand.objects.exists()


def test_the_coordinator_imports_duties_and_a_department_may_not(coordinator, catalog_admin, department):
    rows = [[department.code, "", "户籍信息", "", "《户口登记条例》", "", ""]]
    refused = lists_io.import_duties(_sheet(lists_io.DUTY_LAYOUT, rows), file_name="x.xlsx", actor=catalog_admin)
    assert not refused.imported and refused.problems[0].row is None
    result = lists_io.import_duties(_sheet(lists_io.DUTY_LAYOUT, rows), file_name="x.xlsx", actor=coordinator)
    assert result.imported and result.outcome.created == 1
    again = _exported(lists_io.DUTY_LAYOUT, lists_io.duty_rows(duties.duties_for(coordinator)))
    assert lists_io.import_duties(again, file_name="x.xlsx", actor=coordinator).outcome.unchanged == 1
    assert Duty.objects.count() == 1


def test_a_file_that_is_not_a_workbook_is_refused_as_a_whole(coordinator):
    result = lists_io.import_duties(io.BytesIO(b"a,b\n1,2\n"), file_name="x.xlsx", actor=coordinator)
    assert not result.imported and result.problems[0].sheet == ""


def test_a_missing_column_is_reported_on_the_header_row(coordinator):
    book = Workbook()
    sheet = book.active
    sheet.title = lists_io.DUTY_LAYOUT.name
    sheet.append(["责任部门代码", "资源名称"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    result = lists_io.import_duties(data, file_name="x.xlsx", actor=coordinator)
    assert result.problems[0].row == 1 and "依据" in result.problems[0].message


def test_an_answered_demand_exported_and_imported_again_is_unchanged(consumer, provider_admin, other_department):
    demand = demands.create_demand(
        demands.DemandInput(title="企业核验", description="开办核验", provider_code=other_department.code),
        actor=consumer,
    )
    demands.answer_demand(demand, resource=testing.make_published_resource(other_department), actor=provider_admin)
    exported = _exported(lists_io.DEMAND_LAYOUT, lists_io.demand_rows(demands.demands_for(consumer)))
    result = lists_io.import_demands(exported, file_name="需求清单.xlsx", actor=consumer)
    assert result.imported and result.outcome.unchanged == 1
    exported.seek(0)
    edited = _edited(exported, lists_io.DEMAND_LAYOUT, {(2, "需求描述"): "改了"})
    refused = lists_io.import_demands(edited, file_name="需求清单.xlsx", actor=consumer)
    assert [(p.row, p.letter) for p in refused.problems] == [(2, "A")]
