"""Writes of data collection: who may, what is refused and what is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.datasets import services
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.models import Source

pytestmark = pytest.mark.django_db

ITEMS = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="姓名", data_type="C", length=50)]


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS)


def _file_source(resource, admin, fmt: str = "csv") -> Source:  # type: ignore[no-untyped-def]
    source = source_services.register_source(
        resource,
        source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": fmt}),
        actor=admin,
    )
    return source_services.set_mapping(source, [source_services.MappingEntry("姓名", "姓名")], actor=admin)


def test_registering_a_source_is_audited_and_creates_the_dataset(resource, admin) -> None:
    source = _file_source(resource, admin)
    assert resource.dataset.table_uri.endswith(f"/{resource.dataset.pk}")
    assert AuditLog.objects.filter(action="sources.source.register", object_id=str(source.pk)).exists()


def test_only_a_published_resource_gets_a_source(department, admin) -> None:
    draft = testing.make_published_resource(department, items=ITEMS, name="婚姻登记信息")
    draft.status = "draft"
    draft.save(update_fields=["status"])
    with pytest.raises(Conflict, match="已发布"):
        source_services.register_source(draft, source_services.SourceInput(name="x", kind=SourceKind.FILE), actor=admin)


def test_a_password_in_the_connection_url_is_kept_apart_from_the_config(resource, admin, settings) -> None:
    # 10.0.0.5 is a private address: a deployment whose 前置库 lives there allows it.
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"source_allowed_hosts": ["10.0.0.5"]})
    data = source_services.SourceInput(
        name="前置库",
        kind=SourceKind.DATABASE,
        config={"url": "postgresql+psycopg://gaj:S3cret-pw@10.0.0.5:5432/front", "table": "rk"},
    )
    source = source_services.register_source(resource, data, actor=admin)
    source.refresh_from_db()
    assert "S3cret-pw" not in source.config["url"]
    assert source.config["url"] == "postgresql+psycopg://gaj@10.0.0.5:5432/front"
    assert source.secret == "S3cret-pw"


def test_bad_source_settings_name_each_field(resource, admin) -> None:
    data = source_services.SourceInput(
        name="", kind=SourceKind.DATABASE, config={"url": "oracle://x/y"}, load_mode="append"
    )
    with pytest.raises(ValidationFailed) as caught:
        source_services.register_source(resource, data, actor=admin)
    fields = {p.field for p in caught.value.problems}
    assert {"name", "config.url", "config.table", "watermark_column"} <= fields


def test_another_departments_user_gets_not_found(resource, outsider) -> None:
    with pytest.raises(NotFound):
        source_services.register_source(
            resource, source_services.SourceInput(name="x", kind=SourceKind.FILE), actor=outsider
        )


def test_a_department_user_without_the_catalogue_role_may_not_manage_sources(resource, department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    with pytest.raises(PermissionDenied):
        source_services.register_source(
            resource, source_services.SourceInput(name="x", kind=SourceKind.FILE), actor=consumer
        )


def test_a_load_needs_a_confirmed_mapping(resource, admin, tmp_path) -> None:
    source = source_services.register_source(
        resource, source_services.SourceInput(name="线下报送", kind=SourceKind.FILE), actor=admin
    )
    with pytest.raises(Conflict, match="字段映射"):
        services.request_load(source, actor=admin, file_path=tmp_path / "a.csv")


def test_an_upload_of_another_format_than_the_sources_is_refused(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin, fmt="csv")
    path = tmp_path / "人口.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValidationFailed, match="CSV"):
        services.request_load(source, actor=admin, file_path=path)
    assert not Load.objects.exists()


def test_an_empty_upload_is_refused(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    path = tmp_path / "a.csv"
    path.write_bytes(b"")
    with pytest.raises(ValidationFailed, match="空"):
        services.request_load(source, actor=admin, file_path=path)


def test_a_requested_load_keeps_its_file_and_is_audited(resource, admin, tmp_path) -> None:
    source = _file_source(resource, admin)
    path = tmp_path / "人口.csv"
    path.write_text("姓名\n张三\n", encoding="utf-8")
    load = services.request_load(source, actor=admin, file_path=path)
    assert (load.mode, load.input_name, load.total_bytes) == (LoadMode.FULL, "人口.csv", path.stat().st_size)
    assert Path(load.input_path).read_bytes() == path.read_bytes()
    assert AuditLog.objects.filter(action="datasets.load.request", object_id=str(load.pk)).exists()
