"""Threat: the platform administrator, who reads every department's dataset masked, reads another department's raw
source rows (the source preview, the mapping page), or re-maps a source or loads into its dataset.

A source's preview is its raw, unmasked rows; its mapping and loads decide what goes into the department's
dataset. These are the owning department's catalogue administrators' alone: the platform administrator of another
department gets 404, as for a missing source, and no row of the source. He still sees that the source exists, its
settings (without credentials), its mapping and its loads, and reads the dataset masked.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import reading
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources.models import Source
from govshare.testing.datasets import Api

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
]
ID_NUMBER = "11010519491231002X"
CSV_TEXT = f"身份证号,姓名\n{ID_NUMBER},张三\n510603199001010011,王五\n"
MAPPING = [{"column": "身份证号", "item": "公民身份号码"}, {"column": "姓名", "item": "姓名"}]


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def source(resource: Resource, catalog_admin: User) -> Source:
    """The department's file source, mapped and loaded once (its file stays as the source's latest input)."""
    owner = Api(catalog_admin)
    body = {"name": "线下报送", "kind": "file", "config": {"format": "csv"}}
    source_id = owner.post(f"/resources/{resource.pk}/sources", body).json()["id"]
    assert owner.put(f"/sources/{source_id}/mapping", {"mapping": MAPPING}).status_code == 200
    response = owner.upload(f"/sources/{source_id}/uploads", "人口.csv", CSV_TEXT.encode("gbk"))
    run_load(response.json()["id"])
    return Source.objects.get(pk=source_id)


@pytest.fixture
def admin(platform_admin: User) -> Api:
    return Api(platform_admin)


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _admin_audit(user: User, action: str) -> bool:
    return AuditLog.objects.filter(actor=user, action=action).exists()


def test_the_source_preview_answers_404_to_the_platform_administrator(
    source: Source, admin: Api, platform_admin: User
) -> None:
    stored = admin.post(f"/sources/{source.pk}/preview")
    uploaded = admin.upload(f"/sources/{source.pk}/preview", "样例.csv", CSV_TEXT.encode("gbk"))
    assert (stored.status_code, uploaded.status_code) == (404, 404)
    assert stored.json()["detail"] == admin.post("/sources/999999/preview").json()["detail"]  # as for a missing one
    assert ID_NUMBER not in stored.content.decode() + uploaded.content.decode()
    assert not _admin_audit(platform_admin, reading.ACTION_SOURCE_PREVIEW)


def test_the_mapping_page_answers_404_to_the_platform_administrator(source: Source, platform_admin: User) -> None:
    client = _signed_in(platform_admin)
    response = client.get(f"/datasets/sources/{source.pk}/mapping/")
    assert response.status_code == 404
    assert ID_NUMBER not in response.content.decode()
    sample = SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk"))
    assert client.post(f"/datasets/sources/{source.pk}/mapping/", {"file": sample}).status_code == 404
    assert not _admin_audit(platform_admin, reading.ACTION_SOURCE_PREVIEW)


def test_the_platform_administrator_may_not_remap_another_departments_source(
    source: Source, admin: Api, platform_admin: User
) -> None:
    swapped = [{"column": "身份证号", "item": "姓名"}, {"column": "姓名", "item": "公民身份号码"}]
    assert admin.put(f"/sources/{source.pk}/mapping", {"mapping": swapped}).status_code == 404
    page = _signed_in(platform_admin).post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"confirm": "1", "column": ["身份证号", "姓名"], "item_0": "姓名", "item_1": "公民身份号码"},
    )
    assert page.status_code == 404
    assert Source.objects.get(pk=source.pk).mapping == MAPPING


def test_the_platform_administrator_may_not_load_into_another_departments_dataset(
    source: Source, admin: Api, platform_admin: User
) -> None:
    loads = Load.objects.count()
    assert admin.upload(f"/sources/{source.pk}/uploads", "人口.csv", CSV_TEXT.encode("gbk")).status_code == 404
    client = _signed_in(platform_admin)
    upload = SimpleUploadedFile("人口.csv", CSV_TEXT.encode("gbk"))
    assert client.post(f"/datasets/sources/{source.pk}/upload/", {"file": upload}).status_code == 404
    assert Load.objects.count() == loads
    assert not _admin_audit(platform_admin, "datasets.load.request")


def test_the_platform_administrator_may_not_start_or_retry_loads_of_an_api_source(
    resource: Resource, catalog_admin: User, admin: Api, platform_admin: User
) -> None:
    owner = Api(catalog_admin)
    config = {"url": "https://api.example.gov.cn/people", "records_path": "$.data[*]"}
    api_source = owner.post(
        f"/resources/{resource.pk}/sources", {"name": "接口", "kind": "http_api", "config": config}
    ).json()["id"]
    owner.put(f"/sources/{api_source}/mapping", {"mapping": MAPPING})
    failed = Load.objects.create(
        dataset=resource.dataset, source_id=api_source, mode="full", status="failed", requested_by=catalog_admin
    )
    assert admin.post(f"/sources/{api_source}/loads", {}).status_code == 404
    assert admin.post(f"/loads/{failed.pk}/retry").status_code == 404
    client = _signed_in(platform_admin)
    assert client.post(f"/datasets/sources/{api_source}/load/").status_code == 404
    assert client.post(f"/datasets/loads/{failed.pk}/retry/").status_code == 404
    assert Load.objects.filter(source_id=api_source).count() == 1
    assert Load.objects.get(pk=failed.pk).status == "failed"


def test_the_platform_administrator_may_not_register_or_change_another_departments_source(
    resource: Resource, source: Source, admin: Api, platform_admin: User
) -> None:
    body = {"name": "管理员的来源", "kind": "file", "config": {"format": "csv"}}
    assert admin.post(f"/resources/{resource.pk}/sources", body).status_code == 404
    assert admin.put(f"/sources/{source.pk}", {**body, "name": "改名"}).status_code == 404
    assert _signed_in(platform_admin).get(f"/datasets/resources/{resource.pk}/sources/new/file/").status_code == 404
    assert list(Source.objects.filter(resource=resource).values_list("name", flat=True)) == ["线下报送"]


def test_the_platform_administrator_still_sees_the_source_and_reads_the_data_masked(
    resource: Resource, source: Source, admin: Api, platform_admin: User
) -> None:
    shown = admin.get(f"/sources/{source.pk}")
    assert shown.status_code == 200
    assert (shown.json()["is_active"], shown.json()["mapping"]) == (True, MAPPING)
    assert [s["id"] for s in admin.get(f"/resources/{resource.pk}/sources").json()] == [source.pk]
    assert admin.get(f"/resources/{resource.pk}/loads").json()["total"] == 1
    preview = admin.get(f"/resources/{resource.pk}/dataset/preview")
    assert preview.status_code == 200 and ID_NUMBER not in json.dumps(preview.json(), ensure_ascii=False)
    page = _signed_in(platform_admin).get(f"/datasets/resources/{resource.pk}/").content.decode()
    assert "线下报送" in page and f"/datasets/sources/{source.pk}/mapping/" not in page


def test_a_platform_administrator_of_the_owning_department_still_manages_its_sources(
    resource: Resource, source: Source, department
) -> None:  # type: ignore[no-untyped-def]
    own = Api(testing.make_user(Role.PLATFORM_ADMIN, department=department))
    response = own.post(f"/sources/{source.pk}/preview")
    assert response.status_code == 200, response.content
    assert ID_NUMBER in json.dumps(response.json(), ensure_ascii=False)


def test_the_owning_departments_administrator_still_previews_the_raw_rows(source: Source, catalog_admin: User) -> None:
    response = Api(catalog_admin).post(f"/sources/{source.pk}/preview")
    assert response.status_code == 200
    assert ID_NUMBER in json.dumps(response.json(), ensure_ascii=False)
    page = _signed_in(catalog_admin).get(f"/datasets/sources/{source.pk}/mapping/")
    assert page.status_code == 200 and ID_NUMBER in page.content.decode()


def test_a_colleague_without_the_catalogue_role_is_refused_403(source: Source, department) -> None:  # type: ignore[no-untyped-def]
    consumer = Api(testing.make_user(Role.CONSUMER, department=department))
    assert consumer.post(f"/sources/{source.pk}/preview").status_code == 403
    assert consumer.put(f"/sources/{source.pk}/mapping", {"mapping": MAPPING}).status_code == 403
