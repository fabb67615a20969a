"""Masking of previews and downloads on the server: the owning department reads its data as it is; anyone else
who may read it (the platform administrator now, grantees later) gets the graded masking, in every format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import cast

import pytest
from django.http import StreamingHttpResponse

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import NotFound
from govshare.datasets import reading, services
from govshare.datasets.loading import run_load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L3"),
    ItemDraft(name="姓名", data_type="C", length=50, data_level="L3"),
    ItemDraft(name="病历摘要", data_type="C", length=200, data_level="L4"),
    ItemDraft(name="行政区划", data_type="C", length=6, data_level="L3"),
]
ROW = ["11010519491231002X", "欧阳娜娜", "高血压", "110105"]


@pytest.fixture
def owner(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def loaded(department, owner, tmp_path):  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, data_level="L3", name="就诊人员信息")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(i.name, i.name) for i in ITEMS], actor=owner)
    path = tmp_path / "a.csv"
    path.write_text(",".join(i.name for i in ITEMS) + "\n" + ",".join(ROW) + "\n坏行\n", encoding="utf-8")
    load = services.request_load(source, actor=owner, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    return resource, load


def _body(response: StreamingHttpResponse) -> str:
    return b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8-sig")


def test_the_owning_department_reads_its_data_unmasked(loaded, owner) -> None:
    resource, _ = loaded
    preview = reading.preview_version(owner, resource)
    assert preview.rows == [ROW]


def test_the_platform_administrator_gets_masked_values_and_no_withheld_column(loaded, platform_admin) -> None:
    resource, _ = loaded
    preview = reading.preview_version(platform_admin, resource)
    assert [f.name for f in preview.fields] == ["公民身份号码", "姓名", "行政区划"]
    assert preview.rows == [["110105********002X", "欧阳**", "1****5"]]


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_downloads_are_masked_in_every_format(loaded, platform_admin, file_format) -> None:
    resource, _ = loaded
    response = reading.download_response(platform_admin, resource, file_format=file_format)
    body = _body(response)
    assert "11010519491231002X" not in body and "欧阳娜娜" not in body and "高血压" not in body
    if file_format == "json":
        assert json.loads(body) == [{"公民身份号码": "110105********002X", "姓名": "欧阳**", "行政区划": "1****5"}]


def test_the_rejects_file_is_for_the_owning_department_only(loaded, owner, platform_admin) -> None:
    _, load = loaded
    assert load.rows_rejected == 1
    response = reading.rejects_response(owner, load)
    lines = b"".join(cast(Iterator[bytes], response.streaming_content)).decode("utf-8-sig").splitlines()
    assert lines[0] == "行号,列,原因,原始值"
    assert lines[1].startswith("3,")  # the ragged row "坏行" is record 3 (header = row 1)
    with pytest.raises(NotFound):
        reading.rejects_response(platform_admin, load)
