"""What the import tells its user: the template's example rows are never imported, what an import created and
where to find it, and a file imported before is imported again only when the user confirms."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import importing
from govshare.catalog.models import ImportBatch, Resource
from govshare.testing.api import bearer, upload
from govshare.testing.xlsx_files import item_rows, resource_row, valid_file, xlsx


def run(data: bytes, user, *, confirm: bool = False) -> importing.ImportResult:  # type: ignore[no-untyped-def]
    return importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=user, confirm=confirm)


def template_filled_below_its_example(department_code: str) -> bytes:
    """The downloaded template with one resource and its items typed under the example rows."""
    book = load_workbook(io.BytesIO(importing.template_bytes(department_code=department_code)))
    resources, items = book["信息资源"], book["信息项"]
    headers = [c.value for c in resources[1]]
    row = resource_row(1, department_code)
    resources.append([row.get(h) for h in headers])
    item_headers = [c.value for c in items[1]]
    for item in item_rows(1):
        items.append([item.get(h) for h in item_headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def signed_in(catalog_admin) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    return client


# ---------------------------------------------------------------------------------------------- example rows


def test_template_marks_its_example_rows_by_their_sequence_number() -> None:
    book = load_workbook(io.BytesIO(importing.template_bytes()))
    assert book["信息资源"]["A2"].value == importing.EXAMPLE_SEQ
    assert {c.value for c in book["信息项"]["A"][1:]} == {importing.EXAMPLE_SEQ}
    assert any(label == "示例行" for label, _ in importing.guide_rows())


@pytest.mark.django_db
def test_rows_under_the_example_are_imported_and_the_example_is_reported_as_skipped(catalog_admin, department) -> None:
    result = run(template_filled_below_its_example(department.code), catalog_admin)
    assert result.imported, result.problems
    resource = Resource.objects.get()
    assert resource.name == "企业登记基本信息1" and resource.items.count() == 2
    assert result.notes == ["已跳过模板的示例行（资源序号为“示例”）：“信息资源”第2行；“信息项”第2、3、4行"]


# ---------------------------------------------------------------------------------------------- what was created


@pytest.mark.django_db
def test_import_page_lists_the_created_entries_with_links_and_shows_the_batch_as_the_drafts(
    signed_in, department
) -> None:
    response = signed_in.post(reverse("catalog:import"), {"file": upload(valid_file(department.code, 2))})
    html = response.content.decode()
    batch = ImportBatch.objects.get()
    for resource in Resource.objects.all():
        assert resource.code in html and resource.name in html
        assert reverse("catalog:detail", args=[resource.pk]) in html
    assert f'href="{reverse("catalog:import_batch", args=[batch.pk])}" id="view-drafts"' in html


@pytest.mark.django_db
def test_batch_page_lists_only_the_entries_that_batch_created(signed_in, department) -> None:
    signed_in.post(reverse("catalog:import"), {"file": upload(valid_file(department.code, 2))})
    first = ImportBatch.objects.get()
    other = resource_row(1, department.code, 信息资源名称="另一批的资源")
    uploader = first.uploaded_by
    assert uploader is not None
    importing.import_catalog(io.BytesIO(xlsx([other], item_rows(1))), file_name="b.xlsx", actor=uploader)
    html = signed_in.get(reverse("catalog:import_batch", args=[first.pk])).content.decode()
    assert "企业登记基本信息1" in html and "企业登记基本信息2" in html
    assert "另一批的资源" not in html
    assert [r.name for r in importing.created_by_batch(first)] == ["企业登记基本信息1", "企业登记基本信息2"]


# ---------------------------------------------------------------------------------------------- the same file twice


@pytest.mark.django_db
def test_importing_the_same_file_again_asks_first_and_creates_nothing(catalog_admin, department) -> None:
    data = valid_file(department.code, 2)
    first = run(data, catalog_admin)
    with pytest.raises(importing.AlreadyImported) as asked:
        run(data, catalog_admin)
    assert asked.value.earlier == first.batch
    assert asked.value.message.startswith("该文件已于 ") and f"导入过（批次 #{first.batch.pk}），仍要导入吗？" in (
        asked.value.message
    )
    assert Resource.objects.count() == 2 and ImportBatch.objects.count() == 1


@pytest.mark.django_db
def test_importing_the_same_file_again_with_confirmation_imports_it(catalog_admin, department) -> None:
    data = valid_file(department.code, 2)
    run(data, catalog_admin)
    assert run(data, catalog_admin, confirm=True).imported
    assert Resource.objects.count() == 4


@pytest.mark.django_db
def test_a_file_refused_before_is_not_called_imported(catalog_admin, department) -> None:
    data = valid_file(department.code, 1)
    department.is_active = False
    department.save()
    assert not run(data, catalog_admin).imported
    department.is_active = True
    department.save()
    assert run(data, catalog_admin).imported


@pytest.mark.django_db
def test_page_asks_before_importing_the_same_file_again_and_imports_on_confirmation(signed_in, department) -> None:
    data = valid_file(department.code, 2)
    signed_in.post(reverse("catalog:import"), {"file": upload(data)})
    batch = ImportBatch.objects.get()
    asked = signed_in.post(reverse("catalog:import"), {"file": upload(data)})
    assert asked.status_code == 409
    html = asked.content.decode()
    assert f"导入过（批次 #{batch.pk}），仍要导入吗？" in html
    assert 'name="confirm" value="true"' in html and 'id="import-confirm"' in html
    assert Resource.objects.count() == 2
    confirmed = signed_in.post(reverse("catalog:import"), {"file": upload(data), "confirm": "true"})
    assert confirmed.status_code == 200
    assert Resource.objects.count() == 4


@pytest.mark.django_db
def test_api_answers_409_for_the_same_file_unless_confirmed(catalog_admin, department) -> None:
    data = valid_file(department.code, 2)
    headers = bearer(catalog_admin, name="导入脚本")
    client = Client()
    first = client.post("/api/catalog/imports", {"file": upload(data)}, headers=headers)
    assert first.status_code == 200
    again = client.post("/api/catalog/imports", {"file": upload(data)}, headers=headers)
    assert again.status_code == 409
    batch_id = first.json()["batch"]["id"]
    assert f"导入过（批次 #{batch_id}），仍要导入吗？" in again.json()["detail"]
    assert Resource.objects.count() == 2
    confirmed = client.post("/api/catalog/imports", {"file": upload(data), "confirm": "true"}, headers=headers)
    assert confirmed.status_code == 200 and Resource.objects.count() == 4


@pytest.mark.django_db
def test_another_users_import_of_the_same_file_does_not_ask(catalog_admin, department) -> None:
    data = valid_file(department.code, 1)
    run(data, catalog_admin)
    colleague = testing.make_user(Role.CATALOG_ADMIN, department=department)
    assert run(data, colleague).imported
