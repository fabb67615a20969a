"""The sample kept from a file source's mapping page is personal data: it expires after
GOVSHARE_SAMPLE_RETENTION_DAYS if nobody loads it (the hourly sweep deletes it from disk), goes with its source,
and loading it once expired answers a clear message, never a 500."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.models import Schedule

from govshare import testing
from govshare.datasets import samples
from govshare.datasets.models import Load
from govshare.datasets.tests.test_views import CSV_TEXT, ITEMS, file_source, page, signed_in
from govshare.jobs.registry import RUNNER
from govshare.sources.models import Source
from govshare.testing.clock import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

RETENTION_DAYS = 7


@pytest.fixture(autouse=True)
def _retention(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"sample_retention_days": RETENTION_DAYS})


@pytest.fixture
def source(catalog_admin) -> Source:  # type: ignore[no-untyped-def]
    return file_source(
        testing.make_published_resource(catalog_admin.department, items=ITEMS, name="常住人口基本信息"), catalog_admin
    )


def _keep(source: Source, now=T0) -> Path:  # type: ignore[no-untyped-def]
    samples.keep_sample(source, SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk")), now=now)
    kept = samples.kept_sample(source, now)
    assert kept is not None and kept.path.is_file()
    return kept.path


def test_a_kept_sample_stays_until_its_retention_has_passed(source) -> None:  # type: ignore[no-untyped-def]
    path = _keep(source)
    assert samples.discard_expired_samples(now=T0 + timedelta(days=RETENTION_DAYS) - timedelta(minutes=1)) == []
    assert path.is_file()


def test_a_sample_not_loaded_is_deleted_from_disk_once_its_retention_has_passed(source) -> None:  # type: ignore[no-untyped-def]
    path = _keep(source)
    assert samples.discard_expired_samples(now=T0 + timedelta(days=RETENTION_DAYS)) == [source.pk]
    assert not path.exists() and not path.parent.exists()


def test_the_retention_is_the_setting(source, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"sample_retention_days": 1})
    path = _keep(source)
    samples.discard_expired_samples(now=T0 + timedelta(days=1))
    assert not path.exists()


def test_a_sample_is_deleted_from_disk_with_its_source(source, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    path = _keep(source)
    with django_capture_on_commit_callbacks(execute=True):
        Source.objects.filter(pk=source.pk).delete()
    assert not path.exists()


def test_the_sweep_deletes_a_sample_whose_source_no_longer_exists(source) -> None:  # type: ignore[no-untyped-def]
    # A sample left behind by a release that did not delete it with its source.
    path = _keep(source)
    Source.objects.filter(pk=source.pk).update(id=source.pk + 1000)  # the directory's source is gone, no signal
    assert samples.discard_expired_samples(now=T0) == [source.pk]
    assert not path.exists()


def test_a_new_sample_replaces_the_kept_one(source) -> None:  # type: ignore[no-untyped-def]
    first = _keep(source)
    samples.keep_sample(source, SimpleUploadedFile("第二份.csv", CSV_TEXT.encode("gbk")), now=T0)
    assert not first.exists()
    kept = samples.kept_sample(source, T0)
    assert kept is not None and kept.name == "第二份.csv"


def test_loading_an_expired_sample_answers_a_clear_message(source, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    path = _keep(source)  # kept at T0, long before the request's now
    response = signed_in(catalog_admin).post(f"/datasets/sources/{source.pk}/load-sample/", follow=True)
    assert response.status_code == 200
    assert "样例文件保留 7 天未归集，已过期删除；请重新上传样例文件或上传报送文件归集" in response.content.decode()
    assert not Load.objects.exists()
    assert not path.exists()


def test_an_expired_sample_is_no_longer_offered(source, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    _keep(source)
    assert "用样例文件归集" not in page(signed_in(catalog_admin), f"/datasets/resources/{source.resource_id}/")


def test_another_department_cannot_learn_of_or_discard_a_sample(source, outsider) -> None:  # type: ignore[no-untyped-def]
    path = _keep(source)
    assert signed_in(outsider).post(f"/datasets/sources/{source.pk}/load-sample/").status_code == 404
    assert path.is_file()


def test_the_mapping_page_says_when_its_sample_is_deleted(source, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(catalog_admin).post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"sample": "1", "file": SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk"))},
    )
    assert "未归集的样例文件 7 天后自动删除。" in response.content.decode()


def test_migrate_leaves_the_expiry_sweep_scheduled_hourly() -> None:
    sweep = Schedule.objects.get(name=samples.SAMPLE_SCHEDULE_NAME)
    assert (sweep.func, sweep.args, sweep.schedule_type) == (
        RUNNER,
        repr((samples.DISCARD_EXPIRED_SAMPLES,)),
        Schedule.HOURLY,
    )
