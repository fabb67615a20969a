"""Whole Arrow columns encrypted, decrypted and keyed-hashed for the data plane (nulls stay null)."""

from __future__ import annotations

import base64

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_arrow_column, encrypt_arrow_column, hmac_arrow_column

K1 = crypto.generate_key("k1")
RING = crypto.KeyRing((K1,), source="test")
PURPOSE = "ds42.联系电话"
PHONES = pa.array(["13800000000", None, "13900000001", "", "13800000000"])


@given(st.lists(st.one_of(st.none(), st.text())))
def test_a_text_column_comes_back_from_its_base64_ciphertexts(values: list[str | None]) -> None:
    column = pa.array(values, pa.string())
    encrypted = encrypt_arrow_column(column, RING, PURPOSE)
    assert encrypted.type == pa.string()
    assert decrypt_arrow_column(encrypted, RING, PURPOSE).to_pylist() == values


def test_nulls_stay_null_and_no_plaintext_remains() -> None:
    encrypted = encrypt_arrow_column(PHONES, RING, PURPOSE)
    assert encrypted.is_null().to_pylist() == [False, True, False, False, False]
    assert not any("1380" in v for v in encrypted.to_pylist() if v)
    assert encrypted[0] != encrypted[4]  # equal values, different ciphertexts


def test_the_base64_form_is_the_database_fields_form() -> None:
    encrypted = encrypt_arrow_column(PHONES, RING, PURPOSE)
    assert crypto.decrypt_text(encrypted[0].as_py(), PURPOSE, RING) == "13800000000"


def test_a_binary_column_round_trips_bytes_and_text() -> None:
    blobs = pa.array([b"\x00\xff", None, b""], pa.binary())
    encrypted = encrypt_arrow_column(blobs, RING, PURPOSE, output="binary")
    assert encrypted.type == pa.binary() and encrypted[0].as_py()[:4] == b"\x01\x02k1"
    assert decrypt_arrow_column(encrypted, RING, PURPOSE, as_binary=True).to_pylist() == [b"\x00\xff", None, b""]
    text = encrypt_arrow_column(PHONES, RING, PURPOSE, output="binary")
    assert decrypt_arrow_column(text, RING, PURPOSE).to_pylist() == PHONES.to_pylist()


def test_chunked_columns_and_numbers_are_encrypted_as_their_text() -> None:
    column = pa.chunked_array([pa.array([1, None]), pa.array([30])])
    encrypted = encrypt_arrow_column(column, RING, PURPOSE)
    assert isinstance(encrypted, pa.ChunkedArray) and encrypted.num_chunks == 2
    assert decrypt_arrow_column(encrypted, RING, PURPOSE).to_pylist() == ["1", None, "30"]


def test_values_under_an_old_key_decrypt_after_a_new_key_became_active() -> None:
    old = encrypt_arrow_column(PHONES, RING, PURPOSE)
    newer = crypto.KeyRing((crypto.generate_key("k2"), K1), source="test")
    mixed = pa.concat_arrays([old, encrypt_arrow_column(PHONES, newer, PURPOSE)])
    assert decrypt_arrow_column(mixed, newer, PURPOSE).to_pylist() == PHONES.to_pylist() * 2


def test_a_changed_value_names_its_row() -> None:
    values = encrypt_arrow_column(PHONES, RING, PURPOSE).to_pylist()
    head, _, encoded = values[2].rpartition(":")
    blob = bytearray(base64.b64decode(encoded))
    blob[-1] ^= 1
    values[2] = f"{head}:{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(crypto.DecryptionError, match=r"ds42\.联系电话：第 3 个值：.*认证标签不符"):
        decrypt_arrow_column(pa.array(values), RING, PURPOSE)


def test_a_column_moved_under_another_purpose_does_not_decrypt() -> None:
    encrypted = encrypt_arrow_column(PHONES, RING, PURPOSE)
    with pytest.raises(crypto.DecryptionError, match="第 1 个值"):
        decrypt_arrow_column(encrypted, RING, "ds42.住址")


def test_hmac_column_equals_the_equality_hash_and_keeps_nulls() -> None:
    hashed = hmac_arrow_column(PHONES, RING, PURPOSE).to_pylist()
    assert hashed[0] == hashed[4] == crypto.equality_hash("13800000000", PURPOSE, RING)
    assert hashed[1] is None and hashed[2] != hashed[0] and len(hashed[3]) == 64
