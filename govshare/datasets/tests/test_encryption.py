"""Encryption at rest of designated dataset columns (issue 5, M30): loads store them as SM4-GCM ciphertext (with an
HMAC-SM3 column for the searchable ones), every read decrypts them on the server for those allowed to see them."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_arrow_column
from govshare.core.errors import ValidationFailed
from govshare.dataplane.encryption import purpose, stored_columns
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import encryption, reading, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, Load
from govshare.sources import services as source_services
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.models import Source

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="手机号码", data_type="C", length=11, at_rest="searchable"),
    ItemDraft(name="住址", data_type="C", length=100, at_rest="encrypted"),
    ItemDraft(name="出生日期", data_type="D", at_rest="encrypted"),
]
HEADER = [item.name for item in ITEMS]
ROWS = [
    ["11010519491231002X", "欧阳娜娜", "13912345678", "北京市东城区东华门街道1号", "1949-12-31"],
    ["440524188001010014", "张三", "13800001111", "广东省汕头市潮阳区2号", "1880-01-01"],
    ["110105195001010018", "李四", "", "", ""],
]


@pytest.fixture
def owner(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(row) for row in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _source(resource: Resource, owner: User, **options: Any) -> Source:
    source = source_services.register_source(
        resource,
        source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}, **options),
        actor=owner,
    )
    return source_services.set_mapping(
        source, [source_services.MappingEntry(name, name) for name in HEADER], actor=owner
    )


def _load(source: Source, owner: User, path: Path, mode: str | None = None) -> Load:
    load = services.request_load(source, actor=owner, file_path=path, mode=mode)
    run_load(load.pk)
    load.refresh_from_db()
    return load


@pytest.fixture
def resource(department: Department) -> Resource:
    return testing.make_published_resource(department, items=ITEMS, name="人口基本信息")


@pytest.fixture
def loaded(resource: Resource, owner: User, tmp_path: Path) -> Resource:
    load = _load(_source(resource, owner), owner, _csv(tmp_path / "a.csv", ROWS))
    assert load.status == LoadStatus.SUCCEEDED, load.error
    return resource


def _table(resource: Resource) -> DatasetTable:
    return DatasetTable(Dataset.objects.get(resource=resource).table_uri)


def _body(response: StreamingHttpResponse) -> bytes:
    return b"".join(cast(Iterator[bytes], response.streaming_content))


def test_the_parquet_files_hold_no_plaintext_of_encrypted_columns(loaded: Resource) -> None:
    table = _table(loaded)
    for path in table.files():
        raw = Path(path).read_bytes()
        stored = pq.read_table(path)
        # Every value of every column, decoded from the file (compression would hide a plaintext from a raw scan).
        values = repr(stored.to_pylist())
        assert "13912345678" not in values and "东华门街道" not in values and "1949-12-31" not in values
        assert b"13912345678" not in raw
        assert stored.schema.field("手机号码").type == pa.binary()
        assert "欧阳娜娜" in stored.column("姓名").to_pylist()  # a plain column stays plain


def test_a_searchable_column_has_an_hmac_column_beside_it_and_an_encrypted_one_has_none(loaded: Resource) -> None:
    names = _table(loaded).schema().names
    assert "手机号码__hmac" in names and "住址__hmac" not in names and "姓名__hmac" not in names


def test_the_owner_reads_the_values_back_in_their_types(loaded: Resource, owner: User) -> None:
    preview = reading.preview_version(owner, loaded)
    assert [f.name for f in preview.fields] == HEADER
    assert preview.rows[0] == ROWS[0]
    assert preview.rows[2] == ["110105195001010018", "李四", None, None, None]


def test_a_version_records_which_columns_are_encrypted(loaded: Resource) -> None:
    stored = stored_columns(_table(loaded).schema())
    assert [(c.name, c.data_type, c.searchable) for c in stored] == [
        ("手机号码", "C", True),
        ("住址", "C", False),
        ("出生日期", "D", False),
    ]


@pytest.mark.parametrize("file_format", ["csv", "json", "xlsx", "parquet"])
def test_every_download_format_is_decrypted_and_never_carries_the_hmac_column(
    loaded: Resource, owner: User, file_format: str
) -> None:
    body = _body(reading.download_response(owner, loaded, file_format=file_format))
    if file_format == "parquet":
        table = pq.read_table(io.BytesIO(body))
        assert table.column_names == HEADER
        assert table.column("手机号码").to_pylist()[:2] == ["13912345678", "13800001111"]
        assert table.column("出生日期").to_pylist()[0] == dt.date(1949, 12, 31)
    elif file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(body)).worksheets[0]
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert rows[0] == HEADER and rows[1][2] == "13912345678" and rows[1][3] == ROWS[0][3]
    else:
        text = body.decode("utf-8-sig")
        assert "13912345678" in text and "__hmac" not in text and "gs1" not in text
        if file_format == "json":
            assert json.loads(text)[1]["住址"] == ROWS[1][3]


def test_masking_applies_to_the_decrypted_values_for_another_reader(loaded: Resource, platform_admin: User) -> None:
    preview = reading.preview_version(platform_admin, loaded)
    phone = preview.rows[0][[f.name for f in preview.fields].index("手机号码")]
    assert phone == "139****5678"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(loaded: Resource) -> None:
    stored = pq.read_table(_table(loaded).files()[0])
    ring = crypto.current_key_ring()
    phones = stored.column("手机号码")
    assert decrypt_arrow_column(phones, ring, purpose(loaded.pk, "手机号码")).to_pylist()[0] == ROWS[0][2]
    with pytest.raises(crypto.DecryptionError, match="认证标签不符"):
        decrypt_arrow_column(phones, ring, purpose(loaded.pk, "住址"))
    with pytest.raises(crypto.DecryptionError, match="认证标签不符"):
        decrypt_arrow_column(phones, ring, purpose(loaded.pk + 1, "手机号码"))


def test_an_equality_lookup_on_a_searchable_column_goes_through_its_hash(loaded: Resource, owner: User) -> None:
    preview = reading.preview_version(owner, loaded, where={"手机号码": "13800001111"})
    assert preview.rows == [ROWS[1]]
    assert reading.preview_version(owner, loaded, where={"手机号码": "13800009999"}).rows == []


def test_an_equality_lookup_on_a_plain_column_compares_its_text(loaded: Resource, owner: User) -> None:
    assert reading.preview_version(owner, loaded, where={"姓名": "张三"}).rows == [ROWS[1]]


def test_a_lookup_on_two_columns_keeps_only_rows_matching_both(loaded: Resource, owner: User) -> None:
    assert reading.preview_version(owner, loaded, where={"手机号码": "13800001111", "姓名": "张三"}).rows == [ROWS[1]]
    assert reading.preview_version(owner, loaded, where={"手机号码": "13800001111", "姓名": "李四"}).rows == []


def test_an_encrypted_column_without_a_hash_cannot_be_searched(loaded: Resource, owner: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        reading.preview_version(owner, loaded, where={"住址": ROWS[0][3]})
    assert "不可检索" in refused.value.problems[0].message


def test_the_hmac_column_cannot_be_searched_directly(loaded: Resource, owner: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        reading.preview_version(owner, loaded, where={"手机号码__hmac": "0" * 64})
    assert "没有信息项" in refused.value.problems[0].message


def test_a_key_item_designated_encrypted_is_refused_for_an_upsert_source(resource: Resource, owner: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _source(resource, owner, load_mode=LoadMode.UPSERT, key_items=["手机号码"])
    assert "主键信息项须为明文" in refused.value.problems[0].message


def test_a_load_refuses_a_key_item_encrypted_after_the_source_was_registered(
    resource: Resource, owner: User, tmp_path: Path
) -> None:
    source = _source(resource, owner, load_mode=LoadMode.UPSERT, key_items=["公民身份号码"])
    resource.items.filter(name="公民身份号码").update(at_rest="encrypted")
    load = _load(source, owner, _csv(tmp_path / "a.csv", ROWS))
    assert load.status == LoadStatus.FAILED
    assert "主键信息项不能加密存储：“公民身份号码”（加密）" in load.error


def test_an_upsert_merges_by_the_plain_key_and_counts_only_real_changes(
    resource: Resource, owner: User, tmp_path: Path
) -> None:
    source = _source(resource, owner, load_mode=LoadMode.UPSERT, key_items=["公民身份号码"])
    _load(source, owner, _csv(tmp_path / "a.csv", ROWS))
    changed = [ROWS[0], [*ROWS[1][:2], "13800002222", *ROWS[1][3:]]]
    second = _load(source, owner, _csv(tmp_path / "b.csv", changed))
    assert second.status == LoadStatus.SUCCEEDED, second.error
    rows = reading.preview_version(owner, resource).rows
    assert sorted(row[0] for row in rows) == sorted(row[0] for row in ROWS)
    assert [row[2] for row in rows if row[1] == "张三"] == ["13800002222"]
    assert reading.preview_version(owner, resource, where={"手机号码": "13800002222"}).rows[0][1] == "张三"


def test_changing_an_items_encryption_needs_a_full_load(resource: Resource, owner: User, tmp_path: Path) -> None:
    source = _source(resource, owner, load_mode=LoadMode.UPSERT, key_items=["公民身份号码"])
    _load(source, owner, _csv(tmp_path / "a.csv", ROWS))
    resource.items.filter(name="姓名").update(at_rest="encrypted")
    load = _load(source, owner, _csv(tmp_path / "b.csv", ROWS[:1]))
    assert load.status == LoadStatus.FAILED
    assert "静态加密设置已变化" in load.error and "全量加载" in load.error
    full = _load(source, owner, _csv(tmp_path / "c.csv", ROWS), mode=LoadMode.FULL)
    assert full.status == LoadStatus.SUCCEEDED, full.error
    assert reading.preview_version(owner, resource).rows[0] == ROWS[0]


def test_a_resource_without_encrypted_items_is_stored_as_before(
    department: Department, owner: User, tmp_path: Path
) -> None:
    plain = testing.make_published_resource(department, items=[ItemDraft(n, "C", 100) for n in HEADER], name="明文")
    load = _load(_source(plain, owner), owner, _csv(tmp_path / "a.csv", ROWS[:1]))
    stored = _table(plain).schema()
    assert load.status == LoadStatus.SUCCEEDED and stored.names == HEADER
    assert stored_columns(stored) == []


def test_the_rejects_file_of_a_resource_with_encrypted_items_keeps_no_raw_row_text(
    resource: Resource, owner: User, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "a.csv", [*ROWS[:1], ["13999999999", "多出的列"]])
    load = _load(_source(resource, owner), owner, path)
    assert load.status == LoadStatus.SUCCEEDED and load.rows_rejected == 1
    text = Path(load.rejects_path).read_text(encoding="utf-8-sig")
    assert "13999999999" not in text and encryption.WITHHELD_REJECT_VALUE in text


def test_the_uploaded_file_is_removed_once_its_rows_are_stored_encrypted(
    resource: Resource, owner: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    source = _source(resource, owner)
    with django_capture_on_commit_callbacks(execute=True):
        load = _load(source, owner, _csv(tmp_path / "a.csv", ROWS))
    assert load.status == LoadStatus.SUCCEEDED and load.input_path
    assert not Path(load.input_path).exists()


def test_a_reader_who_sees_a_column_masked_cannot_look_it_up_by_value(loaded: Resource, platform_admin: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        reading.preview_version(platform_admin, loaded, where={"手机号码": ROWS[0][2]})
    assert refused.value.problems[0].message == "信息项“手机号码”对您脱敏显示或不提供，不能按值查询"
