"""The source form says which fields apply to which choice (for the static script that hides the others): the
sheet to xlsx files, the delimiter to CSV and TSV, the watermark column to 按水位追加 and the key items to 按主键合并
(both then required); and its required fields carry the * class."""

from __future__ import annotations

import re

import pytest

from govshare import testing
from govshare.datasets.tests.test_views import ITEMS, page, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


def _field(html: str, name: str) -> str:
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}[^"]*"[^>]*>[^<]*</label>\s*<[^>]*>', html)
    assert match, name
    return match.group(0)


def test_the_file_source_form_ties_sheet_and_delimiter_to_the_format(resource, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    html = page(signed_in(catalog_admin), f"/datasets/resources/{resource.pk}/sources/new/file/")
    assert 'data-show-when="file_format" data-show-values="xlsx"' in _field(html, "sheet")
    assert 'data-show-when="file_format" data-show-values="csv tsv"' in _field(html, "delimiter")
    assert '<div class="field required">' in _field(html, "name")


def test_watermark_and_key_items_apply_to_their_load_mode(resource, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    html = page(signed_in(catalog_admin), f"/datasets/resources/{resource.pk}/sources/new/database/")
    watermark = _field(html, "watermark_column")
    assert 'data-show-when="load_mode" data-show-values="append" data-required-when-shown' in watermark
    assert 'data-show-when="load_mode" data-show-values="upsert"' in html.split('id="id_key_items"')[1]
    assert " required " not in watermark  # 全量 is the initial mode


def test_the_watermark_is_marked_required_when_append_is_chosen(resource, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(catalog_admin).post(
        f"/datasets/resources/{resource.pk}/sources/new/file/",
        {"name": "季度报送", "load_mode": "append", "file_format": "csv"},
    )
    html = response.content.decode()
    assert response.status_code == 200  # the rules refuse 按水位追加 without a watermark column, as before
    assert '<div class="field has-error required">' in _field(html, "watermark_column")
