"""Column encryption at rest over Arrow, with no dataset, item or database: what another app (a sharing delivery,
the gateway) gets from the data plane alone — encrypt batches, read them back, find a row by value, rotate."""

from __future__ import annotations

import pyarrow as pa
import pytest

from govshare.core import crypto
from govshare.dataplane.encryption import (
    EncryptedColumn,
    EncryptionPlan,
    decrypted,
    encrypt_reader,
    filtered,
    key_ids_in,
    reencrypt_batch,
    stored_columns,
)
from govshare.testing.encryption import setting_value

RESOURCE = 7
PEOPLE = pa.table(
    {
        "姓名": ["张三", "李四", None],
        "手机号码": ["13800000001", "13900000002", None],
        "月收入": [8000.5, None, 12000.0],
    }
)
PLAN = EncryptionPlan(RESOURCE, (EncryptedColumn("手机号码", "C", True), EncryptedColumn("月收入", "N", False)))


@pytest.fixture
def ring(settings) -> crypto.KeyRing:
    """The platform's key ring: `decrypted` and `filtered` read with it, as a server does."""
    key = crypto.generate_key("k1")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(key)})
    return crypto.current_key_ring()


def _stored(ring: crypto.KeyRing) -> pa.Table:
    return encrypt_reader(PEOPLE.to_reader(), PLAN, ring).read_all()


def test_stored_columns_are_ciphertext_that_reads_back_as_the_plain_table(ring: crypto.KeyRing) -> None:
    stored = _stored(ring)

    assert stored.schema.names == ["姓名", "手机号码", "手机号码__hmac", "月收入"]
    assert stored.schema.field("手机号码").type == pa.binary()
    assert b"13800000001" not in b"".join(v for v in stored.column("手机号码").to_pylist() if v)
    assert stored.column("姓名").to_pylist() == PEOPLE.column("姓名").to_pylist()  # a plain column is left alone
    assert [c.name for c in stored_columns(stored.schema)] == ["手机号码", "月收入"]  # the schema says what to decrypt
    assert decrypted(stored.to_reader(), stored.schema, RESOURCE).read_all().equals(PEOPLE)


def test_a_ciphertext_does_not_decrypt_as_another_resources_data(ring: crypto.KeyRing) -> None:
    stored = _stored(ring)

    with pytest.raises(crypto.DecryptionError):
        decrypted(stored.to_reader(), stored.schema, RESOURCE + 1).read_all()


def test_a_searchable_column_is_found_by_value_before_and_after_rotation(ring: crypto.KeyRing, settings) -> None:
    stored = _stored(ring)

    def found(table: pa.Table) -> list[str]:
        rows = filtered(table.to_reader(), table.schema, RESOURCE, {"手机号码": "13900000002"})
        return decrypted(rows, table.schema, RESOURCE).read_all().column("姓名").to_pylist()

    assert found(stored) == ["李四"]
    with pytest.raises(ValueError, match="不可检索"):
        filtered(stored.to_reader(), stored.schema, RESOURCE, {"月收入": "8000.5"})

    rotated_ring = crypto.KeyRing((crypto.generate_key("k2"), *ring.keys), source="test")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(*rotated_ring.keys)})
    assert found(stored) == ["李四"]  # rows hashed under the old key are still found
    rotated = pa.Table.from_batches(
        [reencrypt_batch(batch, stored.schema, RESOURCE, rotated_ring) for batch in stored.to_batches()]
    )
    assert key_ids_in(stored.column("手机号码")) == {"k1": 2}
    assert key_ids_in(rotated.column("手机号码")) + key_ids_in(rotated.column("月收入")) == {"k2": 4}
    assert found(rotated) == ["李四"]
    assert decrypted(rotated.to_reader(), stored.schema, RESOURCE).read_all().equals(PEOPLE)
