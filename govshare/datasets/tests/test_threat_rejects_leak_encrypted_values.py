"""Threat: the values of items stored encrypted (加密, 加密可检索) reach the disk in plain text through the rejects
file of a load: a refused value quoted in its reason ("无法转换为日期：<value>"). The rejects file is plain CSV under
the data directory, and downloadable. Only a plain item's value may be quoted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.rules import ItemDraft
from govshare.dataplane import transform
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="出生日期", data_type="D", at_rest="encrypted"),
    ItemDraft(name="月收入", data_type="N", length=10, at_rest="searchable"),
    ItemDraft(name="登记时间", data_type="T", at_rest="encrypted"),
    ItemDraft(name="是否低保", data_type="L", at_rest="encrypted"),
    ItemDraft(name="存款", data_type="Y", length=12, at_rest="searchable"),
    ItemDraft(name="门牌号", data_type="N", length=6),  # plain
]
GOOD = ["11010519491231002X", "1949-12-31", "8000", "2024-03-05 10:20:30", "是", "12.50", "12"]
# Each bad value is personal data that must not leave the encrypted columns.
SECRETS = {
    "出生日期": "1949年13月生日",
    "月收入": "八千元整",
    "登记时间": "昨天下午三点",
    "是否低保": "享受中",
    "存款": "￥12.505",
}


@pytest.fixture
def owner(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


def _rows() -> list[list[str]]:
    rows = [GOOD]
    names = [item.name for item in ITEMS]
    for column, secret in SECRETS.items():
        row = list(GOOD)
        row[names.index(column)] = secret
        rows.append(row)
    plain = list(GOOD)
    plain[-1] = "十二号"
    return [*rows, plain]


def _loaded(department: Department, owner: User, tmp_path: Path) -> Load:
    resource = testing.make_published_resource(department, items=ITEMS, name="低保对象信息")
    names = [item.name for item in ITEMS]
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(n, n) for n in names], actor=owner)
    path = tmp_path / "低保.csv"
    path.write_text("\n".join(",".join(row) for row in [names, *_rows()]) + "\n", encoding="utf-8")
    load = services.request_load(source, actor=owner, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED, load.error
    return load


def _rejects(owner: User, load: Load) -> str:
    client = Client()
    client.force_login(owner)
    response = client.get(f"/api/datasets/loads/{load.pk}/rejects")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert body == Path(load.rejects_path).read_bytes().decode("utf-8-sig")
    return body


def test_no_refused_value_of_an_encrypted_item_is_in_the_rejects_file(
    department: Department, owner: User, tmp_path: Path
) -> None:
    load = _loaded(department, owner, tmp_path)
    assert load.rows_loaded == 1 and load.rows_rejected == len(SECRETS) + 1
    text = _rejects(owner, load)
    for secret in SECRETS.values():
        assert secret not in text
    # Still useful: which row, which column, what kind of problem.
    lines = text.splitlines()
    assert f"4,月收入,无法转换为数值（{transform.WITHHELD_VALUE}）," in lines
    assert f"3,出生日期,无法转换为日期（{transform.WITHHELD_VALUE}）," in lines
    assert any(line.startswith("7,存款,无法转换为") for line in lines)


def test_a_plain_items_refused_value_is_still_quoted(department: Department, owner: User, tmp_path: Path) -> None:
    text = _rejects(owner, _loaded(department, owner, tmp_path))
    assert "8,门牌号,无法转换为数值：十二号," in text.splitlines()


def test_the_transformation_never_puts_an_encrypted_items_value_in_a_reason(**_: Any) -> None:
    spec = transform.ColumnSpec(source="a", target="出生日期", data_type="D", withhold_values=True)
    sql = transform.build_transform_sql([spec], max_field_chars=100)
    # The reason of the conversion is a constant: the value's column is not concatenated into it.
    assert f"'无法转换为日期（{transform.WITHHELD_VALUE}）'" in sql
    assert transform._quoted_value("v0") not in sql
