"""Encryption of whole Arrow columns, for the data plane to wire in when items can be designated as encrypted.

Each value is encrypted on its own with SM4-GCM under the active key (`govshare.core.crypto`), the associated data
being `purpose` (e.g. "<dataset>.<column>"), so values cannot be moved between columns. Nulls stay null.

* `output="base64"` (default): a string column of `gs1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, the same
  text as the metadata database's encrypted fields.
* `output="binary"`: a binary column of `0x01 ‖ len(key id) ‖ key id ‖ nonce ‖ ciphertext ‖ tag`.

`hmac_arrow_column` gives the HMAC-SM3 hex of each value (`crypto.equality_hash`), for columns that must stay
searchable by equality: store it beside the ciphertext and filter on `equality_hash_candidates(value, purpose)`.
"""

from __future__ import annotations

import base64
from typing import Literal

import pyarrow as pa

from govshare.core import crypto

__all__ = ["decrypt_arrow_column", "decrypt_binary_value", "encrypt_arrow_column", "hmac_arrow_column"]

BINARY_VERSION = 1
Output = Literal["base64", "binary"]


def _plain_values(array: pa.Array) -> list[bytes | None]:
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        return array.to_pylist()  # type: ignore[no-any-return]
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())  # numbers, dates, dictionary-encoded text: encrypted as their text
    return [None if v is None else v.encode("utf-8") for v in array.to_pylist()]


def _each_chunk(array: pa.Array | pa.ChunkedArray, convert: object) -> pa.Array | pa.ChunkedArray:
    if isinstance(array, pa.ChunkedArray):
        chunks = [convert(chunk) for chunk in array.chunks]  # type: ignore[operator]
        return pa.chunked_array(chunks, chunks[0].type) if chunks else array
    return convert(array)  # type: ignore[operator, no-any-return]


def encrypt_arrow_column(
    array: pa.Array | pa.ChunkedArray, key_ring: crypto.KeyRing, purpose: str, *, output: Output = "base64"
) -> pa.Array | pa.ChunkedArray:
    """Every non-null value encrypted under the active key, bound to `purpose`."""
    entry = key_ring.active
    associated = purpose.encode("utf-8")
    if output == "binary":
        head = bytes([BINARY_VERSION, len(entry.key_id)]) + entry.key_id.encode("ascii")

        def convert(chunk: pa.Array) -> pa.Array:
            return pa.array(
                [
                    None if v is None else head + crypto.encrypt_bytes(v, associated, entry)
                    for v in _plain_values(chunk)
                ],
                pa.binary(),
            )

    else:
        text_head = f"{crypto.PREFIX}:{entry.key_id}:"

        def convert(chunk: pa.Array) -> pa.Array:
            return pa.array(
                [
                    None
                    if v is None
                    else text_head + base64.b64encode(crypto.encrypt_bytes(v, associated, entry)).decode("ascii")
                    for v in _plain_values(chunk)
                ],
                pa.string(),
            )

    return _each_chunk(array, convert)


def _split_binary(value: bytes) -> tuple[str, bytes]:
    if len(value) < 2 or value[0] != BINARY_VERSION or len(value) < 2 + value[1]:
        raise crypto.DecryptionError("该值不是平台的二进制密文（版本字节不符或长度不足）")
    return value[2 : 2 + value[1]].decode("ascii"), value[2 + value[1] :]


def decrypt_binary_value(value: bytes, key_ring: crypto.KeyRing, purpose: str) -> bytes:
    """The plaintext of one value of a binary column made by `encrypt_arrow_column` (a lookup that decrypts the
    few rows it found, not a column)."""
    key_id, blob = _split_binary(value)
    return crypto.decrypt_bytes(blob, purpose.encode("utf-8"), key_ring.get(key_id), where=f"{purpose}：")


def decrypt_arrow_column(
    array: pa.Array | pa.ChunkedArray, key_ring: crypto.KeyRing, purpose: str, *, as_binary: bool = False
) -> pa.Array | pa.ChunkedArray:
    """The plaintext column (string, or binary with `as_binary`) of a column made by `encrypt_arrow_column`, under
    whichever keys of the ring it was encrypted with. A changed value raises `DecryptionError` naming its row."""
    associated = purpose.encode("utf-8")
    where = f"{purpose}：" if purpose else ""

    def convert(chunk: pa.Array) -> pa.Array:
        split = (
            _split_binary
            if pa.types.is_binary(chunk.type) or pa.types.is_large_binary(chunk.type)
            else crypto.split_stored
        )
        plain: list[bytes | str | None] = []
        for row, value in enumerate(chunk.to_pylist()):
            if value is None:
                plain.append(None)
                continue
            try:
                key_id, blob = split(value)
                data = crypto.decrypt_bytes(blob, associated, key_ring.get(key_id))
            except crypto.DecryptionError as exc:
                raise crypto.DecryptionError(f"{where}第 {row + 1} 个值：{exc}") from None
            plain.append(data if as_binary else data.decode("utf-8"))
        return pa.array(plain, pa.binary() if as_binary else pa.string())

    return _each_chunk(array, convert)


def hmac_arrow_column(
    array: pa.Array | pa.ChunkedArray, key_ring: crypto.KeyRing, purpose: str
) -> pa.Array | pa.ChunkedArray:
    """HMAC-SM3 hex of every non-null value's text under the active key (the same as `crypto.equality_hash`)."""

    digest = crypto.equality_hasher(purpose, key_ring)

    def convert(chunk: pa.Array) -> pa.Array:
        return pa.array([None if v is None else digest(v) for v in _plain_values(chunk)], pa.string())

    return _each_chunk(array, convert)
