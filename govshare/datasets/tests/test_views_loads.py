"""What the load pages tell people: a load with rejected rows is not a clean success, its first rejects are on its
page, a finished load has no progress bar and offers the next step, versions are counted from 1, and the mapping's
sample can be loaded without uploading it again."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govshare import testing
from govshare.audit.models import AuditLog
from govshare.catalog.choices import AtRest
from govshare.catalog.rules import ItemDraft
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.datasets.reading import ACTION_REJECTS
from govshare.datasets.templatetags.datasets_ui import human_version
from govshare.datasets.tests.test_views import CSV_TEXT, file_source, loaded, page, signed_in
from govshare.sources.models import Source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

CLEAN_CSV = "身份证号,姓名,出生日期\n11010519491231002X,张三,1949-12-31\n"

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def owner(catalog_admin):  # type: ignore[no-untyped-def]
    return signed_in(catalog_admin)


def test_a_load_with_rejected_rows_shows_partly_rejected_with_the_count(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    assert load.rows_rejected == 1
    for html in (page(owner, f"/datasets/loads/{load.pk}/"), page(owner, f"/datasets/resources/{resource.pk}/")):
        assert "部分拒绝（1 行）" in html
        assert 'status-succeeded">成功<' not in html


def test_a_clean_load_shows_success(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin, text=CLEAN_CSV)
    html = page(owner, f"/datasets/loads/{load.pk}/")
    assert 'status-succeeded">成功<' in html and "部分拒绝" not in html and 'id="first-rejects"' not in html


def test_the_load_page_shows_the_first_rejects_and_records_the_read(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    html = page(owner, f"/datasets/loads/{load.pk}/")
    section = html.split('id="first-rejects"')[1].split("</section>")[0]
    cells = (
        '<td>4</td><td><span lang="zh-Hans">出生日期</span></td>'
        '<td>无法转换为日期：<span lang="zh-Hans">19xx-01-01</span></td>'
    )
    assert cells in section
    assert AuditLog.objects.filter(action=ACTION_REJECTS, actor=catalog_admin).count() == 1


def test_the_first_rejects_of_an_encrypted_item_do_not_quote_its_value(department, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    items = [*ITEMS[:2], ItemDraft(name="出生日期", data_type="D", at_rest=AtRest.ENCRYPTED)]
    resource = testing.make_published_resource(department, items=items, name="常住人口基本信息")
    load = loaded(resource, catalog_admin)
    section = page(owner, f"/datasets/loads/{load.pk}/").split('id="first-rejects"')[1].split("</section>")[0]
    # The refused row is shown, as in the rejects file.
    assert '<td>4</td><td><span lang="zh-Hans">出生日期</span></td>' in section
    assert "19xx" not in section


def test_the_platform_administrator_of_another_department_does_not_see_the_rejects(
    resource, catalog_admin, platform_admin
) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    html = page(signed_in(platform_admin), f"/datasets/loads/{load.pk}/")
    assert 'id="first-rejects"' not in html and "19xx-01-01" not in html


def test_a_finished_load_has_no_progress_bar_and_offers_the_next_step(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    Load.objects.filter(pk=load.pk).update(total_bytes=1000, progress_bytes=0)
    data_page = page(owner, f"/datasets/resources/{resource.pk}/")
    assert "<progress" not in data_page
    html = page(owner, f"/datasets/loads/{load.pk}/")
    assert "<progress" not in html
    assert f'href="/datasets/resources/{resource.pk}/preview/">预览数据<' in html
    assert f'href="/datasets/resources/{resource.pk}/">返回数据<' in html


def test_a_running_load_still_shows_its_progress(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    from govshare.datasets import services

    source = file_source(resource, catalog_admin)
    load = services.request_load(source, actor=catalog_admin, upload=SimpleUploadedFile("a.csv", CSV_TEXT.encode()))
    Load.objects.filter(pk=load.pk).update(total_bytes=1000, progress_bytes=400)
    assert '<progress max="100" value="40">' in page(owner, f"/datasets/resources/{resource.pk}/")


def test_versions_are_counted_from_one_for_people_while_links_keep_the_stored_number(
    resource, catalog_admin, owner
) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    assert load.version == 0
    data_page = page(owner, f"/datasets/resources/{resource.pk}/")
    assert "第 1 版" in data_page and "第 0 版" not in data_page
    assert f"/datasets/resources/{resource.pk}/preview/?version=0" in data_page
    assert "第 1 版" in page(owner, f"/datasets/loads/{load.pk}/")
    assert "第 1 版" in page(owner, f"/datasets/resources/{resource.pk}/preview/")
    assert "当前为第 1 版" in page(owner, f"/catalog/resources/{resource.pk}/")


def test_human_version() -> None:
    assert (human_version(0), human_version(4), human_version(None)) == (1, 5, "—")


def test_the_mapping_sample_can_be_loaded_without_uploading_it_again(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin, mapped=False)
    owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"sample": "1", "file": SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk"))},
    )
    owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {
            "confirm": "1",
            "column": ["身份证号", "姓名", "出生日期"],
            "item_0": "公民身份号码",
            "item_1": "姓名",
            "item_2": "出生日期",
        },
    )
    html = page(owner, f"/datasets/resources/{resource.pk}/")
    assert "用样例文件归集" in html and f'action="/datasets/sources/{source.pk}/load-sample/"' in html
    response = owner.post(f"/datasets/sources/{source.pk}/load-sample/")
    load = Load.objects.get(source=source)
    assert response["Location"] == f"/datasets/loads/{load.pk}/" and load.input_name == "样例.csv"
    run_load(load.pk)
    load.refresh_from_db()
    assert load.rows_loaded == 2
    assert "用样例文件归集" not in page(owner, f"/datasets/resources/{resource.pk}/")  # loaded once, then gone


def test_without_a_kept_sample_nothing_is_offered_and_a_post_says_so(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin)
    assert "用样例文件归集" not in page(owner, f"/datasets/resources/{resource.pk}/")
    response = owner.post(f"/datasets/sources/{source.pk}/load-sample/", follow=True)
    assert "样例文件已不在，请上传报送文件归集" in response.content.decode()
    assert not Load.objects.exists()


def test_another_department_cannot_load_a_sources_sample(resource, catalog_admin, outsider) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin)
    assert signed_in(outsider).post(f"/datasets/sources/{source.pk}/load-sample/").status_code == 404
    assert Source.objects.filter(pk=source.pk).exists() and not Load.objects.exists()


def test_the_mapping_page_says_its_sample_is_kept_for_loading(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin, mapped=False)
    response = owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"sample": "1", "file": SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk"))},
    )
    assert "样例文件 样例.csv 已保留" in response.content.decode()


def test_the_load_page_reads_in_english(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    owner.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = page(owner, f"/datasets/loads/{load.pk}/")
    assert "Partly refused (1 row)" in html and "The first refused row" in html and "Back to the data" in html
